#include <catch2/catch.hpp>

#include "application/data_world.hpp"

using namespace socle;
using namespace socle::domain;
using application::BatchOperation;
using application::Caller;
using application::ListRecordsInput;
using application::RecordWriteInput;
using testing::Body;
using testing::DataWorld;
using testing::NewCollection;
using testing::NewField;
using testing::Str;

namespace {

Caller Guest() { return Caller{}; }
Caller Superuser() {
  Caller caller;
  caller.superuser = true;
  return caller;
}

RecordWriteInput Input(JsonValue body, std::string expand = "") {
  RecordWriteInput input;
  input.body = std::move(body);
  input.expand = std::move(expand);
  return input;
}

// users ← posts.author (required, single), posts ← comments.post (cascade), posts.editors.
struct Blog : DataWorld {
  Blog() {
    MustCreate(NewCollection("users", {NewField("name", FieldType::kText)}));
    Field title = NewField("title", FieldType::kText);
    title.required = true;
    Field author = NewField("author", FieldType::kRelation);
    author.collection_id = "users";
    author.max_select = 1;
    Field editors = NewField("editors", FieldType::kRelation);
    editors.collection_id = "users";
    editors.max_select = 5;
    Field secret = NewField("secret", FieldType::kText);
    secret.hidden = true;
    MustCreate(NewCollection("posts", {title, NewField("views", FieldType::kNumber),
                                       NewField("published", FieldType::kBool), author, editors,
                                       secret}));
    Field post = NewField("post", FieldType::kRelation);
    post.collection_id = "posts";
    post.max_select = 1;
    post.cascade_delete = true;
    MustCreate(NewCollection("comments", {post, NewField("text", FieldType::kText)}));
    Field owner = NewField("owner", FieldType::kRelation);
    owner.collection_id = "users";
    owner.max_select = 1;
    owner.required = true;
    MustCreate(NewCollection("profiles", {owner}));

    ada = MustInsert("users", Body({{"name", Str("Ada")}}));
    bob = MustInsert("users", Body({{"name", Str("Bob")}}));
    p1 = MustInsert("posts", Body({{"title", Str("one")}, {"views", JsonValue::Integer(5)},
                                   {"published", JsonValue::Bool(true)}, {"author", Str(ada)},
                                   {"editors", JsonValue::Array({Str(ada), Str(bob)})},
                                   {"secret", Str("s1")}}));
    p2 = MustInsert("posts", Body({{"title", Str("two")}, {"views", JsonValue::Integer(9)},
                                   {"author", Str(bob)}}));
    c1 = MustInsert("comments", Body({{"post", Str(p1)}, {"text", Str("nice")}}));
  }

  void SetRules(std::string_view collection, std::optional<std::string> list,
                std::optional<std::string> view, std::optional<std::string> create,
                std::optional<std::string> update, std::optional<std::string> del) {
    Collection c = *collections.Get("shop", collection);
    c.rules = {std::move(list), std::move(view), std::move(create), std::move(update),
               std::move(del)};
    REQUIRE(collections.Update("shop", collection, c, "test"));
  }

  std::int64_t Count(std::string_view collection) {
    ListRecordsInput input;
    auto list = records.List("shop", collection, input, Superuser());
    REQUIRE(list);
    return list->total_items;
  }

  std::string ada, bob, p1, p2, c1;
};

std::vector<std::string> ListIds(const application::RecordList& list) {
  std::vector<std::string> ids;
  for (const auto& item : list.items) ids.push_back(item.record.Id(*item.collection));
  return ids;
}

}  // namespace

