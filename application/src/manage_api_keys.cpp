#include "socle/application/record_fields.hpp"
#include "socle/application/manage_api_keys.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "socle/application/new_id.hpp"
#include "socle/domain/collection_validation.hpp"
#include "socle/domain/filter/resolver.hpp"

namespace socle::application {

using namespace internal;

using domain::Collection;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::JsonValue;
using domain::Record;
using domain::Result;
namespace filter = domain::filter;

namespace {

constexpr std::string_view kKeyPrefix = "sk_";
constexpr std::size_t kShownPrefix = 12;
constexpr std::size_t kMaxKeyLength = 200;
constexpr std::string_view kBadKey = "The API key is not valid.";
constexpr std::array<std::string_view, 5> kActions = {"list", "view", "create", "update", "delete"};

Error BadKey(std::string detail) {
  Error error = Error::Make(ErrorCode::kUnauthenticated, std::string(kBadKey));
  error.internal = std::move(detail);
  return error;
}

// The event every write of a key starts from: whose key it is, who acts and from where.
AuditEntry KeyEvent(const AuditContext& context, std::string org_id, std::string project_id,
                    std::string action) {
  AuditEntry entry;
  entry.org_id = std::move(org_id);
  entry.project_id = std::move(project_id);
  entry.actor = context.actor;
  entry.origin = context.origin;
  entry.action = std::move(action);
  return entry;
}

ApiKeyInfo Describe(const Collection& c, const Record& r) {
  ApiKeyInfo info;
  info.id = r.Id(c);
  info.name = Text(c, r, "name");
  info.prefix = Text(c, r, "prefix");
  if (auto index = c.FieldIndex("scopes"); index && r.values[*index].type() == JsonValue::Type::kArray) {
    std::vector<std::string> text;
    for (const auto& item : r.values[*index].items()) {
      if (item.type() == JsonValue::Type::kString) text.push_back(item.AsString());
    }
    if (auto parsed = ManageApiKeys::ParseScopes(text)) info.scopes = std::move(*parsed);
  }
  info.expires = Time(c, r, "expires");
  info.revoked = Time(c, r, "revoked");
  info.last_used = Time(c, r, "lastUsed");
  if (auto index = c.FieldIndex("uses")) {
    if (auto uses = r.values[*index].AsInt64()) info.uses = *uses;
  }
  if (auto created = Time(c, r, "created")) info.created = *created;
  info.org = Text(c, r, "org");
  return info;
}

}  // namespace

Result<std::vector<ApiKeyScope>> ManageApiKeys::ParseScopes(const std::vector<std::string>& text) {
  if (text.empty()) {
    return Fail(Error::Field("scopes", "validation_required", "Give at least one scope."));
  }
  std::vector<ApiKeyScope> scopes;
  std::vector<domain::FieldError> errors;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::string& scope = text[i];
    const std::size_t colon = scope.rfind(':');
    const std::string collection = colon == std::string::npos ? "" : scope.substr(0, colon);
    const std::string action = colon == std::string::npos ? "" : scope.substr(colon + 1);
    std::vector<std::string_view> actions;
    if (action == "read") {
      actions = {"list", "view"};
    } else if (action == "write") {
      actions = {"create", "update", "delete"};
    } else if (action == "all") {
      actions.assign(kActions.begin(), kActions.end());
    } else if (std::find(kActions.begin(), kActions.end(), action) != kActions.end()) {
      actions = {action};
    } else if (action == "pii") {
      // Personal data in clear is never implied by another scope, "all" included: it is asked
      // for by name.
      actions = {"pii"};
    }
    const bool collection_ok = collection == "*" || domain::IsValidIdentifier(collection);
    if (!collection_ok || actions.empty()) {
      errors.push_back({"scopes." + std::to_string(i), "validation_invalid_scope",
                        "A scope is COLLECTION:ACTION, with COLLECTION a name or *, and ACTION one "
                        "of list, view, create, update, delete, read, write, all, pii."});
      continue;
    }
    for (std::string_view one : actions) {
      ApiKeyScope parsed{collection, std::string(one)};
      if (std::find(scopes.begin(), scopes.end(), parsed) == scopes.end()) scopes.push_back(parsed);
    }
  }
  if (!errors.empty()) {
    return std::unexpected(Error::Fields(std::move(errors)));
  }
  return scopes;
}

std::vector<std::string> ManageApiKeys::ScopeText(const std::vector<ApiKeyScope>& scopes) {
  std::vector<std::string> out;
  for (const auto& scope : scopes) out.push_back(scope.collection + ":" + scope.action);
  return out;
}

