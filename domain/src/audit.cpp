#include "socle/domain/audit.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>
#include <utility>

namespace socle::domain {
namespace {

constexpr std::string_view kActorKinds[] = {"member", "app_user", "superuser", "api_key",
                                            "guest",  "system"};
constexpr std::string_view kOutcomes[] = {"success", "denied", "error"};

// The enumerator whose name (its index in `names`) is `text`.
template <typename E, std::size_t N>
std::optional<E> ByName(const std::string_view (&names)[N], std::string_view text) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

// How far from its position a moved event is looked for (OriginalSeq).
constexpr std::int64_t kMoveWindow = 16;

void AppendMember(std::string& out, std::string_view key, std::string_view value) {
  AppendCanonicalJsonString(out, key);
  out += ':';
  AppendCanonicalJsonString(out, value);
}

void AppendInteger(std::string& out, std::int64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

bool IsAutodate(const Field& field) { return field.type == FieldType::kAutodate; }

bool IsMasked(const Field& field) {
  return field.hidden || field.type == FieldType::kPassword;
}

}  // namespace

std::string_view ToString(AuditActorKind kind) noexcept {
  return kActorKinds[static_cast<std::size_t>(kind)];
}

std::optional<AuditActorKind> ParseAuditActorKind(std::string_view text) noexcept {
  return ByName<AuditActorKind>(kActorKinds, text);
}

std::string_view ToString(AuditOutcome outcome) noexcept {
  return kOutcomes[static_cast<std::size_t>(outcome)];
}

std::optional<AuditOutcome> ParseAuditOutcome(std::string_view text) noexcept {
  return ByName<AuditOutcome>(kOutcomes, text);
}

std::string_view ToString(AuditPart part) noexcept {
  return part == AuditPart::kActor ? "actor" : "target";
}

std::string_view ToString(AuditBreak kind) noexcept {
  switch (kind) {
    case AuditBreak::kEdited: return "edited";
    case AuditBreak::kDeleted: return "deleted";
    case AuditBreak::kInserted: return "inserted";
    case AuditBreak::kReordered: return "reordered";
    case AuditBreak::kTruncated: return "truncated";
    case AuditBreak::kRewritten: return "rewritten";
    case AuditBreak::kPersonal: return "personal";
  }
  return "edited";
}

void AppendCanonicalJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void AppendCanonicalJson(std::string& out, const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kNull: out += "null"; return;
    case JsonValue::Type::kBool: out += value.AsBool() ? "true" : "false"; return;
    case JsonValue::Type::kNumber: {
      if (const auto integer = value.AsInt64()) {
        AppendInteger(out, *integer);
        return;
      }
      char buffer[32];
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value.AsDouble());
      out.append(buffer, end);
      return;
    }
    case JsonValue::Type::kString: AppendCanonicalJsonString(out, value.AsString()); return;
    case JsonValue::Type::kArray: {
      out += '[';
      bool first = true;
      for (const JsonValue& item : value.items()) {
        if (!first) out += ',';
        first = false;
        AppendCanonicalJson(out, item);
      }
      out += ']';
      return;
    }
    case JsonValue::Type::kObject: {
      std::vector<const JsonValue::Member*> members;
      members.reserve(value.members().size());
      for (const auto& member : value.members()) members.push_back(&member);
      std::stable_sort(members.begin(), members.end(),
                       [](const auto* a, const auto* b) { return a->first < b->first; });
      out += '{';
      bool first = true;
      for (const auto* member : members) {
        if (!first) out += ',';
        first = false;
        AppendCanonicalJsonString(out, member->first);
        out += ':';
        AppendCanonicalJson(out, member->second);
      }
      out += '}';
      return;
    }
  }
}

std::string CanonicalAuditEvent(const AuditEvent& event) {
  std::string out;
  out.reserve(320 + event.changes.size() + event.reason.size());
  out += "{\"v\":1,\"lane\":";
  AppendInteger(out, event.lane);
  out += ",\"seq\":";
  AppendInteger(out, event.seq);
  out += ',';
  AppendMember(out, "at", event.at.ToIso8601());
  out += ',';
  AppendMember(out, "org", event.org_id);
  out += ',';
  AppendMember(out, "project", event.project_id);
  out += ",\"actor\":{";
  AppendMember(out, "kind", ToString(event.actor_kind));
  out += ',';
  AppendMember(out, "id", event.actor_id);
  out += "},";
  AppendMember(out, "action", event.action);
  out += ",\"target\":{";
  AppendMember(out, "kind", event.target_kind);
  out += ',';
  AppendMember(out, "collection", event.target_collection);
  out += ',';
  AppendMember(out, "id", event.target_id);
  out += "},";
  AppendMember(out, "outcome", ToString(event.outcome));
  out += ',';
  AppendMember(out, "requestId", event.request_id);
  out += ',';
  AppendMember(out, "reason", event.reason);
  out += ",\"changes\":";
  out += event.changes;
  out += ',';
  AppendMember(out, "actorPersonal", event.actor_personal);
  out += ',';
  AppendMember(out, "targetPersonal", event.target_personal);
  out += ',';
  AppendMember(out, "prev", event.prev_hash);
  out += '}';
  return out;
}

