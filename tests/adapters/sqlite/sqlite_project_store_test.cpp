// SqliteProjectStores beyond the ProjectStore contract: files and their modes, reopening and
// closing, the DDL of every kind of schema change, value conversions, unique violations, the
// SQL the filter compiler produces (hand-built resolved trees, checked against the domain's
// evaluator), statement caches, and concurrent readers and writers.
#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <initializer_list>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "socle/adapters/sqlite/project_database_path.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "socle/domain/filter/evaluator.hpp"
#include "socle/domain/filter/resolver.hpp"
#include "sqlite_filter_compiler.hpp"
#include "sqlite_value_codec.hpp"
#include "support/temp_dir.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::sqlite::SqliteProjectStoreOptions;
using adapters::sqlite::SqliteProjectStores;
using application::CollectionChange;
using application::ProjectStore;
using application::RecordQuery;
using application::RecordTransaction;
using socle::testing::TempDir;

namespace {

namespace fs = std::filesystem;
namespace flt = domain::filter;

// A raw sqlite3 handle, to look at the file behind the store's back.
class RawDb {
 public:
  explicit RawDb(const fs::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      throw std::runtime_error("open failed: " + path.string());
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " in " + sql);
    }
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  std::vector<std::string> Column(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " in " + sql);
    }
    std::vector<std::string> out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      out.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "<null>");
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// How many of this process's file descriptors are open on `file` (Linux /proc).
int OpenHandles(const fs::path& file) {
  const std::string target = fs::weakly_canonical(file).string();
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto link = fs::read_symlink(entry.path(), ec);
    if (ec) continue;
    const std::string name = link.string();
    if (name == target || name == target + " (deleted)") ++count;
  }
  return count;
}

unsigned Mode(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw std::runtime_error("stat " + path.string());
  return info.st_mode & 0777U;
}

Timestamp T(std::int64_t seconds) { return Timestamp::FromUnixMicros(seconds * 1'000'000); }

Project MakeProject(std::string_view id) {
  return Project{Id::Parse(id).value(), Slug::Parse("proj").value(),
                 DisplayName::Parse("Project").value(), Id::Parse("org000000000001").value(),
                 Slug::Parse("acme").value(), {}, {}};
}

fs::path DatabaseOf(const TempDir& dir, std::string_view project_id) {
  return adapters::sqlite::ProjectDatabasePath(dir.path() / "catalogue.db",
                                               Id::Parse(project_id).value());
}

Field MakeField(std::string id, std::string name, FieldType type) {
  Field field;
  field.id = std::move(id);
  field.name = std::move(name);
  field.type = type;
  return field;
}

Field Multi(Field field, std::int64_t max_select = 5) {
  field.max_select = max_select;
  return field;
}

Field Relation(std::string id, std::string name, std::string target, std::int64_t max_select) {
  Field field = MakeField(std::move(id), std::move(name), FieldType::kRelation);
  field.collection_id = std::move(target);
  field.max_select = max_select;
  return field;
}

Collection MakeCollection(std::string id, std::string name, std::vector<Field> fields) {
  Collection collection;
  collection.id = std::move(id);
  collection.name = std::move(name);
  collection.fields = SystemFields();
  for (auto& field : fields) collection.fields.push_back(std::move(field));
  collection.created = T(1'700'000'000);
  collection.updated = T(1'700'000'000);
  return collection;
}

JsonValue S(std::string text) { return JsonValue::String(std::move(text)); }
JsonValue N(std::int64_t value) { return JsonValue::Integer(value); }
JsonValue D(double value) { return JsonValue::Number(value); }
JsonValue B(bool value) { return JsonValue::Bool(value); }
JsonValue Strings(std::initializer_list<const char*> items) {
  std::vector<JsonValue> out;
  for (const char* item : items) out.push_back(S(item));
  return JsonValue::Array(std::move(out));
}

Record Make(const Collection& collection, std::string id,
            std::initializer_list<std::pair<const char*, JsonValue>> values) {
  Record record = EmptyRecord(collection);
  record.values[collection.FieldIndex("id").value()] = S(std::move(id));
  for (const auto& [name, value] : values) {
    auto index = collection.FieldIndex(name);
    if (!index) throw std::runtime_error(std::string("no field ") + name);
    record.values[*index] = value;
  }
  return record;
}

std::string Describe(const Error& error) {
  std::string out = std::string(ToString(error.code)) + ": " + error.message + " / " +
                    error.internal;
  for (const auto& field : error.fields) out += " [" + field.field + ": " + field.code + "]";
  return out;
}

std::shared_ptr<ProjectStore> OpenStore(SqliteProjectStores& stores, std::string_view id) {
  auto store = stores.Open(MakeProject(id));
  if (!store) throw std::runtime_error("open failed: " + Describe(store.error()));
  return *store;
}

SchemaPtr Apply(ProjectStore& store, std::vector<CollectionChange> changes) {
  auto schema = store.Schema();
  REQUIRE(schema.has_value());
  auto applied = store.ApplySchema(changes, (*schema)->version, "test", T(1'700'000'001));
  INFO((applied ? std::string() : Describe(applied.error())));
  REQUIRE(applied.has_value());
  return *applied;
}

SchemaPtr Create(ProjectStore& store, std::vector<Collection> collections) {
  std::vector<CollectionChange> changes;
  for (auto& collection : collections) changes.push_back({std::nullopt, std::move(collection)});
  return Apply(store, std::move(changes));
}

void Insert(ProjectStore& store, const Collection& collection, const std::vector<Record>& records) {
  auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
    for (const auto& record : records) {
      if (auto inserted = tx.Insert(collection, record); !inserted) return inserted;
    }
    return {};
  });
  INFO((done ? std::string() : Describe(done.error())));
  REQUIRE(done.has_value());
}

std::vector<Record> All(ProjectStore& store, const Collection& collection,
                        const flt::ResolvedFilter* where = nullptr) {
  RecordQuery query;
  query.where = where;
  query.limit = 10'000;
  auto page = store.Query(collection, query);
  INFO((page ? std::string() : Describe(page.error())));
  REQUIRE(page.has_value());
  CHECK(page->total == static_cast<std::int64_t>(page->items.size()));
  return page->items;
}

std::vector<std::string> Ids(const Collection& collection, const std::vector<Record>& records) {
  std::vector<std::string> ids;
  for (const auto& record : records) ids.push_back(record.Id(collection));
  return ids;
}

Record GetOne(ProjectStore& store, const Collection& collection, std::string_view id) {
  auto found = store.Get(collection, id, nullptr);
  INFO((found ? std::string() : Describe(found.error())));
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  return **found;
}

using V = std::vector<std::string>;

constexpr std::string_view kProject = "proj00000000001";

}  // namespace

// ---- files -----------------------------------------------------------------------------------

TEST_CASE("sqlite project: the database is created owner-only under projects/, in WAL mode",
          "[sqlite][project][files]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = (dir.path() / "data").string()});
  auto store = OpenStore(stores, kProject);
  const fs::path file = dir.path() / "data" / "projects" / (std::string(kProject) + ".db");
  REQUIRE(fs::exists(file));
  CHECK(Mode(file) == 0600);
  CHECK(Mode(file.parent_path()) == 0700);

  Create(*store, {MakeCollection("pbc_notes", "notes", {MakeField("f_t", "t", FieldType::kText)})});
  const fs::path wal = file.string() + "-wal";
  REQUIRE(fs::exists(wal));
  CHECK(Mode(wal) == 0600);

  RawDb raw(file);
  CHECK(raw.Text("PRAGMA journal_mode") == "wal");
  CHECK(raw.Column("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") ==
        V{"_audit", "_audit_anchor", "_collections", "_schema_history", "_schema_version",
          "notes"});
}

TEST_CASE("sqlite project: the path follows the catalogue's ProjectDatabasePath",
          "[sqlite][project][files]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  OpenStore(stores, "abc123def456ghi");
  CHECK(fs::exists(DatabaseOf(dir, "abc123def456ghi")));
}

TEST_CASE("sqlite project: a path that cannot be created is unavailable",
          "[sqlite][project][files]") {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "not a directory";
  SqliteProjectStores stores({.data_dir = (dir.path() / "file").string()});
  auto store = stores.Open(MakeProject(kProject));
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code == ErrorCode::kUnavailable);
  CHECK(stores.OpenCount() == 0);
}

