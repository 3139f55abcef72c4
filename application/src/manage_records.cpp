#include "socle/application/manage_records.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>

#include "socle/application/audit_reason.hpp"
#include "socle/application/new_id.hpp"
#include "socle/domain/pii_mask.hpp"

namespace socle::application {

using domain::Collection;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Field;
using domain::FieldType;
using domain::JsonValue;
using domain::Record;
using domain::Result;
using domain::SchemaPtr;
namespace filter = domain::filter;

struct ManageRecords::Target {
  ProjectDirectory::Entry entry;
  SchemaPtr schema;
  const Collection* collection = nullptr;
};

struct ManageRecords::PasswordPlan {
  bool auth = false;          ///< the target is an auth collection
  bool manager = false;       ///< update: the caller manages the stored record
  std::string new_hash;       ///< the new password's hash; "" when none was given
  std::string verified_hash;  ///< the stored hash oldPassword was checked against
};

bool Caller::Permits(const Collection& collection, std::string_view action) const {
  if (!scopes) return true;
  auto same_name = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
      if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
  };
  return std::any_of(scopes->begin(), scopes->end(), [&](const ApiKeyScope& scope) {
    return (scope.collection == "*" || scope.collection == collection.id ||
            same_name(scope.collection, collection.name)) &&
           scope.action == action;
  });
}

AuditActor Caller::Actor() const {
  using domain::AuditActorKind;
  if (acting_as) return *acting_as;
  if (!api_key_id.empty()) return {AuditActorKind::kApiKey, api_key_id};
  std::string id;
  if (request.auth && request.auth->collection != nullptr) {
    if (auto index = request.auth->collection->FieldIndex("id");
        index && *index < request.auth->record.values.size() &&
        request.auth->record.values[*index].type() == JsonValue::Type::kString) {
      id = request.auth->record.values[*index].AsString();
    }
  }
  if (permissions) return {AuditActorKind::kMember, std::move(id)};
  if (superuser) return {AuditActorKind::kSuperuser, std::move(id)};
  if (!id.empty()) return {AuditActorKind::kAppUser, std::move(id)};
  return {AuditActorKind::kGuest, {}};
}

bool Caller::Holds(std::string_view permission) const {
  return permissions && std::binary_search(permissions->begin(), permissions->end(), permission,
                                           std::less<>());
}

const std::vector<std::string>* Caller::Roles() const {
  return request.auth && request.auth->roles ? &*request.auth->roles : nullptr;
}

namespace {

bool AnyRole(const std::vector<std::string>* held, const std::vector<std::string>& allowed) {
  if (held == nullptr) return false;
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& role) {
    return std::find(held->begin(), held->end(), role) != held->end();
  });
}

}  // namespace

bool Caller::CanReadField(const Field& field) const {
  return field.read_roles.empty() || superuser || AnyRole(Roles(), field.read_roles);
}

bool Caller::CanWriteField(const Field& field) const {
  return field.write_roles.empty() || superuser || AnyRole(Roles(), field.write_roles);
}

bool Caller::SeesClear(const Collection& collection, const Field& field) const {
  if (field.pii.empty()) return true;
  // Acting as a superuser through records permissions is not leave to read personal data.
  if (permissions) return Holds("records.read_pii");
  if (scopes) return Permits(collection, "pii");
  return superuser;
}

namespace {

constexpr std::string_view kSuperusersOnly = "Only superusers can perform this action.";
constexpr std::string_view kOutOfScope = "The API key does not allow this action on this collection.";
constexpr std::string_view kReasonRequired =
    "Changing the records of this collection requires a reason (the X-Audit-Reason header).";
// The reason the caller gave, when it is acceptable.
Result<void> CheckReason(const Caller& caller) { return CheckAuditReason(caller.origin.reason); }

// One requested expansion and the ones nested under it ("author.team" → author{team}).
struct ExpandNode {
  std::string name;
  std::vector<ExpandNode> children;
};

bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Parses PocketBase's expand parameter: comma-separated dot paths.
Result<std::vector<ExpandNode>> ParseExpand(std::string_view text, const RecordLimits& limits) {
  std::vector<ExpandNode> roots;
  std::size_t paths = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view path = text.substr(start, comma - start);
    while (!path.empty() && path.front() == ' ') path.remove_prefix(1);
    while (!path.empty() && path.back() == ' ') path.remove_suffix(1);
    start = comma + 1;
    if (path.empty()) {
      if (comma == text.size()) break;
      continue;
    }
    if (++paths > limits.max_expand_paths) {
      return Fail(ErrorCode::kInvalidArgument,
                  "Invalid expand: more than " + std::to_string(limits.max_expand_paths) +
                      " paths.");
    }
    std::vector<ExpandNode>* level = &roots;
    std::size_t depth = 0;
    std::size_t part_start = 0;
    while (part_start <= path.size()) {
      std::size_t dot = path.find('.', part_start);
      if (dot == std::string_view::npos) dot = path.size();
      std::string_view name = path.substr(part_start, dot - part_start);
      part_start = dot + 1;
      if (!IsIdentifier(name)) {
        return Fail(ErrorCode::kInvalidArgument,
                    "Invalid expand: \"" + std::string(path) + "\" is not a relation path.");
      }
      if (++depth > limits.max_expand_depth) {
        return Fail(ErrorCode::kInvalidArgument,
                    "Invalid expand: \"" + std::string(path) + "\" is nested deeper than " +
                        std::to_string(limits.max_expand_depth) + " levels.");
      }
      auto it = std::find_if(level->begin(), level->end(),
                             [&](const ExpandNode& node) { return node.name == name; });
      if (it == level->end()) {
        level->push_back(ExpandNode{std::string(name), {}});
        it = level->end() - 1;
      }
      level = &it->children;
      if (dot == path.size()) break;
    }
    if (comma == text.size()) break;
  }
  return roots;
}

// A field operand of `collection`'s own field.
filter::ResolvedOperand FieldOperand(const Collection& collection, const Field& field) {
  filter::ResolvedOperand operand;
  operand.kind = filter::ResolvedOperand::Kind::kField;
  operand.collection = &collection;
  operand.field = &field;
  operand.multiple = field.IsMultiple();
  switch (field.type) {
    case FieldType::kNumber: operand.value_kind = filter::ValueKind::kNumber; break;
    case FieldType::kBool: operand.value_kind = filter::ValueKind::kBool; break;
    case FieldType::kJson: operand.value_kind = filter::ValueKind::kJson; break;
    default: operand.value_kind = filter::ValueKind::kString; break;
  }
  return operand;
}

// `field ?= [values...]`: records whose field (or one of its items) is one of `values`.
filter::ResolvedFilter AnyOf(const SchemaPtr& schema, const Collection& collection,
                             const Field& field, const std::vector<std::string>& values) {
  filter::ResolvedFilter out;
  out.schema = schema;
  out.collection = &collection;
  out.condition.kind = filter::Condition::Kind::kCompare;
  out.condition.compare.left = FieldOperand(collection, field);
  std::vector<JsonValue> items;
  items.reserve(values.size());
  for (const auto& value : values) items.push_back(JsonValue::String(value));
  out.condition.compare.right.kind = filter::ResolvedOperand::Kind::kLiteral;
  out.condition.compare.right.literal = JsonValue::Array(std::move(items));
  out.condition.compare.right.value_kind = filter::ValueKind::kString;
  out.condition.compare.right.multiple = true;
  out.condition.compare.op = filter::CompareOp::kEq;
  out.condition.compare.any = true;
  return out;
}

// The string values of a relation field's value ("" and [] give none).
std::vector<std::string> Ids(const JsonValue& value) {
  std::vector<std::string> ids;
  if (value.type() == JsonValue::Type::kString) {
    if (!value.AsString().empty()) ids.push_back(value.AsString());
  } else if (value.type() == JsonValue::Type::kArray) {
    for (const auto& item : value.items()) {
      if (item.type() == JsonValue::Type::kString && !item.AsString().empty()) {
        ids.push_back(item.AsString());
      }
    }
  }
  return ids;
}

// A rule resolved for `caller`; nullopt when the caller bypasses it (superuser, or "").
// permission_denied when the rule is null (superusers only); invalid_argument (an internal
// inconsistency: rules are validated when saved) when it does not resolve.
Result<std::optional<filter::ResolvedFilter>> RuleFor(const std::optional<std::string>& rule,
                                                      const SchemaPtr& schema,
                                                      const Collection& collection,
                                                      const Caller& caller,
                                                      const Record* current = nullptr) {
  if (caller.superuser) return std::optional<filter::ResolvedFilter>();
  if (!rule) return Fail(ErrorCode::kPermissionDenied, std::string(kSuperusersOnly));
  if (rule->empty()) return std::optional<filter::ResolvedFilter>();
  filter::ResolveOptions options;
  options.allow_hidden = true;
  options.current = current;
  auto compiled = filter::Compile(*rule, schema, collection, caller.request, options);
  if (!compiled) {
    Error error = Error::Internal("the stored rule of " + collection.name +
                                  " does not compile: " + compiled.error().message);
    return std::unexpected(std::move(error));
  }
  return std::optional<filter::ResolvedFilter>(std::move(*compiled));
}

