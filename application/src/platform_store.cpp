#include "socle/application/platform_store.hpp"

#include <algorithm>

#include "socle/application/sign_in_log.hpp"

#include <utility>
#include <vector>

namespace socle::application {

using domain::Collection;
using domain::CollectionType;
using domain::Field;
using domain::FieldType;
using domain::Result;

const domain::Project& PlatformStore::Project() {
  static const domain::Project project = [] {
    domain::Project p{domain::Id::Parse("platform0000000").value(),
                      domain::Slug::Parse("platform").value(),
                      domain::DisplayName::Parse("Platform").value(),
                      domain::Id::Parse("platform0000000").value(),
                      domain::Slug::Parse("platform").value(),
                      {},
                      {}};
    return p;
  }();
  return project;
}

Collection PlatformStore::SuperusersCollection() {
  Collection c;
  c.id = std::string(domain::kSuperusersCollectionId);
  c.name = std::string(domain::kSuperusersCollectionName);
  c.type = CollectionType::kAuth;
  c.system = true;
  std::vector<Field> fields = domain::SystemFields();
  std::vector<Field> auth = domain::AuthSystemFields();
  fields.insert(fields.begin() + 1, auth.begin(), auth.end());
  c.fields = std::move(fields);
  c.indexes = domain::AuthSystemIndexes(c.id);
  // Every rule null: superusers manage superusers. A superuser's token lives one day.
  c.auth.auth_token_duration = 86400;
  return c;
}

Collection PlatformStore::SigningKeysCollection() {
  Collection c;
  c.id = "pbc_signing_keys";
  c.name = "_signingKeys";
  c.system = true;
  std::vector<Field> fields = domain::SystemFields();
  Field kid;
  kid.id = "text_kid";
  kid.name = "kid";
  kid.type = FieldType::kText;
  kid.system = true;
  kid.required = true;
  kid.max = 64;
  Field seed;
  seed.id = "text_sealed_seed";
  seed.name = "sealedSeed";
  seed.type = FieldType::kText;
  seed.system = true;
  seed.hidden = true;
  seed.required = true;
  seed.max = 1000;
  fields.insert(fields.begin() + 1, {kid, seed});
  c.fields = std::move(fields);
  c.indexes.push_back(domain::CollectionIndex{"idx_signing_keys_kid", true, {{"kid", false}}, {}});
  return c;
}

Collection PlatformStore::ApiKeysCollection() {
  Collection c;
  c.id = "pbc_api_keys";
  c.name = "_apiKeys";
  c.system = true;
  auto field = [](std::string id, std::string name, FieldType type) {
    Field f;
    f.id = std::move(id);
    f.name = std::move(name);
    f.type = type;
    f.system = true;
    return f;
  };
  std::vector<Field> fields = domain::SystemFields();
  // A project's key names its project; an organisation's key (its rights are the policies bound
  // to it) names its organisation and no project.
  Field project = field("text_key_project", "project", FieldType::kText);
  Field org = field("text_key_org", "org", FieldType::kText);
  Field name = field("text_key_name", "name", FieldType::kText);
  name.required = true;
  name.max = 100;
  Field prefix = field("text_key_prefix", "prefix", FieldType::kText);
  prefix.required = true;
  Field binding = field("text_key_binding", "binding", FieldType::kText);
  binding.required = true;
  binding.hidden = true;
  Field scopes = field("json_key_scopes", "scopes", FieldType::kJson);
  Field expires = field("date_key_expires", "expires", FieldType::kDate);
  Field revoked = field("date_key_revoked", "revoked", FieldType::kDate);
  Field last_used = field("date_key_last_used", "lastUsed", FieldType::kDate);
  Field uses = field("number_key_uses", "uses", FieldType::kNumber);
  uses.only_int = true;
  fields.insert(fields.begin() + 1,
                {project, name, prefix, binding, scopes, expires, revoked, last_used, uses, org});
  c.fields = std::move(fields);
  c.indexes.push_back(domain::CollectionIndex{"idx_api_keys_prefix", true, {{"prefix", false}}, {}});
  c.indexes.push_back(domain::CollectionIndex{"idx_api_keys_project", false, {{"project", false}}, {}});
  c.indexes.push_back(domain::CollectionIndex{"idx_api_keys_org", false, {{"org", false}}, {}});
  return c;
}

Collection PlatformStore::MembersCollection() {
  Collection c;
  c.id = std::string(kMembersCollectionId);
  c.name = "_members";
  c.type = CollectionType::kAuth;
  c.system = true;
  std::vector<Field> fields = domain::SystemFields();
  std::vector<Field> auth = domain::AuthSystemFields();
  fields.insert(fields.begin() + 1, auth.begin(), auth.end());
  Field name;
  name.id = "text_member_name";
  name.name = "name";
  name.type = FieldType::kText;
  name.system = true;
  name.max = 255;
  // Before created/updated, which SystemFields() puts last.
  fields.insert(fields.end() - 2, name);
  c.fields = std::move(fields);
  c.indexes = domain::AuthSystemIndexes(c.id);
  // Every rule null: members are reached through PlatformSessions only, never the records API.
  return c;
}

Collection PlatformStore::SessionsCollection() {
  Collection c;
  c.id = std::string(kSessionsCollectionId);
  c.name = "_sessions";
  c.system = true;
  auto field = [](std::string id, std::string name, FieldType type) {
    Field f;
    f.id = std::move(id);
    f.name = std::move(name);
    f.type = type;
    f.system = true;
    return f;
  };
  Field member = field("text_session_member", "member", FieldType::kText);
  member.required = true;
  member.max = 64;
  Field family = field("text_session_family", "family", FieldType::kText);
  family.required = true;
  family.max = 64;
  Field binding = field("text_session_binding", "binding", FieldType::kText);
  binding.required = true;
  binding.hidden = true;
  binding.max = 200;
  Field user_agent = field("text_session_user_agent", "userAgent", FieldType::kText);
  user_agent.max = 512;
  Field address = field("text_session_address", "address", FieldType::kText);
  address.max = 64;
  // The sign-in that started the family, carried by each of its rows: the first row is purged a
  // day after its exchange, but the session still began then.
  Field started = field("date_session_started", "started", FieldType::kDate);
  Field expires = field("date_session_expires", "expires", FieldType::kDate);
  Field rotated = field("date_session_rotated", "rotated", FieldType::kDate);
  Field revoked = field("date_session_revoked", "revoked", FieldType::kDate);
  // Role switching: the role the session acts with, carried from each row to its successor.
  Field role = field("text_session_role", "role", FieldType::kText);
  role.max = 64;
  std::vector<Field> fields = domain::SystemFields();
  fields.insert(fields.begin() + 1, {member, family, binding, user_agent, address, started,
                                     expires, rotated, revoked, role});
  c.fields = std::move(fields);
  c.indexes.push_back(
      domain::CollectionIndex{"idx_sessions_binding", true, {{"binding", false}}, {}});
  c.indexes.push_back(
      domain::CollectionIndex{"idx_sessions_family", false, {{"family", false}}, {}});
  c.indexes.push_back(
      domain::CollectionIndex{"idx_sessions_member", false, {{"member", false}}, {}});
  return c;
}

Result<void> PlatformStore::EnsureSystemCollections(ProjectStore& store) {
  const std::vector<Collection> wanted = {SuperusersCollection(), SigningKeysCollection(),
                                          ApiKeysCollection(),     MembersCollection(),
                                          SessionsCollection(),
                                          SignInLog::AttemptsCollection()};
  // Another process may be doing the same: a version conflict means it got there first, and
  // the next round sees its work.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto schema = store.Schema();
    if (!schema) return std::unexpected(std::move(schema.error()));
    std::vector<CollectionChange> changes;
    for (const auto& collection : wanted) {
      const Collection* existing = (*schema)->FindById(collection.id);
      if (existing == nullptr) {
        Collection created = collection;
        created.created = clock_.Now();
        created.updated = created.created;
        changes.push_back({std::nullopt, std::move(created)});
        continue;
      }
      // A store made by an older build: add the fields and indexes this build's definition
      // has and the stored one lacks (by id). Upgrades are additive: nothing stored is
      // changed or dropped.
      Collection upgraded = *existing;
      bool changed = false;
      for (const auto& field : collection.fields) {
        if (upgraded.FindFieldById(field.id) == nullptr) {
          upgraded.fields.push_back(field);
          changed = true;
        }
      }
      for (const auto& index : collection.indexes) {
        const bool present = std::any_of(upgraded.indexes.begin(), upgraded.indexes.end(),
                                         [&](const auto& have) { return have.name == index.name; });
        if (!present) {
          upgraded.indexes.push_back(index);
          changed = true;
        }
      }
      if (changed) {
        upgraded.updated = clock_.Now();
        changes.push_back({*existing, std::move(upgraded)});
      }
    }
    if (changes.empty()) return {};
    auto applied = store.ApplySchema(changes, (*schema)->version, "system", clock_.Now());
    if (applied) return {};
    if (applied.error().code != domain::ErrorCode::kAborted) {
      return std::unexpected(std::move(applied.error()));
    }
  }
  return domain::Fail(domain::ErrorCode::kAborted,
                      "The platform store's schema kept changing while it was being prepared.");
}

Result<std::shared_ptr<ProjectStore>> PlatformStore::Store() {
  std::lock_guard lock(mutex_);
  if (store_) return store_;
  auto store = stores_.Open(Project());
  if (!store) return std::unexpected(std::move(store.error()));
  if (auto ready = EnsureSystemCollections(**store); !ready) {
    return std::unexpected(std::move(ready.error()));
  }
  store_ = std::move(*store);
  return store_;
}

}  // namespace socle::application
