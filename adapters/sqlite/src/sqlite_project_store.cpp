#include "socle/adapters/sqlite/sqlite_project_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "socle/adapters/bounded_pool.hpp"
#include "socle/adapters/group_commit.hpp"
#include "socle/adapters/json/collection_json.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/sqlite/project_database_path.hpp"
#include "socle/domain/schema_diff.hpp"
#include "sqlite_audit_row.hpp"
#include "sqlite_filter_compiler.hpp"
#include "sqlite_identifier.hpp"
#include "sqlite_schema_ddl.hpp"
#include "sqlite_value_codec.hpp"

namespace socle::adapters::sqlite {

using application::AuditQuery;
using application::CollectionChange;
using application::RecordPage;
using application::RecordQuery;
using application::RecordTransaction;
using application::SchemaHistoryEntry;
using application::StoredAuditEvent;
using domain::Collection;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::JsonValue;
using domain::Record;
using domain::Result;
using domain::SchemaPtr;
using domain::StorageClass;
using domain::filter::ResolvedFilter;

namespace {

// ---- SQL, as named constants; every value is bound (?n). -------------------------------------

// The project's own bookkeeping. Names start with '_', which collection names cannot (system
// collections aside, none of which is named so). One history row per collection change, so
// the key is a sequence: one ApplySchema may record several changes under one version.
constexpr char kBootstrap[] =
    "CREATE TABLE IF NOT EXISTS \"_collections\" ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " position INTEGER NOT NULL,"
    " definition TEXT NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS \"_schema_history\" ("
    " seq INTEGER PRIMARY KEY,"
    " version INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " \"before\" TEXT NULL,"
    " \"after\" TEXT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS \"_schema_version\" ("
    " id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),"
    " version INTEGER NOT NULL) STRICT;"
    "INSERT OR IGNORE INTO \"_schema_version\" (id, version) VALUES (1, 0);"
    // The audit trail (see docs/audit.md): one row per event, every member a column, `at` in
    // microseconds since the epoch, keyed by its place in its chain. The personal parts are
    // the nullable actor_data and target_data: erasing one sets it to NULL and leaves the
    // chain, which holds only their hashes, intact. Their subjects are the event's actor_id
    // and target_id, so a subject's parts are found through the actor and target indexes: a
    // table of their own would cost each write two more B-trees (the table and its subject
    // index), a page each per commit. Created here rather than by a migration so that a
    // database from an older build gains them when it is next opened.
    "CREATE TABLE IF NOT EXISTS \"_audit\" ("
    " lane INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " org_id TEXT NOT NULL,"
    " project_id TEXT NOT NULL,"
    " actor_kind TEXT NOT NULL,"
    " actor_id TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " target_kind TEXT NOT NULL,"
    " target_collection TEXT NOT NULL,"
    " target_id TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " request_id TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " changes TEXT NOT NULL,"
    " actor_personal TEXT NOT NULL,"
    " target_personal TEXT NOT NULL,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL,"
    " actor_data TEXT NULL,"
    " target_data TEXT NULL,"
    " PRIMARY KEY (lane, seq)) STRICT, WITHOUT ROWID;"
    // Searches run newest first, optionally for one actor or target (a data subject's events).
    "CREATE INDEX IF NOT EXISTS \"_audit_at\" ON \"_audit\" (at, lane, seq);"
    "CREATE INDEX IF NOT EXISTS \"_audit_actor\" ON \"_audit\" (actor_id, at);"
    "CREATE INDEX IF NOT EXISTS \"_audit_target\" ON \"_audit\" (target_id, at);"
    // Append-only in the database itself, whatever the code above it does: events are never
    // removed, and an update may only erase personal parts (set actor_data or target_data to
    // NULL). The update check compares values rather than naming columns (UPDATE OF), so that
    // assigning a column its own value stays harmless and a changed value is refused however
    // the statement is written; a column added to _audit must be added to it. An insert must
    // extend its chain by one: that also stops INSERT OR REPLACE, whose deletion of the row it
    // replaces fires no delete trigger (recursive_triggers is off by default). Someone with
    // the file can still drop these; the hash chain is what detects that.
    "CREATE TRIGGER IF NOT EXISTS \"_audit_no_update\" BEFORE UPDATE ON \"_audit\""
    " WHEN NEW.lane IS NOT OLD.lane OR NEW.seq IS NOT OLD.seq OR NEW.at IS NOT OLD.at"
    " OR NEW.org_id IS NOT OLD.org_id OR NEW.project_id IS NOT OLD.project_id"
    " OR NEW.actor_kind IS NOT OLD.actor_kind OR NEW.actor_id IS NOT OLD.actor_id"
    " OR NEW.action IS NOT OLD.action OR NEW.target_kind IS NOT OLD.target_kind"
    " OR NEW.target_collection IS NOT OLD.target_collection"
    " OR NEW.target_id IS NOT OLD.target_id OR NEW.outcome IS NOT OLD.outcome"
    " OR NEW.request_id IS NOT OLD.request_id OR NEW.reason IS NOT OLD.reason"
    " OR NEW.changes IS NOT OLD.changes OR NEW.actor_personal IS NOT OLD.actor_personal"
    " OR NEW.target_personal IS NOT OLD.target_personal OR NEW.prev_hash IS NOT OLD.prev_hash"
    " OR NEW.hash IS NOT OLD.hash"
    " OR (NEW.actor_data IS NOT NULL AND NEW.actor_data IS NOT OLD.actor_data)"
    " OR (NEW.target_data IS NOT NULL AND NEW.target_data IS NOT OLD.target_data)"
    " BEGIN SELECT RAISE(ABORT, 'audit events are append-only; personal data can only be"
    " erased'); END;"
    //
    // Retention (ArchiveAudit) removes a chain's beginning once it is archived, and notes in
    // `_audit_anchor` where the chain now begins: the last archived event's lane, seq and hash
    // (and when it was archived). Anchors are only ever added, each at an event still stored
    // and beyond its lane's previous anchor; a delete is allowed only for an event at or below
    // its lane's latest anchor, so events are removed only after an anchor covers them. A
    // chain whose events all went continues from its anchor. The triggers of earlier builds,
    // which knew no anchors, are replaced (their names are dropped).
    "CREATE TABLE IF NOT EXISTS \"_audit_anchor\" ("
    " lane INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " hash TEXT NOT NULL,"
    " at INTEGER NOT NULL,"
    " PRIMARY KEY (lane, seq)) STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER IF NOT EXISTS \"_audit_anchor_no_update\" BEFORE UPDATE ON \"_audit_anchor\""
    " BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS \"_audit_anchor_no_delete\" BEFORE DELETE ON \"_audit_anchor\""
    " BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS \"_audit_anchor_at_event\" BEFORE INSERT ON \"_audit_anchor\""
    " WHEN NOT EXISTS (SELECT 1 FROM \"_audit\" WHERE lane = NEW.lane AND seq = NEW.seq"
    " AND hash = NEW.hash)"
    " OR NEW.seq <= coalesce((SELECT max(seq) FROM \"_audit_anchor\" WHERE lane = NEW.lane), 0)"
    " BEGIN SELECT RAISE(ABORT, 'an audit anchor must name a stored event beyond the last"
    " anchor'); END;"
    "DROP TRIGGER IF EXISTS \"_audit_no_delete\";"
    "CREATE TRIGGER IF NOT EXISTS \"_audit_delete_archived_only\" BEFORE DELETE ON \"_audit\""
    " WHEN OLD.seq > coalesce((SELECT max(seq) FROM \"_audit_anchor\" WHERE lane = OLD.lane), 0)"
    " BEGIN SELECT RAISE(ABORT, 'audit events are append-only; only archived events can be"
    " removed'); END;"
    "DROP TRIGGER IF EXISTS \"_audit_in_order\";"
    "CREATE TRIGGER IF NOT EXISTS \"_audit_next_in_chain\" BEFORE INSERT ON \"_audit\""
    " WHEN NEW.seq IS NOT coalesce((SELECT max(seq) FROM \"_audit\" WHERE lane = NEW.lane),"
    " (SELECT max(seq) FROM \"_audit_anchor\" WHERE lane = NEW.lane), 0) + 1"
    " BEGIN SELECT RAISE(ABORT, 'audit events are appended at the end of their chain'); END;";

constexpr std::string_view kBegin = "BEGIN";
constexpr std::string_view kBeginImmediate = "BEGIN IMMEDIATE";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kRollback = "ROLLBACK";
// One write of a group commit (see SqliteProjectStore::Write).
constexpr std::string_view kSavepoint = "SAVEPOINT \"write\"";
constexpr std::string_view kReleaseSavepoint = "RELEASE \"write\"";
constexpr std::string_view kRollbackToSavepoint = "ROLLBACK TO \"write\"";
// At most this many writes share one transaction and its flush.
constexpr std::size_t kMaxWriteBatch = 64;
constexpr std::string_view kJournalModeWal = "PRAGMA journal_mode = WAL";

constexpr std::string_view kSchemaVersion =
    "SELECT version FROM \"_schema_version\" WHERE id = 1";
constexpr std::string_view kSetSchemaVersion =
    "UPDATE \"_schema_version\" SET version = ?1 WHERE id = 1";
constexpr std::string_view kListCollections =
    "SELECT definition FROM \"_collections\" ORDER BY position, id";
constexpr std::string_view kCollectionExists = "SELECT 1 FROM \"_collections\" WHERE id = ?1";
constexpr std::string_view kInsertCollection =
    "INSERT INTO \"_collections\" (id, name, position, definition)"
    " VALUES (?1, ?2, (SELECT coalesce(max(position), 0) + 1 FROM \"_collections\"), ?3)";
constexpr std::string_view kUpdateCollection =
    "UPDATE \"_collections\" SET name = ?2, definition = ?3 WHERE id = ?1";
constexpr std::string_view kDeleteCollection = "DELETE FROM \"_collections\" WHERE id = ?1";
constexpr std::string_view kInsertHistory =
    "INSERT INTO \"_schema_history\" (version, at, actor, \"before\", \"after\")"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr std::string_view kListHistory =
    "SELECT version, at, actor, \"before\", \"after\" FROM \"_schema_history\" ORDER BY seq";

// The audit trail. A project's events form one chain here: SQLite admits one writer per file,
// so several lanes would only queue behind the same lock.
constexpr std::int64_t kAuditLane = 0;
// The head of a lane: its last row, read backwards along the primary key; for a lane archived
// whole, its latest anchor (the last archived event).
constexpr std::string_view kAuditHead =
    "SELECT seq, hash FROM (SELECT seq, hash FROM \"_audit\" WHERE lane = ?1"
    " ORDER BY seq DESC LIMIT 1)"
    " UNION ALL SELECT seq, hash FROM (SELECT seq, hash FROM \"_audit_anchor\" WHERE lane = ?1"
    " ORDER BY seq DESC LIMIT 1)"
    " ORDER BY seq DESC LIMIT 1";
// The latest anchor of every lane (where each archived chain now begins).
constexpr std::string_view kAuditAnchors =
    "SELECT n.lane, n.seq, n.hash FROM \"_audit_anchor\" AS n"
    " WHERE n.seq = (SELECT max(m.seq) FROM \"_audit_anchor\" AS m WHERE m.lane = n.lane)"
    " ORDER BY n.lane";
constexpr std::string_view kAuditLastAnchor =
    "SELECT coalesce(max(seq), 0) FROM \"_audit_anchor\" WHERE lane = ?1";
constexpr std::string_view kInsertAuditAnchor =
    "INSERT INTO \"_audit_anchor\" (lane, seq, hash, at) VALUES (?1, ?2, ?3, ?4)";
// Retention: the events before the cut, in chain order, a page after (lane, seq) at a time;
// then, per lane, how many and up to which seq, and the first event of each lane from the cut
// on (which must come after them all).
constexpr std::string_view kAuditArchivePage =
    " WHERE a.at < ?1 AND (a.lane, a.seq) > (?2, ?3) ORDER BY a.lane, a.seq LIMIT ?4";
constexpr std::string_view kAuditArchiveLanes =
    "SELECT lane, count(*), min(seq), max(seq) FROM \"_audit\" WHERE at < ?1"
    " GROUP BY lane ORDER BY lane";
constexpr std::string_view kAuditFirstKept =
    "SELECT min(seq) FROM \"_audit\" WHERE lane = ?1 AND at >= ?2";
constexpr std::string_view kAuditDeleteArchived =
    "DELETE FROM \"_audit\" WHERE lane = ?1 AND seq <= ?2";
// The events archived per page: bounded memory whatever the trail's length.
constexpr std::int64_t kAuditArchivePageSize = 1000;
// The next lane that has events, or had them before they were archived, after ?1 (AuditHeads
// walks them in order).
constexpr std::string_view kAuditNextLane =
    "SELECT min(lane) FROM (SELECT min(lane) AS lane FROM \"_audit\" WHERE lane > ?1"
    " UNION ALL SELECT min(lane) FROM \"_audit_anchor\" WHERE lane > ?1)";
// The lane, then the columns in the order BindAuditEvent binds them (sqlite_audit_row.hpp).
constexpr std::string_view kInsertAudit =
    "INSERT INTO \"_audit\" (lane, seq, at, org_id, project_id, actor_kind, actor_id, action,"
    " target_kind, target_collection, target_id, outcome, request_id, reason, changes,"
    " actor_personal, target_personal, prev_hash, hash, actor_data, target_data)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?19, ?20, ?21)";
// Erasure of a subject's parts, one statement per kind, each along its (subject, at) index.
// The `IS NOT NULL` keeps parts already erased out of the count.
constexpr std::string_view kEraseActorData =
    "UPDATE \"_audit\" SET actor_data = NULL WHERE actor_id = ?1 AND actor_data IS NOT NULL";
constexpr std::string_view kEraseTargetData =
    "UPDATE \"_audit\" SET target_data = NULL WHERE target_id = ?1 AND target_data IS NOT NULL";
// An event with its personal parts: the lane, then the columns ReadAuditEvent reads
// (sqlite_audit_row.hpp). Searches append their conditions (each with bound values) and an order.
constexpr std::string_view kSelectAudit =
    "SELECT a.lane, a.seq, a.at, a.org_id, a.project_id, a.actor_kind, a.actor_id, a.action,"
    " a.target_kind, a.target_collection, a.target_id, a.outcome, a.request_id, a.reason,"
    " a.changes, a.actor_personal, a.target_personal, a.prev_hash, a.hash,"
    " a.actor_data, a.target_data"
    " FROM \"_audit\" AS a";
constexpr std::string_view kAuditChain =
    " WHERE a.lane = ?1 AND a.seq > ?2 ORDER BY a.seq LIMIT ?3";
// The organisation's condition, appended only when the criterion is set, before the others
// (AppendAuditCriteria, whose cursor compares the lane column too); `?` is numbered in order of
// appearance by SQLite, so they are bound in the same order.
constexpr std::string_view kAuditByOrg = " AND a.org_id = ?";
constexpr std::string_view kAuditLaneColumn = "a.lane";
constexpr std::string_view kAuditNewestFirst =
    " ORDER BY a.at DESC, a.lane DESC, a.seq DESC LIMIT ?";
// The most events one search returns.
constexpr std::int64_t kMaxAuditPage = 1000;

// The alias of the queried table in generated statements; the filter compiler's own aliases
// (a1, a2 ..., j0, j1 ...) never collide with it.
constexpr std::string_view kRoot = "t";

// Stored definitions were written by this adapter; only the depth stays bounded on reading.
constexpr json::JsonLimits kDefinitionLimits{
    .max_depth = 64, .max_bytes = std::numeric_limits<std::size_t>::max()};

Error Closed() {
  return Error::Make(ErrorCode::kUnavailable, "The project's store is closed.");
}

Error NoTable(const Collection& collection) {
  return Error::Make(ErrorCode::kFailedPrecondition,
                     "The collection " + collection.name + " is a view; it has no records here.");
}

Result<void> RunConstant(Connection& conn, std::string_view sql) {
  auto stmt = conn.Prepare(sql);
  if (!stmt) return Fail(stmt.error());
  return stmt->Run();
}

// Runs `body` between `begin` and COMMIT, rolling back when it or the commit fails. The
// statements are prepared once per connection: transaction control is on every hot path.
template <typename Body>
auto InTransaction(Connection& conn, std::string_view begin, Body&& body) -> decltype(body()) {
  if (auto started = RunConstant(conn, begin); !started) return Fail(started.error());
  auto result = body();
  if (!result) {
    (void)RunConstant(conn, kRollback);  // the pool closes the connection if this fails too
    return result;
  }
  if (auto committed = RunConstant(conn, kCommit); !committed) {
    (void)RunConstant(conn, kRollback);
    return Fail(committed.error());
  }
  return result;
}

std::string DefinitionJson(const Collection& collection) {
  json::JsonWriter w;
  json::WriteCollection(w, collection);
  return std::move(w).Take();
}

Result<Collection> ReadDefinition(std::string_view text) {
  auto parsed = json::ParseJson(text, kDefinitionLimits);
  if (!parsed) {
    return Fail(Error::Internal("a stored collection definition is not JSON: " +
                                parsed.error().internal));
  }
  auto collection = json::ReadCollection(*parsed);
  if (!collection) {
    return Fail(Error::Internal("a stored collection definition is invalid: " +
                                collection.error().message));
  }
  return collection;
}

Result<std::int64_t> ReadVersion(Connection& conn) {
  auto stmt = conn.Prepare(kSchemaVersion);
  if (!stmt) return Fail(stmt.error());
  auto row = stmt->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Error::Internal("the project's _schema_version row is missing"));
  return stmt->Int(0);
}

Result<SchemaPtr> ReadSchema(Connection& conn) {
  auto version = ReadVersion(conn);
  if (!version) return Fail(version.error());
  auto schema = std::make_shared<domain::ProjectSchema>();
  schema->version = *version;
  auto stmt = conn.Prepare(kListCollections);
  if (!stmt) return Fail(stmt.error());
  for (;;) {
    auto row = stmt->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    auto collection = ReadDefinition(stmt->Text(0));
    if (!collection) return Fail(collection.error());
    schema->collections.push_back(std::move(*collection));
  }
  return SchemaPtr(std::move(schema));
}

// ---- per-collection SQL, generated once per schema snapshot ----------------------------------

struct CollectionSql {
  std::vector<StorageClass> storage;  // per field, in field order (the SELECT's columns)
  std::optional<std::size_t> id_index;
  std::string select;      // SELECT t."id", ... FROM "posts" AS t
  std::string get_by_id;   // ... WHERE t."id" = ?1
  std::string matches;     // SELECT 1 FROM "posts" AS t WHERE t."id" = ?1
  std::string count;       // SELECT count(*) FROM "posts" AS t
  std::string first_page;  // select ORDER BY t."id" LIMIT ?1 OFFSET ?2 (no filter, no sort)
  std::string insert;      // values in field order
  std::string update;      // ?1 the id, then the other fields in field order
  std::string remove;
};

CollectionSql BuildCollectionSql(const Collection& collection) {
  CollectionSql sql;
  const std::string table = QuoteIdentifier(collection.name);
  const std::string root(kRoot);
  const std::string id = root + ".\"id\"";
  std::string columns;
  std::string names;
  std::string values;
  std::string assignments;
  int param = 2;
  for (std::size_t i = 0; i < collection.fields.size(); ++i) {
    const auto& field = collection.fields[i];
    sql.storage.push_back(domain::StorageClassOf(field));
    if (i > 0) {
      columns += ", ";
      names += ", ";
      values += ", ";
    }
    columns += root + "." + QuoteIdentifier(field.name);
    names += QuoteIdentifier(field.name);
    values += "?" + std::to_string(i + 1);
    if (field.name == "id") {
      sql.id_index = i;
      continue;
    }
    if (!assignments.empty()) assignments += ", ";
    assignments += QuoteIdentifier(field.name) + " = ?" + std::to_string(param++);
  }
  if (assignments.empty()) assignments = "\"id\" = ?1";  // a collection of its id only
  sql.select = "SELECT " + columns + " FROM " + table + " AS " + root;
  sql.get_by_id = sql.select + " WHERE " + id + " = ?1";
  sql.matches = "SELECT 1 FROM " + table + " AS " + root + " WHERE " + id + " = ?1";
  sql.count = "SELECT count(*) FROM " + table + " AS " + root;
  sql.first_page = sql.select + " ORDER BY " + id + " LIMIT ?1 OFFSET ?2";
  sql.insert = "INSERT INTO " + table + " (" + names + ") VALUES (" + values + ")";
  sql.update = "UPDATE " + table + " SET " + assignments + " WHERE \"id\" = ?1";
  sql.remove = "DELETE FROM " + table + " WHERE \"id\" = ?1";
  return sql;
}

// A schema and the SQL of its collections, replaced as a whole when the schema changes.
struct Snapshot {
  SchemaPtr schema;
  std::vector<CollectionSql> sql;  // parallel to schema->collections

