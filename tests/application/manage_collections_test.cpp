#include <catch2/catch.hpp>

#include "application/data_world.hpp"

using namespace socle;
using namespace socle::domain;
using testing::DataWorld;
using testing::NewCollection;
using testing::NewField;

namespace {

bool HasFieldError(const Error& error, std::string_view field) {
  for (const auto& f : error.fields) {
    if (f.field == field) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("creating a collection completes ids and system fields", "[application][collections]") {
  DataWorld w;
  Collection posts = w.MustCreate(NewCollection("posts", {NewField("title", FieldType::kText)}));
  CHECK(posts.id.starts_with("pbc_"));
  CHECK(posts.id.size() == 14);
  REQUIRE(posts.fields.size() == 4);
  CHECK(posts.fields[0].name == "id");
  CHECK(posts.fields[0].system);
  CHECK(posts.fields[1].name == "title");
  CHECK(posts.fields[1].id.starts_with("text"));
  CHECK(posts.fields[2].name == "created");
  CHECK(posts.fields[3].name == "updated");
  CHECK(posts.created == w.clock.Now());

  CHECK(w.collections.Get("shop", "POSTS")->id == posts.id);
  CHECK(w.collections.Get("shop", posts.id)->name == "posts");
  CHECK(w.collections.Get("shop", "nope").error().code == ErrorCode::kNotFound);
  CHECK(w.collections.Get("nope", "posts").error().code == ErrorCode::kNotFound);
  REQUIRE(w.collections.List("shop")->size() == 1);
}

TEST_CASE("creating a collection refuses taken names and bad rules", "[application][collections]") {
  DataWorld w;
  w.MustCreate(NewCollection("posts", {NewField("title", FieldType::kText)}));
  auto taken = w.collections.Create("shop", NewCollection("Posts", {}), "test");
  REQUIRE_FALSE(taken);
  CHECK(taken.error().code == ErrorCode::kInvalidArgument);
  CHECK(HasFieldError(taken.error(), "name"));

  Collection bad_rule = NewCollection("notes", {NewField("text", FieldType::kText)});
  bad_rule.rules.list = "nope = 1";
  bad_rule.rules.view = "text = ";
  auto refused = w.collections.Create("shop", bad_rule, "test");
  REQUIRE_FALSE(refused);
  CHECK(HasFieldError(refused.error(), "listRule"));
  CHECK(HasFieldError(refused.error(), "viewRule"));
  CHECK(w.collections.List("shop")->size() == 1);
}

TEST_CASE("updating a collection keeps the data of kept and renamed fields",
          "[application][collections]") {
  DataWorld w;
  Collection posts = w.MustCreate(NewCollection(
      "posts", {NewField("title", FieldType::kText), NewField("views", FieldType::kNumber)}));
  const std::string id = w.MustInsert(
      "posts", testing::Body({{"title", testing::Str("Hello")}, {"views", JsonValue::Integer(7)}}));

  // Rename title (same field id) and re-declare views without its id (matched by name).
  Collection draft = posts;
  draft.fields[1].name = "headline";
  draft.fields[2].id.clear();
  draft.fields.push_back(NewField("extra", FieldType::kBool));
  auto updated = w.collections.Update("shop", "posts", draft, "test");
  REQUIRE(updated);
  CHECK(updated->FindField("views")->id == posts.FindField("views")->id);

  application::Caller caller;
  caller.superuser = true;
  auto record = w.records.View("shop", "posts", id, "", caller);
  REQUIRE(record);
  const Collection& c = *record->record.collection;
  CHECK(*record->record.record.Get(c, "headline") == testing::Str("Hello"));
  CHECK(*record->record.record.Get(c, "views") == JsonValue::Integer(7));
  CHECK(*record->record.record.Get(c, "extra") == JsonValue::Bool(false));

  Collection bad = *updated;
  bad.rules.update = "missing_field = 1";
  auto refused = w.collections.Update("shop", "posts", bad, "test");
  REQUIRE_FALSE(refused);
  CHECK(HasFieldError(refused.error(), "updateRule"));
  CHECK(w.collections.Update("shop", "nope", bad, "test").error().code == ErrorCode::kNotFound);

  auto history = w.collections.History("shop");
  REQUIRE(history);
  CHECK(history->size() == 2);
}

TEST_CASE("a collection others point at cannot be deleted", "[application][collections]") {
  DataWorld w;
  w.MustCreate(NewCollection("users", {NewField("name", FieldType::kText)}));
  Field author = NewField("author", FieldType::kRelation);
  author.collection_id = "users";  // by name: resolved to the id
  author.max_select = 1;
  Collection posts = w.MustCreate(NewCollection("posts", {author}));
  CHECK(posts.FindField("author")->collection_id == w.collections.Get("shop", "users")->id);

  auto refused = w.collections.Delete("shop", "users", "test");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  REQUIRE(w.collections.Delete("shop", "posts", "test"));
  REQUIRE(w.collections.Delete("shop", "users", "test"));
  CHECK(w.collections.List("shop")->empty());
  CHECK(w.collections.Delete("shop", "users", "test").error().code == ErrorCode::kNotFound);
}

TEST_CASE("import creates, migrates and deletes in one change", "[application][collections]") {
  DataWorld w;
  w.MustCreate(NewCollection("legacy", {NewField("x", FieldType::kText)}));
  Field author = NewField("author", FieldType::kRelation);
  author.collection_id = "users";
  author.max_select = 1;
  std::vector<Collection> wanted{NewCollection("posts", {NewField("title", FieldType::kText), author}),
                                 NewCollection("users", {NewField("name", FieldType::kText)})};

  auto report = w.collections.Import("shop", wanted, false, "test");
  REQUIRE(report);
  CHECK(report->created == std::vector<std::string>{"posts", "users"});
  CHECK(w.collections.List("shop")->size() == 3);

  // The same import again changes nothing.
  auto again = w.collections.Import("shop", wanted, false, "test");
  REQUIRE(again);
  CHECK(again->created.empty());
  CHECK(again->updated.empty());

  // With delete_missing, collections not in the file go.
  wanted[1].fields.push_back(NewField("age", FieldType::kNumber));
  auto pruned = w.collections.Import("shop", wanted, true, "test");
  REQUIRE(pruned);
  CHECK(pruned->updated == std::vector<std::string>{"users"});
  CHECK(pruned->deleted == std::vector<std::string>{"legacy"});
  CHECK(w.collections.List("shop")->size() == 2);

  // Errors are keyed by the collection's position in the import, and nothing is applied.
  std::vector<Collection> broken{NewCollection("ok", {}), NewCollection("bad name!", {})};
  auto refused = w.collections.Import("shop", broken, false, "test");
  REQUIRE_FALSE(refused);
  CHECK(HasFieldError(refused.error(), "collections.1.name"));
  CHECK(w.collections.List("shop")->size() == 2);
}

TEST_CASE("import refuses names swapped within one change", "[application][collections]") {
  DataWorld w;
  Collection a = w.MustCreate(NewCollection("alpha", {}));
  Collection b = w.MustCreate(NewCollection("beta", {}));
  a.name = "beta";
  b.name = "alpha";
  auto refused = w.collections.Import("shop", {a, b}, false, "test");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  CHECK(HasFieldError(refused.error(), "collections.0.name"));
  CHECK(w.collections.Get("shop", a.id)->name == "alpha");
  // In two steps it works.
  Collection gamma = a;
  gamma.name = "gamma";
  REQUIRE(w.collections.Import("shop", {gamma}, false, "test"));
  REQUIRE(w.collections.Import("shop", {b}, false, "test"));
  a.name = "beta";
  REQUIRE(w.collections.Import("shop", {a}, false, "test"));
  CHECK(w.collections.Get("shop", b.id)->name == "alpha");
}