TEST_CASE("records: create, view, list, update and delete", "[application][records]") {
  Blog w;
  auto viewed = w.records.View("shop", "posts", w.p1, "", Guest());
  REQUIRE(viewed);
  const Collection& posts = *viewed->record.collection;
  CHECK(*viewed->record.record.Get(posts, "title") == Str("one"));
  CHECK(w.p1.size() == 15);
  CHECK(*viewed->record.record.Get(posts, "created") == Str(w.clock.Now().ToApiString()));

  ListRecordsInput input;
  input.filter = "views > 6";
  auto list = w.records.List("shop", "posts", input, Guest());
  REQUIRE(list);
  CHECK(ListIds(*list) == std::vector<std::string>{w.p2});
  CHECK(list->total_items == 1);
  CHECK(list->total_pages == 1);

  w.clock.Advance(1'000'000);
  auto updated = w.records.Update("shop", "posts", w.p1,
                                  Input(Body({{"views+", JsonValue::Integer(2)},
                                              {"editors-", Str(w.bob)}})),
                                  Guest());
  REQUIRE(updated);
  CHECK(*updated->record.record.Get(posts, "views") == JsonValue::Integer(7));
  CHECK(*updated->record.record.Get(posts, "editors") == JsonValue::Array({Str(w.ada)}));
  CHECK(*updated->record.record.Get(posts, "updated") == Str(w.clock.Now().ToApiString()));
  CHECK(*updated->record.record.Get(posts, "created") != Str(w.clock.Now().ToApiString()));

  REQUIRE(w.records.Delete("shop", "posts", w.p2, Guest()));
  CHECK(w.records.View("shop", "posts", w.p2, "", Guest()).error().code == ErrorCode::kNotFound);
  CHECK(w.records.Delete("shop", "posts", w.p2, Guest()).error().code == ErrorCode::kNotFound);
  CHECK(w.records.View("shop", "nope", w.p1, "", Guest()).error().code == ErrorCode::kNotFound);
}

TEST_CASE("records: paging clamps, skipTotal, sort and bad parameters", "[application][records]") {
  Blog w;
  ListRecordsInput input;
  input.sort = "-views";
  input.per_page = 1;
  input.page = 2;
  input.skip_total = true;
  auto list = w.records.List("shop", "posts", input, Guest());
  REQUIRE(list);
  CHECK(ListIds(*list) == std::vector<std::string>{w.p1});
  CHECK(list->total_items == -1);
  CHECK(list->total_pages == -1);

  input = {};
  input.per_page = 100000;
  input.page = -4;
  list = w.records.List("shop", "posts", input, Guest());
  REQUIRE(list);
  CHECK(list->per_page == 1000);
  CHECK(list->page == 1);

  for (const char* bad_filter : {"nope = 1", "views >", "secret = 's1'"}) {
    input = {};
    input.filter = bad_filter;
    auto refused = w.records.List("shop", "posts", input, Guest());
    INFO(bad_filter);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  }
  input = {};
  input.sort = "nope";
  CHECK(w.records.List("shop", "posts", input, Guest()).error().code ==
        ErrorCode::kInvalidArgument);
  input = {};
  input.expand = "title";
  CHECK(w.records.List("shop", "posts", input, Guest()).error().code ==
        ErrorCode::kInvalidArgument);
  // Superusers may filter on hidden fields.
  input = {};
  input.filter = "secret = 's1'";
  auto hidden = w.records.List("shop", "posts", input, Superuser());
  REQUIRE(hidden);
  CHECK(ListIds(*hidden) == std::vector<std::string>{w.p1});
}

