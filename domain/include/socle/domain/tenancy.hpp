#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "socle/domain/display_name.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/id.hpp"
#include "socle/domain/slug.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::domain {

/// Where an organisation's project schemas live: in a shared cluster guarded by per-project roles
/// (shared), or in a database of the organisation's own (dedicated).
enum class IsolationTier { kShared, kDedicated };

/// "shared" or "dedicated".
std::string_view ToString(IsolationTier tier) noexcept;
/// Parses "shared" / "dedicated"; invalid_argument with field "tier" otherwise.
Result<IsolationTier> ParseIsolationTier(std::string_view text);

/// A placement target: a named PostgreSQL cluster (or, for the embedded default, this instance's
/// own store, spelled by an empty store URL).
struct Region {
  static constexpr std::string_view kDefaultName = "local";

  Slug name;
  std::string store_url;
};

/// The tenant. Its slug is immutable once created (it appears in URLs and audit records).
struct Organisation {
  Id id;
  Slug slug;
  DisplayName name;
  Slug region;
  IsolationTier tier = IsolationTier::kShared;
  Timestamp created;
  Timestamp updated;
  /// When its deletion was asked, while it waits for the purge (deleted + the grace period);
  /// it can be restored until then. Absent for a live organisation.
  std::optional<Timestamp> deleted = std::nullopt;
};

/// One backend of an organisation. Its slug is unique across the platform (it names the
/// /p/{project} path) and immutable.
struct Project {
  Id id;
  Slug slug;
  DisplayName name;
  Id org_id;
  Slug org_slug;  ///< The owning organisation's slug, for display; derived from org_id.
  Timestamp created;
  Timestamp updated;
  /// When its deletion was asked, while it waits for the purge: its own deletion's, or its
  /// organisation's when that came first (the project goes with it). Absent for a live project.
  std::optional<Timestamp> deleted = std::nullopt;
  /// The owning organisation's region and tier, derived from org_id like org_slug by the
  /// catalogue: where the project's data lives (see PlacementOf). Absent for a project not read
  /// from the catalogue (the platform's system project), which lives with the catalogue.
  std::optional<Slug> org_region = std::nullopt;
  IsolationTier org_tier = IsolationTier::kShared;
};

/// Where a project's data lives, as its organisation's region and tier say.
struct Placement {
  /// The cluster: the region's store URL, or empty for this instance's own store.
  std::string cluster_url;
  /// The database of a dedicated organisation on that cluster (DedicatedDatabaseName), or
  /// empty for the shared tier: the cluster URL's own database, beside other organisations.
  std::string database;
  /// This instance's own store, shared tier: where the catalogue is.
  bool own() const noexcept { return cluster_url.empty() && database.empty(); }
  friend bool operator==(const Placement&, const Placement&) = default;
};

/// The name of a dedicated organisation's database: "socle_o_" and its id (23 bytes of
/// [a-z0-9_], a PostgreSQL identifier that needs no quoting).
std::string DedicatedDatabaseName(const Id& org_id);

/// Where the projects of an organisation with this tier and id live in `region`.
Placement PlacementOf(const Region& region, IsolationTier tier, const Id& org_id);

}  // namespace socle::domain
