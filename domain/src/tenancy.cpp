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

}  // namespace socle::domain