Result<const Collection*> ManageApiKeys::Keys(std::shared_ptr<ProjectStore>& store,
                                              domain::SchemaPtr& schema) {
  auto opened = platform_.Store();
  if (!opened) return std::unexpected(std::move(opened.error()));
  store = std::move(*opened);
  auto read = store->Schema();
  if (!read) return std::unexpected(std::move(read.error()));
  schema = std::move(*read);
  const Collection* keys = schema->FindById("pbc_api_keys");
  if (keys == nullptr) return Fail(Error::Internal("the API keys collection is missing"));
  return keys;
}

namespace {

Result<void> CheckNameAndExpiry(std::string_view name, std::optional<domain::Timestamp> expires,
                                domain::Timestamp now, std::vector<domain::FieldError>& errors) {
  // Characters, not bytes: a UTF-8 continuation byte does not start one.
  const auto characters = std::count_if(name.begin(), name.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
  if (name.empty() || characters > 100) {
    errors.push_back({"name", "validation_length_out_of_range",
                      "The name is 1 to 100 characters long."});
  }
  if (expires && *expires <= now) {
    errors.push_back({"expires", "validation_min_date_constraint", "Must be in the future."});
  }
  return {};
}

}  // namespace

Result<NewApiKey> ManageApiKeys::Insert(std::string_view name,
                                        std::optional<domain::Timestamp> expires,
                                        const std::vector<ApiKeyScope>& scopes,
                                        const std::string& project_id, const std::string& org_id,
                                        const AuditEntry& base) {
  std::shared_ptr<ProjectStore> store;
  domain::SchemaPtr schema;
  auto keys = Keys(store, schema);
  if (!keys) return std::unexpected(std::move(keys.error()));
  const Collection& c = **keys;
  const domain::Timestamp now = clock_.Now();

  NewApiKey made;
  made.secret = std::string(kKeyPrefix) + NewTokenKey(random_);
  Record record = domain::EmptyRecord(c);
  made.info.id = NewId(random_).str();
  made.info.name = std::string(name);
  made.info.prefix = made.secret.substr(0, kShownPrefix);
  made.info.scopes = scopes;
  made.info.expires = expires;
  made.info.created = now;
  made.info.org = org_id;
  std::vector<JsonValue> scope_values;
  for (const auto& text : ScopeText(scopes)) scope_values.push_back(JsonValue::String(text));
  Set(c, record, "id", JsonValue::String(made.info.id));
  Set(c, record, "project", JsonValue::String(project_id));
  Set(c, record, "org", JsonValue::String(org_id));
  Set(c, record, "name", JsonValue::String(made.info.name));
  Set(c, record, "prefix", JsonValue::String(made.info.prefix));
  Set(c, record, "binding", JsonValue::String(signer_.Bind(made.secret)));
  Set(c, record, "scopes", JsonValue::Array(std::move(scope_values)));
  Set(c, record, "expires", JsonValue::String(expires ? expires->ToApiString() : ""));
  Set(c, record, "uses", JsonValue::Integer(0));
  Set(c, record, "created", JsonValue::String(now.ToApiString()));
  Set(c, record, "updated", JsonValue::String(now.ToApiString()));
  // The binding is a hidden field: the event shows it as set, never its value.
  auto written = WriteAudited(*store, trail_, base,
                              [&](RecordTransaction& tx) { return tx.Insert(c, record); });
  if (!written) return std::unexpected(std::move(written.error()));
  return made;
}

Result<NewApiKey> ManageApiKeys::Create(std::string_view project, std::string_view name,
                                        const std::vector<std::string>& scope_text,
                                        std::optional<domain::Timestamp> expires,
                                        const AuditContext& context) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  std::vector<domain::FieldError> errors;
  (void)CheckNameAndExpiry(name, expires, clock_.Now(), errors);
  auto scopes = ParseScopes(scope_text);
  if (!scopes) {
    for (auto& field : scopes.error().fields) errors.push_back(std::move(field));
  }
  if (!errors.empty()) return std::unexpected(Error::Fields(std::move(errors)));
  // A project's key stores no organisation; its event names the project's all the same.
  const std::string project_id = entry->project.id.str();
  return Insert(name, expires, *scopes, project_id, "",
                KeyEvent(context, entry->project.org_id.str(), project_id, "api_key.create"));
}

Result<NewApiKey> ManageApiKeys::CreateForOrganisation(const domain::Id& org, std::string_view name,
                                                       std::optional<domain::Timestamp> expires,
                                                       const AuditContext& context) {
  std::vector<domain::FieldError> errors;
  (void)CheckNameAndExpiry(name, expires, clock_.Now(), errors);
  if (!errors.empty()) return std::unexpected(Error::Fields(std::move(errors)));
  return Insert(name, expires, {}, "", org.str(),
                KeyEvent(context, org.str(), "", "api_key.create"));
}

