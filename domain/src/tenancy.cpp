#include "socle/domain/tenancy.hpp"

namespace socle::domain {

std::string_view ToString(IsolationTier tier) noexcept {
  return tier == IsolationTier::kDedicated ? "dedicated" : "shared";
}

Result<IsolationTier> ParseIsolationTier(std::string_view text) {
  if (text == "shared") return IsolationTier::kShared;
  if (text == "dedicated") return IsolationTier::kDedicated;
  return Fail(Error::Field("tier", "validation_invalid_value",
                           "Must be one of: shared, dedicated."));
}

std::string DedicatedDatabaseName(const Id& org_id) {
  return "socle_o_" + org_id.str();
}

Placement PlacementOf(const Region& region, IsolationTier tier, const Id& org_id) {
  Placement placement;
  placement.cluster_url = region.store_url;
  if (tier == IsolationTier::kDedicated) placement.database = DedicatedDatabaseName(org_id);
  return placement;
}

}  // namespace socle::domain