// Whether the caller may see records of `collection` at all (view rule not null), and the
// filter they must satisfy.
Result<std::optional<filter::ResolvedFilter>> ViewFilter(const SchemaPtr& schema,
                                                         const Collection& collection,
                                                         const Caller& caller) {
  return RuleFor(collection.rules.view, schema, collection, caller);
}

// Checks that every id a relation field names exists (PocketBase's
// validation_missing_rel_records).
Result<void> CheckRelations(RecordTransaction& tx, const SchemaPtr& schema,
                            const Collection& collection, const Record& record) {
  std::vector<domain::FieldError> errors;
  for (std::size_t i = 0; i < collection.fields.size(); ++i) {
    const Field& field = collection.fields[i];
    if (field.type != FieldType::kRelation) continue;
    std::vector<std::string> ids = Ids(record.values[i]);
    if (ids.empty()) continue;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    const Collection* target = schema->FindById(field.collection_id);
    bool found_all = false;
    if (target != nullptr) {
      auto found = tx.CountExisting(*target, ids);
      if (!found) return std::unexpected(std::move(found.error()));
      found_all = *found == ids.size();
    }
    if (!found_all) {
      errors.push_back({field.name, "validation_missing_rel_records",
                        "Failed to find all relation records with the provided ids."});
    }
  }
  if (errors.empty()) return {};
  Error error = Error::Make(ErrorCode::kInvalidArgument, "Failed to save the record.");
  error.fields = std::move(errors);
  return std::unexpected(std::move(error));
}

// Sets the autodate fields that change on update.
void TouchUpdated(const Collection& collection, Record& record, domain::Timestamp now) {
  for (std::size_t i = 0; i < collection.fields.size(); ++i) {
    const Field& field = collection.fields[i];
    if (field.type == FieldType::kAutodate && field.on_update) {
      record.values[i] = JsonValue::String(now.ToApiString());
    }
  }
}

// Deletes a record after dealing with the records that refer to it: cascading where the
// relation says so, removing the reference where it is optional, refusing where a required
// reference would be left empty.
Result<void> DeleteWithReferences(RecordTransaction& tx, const SchemaPtr& schema,
                                  const Collection& collection, const std::string& id,
                                  domain::Timestamp now,
                                  std::set<std::pair<std::string, std::string>>& visited) {
  if (!visited.emplace(collection.id, id).second) return {};
  for (const auto& other : schema->collections) {
    if (other.type == domain::CollectionType::kView) continue;
    for (std::size_t f = 0; f < other.fields.size(); ++f) {
      const Field& field = other.fields[f];
      if (field.type != FieldType::kRelation || field.collection_id != collection.id) continue;
      const filter::ResolvedFilter where = AnyOf(schema, other, field, {id});
      RecordQuery query;
      query.where = &where;
      query.limit = std::numeric_limits<std::int64_t>::max();
      query.count_total = false;
      auto page = tx.Query(other, query);
      if (!page) return std::unexpected(std::move(page.error()));
      for (auto& referrer : page->items) {
        const std::string& referrer_id = referrer.Id(other);
        if (visited.contains({other.id, referrer_id})) continue;
        if (field.cascade_delete) {
          if (auto done = DeleteWithReferences(tx, schema, other, referrer_id, now, visited); !done) {
            return done;
          }
          continue;
        }
        JsonValue& value = referrer.values[f];
        if (value.type() == JsonValue::Type::kArray) {
          std::vector<JsonValue> kept;
          for (const auto& item : value.items()) {
            if (!(item.type() == JsonValue::Type::kString && item.AsString() == id)) {
              kept.push_back(item);
            }
          }
          value = JsonValue::Array(std::move(kept));
        } else {
          value = JsonValue::String("");
        }
        if (field.required && domain::IsZeroValue(value)) {
          return Fail(ErrorCode::kInvalidArgument,
                      "The record cannot be deleted because it is part of a required reference "
                      "in another record (" + other.name + "." + field.name + ").");
        }
        TouchUpdated(other, referrer, now);
        if (auto done = tx.Update(other, referrer); !done) return done;
      }
    }
  }
  return tx.Delete(collection, id);
}

// The collection a requested expansion leads to from `collection`: a relation field's target,
// or, for a back-relation "comments_via_post", the referring collection (with that field
// through *back_field). invalid_argument naming it otherwise.
Result<const Collection*> ExpansionTarget(const SchemaPtr& schema, const Collection& collection,
                                          const std::string& name, const Caller& caller,
                                          const Field** back_field) {
  *back_field = nullptr;
  const Field* field = collection.FindField(name);
  const Collection* target = nullptr;
  if (field != nullptr && field->type == FieldType::kRelation &&
      (!field->hidden || caller.superuser)) {
    target = schema->FindById(field->collection_id);
  } else if (auto via = name.find("_via_"); field == nullptr && via != std::string::npos) {
    target = schema->Find(name.substr(0, via));
    if (target != nullptr) {
      const Field* back = target->FindField(name.substr(via + 5));
      if (back != nullptr && back->type == FieldType::kRelation &&
          back->collection_id == collection.id && (!back->hidden || caller.superuser)) {
        *back_field = back;
      } else {
        target = nullptr;
      }
    }
  }
  if (target == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "Invalid expand: \"" + name + "\" is not a relation of " + collection.name + ".");
  }
  return target;
}

// Checks every requested expansion against the schema, whether or not there are records to
// expand, so that a bad expand is refused the same way on an empty page.
Result<void> ValidateExpand(const SchemaPtr& schema, const Collection& collection,
                            const std::vector<ExpandNode>& nodes, const Caller& caller) {
  for (const auto& node : nodes) {
    const Field* back_field = nullptr;
    auto target = ExpansionTarget(schema, collection, node.name, caller, &back_field);
    if (!target) return std::unexpected(std::move(target.error()));
    if (auto valid = ValidateExpand(schema, **target, node.children, caller); !valid) return valid;
  }
  return {};
}

// Expands `nodes` on `records` of `collection`, level by level: one query per relation and
// level, whatever the number of records.
Result<void> ExpandLevel(ProjectStore& store, const SchemaPtr& schema,
                         const Collection& collection, const std::vector<ExpandedRecord*>& records,
                         const std::vector<ExpandNode>& nodes, const Caller& caller) {
  if (records.empty()) return {};
  for (const auto& node : nodes) {
    const Field* back_field = nullptr;
    auto resolved = ExpansionTarget(schema, collection, node.name, caller, &back_field);
    if (!resolved) return std::unexpected(std::move(resolved.error()));
    const Collection* target = *resolved;
    const Field* field = back_field == nullptr ? collection.FindField(node.name) : nullptr;
    if (!caller.Permits(*target, "view")) continue;  // not expandable with this API key
    auto view = ViewFilter(schema, *target, caller);
    if (!view) {
      if (view.error().code == ErrorCode::kPermissionDenied) continue;  // not expandable for them
      return std::unexpected(std::move(view.error()));
    }
    std::vector<std::string> wanted;
    if (back_field == nullptr) {
      const auto index = static_cast<std::size_t>(field - collection.fields.data());
      for (const ExpandedRecord* record : records) {
        for (auto& id : Ids(record->record.values[index])) wanted.push_back(std::move(id));
      }
    } else {
      for (const ExpandedRecord* record : records) wanted.push_back(record->record.Id(collection));
    }
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    if (wanted.empty()) continue;

    const Field* match_field = back_field != nullptr ? back_field : target->FindField("id");
    filter::ResolvedFilter where = AnyOf(schema, *target, *match_field, wanted);
    if (*view) where = filter::And(std::move(where), std::move(**view));
    RecordQuery query;
    query.where = &where;
    query.limit = back_field != nullptr ? 1000 : static_cast<std::int64_t>(wanted.size());
    query.count_total = false;
    if (back_field != nullptr) {
      auto sort = filter::ResolveSort("created", schema, *target);
      if (sort) query.sort = std::move(*sort);
    }
    auto page = store.Query(*target, query);
    if (!page) return std::unexpected(std::move(page.error()));

    std::vector<ExpandedRecord*> next;
    if (back_field == nullptr) {
      std::unordered_map<std::string, const Record*> by_id;
      for (const auto& found : page->items) by_id.emplace(found.Id(*target), &found);
      const auto index = static_cast<std::size_t>(field - collection.fields.data());
      for (ExpandedRecord* record : records) {
        ExpandedRecord::Expansion expansion{node.name, field->IsMultiple(), {}};
        for (const auto& id : Ids(record->record.values[index])) {
          auto it = by_id.find(id);
          if (it != by_id.end()) expansion.records.push_back(ExpandedRecord{target, *it->second, {}});
        }
        if (!expansion.records.empty()) record->expand.push_back(std::move(expansion));
      }
    } else {
      const auto index = static_cast<std::size_t>(back_field - target->fields.data());
      for (ExpandedRecord* record : records) {
        const std::string& id = record->record.Id(collection);
        ExpandedRecord::Expansion expansion{node.name, true, {}};
        for (const auto& found : page->items) {
          const auto ids = Ids(found.values[index]);
          if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
            expansion.records.push_back(ExpandedRecord{target, found, {}});
          }
        }
        if (!expansion.records.empty()) record->expand.push_back(std::move(expansion));
      }
    }
    if (node.children.empty()) continue;
    for (ExpandedRecord* record : records) {
      for (auto& expansion : record->expand) {
        if (expansion.name != node.name) continue;
        for (auto& child : expansion.records) next.push_back(&child);
      }
    }
    if (auto done = ExpandLevel(store, schema, *target, next, node.children, caller); !done) {
      return done;
    }
  }
  return {};
}

