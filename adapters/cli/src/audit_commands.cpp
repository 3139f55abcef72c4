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
        // An organisation's chain of platform events, and the platform's own trails, have no
        // project: the column says whose trail it is.
        std::string trail = chain.project_slug.empty() ? chain.project_id : chain.project_slug;
        if (chain.trail == "organisation") trail = "(organisation)";
        if (chain.trail == "platform") trail = "(platform) " + trail;
        table.AddRow({chain.org_id.empty() ? "-" : OrgName(chain.org_id), trail,
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

domain::Result<domain::Timestamp> ParseArchiveCut(std::string_view text) {
  // A bare date is the commonest cut an operator names: the start of that day, UTC.
  const bool date_only = text.size() == 10 && text[4] == '-' && text[7] == '-';
  auto parsed = domain::Timestamp::Parse(date_only ? std::string(text) + "T00:00:00Z"
                                                   : std::string(text));
  if (!parsed) {
    return domain::Fail(ErrorCode::kInvalidArgument,
                        "--before must be a date (YYYY-MM-DD) or an RFC 3339 UTC time.");
  }
  return *parsed;
}

int AuditCommands::Archive(application::AuditRetention& retention,
                           const std::optional<std::string>& before,
                           std::optional<std::int64_t> older_than_months, bool json) {
  if (before.has_value() == older_than_months.has_value()) {
    err_ << "socle audit archive: give either --before DATE or --older-than-months N.\n";
    return kExitUsage;
  }
  domain::Result<application::AuditRetentionReport> report =
      domain::Fail(domain::Error::Internal("audit archive without a cut"));
  if (before) {
    auto cut = ParseArchiveCut(*before);
    if (!cut) {
      err_ << "socle audit archive: " << cut.error().message << "\n";
      return kExitUsage;
    }
    report = retention.Archive(*cut);
  } else {
    if (*older_than_months < 1) {
      err_ << "socle audit archive: --older-than-months must be at least 1.\n";
      return kExitUsage;
    }
    report = retention.ArchiveOlderThan(*older_than_months);
  }
  if (!report) return Fail(report.error());

  if (json) {
    json::JsonWriter w;
    w.BeginObject();
    w.Key("before").String(report->before.ToIso8601());
    w.Key("events").Int(report->events);
    w.Key("ok").Bool(report->ok);
    w.Key("projects").BeginArray();
    for (const auto& project : report->projects) {
      w.BeginObject();
      w.Key("org").String(project.org_id);
      w.Key("project").String(project.project_id);
      w.Key("projectSlug").String(project.project_slug);
      w.Key("events").Int(project.archived.events);
      w.Key("anchors").BeginArray();
      for (const auto& anchor : project.archived.anchors) {
        w.BeginObject();
        w.Key("lane").Int(anchor.lane);
        w.Key("seq").Int(anchor.seq);
        w.Key("hash").String(anchor.hash);
        w.EndObject();
      }
      w.EndArray();
      w.Key("archive").String(project.archive);
      w.Key("detached").BeginArray();
      for (const auto& table : project.archived.detached) w.String(table);
      w.EndArray();
      if (project.error) {
        w.Key("error").String(project.error->message);
      } else {
        w.Key("error").Null();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    out_ << std::move(w).Take() << "\n";
  } else {
    out_ << "Cut: " << report->before.ToIso8601() << "\n";
    if (report->projects.empty()) {
      out_ << "No projects.\n";
    } else {
      TextTable table({"ORG", "PROJECT", "EVENTS", "ANCHORS", "ARCHIVE", "STATUS"});
      for (const auto& project : report->projects) {
        std::string anchors;
        for (const auto& anchor : project.archived.anchors) {
          if (!anchors.empty()) anchors += " ";
          anchors += std::to_string(anchor.lane) + ":" + std::to_string(anchor.seq);
        }
        std::string status = "ok";
        if (project.error) {
          status = "FAILED: " + Cell(project.error->message);
        } else if (!project.archived.detached.empty()) {
          status = "ok, detached";
          for (const auto& detached : project.archived.detached) status += " " + detached;
        }
        table.AddRow({OrgName(project.org_id), project.project_slug,
                      std::to_string(project.archived.events), anchors.empty() ? "-" : anchors,
                      project.archive.empty() ? "-" : Cell(project.archive), status});
      }
      table.Print(out_);
    }
    out_ << Plural(report->events, "event") << " archived.\n";
  }
  return report->ok ? kExitOk : kExitError;
}

}  // namespace socle::adapters::cli
