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
};

}  // namespace socle::domain