// A value for a text field's autogeneratePattern. Patterns of the shape PocketBase uses,
// "[<class>]{n}" (e.g. the id field's "[a-z0-9]{15}"), are generated uniformly from the class;
// any other pattern gets a fresh 15-character id, which the field's validation then checks.
std::string Autogenerate(const Field& field, RandomSource& random) {
  const std::string& pattern = field.autogenerate_pattern;
  std::string alphabet;
  std::size_t length = 0;
  if (pattern.size() > 4 && pattern.front() == '[') {
    const std::size_t close = pattern.find(']');
    const std::size_t brace = close == std::string::npos ? close : close + 1;
    if (brace != std::string::npos && brace < pattern.size() && pattern[brace] == '{' &&
        pattern.back() == '}') {
      for (std::size_t i = 1; i < close; ++i) {
        if (i + 2 < close && pattern[i + 1] == '-') {
          for (char c = pattern[i]; c <= pattern[i + 2]; ++c) alphabet.push_back(c);
          i += 2;
        } else {
          alphabet.push_back(pattern[i]);
        }
      }
      for (std::size_t i = brace + 1; i + 1 < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c < '0' || c > '9' || length > 1000) {
          length = 0;
          break;
        }
        length = length * 10 + static_cast<std::size_t>(c - '0');
      }
    }
  }
  if (alphabet.empty() || length == 0) return NewId(random).str();
  std::string out;
  out.reserve(length);
  const std::size_t limit = 256 - 256 % alphabet.size();  // rejection keeps it uniform
  // Random bytes fetched a batch at a time (one call to the source costs far more than a
  // byte); rejection rarely needs more than the first batch.
  std::array<std::uint8_t, 64> bytes{};
  const std::size_t batch = std::min(bytes.size(), 2 * length);
  std::size_t used = batch;
  while (out.size() < length) {
    if (used == batch) {
      random.Fill(std::span<std::uint8_t>(bytes.data(), batch));
      used = 0;
    }
    const std::uint8_t byte = bytes[used++];
    if (byte < limit) out.push_back(alphabet[byte % alphabet.size()]);
  }
  return out;
}

domain::RecordInputOptions InputOptions(const RecordWriteInput& input, const Caller& caller,
                                        RandomSource& random) {
  domain::RecordInputOptions options;
  options.format = input.format;
  options.now = caller.request.now;
  options.parse_json = input.parse_json;
  options.autogenerate = [&random](const Field& field) { return Autogenerate(field, random); };
  return options;
}

// A body member read as PocketBase's cast.ToString reads it: strings as they are, numbers and
// booleans spelled out, a form's repeated key by its last value, anything else "".
std::string BodyString(const JsonValue& body, std::string_view key) {
  const JsonValue* value = body.Find(key);
  if (value == nullptr) return {};
  if (value->type() == JsonValue::Type::kArray && !value->items().empty()) {
    value = &value->items().back();
  }
  switch (value->type()) {
    case JsonValue::Type::kString: return value->AsString();
    case JsonValue::Type::kBool: return value->AsBool() ? "true" : "false";
    case JsonValue::Type::kNumber:
      if (auto integer = value->AsInt64()) return std::to_string(*integer);
      return {};
    default: return {};
  }
}

// The field a body key names, modifiers ("+tags", "tags+", "tags-") removed.
std::string_view KeyField(std::string_view key) {
  if (!key.empty() && key.front() == '+') key.remove_prefix(1);
  if (!key.empty() && (key.back() == '+' || key.back() == '-')) key.remove_suffix(1);
  return key;
}

// The body without the keys of hidden fields, unless the caller is a superuser: hidden fields
// (an auth record's tokenKey among them) are written by superusers only. The auth password is
// hidden too but is how a password is set, so it stays.
JsonValue WritableBody(const Collection& coll, const JsonValue& body, const Caller& caller) {
  if (caller.superuser || !body.IsObject()) return body;
  const bool any_hidden = std::any_of(coll.fields.begin(), coll.fields.end(),
                                      [](const Field& f) { return f.hidden; });
  if (!any_hidden) return body;
  std::vector<std::pair<std::string, JsonValue>> members;
  for (const auto& [key, value] : body.members()) {
    const Field* field = coll.FindField(KeyField(key));
    const bool password = coll.type == domain::CollectionType::kAuth && field != nullptr &&
                          field->type == FieldType::kPassword;
    if (field != nullptr && field->hidden && !password) continue;
    members.emplace_back(key, value);
  }
  return JsonValue::Object(std::move(members));
}

const JsonValue* ValueOf(const Collection& coll, const Record& record, std::string_view name);

// Field-level permissions on input: a key naming a field the caller may not write (writeRoles)
// refuses the whole write, naming the field.
Result<void> CheckWritableFields(const Collection& coll, const JsonValue& body,
                                 const Caller& caller) {
  if (!body.IsObject()) return {};
  for (const auto& [key, value] : body.members()) {
    const Field* field = coll.FindField(KeyField(key));
    if (field != nullptr && !caller.CanWriteField(*field)) {
      return Fail(ErrorCode::kPermissionDenied,
                  "You are not allowed to set the field " + field->name + ".");
    }
  }
  return {};
}

constexpr std::string_view kCreateRefused = "The create rule does not allow this record.";

// Whether an insert was refused because a unique index already holds one of its values.
bool IsUniquenessConflict(const Error& error) {
  return error.code == ErrorCode::kInvalidArgument && !error.fields.empty() &&
         std::all_of(error.fields.begin(), error.fields.end(), [](const domain::FieldError& f) {
           return f.code == "validation_not_unique";
         });
}

// Whether the create rule would admit `record`, refused by `conflict` (its id or a unique value
// is taken), had those values been free: a copy with a fresh id, and its conflicting unique
// fields at their empty value, is inserted in the transaction (which the caller rolls back) and
// the rule evaluated on it. When even the copy cannot be inserted, the answer is no: a refusal
// that reveals nothing.
Result<bool> RuleAdmitsDespiteConflict(RecordTransaction& tx, const Collection& coll,
                                       const Record& record, const Error& conflict,
                                       const filter::ResolvedFilter& rule,
                                       RandomSource& random) {
  Record probe = record;
  const Record empty = domain::EmptyRecord(coll);
  for (const domain::FieldError& field : conflict.fields) {
    if (field.code != "validation_not_unique") continue;
    if (auto index = coll.FieldIndex(field.field)) probe.values[*index] = empty.values[*index];
  }
  auto id_index = coll.FieldIndex("id");
  if (!id_index) return false;
  probe.values[*id_index] = JsonValue::String(NewId(random).str());
  auto inserted = tx.Insert(coll, probe);
  if (!inserted) {
    if (inserted.error().code == ErrorCode::kAlreadyExists ||
        IsUniquenessConflict(inserted.error())) {
      return false;
    }
    return std::unexpected(std::move(inserted.error()));
  }
  return tx.Matches(coll, probe.Id(coll), rule);
}

// Platform RBAC: holding the records permission of an action lets a platform caller act as a
// superuser for it. Returns the caller to act as (`elevated` holds the copy when one is made).
const Caller& ActingFor(const Caller& caller, std::string_view permission,
                        std::optional<Caller>& elevated) {
  if (caller.superuser || !caller.Holds(permission)) return caller;
  elevated = caller;
  elevated->superuser = true;
  return *elevated;
}

