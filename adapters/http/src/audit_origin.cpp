#include "audit_origin.hpp"

#include "socle/domain/display_name.hpp"

namespace socle::adapters::http {

namespace {

// User agents are recorded in the audit trail up to this many bytes.
constexpr std::size_t kMaxUserAgent = 512;

}  // namespace

application::AuditOrigin AuditOriginOf(const Request& request, std::string client_address) {
  application::AuditOrigin origin;
  origin.request_id = request.request_id;
  origin.client_address = std::move(client_address);
  origin.user_agent = std::string(request.Header("user-agent").value_or(std::string_view{}));
  if (origin.user_agent.size() > kMaxUserAgent) origin.user_agent.resize(kMaxUserAgent);
  // The trail keeps text: a user agent that is not UTF-8 (or was cut inside a character) is
  // recorded as such rather than as bytes.
  if (domain::Utf8Length(origin.user_agent) < 0) origin.user_agent = "(not UTF-8)";
  origin.reason = std::string(request.Header("x-audit-reason").value_or(std::string_view{}));
  return origin;
}

}  // namespace socle::adapters::http