Result<std::vector<ApiKeyInfo>> ManageApiKeys::ListWhere(std::string_view field,
                                                         const std::string& value) {
  std::shared_ptr<ProjectStore> store;
  domain::SchemaPtr schema;
  auto keys = Keys(store, schema);
  if (!keys) return std::unexpected(std::move(keys.error()));
  auto where = CompareField(schema, **keys, field, "=", value);
  if (!where) return std::unexpected(std::move(where.error()));
  RecordQuery query;
  query.where = &*where;
  query.limit = 1000;
  query.count_total = false;
  query.sort = {};
  auto page = store->Query(**keys, query);
  if (!page) return std::unexpected(std::move(page.error()));
  std::vector<ApiKeyInfo> out;
  for (const auto& record : page->items) out.push_back(Describe(**keys, record));
  std::sort(out.begin(), out.end(),
            [](const ApiKeyInfo& a, const ApiKeyInfo& b) { return a.created < b.created; });
  return out;
}

Result<std::vector<ApiKeyInfo>> ManageApiKeys::List(std::string_view project) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  return ListWhere("project", entry->project.id.str());
}

Result<std::vector<ApiKeyInfo>> ManageApiKeys::ListForOrganisation(const domain::Id& org) {
  return ListWhere("org", org.str());
}

Result<void> ManageApiKeys::RevokeWhere(std::string_view field, const std::string& value,
                                        std::string_view id, const AuditEntry& base) {
  std::shared_ptr<ProjectStore> store;
  domain::SchemaPtr schema;
  auto keys = Keys(store, schema);
  if (!keys) return std::unexpected(std::move(keys.error()));
  const Collection& c = **keys;
  const std::string now = clock_.Now().ToApiString();
  // A key already revoked is not written again, so it leaves no second event.
  return WriteAudited(*store, trail_, base, [&](RecordTransaction& tx) -> Result<void> {
    auto found = tx.Find(c, id);
    if (!found) return std::unexpected(std::move(found.error()));
    if (!*found || Text(c, **found, field) != value) {
      return Fail(ErrorCode::kNotFound, "The API key was not found.");
    }
    if (!Text(c, **found, "revoked").empty()) return {};
    Record record = std::move(**found);
    Set(c, record, "revoked", JsonValue::String(now));
    Set(c, record, "updated", JsonValue::String(now));
    return tx.Update(c, record);
  });
}

Result<void> ManageApiKeys::Revoke(std::string_view project, std::string_view id,
                                   const AuditContext& context) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  const std::string project_id = entry->project.id.str();
  return RevokeWhere("project", project_id, id,
                     KeyEvent(context, entry->project.org_id.str(), project_id, "api_key.revoke"));
}

Result<void> ManageApiKeys::RevokeForOrganisation(const domain::Id& org, std::string_view id,
                                                  const AuditContext& context) {
  return RevokeWhere("org", org.str(), id, KeyEvent(context, org.str(), "", "api_key.revoke"));
}

Result<std::int64_t> ManageApiKeys::DeleteWhere(std::string_view field, const std::string& value,
                                                const AuditEntry& base) {
  std::shared_ptr<ProjectStore> store;
  domain::SchemaPtr schema;
  auto keys = Keys(store, schema);
  if (!keys) return std::unexpected(std::move(keys.error()));
  const Collection& c = **keys;
  auto where = CompareField(schema, c, field, "=", value);
  if (!where) return std::unexpected(std::move(where.error()));
  std::int64_t deleted = 0;
  // One transaction: the keys go all together or none. Read in batches so that no query is
  // unbounded; each batch's records are deleted before the next is read.
  auto written = WriteAudited(*store, trail_, base, [&](RecordTransaction& tx) -> Result<void> {
    RecordQuery query;
    query.where = &*where;
    query.limit = 500;
    query.count_total = false;
    for (;;) {
      auto page = tx.Query(c, query);
      if (!page) return std::unexpected(std::move(page.error()));
      if (page->items.empty()) return {};
      for (const auto& record : page->items) {
        if (auto done = tx.Delete(c, record.Id(c)); !done) return done;
        ++deleted;
      }
    }
  });
  // Uses counted for these keys meanwhile are dropped by the next Flush, which skips keys
  // that no longer exist.
  if (!written) return std::unexpected(std::move(written.error()));
  return deleted;
}

Result<std::int64_t> ManageApiKeys::DeleteForProject(const domain::Id& project,
                                                     const AuditContext& context) {
  return DeleteWhere("project", project.str(),
                     KeyEvent(context, "", project.str(), "api_key.delete"));
}

Result<std::int64_t> ManageApiKeys::DeleteForOrganisation(const domain::Id& org,
                                                          const AuditContext& context) {
  return DeleteWhere("org", org.str(), KeyEvent(context, org.str(), "", "api_key.delete"));
}

