#include "subject_commands.hpp"

#include <cstdint>
#include <utility>

#include "report_error.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/json/audit_json.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/json/record_json.hpp"
#include "text_table.hpp"

namespace socle::adapters::cli {
namespace {

using application::ErasureMode;

// "subject ID of collection C in project P", as every message names the person.
std::string SubjectText(const Command& command) {
  return "subject " + command.arguments[2] + " of collection " + command.arguments[1] +
         " in project " + command.arguments[0];
}

}  // namespace

SubjectCommands::SubjectCommands(std::ostream& out, std::ostream& err,
                                 application::ManageDataSubjects& subjects, FileWriter write_file)
    : out_(out), err_(err), subjects_(subjects), write_file_(std::move(write_file)) {}

int SubjectCommands::Fail(const domain::Error& error) { return ReportError(err_, error); }

int SubjectCommands::Run(const Command& command, const application::AuditContext& context) {
  // The parser gives these commands exactly their three arguments.
  if (command.arguments.size() != 3) {
    return Fail(domain::Error::Internal("a subject command without PROJECT COLLECTION ID"));
  }
  switch (command.verb) {
    case Verb::kSubjectExport:
      return Export(command);
    case Verb::kSubjectErase:
      return Erase(command, context);
    default:
      break;
  }
  return Fail(domain::Error::Internal("unhandled subject command"));
}

int SubjectCommands::Export(const Command& command) {
  const std::string& id = command.arguments[2];
  auto exported = subjects_.Export(command.arguments[0], command.arguments[1], id);
  if (!exported) return Fail(exported.error());
  json::JsonWriter w;
  json::WriteSubjectExport(w, *exported, id);
  const std::string document = std::move(w).Take() + "\n";
  if (!command.out_file || *command.out_file == "-") {
    out_ << document;
  } else {
    if (auto written = write_file_(*command.out_file, document); !written) {
      return Fail(written.error());
    }
    // A message, not a result: stdout stays empty so that scripts can tell the two apart.
    err_ << "Exported " << SubjectText(command) << " to " << *command.out_file << ".\n";
  }
  // Notes on stderr, so that stdout stays the document a script can take as it is.
  if (exported->records.empty() && exported->events.empty() && exported->sign_ins.empty()) {
    err_ << "The project holds nothing about " << SubjectText(command) << ".\n";
  }
  if (exported->truncated) {
    err_ << "socle: the export is incomplete: it stops at "
         << application::ManageDataSubjects::kMaxRecords << " records, "
         << application::ManageDataSubjects::kMaxEvents << " audit events and "
         << application::ManageDataSubjects::kMaxSignIns
         << " sign-in attempts; socle audit list --subject " << id
         << " pages through every event.\n";
  }
  return kExitOk;
}

int SubjectCommands::Refuse(const Command& command) {
  // Never a prompt: scripts must not hang, and a person reads what would go. The export
  // finds what the erasure would (and says so when the project, collection or id is wrong).
  auto exported = subjects_.Export(command.arguments[0], command.arguments[1],
                                   command.arguments[2]);
  if (!exported) return Fail(exported.error());
  const domain::Collection* collection = exported->schema->Find(command.arguments[1]);
  bool own_record = false;
  std::int64_t pointing = 0;
  for (const auto& item : exported->records) {
    // Their own record, when it is still there, next to those of its collection pointing at it.
    if (item.collection == collection && item.record.Id(*item.collection) == command.arguments[2]) {
      own_record = true;
    } else {
      ++pointing;
    }
  }
  const bool pseudonymise = command.mode == "pseudonymise";
  err_ << "socle: nothing was erased. For " << SubjectText(command) << " the project holds ";
  if (own_record) {
    err_ << "their record (it would be " << (pseudonymise ? "pseudonymised" : "deleted") << ")";
  } else {
    err_ << "no record any more";
  }
  err_ << ", " << Plural(pointing, "record") << " pointing at it, "
       << Plural(static_cast<std::int64_t>(exported->events.size()), "audit event")
       << " about them (their personal parts would go) and "
       << Plural(static_cast<std::int64_t>(exported->sign_ins.size()), "sign-in attempt")
       << (exported->truncated ? " (at least)" : "") << "; pass --yes to erase them.\n";
  if (collection != nullptr && collection->audit_reason_required && !command.reason) {
    err_ << "  Collection " << collection->name
         << " requires a reason for every change: give --reason too.\n";
  }
  return kExitError;
}

int SubjectCommands::Erase(const Command& command, const application::AuditContext& context) {
  if (!command.yes) return Refuse(command);
  const ErasureMode mode =
      command.mode == "pseudonymise" ? ErasureMode::kPseudonymise : ErasureMode::kDelete;
  auto erased = subjects_.Erase(command.arguments[0], command.arguments[1], command.arguments[2],
                                mode, context);
  if (!erased) return Fail(erased.error());
  if (command.json) {
    json::JsonWriter w;
    json::WriteErasureReport(w, *erased);
    out_ << std::move(w).Take() << "\n";
    return kExitOk;
  }
  std::string record = "already gone";
  if (erased->record_deleted) record = "deleted";
  if (erased->record_pseudonymised) record = "pseudonymised";
  out_ << "Erased " << SubjectText(command) << ".\n";
  PrintFields(out_, {{"record", record},
                     {"personal parts", std::to_string(erased->personal_parts)},
                     {"sign-in attempts", std::to_string(erased->sign_ins)}});
  return kExitOk;
}

}  // namespace socle::adapters::cli