// Whether a client filter or sort may name `field`: fields the caller cannot read, or reads
// only masked, would leak through comparisons. API keys need "*:pii" here, the scope that opens
// personal data in every collection a relation path may reach.
std::function<bool(const Field&)> ClientFieldRule(const Caller& caller) {
  return [&caller](const Field& field) {
    if (!caller.CanReadField(field)) return false;
    if (field.pii.empty()) return true;
    if (caller.permissions) return caller.Holds("records.read_pii");
    if (caller.scopes) {
      return std::any_of(caller.scopes->begin(), caller.scopes->end(), [](const ApiKeyScope& s) {
        return s.collection == "*" && s.action == "pii";
      });
    }
    return caller.superuser;
  };
}

std::string MaskValue(std::string_view kind, std::string_view value) {
  if (kind == "email") return domain::MaskEmail(value);
  if (kind == "digits") return domain::MaskTrailing(value);
  return domain::MaskText(value);
}

// Field-level permissions on output, applied to a record and everything expanded from it: a
// field the caller may not read is emptied (and left out by the adapters, see
// RecordViewer::readable), personal data masked unless the caller reads it in clear or the
// record is the caller's own auth record.
void ApplyFieldAccess(const Caller& caller, ExpandedRecord& item) {
  const Collection& coll = *item.collection;
  bool own = false;
  if (caller.request.auth && caller.request.auth->collection != nullptr &&
      caller.request.auth->collection->id == coll.id) {
    const JsonValue* mine = ValueOf(coll, caller.request.auth->record, "id");
    const JsonValue* theirs = ValueOf(coll, item.record, "id");
    own = mine != nullptr && theirs != nullptr && *mine == *theirs;
  }
  for (std::size_t i = 0; i < coll.fields.size() && i < item.record.values.size(); ++i) {
    const Field& field = coll.fields[i];
    JsonValue& value = item.record.values[i];
    if (!caller.CanReadField(field)) {
      value = JsonValue();
      continue;
    }
    if (!field.pii.empty() && !own && !caller.SeesClear(coll, field) &&
        value.type() == JsonValue::Type::kString && !value.AsString().empty()) {
      value = JsonValue::String(MaskValue(field.pii, value.AsString()));
    }
  }
  for (auto& expansion : item.expand) {
    for (auto& child : expansion.records) ApplyFieldAccess(caller, child);
  }
}

const JsonValue* ValueOf(const Collection& coll, const Record& record, std::string_view name) {
  auto index = coll.FieldIndex(name);
  return index && *index < record.values.size() ? &record.values[*index] : nullptr;
}

bool SameValue(const Collection& coll, const Record& a, const Record& b, std::string_view name) {
  const JsonValue* x = ValueOf(coll, a, name);
  const JsonValue* y = ValueOf(coll, b, name);
  return x == nullptr || y == nullptr || *x == *y;
}

// For an API key: whether every collection an operand reaches (relation hops, back-relations,
// the collection holding the field) is one the key may view. permission_denied otherwise.
Result<void> ScopesReachOperand(const Caller& caller, const filter::ResolvedOperand& operand) {
  if (!caller.scopes) return {};
  auto refuse = [](const Collection& c) {
    return Fail(ErrorCode::kPermissionDenied,
                "The API key does not allow reading " + c.name + " (reached by the filter or sort).");
  };
  for (const auto& hop : operand.hops) {
    if (hop.to != nullptr && !caller.Permits(*hop.to, "view")) return refuse(*hop.to);
  }
  if (operand.collection != nullptr && !caller.Permits(*operand.collection, "view") &&
      !caller.Permits(*operand.collection, "list")) {
    return refuse(*operand.collection);
  }
  for (const auto& arg : operand.args) {
    if (auto reach = ScopesReachOperand(caller, arg); !reach) return reach;
  }
  return {};
}

Result<void> ScopesReachCondition(const Caller& caller, const filter::Condition& condition) {
  if (condition.kind == filter::Condition::Kind::kCompare) {
    if (auto reach = ScopesReachOperand(caller, condition.compare.left); !reach) return reach;
    return ScopesReachOperand(caller, condition.compare.right);
  }
  for (const auto& child : condition.children) {
    if (auto reach = ScopesReachCondition(caller, child); !reach) return reach;
  }
  return {};
}

Result<void> ScopesReach(const Caller& caller, const filter::ResolvedFilter& filter) {
  if (!caller.scopes) return {};
  for (const auto& join : filter.joins) {
    if (join.collection != nullptr && !caller.Permits(*join.collection, "view") &&
        !caller.Permits(*join.collection, "list")) {
      return Fail(ErrorCode::kPermissionDenied, "The API key does not allow reading " +
                                                    join.collection->name +
                                                    " (reached by the filter).");
    }
  }
  return ScopesReachCondition(caller, filter.condition);
}

// A write that failed with aborted met a concurrent change (of the schema, made by another
// process, or a serialisation conflict): it is replanned against the current schema a few times.
constexpr int kWriteAttempts = 3;
bool Retryable(const Error& error, int attempt) {
  return error.code == ErrorCode::kAborted && attempt < kWriteAttempts;
}

Error ReadOnly(const Collection& collection) {
  return Error::Make(ErrorCode::kInvalidArgument,
                     "The collection " + collection.name + " is a view: its records are read-only.");
}

}  // namespace

Result<ManageRecords::Target> ManageRecords::Open(std::string_view project,
                                                  std::string_view collection) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  auto schema = entry->store->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  const Collection* found = (*schema)->Find(collection);
  if (found == nullptr) return Fail(ErrorCode::kNotFound, "Missing collection context.");
  return Target{std::move(*entry), std::move(*schema), found};
}

Result<RecordList> ManageRecords::List(std::string_view project, std::string_view collection,
                                       const ListRecordsInput& input, Caller caller) {
  bool audited = false;
  auto list = ListUnaudited(project, collection, input, caller, audited);
  if (!audited) return list;
  if (auto recorded = AuditRead(project, collection, "", caller,
                                list ? nullptr : &list.error(), "record.list");
      !recorded) {
    return std::unexpected(std::move(recorded.error()));
  }
  return list;
}

Result<RecordList> ManageRecords::ListUnaudited(std::string_view project,
                                                std::string_view collection,
                                                const ListRecordsInput& input, Caller caller,
                                                bool& audited) {
  caller.request.now = clock_.Now();
  if (caller.Holds("records.read")) caller.superuser = true;
  auto target = Open(project, collection);
  if (!target) return std::unexpected(std::move(target.error()));
  audited = audit_ != nullptr && target->collection->audit_reads;
  const Collection& coll = *target->collection;
  if (!caller.Permits(coll, "list")) return Fail(ErrorCode::kPermissionDenied, std::string(kOutOfScope));

  auto rule = RuleFor(coll.rules.list, target->schema, coll, caller);
  if (!rule) return std::unexpected(std::move(rule.error()));

  std::optional<filter::ResolvedFilter> where = std::move(*rule);
  if (!input.filter.empty()) {
    filter::ResolveOptions options;
    options.allow_hidden = caller.superuser;
    options.field_readable = ClientFieldRule(caller);
    auto user = filter::Compile(input.filter, target->schema, coll, caller.request, options);
    if (!user) return std::unexpected(std::move(user.error()));
    // An API key reads only what its scopes open, through relation paths as well.
    if (auto reach = ScopesReach(caller, *user); !reach) return std::unexpected(std::move(reach.error()));
    where = where ? filter::And(std::move(*where), std::move(*user)) : std::move(*user);
  }
  filter::ResolveOptions sort_options;
  sort_options.allow_hidden = caller.superuser;
  sort_options.field_readable = ClientFieldRule(caller);
  auto sort = filter::ResolveSort(input.sort, target->schema, coll, sort_options);
  if (!sort) return std::unexpected(std::move(sort.error()));
  for (const auto& term : *sort) {
    if (auto reach = ScopesReachOperand(caller, term.key); !reach) {
      return std::unexpected(std::move(reach.error()));
    }
  }
  auto expand = ParseExpand(input.expand, limits_);
  if (!expand) return std::unexpected(std::move(expand.error()));
  if (auto valid = ValidateExpand(target->schema, coll, *expand, caller); !valid) {
    return std::unexpected(std::move(valid.error()));
  }

  RecordList list;
  list.schema = target->schema;
  list.page = std::max<std::int64_t>(input.page, 1);
  list.per_page = input.per_page <= 0 ? 30 : std::min(input.per_page, limits_.max_per_page);
  RecordQuery query;
  query.where = where ? &*where : nullptr;
  query.sort = std::move(*sort);
  const std::int64_t max_page = std::numeric_limits<std::int64_t>::max() / list.per_page;
  query.offset = (std::min(list.page, max_page) - 1) * list.per_page;
  query.limit = list.per_page;
  query.count_total = !input.skip_total;
  auto page = target->entry.store->Query(coll, query);
  if (!page) return std::unexpected(std::move(page.error()));

  if (!input.skip_total) {
    list.total_items = page->total;
    list.total_pages = (page->total + list.per_page - 1) / list.per_page;
  }
  list.items.reserve(page->items.size());
  for (auto& record : page->items) list.items.push_back(ExpandedRecord{&coll, std::move(record), {}});
  if (!expand->empty()) {
    std::vector<ExpandedRecord*> roots;
    for (auto& item : list.items) roots.push_back(&item);
    auto done = ExpandLevel(*target->entry.store, target->schema, coll, roots, *expand, caller);
    if (!done) return std::unexpected(std::move(done.error()));
  }
  for (auto& item : list.items) ApplyFieldAccess(caller, item);
  return list;
}

