#pragma once

#include <string_view>

#include "socle/application/access_control.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/error.hpp"

namespace socle::application {

/// Platform members on a project's data API. A member's access token (PlatformSessions) proves
/// a Caller whose permissions and roles are the member's at that project (AccessControl: their
/// policies and their teams' in the project's organisation, only the active role after role
/// switching), and whose @request.auth is their `_members` record. A member holding nothing on
/// the project (a member of another organisation, or of this one without a policy reaching the
/// project) is a guest there: no identity, so that a rule admitting any signed-in caller does
/// not admit every member of the platform. Thread-safe.
class PlatformCallers final {
 public:
  PlatformCallers(ProjectDirectory& projects, PlatformSessions& members, AccessControl& access)
      : projects_(projects), members_(members), access_(access) {}

  /// unauthenticated when `token` is not a valid member access token; not_found for an unknown
  /// project; a guest's Caller when the member holds nothing on the project.
  domain::Result<Caller> Member(std::string_view project, std::string_view token);

  /// Fills in the rights of an organisation's API key on `project` (`key` as
  /// ManageApiKeys::Identify returns it, api_key_org set): the permissions and roles its
  /// policies give there, and @request.auth.roles.
  domain::Result<Caller> ApiKey(std::string_view project, Caller key);

  /// The Caller of a platform principal already identified (a member, or an organisation's API
  /// key) on `project`: permissions and roles at the project, no auth record.
  domain::Result<Caller> For(const Principal& principal, const domain::Project& project);

 private:
  ProjectDirectory& projects_;
  PlatformSessions& members_;
  AccessControl& access_;
};

}  // namespace socle::application
