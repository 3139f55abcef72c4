#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_retention.hpp"
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

  /// `audit archive [--before DATE | --older-than-months N]` (docs/audit.md, Retention):
  /// archives every project's trail older than the cut through `retention` and prints, per
  /// project, what moved (events, anchors, archive file, detached partitions) or why it did
  /// not; with `json`, {before, events, ok, projects: [...]}. Exactly one of `before`
  /// (ParseArchiveCut) and `older_than_months` must be set: usage error (exit 2) otherwise.
  /// Exit 1 when the run or any project failed.
  int Archive(application::AuditRetention& retention, const std::optional<std::string>& before,
              std::optional<std::int64_t> older_than_months, bool json);

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

/// The cut of `audit archive --before`: a date (YYYY-MM-DD, its midnight UTC) or an RFC 3339
/// UTC time. invalid_argument otherwise.
domain::Result<domain::Timestamp> ParseArchiveCut(std::string_view text);

}  // namespace socle::adapters::cli