TEST_CASE("sqlite project: reopening keeps the schema, the history and the records",
          "[sqlite][project][files]") {
  TempDir dir;
  const Collection notes = MakeCollection(
      "pbc_notes", "notes",
      {MakeField("f_t", "t", FieldType::kText), MakeField("f_n", "n", FieldType::kNumber),
       MakeField("f_j", "j", FieldType::kJson), Multi(MakeField("f_s", "s", FieldType::kSelect))});
  Record record = Make(notes, "r1",
                       {{"t", S("x")},
                        {"n", D(1.25)},
                        {"j", JsonValue::Object({{"a", Strings({"b"})}})},
                        {"s", Strings({"p", "q\"r", "back\\slash", "ü", ""})}});
  Record plain = Make(notes, "r2", {{"s", Strings({"p", "q"})}});
  Record empty = Make(notes, "r3", {});
  SchemaPtr created;
  {
    SqliteProjectStores stores({.data_dir = dir.path().string()});
    auto store = OpenStore(stores, kProject);
    created = Create(*store, {notes});
    Insert(*store, *created->Find("notes"), {record, plain, empty});
  }
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores, kProject);
  auto schema = store->Schema();
  REQUIRE(schema.has_value());
  CHECK((*schema)->version == 1);
  REQUIRE((*schema)->collections.size() == 1);
  CHECK((*schema)->collections[0] == notes);
  CHECK(GetOne(*store, (*schema)->collections[0], "r1") == record);
  CHECK(GetOne(*store, (*schema)->collections[0], "r2") == plain);
  CHECK(GetOne(*store, (*schema)->collections[0], "r3") == empty);
  auto history = store->History();
  REQUIRE(history.has_value());
  REQUIRE(history->size() == 1);
  CHECK((*history)[0].at == T(1'700'000'001));
  CHECK((*history)[0].change.after == notes);
}

TEST_CASE("sqlite project: Close releases the file and refuses later calls",
          "[sqlite][project][files]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string(), .pool_size = 3});
  const fs::path file = DatabaseOf(dir, kProject);
  auto store = OpenStore(stores, kProject);
  SchemaPtr schema =
      Create(*store, {MakeCollection("pbc_notes", "notes",
                                     {MakeField("f_t", "t", FieldType::kText)})});
  All(*store, *schema->Find("notes"));
  CHECK(OpenHandles(file) > 0);
  CHECK(stores.OpenCount() == 1);

  stores.Close(Id::Parse(kProject).value());
  CHECK(OpenHandles(file) == 0);
  CHECK(OpenHandles(file.string() + "-wal") == 0);
  CHECK(stores.OpenCount() == 0);
  auto refused = store->Schema();
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::kUnavailable);
  CHECK_FALSE(store->Query(*schema->Find("notes"), {}).has_value());

  // Closing again, or a project never opened, is harmless; the catalogue may delete the file
  // before or after, and the next Open starts from an empty project.
  stores.Close(Id::Parse(kProject).value());
  stores.Close(Id::Parse("zzzzzzzzzzzzzzz").value());
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
  auto fresh = OpenStore(stores, kProject);
  CHECK((*fresh->Schema())->version == 0);
  CHECK(fs::exists(file));
}

TEST_CASE("sqlite project: Close waits for the calls in progress", "[sqlite][project][files]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores, kProject);
  SchemaPtr schema =
      Create(*store, {MakeCollection("pbc_notes", "notes",
                                     {MakeField("f_t", "t", FieldType::kText)})});
  const Collection& notes = *schema->Find("notes");

  std::atomic<bool> close_returned{false};
  std::future<void> closing;
  auto written = store->Write([&](RecordTransaction& tx) -> Result<void> {
    closing = std::async(std::launch::async, [&] {
      stores.Close(Id::Parse(kProject).value());
      close_returned = true;
    });
    // Close has begun once new calls are refused; it cannot return while this call runs.
    while (store->Schema().has_value()) std::this_thread::yield();
    if (close_returned) return Fail(ErrorCode::kInternal, "Close returned during a call");
    return tx.Insert(notes, Make(notes, "r1", {{"t", S("kept")}}));
  });
  closing.get();
  INFO((written ? std::string() : Describe(written.error())));
  CHECK(written.has_value());
  CHECK(close_returned);
  CHECK(OpenHandles(DatabaseOf(dir, kProject)) == 0);

  // The write committed before the store closed.
  auto reopened = OpenStore(stores, kProject);
  auto again = reopened->Schema();
  CHECK(GetOne(*reopened, *(*again)->Find("notes"), "r1").values.size() == notes.fields.size());
}

TEST_CASE("sqlite project: beyond max_open_projects the least recently used idle one closes",
          "[sqlite][project][files]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string(), .max_open_projects = 2});
  OpenStore(stores, "aaaaaaaaaaaaaa1");
  auto held = OpenStore(stores, "aaaaaaaaaaaaaa2");
  OpenStore(stores, "aaaaaaaaaaaaaa3");
  CHECK(stores.OpenCount() == 2);
  CHECK(OpenHandles(DatabaseOf(dir, "aaaaaaaaaaaaaa1")) == 0);
  CHECK(OpenHandles(DatabaseOf(dir, "aaaaaaaaaaaaaa3")) > 0);

  // "2" is the least recently used but in use: "3" goes instead.
  OpenStore(stores, "aaaaaaaaaaaaaa4");
  CHECK(stores.OpenCount() == 2);
  CHECK(OpenHandles(DatabaseOf(dir, "aaaaaaaaaaaaaa2")) > 0);
  CHECK(OpenHandles(DatabaseOf(dir, "aaaaaaaaaaaaaa3")) == 0);
  CHECK((*held->Schema())->version == 0);

  // Opening an open project again gives the same store.
  auto again = OpenStore(stores, "aaaaaaaaaaaaaa2");
  CHECK(again == held);
}

TEST_CASE("sqlite project: concurrent opens of one project share one store",
          "[sqlite][project][files]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  std::vector<std::future<std::shared_ptr<ProjectStore>>> opening;
  for (int i = 0; i < 4; ++i) {
    opening.push_back(std::async(std::launch::async, [&] { return OpenStore(stores, kProject); }));
  }
  std::vector<std::shared_ptr<ProjectStore>> opened;
  for (auto& future : opening) opened.push_back(future.get());
  for (const auto& store : opened) CHECK(store == opened.front());
  CHECK(stores.OpenCount() == 1);
}

// ---- schema changes --------------------------------------------------------------------------

