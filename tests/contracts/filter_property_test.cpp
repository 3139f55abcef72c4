// Property test of the filter language: on generated data, generated filters and sorts must
// select the same records in the same order from the memory store (the domain's in-memory
// evaluator), the SQLite store and the PostgreSQL store (their SQL compilers).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "socle/domain/filter/resolver.hpp"
#include "support/postgres_test_database.hpp"
#include "support/temp_dir.hpp"

using namespace socle;
using namespace socle::domain;
using application::CollectionChange;
using application::ProjectStore;
using application::RecordQuery;
using application::RecordTransaction;

namespace {

constexpr int kUsers = 8;
constexpr int kItems = 60;
constexpr int kFilters = 400;
constexpr int kSorts = 60;

Field MakeField(std::string name, FieldType type) {
  Field field;
  field.id = "f_" + name;
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
  return collection;
}

std::vector<Collection> Schema() {
  Field tags = MakeField("tags", FieldType::kSelect);
  tags.values = {"a", "b", "c", "d", "e"};
  tags.max_select = 3;
  Field owner = MakeField("owner", FieldType::kRelation);
  owner.collection_id = "pbc_users";
  owner.max_select = 1;
  Field owners = MakeField("owners", FieldType::kRelation);
  owners.collection_id = "pbc_users";
  owners.max_select = 3;
  Field boss = MakeField("boss", FieldType::kRelation);
  boss.collection_id = "pbc_users";
  boss.max_select = 1;
  return {
      MakeCollection("pbc_users", "users",
                     {MakeField("name", FieldType::kText), MakeField("age", FieldType::kNumber),
                      boss}),
      MakeCollection("pbc_items", "items",
                     {MakeField("title", FieldType::kText), MakeField("n", FieldType::kNumber),
                      MakeField("flag", FieldType::kBool), MakeField("when", FieldType::kDate),
                      tags, owner, owners, MakeField("data", FieldType::kJson)}),
  };
}

template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& from) {
  return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
}

const std::vector<std::string> kTexts{"", "a", "A", "ab", "b", "Ba", "é", "a%b", "a_b", "zz", "AB"};
const std::vector<double> kNumbers{-2, -1, 0, 0.5, 1, 2, 10};
const std::vector<std::string> kDates{"", "2023-01-01 00:00:00.000Z", "2024-06-15 12:30:00.000Z",
                                      "2024-06-15 12:30:00.001Z"};

JsonValue Num(double value) {
  if (value == static_cast<double>(static_cast<std::int64_t>(value))) {
    return JsonValue::Integer(static_cast<std::int64_t>(value));
  }
  return JsonValue::Number(value);
}

JsonValue Subset(std::mt19937& rng, const std::vector<std::string>& from, std::size_t max) {
  std::vector<std::string> pool = from;
  std::shuffle(pool.begin(), pool.end(), rng);
  const auto count = std::uniform_int_distribution<std::size_t>(0, max)(rng);
  std::vector<JsonValue> items;
  for (std::size_t i = 0; i < count && i < pool.size(); ++i) items.push_back(JsonValue::String(pool[i]));
  return JsonValue::Array(std::move(items));
}

std::string UserId(int i) { return "user" + std::string(10, '0') + std::to_string(i); }
std::string ItemId(int i) {
  std::string n = std::to_string(i);
  return "item" + std::string(11 - n.size(), '0') + n;
}

// The generated records of both collections.
std::pair<std::vector<Record>, std::vector<Record>> Data(const SchemaPtr& schema,
                                                         std::mt19937& rng) {
  const Collection& users = *schema->Find("users");
  const Collection& items = *schema->Find("items");
  std::vector<std::string> user_ids;
  for (int i = 0; i < kUsers; ++i) user_ids.push_back(UserId(i));
  std::vector<Record> user_records;
  for (int i = 0; i < kUsers; ++i) {
    Record r = EmptyRecord(users);
    r.values[*users.FieldIndex("id")] = JsonValue::String(UserId(i));
    r.values[*users.FieldIndex("name")] = JsonValue::String(Pick(rng, kTexts));
    r.values[*users.FieldIndex("age")] = Num(Pick(rng, kNumbers));
    if (rng() % 2 == 0) r.values[*users.FieldIndex("boss")] = JsonValue::String(Pick(rng, user_ids));
    user_records.push_back(std::move(r));
  }
  const std::vector<JsonValue> json_values{
      JsonValue::Null(),
      JsonValue::Object({{"k", JsonValue::Integer(1)}}),
      JsonValue::Object({{"k", JsonValue::String("x")}}),
      JsonValue::Object({{"k", JsonValue::Bool(true)}, {"m", JsonValue::Number(2.5)}}),
      JsonValue::Array({JsonValue::Integer(1), JsonValue::Integer(2)}),
      JsonValue::String("s"),
      JsonValue::Integer(3),
  };
  std::vector<Record> item_records;
  for (int i = 0; i < kItems; ++i) {
    Record r = EmptyRecord(items);
    auto set = [&](const char* name, JsonValue value) {
      r.values[*items.FieldIndex(name)] = std::move(value);
    };
    set("id", JsonValue::String(ItemId(i)));
    set("title", JsonValue::String(Pick(rng, kTexts)));
    set("n", Num(Pick(rng, kNumbers)));
    set("flag", JsonValue::Bool(rng() % 2 == 0));
    set("when", JsonValue::String(Pick(rng, kDates)));
    set("tags", Subset(rng, {"a", "b", "c", "d", "e"}, 3));
    if (rng() % 4 != 0) set("owner", JsonValue::String(Pick(rng, user_ids)));
    set("owners", Subset(rng, user_ids, 3));
    set("data", Pick(rng, json_values));
    item_records.push_back(std::move(r));
  }
  return {std::move(user_records), std::move(item_records)};
}

