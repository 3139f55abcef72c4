#include "audit_commands.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "report_error.hpp"
#include "socle/adapters/json/audit_json.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "text_table.hpp"

namespace socle::adapters::cli {
namespace {

using domain::ErrorCode;

// A stored value as a table cell: control characters (a reason's line breaks, an escape
// sequence someone put in a header that became a reason) are shown as spaces, so that one
// event stays on one line and nothing in the trail can drive the operator's terminal.
std::string Cell(std::string_view text) {
  std::string cell(text);
  for (char& c : cell) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = ' ';
  }
  return cell;
}

// What the table shows as an event's target: its kind, and the collection before the id of a
// record ("record pbc_posts/abc"); a collection is its own id.
std::string TargetText(const domain::AuditEvent& event) {
  std::string text = event.target_kind;
  if (!event.target_collection.empty() && event.target_collection != event.target_id) {
    text += " " + event.target_collection + "/" + event.target_id;
  } else if (!event.target_id.empty()) {
    text += " " + event.target_id;
  }
  return text;
}

// One chain's verdict, for the table.
std::string ChainStatus(const application::AuditChainReport& chain) {
  if (!chain.broken) return "ok";
  return "BROKEN (" + std::string(domain::ToString(*chain.broken)) + ") at event " +
         std::to_string(chain.broken_at) + ": " + chain.detail;
}

}  // namespace

AuditCommands::AuditCommands(std::ostream& out, std::ostream& err, CatalogueServices& services,
                             application::AuditLog& log)
    : out_(out), err_(err), services_(services), log_(log) {}

int AuditCommands::Fail(const domain::Error& error) { return ReportError(err_, error); }

int AuditCommands::Run(const Command& command) {
  switch (command.verb) {
    case Verb::kAuditVerify:
      return Verify(command);
    case Verb::kAuditCheckpoint:
      return Checkpoint(command);
    case Verb::kAuditList:
      return List(command);
    default:
      break;
  }
  return Fail(domain::Error::Internal("unhandled audit command"));
}

std::string AuditCommands::OrgName(const std::string& org_id) {
  if (auto known = org_names_.find(org_id); known != org_names_.end()) return known->second;
  std::string name = org_id;
  if (auto id = domain::Id::Parse(org_id)) {
    if (auto org = services_.store.GetOrganisationById(*id)) name = org->slug.str();
  }
  org_names_.emplace(org_id, name);
  return name;
}

std::string AuditCommands::ProjectName(const std::string& project_id) {
  if (auto known = project_names_.find(project_id); known != project_names_.end()) {
    return known->second;
  }
  std::string name = project_id;
  if (auto id = domain::Id::Parse(project_id)) {
    if (auto project = services_.store.GetProjectById(*id)) name = project->slug.str();
  }
  project_names_.emplace(project_id, name);
  return name;
}

int AuditCommands::Verify(const Command& command) {
  std::optional<domain::Organisation> org;
  if (command.org) {
    auto found = services_.organisations.Get(*command.org);
    if (!found) return Fail(found.error());
    org = std::move(*found);
  }
  auto report = log_.Verify(org ? &*org : nullptr, command.public_key.value_or(""));
  if (!report) return Fail(report.error());

  std::int64_t events = 0;
  std::int64_t broken = 0;
  for (const auto& chain : report->chains) {
    events += chain.events;
    if (chain.broken) ++broken;
  }
  if (command.json) {
    json::JsonWriter w;
    json::WriteAuditVerification(w, *report);
    out_ << std::move(w).Take() << "\n";
  } else {
    if (report->chains.empty()) {
      out_ << "No audit events" << (org ? " in organisation " + org->slug.str() : "") << ".\n";
    } else {
      TextTable table({"ORG", "PROJECT", "LANE", "EVENTS", "SIGNED", "STATUS"});
      for (const auto& chain : report->chains) {
        // A project gone from the catalogue has no slug any more: its id still says which.
        table.AddRow({OrgName(chain.org_id),
                      chain.project_slug.empty() ? chain.project_id : chain.project_slug,
                      std::to_string(chain.lane), std::to_string(chain.events),
                      chain.signed_seq > 0 ? std::to_string(chain.signed_seq) : "-",
                      ChainStatus(chain)});
      }
      table.Print(out_);
    }
    if (!report->checkpoint) {
      out_ << "Checkpoint: none yet, so the chains were checked on their own (socle audit "
              "checkpoint signs one).\n";
    } else {
      const auto& checkpoint = *report->checkpoint;
      out_ << "Checkpoint: " << checkpoint.at.ToIso8601() << ", key " << checkpoint.key_id
           << ", " << Plural(static_cast<std::int64_t>(checkpoint.heads.size()), "chain head")
           << ": "
           << (report->checkpoint_problem.empty() ? "signature valid"
                                                  : "NOT TRUSTED: " + report->checkpoint_problem)
           << "\n";
    }
    if (report->ok) {
      out_ << "The audit trail is intact: "
           << Plural(static_cast<std::int64_t>(report->chains.size()), "chain") << ", "
           << Plural(events, "event") << ".\n";
    }
  }
  if (report->ok) return kExitOk;
  // Said on stderr as well, in both output modes, so that a script's log shows why it failed.
  err_ << "socle: the audit trail does not verify:";
  if (broken > 0) {
    err_ << " " << broken << " of " << Plural(static_cast<std::int64_t>(report->chains.size()),
                                              "chain")
         << " broken";
  }
  if (!report->checkpoint_problem.empty()) {
    err_ << (broken > 0 ? ";" : "") << " " << report->checkpoint_problem;
  }
  err_ << "\n";
  return kExitError;
}