Result<RecordResult> ManageRecords::View(std::string_view project, std::string_view collection,
                                         std::string_view id, std::string_view expand,
                                         Caller caller) {
  bool audited = false;
  auto viewed = ViewUnaudited(project, collection, id, expand, caller, audited);
  if (!audited) return viewed;
  if (auto recorded = AuditRead(project, collection, id, caller,
                                viewed ? nullptr : &viewed.error(), "record.read");
      !recorded) {
    return std::unexpected(std::move(recorded.error()));
  }
  return viewed;
}

Result<void> ManageRecords::AuditRead(std::string_view project, std::string_view collection,
                                      std::string_view id, const Caller& caller,
                                      const Error* failure, std::string_view action) {
  if (audit_ == nullptr) return {};
  if (failure != nullptr && failure->code == ErrorCode::kUnavailable) return {};
  auto target = Open(project, collection);
  if (!target || !target->collection->audit_reads) return {};
  auto recorded = RecordAttempt(target->entry, caller, std::string(action),
                                target->collection->id, std::string(id),
                                failure ? application::OutcomeOf(*failure)
                                        : domain::AuditOutcome::kSuccess);
  // A read that cannot be recorded is not served: the collection asked for every read.
  if (!recorded && failure == nullptr) return recorded;
  return {};
}

Result<RecordResult> ManageRecords::ViewUnaudited(std::string_view project,
                                                  std::string_view collection,
                                                  std::string_view id, std::string_view expand,
                                                  Caller caller, bool& audited) {
  caller.request.now = clock_.Now();
  if (caller.Holds("records.read")) caller.superuser = true;
  auto target = Open(project, collection);
  if (!target) return std::unexpected(std::move(target.error()));
  audited = audit_ != nullptr && target->collection->audit_reads;
  const Collection& coll = *target->collection;
  if (!caller.Permits(coll, "view")) return Fail(ErrorCode::kPermissionDenied, std::string(kOutOfScope));
  auto rule = RuleFor(coll.rules.view, target->schema, coll, caller);
  if (!rule) return std::unexpected(std::move(rule.error()));
  auto found = target->entry.store->Get(coll, id, *rule ? &**rule : nullptr);
  if (!found) return std::unexpected(std::move(found.error()));
  if (!*found) return Fail(ErrorCode::kNotFound, "The requested resource wasn't found.");
  return Expanded(*target, std::move(**found), expand, caller);
}

Result<RecordResult> ManageRecords::Expanded(const Target& target, Record record,
                                             std::string_view expand, const Caller& caller) {
  RecordResult result;
  result.schema = target.schema;
  result.record = ExpandedRecord{target.collection, std::move(record), {}};
  auto nodes = ParseExpand(expand, limits_);
  if (!nodes) return std::unexpected(std::move(nodes.error()));
  if (auto valid = ValidateExpand(target.schema, *target.collection, *nodes, caller); !valid) {
    return std::unexpected(std::move(valid.error()));
  }
  if (!nodes->empty()) {
    auto done = ExpandLevel(*target.entry.store, target.schema, *target.collection,
                            {&result.record}, *nodes, caller);
    if (!done) return std::unexpected(std::move(done.error()));
  }
  ApplyFieldAccess(caller, result.record);
  return result;
}

Result<ManageRecords::PasswordPlan> ManageRecords::PlanPasswords(const Target& target,
                                                                 std::string_view id,
                                                                 const RecordWriteInput& input,
                                                                 const Caller& caller) {
  PasswordPlan plan;
  const Collection& coll = *target.collection;
  if (coll.type != domain::CollectionType::kAuth) return plan;
  plan.auth = true;
  const bool creating = id.empty();
  // Out of an API key's scope nothing about the collection is looked at (no hash, no lookup).
  if (!caller.Permits(coll, creating ? "create" : "update")) {
    return Fail(ErrorCode::kPermissionDenied, std::string(kOutOfScope));
  }
  const std::string password = BodyString(input.body, "password");
  const std::string confirm = BodyString(input.body, "passwordConfirm");
  const std::string old = BodyString(input.body, "oldPassword");
  auto password_index = coll.FieldIndex("password");
  if (!password_index) return Fail(Error::Internal("auth collection without a password field"));

  std::optional<Record> stored;
  if (!creating) {
    auto found = target.entry.store->Get(coll, id, nullptr);
    if (!found) return std::unexpected(std::move(found.error()));
    // A missing record is the update's to report (404, after its own checks).
    if (!*found) return plan;
    stored = std::move(*found);
    // An old password is checked only for a caller who may update the record at all:
    // otherwise its answer would tell a stranger whether a guess was right (or whether the id
    // exists). The same checks run again inside the write transaction.
    const bool touches_password = !password.empty() || !confirm.empty() || !old.empty();
    if (touches_password && !caller.superuser) {
      const Error hidden = Error::Make(ErrorCode::kNotFound, "The requested resource wasn't found.");
      auto view = ViewFilter(target.schema, coll, caller);
      if (!view) {
        if (view.error().code == ErrorCode::kPermissionDenied) return std::unexpected(hidden);
        return std::unexpected(std::move(view.error()));
      }
      if (*view) {
        auto visible = target.entry.store->Get(coll, id, &**view);
        if (!visible) return std::unexpected(std::move(visible.error()));
        if (!*visible) return std::unexpected(hidden);
      }
      if (!coll.rules.update) return Fail(ErrorCode::kPermissionDenied, std::string(kSuperusersOnly));
      auto rule = RuleFor(coll.rules.update, target.schema, coll, caller, &*stored);
      if (!rule) return std::unexpected(std::move(rule.error()));
      if (*rule) {
        auto allowed = target.entry.store->Get(coll, id, &**rule);
        if (!allowed) return std::unexpected(std::move(allowed.error()));
        if (!*allowed) {
          return Fail(ErrorCode::kPermissionDenied, "The update rule does not allow this change.");
        }
      }
    }
    plan.manager = caller.superuser;
    if (!plan.manager && coll.auth.manage_rule && caller.request.auth) {
      auto rule = RuleFor(coll.auth.manage_rule, target.schema, coll, caller, &*stored);
      if (!rule) return std::unexpected(std::move(rule.error()));
      if (!*rule) {
        plan.manager = true;
      } else {
        auto managed = target.entry.store->Get(coll, id, &**rule);
        if (!managed) return std::unexpected(std::move(managed.error()));
        plan.manager = managed->has_value();
      }
    }
  }

  std::vector<domain::FieldError> errors;
  if ((creating || !confirm.empty() || !old.empty()) && password.empty()) {
    errors.push_back({"password", "validation_required", "Cannot be blank."});
  }
  if ((creating || !password.empty() || !old.empty()) && confirm.empty()) {
    errors.push_back({"passwordConfirm", "validation_required", "Cannot be blank."});
  } else if (confirm != password) {
    errors.push_back({"passwordConfirm", "validation_values_mismatch", "Values don't match."});
  }
  if (!creating && !plan.manager && (!password.empty() || !confirm.empty())) {
    bool matches = false;
    const JsonValue& hash = stored->values[*password_index];
    if (!old.empty() && passwords_.hasher != nullptr &&
        hash.type() == JsonValue::Type::kString && !hash.AsString().empty()) {
      auto verified = passwords_.hasher->Verify(old, hash.AsString());
      matches = verified && *verified;
      if (matches) plan.verified_hash = hash.AsString();
    }
    if (!matches) {
      errors.push_back(
          {"oldPassword", "validation_invalid_old_password", "Missing or invalid old password."});
    }
  }
  if (!password.empty() && errors.empty()) {
    domain::PasswordPolicy policy = passwords_.policy;
    const Field& field = coll.fields[*password_index];
    if (field.min && *field.min > static_cast<double>(policy.min_length)) {
      policy.min_length = static_cast<std::size_t>(*field.min);
    }
    if (field.max && *field.max > 0 && *field.max < static_cast<double>(policy.max_length)) {
      policy.max_length = static_cast<std::size_t>(*field.max);
    }
    // What a guesser tries first: the account's own identifiers.
    std::vector<std::string> parts;
    for (const auto& name : coll.auth.identity_fields) {
      std::string value = BodyString(input.body, name);
      if (value.empty() && stored) {
        if (const JsonValue* v = ValueOf(coll, *stored, name);
            v != nullptr && v->type() == JsonValue::Type::kString) {
          value = v->AsString();
        }
      }
      if (!value.empty()) parts.push_back(std::move(value));
    }
    std::vector<std::string_view> views(parts.begin(), parts.end());
    if (auto ok = domain::CheckPassword(password, policy, views); !ok) {
      for (auto& field_error : ok.error().fields) errors.push_back(std::move(field_error));
      if (ok.error().fields.empty()) {
        errors.push_back({"password", "validation_invalid_password", ok.error().message});
      }
    }
  }
  if (!errors.empty()) return std::unexpected(Error::Fields(std::move(errors)));
  if (!password.empty()) {
    if (passwords_.hasher == nullptr) {
      return Fail(ErrorCode::kFailedPrecondition, "Passwords cannot be set here.");
    }
    auto hash = passwords_.hasher->Hash(password);
    if (!hash) return std::unexpected(std::move(hash.error()));
    plan.new_hash = std::move(*hash);
  }
  return plan;
}