  // The SQL of `collection` when it belongs to this snapshot (the precondition of every call);
  // otherwise built into `scratch`, so a caller holding an older snapshot still gets SQL that
  // matches the collection it passed (which fails cleanly if its table changed).
  const CollectionSql& For(const Collection& collection,
                           std::optional<CollectionSql>& scratch) const {
    const auto& all = schema->collections;
    if (!all.empty()) {
      std::less<const Collection*> before;
      const Collection* first = all.data();
      const Collection* last = all.data() + all.size();
      if (!before(&collection, first) && before(&collection, last)) {
        return sql[static_cast<std::size_t>(&collection - first)];
      }
    }
    scratch = BuildCollectionSql(collection);
    return *scratch;
  }
};

std::shared_ptr<const Snapshot> MakeSnapshot(SchemaPtr schema) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->sql.reserve(schema->collections.size());
  for (const auto& collection : schema->collections) {
    snapshot->sql.push_back(BuildCollectionSql(collection));
  }
  snapshot->schema = std::move(schema);
  return snapshot;
}

// ---- records ---------------------------------------------------------------------------------

Result<Record> ReadRecord(const Statement& row, const CollectionSql& sql) {
  Record record;
  record.values.reserve(sql.storage.size());
  for (std::size_t i = 0; i < sql.storage.size(); ++i) {
    auto value = ReadValue(row, static_cast<int>(i), sql.storage[i]);
    if (!value) return Fail(value.error());
    record.values.push_back(std::move(*value));
  }
  return record;
}

