#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/filter/ast.hpp"
#include "socle/domain/record.hpp"
#include "socle/domain/tenancy.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// One page of records and, unless skipped, how many records match in all.
struct RecordPage {
  std::vector<domain::Record> items;
  std::int64_t total = -1;  ///< -1 when RecordQuery::count_total was false
};

/// What to read from one collection. Stores always break ties by id ascending after the sort
/// terms, so pages are stable; nulls sort first ascending and last descending.
struct RecordQuery {
  /// Only records for which this holds (rule and client filter combined); nullptr: all.
  const domain::filter::ResolvedFilter* where = nullptr;
  std::vector<domain::filter::SortTerm> sort;  ///< empty: by id (insertion order is not kept)
  std::int64_t offset = 0;
  std::int64_t limit = 30;
  bool count_total = true;
};

/// One schema change as applied: a collection created (before empty), updated (both set) or
/// deleted (after empty). Stores derive their DDL from the two definitions (see
/// domain/schema_diff.hpp), matching fields by id, so a rename keeps the column's data.
struct CollectionChange {
  std::optional<domain::Collection> before;
  std::optional<domain::Collection> after;
};

/// An entry of a project's schema history.
struct SchemaHistoryEntry {
  std::int64_t version = 0;  ///< the schema version this change produced
  domain::Timestamp at;
  std::string actor;         ///< who asked ("cli", "superuser:<id>" ...)
  CollectionChange change;
};

/// Reads and writes inside one database transaction (see ProjectStore::Write). Every call sees
/// the transaction's own earlier writes. Not thread-safe: used by the callback that received it.
class RecordTransaction : public AuditAppender {
 public:

  /// The record with this id, locked against concurrent writers until the end of the
  /// transaction; nullopt when there is none.
  virtual domain::Result<std::optional<domain::Record>> Find(const domain::Collection& collection,
                                                             std::string_view id) = 0;
  /// How many of `ids` name a record of the collection, read without locking them (a
  /// relation's check: the related records are read, not changed). `ids` holds no duplicates.
  virtual domain::Result<std::size_t> CountExisting(const domain::Collection& collection,
                                                    const std::vector<std::string>& ids) = 0;
  /// As ProjectStore::Query, inside the transaction.
  virtual domain::Result<RecordPage> Query(const domain::Collection& collection,
                                           const RecordQuery& query) = 0;
  /// Whether the record with this id exists and satisfies `filter` (rules checked against the
  /// values just written).
  virtual domain::Result<bool> Matches(const domain::Collection& collection, std::string_view id,
                                       const domain::filter::ResolvedFilter& filter) = 0;
  /// Inserts a record. invalid_argument with "validation_not_unique" field errors (one per
  /// field of the violated unique index) when a unique index refuses it; already_exists when
  /// the id is taken.
  virtual domain::Result<void> Insert(const domain::Collection& collection,
                                      const domain::Record& record) = 0;
  /// Replaces every value of the record with record's id. not_found; invalid_argument as Insert.
  virtual domain::Result<void> Update(const domain::Collection& collection,
                                      const domain::Record& record) = 0;
  /// Deletes the record with this id; not_found. (Relations pointing at it are the caller's
  /// business: the records use case cascades or refuses first.)
  virtual domain::Result<void> Delete(const domain::Collection& collection,
                                      std::string_view id) = 0;
};

/// The collections and records of one project, in the project's own storage (a SQLite file, a
/// PostgreSQL schema, or memory). Thread-safe.
/// Adapters: MemoryProjectStore, SqliteProjectStore, PostgresProjectStore.
class ProjectStore : public AuditChains {
 public:
  /// The current schema snapshot, held in memory and replaced when ApplySchema succeeds (never
  /// re-read per request). unavailable when the storage cannot be read.
  virtual domain::Result<domain::SchemaPtr> Schema() = 0;

  /// Applies changes to several collections in one transaction: the DDL (create, alter,
  /// rename, drop tables, columns and indexes, keeping the data of kept fields and converting
  /// values where the type changed), the stored definitions, and one history entry per change.
  /// The schema version rises by one. aborted when `expected_version` is not the current
  /// version (someone else changed the schema meanwhile); invalid_argument when existing data
  /// cannot satisfy the new schema (e.g. a new unique index over duplicates), naming it.
  /// `audit`, when set, runs inside the same transaction to record the change.
  virtual domain::Result<domain::SchemaPtr> ApplySchema(const std::vector<CollectionChange>& changes,
                                                        std::int64_t expected_version,
                                                        const std::string& actor,
                                                        domain::Timestamp at,
                                                        const AuditWrite& audit) = 0;
  /// The same without an audit event (the platform's internal stores, tests).
  domain::Result<domain::SchemaPtr> ApplySchema(const std::vector<CollectionChange>& changes,
                                                std::int64_t expected_version,
                                                const std::string& actor, domain::Timestamp at) {
    return ApplySchema(changes, expected_version, actor, at, AuditWrite());
  }

  /// The schema history, oldest first.
  virtual domain::Result<std::vector<SchemaHistoryEntry>> History() = 0;

  /// One page of records of `collection` matching query.where, in query.sort order.
  /// Precondition: collection and the filter come from the current Schema().
  virtual domain::Result<RecordPage> Query(const domain::Collection& collection,
                                           const RecordQuery& query) = 0;

  /// The record with this id when it exists and satisfies `where` (nullptr: no condition);
  /// nullopt otherwise.
  virtual domain::Result<std::optional<domain::Record>> Get(
      const domain::Collection& collection, std::string_view id,
      const domain::filter::ResolvedFilter* where) = 0;

  /// Runs `work` in one transaction: committed when it returns success, rolled back when it
  /// fails (its error is returned) or when the commit fails. aborted when the store detected a
  /// conflict with a concurrent transaction (the caller may retry the whole operation).
  virtual domain::Result<void> Write(
      const std::function<domain::Result<void>(RecordTransaction&)>& work) = 0;

};

/// Gives access to each project's store, opening (and creating the storage of) a project on
/// first use. Thread-safe.
class ProjectStores {
 public:
  virtual ~ProjectStores() = default;

  /// The store of `project`; unavailable when its storage cannot be opened.
  virtual domain::Result<std::shared_ptr<ProjectStore>> Open(const domain::Project& project) = 0;
  /// Forgets the project's store and releases what it holds (open files, cached statements);
  /// called after the project was deleted. Stores still in use finish their calls first.
  virtual void Close(const domain::Id& project_id) = 0;
  /// Removes the storage of a project the catalogue has purged (its row is gone), where the
  /// catalogue's own deletion did not reach it: a project placed in another database or
  /// cluster. Idempotent; the storage the catalogue removes itself needs nothing here.
  virtual domain::Result<void> Remove(const domain::Project& project);
  /// Removes what a purged organisation had of its own: the database of a dedicated one, with
  /// all it holds. Idempotent.
  virtual domain::Result<void> RemoveOrganisation(const domain::Organisation& org);
};

inline domain::Result<void> ProjectStores::Remove(const domain::Project&) { return {}; }
inline domain::Result<void> ProjectStores::RemoveOrganisation(const domain::Organisation&) {
  return {};
}

}  // namespace socle::application