Result<Record> ManageRecords::CreateIn(RecordTransaction& tx, const Target& target,
                                       const RecordWriteInput& input, const Caller& requester,
                                       const PasswordPlan& plan) {
  std::optional<Caller> elevated;
  const Caller& caller = ActingFor(requester, "records.create", elevated);
  const Collection& coll = *target.collection;
  if (coll.type == domain::CollectionType::kView) return std::unexpected(ReadOnly(coll));
  if (!caller.Permits(coll, "create")) return Fail(ErrorCode::kPermissionDenied, std::string(kOutOfScope));
  if (!caller.superuser && !coll.rules.create) {
    return Fail(ErrorCode::kPermissionDenied, std::string(kSuperusersOnly));
  }
  const domain::RecordInputOptions options = InputOptions(input, caller, random_);
  Record base = domain::EmptyRecord(coll);
  if (plan.auth && !plan.new_hash.empty()) {
    if (auto index = coll.FieldIndex("password")) {
      base.values[*index] = JsonValue::String(plan.new_hash);
    }
  }
  const JsonValue body = WritableBody(coll, input.body, caller);
  if (auto writable = CheckWritableFields(coll, body, caller); !writable) {
    return std::unexpected(std::move(writable.error()));
  }
  auto record = domain::ApplyRecordInput(coll, std::move(base), body, true, options);
  if (!record) return std::unexpected(std::move(record.error()));
  auto id_index = coll.FieldIndex("id");
  if (!id_index) return std::unexpected(Error::Internal("collection without an id field"));
  if (record->values[*id_index].AsString().empty()) {
    record->values[*id_index] = JsonValue::String(NewId(random_).str());
  }
  // The create rule is decided before anything that depends on other records (a taken id or
  // unique value, a relation to a missing record): the answer to a caller the rule refuses
  // must not tell whether a record it cannot see exists. The transaction rolls back on every
  // refusal, so what is inserted to evaluate the rule never outlives it.
  auto rule = RuleFor(coll.rules.create, target.schema, coll, caller);
  if (!rule) return std::unexpected(std::move(rule.error()));
  if (auto inserted = tx.Insert(coll, *record); !inserted) {
    Error conflict = std::move(inserted.error());
    if (conflict.code == ErrorCode::kAlreadyExists) {
      conflict = Error::Field("id", "validation_invalid_id",
                              "The model id is invalid or already exists.");
    } else if (!IsUniquenessConflict(conflict)) {
      return std::unexpected(std::move(conflict));
    }
    if (*rule) {
      auto admitted = RuleAdmitsDespiteConflict(tx, coll, *record, conflict, **rule, random_);
      if (!admitted) return std::unexpected(std::move(admitted.error()));
      if (!*admitted) return Fail(ErrorCode::kPermissionDenied, std::string(kCreateRefused));
    }
    return std::unexpected(std::move(conflict));
  }
  if (*rule) {
    auto allowed = tx.Matches(coll, record->Id(coll), **rule);
    if (!allowed) return std::unexpected(std::move(allowed.error()));
    if (!*allowed) return Fail(ErrorCode::kPermissionDenied, std::string(kCreateRefused));
  }
  if (auto valid = CheckRelations(tx, target.schema, coll, *record); !valid) {
    return std::unexpected(std::move(valid.error()));
  }
  // A new auth record starts unverified unless its creator manages the collection's records.
  const JsonValue* verified = plan.auth ? ValueOf(coll, *record, "verified") : nullptr;
  if (verified != nullptr && verified->type() == JsonValue::Type::kBool && verified->AsBool() &&
      !caller.superuser) {
    bool manager = false;
    if (coll.auth.manage_rule && caller.request.auth) {
      auto manage = RuleFor(coll.auth.manage_rule, target.schema, coll, caller);
      if (!manage) return std::unexpected(std::move(manage.error()));
      if (!*manage) {
        manager = true;
      } else {
        auto matches = tx.Matches(coll, record->Id(coll), **manage);
        if (!matches) return std::unexpected(std::move(matches.error()));
        manager = *matches;
      }
    }
    if (!manager) {
      return std::unexpected(
          Error::Fields({{"verified", "validation_values_mismatch", "Values don't match."}}));
    }
  }
  return record;
}

namespace {

// Whether `caller` sees the stored record `id` through the view rule (superusers see them all).
Result<bool> SeesStored(RecordTransaction& tx, const SchemaPtr& schema, const Collection& coll,
                        std::string_view id, const Caller& caller) {
  if (caller.superuser) return true;
  auto view = ViewFilter(schema, coll, caller);
  if (!view) {
    if (view.error().code == ErrorCode::kPermissionDenied) return false;
    return std::unexpected(std::move(view.error()));
  }
  if (!*view) return true;
  return tx.Matches(coll, id, **view);
}

// The record an update or a delete is about, once the caller may touch it: not_found when it
// is missing or the view rule hides it from them, permission_denied when `rule` (checked
// against the stored record) refuses. Superusers pass.
Result<Record> FindWritable(RecordTransaction& tx, const SchemaPtr& schema,
                            const Collection& coll, std::string_view id,
                            const std::optional<std::string>& rule_text, const Caller& caller,
                            std::string_view refusal) {
  auto current = tx.Find(coll, id);
  if (!current) return std::unexpected(std::move(current.error()));
  if (!*current) return Fail(ErrorCode::kNotFound, "The requested resource wasn't found.");
  auto visible = SeesStored(tx, schema, coll, id, caller);
  if (!visible) return std::unexpected(std::move(visible.error()));
  if (!*visible) return Fail(ErrorCode::kNotFound, "The requested resource wasn't found.");
  if (caller.superuser) return std::move(**current);
  auto rule = RuleFor(rule_text, schema, coll, caller, &**current);
  if (!rule) return std::unexpected(std::move(rule.error()));
  if (*rule) {
    auto allowed = tx.Matches(coll, id, **rule);
    if (!allowed) return std::unexpected(std::move(allowed.error()));
    if (!*allowed) return Fail(ErrorCode::kPermissionDenied, std::string(refusal));
  }
  return std::move(**current);
}

}  // namespace