AuditEvent SealAuditEvent(AuditEvent event, const AuditHead& head, const Sha256Hex& sha256) {
  event.lane = head.lane;
  event.seq = head.seq + 1;
  event.prev_hash = head.hash;
  event.hash = sha256(CanonicalAuditEvent(event));
  return event;
}

AuditDiff DiffForAudit(const Collection& collection, const Record* before, const Record* after) {
  AuditDiff diff;
  std::string& out = diff.changes;
  out = "[";
  bool first = true;
  const JsonValue null_value;
  for (std::size_t i = 0; i < collection.fields.size(); ++i) {
    const Field& field = collection.fields[i];
    if (IsAutodate(field)) continue;
    const JsonValue* old_value =
        before != nullptr && i < before->values.size() ? &before->values[i] : nullptr;
    const JsonValue* new_value =
        after != nullptr && i < after->values.size() ? &after->values[i] : nullptr;
    if (old_value != nullptr && new_value != nullptr && *old_value == *new_value) continue;
    // A create or a delete lists the values that are there, not the empty ones.
    if (old_value == nullptr && (new_value == nullptr || IsZeroValue(*new_value))) continue;
    if (new_value == nullptr && IsZeroValue(*old_value)) continue;
    if (!first) out += ',';
    first = false;
    out += '{';
    AppendMember(out, "field", field.name);
    if (IsMasked(field)) {
      out += ",\"hidden\":true}";
      continue;
    }
    if (!field.pii.empty()) {
      out += ",\"personal\":true}";
      diff.personal.emplace_back(
          field.name, JsonValue::Object({{"after", new_value ? *new_value : null_value},
                                         {"before", old_value ? *old_value : null_value}}));
      continue;
    }
    out += ",\"before\":";
    AppendCanonicalJson(out, old_value ? *old_value : null_value);
    out += ",\"after\":";
    AppendCanonicalJson(out, new_value ? *new_value : null_value);
    out += '}';
  }
  out += ']';
  return diff;
}

namespace {

JsonValue RuleValue(const std::optional<std::string>& rule) {
  return rule ? JsonValue::String(*rule) : JsonValue::Null();
}

// What DiffCollectionForAudit compares, in this order.
std::vector<JsonValue::Member> AuditedAspects(const Collection& c) {
  std::vector<JsonValue> fields;
  for (const auto& field : c.fields) {
    fields.push_back(JsonValue::String(field.name + ":" + std::string(ToString(field.type))));
  }
  std::vector<JsonValue> indexes;
  for (const auto& index : c.indexes) indexes.push_back(JsonValue::String(ToIndexSql(index, c.name)));
  const bool auth = c.type == CollectionType::kAuth;
  return {
      {"name", JsonValue::String(c.name)},
      {"type", JsonValue::String(std::string(ToString(c.type)))},
      {"listRule", RuleValue(c.rules.list)},
      {"viewRule", RuleValue(c.rules.view)},
      {"createRule", RuleValue(c.rules.create)},
      {"updateRule", RuleValue(c.rules.update)},
      {"deleteRule", RuleValue(c.rules.del)},
      {"authRule", auth ? RuleValue(c.auth.auth_rule) : JsonValue::Null()},
      {"manageRule", auth ? RuleValue(c.auth.manage_rule) : JsonValue::Null()},
      {"fields", JsonValue::Array(std::move(fields))},
      {"indexes", JsonValue::Array(std::move(indexes))},
      {"viewQuery", JsonValue::String(c.view_query)},
      {"auditReads", JsonValue::Bool(c.audit_reads)},
      {"auditReasonRequired", JsonValue::Bool(c.audit_reason_required)},
  };
}

}  // namespace

