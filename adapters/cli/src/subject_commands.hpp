#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "socle/adapters/cli/command.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/data_subjects.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::cli {

/// The `subject` commands (Command::NeedsSubjects): the operator answers a person's GDPR
/// requests for one project through ManageDataSubjects, as a superuser does through the audit
/// API. `subject export` prints the API's subject export document; `subject erase` erases
/// (after --yes) and prints what went. Project, collection and id are the command's three
/// arguments. Results go to `out`; notes, refusals and errors to `err`. One per command run.
class SubjectCommands final {
 public:
  /// Replaces FILE with the given text whole, or leaves it as it was (--out).
  using FileWriter = std::function<domain::Result<void>(const std::string&, std::string_view)>;

  SubjectCommands(std::ostream& out, std::ostream& err, application::ManageDataSubjects& subjects,
                  FileWriter write_file);

  /// Runs `command` (one for which NeedsSubjects()); `context` is who the erasure is recorded
  /// as in the trail (the CLI's actor, request id and --reason). Returns the exit status.
  int Run(const Command& command, const application::AuditContext& context);

 private:
  int Fail(const domain::Error& error);
  int Export(const Command& command);
  int Erase(const Command& command, const application::AuditContext& context);
  /// Without --yes: says on `err` what the erasure would remove, erases nothing, returns 1.
  int Refuse(const Command& command);

  std::ostream& out_;
  std::ostream& err_;
  application::ManageDataSubjects& subjects_;
  FileWriter write_file_;
};

}  // namespace socle::adapters::cli
