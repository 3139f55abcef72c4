#pragma once

#include <map>
#include <ostream>
#include <string>

#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::cli {

/// The `audit` commands (Command::NeedsAudit): the operator reads the projects' audit trail,
/// verifies its chains and signs checkpoints, through the audit log. Organisations and projects
/// are named by slug and found through the catalogue; events and reports are printed as text
/// or, with --json, in the audit API's shapes. Results go to `out`; notes (the next page's
/// cursor) and errors to `err`. One per command run.
class AuditCommands final {
 public:
  AuditCommands(std::ostream& out, std::ostream& err, CatalogueServices& services,
                application::AuditLog& log);

  /// Runs `command` (one for which NeedsAudit()); returns the exit status: for verify, 1 when
  /// anything is broken.
  int Run(const Command& command);

 private:
  int Fail(const domain::Error& error);
  int Verify(const Command& command);
  int Checkpoint(const Command& command);
  int List(const Command& command);

  /// The slug of the organisation with this id, or the id itself when it is gone (its chains
  /// are still reported); looked up once per id.
  std::string OrgName(const std::string& org_id);
  /// The same for a project.
  std::string ProjectName(const std::string& project_id);

  std::ostream& out_;
  std::ostream& err_;
  CatalogueServices& services_;
  application::AuditLog& log_;
  std::map<std::string, std::string> org_names_;
  std::map<std::string, std::string> project_names_;
};

}  // namespace socle::adapters::cli