AuditDiff DiffAspectsForAudit(const std::vector<JsonValue::Member>* before,
                              const std::vector<JsonValue::Member>* after,
                              const std::vector<std::string_view>& personal,
                              const std::vector<std::string_view>& hidden) {
  auto listed = [](const std::vector<std::string_view>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  const std::size_t count = std::max(before ? before->size() : 0, after ? after->size() : 0);
  const JsonValue null_value;
  AuditDiff diff;
  std::string& out = diff.changes;
  out = "[";
  bool first = true;
  for (std::size_t i = 0; i < count; ++i) {
    const JsonValue* old_value = before && i < before->size() ? &(*before)[i].second : nullptr;
    const JsonValue* new_value = after && i < after->size() ? &(*after)[i].second : nullptr;
    const std::string& name = before && i < before->size() ? (*before)[i].first : (*after)[i].first;
    // A creation or deletion lists every aspect: an empty rule (everyone) and a null one
    // (superusers only) differ in what matters most.
    if (old_value && new_value && *old_value == *new_value) continue;
    if (!first) out += ',';
    first = false;
    out += '{';
    AppendMember(out, "field", name);
    if (listed(hidden, name)) {
      out += ",\"hidden\":true}";
      continue;
    }
    if (listed(personal, name)) {
      out += ",\"personal\":true}";
      diff.personal.emplace_back(
          name, JsonValue::Object({{"after", new_value ? *new_value : null_value},
                                   {"before", old_value ? *old_value : null_value}}));
      continue;
    }
    out += ",\"before\":";
    AppendCanonicalJson(out, old_value ? *old_value : null_value);
    out += ",\"after\":";
    AppendCanonicalJson(out, new_value ? *new_value : null_value);
    out += '}';
  }
  out += ']';
  return diff;
}

std::string DiffCollectionForAudit(const Collection* before, const Collection* after) {
  const auto old_aspects = before ? AuditedAspects(*before) : std::vector<JsonValue::Member>{};
  const auto new_aspects = after ? AuditedAspects(*after) : std::vector<JsonValue::Member>{};
  return DiffAspectsForAudit(before ? &old_aspects : nullptr, after ? &new_aspects : nullptr)
      .changes;
}

std::string CanonicalPersonal(std::string_view salt, std::vector<JsonValue::Member> members) {
  members.emplace_back("salt", JsonValue::String(std::string(salt)));
  std::string out;
  AppendCanonicalJson(out, JsonValue::Object(std::move(members)));
  return out;
}

std::string CanonicalCheckpoint(const AuditCheckpoint& checkpoint) {
  std::vector<const AuditCheckpointHead*> heads;
  heads.reserve(checkpoint.heads.size());
  for (const auto& head : checkpoint.heads) heads.push_back(&head);
  std::sort(heads.begin(), heads.end(), [](const auto* a, const auto* b) {
    return std::tie(a->org_id, a->project_id, a->lane) < std::tie(b->org_id, b->project_id, b->lane);
  });
  std::string out = "{\"v\":1,";
  AppendMember(out, "at", checkpoint.at.ToIso8601());
  out += ',';
  AppendMember(out, "key", checkpoint.key_id);
  out += ",\"heads\":[";
  bool first = true;
  for (const auto* head : heads) {
    if (!first) out += ',';
    first = false;
    out += '{';
    AppendMember(out, "org", head->org_id);
    out += ',';
    AppendMember(out, "project", head->project_id);
    out += ",\"lane\":";
    AppendInteger(out, head->lane);
    out += ",\"seq\":";
    AppendInteger(out, head->seq);
    out += ',';
    AppendMember(out, "hash", head->hash);
    out += '}';
  }
  out += "]}";
  return out;
}

// ---- verification ----------------------------------------------------------------------------

AuditChainVerifier::AuditChainVerifier(std::int64_t lane, Sha256Hex sha256,
                                       std::optional<AuditCheckpointHead> signed_head,
                                       std::optional<AuditHead> start)
    : lane_(lane), sha256_(std::move(sha256)), signed_head_(std::move(signed_head)) {
  if (start) head_ = std::move(*start);
  head_.lane = lane;
  if (signed_head_ && head_.seq > 0 && signed_head_->seq <= head_.seq) {
    signed_head_seen_ = true;
    if (signed_head_->seq == head_.seq && signed_head_->hash != head_.hash) {
      Break(AuditBreak::kRewritten, head_.seq,
            "the archived event " + std::to_string(head_.seq) +
                " is not the one the checkpoint signed");
    }
  }
}

void AuditChainVerifier::Break(AuditBreak kind, std::int64_t seq, std::string detail) {
  if (broken_) return;
  broken_ = kind;
  broken_at_ = seq;
  detail_ = std::move(detail);
}

std::optional<std::int64_t> AuditChainVerifier::OriginalSeq(const AuditEvent& event) const {
  AuditEvent probe = event;
  for (std::int64_t delta = 1; delta <= kMoveWindow; ++delta) {
    for (const std::int64_t seq : {event.seq + delta, event.seq - delta}) {
      if (seq < 1) continue;
      probe.seq = seq;
      if (sha256_(CanonicalAuditEvent(probe)) == event.hash) return seq;
    }
  }
  return std::nullopt;
}

bool AuditChainVerifier::Next(const AuditEvent& event) {
  if (broken_) return false;
  const std::int64_t expected = head_.seq + 1;
  if (moved_back_at_) {
    // The previous event came from further on. If this one came from just before it, the two
    // were swapped; otherwise what was between went missing.
    const auto original = event.lane == lane_ && event.seq == expected && event.hash.size() == 64
                              ? OriginalSeq(event)
                              : std::nullopt;
    if (original && *original == *moved_back_at_) {
      Break(AuditBreak::kReordered, *moved_back_at_,
            "events " + std::to_string(*moved_back_at_) + " and " + std::to_string(expected) +
                " changed places");
    } else {
      Break(AuditBreak::kDeleted, *moved_back_at_,
            "events from " + std::to_string(*moved_back_at_) + " are missing (the chain was"
            " renumbered)");
    }
    return false;
  }
  if (event.lane != lane_) {
    Break(AuditBreak::kInserted, event.seq, "an event of another chain is in this one");
    return false;
  }
  if (event.seq > expected) {
    Break(AuditBreak::kDeleted, expected,
          event.seq == expected + 1
              ? "event " + std::to_string(expected) + " is missing"
              : "events " + std::to_string(expected) + " to " + std::to_string(event.seq - 1) +
                    " are missing");
    return false;
  }
  if (event.seq < expected) {
    Break(AuditBreak::kInserted, event.seq,
          "event " + std::to_string(event.seq) + " appears twice");
    return false;
  }
  const bool intact = sha256_(CanonicalAuditEvent(event)) == event.hash;
  if (!intact) {
    const auto original = OriginalSeq(event);
    if (!original) {
      Break(AuditBreak::kEdited, event.seq,
            "event " + std::to_string(event.seq) + " does not match its hash");
      return false;
    }
    if (*original < event.seq) {
      Break(AuditBreak::kInserted, event.seq,
            "events were inserted before event " + std::to_string(*original) +
                ", now numbered " + std::to_string(event.seq));
      return false;
    }
    moved_back_at_ = event.seq;
    head_.seq = event.seq;
    ++events_;
    return true;  // decided by the next event, or by Finish
  }
  if (event.prev_hash != head_.hash) {
    Break(AuditBreak::kInserted, event.seq,
          "event " + std::to_string(event.seq) + " does not link to event " +
              std::to_string(head_.seq));
    return false;
  }
  if (signed_head_ && signed_head_->seq == event.seq) {
    signed_head_seen_ = true;
    if (signed_head_->hash != event.hash) {
      Break(AuditBreak::kRewritten, event.seq,
            "event " + std::to_string(event.seq) + " is not the one the checkpoint signed");
      return false;
    }
  }
  head_.seq = event.seq;
  head_.hash = event.hash;
  ++events_;
  return true;
}

bool AuditChainVerifier::Personal(const AuditEvent& event, const AuditPersonal& part) {
  const std::string& expected =
      part.part == AuditPart::kActor ? event.actor_personal : event.target_personal;
  if (sha256_(part.data) == expected) return true;
  Break(AuditBreak::kPersonal, event.seq,
        "the " + std::string(ToString(part.part)) + " personal data of event " +
            std::to_string(event.seq) + " does not match its hash");
  return false;
}

std::optional<AuditBreak> AuditChainVerifier::Finish() {
  if (moved_back_at_ && !broken_) {
    Break(AuditBreak::kDeleted, *moved_back_at_,
          "events from " + std::to_string(*moved_back_at_) + " are missing (the chain was"
          " renumbered)");
  }
  if (!broken_ && signed_head_ && !signed_head_seen_ && signed_head_->seq > 0) {
    Break(AuditBreak::kTruncated, head_.seq + 1,
          "the chain ends at event " + std::to_string(head_.seq) +
              " but a checkpoint signed event " + std::to_string(signed_head_->seq));
  }
  return broken_;
}

}  // namespace socle::domain