Result<Record> ManageRecords::UpdateIn(RecordTransaction& tx, const Target& target,
                                       std::string_view id, const RecordWriteInput& input,
                                       const Caller& requester, const PasswordPlan& plan) {
  std::optional<Caller> elevated;
  const Caller& caller = ActingFor(requester, "records.update", elevated);
  const Collection& coll = *target.collection;
  if (coll.type == domain::CollectionType::kView) return std::unexpected(ReadOnly(coll));
  if (!caller.Permits(coll, "update")) return Fail(ErrorCode::kPermissionDenied, std::string(kOutOfScope));
  if (!caller.superuser && !coll.rules.update) {
    return Fail(ErrorCode::kPermissionDenied, std::string(kSuperusersOnly));
  }
  if (coll.audit_reason_required && caller.origin.reason.empty()) {
    return Fail(ErrorCode::kInvalidArgument, std::string(kReasonRequired));
  }
  auto current = FindWritable(tx, target.schema, coll, id, coll.rules.update, caller,
                              "The update rule does not allow this change.");
  if (!current) return std::unexpected(std::move(current.error()));
  const domain::RecordInputOptions options = InputOptions(input, caller, random_);
  const JsonValue body = WritableBody(coll, input.body, caller);
  if (auto writable = CheckWritableFields(coll, body, caller); !writable) {
    return std::unexpected(std::move(writable.error()));
  }
  std::optional<Record> before;
  if (plan.auth) {
    // The old password was checked against this hash before the transaction: a password
    // changed meanwhile invalidates that check.
    const JsonValue* hash = ValueOf(coll, *current, "password");
    const bool unchecked = !plan.new_hash.empty() && !plan.manager && plan.verified_hash.empty();
    if (unchecked || (!plan.verified_hash.empty() &&
                      (hash == nullptr || hash->type() != JsonValue::Type::kString ||
                       hash->AsString() != plan.verified_hash))) {
      return std::unexpected(Error::Fields({{"oldPassword", "validation_invalid_old_password",
                                           "Missing or invalid old password."}}));
    }
    before = *current;
  }
  auto record = domain::ApplyRecordInput(coll, std::move(*current), body, false, options);
  if (!record) return std::unexpected(std::move(record.error()));
  if (plan.auth) {
    std::vector<domain::FieldError> errors;
    for (std::string_view name : {"email", "verified"}) {
      if (!plan.manager && !SameValue(coll, *before, *record, name)) {
        errors.push_back({std::string(name), "validation_values_mismatch", "Values don't match."});
      }
    }
    if (!errors.empty()) return std::unexpected(Error::Fields(std::move(errors)));
    const bool email_changed = !SameValue(coll, *before, *record, "email");
    if (!plan.new_hash.empty()) {
      if (auto index = coll.FieldIndex("password")) {
        record->values[*index] = JsonValue::String(plan.new_hash);
      }
    }
    // A new password or e-mail revokes every token issued so far.
    if (!plan.new_hash.empty() || email_changed) {
      if (auto index = coll.FieldIndex("tokenKey")) {
        record->values[*index] = JsonValue::String(Autogenerate(coll.fields[*index], random_));
      }
    }
  }
  if (auto valid = CheckRelations(tx, target.schema, coll, *record); !valid) {
    return std::unexpected(std::move(valid.error()));
  }
  if (auto updated = tx.Update(coll, *record); !updated) {
    return std::unexpected(std::move(updated.error()));
  }
  return record;
}

Result<void> ManageRecords::DeleteIn(RecordTransaction& tx, const Target& target,
                                     std::string_view id, const Caller& requester) {
  std::optional<Caller> elevated;
  const Caller& caller = ActingFor(requester, "records.delete", elevated);
  const Collection& coll = *target.collection;
  if (coll.type == domain::CollectionType::kView) return std::unexpected(ReadOnly(coll));
  if (!caller.Permits(coll, "delete")) return Fail(ErrorCode::kPermissionDenied, std::string(kOutOfScope));
  if (!caller.superuser && !coll.rules.del) {
    return Fail(ErrorCode::kPermissionDenied, std::string(kSuperusersOnly));
  }
  if (coll.audit_reason_required && caller.origin.reason.empty()) {
    return Fail(ErrorCode::kInvalidArgument, std::string(kReasonRequired));
  }
  auto current = FindWritable(tx, target.schema, coll, id, coll.rules.del, caller,
                              "The delete rule does not allow this.");
  if (!current) return std::unexpected(std::move(current.error()));
  std::set<std::pair<std::string, std::string>> visited;
  return DeleteWithReferences(tx, target.schema, coll, std::string(id), caller.request.now,
                              visited);
}

Result<RecordResult> ManageRecords::Create(std::string_view project, std::string_view collection,
                                           RecordWriteInput input, Caller caller) {
  caller.request.now = clock_.Now();
  caller.request.method = "POST";
  if (caller.Holds("records.create")) caller.superuser = true;
  caller.request.body = input.body;
  if (auto reason = CheckReason(caller); !reason) return std::unexpected(std::move(reason.error()));
  for (int attempt = 1;; ++attempt) {
    auto target = Open(project, collection);
    if (!target) return std::unexpected(std::move(target.error()));
    std::optional<Record> created;
    auto done = [&]() -> Result<void> {
      auto plan = PlanPasswords(*target, {}, input, caller);
      if (!plan) return std::unexpected(std::move(plan.error()));
      return WriteAudited(*target->entry.store, target->entry.project, caller,
                          [&](RecordTransaction& tx) -> Result<void> {
                            auto record = CreateIn(tx, *target, input, caller, *plan);
                            if (!record) return std::unexpected(std::move(record.error()));
                            created = std::move(*record);
                            return {};
                          });
    }();
    if (!done && Retryable(done.error(), attempt)) continue;
    if (!done) {
      const JsonValue* id = input.body.Find("id");
      RecordFailure(target->entry, caller, "record.create", target->collection->id,
                    id != nullptr && id->type() == JsonValue::Type::kString ? id->AsString() : "",
                    done.error());
      return std::unexpected(std::move(done.error()));
    }
    return Expanded(*target, std::move(*created), input.expand, caller);
  }
}

Result<RecordResult> ManageRecords::Update(std::string_view project, std::string_view collection,
                                           std::string_view id, RecordWriteInput input,
                                           Caller caller) {
  caller.request.now = clock_.Now();
  caller.request.method = "PATCH";
  if (caller.Holds("records.update")) caller.superuser = true;
  caller.request.body = input.body;
  if (auto reason = CheckReason(caller); !reason) return std::unexpected(std::move(reason.error()));
  for (int attempt = 1;; ++attempt) {
    auto target = Open(project, collection);
    if (!target) return std::unexpected(std::move(target.error()));
    std::optional<Record> updated;
    auto done = [&]() -> Result<void> {
      auto plan = PlanPasswords(*target, id, input, caller);
      if (!plan) return std::unexpected(std::move(plan.error()));
      return WriteAudited(*target->entry.store, target->entry.project, caller,
                          [&](RecordTransaction& tx) -> Result<void> {
                            auto record = UpdateIn(tx, *target, id, input, caller, *plan);
                            if (!record) return std::unexpected(std::move(record.error()));
                            updated = std::move(*record);
                            return {};
                          });
    }();
    if (!done && Retryable(done.error(), attempt)) continue;
    if (!done) {
      RecordFailure(target->entry, caller, "record.update", target->collection->id,
                    std::string(id), done.error());
      return std::unexpected(std::move(done.error()));
    }
    return Expanded(*target, std::move(*updated), input.expand, caller);
  }
}

Result<void> ManageRecords::Delete(std::string_view project, std::string_view collection,
                                   std::string_view id, Caller caller) {
  caller.request.now = clock_.Now();
  caller.request.method = "DELETE";
  if (auto reason = CheckReason(caller); !reason) return std::unexpected(std::move(reason.error()));
  for (int attempt = 1;; ++attempt) {
    auto target = Open(project, collection);
    if (!target) return std::unexpected(std::move(target.error()));
    auto done = WriteAudited(*target->entry.store, target->entry.project, caller,
                             [&](RecordTransaction& tx) { return DeleteIn(tx, *target, id, caller); });
    if (!done && Retryable(done.error(), attempt)) continue;
    if (!done) {
      RecordFailure(target->entry, caller, "record.delete", target->collection->id,
                    std::string(id), done.error());
    }
    return done;
  }
}