TEST_CASE("sqlite project: every kind of schema change keeps the data",
          "[sqlite][project][ddl]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores, kProject);
  const fs::path file = DatabaseOf(dir, kProject);

  Collection before = MakeCollection(
      "pbc_notes", "notes",
      {MakeField("f_a", "a", FieldType::kText), MakeField("f_b", "b", FieldType::kText),
       MakeField("f_n", "n", FieldType::kNumber), MakeField("f_gone", "gone", FieldType::kText),
       Multi(MakeField("f_tags", "tags", FieldType::kSelect)),
       MakeField("f_rowid", "rowid", FieldType::kText)});
  before.indexes.push_back(CollectionIndex{"idx_notes_a", true, {{"a", false}}, {}});
  before.indexes.push_back(CollectionIndex{"idx_notes_n", false, {{"n", true}}, {}});
  SchemaPtr schema = Create(*store, {before});
  Insert(*store, *schema->Find("notes"),
         {Make(before, "r1",
               {{"a", S("a1")}, {"b", S("b1")}, {"n", N(7)}, {"gone", S("x")},
                {"tags", Strings({"t1", "t2"})}, {"rowid", S("mine")}}),
          Make(before, "r2", {{"a", S("a2")}, {"b", S("b2")}, {"n", D(0.5)}})});

  // Names swapped (a ↔ b), a case-only table rename, a retyped indexed column, a field
  // removed and one added, a new index.
  Collection after = before;
  after.name = "Notes";
  const std::size_t a = after.FieldIndex("a").value();
  const std::size_t b = after.FieldIndex("b").value();
  after.fields[a].name = "b";
  after.fields[b].name = "a";
  after.fields[after.FieldIndex("n").value()].type = FieldType::kText;
  std::erase_if(after.fields, [](const Field& f) { return f.name == "gone"; });
  after.fields.push_back(MakeField("f_new", "fresh", FieldType::kBool));
  after.indexes = {CollectionIndex{"idx_notes_a", true, {{"b", false}}, {}},
                   CollectionIndex{"idx_notes_n", false, {{"n", true}}, {}},
                   CollectionIndex{"idx_notes_fresh", false, {{"fresh", false}, {"a", false}}, {}}};
  schema = Apply(*store, {{before, after}});
  const Collection& notes = *schema->Find("Notes");
  CHECK(notes.name == "Notes");

  const Record r1 = GetOne(*store, notes, "r1");
  CHECK(*r1.Get(notes, "b") == S("a1"));  // the field of id f_a, now named b
  CHECK(*r1.Get(notes, "a") == S("b1"));
  CHECK(*r1.Get(notes, "n") == S("7"));
  CHECK(*r1.Get(notes, "tags") == Strings({"t1", "t2"}));
  CHECK(*r1.Get(notes, "rowid") == S("mine"));
  CHECK(*r1.Get(notes, "fresh") == B(false));
  CHECK(r1.Get(notes, "gone") == nullptr);
  CHECK(*GetOne(*store, notes, "r2").Get(notes, "n") == S("0.5"));

  {
    RawDb raw(file);
    const std::string table = raw.Text("SELECT sql FROM sqlite_schema WHERE name = 'Notes'");
    CHECK(table.find("STRICT") != std::string::npos);
    CHECK(raw.Text("SELECT type FROM pragma_table_info('Notes') WHERE name = 'n'") == "TEXT");
    CHECK(raw.Text("SELECT type FROM pragma_table_info('Notes') WHERE name = 'fresh'") ==
          "INTEGER");
    CHECK(raw.Column("SELECT name FROM pragma_table_info('Notes') WHERE name = 'gone'").empty());
    // The collection's own indexes (the audit trail's are sqlite_audit_test's business).
    CHECK(raw.Column("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL"
                     " AND name NOT LIKE '\\_audit%' ESCAPE '\\' ORDER BY name") ==
          V{"idx_notes_a", "idx_notes_fresh", "idx_notes_n"});
    CHECK(raw.Column("SELECT name FROM pragma_index_info('idx_notes_a')") == V{"b"});
    // No temporary name survives.
    CHECK(raw.Column("SELECT name FROM sqlite_schema WHERE name LIKE '%$%'").empty());
    CHECK(raw.Column("SELECT name FROM pragma_table_info('Notes') WHERE name LIKE '%$%'").empty());
  }

  // The unique index moved with its column: b (formerly a) is still unique.
  auto duplicate = store->Write([&](RecordTransaction& tx) {
    return tx.Insert(notes, Make(notes, "r3", {{"b", S("a1")}}));
  });
  REQUIRE_FALSE(duplicate.has_value());
  CHECK(duplicate.error().code == ErrorCode::kInvalidArgument);

  // Deleting the collection drops the table.
  Apply(*store, {{notes, std::nullopt}});
  RawDb raw(file);
  CHECK(raw.Column("SELECT name FROM sqlite_schema WHERE name = 'Notes'").empty());
  CHECK(raw.Text("SELECT count(*) FROM _collections") == "0");
  CHECK(raw.Text("SELECT count(*) FROM _schema_history") == "3");
}

TEST_CASE("sqlite project: a failed schema change rolls everything back",
          "[sqlite][project][ddl]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores, kProject);
  const Collection before = MakeCollection(
      "pbc_notes", "notes",
      {MakeField("f_a", "a", FieldType::kText), MakeField("f_n", "n", FieldType::kNumber)});
  const Collection other = MakeCollection("pbc_other", "other", {});
  SchemaPtr schema = Create(*store, {before});
  Insert(*store, *schema->Find("notes"),
         {Make(before, "r1", {{"a", S("same")}, {"n", N(1)}}),
          Make(before, "r2", {{"a", S("same")}, {"n", N(2)}})});
  const std::string table_sql =
      RawDb(DatabaseOf(dir, kProject)).Text("SELECT sql FROM sqlite_schema WHERE name = 'notes'");

  // Several changes in one call: the second fails on duplicates, so the first (a new
  // collection) and the alterations before the index are undone as well.
  Collection after = before;
  after.name = "renamed";
  after.fields[after.FieldIndex("n").value()].type = FieldType::kText;
  after.indexes.push_back(CollectionIndex{"idx_a", false, {{"n", false}}, {}});
  after.indexes.push_back(CollectionIndex{"idx_unique_a", true, {{"a", false}}, {}});
  auto failed = store->ApplySchema({{std::nullopt, other}, {before, after}}, schema->version,
                                   "test", T(5));
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().code == ErrorCode::kInvalidArgument);
  REQUIRE(failed.error().fields.size() == 1);
  CHECK(failed.error().fields[0].field == "indexes.1");

  CHECK((*store->Schema())->version == schema->version);
  CHECK((*store->Schema())->collections.size() == 1);
  CHECK(store->History()->size() == 1);
  RawDb raw(DatabaseOf(dir, kProject));
  CHECK(raw.Text("SELECT sql FROM sqlite_schema WHERE name = 'notes'") == table_sql);
  CHECK(raw.Column("SELECT name FROM sqlite_schema WHERE name IN ('other', 'renamed')").empty());
  CHECK(*GetOne(*store, *schema->Find("notes"), "r2").Get(*schema->Find("notes"), "n") == N(2));

  // A stale version is refused before anything runs.
  auto stale = store->ApplySchema({{std::nullopt, other}}, schema->version - 1, "test", T(6));
  REQUIRE_FALSE(stale.has_value());
  CHECK(stale.error().code == ErrorCode::kAborted);
}

TEST_CASE("sqlite project: view collections are recorded without a table",
          "[sqlite][project][ddl]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores, kProject);
  Collection view =
      MakeCollection("pbc_view", "summary", {MakeField("f_t", "t", FieldType::kText)});
  view.type = CollectionType::kView;
  view.view_query = "SELECT id, t FROM notes";
  SchemaPtr schema = Create(*store, {view});
  REQUIRE(schema->Find("summary") != nullptr);
  CHECK(RawDb(DatabaseOf(dir, kProject))
            .Column("SELECT name FROM sqlite_schema WHERE name = 'summary'")
            .empty());
  auto page = store->Query(*schema->Find("summary"), {});
  REQUIRE_FALSE(page.has_value());
  CHECK(page.error().code == ErrorCode::kFailedPrecondition);
}

