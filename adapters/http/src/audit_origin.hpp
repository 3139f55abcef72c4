#pragma once

// What the audit trail records of an HTTP request's origin, built the same way by every
// handler that passes one on. Private to the adapter.
#include <string>

#include "socle/adapters/http/request.hpp"
#include "socle/application/audit_trail.hpp"

namespace socle::adapters::http {

/// The request id, `client_address` (as the caller resolved it, trusted proxies included), the
/// user agent (at most 512 bytes, "(not UTF-8)" when it is not text) and X-Audit-Reason.
application::AuditOrigin AuditOriginOf(const Request& request, std::string client_address);

}  // namespace socle::adapters::http
