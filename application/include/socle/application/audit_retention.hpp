#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "socle/application/ports/audit_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// What archiving one project's trail did.
struct AuditRetentionProject {
  std::string org_id;
  std::string project_id;
  std::string project_slug;
  AuditArchived archived;
  std::string archive;  ///< where its archive went ("" when nothing moved)
  /// Why this project's trail was not archived (the others still were); nullopt on success.
  std::optional<domain::Error> error;
};

/// What one retention run did, project by project.
struct AuditRetentionReport {
  domain::Timestamp before;  ///< the cut: events older than this were archived
  std::vector<AuditRetentionProject> projects;
  std::int64_t events = 0;  ///< archived in all
  bool ok = true;           ///< no project failed
};

/// Retention of the project trails (docs/audit.md, Retention): moves every event older than a
/// cut out of each project's store into an archive (AuditChains::ArchiveAudit), for every
/// project whose store holds a trail, live or scheduled for deletion. Thread-safe as its ports.
class AuditRetention final {
 public:
  AuditRetention(CatalogueStore& catalogue, ProjectStores& stores, AuditArchives& archives,
                 Clock& clock)
      : catalogue_(catalogue), stores_(stores), archives_(archives), clock_(clock) {}

  /// The cut that keeps `months` whole months (UTC) before the current one: the first instant
  /// of the month `months` months before `now`'s. nullopt for 0 (keep forever); whole months,
  /// so that PostgreSQL detaches every partition the cut covers.
  static std::optional<domain::Timestamp> CutFor(domain::Timestamp now, std::int64_t months);

  /// Archives every project's events older than `before`. invalid_argument for a cut after
  /// the current time (events still being written would be cut); unavailable when the projects
  /// cannot be listed. A project that fails is reported in its entry and the run goes on.
  domain::Result<AuditRetentionReport> Archive(domain::Timestamp before);
  /// Archive(CutFor(now, months)); a report with nothing for months 0. invalid_argument for a
  /// negative count or one beyond 1200.
  domain::Result<AuditRetentionReport> ArchiveOlderThan(std::int64_t months);

 private:
  CatalogueStore& catalogue_;
  ProjectStores& stores_;
  AuditArchives& archives_;
  Clock& clock_;
};

}  // namespace socle::application