// The columns a UNIQUE violation names: "UNIQUE constraint failed: posts.a, posts.b".
std::vector<std::string> ViolatedColumns(std::string_view message) {
  std::vector<std::string> columns;
  constexpr std::string_view kPrefix = "UNIQUE constraint failed: ";
  const auto start = message.find(kPrefix);
  if (start == std::string_view::npos) return columns;
  message.remove_prefix(start + kPrefix.size());
  while (!message.empty()) {
    const auto comma = message.find(", ");
    std::string_view item = message.substr(0, comma);
    if (const auto dot = item.find('.'); dot != std::string_view::npos) {
      item.remove_prefix(dot + 1);
    }
    columns.emplace_back(item);
    if (comma == std::string_view::npos) break;
    message.remove_prefix(comma + 2);
  }
  return columns;
}

// Gives a failed INSERT or UPDATE the port's meaning: a taken id is already_exists; a unique
// index refusing the values is invalid_argument with one field error per column of the index.
Error WriteError(const Connection& conn, const Collection& collection, Error error) {
  const int code = conn.LastErrorCode();
  if (code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    error.code = ErrorCode::kAlreadyExists;
    error.message = "A record with this id already exists.";
    return error;
  }
  if (code != SQLITE_CONSTRAINT_UNIQUE) return error;
  const auto columns = ViolatedColumns(conn.LastErrorMessage());
  std::vector<std::string> fields = columns;
  for (const auto& index : collection.indexes) {
    if (!index.unique || index.columns.size() != columns.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      same &= SameIdentifier(index.columns[i].field, columns[i]);
    }
    if (!same) continue;
    fields.clear();
    for (const auto& column : index.columns) fields.push_back(column.field);
    break;
  }
  Error out = Error::Make(ErrorCode::kInvalidArgument, "A value that must be unique is taken.");
  out.internal = std::move(error.internal);
  for (const auto& name : fields) {
    const auto* field = [&]() -> const domain::Field* {
      for (const auto& f : collection.fields) {
        if (SameIdentifier(f.name, name)) return &f;
      }
      return nullptr;
    }();
    out.fields.push_back({field != nullptr ? field->name : name, "validation_not_unique",
                          "Value must be unique."});
  }
  return out;
}

Result<std::optional<Record>> GetOn(Connection& conn, const Snapshot& snapshot,
                                    const Collection& collection, std::string_view id,
                                    const ResolvedFilter* where) {
  if (!HasTable(collection)) return Fail(NoTable(collection));
  std::optional<CollectionSql> scratch;
  const CollectionSql& sql = snapshot.For(collection, scratch);
  SqliteFilterCompiler compiler(std::string(kRoot), 2);
  std::string text;
  const std::string* statement = &sql.get_by_id;
  if (where != nullptr) {
    auto condition = compiler.Where(*where);
    if (!condition) return Fail(condition.error());
    if (condition->kind == SqlCondition::Kind::kFalse) return std::optional<Record>();
    if (condition->kind == SqlCondition::Kind::kSql) {
      text = sql.get_by_id + " AND (" + condition->sql + ")";
      statement = &text;
    }
  }
  auto stmt = conn.PrepareCached(*statement);
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(id);
  BindParams(*stmt, compiler.params());
  auto row = stmt->Step();
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<Record>();
  auto record = ReadRecord(*stmt, sql);
  if (!record) return Fail(record.error());
  return std::optional<Record>(std::move(*record));
}

// One page, and the total when asked. `in_transaction`: already inside one (a Write); else the
// two statements run in a read transaction of their own, so the total matches the page.
Result<RecordPage> QueryOn(Connection& conn, const Snapshot& snapshot,
                           const Collection& collection, const RecordQuery& query,
                           bool in_transaction) {
  if (!HasTable(collection)) return Fail(NoTable(collection));
  std::optional<CollectionSql> scratch;
  const CollectionSql& sql = snapshot.For(collection, scratch);
  const std::int64_t limit = std::max<std::int64_t>(query.limit, 0);
  const std::int64_t offset = std::max<std::int64_t>(query.offset, 0);

  SqliteFilterCompiler compiler(std::string(kRoot), 1);
  SqlCondition where;
  if (query.where != nullptr) {
    auto compiled = compiler.Where(*query.where);
    if (!compiled) return Fail(compiled.error());
    where = std::move(*compiled);
  }
  RecordPage page;
  page.total = query.count_total ? 0 : -1;
  if (where.kind == SqlCondition::Kind::kFalse) return page;
  const std::size_t where_params = compiler.params().size();

  std::string page_text;
  const std::string* page_sql = &sql.first_page;
  if (where.kind == SqlCondition::Kind::kSql || !query.sort.empty()) {
    std::string order = std::string(kRoot) + ".\"id\"";
    if (!query.sort.empty()) {
      auto compiled = compiler.OrderBy(query.sort);
      if (!compiled) return Fail(compiled.error());
      order = std::move(*compiled);
    }
    const int limit_param = compiler.next_param();
    page_text = sql.select;
    if (where.kind == SqlCondition::Kind::kSql) page_text += " WHERE " + where.sql;
    page_text += " ORDER BY " + order + " LIMIT ?" + std::to_string(limit_param) + " OFFSET ?" +
                 std::to_string(limit_param + 1);
    page_sql = &page_text;
  }

  auto run = [&]() -> Result<RecordPage> {
    if (limit > 0) {
      auto stmt = conn.PrepareCached(*page_sql);
      if (!stmt) return Fail(stmt.error());
      BindParams(*stmt, compiler.params());
      stmt->Bind(limit).Bind(offset);
      page.items.reserve(static_cast<std::size_t>(std::min<std::int64_t>(limit, 1000)));
      for (;;) {
        auto row = stmt->Step();
        if (!row) return Fail(row.error());
        if (!*row) break;
        auto record = ReadRecord(*stmt, sql);
        if (!record) return Fail(record.error());
        page.items.push_back(std::move(*record));
      }
    }
    if (query.count_total) {
      std::string count_text = sql.count;
      if (where.kind == SqlCondition::Kind::kSql) count_text += " WHERE " + where.sql;
      auto stmt = conn.PrepareCached(count_text);
      if (!stmt) return Fail(stmt.error());
      // Only the WHERE's parameters: the sort's come after them and are not in this statement.
      BindParams(*stmt, compiler.params(), where_params);
      auto row = stmt->Step();
      if (!row) return Fail(row.error());
      page.total = *row ? stmt->Int(0) : 0;
    }
    return std::move(page);
  };
  if (in_transaction || !query.count_total || limit == 0) return run();
  return InTransaction(conn, kBegin, run);
}