TEST_CASE("records: rules", "[application][records]") {
  Blog w;
  SECTION("null rules are for superusers only") {
    w.SetRules("posts", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt);
    ListRecordsInput input;
    CHECK(w.records.List("shop", "posts", input, Guest()).error().code ==
          ErrorCode::kPermissionDenied);
    CHECK(w.records.View("shop", "posts", w.p1, "", Guest()).error().code ==
          ErrorCode::kPermissionDenied);
    CHECK(w.records.Create("shop", "posts", Input(Body({{"title", Str("x")}})), Guest())
              .error().code == ErrorCode::kPermissionDenied);
    CHECK(w.records.Update("shop", "posts", w.p1, Input(Body({})), Guest()).error().code ==
          ErrorCode::kPermissionDenied);
    CHECK(w.records.Delete("shop", "posts", w.p1, Guest()).error().code ==
          ErrorCode::kPermissionDenied);
    CHECK(w.records.List("shop", "posts", input, Superuser()));
  }
  SECTION("list applies its rule as a filter") {
    w.SetRules("posts", "published = true", "", "", "", "");
    ListRecordsInput input;
    auto list = w.records.List("shop", "posts", input, Guest());
    REQUIRE(list);
    CHECK(ListIds(*list) == std::vector<std::string>{w.p1});
    CHECK(list->total_items == 1);
  }
  SECTION("a view rule hides records: not found, also for update and delete") {
    w.SetRules("posts", "", "published = true", "", "", "");
    CHECK(w.records.View("shop", "posts", w.p1, "", Guest()));
    CHECK(w.records.View("shop", "posts", w.p2, "", Guest()).error().code == ErrorCode::kNotFound);
    CHECK(w.records.Update("shop", "posts", w.p2, Input(Body({})), Guest()).error().code ==
          ErrorCode::kNotFound);
    CHECK(w.records.Delete("shop", "posts", w.p2, Guest()).error().code == ErrorCode::kNotFound);
  }
  SECTION("a create rule is checked against the new values; a refusal writes nothing") {
    w.SetRules("posts", "", "", "views < 10 && @request.body.title != 'forbidden'", "", "");
    CHECK(w.records.Create("shop", "posts", Input(Body({{"title", Str("ok")}})), Guest()));
    auto big = w.records.Create(
        "shop", "posts", Input(Body({{"title", Str("x")}, {"views", JsonValue::Integer(50)}})),
        Guest());
    REQUIRE_FALSE(big);
    CHECK(big.error().code == ErrorCode::kPermissionDenied);
    auto named =
        w.records.Create("shop", "posts", Input(Body({{"title", Str("forbidden")}})), Guest());
    CHECK(named.error().code == ErrorCode::kPermissionDenied);
    CHECK(w.Count("posts") == 3);
  }
  SECTION("update and delete rules check the stored record") {
    w.SetRules("posts", "", "", "", "views < 8 && @request.body.views:isset = false",
               "author.name = 'Bob'");
    CHECK(w.records.Update("shop", "posts", w.p1, Input(Body({{"title", Str("ONE")}})), Guest()));
    CHECK(w.records.Update("shop", "posts", w.p1, Input(Body({{"views", JsonValue::Integer(1)}})),
                           Guest())
              .error().code == ErrorCode::kPermissionDenied);
    CHECK(w.records.Update("shop", "posts", w.p2, Input(Body({{"title", Str("TWO")}})), Guest())
              .error().code == ErrorCode::kPermissionDenied);
    CHECK(w.records.Delete("shop", "posts", w.p1, Guest()).error().code ==
          ErrorCode::kPermissionDenied);
    CHECK(w.records.Delete("shop", "posts", w.p2, Guest()));
  }
}