std::string Quote(const std::string& text) { return "'" + text + "'"; }

// One random comparison over the items collection.
std::string Comparison(std::mt19937& rng) {
  const std::vector<std::string> ops{"=", "!=", ">", ">=", "<", "<=", "~", "!~"};
  auto op = [&] { return Pick(rng, ops); };
  auto any_op = [&] { return "?" + Pick(rng, ops); };
  auto text = [&] { return Quote(Pick(rng, kTexts)); };
  auto number = [&] {
    std::ostringstream out;
    out << Pick(rng, kNumbers);
    return out.str();
  };
  switch (rng() % 22) {
    case 0: return "title " + op() + " " + text();
    case 1: return "n " + op() + " " + number();
    case 2: return "flag " + std::string(rng() % 2 ? "=" : "!=") + (rng() % 2 ? " true" : " false");
    case 3: return "when " + op() + " " + Quote(Pick(rng, kDates));
    case 4: return "tags " + op() + " " + Quote(std::string(1, static_cast<char>('a' + rng() % 5)));
    case 5: return "tags " + any_op() + " " + Quote(std::string(1, static_cast<char>('a' + rng() % 5)));
    case 6: return "owner.name " + op() + " " + text();
    case 7: return "owner.age " + op() + " " + number();
    case 8: return "owners.age " + any_op() + " " + number();
    case 9: return "owners.name " + op() + " " + text();
    case 10: return "owner.boss.name " + op() + " " + text();
    case 11: return "tags:length " + op() + " " + std::to_string(rng() % 4);
    case 12: return "title:lower " + op() + " " + text();
    case 13: return "data.k " + op() + " " + (rng() % 2 ? number() : Quote("x"));
    case 14: return std::string(rng() % 2 ? "title" : "owner") + (rng() % 2 ? " = null" : " != null");
    case 15: return "when " + std::string(rng() % 2 ? "=" : "!=") + " null";
    case 16: return "n " + op() + " owner.age";
    case 17: return "title " + op() + " owner.name";
    case 18: return "@collection.users.age " + op() + " " + number() + " && @collection.users.id ?= owners";
    case 19: return "owners " + std::string(rng() % 2 ? "?=" : "=") + " owner";
    case 20: return "data " + std::string(rng() % 2 ? "=" : "!=") + " null";
    default: return "id " + op() + " " + Quote(ItemId(static_cast<int>(rng() % kItems)));
  }
}

std::string Expression(std::mt19937& rng, int depth) {
  if (depth == 0 || rng() % 3 == 0) return Comparison(rng);
  const char* join = rng() % 2 ? " && " : " || ";
  std::string left = Expression(rng, depth - 1);
  std::string right = Expression(rng, depth - 1);
  if (rng() % 2) return "(" + left + ")" + join + "(" + right + ")";
  return left + join + right;
}

std::string Sort(std::mt19937& rng) {
  const std::vector<std::string> keys{"title", "n", "flag", "when", "owner", "owner.name",
                                      "owner.age", "owner.boss.name", "created", "id"};
  std::string out;
  const auto terms = 1 + rng() % 3;
  for (std::size_t i = 0; i < terms; ++i) {
    if (!out.empty()) out += ",";
    if (rng() % 2) out += "-";
    out += Pick(rng, keys);
  }
  return out;
}

// A store under comparison and what keeps it alive.
struct Subject {
  std::string name;
  std::shared_ptr<ProjectStore> store;
};

Project TestProject() {
  return Project{Id::Parse("propertyproj001").value(), Slug::Parse("property").value(),
                 DisplayName::Parse("Property").value(), Id::Parse("org000000000001").value(),
                 Slug::Parse("acme").value(), {}, {}};
}