Result<bool> MatchesOn(Connection& conn, const Snapshot& snapshot, const Collection& collection,
                       std::string_view id, const ResolvedFilter& filter) {
  if (!HasTable(collection)) return Fail(NoTable(collection));
  std::optional<CollectionSql> scratch;
  const CollectionSql& sql = snapshot.For(collection, scratch);
  SqliteFilterCompiler compiler(std::string(kRoot), 2);
  auto condition = compiler.Where(filter);
  if (!condition) return Fail(condition.error());
  if (condition->kind == SqlCondition::Kind::kFalse) return false;
  std::string text = sql.matches;
  if (condition->kind == SqlCondition::Kind::kSql) text += " AND (" + condition->sql + ")";
  auto stmt = conn.PrepareCached(text);
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(id);
  BindParams(*stmt, compiler.params());
  return stmt->Step();
}

// How many of `ids` name a record: one primary-key probe each, in the process (SQLite's write
// lock already keeps the rows as they are), reading no column.
Result<std::size_t> CountExistingOn(Connection& conn, const Snapshot& snapshot,
                                    const Collection& collection,
                                    const std::vector<std::string>& ids) {
  if (!HasTable(collection)) return Fail(NoTable(collection));
  std::optional<CollectionSql> scratch;
  const CollectionSql& sql = snapshot.For(collection, scratch);
  std::size_t found = 0;
  for (const std::string& id : ids) {
    auto stmt = conn.PrepareCached(sql.matches);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(id).Step();
    if (!row) return Fail(row.error());
    found += *row ? 1 : 0;
  }
  return found;
}

Result<void> CheckShape(const Collection& collection, const Record& record,
                        const CollectionSql& sql) {
  if (!HasTable(collection)) return Fail(NoTable(collection));
  if (record.values.size() != collection.fields.size() || !sql.id_index) {
    return Fail(Error::Internal("a record does not match the fields of " + collection.name));
  }
  return {};
}

Result<void> InsertOn(Connection& conn, const Snapshot& snapshot, const Collection& collection,
                      const Record& record) {
  std::optional<CollectionSql> scratch;
  const CollectionSql& sql = snapshot.For(collection, scratch);
  if (auto ok = CheckShape(collection, record, sql); !ok) return ok;
  auto stmt = conn.PrepareCached(sql.insert);
  if (!stmt) return Fail(stmt.error());
  for (std::size_t i = 0; i < record.values.size(); ++i) {
    if (auto bound = BindValue(*stmt, record.values[i], sql.storage[i]); !bound) return bound;
  }
  auto done = stmt->Run();
  if (!done) return Fail(WriteError(conn, collection, std::move(done.error())));
  return {};
}

Result<void> UpdateOn(Connection& conn, const Snapshot& snapshot, const Collection& collection,
                      const Record& record) {
  std::optional<CollectionSql> scratch;
  const CollectionSql& sql = snapshot.For(collection, scratch);
  if (auto ok = CheckShape(collection, record, sql); !ok) return ok;
  auto stmt = conn.PrepareCached(sql.update);
  if (!stmt) return Fail(stmt.error());
  const std::size_t id = *sql.id_index;
  if (auto bound = BindValue(*stmt, record.values[id], sql.storage[id]); !bound) return bound;
  for (std::size_t i = 0; i < record.values.size(); ++i) {
    if (i == id) continue;
    if (auto bound = BindValue(*stmt, record.values[i], sql.storage[i]); !bound) return bound;
  }
  auto done = stmt->Run();
  if (!done) return Fail(WriteError(conn, collection, std::move(done.error())));
  if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Record not found.");
  return {};
}

Result<void> DeleteOn(Connection& conn, const Snapshot& snapshot, const Collection& collection,
                      std::string_view id) {
  if (!HasTable(collection)) return Fail(NoTable(collection));
  std::optional<CollectionSql> scratch;
  const CollectionSql& sql = snapshot.For(collection, scratch);
  auto stmt = conn.PrepareCached(sql.remove);
  if (!stmt) return Fail(stmt.error());
  if (auto done = stmt->Bind(id).Run(); !done) return done;
  if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Record not found.");
  return {};
}

// ---- the audit trail -------------------------------------------------------------------------

// The rows of a kSelectAudit: the lane, then the event's columns.
Result<std::vector<StoredAuditEvent>> ReadAuditRows(Statement& stmt) {
  return ReadAuditEvents(stmt, [](const Statement& row) {
    return ReadAuditEvent(row, 1, row.Int(0), "audit event");
  });
}

Result<domain::AuditHead> ReadAuditHead(Connection& conn, std::int64_t lane) {
  auto stmt = conn.Prepare(kAuditHead);
  if (!stmt) return Fail(stmt.error());
  auto row = stmt->Bind(lane).Step();
  if (!row) return Fail(row.error());
  domain::AuditHead head;
  head.lane = lane;
  if (*row) {
    head.seq = stmt->Int(0);
    head.hash = std::string(stmt->Text(1));
  }
  return head;
}

// Appends audit events on the writer's connection, inside its transaction. The lane is held
// by SQLite's write lock, taken at BEGIN IMMEDIATE and kept to the end of the transaction, in
// this process and any other that opens the file.
class AuditWriter final {
 public:
  /// `head`: the lane's head when the transaction already knows it (an earlier write of the
  /// same transaction appended it), else read on Lock.
  explicit AuditWriter(Connection& conn, std::optional<domain::AuditHead> head = std::nullopt)
      : conn_(conn), head_(std::move(head)) {}

  /// The head as this writer last saw it (after Lock or an append), if it did.
  const std::optional<domain::AuditHead>& head() const noexcept { return head_; }

  Result<domain::AuditHead> Lock() {
    // Only this transaction appends until it ends: the head it last appended is the lane's.
    if (head_) return *head_;
    auto head = ReadAuditHead(conn_, kAuditLane);
    if (!head) return Fail(head.error());
    head_ = std::move(*head);
    return *head_;
  }

  Result<void> Append(const domain::AuditEvent& event,
                      const std::vector<domain::AuditPersonal>& personal) {
    // The caller sealed the event on the head it locked; anything else would fork or break
    // the chain, which no later verification could tell from tampering.
    if (!head_) return Fail(Error::Internal("audit append without a locked lane"));
    if (event.lane != head_->lane) {
      return Fail(Error::Internal("audit append to lane " + std::to_string(event.lane) +
                                  ", not the locked lane " + std::to_string(head_->lane)));
    }
    if (event.seq != head_->seq + 1) {
      return Fail(Error::Internal("audit append of seq " + std::to_string(event.seq) +
                                  " after seq " + std::to_string(head_->seq)));
    }
    // All checked before anything is written, so that a refusal leaves no event behind.
    auto parts = AuditPartsOf(event, personal);
    if (!parts) return Fail(parts.error());
    auto stmt = conn_.Prepare(kInsertAudit);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(event.lane);
    BindAuditEvent(*stmt, event, *parts);
    if (auto done = stmt->Run(); !done) return done;
    head_ = domain::AuditHead{event.lane, event.seq, event.hash};
    return {};
  }

 private:
  Connection& conn_;
  std::optional<domain::AuditHead> head_;  // set by Lock, then moved along by each append
};

// What ApplySchema's audit callback appends through: the same writer, in the schema change's
// transaction.
class SchemaAuditAppender final : public application::AuditAppender {
 public:
  explicit SchemaAuditAppender(Connection& conn) : writer_(conn) {}
  Result<domain::AuditHead> LockAuditHead() override { return writer_.Lock(); }
  Result<void> AppendAudit(const domain::AuditEvent& event,
                           const std::vector<domain::AuditPersonal>& personal) override {
    return writer_.Append(event, personal);
  }

