// The ProjectStore contract: every adapter of the port passes exactly these cases, so the
// memory, SQLite and PostgreSQL stores give identical answers for the same operations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <initializer_list>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "contracts/project_store_fixture.hpp"
#include "socle/domain/filter/resolver.hpp"

using namespace socle;
using namespace socle::domain;
using application::CollectionChange;
using application::ProjectStore;
using application::RecordQuery;
using application::RecordTransaction;

namespace {

Timestamp T(std::int64_t seconds) { return Timestamp::FromUnixMicros(seconds * 1'000'000); }

Field MakeField(std::string id, std::string name, FieldType type) {
  Field field;
  field.id = std::move(id);
  field.name = std::move(name);
  field.type = type;
  return field;
}

Collection MakeCollection(std::string id, std::string name, std::vector<Field> fields) {
  Collection collection;
  collection.id = std::move(id);
  collection.name = std::move(name);
  collection.fields = SystemFields();
  for (auto& field : fields) collection.fields.push_back(std::move(field));
  collection.rules.list = "";
  collection.rules.view = "";
  collection.created = T(1'700'000'000);
  collection.updated = T(1'700'000'000);
  return collection;
}

Collection Users() {
  return MakeCollection("pbc_users", "users",
                        {MakeField("f_name", "name", FieldType::kText),
                         MakeField("f_age", "age", FieldType::kNumber)});
}

Collection Posts() {
  Field tags = MakeField("f_tags", "tags", FieldType::kSelect);
  tags.values = {"a", "b", "c", "d"};
  tags.max_select = 4;
  Field author = MakeField("f_author", "author", FieldType::kRelation);
  author.collection_id = "pbc_users";
  author.max_select = 1;
  Field editors = MakeField("f_editors", "editors", FieldType::kRelation);
  editors.collection_id = "pbc_users";
  editors.max_select = 5;
  Field files = MakeField("f_files", "files", FieldType::kFile);
  files.max_select = 3;
  Collection posts = MakeCollection(
      "pbc_posts", "posts",
      {MakeField("f_title", "title", FieldType::kText), MakeField("f_body", "body", FieldType::kEditor),
       MakeField("f_views", "views", FieldType::kNumber),
       MakeField("f_published", "published", FieldType::kBool),
       MakeField("f_email", "email", FieldType::kEmail), MakeField("f_site", "site", FieldType::kUrl),
       MakeField("f_when", "when", FieldType::kDate), tags, author, editors,
       MakeField("f_data", "data", FieldType::kJson), files});
  posts.indexes.push_back(CollectionIndex{"idx_posts_email", true, {{"email", false}}, {}});
  posts.indexes.push_back(CollectionIndex{"idx_posts_views", false, {{"views", true}}, {}});
  return posts;
}

Collection Comments() {
  Field post = MakeField("f_post", "post", FieldType::kRelation);
  post.collection_id = "pbc_posts";
  post.max_select = 1;
  return MakeCollection("pbc_comments", "comments",
                        {post, MakeField("f_text", "text", FieldType::kText)});
}

JsonValue S(std::string text) { return JsonValue::String(std::move(text)); }
JsonValue N(std::int64_t value) { return JsonValue::Integer(value); }
JsonValue Strings(std::initializer_list<const char*> items) {
  std::vector<JsonValue> out;
  for (const char* item : items) out.push_back(S(item));
  return JsonValue::Array(std::move(out));
}

// A record of `collection` with `values` set by field name and the rest zero.
Record Make(const Collection& collection, std::string id,
            std::initializer_list<std::pair<const char*, JsonValue>> values) {
  Record record = EmptyRecord(collection);
  *collection.FieldIndex("id").transform([&](std::size_t i) { return &record.values[i]; }).value() =
      S(std::move(id));
  for (const auto& [name, value] : values) {
    auto index = collection.FieldIndex(name);
    REQUIRE(index.has_value());
    record.values[*index] = value;
  }
  return record;
}

// Creates `collections` in one schema change and returns the new schema.
SchemaPtr Create(ProjectStore& store, std::vector<Collection> collections) {
  auto schema = store.Schema();
  REQUIRE(schema.has_value());
  std::vector<CollectionChange> changes;
  for (auto& collection : collections) changes.push_back({std::nullopt, std::move(collection)});
  auto applied = store.ApplySchema(changes, (*schema)->version, "test", T(1'700'000'001));
  INFO((applied ? std::string() : applied.error().message + " / " + applied.error().internal));
  REQUIRE(applied.has_value());
  return *applied;
}

void Insert(ProjectStore& store, const Collection& collection, const std::vector<Record>& records) {
  auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
    for (const auto& record : records) {
      if (auto inserted = tx.Insert(collection, record); !inserted) return inserted;
    }
    return {};
  });
  INFO((done ? std::string() : done.error().message + " / " + done.error().internal));
  REQUIRE(done.has_value());
}

// The blog fixture: users u1..u3, posts p1..p5, comments.
struct Blog {
  SchemaPtr schema;
  const Collection* users;
  const Collection* posts;
  const Collection* comments;
};

Blog SeedBlog(ProjectStore& store) {
  SchemaPtr schema = Create(store, {Users(), Posts(), Comments()});
  Blog blog{schema, schema->Find("users"), schema->Find("posts"), schema->Find("comments")};
  Insert(store, *blog.users,
         {Make(*blog.users, "u1", {{"name", S("Ada")}, {"age", N(36)}}),
          Make(*blog.users, "u2", {{"name", S("bob")}, {"age", N(25)}}),
          Make(*blog.users, "u3", {{"name", S("Émile")}, {"age", N(25)}})});
  Insert(store, *blog.posts,
         {Make(*blog.posts, "p1",
               {{"title", S("Hello World")}, {"views", N(10)}, {"published", JsonValue::Bool(true)},
                {"email", S("a@x.io")}, {"when", S("2024-01-02 10:00:00.000Z")},
                {"tags", Strings({"a", "b"})}, {"author", S("u1")}, {"editors", Strings({"u2", "u3"})},
                {"data", JsonValue::Object({{"score", N(5)}, {"kind", S("news")}})}}),
          Make(*blog.posts, "p2",
               {{"title", S("hello again")}, {"views", JsonValue::Number(2.5)},
                {"published", JsonValue::Bool(false)}, {"email", S("b@x.io")},
                {"when", S("2023-06-01 00:00:00.000Z")}, {"tags", Strings({"b"})}, {"author", S("u2")},
                {"editors", Strings({"u1"})}, {"data", JsonValue::Object({{"score", N(1)}})}}),
          Make(*blog.posts, "p3",
               {{"title", S("Zebra 100%")}, {"views", N(10)}, {"published", JsonValue::Bool(true)},
                {"email", S("c@x.io")}, {"author", S("u1")}, {"data", S("plain")}}),
          Make(*blog.posts, "p4",
               {{"title", S("under_score")}, {"views", N(-3)}, {"email", S("d@x.io")},
                {"tags", Strings({"c"})}, {"when", S("2025-12-31 23:59:59.999Z")}}),
          Make(*blog.posts, "p5", {{"title", S("Ärger")}, {"views", N(0)}, {"email", S("e@x.io")}})});
  Insert(store, *blog.comments,
         {Make(*blog.comments, "c1", {{"post", S("p1")}, {"text", S("first")}}),
          Make(*blog.comments, "c2", {{"post", S("p1")}, {"text", S("second")}}),
          Make(*blog.comments, "c3", {{"post", S("p2")}, {"text", S("third")}})});
  return blog;
}

std::vector<std::string> Ids(const Collection& collection, const std::vector<Record>& records) {
  std::vector<std::string> ids;
  for (const auto& record : records) ids.push_back(record.Id(collection));
  return ids;
}

// The ids of the posts `filter` selects, in id order.
std::vector<std::string> Select(ProjectStore& store, const Blog& blog, const Collection& collection,
                                std::string_view text) {
  filter::RequestContext request;
  request.now = T(1'735'689'600);  // 2025-01-01
  request.body = JsonValue::Object({{"tags", Strings({"c", "d"})}, {"title", S("Ärger")}});
  filter::ResolveOptions options;
  options.allow_hidden = true;
  auto where = filter::Compile(text, blog.schema, collection, request, options);
  INFO(text);
  INFO((where ? std::string() : where.error().message));
  REQUIRE(where.has_value());
  RecordQuery query;
  query.where = &*where;
  query.limit = 100;
  auto page = store.Query(collection, query);
  INFO((page ? std::string() : page.error().message + " / " + page.error().internal));
  REQUIRE(page.has_value());
  CHECK(page->total == static_cast<std::int64_t>(page->items.size()));
  return Ids(collection, page->items);
}

std::vector<std::string> Sorted(ProjectStore& store, const Blog& blog, std::string_view sort) {
  auto terms = filter::ResolveSort(sort, blog.schema, *blog.posts);
  INFO(sort);
  REQUIRE(terms.has_value());
  RecordQuery query;
  query.sort = std::move(*terms);
  query.limit = 100;
  auto page = store.Query(*blog.posts, query);
  REQUIRE(page.has_value());
  return Ids(*blog.posts, page->items);
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("contract: a new project has an empty schema and history", "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  auto schema = ut->store().Schema();
  REQUIRE(schema.has_value());
  CHECK((*schema)->version == 0);
  CHECK((*schema)->collections.empty());
  auto history = ut->store().History();
  REQUIRE(history.has_value());
  CHECK(history->empty());
}

TEST_CASE("contract: schema changes are versioned, recorded and persisted", "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  SchemaPtr schema = Create(ut->store(), {Users()});
  CHECK(schema->version == 1);
  REQUIRE(schema->collections.size() == 1);
  CHECK(schema->collections[0] == Users());

  SECTION("a change planned against an old version is refused and changes nothing") {
    auto stale = ut->store().ApplySchema({{std::nullopt, Comments()}}, 0, "test", T(1));
    REQUIRE_FALSE(stale.has_value());
    CHECK(stale.error().code == ErrorCode::kAborted);
    CHECK((*ut->store().Schema())->collections.size() == 1);
  }
  SECTION("history lists each change with its actor and version") {
    Create(ut->store(), {Posts()});
    auto history = ut->store().History();
    REQUIRE(history.has_value());
    REQUIRE(history->size() == 2);
    CHECK((*history)[0].version == 1);
    CHECK((*history)[1].version == 2);
    CHECK((*history)[1].actor == "test");
    CHECK_FALSE((*history)[1].change.before.has_value());
    CHECK((*history)[1].change.after->name == "posts");
  }
  SECTION("a reopened store sees the same schema") {
    Create(ut->store(), {Posts()});
    auto reopened = ut->Reopen().Schema();
    REQUIRE(reopened.has_value());
    CHECK((*reopened)->version == 2);
    REQUIRE((*reopened)->collections.size() == 2);
    CHECK((*reopened)->collections[1] == Posts());
  }
}

TEST_CASE("contract: records of every field type round-trip", "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto p1 = ut->store().Get(*blog.posts, "p1", nullptr);
  REQUIRE(p1.has_value());
  REQUIRE(p1->has_value());
  const Record expected = Make(
      *blog.posts, "p1",
      {{"title", S("Hello World")}, {"views", N(10)}, {"published", JsonValue::Bool(true)},
       {"email", S("a@x.io")}, {"when", S("2024-01-02 10:00:00.000Z")}, {"tags", Strings({"a", "b"})},
       {"author", S("u1")}, {"editors", Strings({"u2", "u3"})},
       {"data", JsonValue::Object({{"score", N(5)}, {"kind", S("news")}})}});
  CHECK(**p1 == expected);

  auto p2 = ut->store().Get(*blog.posts, "p2", nullptr);
  REQUIRE(p2->has_value());
  CHECK(*(*p2)->Get(*blog.posts, "views") == JsonValue::Number(2.5));
  CHECK(*(*p2)->Get(*blog.posts, "files") == JsonValue::Array({}));
  auto p3 = ut->store().Get(*blog.posts, "p3", nullptr);
  CHECK(*(*p3)->Get(*blog.posts, "data") == S("plain"));
  CHECK(*(*p3)->Get(*blog.posts, "when") == S(""));
  auto p5 = ut->store().Get(*blog.posts, "p5", nullptr);
  CHECK(*(*p5)->Get(*blog.posts, "data") == JsonValue::Null());

  auto missing = ut->store().Get(*blog.posts, "nope", nullptr);
  REQUIRE(missing.has_value());
  CHECK_FALSE(missing->has_value());

  SECTION("and are persisted") {
    auto schema = ut->Reopen().Schema();
    REQUIRE(schema.has_value());
    auto again = ut->Reopen().Get(*(*schema)->Find("posts"), "p1", nullptr);
    REQUIRE(again.has_value());
    REQUIRE(again->has_value());
    CHECK(**again == expected);
  }
}

TEST_CASE("contract: writes report conflicts and missing records", "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto write = [&](auto&& work) { return ut->store().Write(work); };

  auto taken = write([&](RecordTransaction& tx) {
    return tx.Insert(*blog.posts, Make(*blog.posts, "p1", {{"email", S("new@x.io")}}));
  });
  REQUIRE_FALSE(taken.has_value());
  CHECK(taken.error().code == ErrorCode::kAlreadyExists);

  auto duplicate = write([&](RecordTransaction& tx) {
    return tx.Insert(*blog.posts, Make(*blog.posts, "p9", {{"email", S("a@x.io")}}));
  });
  REQUIRE_FALSE(duplicate.has_value());
  CHECK(duplicate.error().code == ErrorCode::kInvalidArgument);
  REQUIRE(duplicate.error().fields.size() == 1);
  CHECK(duplicate.error().fields[0].field == "email");
  CHECK(duplicate.error().fields[0].code == "validation_not_unique");

  auto duplicate_update = write([&](RecordTransaction& tx) {
    return tx.Update(*blog.posts, Make(*blog.posts, "p2", {{"email", S("a@x.io")}}));
  });
  REQUIRE_FALSE(duplicate_update.has_value());
  CHECK(duplicate_update.error().fields.at(0).code == "validation_not_unique");

  auto update_missing = write([&](RecordTransaction& tx) {
    return tx.Update(*blog.posts, Make(*blog.posts, "p9", {{"email", S("z@x.io")}}));
  });
  REQUIRE_FALSE(update_missing.has_value());
  CHECK(update_missing.error().code == ErrorCode::kNotFound);

  auto delete_missing = write([&](RecordTransaction& tx) { return tx.Delete(*blog.posts, "p9"); });
  REQUIRE_FALSE(delete_missing.has_value());
  CHECK(delete_missing.error().code == ErrorCode::kNotFound);
}

TEST_CASE("contract: a failed transaction leaves no trace; a transaction sees its own writes",
          "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto failed = ut->store().Write([&](RecordTransaction& tx) -> Result<void> {
    if (auto done = tx.Insert(*blog.users, Make(*blog.users, "u9", {{"name", S("Zed")}})); !done) {
      return done;
    }
    if (auto done = tx.Delete(*blog.users, "u1"); !done) return done;
    auto seen = tx.Find(*blog.users, "u9");
    if (!seen || !*seen) return Fail(ErrorCode::kInternal, "own insert not visible");
    auto gone = tx.Find(*blog.users, "u1");
    if (!gone || *gone) return Fail(ErrorCode::kInternal, "own delete not visible");
    auto where = filter::Compile("name = 'Zed'", blog.schema, *blog.users, {});
    if (!where) return std::unexpected(where.error());
    auto matches = tx.Matches(*blog.users, "u9", *where);
    if (!matches || !*matches) return Fail(ErrorCode::kInternal, "own insert does not match");
    RecordQuery all;
    auto page = tx.Query(*blog.users, all);
    if (!page || page->total != 3) return Fail(ErrorCode::kInternal, "own writes not counted");
    return Fail(ErrorCode::kInvalidArgument, "changed my mind");
  });
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().message == "changed my mind");
  CHECK_FALSE(ut->store().Get(*blog.users, "u9", nullptr)->has_value());
  CHECK(ut->store().Get(*blog.users, "u1", nullptr)->has_value());

  auto updated = ut->store().Write([&](RecordTransaction& tx) {
    return tx.Update(*blog.users, Make(*blog.users, "u2", {{"name", S("Bob")}, {"age", N(26)}}));
  });
  REQUIRE(updated.has_value());
  CHECK(*(*ut->store().Get(*blog.users, "u2", nullptr))->Get(*blog.users, "name") == S("Bob"));
}

TEST_CASE("contract: CountExisting counts the ids that name a record", "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  std::vector<std::size_t> counts;
  // Many ids, three of them real; ids that are not text a store can bind (a NUL) name nothing.
  std::vector<std::string> many;
  for (int i = 0; i < 60; ++i) many.push_back("x" + std::to_string(i));
  many.insert(many.end(), {"u3", "u1", "u2"});
  const std::string with_nul("u1\0u2", 5);
  auto done = ut->store().Write([&](RecordTransaction& tx) -> Result<void> {
    for (const std::vector<std::string>& ids :
         {std::vector<std::string>{"u1"}, {"u9"}, {"u1", "u2", "u3"}, {"u1", "nope", "u3"},
          {"'; DROP TABLE users; --"}, {}, many, {with_nul}, {with_nul, "u2"},
          {"a\"b", "{u1}", "u1,u2"}}) {
      auto found = tx.CountExisting(*blog.users, ids);
      if (!found) return std::unexpected(found.error());
      counts.push_back(*found);
    }
    // The transaction's own writes count.
    if (auto inserted = tx.Insert(*blog.users, Make(*blog.users, "u7", {})); !inserted) {
      return inserted;
    }
    if (auto deleted = tx.Delete(*blog.users, "u2"); !deleted) return deleted;
    auto found = tx.CountExisting(*blog.users, {"u7", "u2"});
    if (!found) return std::unexpected(found.error());
    counts.push_back(*found);
    return {};
  });
  REQUIRE(done.has_value());
  CHECK(counts == std::vector<std::size_t>{1, 0, 3, 2, 0, 0, 3, 0, 1, 0, 1});
}

TEST_CASE("contract: concurrent writes each commit or fail on their own", "[contract][project]") {
  // Writers at once, as a server's workers are: each write's outcome is its own, however a
  // store groups them into transactions. Per thread, in turn: a plain insert, an insert
  // that then fails (rolled back), an insert of an id every thread tries (one wins), and an
  // update of a record the thread made before.
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  const Collection& users = *blog.users;
  constexpr int kThreads = 6;
  constexpr int kRounds = 20;
  std::atomic<int> contested_won{0};
  // Catch's assertions are not thread-safe: the threads record what went wrong.
  std::vector<std::string> wrong(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto note = [&](std::string what) {
        if (wrong[static_cast<std::size_t>(t)].empty()) wrong[static_cast<std::size_t>(t)] = what;
      };
      for (int i = 0; i < kRounds; ++i) {
        const std::string id = "w" + std::to_string(t) + "_" + std::to_string(i);
        auto kept = ut->store().Write([&](RecordTransaction& tx) {
          return tx.Insert(users, Make(users, id, {{"name", S(id)}, {"age", N(i)}}));
        });
        if (!kept) note("insert " + id + ": " + kept.error().message);
        auto undone = ut->store().Write([&](RecordTransaction& tx) -> Result<void> {
          if (auto done = tx.Insert(users, Make(users, "x" + id, {})); !done) return done;
          return Fail(ErrorCode::kInvalidArgument, "changed my mind");
        });
        if (undone || undone.error().message != "changed my mind") note("undone " + id);
        auto contested = ut->store().Write([&](RecordTransaction& tx) {
          return tx.Insert(users, Make(users, "c" + std::to_string(i), {{"name", S(id)}}));
        });
        if (contested) {
          ++contested_won;
        } else if (contested.error().code != ErrorCode::kAlreadyExists) {
          note("contested " + id + ": " + contested.error().message);
        }
        if (i > 0) {
          const std::string earlier = "w" + std::to_string(t) + "_" + std::to_string(i - 1);
          auto updated = ut->store().Write([&](RecordTransaction& tx) {
            return tx.Update(users, Make(users, earlier, {{"name", S("renamed")}, {"age", N(-1)}}));
          });
          if (!updated) note("update " + earlier + ": " + updated.error().message);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : wrong) CHECK(failure == "");
  CHECK(contested_won.load() == kRounds);

  RecordQuery all;
  all.limit = 1000;
  auto page = ut->store().Query(users, all);
  REQUIRE(page.has_value());
  // The three seeded users, each thread's inserts, and one winner per contested id.
  CHECK(page->total == 3 + kThreads * kRounds + kRounds);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kRounds; ++i) {
      const std::string id = "w" + std::to_string(t) + "_" + std::to_string(i);
      auto found = ut->store().Get(users, id, nullptr);
      REQUIRE(found.has_value());
      REQUIRE(found->has_value());
      CHECK(*(*found)->Get(users, "name") == S(i + 1 < kRounds ? "renamed" : id));
      auto undone = ut->store().Get(users, "x" + id, nullptr);
      REQUIRE(undone.has_value());
      CHECK_FALSE(undone->has_value());
    }
  }
}

TEST_CASE("contract: pages, counts and sorting", "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());

  CHECK(Sorted(ut->store(), blog, "") == V{"p1", "p2", "p3", "p4", "p5"});
  CHECK(Sorted(ut->store(), blog, "-views") == V{"p1", "p3", "p2", "p5", "p4"});
  CHECK(Sorted(ut->store(), blog, "views") == V{"p4", "p5", "p2", "p1", "p3"});
  // Bytewise: uppercase before lowercase, non-ASCII last.
  CHECK(Sorted(ut->store(), blog, "title") == V{"p1", "p3", "p2", "p4", "p5"});
  // Empty dates first ascending, last descending.
  CHECK(Sorted(ut->store(), blog, "when") == V{"p3", "p5", "p2", "p1", "p4"});
  CHECK(Sorted(ut->store(), blog, "-when") == V{"p4", "p1", "p2", "p3", "p5"});
  CHECK(Sorted(ut->store(), blog, "published,-views") == V{"p2", "p5", "p4", "p1", "p3"});
  // Through a relation: posts without an author first.
  CHECK(Sorted(ut->store(), blog, "author.name,id") == V{"p4", "p5", "p1", "p3", "p2"});
  CHECK(Sorted(ut->store(), blog, "-author.age,-id") == V{"p3", "p1", "p2", "p5", "p4"});

  auto random = Sorted(ut->store(), blog, "@random");
  std::sort(random.begin(), random.end());
  CHECK(random == V{"p1", "p2", "p3", "p4", "p5"});

  auto terms = filter::ResolveSort("-views", blog.schema, *blog.posts);
  RecordQuery query;
  query.sort = *terms;
  query.offset = 1;
  query.limit = 2;
  auto page = ut->store().Query(*blog.posts, query);
  REQUIRE(page.has_value());
  CHECK(Ids(*blog.posts, page->items) == V{"p3", "p2"});
  CHECK(page->total == 5);
  query.count_total = false;
  query.offset = 4;
  page = ut->store().Query(*blog.posts, query);
  CHECK(Ids(*blog.posts, page->items) == V{"p4"});
  CHECK(page->total == -1);
  query.offset = 10;
  page = ut->store().Query(*blog.posts, query);
  CHECK(page->items.empty());
}

TEST_CASE("contract: comparisons", "[contract][project][filter]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto posts = [&](std::string_view text) { return Select(ut->store(), blog, *blog.posts, text); };

  CHECK(posts("views = 10") == V{"p1", "p3"});
  CHECK(posts("views != 10") == V{"p2", "p4", "p5"});
  CHECK(posts("views > 2.5") == V{"p1", "p3"});
  CHECK(posts("views >= 2.5") == V{"p1", "p2", "p3"});
  CHECK(posts("views < 0") == V{"p4"});
  CHECK(posts("views <= 0") == V{"p4", "p5"});
  CHECK(posts("published = true") == V{"p1", "p3"});
  CHECK(posts("published != true") == V{"p2", "p4", "p5"});
  CHECK(posts("title = 'Hello World'") == V{"p1"});
  CHECK(posts("title > 'a'") == V{"p2", "p4", "p5"});
  CHECK(posts("when > '2024-01-01'") == V{"p1", "p4"});
  // An empty date is the empty string, as in PocketBase: it comes before every date.
  CHECK(posts("when < @now") == V{"p1", "p2", "p3", "p5"});
  CHECK(posts("when = null") == V{"p3", "p5"});
  CHECK(posts("when = ''") == V{"p3", "p5"});
  CHECK(posts("when != null") == V{"p1", "p2", "p4"});
  CHECK(posts("data = null") == V{"p4", "p5"});
  CHECK(posts("author = null") == V{"p4", "p5"});
  CHECK(posts("author = ''") == V{"p4", "p5"});
  CHECK(posts("views = null") == V{});
  CHECK(posts("published = null") == V{});
  CHECK(posts("id = 'p2' || (views > 5 && published = true)") == V{"p1", "p2", "p3"});
  CHECK(posts("id = 'p2' || views > 5 && published = false") == V{"p2"});
}

TEST_CASE("contract: like, lower and wildcards", "[contract][project][filter]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto posts = [&](std::string_view text) { return Select(ut->store(), blog, *blog.posts, text); };

  CHECK(posts("title ~ 'hello'") == V{"p1", "p2"});
  CHECK(posts("title !~ 'HELLO'") == V{"p3", "p4", "p5"});
  CHECK(posts("title ~ '100%'") == V{});                 // a pattern of its own: starts with 100
  CHECK(posts("title ~ 'hello%'") == V{"p1", "p2"});     // explicit pattern: prefix
  CHECK(posts("title ~ '%world'") == V{"p1"});           // explicit pattern: suffix
  CHECK(posts("title ~ 'o_a'") == V{});                  // '_' is literal without '%'
  CHECK(posts("title ~ '%o%a%'") == V{"p2"});           // with '%' it is a wildcard pattern
  CHECK(posts("title ~ 'der_s'") == V{"p4"});
  CHECK(posts("title ~ 'ärger'") == V{});                // no case folding beyond ASCII
  CHECK(posts("title ~ 'Ärger'") == V{"p5"});
  CHECK(posts("title:lower = 'hello world'") == V{"p1"});
  CHECK(posts("title:lower = 'ärger'") == V{});
  CHECK(posts("email ~ '@x.io'") == V{"p1", "p2", "p3", "p4", "p5"});
}

TEST_CASE("contract: multi-valued fields, any and all", "[contract][project][filter]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto posts = [&](std::string_view text) { return Select(ut->store(), blog, *blog.posts, text); };

  CHECK(posts("tags ?= 'b'") == V{"p1", "p2"});
  CHECK(posts("tags = 'b'") == V{"p2"});                 // every item
  CHECK(posts("tags ?!= 'b'") == V{"p1", "p3", "p4", "p5"});
  CHECK(posts("tags != 'b'") == V{"p3", "p4", "p5"});
  CHECK(posts("tags = null") == V{"p3", "p5"});
  CHECK(posts("tags:length = 2") == V{"p1"});
  CHECK(posts("tags:length = 0") == V{"p3", "p5"});
  CHECK(posts("tags:each ~ 'b'") == V{"p2"});
  CHECK(posts("tags ?= @request.body.tags") == V{"p4"});
  CHECK(posts("editors ?= 'u1'") == V{"p2"});
  CHECK(posts("editors.name ?= 'bob'") == V{"p1"});
  CHECK(posts("editors.age ?> 30") == V{"p2"});
  CHECK(posts("editors.age = 25") == V{"p1"});
}

TEST_CASE("contract: relation paths, back-relations, joins and json", "[contract][project][filter]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto posts = [&](std::string_view text) { return Select(ut->store(), blog, *blog.posts, text); };
  auto comments = [&](std::string_view text) {
    return Select(ut->store(), blog, *blog.comments, text);
  };

  CHECK(posts("author.name = 'Ada'") == V{"p1", "p3"});
  CHECK(posts("author.age < 30") == V{"p2"});
  CHECK(posts("author.name != 'Ada'") == V{"p2", "p4", "p5"});
  CHECK(comments("post.author.name = 'bob'") == V{"c3"});
  CHECK(comments("post.views > 5") == V{"c1", "c2"});
  CHECK(posts("comments_via_post.text ?= 'second'") == V{"p1"});
  CHECK(posts("comments_via_post.id != ''") == V{"p1", "p2"});
  CHECK(posts("@collection.users.age > 30 && @collection.users.id = author") == V{"p1", "p3"});
  CHECK(posts("@collection.comments.post ?= id && @collection.comments.text ?= 'third'") ==
        V{"p2"});
  CHECK(posts("data.score > 2") == V{"p1"});
  CHECK(posts("data.kind = 'news'") == V{"p1"});
  CHECK(posts("data.score = '5'") == V{});  // a JSON number is not a string
  CHECK(posts("title = @request.body.title") == V{"p5"});
}

TEST_CASE("contract: values in filters are data, never SQL", "[contract][project][filter]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto posts = [&](std::string_view text) { return Select(ut->store(), blog, *blog.posts, text); };
  CHECK(posts(R"(title = "'); DROP TABLE posts; --")") == V{});
  CHECK(posts(R"(title ~ "' OR 1=1 --")") == V{});
  CHECK(posts("views > 0") == V{"p1", "p2", "p3"});
}

TEST_CASE("contract: Get applies the filter it is given", "[contract][project][filter]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto published = filter::Compile("published = true", blog.schema, *blog.posts, {});
  REQUIRE(published.has_value());
  CHECK(ut->store().Get(*blog.posts, "p1", &*published)->has_value());
  CHECK_FALSE(ut->store().Get(*blog.posts, "p2", &*published)->has_value());
}

TEST_CASE("contract: schema changes keep and convert data", "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  const Collection before = *blog.posts;
  Collection after = before;
  auto field = [&](std::string_view name) -> Field& {
    return *std::find_if(after.fields.begin(), after.fields.end(),
                         [&](const Field& f) { return f.name == name; });
  };
  field("title").name = "headline";                // rename
  field("views").type = FieldType::kText;          // number → text
  field("published").type = FieldType::kNumber;    // bool → number
  field("tags").max_select = 1;                    // multiple → single
  field("author").max_select = 3;                  // single → multiple
  std::erase_if(after.fields, [](const Field& f) { return f.name == "site"; });  // remove
  Field extra = MakeField("f_extra", "extra", FieldType::kNumber);
  after.fields.push_back(extra);                   // add
  after.name = "articles";                         // rename the table
  after.indexes.push_back(CollectionIndex{"idx_articles_headline", false, {{"headline", false}}, {}});

  auto applied =
      ut->store().ApplySchema({{before, after}}, blog.schema->version, "test", T(1'700'000'100));
  INFO((applied ? std::string() : applied.error().message + " / " + applied.error().internal));
  REQUIRE(applied.has_value());
  const Collection* articles = (*applied)->Find("articles");
  REQUIRE(articles != nullptr);
  CHECK((*applied)->Find("posts") == nullptr);

  auto check = [&](ProjectStore& store, const Collection& collection) {
    auto p1 = store.Get(collection, "p1", nullptr);
    REQUIRE(p1.has_value());
    REQUIRE(p1->has_value());
    const Record& record = **p1;
    CHECK(*record.Get(collection, "headline") == S("Hello World"));
    CHECK(*record.Get(collection, "views") == S("10"));
    CHECK(*record.Get(collection, "published") == N(1));
    CHECK(*record.Get(collection, "tags") == S("a"));
    CHECK(*record.Get(collection, "author") == Strings({"u1"}));
    CHECK(*record.Get(collection, "extra") == N(0));
    CHECK(record.Get(collection, "site") == nullptr);
    auto p2 = store.Get(collection, "p2", nullptr);
    CHECK(*(*p2)->Get(collection, "views") == S("2.5"));
    CHECK(*(*p2)->Get(collection, "published") == N(0));
    auto p4 = store.Get(collection, "p4", nullptr);
    CHECK(*(*p4)->Get(collection, "author") == JsonValue::Array({}));
  };
  check(ut->store(), *articles);
  auto reopened = ut->Reopen().Schema();
  REQUIRE(reopened.has_value());
  check(ut->Reopen(), *(*reopened)->Find("articles"));

  // The relation from comments still leads to the renamed collection.
  auto where = filter::Compile("post.headline = 'Hello World'", *applied,
                               *(*applied)->Find("comments"), {});
  REQUIRE(where.has_value());
  RecordQuery query;
  query.where = &*where;
  auto page = ut->store().Query(*(*applied)->Find("comments"), query);
  REQUIRE(page.has_value());
  CHECK(page->total == 2);

  SECTION("text back to number keeps numeric text and zeroes the rest") {
    Collection again = *articles;
    for (auto& f : again.fields) {
      if (f.name == "headline" || f.name == "views") f.type = FieldType::kNumber;
    }
    again.indexes.clear();
    auto reapplied = ut->store().ApplySchema({{*articles, again}}, (*applied)->version, "test",
                                             T(1'700'000'200));
    REQUIRE(reapplied.has_value());
    const Collection& c = *(*reapplied)->Find("articles");
    CHECK(*(*ut->store().Get(c, "p2", nullptr))->Get(c, "views") == JsonValue::Number(2.5));
    CHECK(*(*ut->store().Get(c, "p1", nullptr))->Get(c, "headline") == N(0));
  }
}

TEST_CASE("contract: a unique index over duplicates is refused and changes nothing",
          "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  const auto history_before = ut->store().History()->size();
  Collection after = *blog.posts;
  after.indexes.push_back(CollectionIndex{"idx_posts_unique_views", true, {{"views", false}}, {}});
  auto applied =
      ut->store().ApplySchema({{*blog.posts, after}}, blog.schema->version, "test", T(1));
  REQUIRE_FALSE(applied.has_value());
  CHECK(applied.error().code == ErrorCode::kInvalidArgument);
  auto schema = ut->store().Schema();
  CHECK((*schema)->version == blog.schema->version);
  CHECK(*(*schema)->Find("posts") == *blog.posts);
  CHECK(ut->store().History()->size() == history_before);
}

TEST_CASE("contract: deleting a collection drops its records", "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Blog blog = SeedBlog(ut->store());
  auto applied = ut->store().ApplySchema({{*blog.comments, std::nullopt}}, blog.schema->version,
                                         "test", T(2));
  REQUIRE(applied.has_value());
  CHECK((*applied)->Find("comments") == nullptr);
  // A new collection of the same name starts empty.
  SchemaPtr schema = Create(ut->store(), {Comments()});
  RecordQuery all;
  auto page = ut->store().Query(*schema->Find("comments"), all);
  REQUIRE(page.has_value());
  CHECK(page->total == 0);
}

TEST_CASE("contract: a partial unique index ignores empty values", "[contract][project]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  Collection members = MakeCollection("pbc_members", "members",
                                      {MakeField("f_email", "email", FieldType::kEmail),
                                       MakeField("f_name", "name", FieldType::kText)});
  members.indexes.push_back(CollectionIndex{"idx_members_email", true, {{"email", false}}, {"email"}});
  SchemaPtr schema = Create(ut->store(), {members});
  const Collection& stored = *schema->Find("members");
  CHECK(stored.indexes.front().where_not_empty == std::vector<std::string>{"email"});
  // Any number of records may leave the e-mail empty...
  Insert(ut->store(), stored,
         {Make(stored, "m1", {{"name", S("a")}}), Make(stored, "m2", {{"name", S("b")}}),
          Make(stored, "m3", {{"email", S("x@example.com")}})});
  // ...but a non-empty one stays unique, on insert and on update.
  auto duplicate = ut->store().Write([&](RecordTransaction& tx) {
    return tx.Insert(stored, Make(stored, "m4", {{"email", S("x@example.com")}}));
  });
  REQUIRE_FALSE(duplicate.has_value());
  CHECK(duplicate.error().code == ErrorCode::kInvalidArgument);
  REQUIRE_FALSE(duplicate.error().fields.empty());
  CHECK(duplicate.error().fields.front().code == "validation_not_unique");
  auto updated = ut->store().Write([&](RecordTransaction& tx) {
    return tx.Update(stored, Make(stored, "m1", {{"email", S("x@example.com")}}));
  });
  REQUIRE_FALSE(updated.has_value());
  CHECK(updated.error().code == ErrorCode::kInvalidArgument);

  // Adding such an index over existing duplicate empties succeeds; over real duplicates not.
  Collection plain = stored;
  plain.indexes.clear();
  plain.indexes.push_back(CollectionIndex{"idx_members_name", true, {{"name", false}}, {"name"}});
  Insert(ut->store(), stored, {Make(stored, "m5", {{"name", S("a")}})});
  auto refused = ut->store().ApplySchema({{stored, plain}}, schema->version, "test", T(2));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  plain.indexes.front().where_not_empty = {"email"};
  plain.indexes.front().columns = {{"email", false}};
  auto accepted = ut->store().ApplySchema({{stored, plain}}, schema->version, "test", T(2));
  INFO((accepted ? std::string() : accepted.error().message + " / " + accepted.error().internal));
  CHECK(accepted.has_value());
}