// ---- conversions -----------------------------------------------------------------------------

TEST_CASE("sqlite project: values convert between storage classes as specified",
          "[sqlite][project][convert]") {
  using adapters::sqlite::ConvertValue;
  using SC = StorageClass;
  struct Case {
    JsonValue value;
    SC from;
    SC to;
    JsonValue expected;
  };
  const std::vector<Case> cases = {
      // text-ish → number: the whole text as a finite number, else 0
      {S("12"), SC::kText, SC::kNumber, N(12)},
      {S("12.5"), SC::kText, SC::kNumber, D(12.5)},
      {S("-1e3"), SC::kText, SC::kNumber, N(-1000)},
      {S("12abc"), SC::kText, SC::kNumber, N(0)},
      {S(" 12"), SC::kText, SC::kNumber, N(0)},
      {S(""), SC::kText, SC::kNumber, N(0)},
      {S("1e400"), SC::kText, SC::kNumber, N(0)},
      {S("nan"), SC::kText, SC::kNumber, N(0)},
      {S("2024-01-02 10:00:00.000Z"), SC::kDate, SC::kNumber, N(0)},
      // number → text: shortest decimal
      {N(12), SC::kNumber, SC::kText, S("12")},
      {D(12.5), SC::kNumber, SC::kText, S("12.5")},
      {D(0.1), SC::kNumber, SC::kText, S("0.1")},
      {D(1e300), SC::kNumber, SC::kText, S("1e+300")},
      // bool ↔ text, number
      {B(true), SC::kBool, SC::kText, S("true")},
      {B(false), SC::kBool, SC::kText, S("false")},
      {S("true"), SC::kText, SC::kBool, B(true)},
      {S("1"), SC::kText, SC::kBool, B(true)},
      {S("TRUE"), SC::kText, SC::kBool, B(false)},
      {S("yes"), SC::kText, SC::kBool, B(false)},
      {N(0), SC::kNumber, SC::kBool, B(false)},
      {D(-0.5), SC::kNumber, SC::kBool, B(true)},
      {B(true), SC::kBool, SC::kNumber, N(1)},
      {B(false), SC::kBool, SC::kNumber, N(0)},
      // dates
      {S("2024-01-02 10:00:00.000Z"), SC::kDate, SC::kText, S("2024-01-02 10:00:00.000Z")},
      {S("2024-01-02T10:00:00Z"), SC::kText, SC::kDate, S("2024-01-02 10:00:00.000Z")},
      {S("tomorrow"), SC::kText, SC::kDate, S("")},
      {N(5), SC::kNumber, SC::kDate, S("")},
      // anything → json
      {S("x"), SC::kText, SC::kJson, S("x")},
      {S(""), SC::kText, SC::kJson, S("")},
      {N(3), SC::kNumber, SC::kJson, N(3)},
      {B(false), SC::kBool, SC::kJson, B(false)},
      {Strings({"a", "b"}), SC::kTextArray, SC::kJson, Strings({"a", "b"})},
      {S(""), SC::kDate, SC::kJson, JsonValue::Null()},
      // json → text: strings unquoted, other values compact JSON, null ""
      {S("abc"), SC::kJson, SC::kText, S("abc")},
      {JsonValue::Object({{"a", N(1)}}), SC::kJson, SC::kText, S(R"({"a":1})")},
      {JsonValue::Array({N(1), S("x")}), SC::kJson, SC::kText, S(R"([1,"x"])")},
      {JsonValue::Null(), SC::kJson, SC::kText, S("")},
      {N(5), SC::kJson, SC::kText, S("5")},
      {B(true), SC::kJson, SC::kBool, B(true)},
      {S("7"), SC::kJson, SC::kNumber, N(7)},
      // single ↔ multiple
      {S(""), SC::kText, SC::kTextArray, JsonValue::Array({})},
      {S("u1"), SC::kText, SC::kTextArray, Strings({"u1"})},
      {N(3), SC::kNumber, SC::kTextArray, Strings({"3"})},
      {JsonValue::Array({N(1), S("x")}), SC::kJson, SC::kTextArray, Strings({"1", "x"})},
      {JsonValue::Null(), SC::kJson, SC::kTextArray, JsonValue::Array({})},
      {Strings({"a", "b"}), SC::kTextArray, SC::kText, S("a")},
      {JsonValue::Array({}), SC::kTextArray, SC::kText, S("")},
      {Strings({"5"}), SC::kTextArray, SC::kNumber, N(5)},
      {Strings({"true"}), SC::kTextArray, SC::kBool, B(true)},
  };
  for (const auto& c : cases) {
    INFO("case from " << static_cast<int>(c.from) << " to " << static_cast<int>(c.to));
    const JsonValue converted = ConvertValue(c.value, c.from, c.to);
    CHECK(converted == c.expected);
    CHECK(converted.type() == c.expected.type());
    // Integral numbers come back as Integer, the canonical form of record.hpp.
    if (c.expected.AsInt64()) CHECK(converted.AsInt64() == c.expected.AsInt64());
  }
}

TEST_CASE("sqlite project: retyping a column converts every row, beyond one batch",
          "[sqlite][project][convert]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores, kProject);
  Collection before = MakeCollection(
      "pbc_notes", "notes",
      {MakeField("f_v", "v", FieldType::kText), MakeField("f_j", "j", FieldType::kJson),
       Relation("f_r", "r", "pbc_notes", 1)});
  SchemaPtr schema = Create(*store, {before});
  std::vector<Record> records;
  for (int i = 0; i < 1200; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "r%014d", i);
    records.push_back(Make(before, id,
                           {{"v", S(i % 3 == 0 ? "oops" : std::to_string(i) + ".5")},
                            {"j", i % 2 == 0 ? JsonValue::Array({S("x"), N(i)}) : JsonValue()},
                            {"r", S(i % 4 == 0 ? "" : "r00000000000000")}}));
  }
  Insert(*store, *schema->Find("notes"), records);

  Collection after = before;
  after.fields[after.FieldIndex("v").value()].type = FieldType::kNumber;
  after.fields[after.FieldIndex("j").value()].type = FieldType::kText;
  after.fields[after.FieldIndex("r").value()].max_select = 9;
  schema = Apply(*store, {{before, after}});
  const Collection& notes = *schema->Find("notes");
  const auto all = All(*store, notes);
  REQUIRE(all.size() == 1200);
  for (int i = 0; i < 1200; ++i) {
    const Record& record = all[static_cast<std::size_t>(i)];
    INFO(i);
    CHECK(*record.Get(notes, "v") == (i % 3 == 0 ? N(0) : D(i + 0.5)));
    CHECK(*record.Get(notes, "j") ==
          (i % 2 == 0 ? S("[\"x\"," + std::to_string(i) + "]") : S("")));
    CHECK(*record.Get(notes, "r") ==
          (i % 4 == 0 ? JsonValue::Array({}) : Strings({"r00000000000000"})));
  }
  RawDb raw(DatabaseOf(dir, kProject));
  CHECK(raw.Text("SELECT typeof(v) FROM notes WHERE id = 'r00000000000001'") == "real");
}

// ---- writes ----------------------------------------------------------------------------------

