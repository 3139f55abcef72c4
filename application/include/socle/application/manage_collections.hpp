#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/audit_trail.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"

namespace socle::application {

/// What an import did.
struct ImportReport {
  std::vector<std::string> created;  ///< collection names
  std::vector<std::string> updated;  ///< changed collections (unchanged ones are not listed)
  std::vector<std::string> deleted;
};

/// Use cases on a project's collections (its schema): list, get, create, update, delete,
/// import, export, history. Callers are trusted (superusers, the ops CLI): authorisation happens
/// before. Every change is validated whole (definition, indexes, rules) and applied through
/// ProjectStore::ApplySchema, which records it in the project's schema history and, with an
/// audit trail, commits one audit event per collection changed (who: `context`) with it.
class ManageCollections final {
 public:
  ManageCollections(ProjectDirectory& projects, Clock& clock, RandomSource& random,
                    AuditTrail* audit = nullptr)
      : projects_(projects), clock_(clock), random_(random), audit_(audit) {}

  /// Every collection of the project, in creation order.
  domain::Result<std::vector<domain::Collection>> List(std::string_view project);
  /// The collection with this id or name (case-insensitive); not_found.
  domain::Result<domain::Collection> Get(std::string_view project, std::string_view id_or_name);
  /// Creates a collection from `draft`: fills a missing id ("pbc_" + 10 digits), field ids and
  /// the system fields id/created/updated, sets created/updated, validates (invalid_argument
  /// with PocketBase-keyed field errors; rules keyed "listRule" ...), applies.
  domain::Result<domain::Collection> Create(std::string_view project, domain::Collection draft,
                                            const std::string& actor,
                                            const AuditContext& context = {});
  /// Replaces the definition of the collection `id_or_name` by `draft` (fields matched by id;
  /// a field without id is new). not_found; invalid_argument.
  domain::Result<domain::Collection> Update(std::string_view project, std::string_view id_or_name,
                                            domain::Collection draft, const std::string& actor,
                                            const AuditContext& context = {});
  /// Deletes a collection and its records. not_found; invalid_argument when it is a system
  /// collection or other collections' relation fields point at it.
  domain::Result<void> Delete(std::string_view project, std::string_view id_or_name,
                              const std::string& actor, const AuditContext& context = {});
  /// Creates or migrates every collection of `collections` (matched by id, else by name) in one
  /// schema change; with delete_missing, deletes the project's other non-system collections.
  /// All or nothing: invalid_argument with errors keyed "collections.N.<key>".
  domain::Result<ImportReport> Import(std::string_view project,
                                      std::vector<domain::Collection> collections,
                                      bool delete_missing, const std::string& actor,
                                      const AuditContext& context = {});
  /// The schema history, oldest first.
  domain::Result<std::vector<SchemaHistoryEntry>> History(std::string_view project);

 private:
  // Import; with create_only, a collection matching an existing one is an error instead of an
  // update (Create).
  domain::Result<ImportReport> Apply(std::string_view project,
                                     std::vector<domain::Collection> collections,
                                     bool delete_missing, bool create_only,
                                     const std::string& actor, const AuditContext& context);
  // What ApplySchema runs to record `changes` (nothing without an audit trail).
  AuditWrite Audit(const domain::Project& project, const std::vector<CollectionChange>& changes,
                   const AuditContext& context);

  ProjectDirectory& projects_;
  Clock& clock_;
  RandomSource& random_;
  AuditTrail* audit_;
};

}  // namespace socle::application