 private:
  AuditWriter writer_;
};

// ---- schema changes --------------------------------------------------------------------------

Result<void> ApplyChange(Connection& conn, const CollectionChange& change, std::int64_t version,
                         const std::string& actor, domain::Timestamp at) {
  const Collection* before = change.before ? &*change.before : nullptr;
  const Collection* after = change.after ? &*change.after : nullptr;
  if (before == nullptr && after == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "A schema change needs a collection.");
  }
  if (before != nullptr && after != nullptr && before->id != after->id) {
    return Fail(ErrorCode::kInvalidArgument, "A collection's id cannot change.");
  }
  const std::string& id = after != nullptr ? after->id : before->id;
  bool stored = false;
  {  // the statement is reset at the end of the block, before the DDL runs
    auto exists = conn.Prepare(kCollectionExists);
    if (!exists) return Fail(exists.error());
    auto found = exists->Bind(id).Step();
    if (!found) return Fail(found.error());
    stored = *found;
  }
  if (before == nullptr && stored) {
    return Fail(ErrorCode::kAlreadyExists, "A collection with this id already exists.");
  }
  if (before != nullptr && !stored) return Fail(ErrorCode::kNotFound, "Collection not found.");

  const bool had_table = before != nullptr && HasTable(*before);
  const bool has_table = after != nullptr && HasTable(*after);
  Result<void> ddl;
  if (had_table && has_table) {
    ddl = AlterCollectionTable(conn, *before, *after);
  } else if (had_table) {
    ddl = DropCollectionTable(conn, *before);
  } else if (has_table) {
    ddl = CreateCollectionTable(conn, *after);
  }
  if (!ddl) return ddl;

  const std::string after_json = after != nullptr ? DefinitionJson(*after) : std::string();
  const std::string before_json = before != nullptr ? DefinitionJson(*before) : std::string();
  {
    auto stmt = conn.Prepare(after == nullptr    ? kDeleteCollection
                             : before == nullptr ? kInsertCollection
                                                 : kUpdateCollection);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(id);
    if (after != nullptr) stmt->Bind(after->name).Bind(after_json);
    if (auto done = stmt->Run(); !done) return done;
  }
  auto history = conn.Prepare(kInsertHistory);
  if (!history) return Fail(history.error());
  history->Bind(version).Bind(at.unix_micros()).Bind(actor);
  if (before != nullptr) {
    history->Bind(before_json);
  } else {
    history->BindNull();
  }
  if (after != nullptr) {
    history->Bind(after_json);
  } else {
    history->BindNull();
  }
  return history->Run();
}

// ---- files -----------------------------------------------------------------------------------

// Creates `dir` and its missing parents owner-only: mkdir(2) with 0700 never exposes them, as
// create_directories followed by a chmod would for a moment. Existing directories stay as
// they are.
Result<void> CreatePrivateDirectories(const std::filesystem::path& dir) {
  std::filesystem::path built;
  for (const auto& part : dir.lexically_normal()) {
    built /= part;
    if (part.empty() || part == "/" || part == "." || part == "..") continue;
    if (::mkdir(built.c_str(), 0700) == 0) continue;
    const int error = errno;
    std::error_code ec;
    if (error == EEXIST && std::filesystem::is_directory(built, ec)) continue;
    Error out = Error::Make(ErrorCode::kUnavailable, "Cannot create the project's directory.");
    out.internal = built.string() + ": " + std::generic_category().message(error);
    return Fail(std::move(out));
  }
  return {};
}

// Creates the database file owner-only before SQLite opens it (SQLite would use 0644 less the
// umask); its -wal and -shm files take the database file's mode. A symbolic link is refused.
Result<void> CreatePrivateFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    Error out = Error::Make(ErrorCode::kUnavailable, "Cannot create the project's database.");
    out.internal = path.string() + ": " + std::generic_category().message(errno);
    return Fail(std::move(out));
  }
  ::close(fd);
  return {};
}

// ---- the store -------------------------------------------------------------------------------

class SqliteProjectStore final : public application::ProjectStore {
 public:
  static Result<std::shared_ptr<SqliteProjectStore>> Open(const std::filesystem::path& path,
                                                          const SqliteProjectStoreOptions& options);

  Result<SchemaPtr> Schema() override;
  using application::ProjectStore::ApplySchema;
  Result<SchemaPtr> ApplySchema(const std::vector<CollectionChange>& changes,
                                std::int64_t expected_version, const std::string& actor,
                                domain::Timestamp at,
                                const application::AuditWrite& audit) override;
  Result<std::vector<SchemaHistoryEntry>> History() override;
  Result<RecordPage> Query(const Collection& collection, const RecordQuery& query) override;
  Result<std::optional<Record>> Get(const Collection& collection, std::string_view id,
                                    const ResolvedFilter* where) override;
  Result<void> Write(const std::function<Result<void>(RecordTransaction&)>& work) override;
  Result<std::vector<StoredAuditEvent>> AuditEvents(const AuditQuery& query) override;
  Result<std::vector<domain::AuditHead>> AuditHeads() override;
  Result<std::vector<StoredAuditEvent>> AuditChain(std::int64_t lane, std::int64_t after_seq,
                                                   std::int64_t limit) override;
  Result<std::int64_t> ErasePersonal(std::string_view subject) override;
  Result<std::vector<domain::AuditHead>> AuditAnchors() override;
  Result<application::AuditArchived> ArchiveAudit(domain::Timestamp before,
                                                  application::AuditArchiveSink& sink) override;

  /// Refuses new calls, waits for those in progress, then closes every connection.
  /// Precondition: not called from inside a call on this store.
  void Shutdown();

 private:
  // Counts a call in progress; refused once the store is shut down. The increment comes
  // before the check, and Shutdown sets the flag before reading the count, so one of the two
  // always sees the other (both are sequentially consistent).
  class Call final {
   public:
    explicit Call(SqliteProjectStore& store) : store_(store) {
      store_.active_.fetch_add(1);
      open_ = !store_.closed_.load();
    }
    ~Call() {
      if (store_.active_.fetch_sub(1) == 1) store_.active_.notify_all();
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    explicit operator bool() const noexcept { return open_; }

   private:
    SqliteProjectStore& store_;
    bool open_ = false;
  };

  class Transaction;

  // One caller's Write waiting in the group commit, and what became of it.
  struct QueuedWrite {
    const std::function<Result<void>(RecordTransaction&)>* work;
    Result<void> result;
    std::exception_ptr thrown;
  };

  SqliteProjectStore(std::string path, const SqliteProjectStoreOptions& options);

  // Runs a batch of writes in one transaction (see Write).
  void WriteBatch(std::span<QueuedWrite* const> batch);

  // Runs `op(connection, snapshot)` with a pooled connection whose generated statements belong
  // to the current schema version.
  template <typename Op>
  auto WithConnection(Op&& op)
      -> decltype(op(std::declval<Connection&>(), std::declval<const Snapshot&>())) {
    auto lease = pool_->Acquire();
    if (!lease) return Fail(lease.error());
    const auto snapshot = snapshot_.load();
    (*lease)->ForgetCachedIfStale(snapshot->schema->version);
    return op(**lease, *snapshot);
  }

  // As WithConnection, on the writer's connection: one writer of this process at a time, as
  // SQLite admits one writer per file anyway, and queueing here makes writers wait on a mutex
  // rather than in SQLite's busy handler, which sleeps in growing steps (the busy timeout still
  // arbitrates between processes: the CLI next to a running server). The connection is the
  // writer's alone, so its page cache stays valid from one write to the next: a connection
  // that wrote last reads nothing back, one that another connection wrote behind re-reads
  // every page it needs from the WAL.
  template <typename Op>
  auto WithWriter(Op&& op)
      -> decltype(op(std::declval<Connection&>(), std::declval<const Snapshot&>())) {
    std::lock_guard lock(writer_);
    if (!writer_conn_) {
      auto opened = Connection::Open(path_, busy_timeout_ms_);
      if (!opened) return Fail(opened.error());
      writer_conn_ = std::move(*opened);
    }
    const auto snapshot = snapshot_.load();
    writer_conn_->ForgetCachedIfStale(snapshot->schema->version);
    auto result = op(*writer_conn_, *snapshot);
    // A transaction left open by a failed COMMIT or ROLLBACK would hold the write lock: the
    // connection is closed (which rolls back) and the next writer opens another.
    if (writer_conn_->InTransaction()) writer_conn_.reset();
    return result;
  }

  const std::string path_;
  std::unique_ptr<BoundedPool<Connection>> pool_;
  const std::uint32_t busy_timeout_ms_;
  std::mutex writer_;        // see WithWriter; also orders snapshot replacements
  std::unique_ptr<Connection> writer_conn_;  // guarded by writer_; opened on first write
  GroupCommit<QueuedWrite> commits_{kMaxWriteBatch};  // the writes of Write
  std::mutex shutdown_;      // one Shutdown at a time
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::atomic<int> active_{0};
  std::atomic<bool> closed_{false};
};

// The RecordTransaction handed to Write's callback: every call runs on the writer's connection,
// inside its transaction (SQLite's write lock is held from BEGIN IMMEDIATE, so rows read here
// cannot change under the transaction).
class SqliteProjectStore::Transaction final : public RecordTransaction {
 public:
  Transaction(Connection& conn, const Snapshot& snapshot,
              std::optional<domain::AuditHead> head = std::nullopt)
      : conn_(conn), snapshot_(snapshot), audit_(conn, std::move(head)) {}