TEST_CASE("sqlite project: unique violations name the index's fields, a taken id already exists",
          "[sqlite][project][errors]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores, kProject);
  Collection people = MakeCollection(
      "pbc_people", "people",
      {MakeField("f_first", "first", FieldType::kText),
       MakeField("f_last", "last", FieldType::kText),
       MakeField("f_mail", "mail", FieldType::kEmail)});
  people.indexes.push_back(
      CollectionIndex{"idx_people_name", true, {{"first", false}, {"last", true}}, {}});
  people.indexes.push_back(CollectionIndex{"idx_people_mail", true, {{"mail", false}}, {}});
  SchemaPtr schema = Create(*store, {people});
  const Collection& c = *schema->Find("people");
  Insert(*store, c,
         {Make(c, "p1", {{"first", S("Ada")}, {"last", S("L")}, {"mail", S("a@x.io")}}),
          Make(c, "p2", {{"first", S("Bob")}, {"last", S("L")}, {"mail", S("b@x.io")}})});

  auto write = [&](auto&& work) { return store->Write(work); };
  auto name = write([&](RecordTransaction& tx) {
    return tx.Insert(
        c, Make(c, "p3", {{"first", S("Ada")}, {"last", S("L")}, {"mail", S("c@x.io")}}));
  });
  REQUIRE_FALSE(name.has_value());
  CHECK(name.error().code == ErrorCode::kInvalidArgument);
  REQUIRE(name.error().fields.size() == 2);
  CHECK(name.error().fields[0] ==
        FieldError{"first", "validation_not_unique", "Value must be unique."});
  CHECK(name.error().fields[1] ==
        FieldError{"last", "validation_not_unique", "Value must be unique."});
  CHECK(name.error().internal.find("UNIQUE") != std::string::npos);

  auto mail = write([&](RecordTransaction& tx) {
    return tx.Update(c, Make(c, "p2", {{"first", S("Bob")}, {"mail", S("a@x.io")}}));
  });
  REQUIRE_FALSE(mail.has_value());
  REQUIRE(mail.error().fields.size() == 1);
  CHECK(mail.error().fields[0].field == "mail");

  auto id = write([&](RecordTransaction& tx) {
    return tx.Insert(c, Make(c, "p1", {{"mail", S("z@x.io")}}));
  });
  REQUIRE_FALSE(id.has_value());
  CHECK(id.error().code == ErrorCode::kAlreadyExists);
  CHECK(id.error().fields.empty());

  // A record whose shape does not match its collection is a bug upstream, never stored.
  auto shape = write([&](RecordTransaction& tx) {
    Record record = Make(c, "p9", {});
    record.values.pop_back();
    return tx.Insert(c, record);
  });
  REQUIRE_FALSE(shape.has_value());
  CHECK(shape.error().code == ErrorCode::kInternal);
  auto type = write([&](RecordTransaction& tx) {
    return tx.Insert(c, Make(c, "p9", {{"first", N(1)}}));
  });
  REQUIRE_FALSE(type.has_value());
  CHECK(type.error().code == ErrorCode::kInternal);
  CHECK(All(*store, c).size() == 2);
}

TEST_CASE("sqlite project: a schema changed by another process makes a write retry",
          "[sqlite][project][concurrency]") {
  TempDir dir;
  SqliteProjectStores here({.data_dir = dir.path().string()});
  SqliteProjectStores there({.data_dir = dir.path().string()});
  auto store = OpenStore(here, kProject);
  const Collection notes =
      MakeCollection("pbc_notes", "notes", {MakeField("f_t", "t", FieldType::kText)});
  SchemaPtr old_schema = Create(*store, {notes});

  auto other = OpenStore(there, kProject);
  Collection renamed = notes;
  renamed.fields.back().name = "title";
  Apply(*other, {{notes, renamed}});

  const Collection& stale = *old_schema->Find("notes");
  auto refused = store->Write([&](RecordTransaction& tx) {
    return tx.Insert(stale, Make(stale, "r1", {{"t", S("x")}}));
  });
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::kAborted);

  SchemaPtr current = *store->Schema();
  CHECK(current->version == 2);
  const Collection& fresh = *current->Find("notes");
  Insert(*store, fresh, {Make(fresh, "r1", {{"title", S("x")}})});
  CHECK(*GetOne(*other, fresh, "r1").Get(fresh, "title") == S("x"));
}

TEST_CASE("sqlite project: a schema changed by another process is seen by the next read",
          "[sqlite][project][concurrency]") {
  TempDir dir;
  SqliteProjectStores here({.data_dir = dir.path().string()});
  SqliteProjectStores there({.data_dir = dir.path().string()});
  auto store = OpenStore(here, kProject);
  Collection notes =
      MakeCollection("pbc_notes", "notes", {MakeField("f_t", "t", FieldType::kText)});
  Create(*store, {notes});
  auto other = OpenStore(there, kProject);
  // A rule-only change: no DDL, only the stored definition and the version move.
  Collection ruled = notes;
  ruled.rules.list = "t != ''";
  Apply(*other, {{notes, ruled}});

  auto seen = store->Schema();
  REQUIRE(seen.has_value());
  CHECK((*seen)->version == 2);
  CHECK((*seen)->Find("notes")->rules.list == std::optional<std::string>("t != ''"));
  // The refreshed snapshot is kept: asking again gives the same one.
  CHECK(*store->Schema() == *seen);
}

// ---- the filter compiler ---------------------------------------------------------------------

namespace {

flt::ResolvedOperand Lit(JsonValue value) {
  flt::ResolvedOperand operand;
  operand.kind = flt::ResolvedOperand::Kind::kLiteral;
  operand.multiple = value.type() == JsonValue::Type::kArray;
  operand.literal = std::move(value);
  return operand;
}

flt::ValueKind KindOf(const Field& field) {
  switch (field.type) {
    case FieldType::kNumber: return flt::ValueKind::kNumber;
    case FieldType::kBool: return flt::ValueKind::kBool;
    case FieldType::kJson: return flt::ValueKind::kJson;
    default: return flt::ValueKind::kString;
  }
}

// A field operand of the queried record (or of join `join`) through `hops`, as Resolve()
// builds them: pointers into `schema`.
flt::ResolvedOperand FieldOf(const ProjectSchema& schema, std::string_view collection,
                             std::string_view path, int join = -1,
                             flt::Modifier modifier = flt::Modifier::kNone) {
  flt::ResolvedOperand operand;
  operand.kind = flt::ResolvedOperand::Kind::kField;
  operand.join = join;
  operand.modifier = modifier;
  const Collection* current = schema.Find(collection);
  std::string rest(path);
  bool fan_out = false;
  for (;;) {
    const auto dot = rest.find('.');
    const std::string head = rest.substr(0, dot);
    const Field* field = current->FindField(head);
    if (field == nullptr) {  // a back-relation "x_via_f"
      const auto via = head.find("_via_");
      const Collection* owner = schema.Find(head.substr(0, via));
      const Field* relation = owner->FindField(head.substr(via + 5));
      operand.hops.push_back(flt::Hop{current, relation, owner, true});
      fan_out = true;
      current = owner;
      rest = rest.substr(dot + 1);
      continue;
    }
    if (dot == std::string::npos || field->type == FieldType::kJson) {
      operand.field = field;
      if (dot != std::string::npos) {
        std::string keys = rest.substr(dot + 1);
        for (std::size_t at = 0;;) {
          const auto next = keys.find('.', at);
          operand.json_path.push_back(keys.substr(at, next - at));
          if (next == std::string::npos) break;
          at = next + 1;
        }
      }
      break;
    }
    const Collection* target = schema.FindById(field->collection_id);
    operand.hops.push_back(flt::Hop{current, field, target, false});
    fan_out = fan_out || field->IsMultiple();
    current = target;
    rest = rest.substr(dot + 1);
  }
  operand.collection = current;
  operand.value_kind =
      modifier == flt::Modifier::kLength ? flt::ValueKind::kNumber : KindOf(*operand.field);
  operand.multiple =
      fan_out || (operand.field->IsMultiple() && modifier != flt::Modifier::kLength);
  return operand;
}

flt::Condition Cmp(flt::ResolvedOperand left, flt::CompareOp op, flt::ResolvedOperand right,
                   bool any = false) {
  flt::Condition condition;
  condition.kind = flt::Condition::Kind::kCompare;
  condition.compare.left = std::move(left);
  condition.compare.right = std::move(right);
  condition.compare.op = op;
  condition.compare.any = any;
  return condition;
}

// The records of a schema, for the domain's evaluator: the reference the SQL must agree with.
class Records final : public flt::RecordSource {
 public:
  void Add(const Collection& collection, Record record) {
    by_collection_[collection.id].push_back(std::move(record));
  }
  const Record* FindById(const Collection& collection, std::string_view id) const override {
    auto it = by_collection_.find(collection.id);
    if (it == by_collection_.end()) return nullptr;
    for (const auto& record : it->second) {
      if (record.Id(collection) == id) return &record;
    }
    return nullptr;
  }
  std::vector<const Record*> All(const Collection& collection) const override {
    std::vector<const Record*> out;
    auto it = by_collection_.find(collection.id);
    if (it == by_collection_.end()) return out;
    for (const auto& record : it->second) out.push_back(&record);
    return out;
  }

