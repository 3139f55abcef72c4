#include "socle/application/data_subjects.hpp"

#include <limits>
#include <string>
#include <utility>

#include "socle/application/audit_reason.hpp"
#include "socle/domain/filter/resolver.hpp"

namespace socle::application {

using domain::Collection;
using domain::ErrorCode;
using domain::Fail;
using domain::FieldType;
using domain::JsonValue;
using domain::Result;
namespace filter = domain::filter;

namespace {

// Audit events are read this many at a time.
constexpr std::int64_t kEventBatch = 1000;
// A personal value that must stay present (a required field) is replaced by this.
constexpr std::string_view kErased = "[erased]";

std::string Realm(const domain::Project& project) { return "project:" + project.id.str(); }

// `field` (a relation to the subject's collection) holds `id`: `=` for one value, `?=` (any
// of) for several. The id reaches the query as a request value.
Result<filter::ResolvedFilter> PointsAt(const domain::SchemaPtr& schema, const Collection& c,
                                        const domain::Field& field, std::string_view id) {
  filter::RequestContext request;
  request.body = JsonValue::Object({{"id", JsonValue::String(std::string(id))}});
  filter::ResolveOptions options;
  options.allow_hidden = true;
  const std::string op = field.max_select > 1 ? " ?= " : " = ";
  auto compiled =
      filter::Compile(field.name + op + "@request.body.id", schema, c, request, options);
  if (!compiled) {
    return Fail(domain::Error::Internal("records pointing at a subject: " +
                                        compiled.error().message));
  }
  return std::move(*compiled);
}

std::string EmailOf(const Collection& c, const domain::Record& record) {
  if (c.type != domain::CollectionType::kAuth) return {};
  const JsonValue* email = record.Get(c, "email");
  return email != nullptr && email->type() == JsonValue::Type::kString ? email->AsString() : "";
}

// The body that blanks every personal field of `c`: the zero value where the field may be
// empty, a placeholder where it must hold something (an e-mail that cannot be a person's).
JsonValue PseudonymousBody(const Collection& c, std::string_view id) {
  std::vector<JsonValue::Member> members;
  for (const auto& field : c.fields) {
    const bool personal = !field.pii.empty() ||
                          (c.type == domain::CollectionType::kAuth && field.name == "email");
    if (!personal) continue;
    JsonValue value = domain::ZeroValue(field);
    if (field.type == FieldType::kEmail) {
      value = JsonValue::String("erased-" + std::string(id) + "@erased.invalid");
    } else if (field.required &&
               (field.type == FieldType::kText || field.type == FieldType::kEditor)) {
      value = JsonValue::String(std::string(kErased));
    }
    members.emplace_back(field.name, std::move(value));
  }
  return JsonValue::Object(std::move(members));
}

// The subject: its project, the schema, its collection and its record (nullopt when gone).
struct Subject {
  ProjectDirectory::Entry entry;
  domain::SchemaPtr schema;
  const Collection* collection;
  std::optional<domain::Record> record;
};

Result<Subject> Find(ProjectDirectory& projects, std::string_view project,
                     std::string_view collection, std::string_view id) {
  if (!domain::Id::Parse(id)) {
    return Fail(domain::Error::Field("id", "validation_invalid_id", "Must be a record id."));
  }
  auto entry = projects.Find(project);
  if (!entry) return Fail(entry.error());
  auto schema = entry->store->Schema();
  if (!schema) return Fail(schema.error());
  const Collection* subject = (*schema)->Find(collection);
  if (subject == nullptr) return Fail(ErrorCode::kNotFound, "Missing collection context.");
  auto record = entry->store->Get(*subject, id, nullptr);
  if (!record) return Fail(record.error());
  return Subject{std::move(*entry), std::move(*schema), subject, std::move(*record)};
}

Caller Operator(const AuditContext& who) {
  Caller caller;
  caller.superuser = true;
  caller.origin = who.origin;
  caller.acting_as = who.actor;
  return caller;
}

}  // namespace

Result<SubjectExport> ManageDataSubjects::Export(std::string_view project,
                                                 std::string_view collection,
                                                 std::string_view id) {
  auto found = Find(projects_, project, collection, id);
  if (!found) return Fail(found.error());
  auto& [entry, schema, subject, own] = *found;

  SubjectExport out;
  out.schema = schema;
  std::string email;
  if (own) {
    email = EmailOf(*subject, *own);
    out.records.push_back(ExpandedRecord{subject, std::move(*own), {}});
  }
  for (const auto& other : schema->collections) {
    if (other.type == domain::CollectionType::kView) continue;
    for (const auto& field : other.fields) {
      if (field.type != FieldType::kRelation || field.collection_id != subject->id) continue;
      auto where = PointsAt(schema, other, field, id);
      if (!where) return Fail(where.error());
      RecordQuery query;
      query.where = &*where;
      query.limit = kMaxRecords + 1 - static_cast<std::int64_t>(out.records.size());
      query.count_total = false;
      auto page = entry.store->Query(other, query);
      if (!page) return Fail(page.error());
      for (auto& record : page->items) {
        if (static_cast<std::int64_t>(out.records.size()) >= kMaxRecords) {
          out.truncated = true;
          break;
        }
        out.records.push_back(ExpandedRecord{&other, std::move(record), {}});
      }
    }
  }

  AuditQuery query;
  query.subject = std::string(id);
  query.limit = kEventBatch;
  while (true) {
    auto events = entry.store->AuditEvents(query);
    if (!events) return Fail(events.error());
    for (auto& event : *events) {
      if (static_cast<std::int64_t>(out.events.size()) >= kMaxEvents) {
        out.truncated = true;
        break;
      }
      out.events.push_back(std::move(event));
    }
    if (out.truncated || static_cast<std::int64_t>(events->size()) < kEventBatch) break;
    const auto& last = out.events.back().event;
    query.before = AuditCursor{last.at, last.lane, last.seq};
  }

  if (sign_ins_ != nullptr && subject->type == domain::CollectionType::kAuth) {
    auto attempts = sign_ins_->About(Realm(entry.project), id, email, kMaxSignIns + 1);
    if (!attempts) return Fail(attempts.error());
    if (static_cast<std::int64_t>(attempts->size()) > kMaxSignIns) {
      attempts->resize(static_cast<std::size_t>(kMaxSignIns));
      out.truncated = true;
    }
    out.sign_ins = std::move(*attempts);
  }
  return out;
}

Result<ErasureReport> ManageDataSubjects::Erase(std::string_view project,
                                                std::string_view collection, std::string_view id,
                                                ErasureMode mode, const AuditContext& who) {
  if (auto reason = CheckAuditReason(who.origin.reason); !reason) return Fail(reason.error());
  auto found = Find(projects_, project, collection, id);
  if (!found) return Fail(found.error());
  auto& [entry, schema, subject, own] = *found;

  ErasureReport report;
  const std::string email = own ? EmailOf(*subject, *own) : std::string();
  if (own) {
    // Through the records use case, so that cascades, cleared references and their events
    // happen as for any change. The personal values this writes into the trail are the
    // subject's, erased just below with the rest.
    if (mode == ErasureMode::kDelete) {
      auto deleted = records_.Delete(project, subject->id, id, Operator(who));
      if (!deleted && deleted.error().code != ErrorCode::kNotFound) return Fail(deleted.error());
      report.record_deleted = static_cast<bool>(deleted);
    } else {
      RecordWriteInput input;
      input.body = PseudonymousBody(*subject, id);
      auto updated = records_.Update(project, subject->id, id, std::move(input), Operator(who));
      if (!updated && updated.error().code != ErrorCode::kNotFound) return Fail(updated.error());
      report.record_pseudonymised = static_cast<bool>(updated);
    }
  }

  auto parts = entry.store->ErasePersonal(id);
  if (!parts) return Fail(parts.error());
  report.personal_parts = *parts;
  if (sign_ins_ != nullptr && subject->type == domain::CollectionType::kAuth) {
    auto forgotten = sign_ins_->Forget(Realm(entry.project), id, email);
    if (!forgotten) return Fail(forgotten.error());
    report.sign_ins = *forgotten;
  }
  if (audit_ != nullptr) {
    AuditEntry event;
    event.org_id = entry.project.org_id.str();
    event.project_id = entry.project.id.str();
    event.actor = who.actor;
    event.origin = who.origin;
    event.action = "subject.erase";
    event.target_kind = "record";
    event.target_collection = subject->id;
    event.target_id = std::string(id);
    event.diff.changes = mode == ErasureMode::kDelete
                             ? R"([{"field":"mode","before":null,"after":"delete"}])"
                             : R"([{"field":"mode","before":null,"after":"pseudonymise"}])";
    if (auto recorded = audit_->Record(*entry.store, event); !recorded) {
      return Fail(recorded.error());
    }
  }
  return report;
}

}  // namespace socle::application