  /// The audit lane's head as this transaction left it, if it read or moved it.
  const std::optional<domain::AuditHead>& audit_head() const noexcept { return audit_.head(); }

  Result<domain::AuditHead> LockAuditHead() override { return audit_.Lock(); }
  Result<void> AppendAudit(const domain::AuditEvent& event,
                           const std::vector<domain::AuditPersonal>& personal) override {
    return audit_.Append(event, personal);
  }

  Result<std::optional<Record>> Find(const Collection& collection, std::string_view id) override {
    return GetOn(conn_, snapshot_, collection, id, nullptr);
  }
  Result<std::size_t> CountExisting(const Collection& collection,
                                    const std::vector<std::string>& ids) override {
    return CountExistingOn(conn_, snapshot_, collection, ids);
  }
  Result<RecordPage> Query(const Collection& collection, const RecordQuery& query) override {
    return QueryOn(conn_, snapshot_, collection, query, /*in_transaction=*/true);
  }
  Result<bool> Matches(const Collection& collection, std::string_view id,
                       const ResolvedFilter& filter) override {
    return MatchesOn(conn_, snapshot_, collection, id, filter);
  }
  Result<void> Insert(const Collection& collection, const Record& record) override {
    return InsertOn(conn_, snapshot_, collection, record);
  }
  Result<void> Update(const Collection& collection, const Record& record) override {
    return UpdateOn(conn_, snapshot_, collection, record);
  }
  Result<void> Delete(const Collection& collection, std::string_view id) override {
    return DeleteOn(conn_, snapshot_, collection, id);
  }