 private:
  std::map<std::string, std::vector<Record>> by_collection_;
};

// A store seeded with places, visitors and visits: relations single, multiple and back,
// json values of every kind, geographic coordinates, an empty collection.
struct Places {
  TempDir dir;
  SqliteProjectStores stores{{.data_dir = dir.path().string()}};
  std::shared_ptr<ProjectStore> store = OpenStore(stores, kProject);
  SchemaPtr schema;
  Records records;

  Places() {
    Field tags = Multi(MakeField("f_tags", "tags", FieldType::kSelect));
    schema = Create(
        *store,
        {MakeCollection("pbc_people", "people",
                        {MakeField("f_name", "name", FieldType::kText),
                         MakeField("f_age", "age", FieldType::kNumber)}),
         MakeCollection("pbc_places", "places",
                        {MakeField("f_title", "title", FieldType::kText),
                         MakeField("f_pattern", "pattern", FieldType::kText),
                         MakeField("f_lon", "lon", FieldType::kNumber),
                         MakeField("f_lat", "lat", FieldType::kNumber),
                         MakeField("f_data", "data", FieldType::kJson), tags,
                         Relation("f_owner", "owner", "pbc_people", 1),
                         Relation("f_fans", "fans", "pbc_people", 5)}),
         MakeCollection("pbc_visits", "visits",
                        {Relation("f_place", "place", "pbc_places", 1),
                         Relation("f_who", "who", "pbc_people", 5),
                         MakeField("f_note", "note", FieldType::kText)}),
         MakeCollection("pbc_empty", "empty", {MakeField("f_name", "name", FieldType::kText)})});
    const Collection& people = *schema->Find("people");
    const Collection& places = *schema->Find("places");
    const Collection& visits = *schema->Find("visits");
    Seed(people, {Make(people, "ann", {{"name", S("Ann")}, {"age", N(30)}}),
                  Make(people, "bob", {{"name", S("bob")}, {"age", N(41)}}),
                  Make(people, "cyd", {{"name", S("")}, {"age", N(30)}})});
    Seed(places,
         {Make(places, "paris",
               {{"title", S("Paris 100%")}, {"pattern", S("%ar%")}, {"lon", D(2.3522)},
                {"lat", D(48.8566)}, {"data", JsonValue::Object({{"0", N(5)}, {"k", S("x")}})},
                {"tags", Strings({"a", "b"})}, {"owner", S("ann")},
                {"fans", Strings({"bob", "cyd"})}}),
          Make(places, "lyon",
               {{"title", S("Lyon_a\\b")}, {"pattern", S("a\\b")}, {"lon", D(4.8357)},
                {"lat", D(45.764)}, {"data", JsonValue::Array({N(5), S("y")})},
                {"tags", Strings({"b"})}, {"owner", S("bob")}}),
          Make(places, "nowhere",
               {{"title", S("")}, {"data", S("5")}, {"owner", S("ghost")}}),
          Make(places, "oslo",
               {{"title", S("Oslo")}, {"pattern", S("_")}, {"lon", D(10.75)}, {"lat", D(59.91)},
                {"data", JsonValue::Object({{"k", JsonValue::Array({N(1)})}})},
                {"fans", Strings({"ann"})}})});
    Seed(visits, {Make(visits, "v1", {{"place", S("paris")}, {"who", Strings({"ann", "bob"})},
                                      {"note", S("nice")}}),
                  Make(visits, "v2", {{"place", S("paris")}, {"who", Strings({"cyd"})}}),
                  Make(visits, "v3", {{"place", S("oslo")}, {"note", S("cold")}})});
  }

  void Seed(const Collection& collection, std::vector<Record> seeded) {
    Insert(*store, collection, seeded);
    for (auto& record : seeded) records.Add(collection, std::move(record));
  }

  flt::ResolvedFilter Filter(std::string_view collection, flt::Condition condition,
                             std::vector<std::string> joins = {}) const {
    flt::ResolvedFilter filter;
    filter.schema = schema;
    filter.collection = schema->Find(collection);
    for (const auto& name : joins) filter.joins.push_back({name, schema->Find(name)});
    filter.condition = std::move(condition);
    return filter;
  }

  // The ids the store selects, checked against the domain's evaluator on the same records.
  V Select(const flt::ResolvedFilter& filter) {
    const Collection& collection = *filter.collection;
    V expected;
    for (const Record* record : records.All(collection)) {
      if (flt::Evaluate(filter, *record, records)) expected.push_back(record->Id(collection));
    }
    std::sort(expected.begin(), expected.end());
    V selected = Ids(collection, All(*store, collection, &filter));
    CHECK(selected == expected);
    // Get and Matches agree with the query.
    for (const Record* record : records.All(collection)) {
      const std::string& id = record->Id(collection);
      const bool in = std::find(selected.begin(), selected.end(), id) != selected.end();
      auto got = store->Get(collection, id, &filter);
      REQUIRE(got.has_value());
      CHECK(got->has_value() == in);
      auto matched = store->Write([&](RecordTransaction& tx) -> Result<void> {
        auto matches = tx.Matches(collection, id, filter);
        if (!matches) return std::unexpected(matches.error());
        if (*matches != in) return Fail(ErrorCode::kInternal, "Matches disagrees for " + id);
        return {};
      });
      CHECK(matched.has_value());
    }
    return selected;
  }
};

}  // namespace