// A caller the create rule refuses learns nothing of records it cannot see: not whether an id
// is taken, a unique value used, or a relation's target there. A caller the rule admits gets
// the precise validation error.
TEST_CASE("records: a create rule's refusal tells nothing of other records",
          "[application][records][tenancy]") {
  Blog w;
  Field name = NewField("name", FieldType::kText);
  Collection tags = NewCollection("tags", {name, NewField("weight", FieldType::kNumber)});
  tags.indexes.push_back(CollectionIndex{"idx_tags_name", true, {{"name", false}}, {}});
  w.MustCreate(tags);
  w.MustInsert("tags", Body({{"name", Str("taken")}}));
  w.SetRules("tags", "", "weight > 100", "weight < 10", "", "");
  w.SetRules("posts", "", "published = true", "views < 10", "", "");
  const auto refused = [&](const std::string& collection, JsonValue body) {
    auto made = w.records.Create("shop", collection, Input(std::move(body)), Guest());
    return !made && made.error().code == ErrorCode::kPermissionDenied &&
           made.error().fields.empty();
  };
  const auto invalid = [&](const std::string& collection, JsonValue body,
                           const std::string& field) {
    auto made = w.records.Create("shop", collection, Input(std::move(body)), Guest());
    return !made && made.error().code == ErrorCode::kInvalidArgument &&
           made.error().fields.size() == 1 && made.error().fields[0].field == field;
  };
  const JsonValue kTooMany = JsonValue::Integer(50);
  const JsonValue kFew = JsonValue::Integer(1);

  SECTION("a taken id") {
    // p2 is unpublished: hidden from guests by the view rule.
    CHECK(refused("posts", Body({{"id", Str(w.p2)}, {"title", Str("x")}, {"views", kTooMany}})));
    CHECK(refused("posts", Body({{"id", Str("ghost0000000001")}, {"title", Str("x")},
                                 {"views", kTooMany}})));
    CHECK(invalid("posts", Body({{"id", Str(w.p2)}, {"title", Str("x")}, {"views", kFew}}), "id"));
  }
  SECTION("a taken unique value") {
    CHECK(refused("tags", Body({{"name", Str("taken")}, {"weight", kTooMany}})));
    CHECK(refused("tags", Body({{"name", Str("free")}, {"weight", kTooMany}})));
    CHECK(invalid("tags", Body({{"name", Str("taken")}, {"weight", kFew}}), "name"));
  }
  SECTION("a relation to a missing record") {
    CHECK(refused("posts", Body({{"title", Str("x")}, {"author", Str("ghost0000000001")},
                                 {"views", kTooMany}})));
    CHECK(refused("posts", Body({{"title", Str("x")}, {"author", Str(w.ada)},
                                 {"views", kTooMany}})));
    CHECK(invalid("posts", Body({{"title", Str("x")}, {"author", Str("ghost0000000001")},
                                 {"views", kFew}}), "author"));
  }
  SECTION("a batch upsert updates only what the caller sees") {
    const auto upsert = [&](const std::string& id, JsonValue views) {
      std::vector<BatchOperation> ops{
          {BatchOperation::Kind::kUpsert, "posts", "",
           Input(Body({{"id", Str(id)}, {"title", Str("up")}, {"views", std::move(views)}}))}};
      return w.records.Batch("shop", ops, Guest());
    };
    auto hidden = upsert(w.p2, kTooMany);
    auto ghost = upsert("ghost0000000001", kTooMany);
    REQUIRE_FALSE(hidden);
    REQUIRE_FALSE(ghost);
    CHECK(hidden.error().error.code == ErrorCode::kPermissionDenied);
    CHECK(hidden.error().error.message == ghost.error().error.message);
    auto taken = upsert(w.p2, kFew);  // admitted as a create: the id is taken
    REQUIRE_FALSE(taken);
    CHECK(taken.error().error.code == ErrorCode::kInvalidArgument);
    auto seen = upsert(w.p1, kFew);  // published: updated
    REQUIRE(seen);
    CHECK_FALSE((*seen)[0].created);
  }
  CHECK(w.Count("tags") == 1);
  CHECK(w.Count("posts") == 2);
}

TEST_CASE("records: validation and relations", "[application][records]") {
  Blog w;
  auto missing_title = w.records.Create("shop", "posts", Input(Body({})), Guest());
  REQUIRE_FALSE(missing_title);
  CHECK(missing_title.error().code == ErrorCode::kInvalidArgument);
  REQUIRE_FALSE(missing_title.error().fields.empty());
  CHECK(missing_title.error().fields[0].field == "title");
  CHECK(missing_title.error().fields[0].code == "validation_required");

  auto dangling = w.records.Create(
      "shop", "posts", Input(Body({{"title", Str("x")}, {"author", Str("zzzzzzzzzzzzzzz")}})),
      Guest());
  REQUIRE_FALSE(dangling);
  REQUIRE(dangling.error().fields.size() == 1);
  CHECK(dangling.error().fields[0].code == "validation_missing_rel_records");

  auto own_id = w.records.Create(
      "shop", "posts", Input(Body({{"id", Str("myownid12345678")}, {"title", Str("x")}})), Guest());
  REQUIRE(own_id);
  auto taken = w.records.Create(
      "shop", "posts", Input(Body({{"id", Str("myownid12345678")}, {"title", Str("y")}})), Guest());
  REQUIRE_FALSE(taken);
  CHECK(taken.error().code == ErrorCode::kInvalidArgument);
  CHECK(taken.error().fields.at(0).field == "id");
}

TEST_CASE("records: deletes cascade, clear optional references, refuse required ones",
          "[application][records]") {
  Blog w;
  // Deleting a post deletes its comments (cascadeDelete).
  REQUIRE(w.records.Delete("shop", "posts", w.p1, Guest()));
  CHECK(w.Count("comments") == 0);

  // p2.author (optional) names Bob: deleting Bob clears it.
  REQUIRE(w.records.Delete("shop", "users", w.bob, Guest()));
  auto p2 = w.records.View("shop", "posts", w.p2, "", Guest());
  REQUIRE(p2);
  CHECK(*p2->record.record.Get(*p2->record.collection, "author") == Str(""));

  // A profile requires its owner: deleting the owner is refused, and nothing changes.
  w.MustInsert("profiles", Body({{"owner", Str(w.ada)}}));
  auto refused = w.records.Delete("shop", "users", w.ada, Guest());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  CHECK(w.Count("users") == 1);
}

