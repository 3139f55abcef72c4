#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "access_json.hpp"
#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::cli {

/// The commands on organisations' access (Command::NeedsAccess): each one call of an access use
/// case, made as the operator (a superuser, so that only the use cases' rules, never a missing
/// permission, refuse it), its result printed as text or, with --json, in the platform API's
/// shapes. Results go to `out`; notes and errors to `err`. One per command run.
class AccessCommands final {
 public:
  /// `store` turns the project ids of policies, invitations and keys into slugs.
  /// What it changes is recorded in the audit trail with `origin` (the invocation's request
  /// id, user agent and --reason).
  AccessCommands(std::ostream& out, std::ostream& err, application::CatalogueStore& store,
                 AccessServices& services, application::AuditOrigin origin = {});

  /// Runs `command` (one for which NeedsAccess()); returns the exit status.
  int Run(const Command& command);

  /// Who the CLI acts as: superuser "cli" ("operator"), recorded as "superuser:cli".
  static application::Principal Operator(application::AuditOrigin origin = {});

 private:
  int Fail(const domain::Error& error);
  /// The slugs of the projects named by these ids (ids of projects gone are left out).
  domain::Result<ProjectNames> NamesOf(const std::vector<std::optional<std::string>>& ids);

  int OrgOwner(const Command& command);
  int OrgTransfer(const Command& command);
  int OrgExplain(const Command& command);
  int MemberList(const Command& command);
  int MemberRemove(const Command& command);
  int MemberInvite(const Command& command);
  int MemberInvitations(const Command& command);
  int MemberRevokeInvitation(const Command& command);
  int TeamList(const Command& command);
  int TeamCreate(const Command& command);
  int TeamShow(const Command& command);
  int TeamRename(const Command& command);
  int TeamDelete(const Command& command);
  int TeamMembership(const Command& command);
  int RoleList(const Command& command);
  int RolePut(const Command& command);
  int RoleDelete(const Command& command);
  int PolicyList(const Command& command);
  int PolicyGrant(const Command& command);
  int PolicyRevoke(const Command& command);
  int FlagList(const Command& command);
  int FlagSet(const Command& command);
  int FlagDelete(const Command& command);
  int FlagEval(const Command& command);
  int OrgKeyCreate(const Command& command);
  int OrgKeyList(const Command& command);
  int OrgKeyRevoke(const Command& command);

  int ShowTeam(const Command& command, const domain::Team& team);
  /// Prints the --json acknowledgement of a change the API answers with no body, or `text`.
  int Done(const Command& command, const std::vector<std::pair<std::string, std::string>>& members,
           const std::string& flag_name, const std::string& text);

  std::ostream& out_;
  std::ostream& err_;
  application::CatalogueStore& store_;
  AccessServices& services_;
  const application::Principal operator_;
};

}  // namespace socle::adapters::cli