TEST_CASE("sqlite project: hand-built trees compile to the evaluator's semantics",
          "[sqlite][project][filter]") {
  Places p;
  const ProjectSchema& s = *p.schema;
  using Op = flt::CompareOp;
  auto places = [&](flt::Condition condition, std::vector<std::string> joins = {}) {
    return p.Select(p.Filter("places", std::move(condition), std::move(joins)));
  };

  SECTION("sets: any, all, and the empty set as {null}") {
    CHECK(places(Cmp(FieldOf(s, "places", "tags"), Op::kEq, Lit(S("b")), true)) ==
          V{"lyon", "paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "tags"), Op::kEq, Lit(S("b")))) == V{"lyon"});
    CHECK(places(Cmp(FieldOf(s, "places", "tags"), Op::kEq, Lit(JsonValue()))) ==
          V{"nowhere", "oslo"});
    CHECK(places(Cmp(FieldOf(s, "places", "tags"), Op::kNeq, Lit(S("a")))) ==
          V{"lyon", "nowhere", "oslo"});
    CHECK(places(Cmp(FieldOf(s, "places", "tags"), Op::kNeq, Lit(S("a")), true)) ==
          V{"lyon", "nowhere", "oslo", "paris"});
    // A multi-valued literal on either side.
    CHECK(places(Cmp(FieldOf(s, "places", "tags"), Op::kEq, Lit(Strings({"a", "z"})), true)) ==
          V{"paris"});
    CHECK(places(Cmp(Lit(Strings({"b", "b"})), Op::kEq, FieldOf(s, "places", "tags"))) ==
          V{"lyon"});
    CHECK(places(Cmp(FieldOf(s, "places", "tags", -1, flt::Modifier::kLength), Op::kGte,
                     Lit(N(1)))) == V{"lyon", "paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "tags", -1, flt::Modifier::kLower), Op::kLike,
                     Lit(S("B")), true)) == V{"lyon", "paris"});
  }
  SECTION("relations: single, multiple, dangling, back") {
    CHECK(places(Cmp(FieldOf(s, "places", "owner.name"), Op::kEq, Lit(S("Ann")))) == V{"paris"});
    // A dangling or empty relation reads as null, which equals "".
    CHECK(places(Cmp(FieldOf(s, "places", "owner.name"), Op::kEq, Lit(S("")))) ==
          V{"nowhere", "oslo"});
    CHECK(places(Cmp(FieldOf(s, "places", "owner.age"), Op::kLt, Lit(N(35)))) == V{"paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "fans.age"), Op::kEq, Lit(N(30)), true)) ==
          V{"oslo", "paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "fans.age"), Op::kEq, Lit(N(30)))) == V{"oslo"});
    CHECK(places(Cmp(FieldOf(s, "places", "visits_via_place.note"), Op::kEq, Lit(S("nice")),
                     true)) == V{"paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "visits_via_place.note"), Op::kNeq, Lit(S("")))) ==
          V{"oslo"});
    CHECK(p.Select(p.Filter("people", Cmp(FieldOf(s, "people", "visits_via_who.place.title"),
                                          Op::kLike, Lit(S("paris")), true))) ==
          V{"ann", "bob", "cyd"});
    CHECK(p.Select(p.Filter("people", Cmp(FieldOf(s, "people", "visits_via_who.note"), Op::kEq,
                                          Lit(S("nice"))))) == V{"ann", "bob"});
  }
  SECTION("@collection joins, an empty collection contributing a row of nulls") {
    CHECK(places(Cmp(FieldOf(s, "empty", "name", 0), Op::kEq, Lit(JsonValue())), {"empty"}) ==
          V{"lyon", "nowhere", "oslo", "paris"});
    CHECK(places(Cmp(FieldOf(s, "empty", "name", 0), Op::kNeq, Lit(JsonValue())), {"empty"})
              .empty());
    flt::Condition both;
    both.kind = flt::Condition::Kind::kAnd;
    both.children.push_back(
        Cmp(FieldOf(s, "people", "id", 0), Op::kEq, FieldOf(s, "places", "owner")));
    both.children.push_back(Cmp(FieldOf(s, "people", "age", 0), Op::kGt, Lit(N(35))));
    CHECK(places(std::move(both), {"people"}) == V{"lyon"});
  }
  SECTION("json values: kinds never meet, numeric keys, arrays equal nothing") {
    CHECK(places(Cmp(FieldOf(s, "places", "data.0"), Op::kEq, Lit(N(5)))) ==
          V{"lyon", "paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "data"), Op::kEq, Lit(S("5")))) == V{"nowhere"});
    CHECK(places(Cmp(FieldOf(s, "places", "data"), Op::kEq, Lit(N(5)))).empty());
    CHECK(places(Cmp(FieldOf(s, "places", "data.k"), Op::kEq, Lit(S("x")))) == V{"paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "data.k"), Op::kNeq, Lit(JsonValue()))) ==
          V{"oslo", "paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "data.k"), Op::kNotLike, Lit(S("x")))) ==
          V{"lyon", "nowhere", "oslo"});
    // A JSON array is a value, and equals nothing, not even itself.
    CHECK(places(Cmp(FieldOf(s, "places", "data.k"), Op::kEq, FieldOf(s, "places", "data.k"))) ==
          V{"lyon", "nowhere", "paris"});  // oslo's [1] is not equal to itself; null = null
    CHECK(places(Cmp(FieldOf(s, "places", "data.k.0"), Op::kGte, Lit(N(1)))) == V{"oslo"});
  }
  SECTION("like: patterns with and without %, a field as the pattern, no escape character") {
    CHECK(places(Cmp(FieldOf(s, "places", "title"), Op::kLike, Lit(S("100%")))) == V{});
    CHECK(places(Cmp(FieldOf(s, "places", "title"), Op::kLike, Lit(S("%100%")))) == V{"paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "title"), Op::kLike, Lit(S("n_a")))) == V{"lyon"});
    CHECK(places(Cmp(FieldOf(s, "places", "title"), Op::kLike, Lit(S("_a\\b")))) == V{"lyon"});
    CHECK(places(Cmp(FieldOf(s, "places", "title"), Op::kLike, Lit(S("%a\\b")))) == V{"lyon"});
    CHECK(places(Cmp(FieldOf(s, "places", "title"), Op::kLike, FieldOf(s, "places", "pattern"))) ==
          V{"lyon", "nowhere", "paris"});
    CHECK(places(Cmp(FieldOf(s, "places", "title"), Op::kNotLike,
                     FieldOf(s, "places", "pattern"))) == V{"oslo"});
  }
  SECTION("geoDistance in kilometres, null for a missing number") {
    flt::ResolvedOperand distance;
    distance.kind = flt::ResolvedOperand::Kind::kGeoDistance;
    distance.value_kind = flt::ValueKind::kNumber;
    distance.args = {FieldOf(s, "places", "lon"), FieldOf(s, "places", "lat"), Lit(D(2.3522)),
                     Lit(D(48.8566))};
    CHECK(places(Cmp(distance, Op::kLt, Lit(N(500)))) == V{"lyon", "paris"});
    // "nowhere" lies at (0, 0), its numbers' zero values.
    CHECK(places(Cmp(distance, Op::kGt, Lit(N(1000)))) == V{"nowhere", "oslo"});
    distance.args[0] = FieldOf(s, "places", "data.0");
    CHECK(places(Cmp(distance, Op::kEq, Lit(JsonValue()))) == V{"nowhere", "oslo"});
  }
}

TEST_CASE("sqlite project: compiled filters bind every value", "[sqlite][project][filter]") {
  Places p;
  const ProjectSchema& s = *p.schema;
  const Collection& places = *s.Find("places");
  const std::string injection = "'); DROP TABLE places; --";

  flt::ResolvedFilter filter =
      p.Filter("places",
               Cmp(FieldOf(s, "places", "title"), flt::CompareOp::kEq, Lit(S(injection))));
  adapters::sqlite::SqliteFilterCompiler compiler("t", 1);
  auto where = compiler.Where(filter);
  REQUIRE(where.has_value());
  CHECK(where->sql == "t.\"title\" = ?1");
  REQUIRE(compiler.params().size() == 1);
  CHECK(compiler.params()[0].text == injection);

  // JSON keys and LIKE patterns are parameters too; identifiers are quoted.
  adapters::sqlite::SqliteFilterCompiler json("t", 1);
  auto json_where = json.Where(p.Filter(
      "places", Cmp(FieldOf(s, "places", "data.k"), flt::CompareOp::kLike, Lit(S("a%b")))));
  REQUIRE(json_where.has_value());
  CHECK(json_where->sql.find("\"k\"") == std::string::npos);
  CHECK(json_where->sql.find("a%b") == std::string::npos);
  REQUIRE(json.params().size() == 2);
  CHECK(json.params()[0].text == "$.\"k\"");
  CHECK(json.params()[1].text == "a%b");

  CHECK(p.Select(filter).empty());
  Insert(*p.store, places, {Make(places, "evil", {{"title", S(injection)}})});
  p.records.Add(places, Make(places, "evil", {{"title", S(injection)}}));
  CHECK(p.Select(filter) == V{"evil"});
  CHECK(All(*p.store, places).size() == 5);

  // Substrings of any length; LIKE patterns up to SQLite's bound, refused beyond it.
  const std::string long_text(60'000, 'x');
  Insert(*p.store, places, {Make(places, "long", {{"title", S("<" + long_text + ">")}})});
  p.records.Add(places, Make(places, "long", {{"title", S("<" + long_text + ">")}}));
  CHECK(p.Select(p.Filter("places", Cmp(FieldOf(s, "places", "title"), flt::CompareOp::kLike,
                                        Lit(S(long_text))))) == V{"long"});
  flt::ResolvedFilter too_long = p.Filter(
      "places", Cmp(FieldOf(s, "places", "title"), flt::CompareOp::kLike, Lit(S(long_text + "%"))));
  RecordQuery query;
  query.where = &too_long;
  auto refused = p.store->Query(places, query);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);

  // The same through the resolver's text: the value is data wherever it appears.
  auto compiled = flt::Compile("title = \"" + injection + "\" || pattern ~ \"" + injection + "\"",
                               p.schema, places, {});
  REQUIRE(compiled.has_value());
  CHECK(Ids(places, All(*p.store, places, &*compiled)) == V{"evil"});
}

TEST_CASE("sqlite project: sorting through relations and json", "[sqlite][project][filter]") {
  Places p;
  const Collection& places = *p.schema->Find("places");
  auto sorted = [&](std::string_view text) {
    auto terms = flt::ResolveSort(text, p.schema, places);
    INFO(text);
    REQUIRE(terms.has_value());
    RecordQuery query;
    query.sort = *terms;
    query.limit = 100;
    auto page = p.store->Query(places, query);
    REQUIRE(page.has_value());
    return Ids(places, page->items);
  };
  CHECK(sorted("owner.name") == V{"nowhere", "oslo", "paris", "lyon"});
  CHECK(sorted("-owner.age,id") == V{"lyon", "paris", "nowhere", "oslo"});
  // JSON: null, then booleans, numbers, strings, arrays, objects; arrays and objects by id.
  CHECK(sorted("data") == V{"nowhere", "lyon", "oslo", "paris"});
  CHECK(sorted("data.0") == V{"nowhere", "oslo", "lyon", "paris"});
  CHECK(sorted("-data.0") == V{"lyon", "paris", "nowhere", "oslo"});
  CHECK(sorted("tags:length,-id") == V{"oslo", "nowhere", "lyon", "paris"});
}

// ---- caches and concurrency ------------------------------------------------------------------

TEST_CASE("sqlite project: cached statements follow schema changes", "[sqlite][project][cache]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string(), .pool_size = 1});
  auto store = OpenStore(stores, kProject);
  Collection before = MakeCollection(
      "pbc_notes", "notes",
      {MakeField("f_a", "a", FieldType::kText), MakeField("f_b", "b", FieldType::kNumber)});
  SchemaPtr schema = Create(*store, {before});
  Insert(*store, *schema->Find("notes"), {Make(before, "r1", {{"a", S("x")}, {"b", N(2)}})});
  auto where = flt::Compile("a = 'x' && b > 1", schema, *schema->Find("notes"), {});
  REQUIRE(where.has_value());
  CHECK(All(*store, *schema->Find("notes"), &*where).size() == 1);
  CHECK(GetOne(*store, *schema->Find("notes"), "r1").values.size() == 5);

  // Same collection, same shapes of statements, different columns: nothing stale is reused.
  Collection after = before;
  const std::size_t a = after.FieldIndex("a").value();
  const std::size_t b = after.FieldIndex("b").value();
  after.fields[a].name = "b";
  after.fields[b].name = "a";
  after.fields.push_back(MakeField("f_c", "c", FieldType::kText));
  schema = Apply(*store, {{before, after}});
  const Collection& notes = *schema->Find("notes");
  const Record r1 = GetOne(*store, notes, "r1");
  CHECK(r1 == Make(notes, "r1", {{"b", S("x")}, {"a", N(2)}, {"c", S("")}}));
  auto swapped = flt::Compile("b = 'x' && a > 1", schema, notes, {});
  REQUIRE(swapped.has_value());
  CHECK(All(*store, notes, &*swapped).size() == 1);
  Insert(*store, notes, {Make(notes, "r2", {{"b", S("y")}, {"a", N(3)}, {"c", S("z")}})});
  CHECK(*GetOne(*store, notes, "r2").Get(notes, "c") == S("z"));
}

TEST_CASE("sqlite project: the connection's statement cache is bounded and dropped on demand",
          "[sqlite][project][cache]") {
  TempDir dir;
  auto opened = adapters::sqlite::Connection::Open((dir.path() / "c.db").string(), 1000);
  REQUIRE(opened.has_value());
  auto& conn = **opened;
  const std::size_t limit = adapters::sqlite::Connection::kCachedStatementLimit;
  {
    // Held while the cache overflows: never evicted under its user.
    auto held = conn.PrepareCached("SELECT 'held'");
    REQUIRE(held.has_value());
    for (std::size_t i = 0; i < limit + 50; ++i) {
      auto stmt = conn.PrepareCached("SELECT " + std::to_string(i));
      REQUIRE(stmt.has_value());
      REQUIRE(*stmt->Step());
      CHECK(stmt->Int(0) == static_cast<std::int64_t>(i));
    }
    CHECK(conn.CachedCount() <= limit + 1);
    auto row = held->Step();
    REQUIRE(row.has_value());
    REQUIRE(*row);
    CHECK(held->Text(0) == "held");
  }
  CHECK(conn.CachedCount() <= limit + 1);
  conn.ForgetCachedIfStale(0);  // same generation: kept
  CHECK(conn.CachedCount() > 0);
  conn.ForgetCachedIfStale(7);
  CHECK(conn.CachedCount() == 0);
  auto again = conn.PrepareCached("SELECT 1");
  REQUIRE(again.has_value());
  CHECK(*again->Step());
}

TEST_CASE("sqlite project: readers run while a writer writes", "[sqlite][project][concurrency]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string(), .pool_size = 4});
  auto store = OpenStore(stores, kProject);
  SchemaPtr schema = Create(
      *store, {MakeCollection("pbc_notes", "notes", {MakeField("f_n", "n", FieldType::kNumber)})});
  const Collection& notes = *schema->Find("notes");
  auto where = flt::Compile("n >= 0", schema, notes, {});
  REQUIRE(where.has_value());

  constexpr int kWrites = 150;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      std::int64_t last = 0;
      while (!done) {
        RecordQuery query;
        query.where = &*where;
        query.limit = 5;
        auto page = store->Query(notes, query);
        if (!page || page->total < last) {
          ++failures;
          return;
        }
        last = page->total;
        // A page and its total come from one snapshot.
        if (static_cast<std::int64_t>(page->items.size()) != std::min<std::int64_t>(5, last)) {
          ++failures;
        }
        if (!store->Get(notes, "r00000000000000", nullptr)) ++failures;
      }
    });
  }
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "r%014d", i);
      auto written = store->Write([&](RecordTransaction& tx) {
        return tx.Insert(notes, Make(notes, id, {{"n", N(i)}}));
      });
      if (!written) ++failures;
    }
    done = true;
  });
  writer.join();
  for (auto& reader : readers) reader.join();
  CHECK(failures == 0);
  CHECK(All(*store, notes).size() == kWrites);
}