Result<ApiKeyInfo> ManageApiKeys::Verify(std::string_view key, std::string& project_id) {
  if (!key.starts_with(kKeyPrefix) || key.size() <= kShownPrefix || key.size() > kMaxKeyLength) {
    return std::unexpected(BadKey("malformed key"));
  }
  std::shared_ptr<ProjectStore> store;
  domain::SchemaPtr schema;
  auto keys = Keys(store, schema);
  if (!keys) return std::unexpected(std::move(keys.error()));
  const Collection& c = **keys;
  auto where = CompareField(schema, c, "prefix", "=", key.substr(0, kShownPrefix));
  if (!where) return std::unexpected(std::move(where.error()));
  RecordQuery query;
  query.where = &*where;
  query.limit = 1;
  query.count_total = false;
  auto page = store->Query(c, query);
  if (!page) return std::unexpected(std::move(page.error()));
  if (page->items.empty()) return std::unexpected(BadKey("unknown prefix"));
  const Record& record = page->items.front();
  // Compared in constant time: the binding is a hash, but its prefix must not leak either.
  if (!ConstantTimeEquals(Text(c, record, "binding"), signer_.Bind(key))) {
    return std::unexpected(BadKey("wrong secret"));
  }
  ApiKeyInfo info = Describe(c, record);
  const domain::Timestamp now = clock_.Now();
  if (info.revoked) return std::unexpected(BadKey("revoked"));
  if (info.expires && *info.expires <= now) return std::unexpected(BadKey("expired"));
  project_id = Text(c, record, "project");
  {
    std::lock_guard lock(usage_mutex_);
    Usage& usage = usage_[info.id];
    ++usage.uses;
    usage.last_used = now;
  }
  return info;
}

Result<Caller> ManageApiKeys::Identify(std::string_view project, std::string_view key) {
  if (!key.starts_with(kKeyPrefix) || key.size() <= kShownPrefix || key.size() > kMaxKeyLength) {
    return std::unexpected(BadKey("malformed key"));
  }
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  std::string key_project;
  auto info = Verify(key, key_project);
  if (!info) return std::unexpected(std::move(info.error()));
  if (!info->org.empty()) {
    // An organisation's key reaches the organisation's projects with its policies' rights,
    // which the caller fills in (PlatformCallers); elsewhere it is no key at all.
    if (info->org != entry->project.org_id.str()) {
      return std::unexpected(BadKey("a key of another organisation"));
    }
    Caller caller;
    caller.api_key_id = info->id;
    caller.api_key_org = info->org;
    return caller;
  }
  if (key_project != entry->project.id.str()) {
    return std::unexpected(BadKey("a key of another project"));
  }
  Caller caller;
  caller.superuser = true;
  caller.scopes = info->scopes;
  caller.api_key_id = info->id;
  return caller;
}

Result<ApiKeyInfo> ManageApiKeys::IdentifyOrganisationKey(std::string_view key) {
  std::string key_project;
  auto info = Verify(key, key_project);
  if (!info) return std::unexpected(std::move(info.error()));
  if (info->org.empty()) return std::unexpected(BadKey("a project's key"));
  return info;
}

Result<void> ManageApiKeys::Flush() {
  std::unordered_map<std::string, Usage> pending;
  {
    std::lock_guard lock(usage_mutex_);
    pending.swap(usage_);
  }
  if (pending.empty()) return {};
  std::shared_ptr<ProjectStore> store;
  domain::SchemaPtr schema;
  auto keys = Keys(store, schema);
  auto give_back = [&] {
    std::lock_guard lock(usage_mutex_);
    for (auto& [id, usage] : pending) {
      Usage& kept = usage_[id];
      kept.uses += usage.uses;
      kept.last_used = std::max(kept.last_used, usage.last_used);
    }
  };
  if (!keys) {
    give_back();
    return std::unexpected(std::move(keys.error()));
  }
  const Collection& c = **keys;
  // Not audited (a plain Write): counting uses is bookkeeping, not anyone's action, and an
  // event per key every minute would bury the changes the trail is for.
  auto written = store->Write([&](RecordTransaction& tx) -> Result<void> {
    for (const auto& [id, usage] : pending) {
      auto found = tx.Find(c, id);
      if (!found) return std::unexpected(std::move(found.error()));
      if (!*found) continue;  // deleted meanwhile
      Record record = std::move(**found);
      std::int64_t uses = 0;
      if (auto index = c.FieldIndex("uses")) uses = record.values[*index].AsInt64().value_or(0);
      Set(c, record, "uses", JsonValue::Integer(uses + usage.uses));
      Set(c, record, "lastUsed", JsonValue::String(usage.last_used.ToApiString()));
      if (auto done = tx.Update(c, record); !done) return done;
    }
    return {};
  });
  if (!written) {
    give_back();
    return std::unexpected(std::move(written.error()));
  }
  return {};
}

}  // namespace socle::application
