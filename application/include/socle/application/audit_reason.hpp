#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::application {

/// A reason given for a change (X-Audit-Reason, --reason) is a sentence or two, not a document.
inline constexpr std::size_t kMaxAuditReasonBytes = 1000;

/// invalid_argument when `reason` is longer than kMaxAuditReasonBytes.
inline domain::Result<void> CheckAuditReason(std::string_view reason) {
  if (reason.size() > kMaxAuditReasonBytes) {
    return domain::Fail(domain::ErrorCode::kInvalidArgument,
                        "The audit reason is longer than " +
                            std::to_string(kMaxAuditReasonBytes) + " bytes.");
  }
  return {};
}

}  // namespace socle::application
