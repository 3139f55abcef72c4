#pragma once

#include <string>

#include "socle/domain/audit.hpp"

namespace socle::application {

/// Where a request came from and why it was made, as the entry point (HTTP, CLI) knows it.
struct AuditOrigin {
  std::string request_id;
  std::string client_address;
  std::string user_agent;
  /// X-Audit-Reason / --reason; collections with auditReasonRequired demand one for updates
  /// and deletes.
  std::string reason;
};

/// Who acted, for the trail.
struct AuditActor {
  domain::AuditActorKind kind = domain::AuditActorKind::kSystem;
  std::string id;
};

/// Who acts and from where: what an entry point gives each audited use case.
struct AuditContext {
  AuditActor actor;
  AuditOrigin origin;
};

}  // namespace socle::application