 private:
  Connection& conn_;
  const Snapshot& snapshot_;
  AuditWriter audit_;
};

SqliteProjectStore::SqliteProjectStore(std::string path, const SqliteProjectStoreOptions& options)
    : path_(std::move(path)),
      // The readers. A transaction left open by a failed COMMIT or ROLLBACK would hold a read
      // snapshot: such a connection is closed (which rolls back) rather than lent again. A
      // caller waits for a connection as long as SQLite waits for a lock.
      pool_(std::make_unique<BoundedPool<Connection>>(
          [file = path_, busy_timeout_ms = options.busy_timeout_ms] {
            return Connection::Open(file, busy_timeout_ms);
          },
          [](Connection& conn) { return !conn.InTransaction(); }, options.pool_size,
          std::chrono::milliseconds(options.busy_timeout_ms))),
      busy_timeout_ms_(options.busy_timeout_ms) {}

Result<std::shared_ptr<SqliteProjectStore>> SqliteProjectStore::Open(
    const std::filesystem::path& path, const SqliteProjectStoreOptions& options) {
  if (path.has_parent_path()) {
    if (auto made = CreatePrivateDirectories(path.parent_path()); !made) {
      return Fail(made.error());
    }
  }
  if (auto made = CreatePrivateFile(path); !made) return Fail(made.error());
  std::shared_ptr<SqliteProjectStore> store(new SqliteProjectStore(path.string(), options));

  auto lease = store->pool_->Acquire();
  if (!lease) return Fail(lease.error());
  Connection& conn = **lease;
  {
    // WAL is a property of the file: readers then block neither the writer nor each other.
    auto mode = conn.Prepare(kJournalModeWal);
    if (!mode) return Fail(mode.error());
    auto row = mode->Step();
    if (!row) return Fail(row.error());
    if (!*row || mode->Text(0) != "wal") {
      Error error = Error::Make(ErrorCode::kUnavailable,
                                "The project's database cannot use write-ahead logging.");
      error.internal = path.string() + ": journal_mode is " + std::string(mode->Text(0));
      return Fail(std::move(error));
    }
  }
  std::lock_guard writer(store->writer_);
  auto schema = InTransaction(conn, kBeginImmediate, [&]() -> Result<SchemaPtr> {
    if (auto created = conn.Exec(kBootstrap); !created) return Fail(created.error());
    return ReadSchema(conn);
  });
  if (!schema) return Fail(schema.error());
  store->snapshot_.store(MakeSnapshot(std::move(*schema)));
  return store;
}

void SqliteProjectStore::Shutdown() {
  std::lock_guard lock(shutdown_);
  closed_.store(true);
  for (int active = active_.load(); active != 0; active = active_.load()) active_.wait(active);
  pool_.reset();  // closes every connection: nothing holds a lease any more
  std::lock_guard writer(writer_);
  writer_conn_.reset();
}

Result<SchemaPtr> SqliteProjectStore::Schema() {
  Call call(*this);
  if (!call) return Fail(Closed());
  // Another process (the CLI, a second server) may have changed the schema: the stored version
  // is one indexed read away, so every request starts from the current schema. The snapshot is
  // re-read only when the version moved.
  return WithConnection([&](Connection& conn, const Snapshot& snapshot) -> Result<SchemaPtr> {
    auto version = ReadVersion(conn);
    if (!version) return Fail(version.error());
    if (*version == snapshot.schema->version) return snapshot.schema;
    auto schema = ReadSchema(conn);
    if (!schema) return Fail(schema.error());
    // Publish it unless a newer one was published meanwhile (by ApplySchema or another reader).
    auto current = snapshot_.load();
    while (current->schema->version < (*schema)->version &&
           !snapshot_.compare_exchange_weak(current, MakeSnapshot(*schema))) {
    }
    return *schema;
  });
}

Result<SchemaPtr> SqliteProjectStore::ApplySchema(const std::vector<CollectionChange>& changes,
                                                  std::int64_t expected_version,
                                                  const std::string& actor,
                                                  domain::Timestamp at,
                                                  const application::AuditWrite& audit) {
  Call call(*this);
  if (!call) return Fail(Closed());
  return WithWriter([&](Connection& conn, const Snapshot&) -> Result<SchemaPtr> {
    auto schema = InTransaction(conn, kBeginImmediate, [&]() -> Result<SchemaPtr> {
      auto version = ReadVersion(conn);
      if (!version) return Fail(version.error());
      if (*version != expected_version) {
        return Fail(ErrorCode::kAborted, "The schema changed meanwhile; reload and retry.");
      }
      const std::int64_t next = *version + 1;
      for (const auto& change : changes) {
        if (auto applied = ApplyChange(conn, change, next, actor, at); !applied) {
          return Fail(applied.error());
        }
      }
      {
        auto stmt = conn.Prepare(kSetSchemaVersion);
        if (!stmt) return Fail(stmt.error());
        if (auto set = stmt->Bind(next).Run(); !set) return Fail(set.error());
      }
      // The event describing the change commits with it, or neither does.
      if (audit) {
        SchemaAuditAppender appender(conn);
        if (auto recorded = audit(appender); !recorded) return Fail(recorded.error());
      }
      return ReadSchema(conn);
    });
    if (!schema) return schema;
    // Replaced after the commit and before the writer lock is released: the next writer sees
    // the new schema, and a failed change never shows.
    snapshot_.store(MakeSnapshot(*schema));
    return schema;
  });
}

Result<std::vector<SchemaHistoryEntry>> SqliteProjectStore::History() {
  Call call(*this);
  if (!call) return Fail(Closed());
  return WithConnection(
      [&](Connection& conn, const Snapshot&) -> Result<std::vector<SchemaHistoryEntry>> {
        auto stmt = conn.Prepare(kListHistory);
        if (!stmt) return Fail(stmt.error());
        std::vector<SchemaHistoryEntry> entries;
        for (;;) {
          auto row = stmt->Step();
          if (!row) return Fail(row.error());
          if (!*row) return entries;
          SchemaHistoryEntry entry;
          entry.version = stmt->Int(0);
          entry.at = domain::Timestamp::FromUnixMicros(stmt->Int(1));
          entry.actor = std::string(stmt->Text(2));
          for (int column : {3, 4}) {
            if (stmt->IsNull(column)) continue;
            auto collection = ReadDefinition(stmt->Text(column));
            if (!collection) return Fail(collection.error());
            (column == 3 ? entry.change.before : entry.change.after) = std::move(*collection);
          }
          entries.push_back(std::move(entry));
        }
      });
}

Result<RecordPage> SqliteProjectStore::Query(const Collection& collection,
                                             const RecordQuery& query) {
  Call call(*this);
  if (!call) return Fail(Closed());
  return WithConnection([&](Connection& conn, const Snapshot& snapshot) {
    return QueryOn(conn, snapshot, collection, query, /*in_transaction=*/false);
  });
}

Result<std::optional<Record>> SqliteProjectStore::Get(const Collection& collection,
                                                      std::string_view id,
                                                      const ResolvedFilter* where) {
  Call call(*this);
  if (!call) return Fail(Closed());
  return WithConnection([&](Connection& conn, const Snapshot& snapshot) {
    return GetOn(conn, snapshot, collection, id, where);
  });
}

// Group commit: the writes that wait while one transaction commits go together in the next,
// one savepoint each, so that one flush of the WAL commits them all (SQLite admits one
// writer, and the flush dominates a small write's cost). Each write succeeds or fails on its
// own: a failed one is rolled back to its savepoint and the others go on; none returns
// before the transaction holding it committed. Each runs after the ones before it in the
// batch, as it would have one transaction later.
Result<void> SqliteProjectStore::Write(
    const std::function<Result<void>(RecordTransaction&)>& work) {
  Call call(*this);
  if (!call) return Fail(Closed());
  QueuedWrite write{&work, {}, nullptr};
  commits_.Submit(write, [this](std::span<QueuedWrite* const> batch) { WriteBatch(batch); });
  if (write.thrown) std::rethrow_exception(write.thrown);
  return std::move(write.result);
}

void SqliteProjectStore::WriteBatch(std::span<QueuedWrite* const> batch) {
  // A write alone needs no savepoint: the transaction is its own.
  const bool alone = batch.size() == 1;
  auto done = WithWriter([&](Connection& conn, const Snapshot& snapshot) -> Result<void> {
    if (auto started = RunConstant(conn, kBeginImmediate); !started) return Fail(started.error());
    // Should this fail too, WithWriter closes the connection, which rolls back.
    auto rollback = [&] { (void)RunConstant(conn, kRollback); };
    // Another process (the CLI) may have changed the schema: the snapshot the callers used
    // would write the wrong columns. Take the new one and let them retry with it.
    auto version = ReadVersion(conn);
    if (!version) {
      rollback();
      return Fail(version.error());
    }
    if (*version != snapshot.schema->version) {
      auto schema = ReadSchema(conn);
      rollback();
      if (!schema) return Fail(schema.error());
      snapshot_.store(MakeSnapshot(std::move(*schema)));
      return Fail(ErrorCode::kAborted, "The schema changed meanwhile; reload and retry.");
    }
    std::size_t kept = 0;  // writes that succeeded, waiting for the COMMIT
    // The audit lane's head as the writes so far left it: each write starts from it rather
    // than reading it again (the transaction holds the write lock: nobody else appends).
    std::optional<domain::AuditHead> head;
    for (QueuedWrite* write : batch) {
      if (!alone) {
        if (auto marked = RunConstant(conn, kSavepoint); !marked) {
          write->result = Fail(marked.error());
          continue;
        }
      }
      Transaction transaction(conn, snapshot, head);
      try {
        write->result = (*write->work)(transaction);
      } catch (...) {
        write->thrown = std::current_exception();
        write->result = Fail(Error::Internal("the write threw"));
      }
      if (write->result) {
        if (!alone) (void)RunConstant(conn, kReleaseSavepoint);
        ++kept;
        head = transaction.audit_head();
        continue;
      }
      if (alone) break;
      // Rolled back to its savepoint: the head stays the one before this write.
      (void)RunConstant(conn, kRollbackToSavepoint);
      (void)RunConstant(conn, kReleaseSavepoint);
      if (!conn.InTransaction()) {
        // The failure ended the whole transaction (SQLite does on an I/O error, a full disk or
        // memory exhausted): the writes before this one are gone with it, and those after it
        // are not run (they would each commit alone, outside the batch).
        Error lost = Error::Make(ErrorCode::kUnavailable,
                                 "The write could not be committed; try again.");
        lost.internal = "the transaction of a group commit ended with another write's failure";
        for (QueuedWrite* other : batch) {
          if (other != write && other->result) other->result = Fail(lost);
        }
        return {};
      }
    }
    if (kept == 0) {
      rollback();
      return {};
    }
    if (auto committed = RunConstant(conn, kCommit); !committed) {
      rollback();
      for (QueuedWrite* write : batch) {
        if (write->result) write->result = Fail(committed.error());
      }
    }
    return {};
  });
  if (!done) {
    for (QueuedWrite* write : batch) write->result = Fail(done.error());
  }
}

Result<std::vector<StoredAuditEvent>> SqliteProjectStore::AuditEvents(const AuditQuery& query) {
  Call call(*this);
  if (!call) return Fail(Closed());
  // Built from the constant fragments of the criteria that are set, every value bound: the
  // planner then sees plain equalities and picks the actor, target or time index.
  std::string sql(kSelectAudit);
  sql += " WHERE 1 = 1";
  if (!query.org_id.empty()) sql += kAuditByOrg;
  AppendAuditCriteria(sql, query, kAuditLaneColumn);
  sql += kAuditNewestFirst;
  const std::int64_t limit = std::clamp<std::int64_t>(query.limit, 1, kMaxAuditPage);
  return WithConnection(
      [&](Connection& conn, const Snapshot&) -> Result<std::vector<StoredAuditEvent>> {
        auto stmt = conn.PrepareCached(sql);
        if (!stmt) return Fail(stmt.error());
        if (!query.org_id.empty()) stmt->Bind(query.org_id);
        BindAuditCriteria(*stmt, query);
        stmt->Bind(limit);
        return ReadAuditRows(*stmt);
      });
}

Result<std::vector<domain::AuditHead>> SqliteProjectStore::AuditHeads() {
  Call call(*this);
  if (!call) return Fail(Closed());
  return WithConnection(
      [&](Connection& conn, const Snapshot&) -> Result<std::vector<domain::AuditHead>> {
        // One read transaction, so that the heads are those of one moment. Each step is an
        // indexed lookup: the next lane, then its last row.
        return InTransaction(conn, kBegin, [&]() -> Result<std::vector<domain::AuditHead>> {
          std::vector<domain::AuditHead> heads;
          std::int64_t after = std::numeric_limits<std::int64_t>::min();
          for (;;) {
            std::int64_t lane = 0;
            {
              auto stmt = conn.Prepare(kAuditNextLane);
              if (!stmt) return Fail(stmt.error());
              auto row = stmt->Bind(after).Step();
              if (!row) return Fail(row.error());
              if (!*row || stmt->IsNull(0)) return heads;
              lane = stmt->Int(0);
            }
            auto head = ReadAuditHead(conn, lane);
            if (!head) return Fail(head.error());
            heads.push_back(std::move(*head));
            after = lane;
          }
        });
      });
}

Result<std::vector<StoredAuditEvent>> SqliteProjectStore::AuditChain(std::int64_t lane,
                                                                     std::int64_t after_seq,
                                                                     std::int64_t limit) {
  Call call(*this);
  if (!call) return Fail(Closed());
  // SQLite reads a negative LIMIT as none at all.
  if (limit <= 0) return std::vector<StoredAuditEvent>();
  static const std::string kSql = std::string(kSelectAudit) + std::string(kAuditChain);
  return WithConnection(
      [&](Connection& conn, const Snapshot&) -> Result<std::vector<StoredAuditEvent>> {
        auto stmt = conn.Prepare(kSql);
        if (!stmt) return Fail(stmt.error());
        stmt->Bind(lane).Bind(after_seq).Bind(limit);
        return ReadAuditRows(*stmt);
      });
}

Result<std::int64_t> SqliteProjectStore::ErasePersonal(std::string_view subject) {
  Call call(*this);
  if (!call) return Fail(Closed());
  return WithWriter([&](Connection& conn, const Snapshot&) -> Result<std::int64_t> {
    // One transaction, so that a subject's parts are erased all together or not at all.
    return InTransaction(conn, kBeginImmediate, [&]() -> Result<std::int64_t> {
      std::int64_t erased = 0;
      for (const std::string_view sql : {kEraseActorData, kEraseTargetData}) {
        auto stmt = conn.Prepare(sql);
        if (!stmt) return Fail(stmt.error());
        if (auto done = stmt->Bind(subject).Run(); !done) return Fail(done.error());
        erased += conn.Changes();
      }
      return erased;
    });
  });
}

Result<std::vector<domain::AuditHead>> SqliteProjectStore::AuditAnchors() {
  Call call(*this);
  if (!call) return Fail(Closed());
  return WithConnection(
      [&](Connection& conn, const Snapshot&) -> Result<std::vector<domain::AuditHead>> {
        auto stmt = conn.Prepare(kAuditAnchors);
        if (!stmt) return Fail(stmt.error());
        std::vector<domain::AuditHead> anchors;
        for (;;) {
          auto row = stmt->Step();
          if (!row) return Fail(row.error());
          if (!*row) return anchors;
          anchors.push_back(
              domain::AuditHead{stmt->Int(0), stmt->Int(1), std::string(stmt->Text(2))});
        }
      });
}

namespace {

// What the events before a cut hold in one lane: how many, and from which seq to which.
struct ArchivedLane {
  std::int64_t lane = 0;
  std::int64_t count = 0;
  std::int64_t first = 0;
  std::int64_t last = 0;
  friend bool operator==(const ArchivedLane&, const ArchivedLane&) = default;
};

Result<std::vector<ArchivedLane>> ReadArchivedLanes(Connection& conn, domain::Timestamp before) {
  auto stmt = conn.Prepare(kAuditArchiveLanes);
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(before.unix_micros());
  std::vector<ArchivedLane> lanes;
  for (;;) {
    auto row = stmt->Step();
    if (!row) return Fail(row.error());
    if (!*row) return lanes;
    lanes.push_back(ArchivedLane{stmt->Int(0), stmt->Int(1), stmt->Int(2), stmt->Int(3)});
  }
}

Error NotAPrefix(std::int64_t lane, domain::Timestamp before) {
  return Error::Make(ErrorCode::kFailedPrecondition,
                     "The audit events before " + before.ToIso8601() +
                         " are not the beginning of their chain in lane " + std::to_string(lane) +
                         " (a later event is older than an earlier one). Choose another cut.");
}

// Whether the events before the cut are, in each lane, the run that follows its anchor up to
// just before the first event kept: removing anything else would leave a gap in the chain.
Result<void> CheckPrefix(Connection& conn, const std::vector<ArchivedLane>& lanes,
                         domain::Timestamp before) {
  for (const ArchivedLane& lane : lanes) {
    auto anchor = conn.Prepare(kAuditLastAnchor);
    if (!anchor) return Fail(anchor.error());
    auto anchor_row = anchor->Bind(lane.lane).Step();
    if (!anchor_row) return Fail(anchor_row.error());
    const std::int64_t from = *anchor_row ? anchor->Int(0) : 0;
    if (lane.first != from + 1 || lane.last - lane.first + 1 != lane.count) {
      return Fail(NotAPrefix(lane.lane, before));
    }
    auto kept = conn.Prepare(kAuditFirstKept);
    if (!kept) return Fail(kept.error());
    auto kept_row = kept->Bind(lane.lane).Bind(before.unix_micros()).Step();
    if (!kept_row) return Fail(kept_row.error());
    if (*kept_row && !kept->IsNull(0) && kept->Int(0) != lane.last + 1) {
      return Fail(NotAPrefix(lane.lane, before));
    }
  }
  return {};
}

}  // namespace

Result<application::AuditArchived> SqliteProjectStore::ArchiveAudit(
    domain::Timestamp before, application::AuditArchiveSink& sink) {
  Call call(*this);
  if (!call) return Fail(Closed());
  // First the sink gets every event before the cut, from one read snapshot, so that writers
  // are not held while the archive is written; then, in one write transaction, the anchors are
  // recorded and the events removed, provided the trail before the cut is still what was
  // archived (an event appended meanwhile with an old time would otherwise go unarchived).
  std::vector<ArchivedLane> lanes;
  std::vector<domain::AuditHead> anchors;
  auto streamed = WithConnection([&](Connection& conn, const Snapshot&) -> Result<void> {
    return InTransaction(conn, kBegin, [&]() -> Result<void> {
      auto found = ReadArchivedLanes(conn, before);
      if (!found) return Fail(found.error());
      lanes = std::move(*found);
      if (auto prefix = CheckPrefix(conn, lanes, before); !prefix) return prefix;
      static const std::string kPage = std::string(kSelectAudit) + std::string(kAuditArchivePage);
      std::int64_t after_lane = std::numeric_limits<std::int64_t>::min();
      std::int64_t after_seq = 0;
      for (;;) {
        auto stmt = conn.Prepare(kPage);
        if (!stmt) return Fail(stmt.error());
        stmt->Bind(before.unix_micros()).Bind(after_lane).Bind(after_seq);
        stmt->Bind(kAuditArchivePageSize);
        auto page = ReadAuditRows(*stmt);
        if (!page) return Fail(page.error());
        for (const StoredAuditEvent& stored : *page) {
          if (auto written = sink.Write(stored); !written) return written;
          if (!anchors.empty() && anchors.back().lane == stored.event.lane) {
            anchors.back() = domain::AuditHead{stored.event.lane, stored.event.seq,
                                               stored.event.hash};
          } else {
            anchors.push_back(
                domain::AuditHead{stored.event.lane, stored.event.seq, stored.event.hash});
          }
          after_lane = stored.event.lane;
          after_seq = stored.event.seq;
        }
        if (static_cast<std::int64_t>(page->size()) < kAuditArchivePageSize) return {};
      }
    });
  });
  if (!streamed) return Fail(streamed.error());
  application::AuditArchived archived;
  if (lanes.empty()) return archived;
  if (auto committed = sink.Commit(); !committed) return Fail(committed.error());
  return WithWriter([&](Connection& conn, const Snapshot&) -> Result<application::AuditArchived> {
    return InTransaction(conn, kBeginImmediate, [&]() -> Result<application::AuditArchived> {
      auto now = ReadArchivedLanes(conn, before);
      if (!now) return Fail(now.error());
      if (*now != lanes) {
        return Fail(ErrorCode::kAborted,
                    "The audit trail before the cut changed while it was archived; archive "
                    "again.");
      }
      const std::int64_t at = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
      for (const domain::AuditHead& anchor : anchors) {
        auto insert = conn.Prepare(kInsertAuditAnchor);
        if (!insert) return Fail(insert.error());
        insert->Bind(anchor.lane).Bind(anchor.seq).Bind(anchor.hash).Bind(at);
        if (auto done = insert->Run(); !done) return Fail(done.error());
        auto remove = conn.Prepare(kAuditDeleteArchived);
        if (!remove) return Fail(remove.error());
        if (auto done = remove->Bind(anchor.lane).Bind(anchor.seq).Run(); !done) {
          return Fail(done.error());
        }
        archived.events += conn.Changes();
      }
      archived.anchors = anchors;
      return archived;
    });
  });
}

}  // namespace