TEST_CASE("records: expand, nested and back-relations, under view rules",
          "[application][records]") {
  Blog w;
  auto viewed = w.records.View("shop", "comments", w.c1, "post.author,post.editors", Guest());
  REQUIRE(viewed);
  const auto& expand = viewed->record.expand;
  REQUIRE(expand.size() == 1);
  CHECK(expand[0].name == "post");
  CHECK_FALSE(expand[0].multiple);
  REQUIRE(expand[0].records.size() == 1);
  const auto& post = expand[0].records[0];
  REQUIRE(post.expand.size() == 2);
  CHECK(post.expand[0].name == "author");
  CHECK(post.expand[0].records.at(0).record.Id(*post.expand[0].records[0].collection) == w.ada);
  CHECK(post.expand[1].name == "editors");
  CHECK(post.expand[1].multiple);
  CHECK(post.expand[1].records.size() == 2);

  auto back = w.records.View("shop", "posts", w.p1, "comments_via_post", Guest());
  REQUIRE(back);
  REQUIRE(back->record.expand.size() == 1);
  CHECK(back->record.expand[0].name == "comments_via_post");
  CHECK(back->record.expand[0].records.size() == 1);

  // Records the caller may not view are not expanded.
  w.SetRules("users", "", "name = 'Bob'", "", "", "");
  auto ruled = w.records.View("shop", "posts", w.p1, "author,editors", Guest());
  REQUIRE(ruled);
  REQUIRE(ruled->record.expand.size() == 1);
  CHECK(ruled->record.expand[0].name == "editors");
  CHECK(ruled->record.expand[0].records.size() == 1);

  CHECK(w.records.View("shop", "posts", w.p1, "a.b.c.d.e.f.g", Guest()).error().code ==
        ErrorCode::kInvalidArgument);
}

TEST_CASE("records: batches are all or nothing", "[application][records]") {
  Blog w;
  std::vector<BatchOperation> ok{
      {BatchOperation::Kind::kCreate, "users", "", Input(Body({{"name", Str("Cy")}}))},
      {BatchOperation::Kind::kUpdate, "posts", w.p2, Input(Body({{"title", Str("TWO")}}))},
      {BatchOperation::Kind::kUpsert, "users", "",
       Input(Body({{"id", Str(w.ada)}, {"name", Str("Ada L.")}}))},
      {BatchOperation::Kind::kDelete, "comments", w.c1, {}},
  };
  auto done = w.records.Batch("shop", ok, Guest());
  REQUIRE(done);
  REQUIRE(done->size() == 4);
  CHECK((*done)[0].record.has_value());
  CHECK_FALSE((*done)[2].created);
  CHECK_FALSE((*done)[3].record.has_value());
  CHECK(w.Count("users") == 3);
  CHECK(w.Count("comments") == 0);

  std::vector<BatchOperation> failing{
      {BatchOperation::Kind::kCreate, "users", "", Input(Body({{"name", Str("Dee")}}))},
      {BatchOperation::Kind::kCreate, "posts", "", Input(Body({}))},  // title required
  };
  auto failed = w.records.Batch("shop", failing, Guest());
  REQUIRE_FALSE(failed);
  CHECK(failed.error().index == std::optional<std::size_t>(1));
  CHECK(failed.error().error.code == ErrorCode::kInvalidArgument);
  CHECK(w.Count("users") == 3);

  CHECK_FALSE(w.records.Batch("shop", {}, Guest()));
  std::vector<BatchOperation> too_many(51, ok[0]);
  CHECK_FALSE(w.records.Batch("shop", too_many, Guest()));
  std::vector<BatchOperation> unknown{{BatchOperation::Kind::kCreate, "nope", "", {}}};
  auto missing = w.records.Batch("shop", unknown, Guest());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().error.code == ErrorCode::kNotFound);
}
