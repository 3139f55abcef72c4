#include "socle/adapters/postgres/postgres_project_store.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "postgres_audit_trail.hpp"
#include "postgres_filter_compiler.hpp"
#include "postgres_record_codec.hpp"
#include "postgres_schema_ddl.hpp"
#include "project_role.hpp"
#include "sql_text.hpp"
#include "socle/adapters/bounded_pool.hpp"
#include "socle/adapters/json/collection_json.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/postgres/identifier.hpp"
#include "socle/domain/schema_diff.hpp"

namespace socle::adapters::postgres {

using application::AuditQuery;
using application::AuditWrite;
using application::CollectionChange;
using application::ProjectStore;
using application::RecordPage;
using application::RecordQuery;
using application::RecordTransaction;
using application::SchemaHistoryEntry;
using application::StoredAuditEvent;
using domain::Collection;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Field;
using domain::JsonValue;
using domain::Record;
using domain::Result;
using domain::SchemaPtr;
using domain::StorageClass;
using domain::filter::ResolvedFilter;

namespace {

// ---- SQL -------------------------------------------------------------------------------------
// The internal tables' statements are templates: "@s" stands for the project's quoted schema,
// the one part that varies, substituted once when the store opens. Values are bound ($n).


// Every pooled connection: doubles print in their shortest exact form whatever the server's
// default, the backslashes in this adapter's literals ('\') mean themselves, and dates print in
// ISO format at UTC, as DecodeValue reads them. No JIT: these statements are short, and
// compiling them cost more than running them (an eighth of the server's time under load).
constexpr char kSessionSetup[] =
    "SET extra_float_digits = 3; SET standard_conforming_strings = on; SET TimeZone = 'UTC';"
    " SET DateStyle = 'ISO, YMD'; SET jit = off";

// Whether the schema, its internal tables and the project's role are in place, the role with
// its grants in this database (they are per database, the role is per cluster) and reachable
// by SET ROLE from the current (login) role; whether the audit tables are (a schema made by an
// older build lacks them: $4 names the last one created); and how many of the audit trail's
// monthly partitions due now are missing ($5: the quoted schema; see kMonths in
// postgres_audit_trail.cpp), with the start of the last of those months in microseconds.
constexpr Statement kStorageExists{
    "",
    "SELECT to_regnamespace($1::text) IS NOT NULL, to_regclass($2::text) IS NOT NULL,"
    " coalesce((SELECT pg_catalog.pg_has_role(r.oid, 'MEMBER')"
    " AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE')"
    " FROM pg_catalog.pg_roles AS r, pg_catalog.pg_namespace AS n"
    " WHERE r.rolname = $3::text AND n.nspname = $1::text), FALSE),"
    " to_regclass($4::text) IS NOT NULL, m.missing, m.last_us"
    " FROM (SELECT count(*) FILTER (WHERE pg_catalog.to_regclass($5::text || '._audit_y'"
    " || to_char(m, 'YYYY\"m\"MM')) IS NULL) AS missing,"
    " max((extract(epoch FROM m AT TIME ZONE 'UTC') * 1000000)::int8) AS last_us"
    " FROM pg_catalog.generate_series(date_trunc('month', now() AT TIME ZONE 'UTC'),"
    " date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months', interval '1 month')"
    " AS m) AS m",
    5};
// "Socl": the class of the advisory locks taken while creating a project's internal tables.
constexpr std::int32_t kStorageLockClass = 0x536f636c;
constexpr Statement kLockStorage{
    "", "SELECT pg_catalog.pg_advisory_xact_lock($1::int4, pg_catalog.hashtext($2::text))", 2};
constexpr std::string_view kCreateSchema = "CREATE SCHEMA IF NOT EXISTS @s";
constexpr std::string_view kCreateInternalTables =
    "CREATE TABLE IF NOT EXISTS @s._collections ("
    " id TEXT COLLATE \"C\" NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " position BIGINT NOT NULL,"
    " definition TEXT NOT NULL);"
    // Several changes applied together share their version, hence the sequence number.
    "CREATE TABLE IF NOT EXISTS @s._schema_history ("
    " version BIGINT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " at TIMESTAMPTZ NOT NULL,"
    " actor TEXT NOT NULL,"
    " before TEXT,"
    " after TEXT,"
    " PRIMARY KEY (version, seq));"
    "CREATE TABLE IF NOT EXISTS @s._schema_version ("
    " singleton BOOLEAN NOT NULL DEFAULT TRUE PRIMARY KEY CHECK (singleton),"
    " version BIGINT NOT NULL);"
    "INSERT INTO @s._schema_version (singleton, version) VALUES (TRUE, 0) ON CONFLICT DO NOTHING";
// Taken before granting on the schema's tables: queues behind a schema change of another
// process (which holds this row from start to commit) rather than updating a table's
// privileges while that change alters the same table.
constexpr std::string_view kLockVersion = "SELECT version FROM @s._schema_version FOR UPDATE";
// The internal tables are written by ApplySchema only, which runs as the login role: the
// project role reads them (to load the schema, the history) but cannot rewrite a definition.
constexpr std::string_view kInternalTablesReadOnly =
    "REVOKE INSERT, UPDATE, DELETE ON @s._collections, @s._schema_history, @s._schema_version"
    " FROM @r";

// The version and every definition in one statement, hence from one snapshot; the LEFT JOIN
// keeps the version when there is no collection.
constexpr std::string_view kLoadSchema =
    "SELECT v.version, c.definition FROM @s._schema_version AS v"
    " LEFT JOIN @s._collections AS c ON TRUE ORDER BY c.position";
// The same, locking the version row: concurrent schema changes (of any process) queue here.
constexpr std::string_view kLockSchema =
    "SELECT v.version, c.definition FROM @s._schema_version AS v"
    " LEFT JOIN @s._collections AS c ON TRUE ORDER BY c.position FOR UPDATE OF v";
constexpr std::string_view kUpsertCollection =
    "INSERT INTO @s._collections (id, name, position, definition)"
    " VALUES ($1::text, $2::text,"
    " (SELECT coalesce(max(position), 0) + 1 FROM @s._collections), $3::text)"
    " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, definition = EXCLUDED.definition";
constexpr std::string_view kDeleteCollection = "DELETE FROM @s._collections WHERE id = $1::text";
constexpr std::string_view kAppendHistory =
    "INSERT INTO @s._schema_history (version, seq, at, actor, before, after)"
    " VALUES ($1::int8, $2::int4, $3::timestamptz, $4::text, $5::text, $6::text)";
constexpr std::string_view kBumpVersion = "UPDATE @s._schema_version SET version = version + 1";
constexpr std::string_view kHistory =
    "SELECT version, (extract(epoch FROM at) * 1000000)::int8, actor, before, after"
    " FROM @s._schema_history ORDER BY version, seq";

// The channel of schema change notifications, sent by ApplySchema inside its transaction (so
// delivered when, and only if, it commits) with the payload "<project id>:<new version>".
// Notifications are per database, like the projects' schemas.
constexpr char kSchemaChannel[] = "socle_schema";
constexpr Statement kNotifySchemaChange{"", "SELECT pg_catalog.pg_notify($1::text, $2::text)",
                                        2};
constexpr char kListenSchemaChanges[] = "LISTEN socle_schema";  // kSchemaChannel
// The listening connection is idle for long stretches: a round trip this often proves that the
// server still answers (a vanished host closes nothing), within the connection's deadline.
constexpr std::chrono::milliseconds kListenerHeartbeat{10'000};
constexpr char kHeartbeat[] = "SELECT 1";
// Reconnection delays after the listening connection is lost: doubled after each failure (or
// a connection that was lost again soon), up to the last.
constexpr std::chrono::milliseconds kReconnectFirst{50};
constexpr std::chrono::milliseconds kReconnectMost{5'000};
constexpr std::chrono::milliseconds kStableListener{30'000};

// A schema change may rewrite a large table: it runs on a connection of its own whose
// statements may take this long. It gives up on a table lock after kSchemaLockTimeout rather
// than queue every reader of that table behind it.
constexpr std::chrono::milliseconds kSchemaStatementTimeout{10 * 60 * 1000};
constexpr char kSchemaLockTimeout[] = "SET LOCAL lock_timeout = '5s'";

// The generation of the internal tables' statements, whose result types never change.
constexpr std::uint64_t kInternalGeneration = 0;

// The alias of the queried table in every record statement.
constexpr std::string_view kRow = "t0";

// ---- errors ----------------------------------------------------------------------------------

Error SchemaChanged() {
  return Error::Make(ErrorCode::kAborted, "The schema changed meanwhile; reload and retry.");
}

// The snapshot and what the caller or the database holds disagree: a result's column types
// are not those the snapshot expects (another process changed a column's type, and a statement
// prepared meanwhile reads the new type without failing), or the caller's definition names a
// collection or field the snapshot lacks (another process added it). Run and Write reload the
// snapshot once on it; when the caller's definitions are the old ones, that cannot help and
// the caller gets SchemaChanged().
constexpr std::string_view kStaleSnapshot = "the schema snapshot disagrees with the definitions";

Error StaleSnapshot() {
  Error error = SchemaChanged();
  error.internal = kStaleSnapshot;
  return error;
}

bool IsStaleSnapshot(const Error& error) {
  return error.code == ErrorCode::kAborted && error.internal == kStaleSnapshot;
}

// The type OID PostgreSQL reports for a column of each class as selected (pg_type.h).
unsigned int ResultType(StorageClass storage) noexcept {
  switch (storage) {
    case StorageClass::kText: return 25;         // text
    case StorageClass::kNumber: return 701;      // float8
    case StorageClass::kBool: return 16;         // bool
    case StorageClass::kDate: return 1184;       // timestamptz
    case StorageClass::kJson: return 114;        // json
    case StorageClass::kTextArray: return 1009;  // text[]
  }
  return 0;
}

Error NoTable(const Collection& collection) {
  return Error::Make(ErrorCode::kFailedPrecondition,
                     "The collection " + collection.name + " has no records of its own (view).");
}

// Whether a statement failed because it was built from a schema older than the database's:
// undefined_table, undefined_column, datatype_mismatch, or a prepared statement whose result
// types changed under it.
bool IsStaleSchema(std::string_view sqlstate, const Error& error) {
  if (sqlstate == "42P01" || sqlstate == "42703" || sqlstate == "42804") return true;
  return sqlstate == "0A000" &&
         error.internal.find("cached plan must not change result type") != std::string::npos;
}

// The error reported when a retry against the reloaded schema failed again (or could not be
// tried): the caller's definitions are older than the database's.
Error StillStale(const Error& cause) {
  Error error = SchemaChanged();
  error.internal = cause.internal;
  return error;
}

Result<std::int64_t> Int(const PgResult& result, int row, int column) {
  return ParseInt8(result.Text(row, column));
}

Result<Collection> ReadDefinition(std::string_view text) {
  auto json = json::ParseJson(text, json::JsonLimits{.max_depth = 64, .max_bytes = 64u << 20});
  if (!json) return Fail(Error::Internal("stored collection definition is not JSON"));
  auto collection = json::ReadCollection(*json);
  if (!collection) {
    return Fail(Error::Internal("stored collection definition is malformed: " +
                                collection.error().message));
  }
  return std::move(*collection);
}

std::string WriteDefinition(const Collection& collection) {
  json::JsonWriter writer;
  json::WriteCollection(writer, collection);
  return std::move(writer).Take();
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

// ---- per-collection statements ---------------------------------------------------------------

// A unique index, as needed to tell which one refused a write.
struct UniqueIndex {
  std::size_t position;             // in Collection::indexes
  std::string sql_name;             // the index as PostgreSQL names it (lower case)
  std::vector<std::size_t> fields;  // positions in Collection::fields
};

// The statements of one collection, generated once per schema snapshot (or for a definition
// from an older snapshot, with the current snapshot's names).
struct CollectionPlan {
  const Collection* collection = nullptr;
  std::string table;                  // "p_x"."posts"
  std::vector<std::string> columns;   // quoted, aligned with collection->fields
  std::vector<StorageClass> storage;  // aligned with collection->fields
  std::size_t id_index = 0;
  std::string select_list;      // t0."id", to_char(t0."created" ...), ...
  std::string get;              // $1 id
  std::string find_for_update;  // $1 id
  std::string exists;           // $1 id
  std::string count_existing;   // $1 ids (text[])
  std::string insert;           // $n each field in order
  std::string update;           // $1 id, then every other field in order
  std::string remove;           // $1 id
  std::string list_all;         // $1 limit, $2 offset
  std::string count_all;
  std::vector<UniqueIndex> unique_indexes;
};

// Builds the plan of `collection` whose table and columns are named as in `stored`, the same
// collection in the store's snapshot (`collection` itself, or an older definition of it).
Result<CollectionPlan> BuildPlan(const Collection& collection, const Collection& stored,
                                 std::string_view schema) {
  CollectionPlan plan;
  plan.collection = &collection;
  auto table = QualifiedName(schema, stored.name);
  if (!table) return Fail(table.error());
  plan.table = std::move(*table);
  const Field* id = IdField(collection);
  if (id == nullptr) return Fail(Error::Internal("collection " + collection.name + " has no id"));
  plan.id_index = static_cast<std::size_t>(id - collection.fields.data());

  for (const auto& field : collection.fields) {
    const Field* current = &collection == &stored ? &field : stored.FindFieldById(field.id);
    const StorageClass storage = domain::StorageClassOf(field);
    if (current == nullptr || domain::StorageClassOf(*current) != storage) {
      return Fail(StaleSnapshot());
    }
    auto column = SqlName(current->name);
    if (!column) return Fail(column.error());
    plan.columns.push_back(std::move(*column));
    plan.storage.push_back(storage);
  }

  const std::string row(kRow);
  const std::string& id_column = plan.columns[plan.id_index];
  std::string insert_columns;
  std::string insert_values;
  std::string assignments;
  int next_update_param = 2;
  for (std::size_t i = 0; i < plan.columns.size(); ++i) {
    const std::string type(ParamType(plan.storage[i]));
    if (i > 0) {
      plan.select_list += ", ";
      insert_columns += ", ";
      insert_values += ", ";
    }
    plan.select_list += row + "." + plan.columns[i];
    insert_columns += plan.columns[i];
    insert_values += "$" + std::to_string(i + 1) + "::" + type;
    if (i == plan.id_index) continue;
    if (!assignments.empty()) assignments += ", ";
    assignments += plan.columns[i] + " = $" + std::to_string(next_update_param++) + "::" + type;
  }
  if (assignments.empty()) assignments = id_column + " = $1::text";  // a table of ids only

  const std::string from = " FROM " + plan.table + " AS " + row;
  const std::string by_id = " WHERE " + row + "." + id_column + " = $1::text";
  plan.get = "SELECT " + plan.select_list + from + by_id;
  plan.find_for_update = plan.get + " FOR UPDATE";
  plan.exists = "SELECT 1" + from + by_id;
  plan.count_existing =
      "SELECT count(*)" + from + " WHERE " + row + "." + id_column + " = ANY($1::text[])";
  // ON CONFLICT DO NOTHING: a duplicate leaves the transaction usable (see Insert).
  plan.insert = "INSERT INTO " + plan.table + " (" + insert_columns + ") VALUES (" + insert_values +
                ") ON CONFLICT DO NOTHING";
  plan.update =
      "UPDATE " + plan.table + " SET " + assignments + " WHERE " + id_column + " = $1::text";
  plan.remove = "DELETE FROM " + plan.table + " WHERE " + id_column + " = $1::text";
  plan.list_all = "SELECT " + plan.select_list + from + " ORDER BY " + row + "." + id_column +
                  " ASC LIMIT $1::int8 OFFSET $2::int8";
  plan.count_all = "SELECT count(*)" + from;

  for (std::size_t i = 0; i < collection.indexes.size(); ++i) {
    const auto& index = collection.indexes[i];
    if (!index.unique) continue;
    UniqueIndex unique{i, {}, {}};
    auto name = SqlName(index.name);
    if (!name) return Fail(name.error());
    unique.sql_name = name->substr(1, name->size() - 2);
    for (const auto& column : index.columns) {
      for (std::size_t f = 0; f < collection.fields.size(); ++f) {
        if (EqualsIgnoringCase(collection.fields[f].name, column.field)) {
          unique.fields.push_back(f);
          break;
        }
      }
    }
    plan.unique_indexes.push_back(std::move(unique));
  }
  return plan;
}

// One schema snapshot with the statements of its collections.
struct Snapshot {
  SchemaPtr schema;
  std::uint64_t generation = 0;                           // tags the statements prepared from it
  std::unordered_map<std::string, CollectionPlan> plans;  // by collection id (tables only)
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

Result<SnapshotPtr> MakeSnapshot(SchemaPtr schema, std::uint64_t generation,
                                 std::string_view sql_schema) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->schema = std::move(schema);
  snapshot->generation = generation;
  for (const auto& collection : snapshot->schema->collections) {
    if (!HasTable(collection)) continue;
    auto plan = BuildPlan(collection, collection, sql_schema);
    if (!plan) return Fail(plan.error());
    snapshot->plans.emplace(collection.id, std::move(*plan));
  }
  return SnapshotPtr(std::move(snapshot));
}

// A plan for a collection as a caller holds it: the snapshot's own when the definition is the
// snapshot's (the common case, no allocation), else one built with the snapshot's names.
class PlanRef {
 public:
  static Result<PlanRef> For(const Snapshot& snapshot, const Collection& collection,
                             std::string_view sql_schema) {
    if (!HasTable(collection)) return Fail(NoTable(collection));
    auto found = snapshot.plans.find(collection.id);
    if (found == snapshot.plans.end()) return Fail(StaleSnapshot());
    const CollectionPlan& plan = found->second;
    if (plan.collection == &collection || *plan.collection == collection) return PlanRef(&plan);
    auto built = BuildPlan(collection, *plan.collection, sql_schema);
    if (!built) return Fail(built.error());
    return PlanRef(std::make_unique<CollectionPlan>(std::move(*built)));
  }
  const CollectionPlan& operator*() const noexcept { return *plan_; }
  const CollectionPlan* operator->() const noexcept { return plan_; }

 private:
  explicit PlanRef(const CollectionPlan* plan) : plan_(plan) {}
  explicit PlanRef(std::unique_ptr<CollectionPlan> owned)
      : plan_(owned.get()), owned_(std::move(owned)) {}
  const CollectionPlan* plan_;
  std::unique_ptr<CollectionPlan> owned_;
};

// The names of a filter's tables and columns, taken from the store's snapshot by id.
class SnapshotNames final : public SqlNames {
 public:
  explicit SnapshotNames(const Snapshot& snapshot) : snapshot_(snapshot) {}

  Result<std::string> Table(const Collection& collection) override {
    auto plan = Find(collection);
    if (!plan) return Fail(plan.error());
    return (*plan)->table;
  }

  Result<std::string> Column(const Collection& collection, const Field& field) override {
    auto plan = Find(collection);
    if (!plan) return Fail(plan.error());
    const CollectionPlan& p = **plan;
    const Collection& stored = *p.collection;
    if (&stored == &collection) {
      const auto index = static_cast<std::size_t>(&field - collection.fields.data());
      if (index < p.columns.size()) return p.columns[index];
    }
    const Field* current = stored.FindFieldById(field.id);
    if (current == nullptr || domain::StorageClassOf(*current) != domain::StorageClassOf(field)) {
      return Fail(StaleSnapshot());
    }
    return SqlName(current->name);
  }

 private:
  Result<const CollectionPlan*> Find(const Collection& collection) {
    if (!HasTable(collection)) return Fail(NoTable(collection));
    auto found = snapshot_.plans.find(collection.id);
    if (found == snapshot_.plans.end()) return Fail(StaleSnapshot());
    return &found->second;
  }

  const Snapshot& snapshot_;
};

// ---- reading rows ----------------------------------------------------------------------------

// Decodes one row. Precondition: HasExpectedColumns(plan, rows).
Result<Record> DecodeRow(const CollectionPlan& plan, const PgResult& rows, int row) {
  Record record;
  record.values.reserve(plan.storage.size());
  for (std::size_t i = 0; i < plan.storage.size(); ++i) {
    const int column = static_cast<int>(i);
    auto value = DecodeValue(plan.storage[i], rows.Text(row, column), rows.IsNull(row, column));
    if (!value) return Fail(value.error());
    record.values.push_back(std::move(*value));
  }
  return record;
}

// Whether `rows` has the columns `plan` expects, in number and type.
bool HasExpectedColumns(const CollectionPlan& plan, const PgResult& rows) {
  if (rows.Columns() != static_cast<int>(plan.storage.size())) return false;
  for (std::size_t i = 0; i < plan.storage.size(); ++i) {
    if (rows.ColumnType(static_cast<int>(i)) != ResultType(plan.storage[i])) return false;
  }
  return true;
}

Result<std::vector<Record>> ReadRecords(const CollectionPlan& plan, const PgResult& rows) {
  if (!HasExpectedColumns(plan, rows)) return Fail(StaleSnapshot());
  std::vector<Record> records;
  records.reserve(static_cast<std::size_t>(rows.Rows()));
  for (int row = 0; row < rows.Rows(); ++row) {
    auto record = DecodeRow(plan, rows, row);
    if (!record) return Fail(record.error());
    records.push_back(std::move(*record));
  }
  return records;
}

// The record of the first row of `rows`, if any.
Result<std::optional<Record>> ReadFirst(const CollectionPlan& plan, const PgResult& rows) {
  if (!HasExpectedColumns(plan, rows)) return Fail(StaleSnapshot());
  if (rows.Rows() == 0) return std::optional<Record>();
  auto record = DecodeRow(plan, rows, 0);
  if (!record) return Fail(record.error());
  return std::optional<Record>(std::move(*record));
}

// The bound values of `record` for plan.insert (every field in order) or plan.update (the id,
// then the other fields in order).
Result<Params> RecordParams(const CollectionPlan& plan, const Record& record, bool id_first) {
  const auto& fields = plan.collection->fields;
  if (record.values.size() != fields.size()) {
    return Fail(Error::Internal("record of " + std::to_string(record.values.size()) +
                                " values for collection " + plan.collection->name + " of " +
                                std::to_string(fields.size()) + " fields"));
  }
  Params params;
  params.reserve(fields.size());
  auto encode = [&](std::size_t i) -> Result<void> {
    auto value = EncodeValue(fields[i], plan.storage[i], record.values[i]);
    if (!value) return Fail(value.error());
    params.push_back(std::move(*value));
    return {};
  };
  if (id_first) {
    if (auto done = encode(plan.id_index); !done) return Fail(done.error());
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (id_first && i == plan.id_index) continue;
    if (auto done = encode(i); !done) return Fail(done.error());
  }
  return params;
}

Error NotUnique(const Collection& collection, const UniqueIndex& index) {
  Error error = Error::Make(ErrorCode::kInvalidArgument,
                            "Failed to save the record: a value must be unique.");
  for (std::size_t f : index.fields) {
    error.fields.push_back(domain::FieldError{collection.fields[f].name, "validation_not_unique",
                                              "Value must be unique."});
  }
  return error;
}

Error IdTaken() {
  return Error::Make(ErrorCode::kAlreadyExists, "A record with this id already exists.");
}


class PostgresProjectStore;

}  // namespace

// ---- shared state ----------------------------------------------------------------------------

namespace {

// A pooled connection with the role its session runs as: it serves every project in turn,
// switching to each one's role when lent for it (see SessionRole).
struct PooledConnection {
  std::unique_ptr<Connection> conn;
  SessionRole role;
};

}  // namespace

struct PostgresProjectStores::Shared {
  explicit Shared(const PostgresOptions& options)
      : settings{options.url, std::chrono::milliseconds(options.connect_timeout_ms),
                 std::chrono::milliseconds(options.statement_timeout_ms)},
        pool([this] { return OpenPooled(settings); },
             [](PooledConnection& pooled) { return pooled.conn->IsReusable(); },
             options.pool_size, std::chrono::milliseconds(options.acquire_timeout_ms)) {}

  static Result<std::unique_ptr<PooledConnection>> OpenPooled(const ConnectionSettings& settings) {
    auto conn = OpenConnection(settings);
    if (!conn) return Fail(conn.error());
    auto pooled = std::make_unique<PooledConnection>();
    pooled->conn = std::move(*conn);
    return pooled;
  }

  static Result<std::unique_ptr<Connection>> OpenConnection(const ConnectionSettings& settings) {
    auto conn = Connection::Open(settings);
    if (!conn) return Fail(conn.error());
    if (auto setup = (*conn)->Script(kSessionSetup); !setup) return Fail(setup.error());
    return std::move(*conn);
  }

  std::uint64_t NextGeneration() noexcept { return ++generations; }

  const ConnectionSettings settings;
  BoundedPool<PooledConnection> pool;
  // Starts above kInternalGeneration.
  std::atomic<std::uint64_t> generations{kInternalGeneration};

  // Marks the open store of `project_id` stale when `version` (nullopt: unknown) is newer
  // than its snapshot: it reloads the snapshot on next use.
  void SchemaChanged(std::string_view project_id, std::optional<std::int64_t> version);
  // Marks every open store stale (schema change notifications may have been missed).
  void AllSchemasMayHaveChanged();

  // The open stores; a store is created once, under its entry's mutex, so that opening one
  // project never waits for another's.
  struct Entry {
    std::mutex mutex;
    std::shared_ptr<ProjectStore> store;
    // The store as the schema listener reaches it, set (under Shared::mutex, not the entry's:
    // the listener must not wait for a store being opened) before the store loads its first
    // snapshot, so that a change committed meanwhile is not missed.
    std::weak_ptr<PostgresProjectStore> watched;
  };
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> entries;
};

namespace {

// One transaction of ProjectStore::Write on its connection.
class PostgresRecordTransaction final : public RecordTransaction {
 public:
  PostgresRecordTransaction(PostgresProjectStore& store, Connection& conn, const Snapshot& snapshot,
                            PostgresAuditTrail& audit)
      : store_(store), conn_(conn), snapshot_(snapshot), audit_(audit, conn) {}

  void WillAppendAudit() override { audit_.WillAppendAudit(); }
  Result<domain::AuditHead> LockAuditHead() override {
    auto head = audit_.LockAuditHead();
    if (!head) return Fail(Failed(std::move(head.error())));
    return head;
  }
  Result<void> AppendAudit(const domain::AuditEvent& event,
                           const std::vector<domain::AuditPersonal>& personal) override {
    auto done = audit_.AppendAudit(event, personal);
    if (!done) return Fail(Failed(std::move(done.error())));
    return done;
  }

  Result<std::optional<Record>> Find(const Collection& collection, std::string_view id) override;
  Result<std::size_t> CountExisting(const Collection& collection,
                                    const std::vector<std::string>& ids) override;
  Result<RecordPage> Query(const Collection& collection, const RecordQuery& query) override;
  Result<bool> Matches(const Collection& collection, std::string_view id,
                       const ResolvedFilter& filter) override;
  Result<void> Insert(const Collection& collection, const Record& record) override;
  Result<void> Update(const Collection& collection, const Record& record) override;
  Result<void> Delete(const Collection& collection, std::string_view id) override;

  /// Whether a statement failed because the snapshot was older than the database's schema.
  bool stale_schema() const noexcept { return stale_schema_; }
  /// The first statement error, which left the transaction unable to commit.
  const std::optional<Error>& first_failure() const noexcept { return first_failure_; }

 private:
  // Notes a failed statement and returns its error.
  Error Failed(Error error) {
    if (IsStaleSchema(conn_.last_sqlstate(), error) || IsStaleSnapshot(error)) stale_schema_ = true;
    if (conn_.InFailedTransaction() && !first_failure_) first_failure_ = error;
    return error;
  }
  Result<PgResult> Execute(const std::string& sql, const Params& params) {
    auto result = conn_.ExecuteCached(sql, params, snapshot_.generation);
    if (!result) return Fail(Failed(std::move(result.error())));
    return result;
  }
  Result<Error> DiagnoseConflict(const CollectionPlan& plan, const Params& params);

  PostgresProjectStore& store_;
  Connection& conn_;
  const Snapshot& snapshot_;
  PostgresAuditAppender audit_;
  bool stale_schema_ = false;
  std::optional<Error> first_failure_;
};

// The ProjectStore of one project.
class PostgresProjectStore final : public ProjectStore {
 public:
  PostgresProjectStore(std::shared_ptr<PostgresProjectStores::Shared> shared,
                       domain::Id project_id, std::string sql_schema, std::string schema_name,
                       std::string sql_role)
      : shared_(std::move(shared)),
        id_(std::move(project_id)),
        project_id_(id_.str()),
        sql_schema_(std::move(sql_schema)),
        schema_name_(std::move(schema_name)),
        role_name_(ProjectRoleName(id_)),
        sql_role_(std::move(sql_role)),
        load_schema_(ExpandSqlTemplate(kLoadSchema, sql_schema_)),
        lock_schema_(ExpandSqlTemplate(kLockSchema, sql_schema_)),
        upsert_collection_(ExpandSqlTemplate(kUpsertCollection, sql_schema_)),
        delete_collection_(ExpandSqlTemplate(kDeleteCollection, sql_schema_)),
        append_history_(ExpandSqlTemplate(kAppendHistory, sql_schema_)),
        bump_version_(ExpandSqlTemplate(kBumpVersion, sql_schema_)),
        history_(ExpandSqlTemplate(kHistory, sql_schema_)),
        audit_(sql_schema_, schema_name_, sql_role_) {}

  // Creates the internal tables and the project's role when missing (as the login role, which
  // owns the schema), then loads the schema snapshot as the project's role.
  Result<void> Initialise() {
    auto ready = Run([&](Connection& conn, const Snapshot*) { return EnsureStorage(conn); },
                     As::kLogin);
    if (!ready) return ready;
    return Run([&](Connection& conn, const Snapshot*) -> Result<void> {
      // This load sees every change committed before it, so a notification that arrived since
      // the store was registered with the listener is accounted for.
      stale_.store(false);
      auto loaded = Load(conn);
      if (!loaded) return Fail(loaded.error());
      Install(std::move(*loaded));
      return {};
    });
  }

  Result<SchemaPtr> Schema() override {
    if (!stale_.load()) return Current()->schema;  // the hot path: one atomic load
    return Run([](Connection&, const Snapshot* snapshot) -> Result<SchemaPtr> {
      return snapshot->schema;
    });
  }

  // Called by the schema listener: another process committed schema `version` (nullopt:
  // perhaps, notifications were missed). Marks the snapshot stale unless it is that version
  // already (this process's own changes come back too), so that the next call reloads it.
  void MarkStale(std::optional<std::int64_t> version) {
    if (version) {
      SnapshotPtr current = Current();
      if (current != nullptr && *version <= current->schema->version) return;
    }
    stale_.store(true);
  }

  using ProjectStore::ApplySchema;
  Result<SchemaPtr> ApplySchema(const std::vector<CollectionChange>& changes,
                                std::int64_t expected_version, const std::string& actor,
                                domain::Timestamp at, const AuditWrite& audit) override;
  Result<std::vector<SchemaHistoryEntry>> History() override;

  Result<RecordPage> Query(const Collection& collection, const RecordQuery& query) override {
    return Run([&](Connection& conn, const Snapshot* snapshot) {
      return QueryOn(conn, *snapshot, collection, query);
    });
  }

  Result<std::optional<Record>> Get(const Collection& collection, std::string_view id,
                                    const ResolvedFilter* where) override {
    return Run([&](Connection& conn, const Snapshot* snapshot) -> Result<std::optional<Record>> {
      auto ref = PlanRef::For(*snapshot, collection, sql_schema_);
      if (!ref) return Fail(ref.error());
      const CollectionPlan& plan = **ref;
      if (!CanBindText(id)) return std::optional<Record>();
      Result<PgResult> rows = Fail(Error::Internal("not run"));
      if (where == nullptr) {
        rows = conn.ExecuteCached(plan.get, {std::string(id)}, snapshot->generation);
      } else {
        SqlParams params;
        params.Add(std::string(id), "text");
        SnapshotNames names(*snapshot);
        auto condition = CompileFilter(*where, kRow, names, params);
        if (!condition) return Fail(condition.error());
        if (*condition == "FALSE") return std::optional<Record>();
        std::string sql = plan.get;
        if (*condition != "TRUE") sql += " AND " + *condition;
        Params values = params.Bind(sql);
        rows = conn.ExecuteCached(sql, values, snapshot->generation);
      }
      if (!rows) return Fail(rows.error());
      return ReadFirst(plan, *rows);
    });
  }

  Result<void> Write(const std::function<Result<void>(RecordTransaction&)>& work) override;

  Result<std::vector<StoredAuditEvent>> AuditEvents(const AuditQuery& query) override {
    return Run([&](Connection& conn, const Snapshot*) { return audit_.Events(conn, query); });
  }
  Result<std::vector<domain::AuditHead>> AuditHeads() override {
    return Run([&](Connection& conn, const Snapshot*) { return audit_.Heads(conn); });
  }
  Result<std::vector<StoredAuditEvent>> AuditChain(std::int64_t lane, std::int64_t after_seq,
                                                   std::int64_t limit) override {
    return Run([&](Connection& conn, const Snapshot*) {
      return audit_.Chain(conn, lane, after_seq, limit);
    });
  }
  // As the login role: the project role may append personal parts, never delete them.
  Result<std::int64_t> ErasePersonal(std::string_view subject) override {
    return Run([&](Connection& conn, const Snapshot*) { return audit_.Erase(conn, subject); },
               As::kLogin);
  }
  Result<std::vector<domain::AuditHead>> AuditAnchors() override {
    return Run([&](Connection& conn, const Snapshot*) { return audit_.Anchors(conn); });
  }
  // As the login role: detaching partitions and recording anchors are the owner's.
  Result<application::AuditArchived> ArchiveAudit(domain::Timestamp before,
                                                  application::AuditArchiveSink& sink) override {
    return Run([&](Connection& conn, const Snapshot*) { return audit_.Archive(conn, before, sink); },
               As::kLogin);
  }

  // One page of records (and the total) on `conn`, inside a transaction or not.
  Result<RecordPage> QueryOn(Connection& conn, const Snapshot& snapshot,
                             const Collection& collection, const RecordQuery& query);

  /// The project's schema, quoted.
  const std::string& sql_schema() const noexcept { return sql_schema_; }

 private:
  // Which role a pooled connection's statements run as.
  enum class As {
    kProject,  // the project's role: everything that reads or writes the project's tables
    kLogin,    // the login role, owner of the schema: creating the project's storage
  };

  // Switches the connection lent for this store to the role `as` names; no round trip when
  // it runs as that role already. The pool lends connections outside any transaction only.
  Result<void> UseRole(PooledConnection& pooled, As as) {
    return as == As::kProject ? pooled.role.Use(*pooled.conn, sql_role_)
                              : pooled.role.UseLogin(*pooled.conn);
  }

  // Runs `op` with a pooled connection switched to the role `as` names, and the current
  // snapshot. A connection that died idle in the pool fails its first round trip before any
  // effect: `op` is then retried once on a fresh one. A statement that names a table or column
  // the database no longer has means the snapshot is older than the database's schema (another
  // process changed it): the snapshot is reloaded and `op` retried once against it.
  template <typename Op>
  auto Run(Op&& op, As as = As::kProject) -> decltype(op(std::declval<Connection&>(), nullptr)) {
    for (int attempt = 1;; ++attempt) {
      auto lease = shared_->pool.Acquire();
      if (!lease) return Fail(lease.error());
      PooledConnection& pooled = **lease;
      Connection& conn = *pooled.conn;
      conn.ResetUsage();
      if (auto switched = UseRole(pooled, as); !switched) {
        if (attempt == 1 && LostBeforeAnyEffect(conn, switched.error())) continue;
        return Fail(switched.error());
      }
      auto fresh = Fresh(conn);
      if (!fresh) {
        if (attempt == 1 && LostBeforeAnyEffect(conn, fresh.error())) continue;
        return Fail(fresh.error());
      }
      SnapshotPtr snapshot = std::move(*fresh);
      auto result = op(conn, snapshot.get());
      if (result) return result;
      const bool lost_before_any_effect = LostBeforeAnyEffect(conn, result.error());
      const bool stale =
          IsStaleSchema(conn.last_sqlstate(), result.error()) || IsStaleSnapshot(result.error());
      if (attempt == 1 && lost_before_any_effect) continue;
      if (stale && snapshot != nullptr) {
        if (attempt == 1 && !conn.broken() && Refresh(conn, *snapshot)) continue;
        return Fail(StillStale(result.error()));
      }
      return result;
    }
  }

  static bool LostBeforeAnyEffect(const Connection& conn, const Error& error) {
    return conn.broken() && conn.round_trips() == 0 && error.code == ErrorCode::kUnavailable;
  }

  SnapshotPtr Current() const {
    std::lock_guard lock(mutex_);
    return snapshot_;
  }

  // The current snapshot, reloaded on `conn` first when the listener marked it stale; null
  // before Initialise loaded one. Callers take their pooled connection before this (never
  // the other way round), so that reloading cannot wait for a connection held by a caller
  // waiting here.
  Result<SnapshotPtr> Fresh(Connection& conn) {
    if (!stale_.load()) return Current();
    std::lock_guard reloading(reload_);  // one reload at a time; the others wait for it
    SnapshotPtr current = Current();
    if (!stale_.load() || current == nullptr) return current;
    // Cleared before loading: a notification that comes during the load marks the store
    // stale again, and one that came before is for a change the load sees.
    stale_.store(false);
    auto loaded = Load(conn);
    if (!loaded) {
      stale_.store(true);
      return Fail(loaded.error());
    }
    Install(std::move(*loaded));
    return Current();
  }

  // Replaces the snapshot with a newer one (not with an equal one: its statements are
  // prepared already).
  void Install(SnapshotPtr snapshot) {
    std::lock_guard lock(mutex_);
    if (snapshot_ == nullptr || snapshot->schema->version > snapshot_->schema->version) {
      snapshot_ = std::move(snapshot);
    }
  }

  // Reloads the snapshot after `used` proved stale; true when a newer one was installed.
  bool Refresh(Connection& conn, const Snapshot& used) {
    auto loaded = Load(conn);
    if (!loaded) return false;
    const bool newer = (*loaded)->schema->version != used.schema->version;
    if (newer) Install(std::move(*loaded));
    return newer;
  }

  Result<void> EnsureStorage(Connection& conn);
  // Creates the audit trail's monthly partitions due now, in a transaction of its own.
  // Precondition: `conn` idle, as the login role.
  Result<void> EnsurePartitions(Connection& conn);
  // The same inside the caller's transaction.
  Result<void> EnsurePartitionsIn(Connection& conn);
  // After a transaction that appended events up to the last month with a partition: creates
  // the next months' on `conn` (idle, as the login role), at most once per occasion. A failure
  // is not the committed transaction's: the default partition takes the events meanwhile, and
  // the partitions are tried again later.
  void KeepPartitions(Connection& conn) {
    if (!audit_.TakePartitionsDue()) return;
    audit_.PartitionsTried(EnsurePartitions(conn).has_value());
  }

  // Reads the version and definitions with `sql` (kLoadSchema or kLockSchema).
  Result<domain::ProjectSchema> ReadSchema(Connection& conn, const std::string& sql) {
    auto rows = conn.ExecuteCached(sql, {}, kInternalGeneration);
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) return Fail(Error::Internal("the schema version row is missing"));
    domain::ProjectSchema schema;
    auto version = Int(*rows, 0, 0);
    if (!version) return Fail(version.error());
    schema.version = *version;
    for (int row = 0; row < rows->Rows(); ++row) {
      if (rows->IsNull(row, 1)) continue;  // no collection: only the version came back
      auto collection = ReadDefinition(rows->Text(row, 1));
      if (!collection) return Fail(collection.error());
      schema.collections.push_back(std::move(*collection));
    }
    return schema;
  }

  Result<SnapshotPtr> Load(Connection& conn) {
    auto schema = ReadSchema(conn, load_schema_);
    if (!schema) return Fail(schema.error());
    return MakeSnapshot(std::make_shared<const domain::ProjectSchema>(std::move(*schema)),
                        shared_->NextGeneration(), sql_schema_);
  }

  // ApplySchema's work inside its transaction; the snapshot to install once committed.
  Result<SnapshotPtr> ApplyOn(Connection& conn, const std::vector<CollectionChange>& changes,
                              std::int64_t expected_version, const std::string& actor,
                              domain::Timestamp at, const AuditWrite& audit);

  std::shared_ptr<PostgresProjectStores::Shared> shared_;
  const domain::Id id_;
  const std::string project_id_;   // id_.str()
  const std::string sql_schema_;   // "p_x", quoted
  const std::string schema_name_;  // p_x
  const std::string role_name_;    // socle_p_x
  const std::string sql_role_;     // "socle_p_x", quoted
  const std::string load_schema_;
  const std::string lock_schema_;
  const std::string upsert_collection_;
  const std::string delete_collection_;
  const std::string append_history_;
  const std::string bump_version_;
  const std::string history_;
  PostgresAuditTrail audit_;

  mutable std::mutex mutex_;  // guards snapshot_
  SnapshotPtr snapshot_;
  std::atomic<bool> stale_{false};  // another process changed the schema: reload before use
  std::mutex reload_;               // one reload of a stale snapshot at a time
  std::mutex schema_change_;        // one schema change of this process at a time
};

// ---- ProjectStore ----------------------------------------------------------------------------

Result<void> PostgresProjectStore::EnsureStorage(Connection& conn) {
  auto exists = conn.Execute(kStorageExists, {schema_name_, sql_schema_ + "._schema_version",
                                              role_name_, sql_schema_ + "._audit_anchor",
                                              sql_schema_});
  if (!exists) return Fail(exists.error());
  const bool has_schema = exists->Text(0, 0) == "t";
  const bool ready =
      exists->Text(0, 1) == "t" && exists->Text(0, 2) == "t" && exists->Text(0, 3) == "t";
  auto missing_partitions = Int(*exists, 0, 4);
  if (!missing_partitions) return Fail(missing_partitions.error());
  // The common case: nothing to create.
  if (ready && *missing_partitions == 0) {
    auto horizon = Int(*exists, 0, 5);
    if (!horizon) return Fail(horizon.error());
    audit_.SetHorizon(*horizon);
    return {};
  }
  if (!ready) {
    // Two processes opening a new project at once would both run CREATE TABLE IF NOT EXISTS,
    // which is not safe concurrently (one fails on the catalog's unique index): the advisory
    // lock makes them take turns, and the second finds everything in place.
    auto created = InTransaction(conn, [&]() -> Result<void> {
      auto locked = conn.Execute(kLockStorage, {std::to_string(kStorageLockClass), schema_name_});
      if (!locked) return Fail(locked.error());
      if (!has_schema) {
        if (auto done = conn.Script(ExpandSqlTemplate(kCreateSchema, sql_schema_)); !done) {
          return Fail(done.error());
        }
      }
      if (auto done = conn.Script(ExpandSqlTemplate(kCreateInternalTables, sql_schema_)); !done) {
        return Fail(done.error());
      }
      // The audit tables too for a schema an older build created.
      if (auto done = audit_.Create(conn); !done) return Fail(done.error());
      // The role comes with the storage, also for a project whose storage predates roles; it
      // is granted what the schema holds now, and each table ApplySchema creates later is
      // granted in the transaction that creates it (CollectionDdl).
      if (auto done = conn.Script(ExpandSqlTemplate(kLockVersion, sql_schema_)); !done) {
        return Fail(done.error());
      }
      if (auto done = EnsureProjectRole(conn, id_); !done) return Fail(done.error());
      if (auto done = GrantProjectSchema(conn, sql_schema_, id_); !done) {
        return Fail(done.error());
      }
      const std::string read_only =
          ExpandSqlTemplate(kInternalTablesReadOnly, sql_schema_, sql_role_);
      if (auto done = conn.Script(read_only); !done) {
        return Fail(done.error());
      }
      // After the schema-wide grant, which gave the role more than appending to the trail.
      return audit_.Secure(conn);
    });
    if (!created) return created;
  }
  // Partitions are a convenience (the default partition holds what they do not): a project
  // busy enough that the new months' cannot be attached in time opens anyway, and the first
  // events make them due again.
  bool timed_out = false;
  auto partitioned = InTransaction(conn, [&]() -> Result<void> {
    auto done = EnsurePartitionsIn(conn);
    timed_out = !done && conn.last_sqlstate() == "55P03";
    return done;
  });
  if (!partitioned && timed_out && !conn.broken()) return {};
  return partitioned;
}

Result<void> PostgresProjectStore::EnsurePartitionsIn(Connection& conn) {
  // The storage lock: CREATE TABLE of the same partition by two processes at once would
  // collide; the second finds it in place.
  auto locked = conn.Execute(kLockStorage, {std::to_string(kStorageLockClass), schema_name_});
  if (!locked) return Fail(locked.error());
  return audit_.EnsurePartitions(conn);
}

Result<void> PostgresProjectStore::EnsurePartitions(Connection& conn) {
  return InTransaction(conn, [&]() { return EnsurePartitionsIn(conn); });
}

Result<RecordPage> PostgresProjectStore::QueryOn(Connection& conn, const Snapshot& snapshot,
                                                 const Collection& collection,
                                                 const RecordQuery& query) {
  auto ref = PlanRef::For(snapshot, collection, sql_schema_);
  if (!ref) return Fail(ref.error());
  const CollectionPlan& plan = **ref;
  auto execute = [&](std::string sql, const SqlParams& bound) {
    Params values = bound.Bind(sql);
    return conn.ExecuteCached(sql, values, snapshot.generation);
  };
  const std::int64_t limit = std::max<std::int64_t>(query.limit, 0);
  const std::int64_t offset = std::max<std::int64_t>(query.offset, 0);

  RecordPage page;
  std::string where;
  SqlParams params;
  if (query.where != nullptr) {
    SnapshotNames names(snapshot);
    auto condition = CompileFilter(*query.where, kRow, names, params);
    if (!condition) return Fail(condition.error());
    if (*condition == "FALSE") {
      page.total = query.count_total ? 0 : -1;
      return page;
    }
    if (*condition != "TRUE") where = " WHERE " + *condition;
  }

  if (where.empty() && query.sort.empty()) {
    // The plain list, generated once per snapshot.
    auto rows = conn.ExecuteCached(plan.list_all, {std::to_string(limit), std::to_string(offset)},
                                   snapshot.generation);
    if (!rows) return Fail(rows.error());
    auto items = ReadRecords(plan, *rows);
    if (!items) return Fail(items.error());
    page.items = std::move(*items);
    if (query.count_total) {
      auto count = conn.ExecuteCached(plan.count_all, {}, snapshot.generation);
      if (!count) return Fail(count.error());
      auto total = Int(*count, 0, 0);
      if (!total) return Fail(total.error());
      page.total = *total;
    }
    return page;
  }

  SnapshotNames names(snapshot);
  auto order = CompileOrder(query.sort, collection, kRow, names, params);
  if (!order) return Fail(order.error());
  std::string sql = "SELECT " + plan.select_list + " FROM " + plan.table + " AS " +
                    std::string(kRow) + where + " ORDER BY " + *order + " LIMIT " +
                    params.Add(std::to_string(limit), "int8") + " OFFSET " +
                    params.Add(std::to_string(offset), "int8");
  auto rows = execute(std::move(sql), params);
  if (!rows) return Fail(rows.error());
  auto items = ReadRecords(plan, *rows);
  if (!items) return Fail(items.error());
  page.items = std::move(*items);
  if (query.count_total) {
    // The same filter, binding only the values it uses (not those of ORDER BY and LIMIT).
    auto count =
        execute("SELECT count(*) FROM " + plan.table + " AS " + std::string(kRow) + where, params);
    if (!count) return Fail(count.error());
    auto total = Int(*count, 0, 0);
    if (!total) return Fail(total.error());
    page.total = *total;
  }
  return page;
}

Result<void> PostgresProjectStore::Write(
    const std::function<Result<void>(RecordTransaction&)>& work) {
  for (int attempt = 1;; ++attempt) {
    auto lease = shared_->pool.Acquire();
    if (!lease) return Fail(lease.error());
    PooledConnection& pooled = **lease;
    Connection& conn = *pooled.conn;
    conn.ResetUsage();
    // Before BEGIN: a role set inside the transaction would be undone by its rollback.
    if (auto switched = UseRole(pooled, As::kProject); !switched) {
      if (attempt == 1 && LostBeforeAnyEffect(conn, switched.error())) continue;
      return Fail(switched.error());
    }
    auto fresh = Fresh(conn);
    if (!fresh) {
      if (attempt == 1 && LostBeforeAnyEffect(conn, fresh.error())) continue;
      return Fail(fresh.error());
    }
    SnapshotPtr snapshot = std::move(*fresh);
    // BEGIN travels with the transaction's first statement (Connection::Defer).
    conn.Defer(kBegin);
    const int answered = conn.round_trips();
    PostgresRecordTransaction tx(*this, conn, *snapshot, audit_);
    Result<void> result = work(tx);
    if (!result && attempt == 1 && conn.broken() && conn.round_trips() == answered) {
      // Lost while idle in the pool, before any answer came back: nothing was committed, and
      // the server ends the transaction with the session. Once more on a fresh connection.
      RollBack(conn);
      continue;
    }
    if (result && conn.InFailedTransaction()) {
      // `work` went on after a statement failed; PostgreSQL would turn the COMMIT into a
      // ROLLBACK, so the transaction fails with that statement's error.
      result = Fail(tx.first_failure() ? *tx.first_failure()
                                       : Error::Internal("the transaction failed"));
    }
    if (result) {
      if (auto committed = conn.Script(kCommit); !committed) {
        RollBack(conn);
        return Fail(committed.error());
      }
      if (audit_.TakePartitionsDue()) {
        // Rare (monthly): DDL as the owner; the next lease switches back to the project role.
        audit_.PartitionsTried(UseRole(pooled, As::kLogin) && EnsurePartitions(conn));
      }
      return result;
    }
    RollBack(conn);
    if (tx.stale_schema()) {
      // Everything was rolled back: `work` may run again against the current schema.
      if (attempt == 1 && !conn.broken() && Refresh(conn, *snapshot)) continue;
      return Fail(StillStale(result.error()));
    }
    return result;
  }
}

Result<SchemaPtr> PostgresProjectStore::ApplySchema(const std::vector<CollectionChange>& changes,
                                                    std::int64_t expected_version,
                                                    const std::string& actor,
                                                    domain::Timestamp at,
                                                    const AuditWrite& audit) {
  std::lock_guard serial(schema_change_);
  // A connection of its own: DDL may need longer than a request's statement timeout. It is
  // never lent to a project, so it runs as the login role, which owns the schema.
  ConnectionSettings settings = shared_->settings;
  settings.statement_timeout = kSchemaStatementTimeout;
  auto opened = PostgresProjectStores::Shared::OpenConnection(settings);
  if (!opened) return Fail(opened.error());
  Connection& conn = **opened;
  if (auto begun = conn.Script(kBegin); !begun) return Fail(begun.error());
  auto applied = ApplyOn(conn, changes, expected_version, actor, at, audit);
  if (!applied) {
    RollBack(conn);
    return Fail(applied.error());
  }
  if (auto committed = conn.Script(kCommit); !committed) {
    RollBack(conn);
    return Fail(committed.error());
  }
  SchemaPtr schema = (*applied)->schema;
  Install(std::move(*applied));
  KeepPartitions(conn);
  return schema;
}

Result<SnapshotPtr> PostgresProjectStore::ApplyOn(Connection& conn,
                                                  const std::vector<CollectionChange>& changes,
                                                  std::int64_t expected_version,
                                                  const std::string& actor, domain::Timestamp at,
                                                  const AuditWrite& audit) {
  if (!CanBindText(actor)) return Fail(ErrorCode::kInvalidArgument, "Invalid actor.");
  if (auto limited = conn.Script(kSchemaLockTimeout); !limited) return Fail(limited.error());
  auto current = ReadSchema(conn, lock_schema_);
  if (!current) return Fail(current.error());
  if (current->version != expected_version) {
    // This process's snapshot may be the stale one: it is brought up to date on the way.
    if (current->version != Current()->schema->version) {
      auto snapshot = MakeSnapshot(std::make_shared<const domain::ProjectSchema>(*current),
                                   shared_->NextGeneration(), sql_schema_);
      if (snapshot) Install(std::move(*snapshot));
    }
    return Fail(SchemaChanged());
  }

  // The stored definitions are the truth about the tables: each change's DDL is derived from
  // them (the caller's `before` only names the collection).
  std::vector<Collection> collections = std::move(current->collections);
  auto find = [&](const std::string& id) {
    return std::find_if(collections.begin(), collections.end(),
                        [&](const Collection& c) { return c.id == id; });
  };
  const std::int64_t version = expected_version + 1;
  int sequence = 0;
  for (const auto& change : changes) {
    if (!change.before && !change.after) continue;
    if (change.before && change.after && change.before->id != change.after->id) {
      return Fail(
          Error::Field("id", "validation_invalid_id", "A collection cannot change its id."));
    }
    const std::string& id = change.after ? change.after->id : change.before->id;
    auto stored = find(id);
    std::optional<Collection> before;
    std::string before_text;
    if (stored != collections.end()) {
      before = *stored;
      before_text = WriteDefinition(*stored);
    }
    if (change.before && !before) {
      return Fail(ErrorCode::kNotFound, "Collection not found.");
    }
    if (!change.before && before) {
      return Fail(ErrorCode::kAlreadyExists, "A collection with this id already exists.");
    }

    auto statements = CollectionDdl(sql_schema_, sql_role_, before, change.after);
    if (!statements) return Fail(statements.error());
    for (const DdlStatement& statement : *statements) {
      if (statement.retype) {
        if (auto converted = ConvertColumn(conn, *statement.retype); !converted) {
          return Fail(converted.error());
        }
        continue;
      }
      auto done = conn.Script(statement.sql);
      if (done) continue;
      Error error = std::move(done.error());
      const std::string sqlstate = conn.last_sqlstate();
      if (statement.index && (sqlstate == "23505" || sqlstate == "42P07")) {
        Error refused = Error::Field(
            "indexes." + std::to_string(*statement.index),
            sqlstate == "23505" ? "validation_not_unique" : "validation_invalid_index",
            sqlstate == "23505" ? "The existing records do not satisfy this unique index."
                                : "The index name is already used in this project.");
        refused.internal = error.internal;
        return Fail(std::move(refused));
      }
      return Fail(std::move(error));
    }

    Params history{std::to_string(version),
                   std::to_string(sequence++),
                   at.ToIso8601(),
                   actor,
                   before ? std::optional<std::string>(before_text) : std::nullopt,
                   std::nullopt};
    if (change.after) {
      std::string definition = WriteDefinition(*change.after);
      history[5] = definition;
      auto upserted = conn.Execute(Statement{"", upsert_collection_.c_str(), 3},
                                   {change.after->id, change.after->name, std::move(definition)});
      if (!upserted) return Fail(upserted.error());
      if (stored != collections.end()) {
        *stored = *change.after;
      } else {
        collections.push_back(*change.after);
      }
    } else {
      auto deleted = conn.Execute(Statement{"", delete_collection_.c_str(), 1}, {id});
      if (!deleted) return Fail(deleted.error());
      collections.erase(stored);
    }
    auto recorded = conn.Execute(Statement{"", append_history_.c_str(), 6}, history);
    if (!recorded) return Fail(recorded.error());
  }
  auto bumped = conn.Execute(Statement{"", bump_version_.c_str(), 0});
  if (!bumped) return Fail(bumped.error());
  // The change's audit event commits with it, or neither does.
  if (audit) {
    PostgresAuditAppender appender(audit_, conn);
    if (auto recorded = audit(appender); !recorded) return Fail(recorded.error());
  }
  // Queued with the transaction: other processes hear of the change when it commits.
  auto notified = conn.Execute(kNotifySchemaChange,
                               {kSchemaChannel, project_id_ + ":" + std::to_string(version)});
  if (!notified) return Fail(notified.error());

  auto schema = std::make_shared<domain::ProjectSchema>();
  schema->collections = std::move(collections);
  schema->version = version;
  return MakeSnapshot(std::move(schema), shared_->NextGeneration(), sql_schema_);
}

Result<std::vector<SchemaHistoryEntry>> PostgresProjectStore::History() {
  return Run([&](Connection& conn, const Snapshot*) -> Result<std::vector<SchemaHistoryEntry>> {
    auto rows = conn.ExecuteCached(history_, {}, kInternalGeneration);
    if (!rows) return Fail(rows.error());
    std::vector<SchemaHistoryEntry> entries;
    entries.reserve(static_cast<std::size_t>(rows->Rows()));
    for (int row = 0; row < rows->Rows(); ++row) {
      SchemaHistoryEntry entry;
      auto version = Int(*rows, row, 0);
      auto micros = Int(*rows, row, 1);
      if (!version) return Fail(version.error());
      if (!micros) return Fail(micros.error());
      entry.version = *version;
      entry.at = domain::Timestamp::FromUnixMicros(*micros);
      entry.actor = std::string(rows->Text(row, 2));
      if (!rows->IsNull(row, 3)) {
        auto before = ReadDefinition(rows->Text(row, 3));
        if (!before) return Fail(before.error());
        entry.change.before = std::move(*before);
      }
      if (!rows->IsNull(row, 4)) {
        auto after = ReadDefinition(rows->Text(row, 4));
        if (!after) return Fail(after.error());
        entry.change.after = std::move(*after);
      }
      entries.push_back(std::move(entry));
    }
    return entries;
  });
}

// ---- RecordTransaction -----------------------------------------------------------------------

Result<std::optional<Record>> PostgresRecordTransaction::Find(const Collection& collection,
                                                              std::string_view id) {
  auto ref = PlanRef::For(snapshot_, collection, store_.sql_schema());
  if (!ref) return Fail(Failed(std::move(ref.error())));
  const CollectionPlan& plan = **ref;
  if (!CanBindText(id)) return std::optional<Record>();
  auto rows = Execute(plan.find_for_update, {std::string(id)});
  if (!rows) return Fail(rows.error());
  auto record = ReadFirst(plan, *rows);
  if (!record) return Fail(Failed(std::move(record.error())));
  return record;
}

Result<std::size_t> PostgresRecordTransaction::CountExisting(const Collection& collection,
                                                             const std::vector<std::string>& ids) {
  auto ref = PlanRef::For(snapshot_, collection, store_.sql_schema());
  if (!ref) return Fail(Failed(std::move(ref.error())));
  const CollectionPlan& plan = **ref;
  // One plain read, no row lock: many writers may point at the same record (every post at its
  // author) without waiting for each other's commits. An id that cannot be bound (it holds
  // NUL) names no record.
  std::vector<std::string> bindable;
  bindable.reserve(ids.size());
  for (const std::string& id : ids) {
    if (CanBindText(id)) bindable.push_back(id);
  }
  if (bindable.empty()) return std::size_t{0};
  auto rows = Execute(plan.count_existing, {FormatTextArray(bindable)});
  if (!rows) return Fail(rows.error());
  auto count = Int(*rows, 0, 0);
  if (!count) return Fail(Failed(std::move(count.error())));
  return static_cast<std::size_t>(*count);
}

Result<RecordPage> PostgresRecordTransaction::Query(const Collection& collection,
                                                    const RecordQuery& query) {
  auto page = store_.QueryOn(conn_, snapshot_, collection, query);
  if (!page) return Fail(Failed(std::move(page.error())));
  return page;
}

Result<bool> PostgresRecordTransaction::Matches(const Collection& collection, std::string_view id,
                                                const ResolvedFilter& filter) {
  auto ref = PlanRef::For(snapshot_, collection, store_.sql_schema());
  if (!ref) return Fail(Failed(std::move(ref.error())));
  const CollectionPlan& plan = **ref;
  if (!CanBindText(id)) return false;
  SqlParams params;
  params.Add(std::string(id), "text");
  SnapshotNames names(snapshot_);
  auto condition = CompileFilter(filter, kRow, names, params);
  if (!condition) return Fail(Failed(std::move(condition.error())));
  if (*condition == "FALSE") return false;
  std::string sql = plan.exists;
  if (*condition != "TRUE") sql += " AND " + *condition;
  Params values = params.Bind(sql);
  auto rows = Execute(sql, values);
  if (!rows) return Fail(rows.error());
  return rows->Rows() > 0;
}

Result<void> PostgresRecordTransaction::Insert(const Collection& collection, const Record& record) {
  auto ref = PlanRef::For(snapshot_, collection, store_.sql_schema());
  if (!ref) return Fail(Failed(std::move(ref.error())));
  const CollectionPlan& plan = **ref;
  auto params = RecordParams(plan, record, /*id_first=*/false);
  if (!params) return Fail(params.error());
  auto done = Execute(plan.insert, *params);
  if (!done) return Fail(done.error());
  if (done->Affected() == 1) return {};
  auto conflict = DiagnoseConflict(plan, *params);
  if (!conflict) return Fail(conflict.error());
  return Fail(std::move(*conflict));
}

// Tells which unique constraint refused a row that INSERT ... ON CONFLICT DO NOTHING skipped:
// the id, else the first unique index whose columns already hold the row's values.
Result<Error> PostgresRecordTransaction::DiagnoseConflict(const CollectionPlan& plan,
                                                          const Params& params) {
  auto taken = Execute(plan.exists, {params[plan.id_index]});
  if (!taken) return Fail(taken.error());
  if (taken->Rows() > 0) return IdTaken();
  for (const UniqueIndex& index : plan.unique_indexes) {
    if (index.fields.empty()) continue;
    SqlParams values;
    std::string sql = "SELECT 1 FROM " + plan.table + " WHERE ";
    for (std::size_t i = 0; i < index.fields.size(); ++i) {
      const std::size_t f = index.fields[i];
      if (i > 0) sql += " AND ";
      if (plan.storage[f] == StorageClass::kJson) {
        sql +=
            "(" + plan.columns[f] + ")::text IS NOT DISTINCT FROM " + values.Add(params[f], "text");
      } else {
        sql += plan.columns[f] + " IS NOT DISTINCT FROM " +
               values.Add(params[f], ParamType(plan.storage[f]));
      }
    }
    sql += " LIMIT 1";
    Params bound = values.Bind(sql);
    auto found = Execute(sql, bound);
    if (!found) return Fail(found.error());
    if (found->Rows() > 0) return NotUnique(*plan.collection, index);
  }
  // The conflicting row went away meanwhile.
  return Error::Make(ErrorCode::kAborted, "A concurrent change conflicted; retry the operation.");
}

Result<void> PostgresRecordTransaction::Update(const Collection& collection, const Record& record) {
  auto ref = PlanRef::For(snapshot_, collection, store_.sql_schema());
  if (!ref) return Fail(Failed(std::move(ref.error())));
  const CollectionPlan& plan = **ref;
  auto params = RecordParams(plan, record, /*id_first=*/true);
  if (!params) return Fail(params.error());
  // A unique index may refuse the new values; a savepoint then keeps the transaction usable,
  // as the other stores keep theirs. Without unique indexes nothing can refuse them.
  const bool guarded = !plan.unique_indexes.empty();
  if (guarded) {
    if (auto saved = conn_.Script("SAVEPOINT socle_update"); !saved) {
      return Fail(Failed(std::move(saved.error())));
    }
  }
  auto done = conn_.ExecuteCached(plan.update, *params, snapshot_.generation);
  if (!done) {
    if (guarded && conn_.last_sqlstate() == "23505") {
      const std::string constraint = conn_.last_constraint();
      if (auto back = conn_.Script("ROLLBACK TO SAVEPOINT socle_update"); !back) {
        return Fail(Failed(std::move(back.error())));
      }
      for (const UniqueIndex& index : plan.unique_indexes) {
        if (index.sql_name == constraint) return Fail(NotUnique(*plan.collection, index));
      }
      return Fail(IdTaken());
    }
    return Fail(Failed(std::move(done.error())));
  }
  if (guarded) {
    if (auto released = conn_.Script("RELEASE SAVEPOINT socle_update"); !released) {
      return Fail(Failed(std::move(released.error())));
    }
  }
  if (done->Affected() == 0) return Fail(ErrorCode::kNotFound, "Record not found.");
  return {};
}

Result<void> PostgresRecordTransaction::Delete(const Collection& collection, std::string_view id) {
  auto ref = PlanRef::For(snapshot_, collection, store_.sql_schema());
  if (!ref) return Fail(Failed(std::move(ref.error())));
  const CollectionPlan& plan = **ref;
  if (!CanBindText(id)) return Fail(ErrorCode::kNotFound, "Record not found.");
  auto done = Execute(plan.remove, {std::string(id)});
  if (!done) return Fail(done.error());
  if (done->Affected() == 0) return Fail(ErrorCode::kNotFound, "Record not found.");
  return {};
}

}  // namespace

// ---- schema change notifications ------------------------------------------------------------

void PostgresProjectStores::Shared::SchemaChanged(std::string_view project_id,
                                                  std::optional<std::int64_t> version) {
  std::shared_ptr<PostgresProjectStore> store;
  {
    std::lock_guard lock(mutex);
    auto found = entries.find(project_id);
    if (found == entries.end()) return;  // not open here: it loads its schema when opened
    store = found->second->watched.lock();
  }
  if (store != nullptr) store->MarkStale(version);
}

void PostgresProjectStores::Shared::AllSchemasMayHaveChanged() {
  std::vector<std::shared_ptr<PostgresProjectStore>> stores;
  {
    std::lock_guard lock(mutex);
    for (const auto& [id, entry] : entries) {
      if (auto store = entry->watched.lock()) stores.push_back(std::move(store));
    }
  }
  for (const auto& store : stores) store->MarkStale(std::nullopt);
}

// Listens for the schema changes of other processes on a connection of its own, with a thread
// that waits on its socket and on an eventfd that the destructor signals: every wait (the
// connection's handshake and round trips included) ends at once on shutdown.
struct PostgresProjectStores::Listener {
  // Opens the listening connection and starts the thread. unavailable when the server cannot
  // be reached; resource_exhausted when the thread or its wake-up descriptor cannot be made.
  static Result<std::unique_ptr<Listener>> Start(Shared& shared) {
    const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0) {
      return Fail(Error::Make(ErrorCode::kResourceExhausted,
                              "Cannot listen for schema changes: no eventfd."));
    }
    std::unique_ptr<Listener> listener(new Listener(shared, wake_fd));
    auto conn = listener->Listen();
    if (!conn) return Fail(conn.error());
    listener->backend_pid_.store((*conn)->backend_pid());
    try {
      listener->thread_ = std::thread([self = listener.get(), first = std::move(*conn)]() mutable {
        self->Run(std::move(first));
      });
    } catch (const std::system_error& e) {
      return Fail(Error::Make(ErrorCode::kResourceExhausted,
                              std::string("Cannot start the schema listener: ") + e.what()));
    }
    return listener;
  }

  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  ~Listener() {
    stopping_.store(true);
    // The counter stays non-zero, so every later wait on the descriptor ends at once too. A
    // failed write (counter overflow, impossible here) would leave the thread to notice
    // stopping_ at its next timeout.
    (void)eventfd_write(wake_fd_, 1);
    if (thread_.joinable()) thread_.join();
    close(wake_fd_);
  }

  int backend_pid() const noexcept { return backend_pid_.load(); }

 private:
  using Clock = std::chrono::steady_clock;

  Listener(Shared& shared, int wake_fd) : shared_(shared), wake_fd_(wake_fd) {}

  // A new connection that LISTENs on the channel, its waits interruptible by wake_fd_.
  Result<std::unique_ptr<Connection>> Listen() {
    ConnectionSettings settings = shared_.settings;
    settings.interrupt_fd = wake_fd_;
    auto conn = Connection::Open(settings);
    if (!conn) return Fail(conn.error());
    if (auto listening = (*conn)->Script(kListenSchemaChanges); !listening) {
      return Fail(listening.error());
    }
    return std::move(*conn);
  }

  void Run(std::unique_ptr<Connection> conn) {
    auto delay = kReconnectFirst;
    for (;;) {
      const auto since = Clock::now();
      Serve(*conn);
      conn.reset();
      backend_pid_.store(0);
      if (stopping_.load()) return;
      if (Clock::now() - since >= kStableListener) delay = kReconnectFirst;
      while (conn == nullptr) {
        if (!Sleep(delay)) return;
        delay = std::min(delay * 2, kReconnectMost);
        auto opened = Listen();
        if (opened) conn = std::move(*opened);
      }
      backend_pid_.store(conn->backend_pid());
      // Changes committed while nobody listened went unannounced.
      shared_.AllSchemasMayHaveChanged();
    }
  }

  // Hands on the notifications that arrive on `conn` until it is lost or the listener stops.
  void Serve(Connection& conn) {
    auto heartbeat = Clock::now() + kListenerHeartbeat;
    while (!stopping_.load()) {
      // Also those that arrived during LISTEN or the heartbeat, which libpq read and queued.
      auto received = conn.TakeNotifications();
      if (!received) return;
      for (const Notification& notification : *received) Dispatch(notification);

      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(heartbeat - Clock::now()).count();
      pollfd fds[2] = {{conn.socket(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      const int ready = left <= 0 ? 0 : poll(fds, 2, static_cast<int>(left));
      if (ready < 0 && errno != EINTR) return;
      if (ready != 0) continue;  // data (or a signal, or the wake-up): look again
      // Nothing for a while: make sure the server is still there.
      if (auto alive = conn.Script(kHeartbeat); !alive) return;
      heartbeat = Clock::now() + kListenerHeartbeat;
    }
  }

  // Waits for `delay` unless the listener stops first; false when it stops.
  bool Sleep(std::chrono::milliseconds delay) {
    pollfd fd{wake_fd_, POLLIN, 0};
    const auto until = Clock::now() + delay;
    while (!stopping_.load()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return true;
      if (poll(&fd, 1, static_cast<int>(left)) < 0 && errno != EINTR) return !stopping_.load();
    }
    return false;
  }

  void Dispatch(const Notification& notification) {
    if (notification.channel != kSchemaChannel) return;
    // "<project id>:<version>"; anything else on the channel is not ours to interpret, but a
    // project id without a readable version still means that project changed.
    const std::string_view payload = notification.payload;
    const auto colon = payload.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return;
    const std::string_view text = payload.substr(colon + 1);
    std::int64_t version = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    std::optional<std::int64_t> known;
    if (ec == std::errc() && end == text.data() + text.size()) known = version;
    shared_.SchemaChanged(payload.substr(0, colon), known);
  }

  Shared& shared_;  // outlives the listener: PostgresProjectStores destroys the listener first
  const int wake_fd_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> backend_pid_{0};
  std::thread thread_;
};

// ---- ProjectStores ---------------------------------------------------------------------------

PostgresProjectStores::PostgresProjectStores(std::shared_ptr<Shared> shared)
    : shared_(std::move(shared)) {}
PostgresProjectStores::~PostgresProjectStores() {
  listener_.reset();  // first: it reaches the stores through shared_
  // The stores hold the shared state that lists them: forgetting them breaks the cycle, and
  // the pool closes when the last store still in a caller's hands goes.
  std::map<std::string, std::shared_ptr<Shared::Entry>, std::less<>> entries;
  {
    std::lock_guard lock(shared_->mutex);
    entries.swap(shared_->entries);
  }
}

Result<std::unique_ptr<PostgresProjectStores>> PostgresProjectStores::Connect(
    const PostgresOptions& options, SchemaWatch watch) {
  auto shared = std::make_shared<Shared>(options);
  {
    auto first = shared->pool.Acquire();  // a bad URL or an unreachable server fails here
    if (!first) return Fail(first.error());
  }
  std::unique_ptr<PostgresProjectStores> stores(new PostgresProjectStores(std::move(shared)));
  if (watch == SchemaWatch::kListen) {
    auto listener = Listener::Start(*stores->shared_);
    if (!listener) return Fail(listener.error());
    stores->listener_ = std::move(*listener);
  }
  return stores;
}

int PostgresProjectStores::schema_listener_pid() const noexcept {
  return listener_ != nullptr ? listener_->backend_pid() : 0;
}

Result<std::shared_ptr<ProjectStore>> PostgresProjectStores::Open(const domain::Project& project) {
  std::shared_ptr<Shared::Entry> entry;
  {
    std::lock_guard lock(shared_->mutex);
    auto& slot = shared_->entries[project.id.str()];
    if (!slot) slot = std::make_shared<Shared::Entry>();
    entry = slot;
  }
  std::lock_guard opening(entry->mutex);
  if (entry->store) return entry->store;
  const std::string schema_name = ProjectSchemaName(project.id);
  auto quoted = QuoteIdentifier(schema_name);
  if (!quoted) return Fail(quoted.error());
  auto role = QuoteIdentifier(ProjectRoleName(project.id));
  if (!role) return Fail(role.error());
  auto store = std::make_shared<PostgresProjectStore>(shared_, project.id, std::move(*quoted),
                                                      schema_name, std::move(*role));
  {
    // Watched before its first load (see Entry::watched).
    std::lock_guard lock(shared_->mutex);
    entry->watched = store;
  }
  if (auto ready = store->Initialise(); !ready) {
    Error error = std::move(ready.error());
    if (error.code == ErrorCode::kInternal) {
      error.code = ErrorCode::kUnavailable;
      error.message = "The project's storage cannot be opened.";
    }
    return Fail(std::move(error));
  }
  entry->store = store;
  return entry->store;
}

Result<void> PostgresProjectStores::Remove(const domain::Project& project) {
  Close(project.id);
  auto schema = QuoteIdentifier(ProjectSchemaName(project.id));
  if (!schema) return Fail(schema.error());
  auto lease = shared_->pool.Acquire();
  if (!lease) return Fail(lease.error());
  PooledConnection& pooled = **lease;
  Connection& conn = *pooled.conn;
  if (auto login = pooled.role.UseLogin(conn); !login) return Fail(login.error());
  return InTransaction(conn, [&]() -> Result<void> {
    if (auto dropped = conn.Script("DROP SCHEMA IF EXISTS " + *schema + " CASCADE"); !dropped) {
      return Fail(dropped.error());
    }
    return DropProjectRole(conn, project.id);
  });
}

void PostgresProjectStores::Close(const domain::Id& project_id) {
  std::shared_ptr<Shared::Entry> entry;
  {
    std::lock_guard lock(shared_->mutex);
    auto found = shared_->entries.find(project_id.str());
    if (found == shared_->entries.end()) return;
    entry = std::move(found->second);
    shared_->entries.erase(found);
  }
  // Callers holding the store finish with it; it goes when the last of them lets go. Its
  // prepared statements age out of the connections' caches.
  std::lock_guard opening(entry->mutex);
  entry->store.reset();
}

}  // namespace socle::adapters::postgres