void Seed(ProjectStore& store, const std::vector<Record>& users, const std::vector<Record>& items) {
  auto schema = store.Schema();
  REQUIRE(schema.has_value());
  std::vector<CollectionChange> changes;
  for (auto& collection : Schema()) changes.push_back({std::nullopt, collection});
  auto applied = store.ApplySchema(changes, (*schema)->version, "test", Timestamp());
  INFO((applied ? std::string() : applied.error().message + " " + applied.error().internal));
  REQUIRE(applied.has_value());
  const Collection& u = *(*applied)->Find("users");
  const Collection& it = *(*applied)->Find("items");
  auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
    for (const auto& r : users) {
      if (auto d = tx.Insert(u, r); !d) return d;
    }
    for (const auto& r : items) {
      if (auto d = tx.Insert(it, r); !d) return d;
    }
    return {};
  });
  INFO((done ? std::string() : done.error().message + " " + done.error().internal));
  REQUIRE(done.has_value());
}

std::vector<std::string> Run(ProjectStore& store, const std::string& where_text,
                             const std::string& sort_text, bool* compiled) {
  auto schema = *store.Schema();
  const Collection& items = *schema->Find("items");
  std::optional<filter::ResolvedFilter> where;
  if (!where_text.empty()) {
    auto resolved = filter::Compile(where_text, schema, items, {});
    if (!resolved) {
      *compiled = false;
      return {};
    }
    where = std::move(*resolved);
  }
  auto sort = filter::ResolveSort(sort_text, schema, items);
  REQUIRE(sort.has_value());
  *compiled = true;
  RecordQuery query;
  query.where = where ? &*where : nullptr;
  query.sort = std::move(*sort);
  query.limit = 1000;
  auto page = store.Query(items, query);
  INFO(where_text);
  INFO((page ? std::string() : page.error().message + " " + page.error().internal));
  REQUIRE(page.has_value());
  std::vector<std::string> ids;
  for (const auto& record : page->items) ids.push_back(record.Id(items));
  CHECK(page->total == static_cast<std::int64_t>(ids.size()));
  return ids;
}

}  // namespace

TEST_CASE("filters and sorts select the same records in every store", "[contract][property]") {
  const auto seed = static_cast<std::uint32_t>(GENERATE(1, 2, 3));
  std::mt19937 rng(seed);
  const auto schema = std::make_shared<ProjectSchema>(ProjectSchema{Schema(), 1});
  auto [users, items] = Data(schema, rng);

  adapters::memory::MemoryProjectStores memory;
  testing::TempDir dir;
  adapters::sqlite::SqliteProjectStores sqlite({.data_dir = dir.path().string()});
  testing::PostgresTestDatabase database;
  auto catalogue = adapters::postgres::PostgresCatalogueStore::Open({.url = database.url()});
  REQUIRE(catalogue.has_value());
  REQUIRE((*catalogue)->Migrate().has_value());
  // The project's schema is created with the project by the catalogue.
  REQUIRE((*catalogue)->InsertOrganisation(Organisation{
      TestProject().org_id, TestProject().org_slug, DisplayName::Parse("Acme").value(),
      Slug::Parse("local").value(), IsolationTier::kShared, {}, {}}));
  REQUIRE((*catalogue)->InsertProject(TestProject()));
  auto postgres = adapters::postgres::PostgresProjectStores::Connect({.url = database.url(), .pool_size = 4});
  REQUIRE(postgres.has_value());

  std::vector<Subject> subjects;
  subjects.push_back({"memory", *memory.Open(TestProject())});
  subjects.push_back({"sqlite", *sqlite.Open(TestProject())});
  subjects.push_back({"postgres", *(*postgres)->Open(TestProject())});
  for (auto& subject : subjects) Seed(*subject.store, users, items);

  int compiled_count = 0;
  for (int i = 0; i < kFilters + kSorts; ++i) {
    const std::string where = i < kFilters ? Expression(rng, 3) : std::string();
    const std::string sort = i < kFilters ? (rng() % 3 == 0 ? Sort(rng) : "") : Sort(rng);
    INFO("seed " << seed << " filter: " << where << "  sort: " << sort);
    bool compiled = false;
    const auto expected = Run(*subjects[0].store, where, sort, &compiled);
    if (!compiled) continue;
    ++compiled_count;
    for (std::size_t s = 1; s < subjects.size(); ++s) {
      bool ok = false;
      const auto got = Run(*subjects[s].store, where, sort, &ok);
      INFO(subjects[s].name);
      CHECK(got == expected);
    }
  }
  // The generator must exercise the stores, not the resolver's error paths.
  CHECK(compiled_count > (kFilters + kSorts) * 8 / 10);
}