int AuditCommands::Checkpoint(const Command& command) {
  auto checkpoint = log_.Checkpoint(false);
  if (!checkpoint) return Fail(checkpoint.error());
  if (command.json) {
    json::JsonWriter w;
    json::WriteAuditCheckpoint(w, *checkpoint);
    out_ << std::move(w).Take() << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"at", checkpoint->at.ToIso8601()},
                     {"key", checkpoint->key_id},
                     {"public key", checkpoint->public_key},
                     {"heads", std::to_string(checkpoint->heads.size())}});
  return kExitOk;
}

int AuditCommands::List(const Command& command) {
  auto org = services_.organisations.Get(command.org.value_or(""));
  if (!org) return Fail(org.error());
  std::optional<domain::Project> project;
  if (command.project) {
    auto found = services_.projects.Get(*command.project);
    if (!found) return Fail(found.error());
    // The trail is read one organisation at a time: a project of another one is not there.
    if (found->org_id != org->id) {
      return Fail(domain::Error::Make(ErrorCode::kNotFound,
                                      "Project " + *command.project +
                                          " is not a project of organisation " + org->slug.str() +
                                          "."));
    }
    project = std::move(*found);
  }
  application::AuditQuery query;
  query.actor_id = command.actor.value_or("");
  query.action = command.action.value_or("");
  query.target_collection = command.collection.value_or("");
  query.target_id = command.target.value_or("");
  query.subject = command.subject.value_or("");
  query.from = command.from;
  query.to = command.to;
  query.limit = command.limit;
  auto page = log_.Search(org->id, project ? &*project : nullptr, query,
                          command.cursor.value_or(""));
  if (!page) return Fail(page.error());

  if (command.json) {
    json::JsonWriter w;
    w.BeginObject().Key("items").BeginArray();
    for (const auto& item : page->items) json::WriteAuditEvent(w, item, command.personal);
    w.EndArray().Key("nextCursor");
    if (page->next_cursor.empty()) {
      w.Null();
    } else {
      w.String(page->next_cursor);
    }
    w.EndObject();
    out_ << std::move(w).Take() << "\n";
    return kExitOk;
  }
  switch (command.format) {
    case AuditFormat::kJsonLines:
      for (const auto& item : page->items) {
        json::JsonWriter w;
        json::WriteAuditEvent(w, item, command.personal);
        out_ << std::move(w).Take() << "\n";
      }
      break;
    case AuditFormat::kCsv:
      out_ << json::AuditCsvHeader();
      for (const auto& item : page->items) out_ << json::AuditCsvRow(item);
      break;
    case AuditFormat::kTable: {
      if (page->items.empty()) {
        out_ << (command.cursor ? "No more audit events.\n" : "No audit events.\n");
        break;
      }
      // Across the organisation, events of several projects interleave: say whose each is.
      const bool across = !project;
      std::vector<std::string> headers = {"TIME"};
      if (across) headers.emplace_back("PROJECT");
      for (const char* header : {"ACTOR", "ACTION", "TARGET", "OUTCOME", "REASON"}) {
        headers.emplace_back(header);
      }
      TextTable table(std::move(headers));
      for (const auto& item : page->items) {
        const domain::AuditEvent& event = item.event;
        std::vector<std::string> row = {event.at.ToApiString()};
        if (across) row.push_back(Cell(ProjectName(event.project_id)));
        row.push_back(Cell(std::string(domain::ToString(event.actor_kind)) + ":" +
                           event.actor_id));
        row.push_back(Cell(event.action));
        row.push_back(Cell(TargetText(event)));
        row.push_back(std::string(domain::ToString(event.outcome)));
        row.push_back(Cell(event.reason));
        table.AddRow(std::move(row));
      }
      table.Print(out_);
      break;
    }
  }
  // On stderr, so that stdout stays one well-formed page a script can take as it is.
  if (!page->next_cursor.empty()) {
    err_ << "More events: carry on with --cursor " << page->next_cursor << "\n";
  }
  return kExitOk;
}

}  // namespace socle::adapters::cli