// ---- the stores ------------------------------------------------------------------------------

struct SqliteProjectStores::Impl {
  struct Entry {
    std::mutex opening;  // one opener per project; the others wait for its result
    std::shared_ptr<SqliteProjectStore> store;  // guarded by Impl::mutex
    std::list<std::string>::iterator lru;       // valid while `store` is set
  };

  explicit Impl(SqliteProjectStoreOptions opts) : options(std::move(opts)) {}

  // Closes the least recently used stores nobody holds while more than the bound are open.
  // Called with `mutex` held; the stores are destroyed by the caller, outside the lock.
  void Evict(std::vector<std::shared_ptr<SqliteProjectStore>>& evicted) {
    auto it = lru.end();
    while (lru.size() > options.max_open_projects && it != lru.begin()) {
      --it;
      auto found = entries.find(*it);
      if (found == entries.end() || found->second->store.use_count() > 1) continue;
      evicted.push_back(std::move(found->second->store));
      entries.erase(found);
      it = lru.erase(it);
    }
  }

  const SqliteProjectStoreOptions options;
  mutable std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries;
  std::list<std::string> lru;  // ids of the open stores, most recently used first
};

SqliteProjectStores::SqliteProjectStores(SqliteProjectStoreOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

SqliteProjectStores::~SqliteProjectStores() = default;

Result<std::shared_ptr<application::ProjectStore>> SqliteProjectStores::Open(
    const domain::Project& project) {
  const std::string& id = project.id.str();
  for (;;) {
    std::shared_ptr<Impl::Entry> entry;
    {
      std::lock_guard lock(impl_->mutex);
      auto& slot = impl_->entries[id];
      if (!slot) slot = std::make_shared<Impl::Entry>();
      if (slot->store) {
        impl_->lru.splice(impl_->lru.begin(), impl_->lru, slot->lru);
        return std::shared_ptr<application::ProjectStore>(slot->store);
      }
      entry = slot;
    }

    // One thread opens the file; the others wait here for it, without holding the map.
    std::lock_guard opening(entry->opening);
    {
      std::lock_guard lock(impl_->mutex);
      if (entry->store) return std::shared_ptr<application::ProjectStore>(entry->store);
      auto found = impl_->entries.find(id);
      // The opener before us failed, or Close ran: start over with a new entry.
      if (found == impl_->entries.end() || found->second != entry) continue;
    }
    // ProjectDatabasePath takes the catalogue's path and uses its directory.
    const auto path = ProjectDatabasePath(
        std::filesystem::path(impl_->options.data_dir) / "catalogue.db", project.id);
    auto opened = SqliteProjectStore::Open(path, impl_->options);

    std::vector<std::shared_ptr<SqliteProjectStore>> evicted;  // closed outside the lock
    bool closed_meanwhile = false;
    {
      std::lock_guard lock(impl_->mutex);
      auto found = impl_->entries.find(id);
      if (found == impl_->entries.end() || found->second != entry) {
        closed_meanwhile = true;
      } else if (!opened) {
        impl_->entries.erase(found);
      } else {
        entry->store = *opened;
        impl_->lru.push_front(id);
        entry->lru = impl_->lru.begin();
        impl_->Evict(evicted);
      }
    }
    if (!opened) return Fail(opened.error());
    if (closed_meanwhile) {
      // The project was closed (deleted) while its file was being opened: do not hand out a
      // store nobody can close any more.
      (*opened)->Shutdown();
      return Fail(ErrorCode::kUnavailable, "The project was closed while it was being opened.");
    }
    return std::shared_ptr<application::ProjectStore>(std::move(*opened));
  }
}

void SqliteProjectStores::Close(const domain::Id& project_id) {
  std::shared_ptr<SqliteProjectStore> store;
  {
    std::lock_guard lock(impl_->mutex);
    auto found = impl_->entries.find(project_id.str());
    if (found == impl_->entries.end()) return;
    store = std::move(found->second->store);
    if (store) impl_->lru.erase(found->second->lru);
    impl_->entries.erase(found);
  }
  if (store) store->Shutdown();
}

std::size_t SqliteProjectStores::OpenCount() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->lru.size();
}

}  // namespace socle::adapters::sqlite