std::expected<std::vector<BatchItemResult>, BatchFailure> ManageRecords::Batch(
    std::string_view project, std::vector<BatchOperation> operations, Caller caller) {
  // The project's batch settings, read for every batch: batches are rare and heavy, and a value
  // cached here could outlive a change made through another server. Without settings wired,
  // the defaults apply with this use case's own request bound.
  domain::BatchSettings batch;
  std::size_t max_requests = limits_.max_batch_requests;
  if (settings_ != nullptr) {
    auto settings = settings_->Get(project);
    if (!settings) return std::unexpected(BatchFailure{std::nullopt, std::move(settings.error())});
    batch = settings->batch;
    if (batch.max_requests > 0) max_requests = static_cast<std::size_t>(batch.max_requests);
  }
  if (!batch.enabled) {
    return std::unexpected(BatchFailure{
        std::nullopt,
        Error::Make(ErrorCode::kPermissionDenied, "Batch requests are not allowed.")});
  }
  caller.request.now = clock_.Now();
  if (auto reason = CheckReason(caller); !reason) {
    return std::unexpected(BatchFailure{std::nullopt, std::move(reason.error())});
  }
  // PocketBase bounds every batch transaction in time (3 s when the setting is 0). The bound is
  // checked before each operation and before the commit: an operation under way is bounded by
  // the store's own statement deadline instead.
  // (Capped so that the deadline's arithmetic cannot overflow: a century is no bound anyway.)
  constexpr std::int64_t kLongestTimeoutSeconds = std::int64_t{100} * 366 * 24 * 3600;
  const std::int64_t timeout_seconds =
      batch.timeout > 0 ? std::min(batch.timeout, kLongestTimeoutSeconds) : 3;
  const std::int64_t deadline = caller.request.now.unix_micros() + timeout_seconds * 1'000'000;
  if (operations.empty()) {
    return std::unexpected(BatchFailure{
        std::nullopt, Error::Field("requests", "validation_required", "Cannot be blank.")});
  }
  if (operations.size() > max_requests) {
    return std::unexpected(BatchFailure{
        std::nullopt, Error::Field("requests", "validation_length_too_long",
                                   "The batch holds more than " + std::to_string(max_requests) +
                                       " requests.")});
  }
  bool timed_out = false;
  auto past_deadline = [&]() -> Result<void> {
    if (clock_.Now().unix_micros() <= deadline) return {};
    timed_out = true;
    return Fail(ErrorCode::kDeadlineExceeded,
                "The batch took longer than its " + std::to_string(timeout_seconds) +
                    "-second timeout; nothing was written.");
  };
  // One attempt; a concurrent schema change (aborted) replans the whole batch.
  auto attempt_batch = [&]() -> std::expected<std::vector<BatchItemResult>, BatchFailure> {
    auto entry = projects_.Find(project);
    if (!entry) return std::unexpected(BatchFailure{std::nullopt, std::move(entry.error())});
    auto schema = entry->store->Schema();
    if (!schema) return std::unexpected(BatchFailure{std::nullopt, std::move(schema.error())});

    std::vector<Target> targets;
    for (std::size_t i = 0; i < operations.size(); ++i) {
      const Collection* found = (*schema)->Find(operations[i].collection);
      if (found == nullptr) {
        return std::unexpected(
            BatchFailure{i, Error::Make(ErrorCode::kNotFound, "Missing collection context.")});
      }
      targets.push_back(Target{*entry, *schema, found});
    }
    // Passwords are checked and hashed before the transaction, never inside it. An upsert is
    // planned as the update it becomes when its record exists now.
    std::vector<PasswordPlan> plans(operations.size());
    for (std::size_t i = 0; i < operations.size(); ++i) {
      const BatchOperation& op = operations[i];
      if (targets[i].collection->type != domain::CollectionType::kAuth ||
          op.kind == BatchOperation::Kind::kDelete) {
        continue;
      }
      Caller step = caller;
      step.request.body = op.input.body;
      std::string id = op.kind == BatchOperation::Kind::kUpdate ? op.id : std::string();
      if (op.kind == BatchOperation::Kind::kUpsert) {
        const JsonValue* wanted = op.input.body.Find("id");
        std::string upsert_id = wanted != nullptr && wanted->type() == JsonValue::Type::kString
                                    ? wanted->AsString()
                                    : op.id;
        if (!upsert_id.empty()) {
          // As in the transaction below: only a record the caller sees is updated.
          std::optional<Caller> elevated;
          const Caller& updater = ActingFor(step, "records.update", elevated);
          std::optional<filter::ResolvedFilter> view;
          bool hidden = false;
          if (!updater.superuser) {
            auto rule = ViewFilter(targets[i].schema, *targets[i].collection, updater);
            if (!rule && rule.error().code != ErrorCode::kPermissionDenied) {
              return std::unexpected(BatchFailure{i, std::move(rule.error())});
            }
            hidden = !rule;
            if (rule) view = std::move(*rule);
          }
          if (!hidden) {
            auto existing = entry->store->Get(*targets[i].collection, upsert_id,
                                              view ? &*view : nullptr);
            if (!existing) return std::unexpected(BatchFailure{i, std::move(existing.error())});
            if (*existing) id = upsert_id;
          }
        }
      }
      if (step.Holds(id.empty() ? "records.create" : "records.update")) step.superuser = true;
      auto plan = PlanPasswords(targets[i], id, op.input, step);
      if (!plan) return std::unexpected(BatchFailure{i, std::move(plan.error())});
      plans[i] = std::move(*plan);
    }

    std::vector<BatchItemResult> results(operations.size());
    std::vector<std::optional<Record>> written(operations.size());
    std::size_t failed_at = 0;
    auto done = WriteAudited(*entry->store, entry->project, caller,
                             [&](RecordTransaction& tx) -> Result<void> {
      for (std::size_t i = 0; i < operations.size(); ++i) {
        failed_at = i;
        if (auto in_time = past_deadline(); !in_time) return in_time;
        BatchOperation& op = operations[i];
        Caller step = caller;
        step.request.body = op.input.body;
        results[i].kind = op.kind;
        BatchOperation::Kind kind = op.kind;
        if (kind == BatchOperation::Kind::kUpsert) {
          const JsonValue* id = op.input.body.Find("id");
          std::string wanted = id != nullptr && id->type() == JsonValue::Type::kString
                                   ? id->AsString()
                                   : op.id;
          // An upsert updates the records the caller sees; one hidden from them is created,
          // which its taken id then refuses as it would any create (so that the answer does
          // not tell a hidden record from a missing one).
          kind = BatchOperation::Kind::kCreate;
          if (!wanted.empty()) {
            auto existing = tx.Find(*targets[i].collection, wanted);
            if (!existing) return std::unexpected(std::move(existing.error()));
            if (*existing) {
              std::optional<Caller> elevated;
              auto visible = SeesStored(tx, targets[i].schema, *targets[i].collection, wanted,
                                        ActingFor(step, "records.update", elevated));
              if (!visible) return std::unexpected(std::move(visible.error()));
              if (*visible) {
                kind = BatchOperation::Kind::kUpdate;
                op.id = wanted;
              }
            }
          }
          results[i].created = kind == BatchOperation::Kind::kCreate;
        }
        switch (kind) {
          case BatchOperation::Kind::kCreate: {
            step.request.method = "POST";
            auto record = CreateIn(tx, targets[i], op.input, step, plans[i]);
            if (!record) return std::unexpected(std::move(record.error()));
            written[i] = std::move(*record);
            break;
          }
          case BatchOperation::Kind::kUpdate: {
            step.request.method = "PATCH";
            auto record = UpdateIn(tx, targets[i], op.id, op.input, step, plans[i]);
            if (!record) return std::unexpected(std::move(record.error()));
            written[i] = std::move(*record);
            break;
          }
          case BatchOperation::Kind::kDelete: {
            step.request.method = "DELETE";
            if (auto deleted = DeleteIn(tx, targets[i], op.id, step); !deleted) return deleted;
            break;
          }
          case BatchOperation::Kind::kUpsert: break;  // resolved above
        }
      }
      return past_deadline();
    });
    // A timeout is the batch's, not the operation's that happened to come next.
    if (!done && timed_out) {
      return std::unexpected(BatchFailure{std::nullopt, std::move(done.error())});
    }
    if (!done) return std::unexpected(BatchFailure{failed_at, std::move(done.error())});

    for (std::size_t i = 0; i < operations.size(); ++i) {
      if (!written[i]) continue;
      auto result = Expanded(targets[i], std::move(*written[i]), operations[i].input.expand, caller);
      if (!result) return std::unexpected(BatchFailure{i, std::move(result.error())});
      results[i].record = std::move(*result);
    }
    return results;
  };
  for (int attempt = 1;; ++attempt) {
    auto outcome = attempt_batch();
    if (!outcome && Retryable(outcome.error().error, attempt)) continue;
    if (!outcome && audit_ != nullptr) {
      if (auto entry = projects_.Find(project)) {
        RecordFailure(*entry, caller, "record.batch", "", "", outcome.error().error);
      }
    }
    return outcome;
  }
}

Result<void> ManageRecords::WriteAudited(
    ProjectStore& store, const domain::Project& project, const Caller& caller,
    const std::function<Result<void>(RecordTransaction&)>& work) {
  AuditEntry base;
  if (audit_ != nullptr) {
    base.org_id = project.org_id.str();
    base.project_id = project.id.str();
    base.actor = caller.Actor();
    base.origin = caller.origin;
  }
  return application::WriteAudited(store, audit_, base, work);
}

Result<void> ManageRecords::RecordAttempt(const ProjectDirectory::Entry& entry,
                                          const Caller& caller, std::string action,
                                          std::string collection_id, std::string record_id,
                                          domain::AuditOutcome outcome) {
  if (audit_ == nullptr) return {};
  AuditEntry event;
  event.org_id = entry.project.org_id.str();
  event.project_id = entry.project.id.str();
  event.actor = caller.Actor();
  event.origin = caller.origin;
  event.action = std::move(action);
  event.target_kind = record_id.empty() ? "collection" : "record";
  event.target_collection = std::move(collection_id);
  event.target_id = std::move(record_id);
  event.outcome = outcome;
  return audit_->Record(*entry.store, event);
}

void ManageRecords::RecordFailure(const ProjectDirectory::Entry& entry, const Caller& caller,
                                  std::string action, std::string collection_id,
                                  std::string record_id, const Error& error) {
  // A store that cannot be reached cannot record either; the caller hears of the outage.
  if (audit_ == nullptr || error.code == ErrorCode::kUnavailable) return;
  (void)RecordAttempt(entry, caller, std::move(action), std::move(collection_id),
                      std::move(record_id), application::OutcomeOf(error));
}

}  // namespace socle::application
