#include "socle/application/record_fields.hpp"
#include "socle/application/authenticate.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "socle/application/new_id.hpp"
#include "socle/domain/token_claims.hpp"

namespace socle::application {

using namespace internal;

using domain::Collection;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::JsonValue;
using domain::Record;
using domain::Result;
using domain::SchemaPtr;
namespace filter = domain::filter;

/// The auth collection a request names and the store and schema it lives in: the project's,
/// or the platform's for `_superusers`.
struct Authenticate::Realm {
  std::string project_id;
  std::string org_id;
  /// The project's own store, whose chain records sign-ins; null for the platform itself.
  std::shared_ptr<ProjectStore> trail_store;
  std::shared_ptr<ProjectStore> store;
  SchemaPtr schema;
  const Collection* collection = nullptr;
  bool superusers = false;
};

namespace {

constexpr std::string_view kFailed = "Failed to authenticate.";
constexpr std::string_view kBadToken = "The request requires valid record authorization token.";

// Who signs in, from where, for the trail: the record when the identity named one (a
// superuser's for _superusers), a guest otherwise.
template <typename Realm>
AuditEntry AuditBase(const Realm& realm, const std::string& record_id, const ClientInfo& client) {
  AuditEntry event;
  event.org_id = realm.org_id;
  event.project_id = realm.project_id;
  event.actor = record_id.empty() ? AuditActor{domain::AuditActorKind::kGuest, {}}
                : realm.superusers ? AuditActor{domain::AuditActorKind::kSuperuser, record_id}
                                   : AuditActor{domain::AuditActorKind::kAppUser, record_id};
  event.origin.client_address = client.address;
  event.origin.user_agent = client.user_agent;
  return event;
}

Error Unauthenticated(std::string detail) {
  Error error = Error::Make(ErrorCode::kUnauthenticated, std::string(kBadToken));
  error.internal = std::move(detail);
  return error;
}

bool IsSuperusers(std::string_view collection) {
  return collection == domain::kSuperusersCollectionName ||
         collection == domain::kSuperusersCollectionId;
}

}  // namespace

Authenticate::Authenticate(ProjectDirectory& projects, PlatformStore& platform,
                           TokenSigner& signer, PasswordHasher& hasher, Clock& clock,
                           RandomSource& random, domain::LoginThrottle& throttle,
                           AuthenticateOptions options)
    : projects_(projects),
      platform_(platform),
      signer_(signer),
      hasher_(hasher),
      clock_(clock),
      random_(random),
      throttle_(throttle),
      options_(std::move(options)) {
  // A hash of a random password under the current policy: verifying against it costs what
  // verifying a real account costs.
  std::array<std::uint8_t, 16> bytes{};
  random_.Fill(bytes);
  std::string password(bytes.begin(), bytes.end());
  if (auto hash = hasher_.Hash(password)) dummy_hash_ = std::move(*hash);
}

domain::Result<void> CheckSignInThrottles(domain::LoginThrottle& identities,
                                          domain::LoginThrottle& addresses,
                                          std::string_view identity_key,
                                          std::string_view address_key, domain::Timestamp now) {
  for (auto [throttle, key] : {std::pair{&identities, identity_key},
                               std::pair{&addresses, address_key}}) {
    const domain::LoginThrottleStatus status = throttle->Check(key, now);
    if (status.locked) {
      Error error = Error::Make(ErrorCode::kResourceExhausted,
                                "Too many failed attempts; try again later.");
      error.retry_after_seconds = std::max<std::int64_t>(1, status.retry_after.count());
      return std::unexpected(std::move(error));
    }
  }
  return {};
}

domain::LoginThrottleOptions AddressThrottleOptions() {
  domain::LoginThrottleOptions options;
  options.quick_login_check = std::chrono::milliseconds(0);
  options.exponential_after = 20;
  options.failure_factor = 100;
  return options;
}

std::string Authenticate::Audience(const domain::Project& project) {
  return "project:" + project.id.str();
}

Result<Authenticate::Realm> Authenticate::Find(std::string_view project,
                                               std::string_view collection) {
  Realm realm;
  if (project.empty()) {
    // The platform itself: only superusers sign in to it (members use PlatformSessions).
    if (!IsSuperusers(collection)) {
      return Fail(ErrorCode::kNotFound, "Missing or invalid auth collection context.");
    }
  } else {
    auto entry = projects_.Find(project);
    if (!entry) return std::unexpected(std::move(entry.error()));
    realm.project_id = entry->project.id.str();
    realm.org_id = entry->project.org_id.str();
    realm.store = entry->store;
    realm.trail_store = entry->store;
  }
  if (IsSuperusers(collection)) {
    auto store = platform_.Store();
    if (!store) return std::unexpected(std::move(store.error()));
    realm.store = std::move(*store);
    realm.superusers = true;
    // Superusers signing in to the platform itself: their events go to the platform store's
    // own trail (into a project, to that project's).
    if (project.empty()) realm.trail_store = realm.store;
  }
  auto schema = realm.store->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  realm.schema = std::move(*schema);
  realm.collection = realm.superusers ? realm.schema->FindById(domain::kSuperusersCollectionId)
                                      : realm.schema->Find(collection);
  if (realm.collection == nullptr || realm.collection->type != domain::CollectionType::kAuth) {
    return Fail(ErrorCode::kNotFound, "Missing or invalid auth collection context.");
  }
  return realm;
}

Result<bool> Authenticate::PassesAuthRule(const Realm& realm, const Record& record) {
  const auto& rule = realm.collection->auth.auth_rule;
  if (!rule) return false;  // null: nobody signs in
  if (rule->empty()) return true;
  filter::RequestContext request;
  request.method = "POST";
  request.now = clock_.Now();
  request.auth = filter::AuthIdentity{realm.collection, record, std::nullopt};
  filter::ResolveOptions resolve;
  resolve.allow_hidden = true;
  auto compiled = filter::Compile(*rule, realm.schema, *realm.collection, request, resolve);
  if (!compiled) {
    return Fail(Error::Internal("the authRule of " + realm.collection->name +
                                " does not compile: " + compiled.error().message));
  }
  auto found = realm.store->Get(*realm.collection, record.Id(*realm.collection), &*compiled);
  if (!found) return std::unexpected(std::move(found.error()));
  return found->has_value();
}

std::vector<std::string> Authenticate::RecordRoles(const Collection& collection,
                                                  const Record& record) {
  std::vector<std::string> roles;
  auto index = collection.FieldIndex("roles");
  if (!index || *index >= record.values.size()) return roles;
  const JsonValue& value = record.values[*index];
  auto add = [&](std::string_view role) {
    while (!role.empty() && role.front() == ' ') role.remove_prefix(1);
    while (!role.empty() && role.back() == ' ') role.remove_suffix(1);
    if (!role.empty() && std::find(roles.begin(), roles.end(), role) == roles.end()) {
      roles.emplace_back(role);
    }
  };
  if (value.type() == JsonValue::Type::kString) {
    std::string_view text = value.AsString();
    for (std::size_t start = 0; start <= text.size();) {
      const std::size_t comma = text.find(',', start);
      add(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  } else if (value.type() == JsonValue::Type::kArray) {
    for (const auto& item : value.items()) {
      if (item.type() == JsonValue::Type::kString) add(item.AsString());
    }
  }
  std::sort(roles.begin(), roles.end());
  return roles;
}

Result<AuthResult> Authenticate::Issue(const Realm& realm, Record record, std::string role) {
  const Collection& coll = *realm.collection;
  const domain::Timestamp now = clock_.Now();
  domain::TokenClaims claims;
  claims.iss = options_.issuer;
  claims.sub = record.Id(coll);
  claims.aud = realm.project_id.empty() ? std::string(kPlatformAudience)
                                        : "project:" + realm.project_id;
  claims.jti = NewId(random_).str() + NewId(random_).str();
  claims.collection_id = coll.id;
  claims.type = "auth";
  claims.iat = now;
  claims.exp = domain::Timestamp::FromUnixMicros(now.unix_micros() +
                                                 coll.auth.auth_token_duration * 1'000'000);
  claims.key_binding = signer_.Bind(Text(coll, record, "tokenKey"));
  claims.role = std::move(role);
  auto token = signer_.Sign(claims);
  if (!token) return std::unexpected(std::move(token.error()));
  AuthResult result;
  result.token = std::move(*token);
  result.record.schema = realm.schema;
  result.record.record.collection = realm.collection;
  result.record.record.record = std::move(record);
  return result;
}

void Authenticate::VerifyDummy(std::string_view password) {
  if (!dummy_hash_.empty()) (void)hasher_.Verify(password, dummy_hash_);
}

Result<AuthResult> Authenticate::WithPassword(std::string_view project,
                                              std::string_view collection,
                                              std::string_view identity,
                                              std::string_view password,
                                              std::string_view identity_field,
                                              const ClientInfo& client) {
  auto realm = Find(project, collection);
  if (!realm) return std::unexpected(std::move(realm.error()));
  const Collection& coll = *realm->collection;
  const domain::Timestamp now = clock_.Now();

  // Throttled by what was typed, whether or not it names an account.
  const std::string identity_key =
      "id:" + realm->project_id + "/" + coll.id + "/" + Lower(identity);
  const std::string address_key = "ip:" + client.address;
  domain::LoginThrottle& addresses =
      options_.address_throttle != nullptr ? *options_.address_throttle : throttle_;
  auto log = [&](std::string_view outcome, std::string record_id) {
    // Best effort, both: a log that cannot be written must not stop sign-ins.
    if (options_.audit != nullptr && realm->trail_store) {
      AuditEntry event = AuditBase(*realm, record_id, client);
      event.action = "auth.sign_in";
      event.target_kind = "record";
      event.target_collection = coll.id;
      event.target_id = record_id;
      event.outcome = outcome == "success" ? domain::AuditOutcome::kSuccess
                                           : domain::AuditOutcome::kDenied;
      (void)options_.audit->Record(*realm->trail_store, event);
    }
    if (options_.sign_in_log == nullptr) return;
    (void)options_.sign_in_log->Record({"project:" + realm->project_id, coll.id,
                                        std::string(identity), std::move(record_id),
                                        std::string(outcome), client.address, client.user_agent,
                                        now});
  };
  if (auto open = CheckSignInThrottles(throttle_, addresses, identity_key, address_key, now);
      !open) {
    log("locked", "");
    return std::unexpected(std::move(open.error()));
  }
  std::string attempted_record;
  auto failed = [&](std::string detail) {
    throttle_.RecordFailure(identity_key, now);
    addresses.RecordFailure(address_key, now);
    log("failure", attempted_record);
    Error error = Error::Make(ErrorCode::kInvalidArgument, std::string(kFailed));
    error.internal = std::move(detail);
    return std::unexpected(std::move(error));
  };
  if (identity.empty() || password.empty()) {
    Error error = Error::Make(ErrorCode::kInvalidArgument, "Failed to authenticate.");
    if (identity.empty()) error.fields.push_back({"identity", "validation_required", "Cannot be blank."});
    if (password.empty()) error.fields.push_back({"password", "validation_required", "Cannot be blank."});
    return std::unexpected(std::move(error));
  }
  if (!coll.auth.password_auth) {
    return Fail(ErrorCode::kInvalidArgument,
                "The collection is not configured to allow password authentication.");
  }

  std::vector<std::string> fields;
  if (!identity_field.empty()) {
    bool known = false;
    for (const auto& field : coll.auth.identity_fields) known |= field == identity_field;
    if (!known) {
      return std::unexpected(Error::Field("identityField", "validation_in_invalid",
                                          "Must be one of the collection's identity fields."));
    }
    fields.emplace_back(identity_field);
  } else {
    fields = coll.auth.identity_fields;
  }

  std::optional<Record> found;
  for (const auto& field : fields) {
    auto where = CompareField(realm->schema, coll, field, "=", identity);
    if (!where) return std::unexpected(std::move(where.error()));
    RecordQuery query;
    query.where = &*where;
    query.limit = 1;
    query.count_total = false;
    auto page = realm->store->Query(coll, query);
    if (!page) return std::unexpected(std::move(page.error()));
    if (!page->items.empty()) {
      found = std::move(page->items.front());
      break;
    }
  }
  if (!found) {
    VerifyDummy(password);
    return failed("unknown identity");
  }
  attempted_record = found->Id(coll);
  const std::string hash = Text(coll, *found, "password");
  auto verified = hash.empty() ? Result<bool>(false) : hasher_.Verify(password, hash);
  if (!verified) {
    if (verified.error().code == ErrorCode::kInvalidArgument) return failed("unusable stored hash");
    return std::unexpected(std::move(verified.error()));
  }
  if (!*verified) return failed("wrong password");
  auto allowed = PassesAuthRule(*realm, *found);
  if (!allowed) return std::unexpected(std::move(allowed.error()));
  if (!*allowed) return failed("the authRule refused the record");

  throttle_.RecordSuccess(identity_key, now);
  log("success", attempted_record);
  // A hash made under an older, weaker policy is replaced now that the password is known. The
  // tokenKey stays: the password did not change. Best effort: signing in does not depend on it.
  if (hasher_.NeedsRehash(hash)) {
    if (auto fresh = hasher_.Hash(password)) {
      const std::string id = found->Id(coll);
      AuditEntry base = AuditBase(*realm, id, client);
      base.action = "auth.rehash";
      AuditTrail* trail = realm->trail_store == realm->store ? options_.audit : nullptr;
      (void)WriteAudited(*realm->store, trail, base, [&](RecordTransaction& tx) -> Result<void> {
        auto current = tx.Find(coll, id);
        if (!current || !*current || Text(coll, **current, "password") != hash) return {};
        auto index = coll.FieldIndex("password");
        if (!index) return {};
        (*current)->values[*index] = JsonValue::String(*fresh);
        return tx.Update(coll, **current);
      });
    }
  }
  return Issue(*realm, std::move(*found));
}

Result<AuthResult> Authenticate::Refresh(std::string_view project, std::string_view collection,
                                         const Caller& caller) {
  return Refresh(project, collection, caller, std::nullopt);
}

Result<AuthResult> Authenticate::Refresh(std::string_view project, std::string_view collection,
                                         const Caller& caller, std::optional<std::string> role) {
  if (!caller.request.auth || caller.request.auth->collection == nullptr) {
    return std::unexpected(Unauthenticated("auth-refresh without an identity"));
  }
  auto realm = Find(project, collection);
  if (!realm) return std::unexpected(std::move(realm.error()));
  if (caller.request.auth->collection->id != realm->collection->id) {
    return Fail(ErrorCode::kPermissionDenied,
                "The token does not belong to a record of this collection.");
  }
  const std::string id = caller.request.auth->record.Id(*caller.request.auth->collection);
  auto current = realm->store->Get(*realm->collection, id, nullptr);
  if (!current) return std::unexpected(std::move(current.error()));
  if (!*current) return std::unexpected(Unauthenticated("the record is gone"));
  auto allowed = PassesAuthRule(*realm, **current);
  if (!allowed) return std::unexpected(std::move(allowed.error()));
  if (!*allowed) return Fail(ErrorCode::kPermissionDenied, "The authRule does not allow this record.");
  std::string acting = role ? *role : caller.active_role;
  if (!acting.empty()) {
    const auto held = RecordRoles(*realm->collection, **current);
    if (std::find(held.begin(), held.end(), acting) == held.end()) {
      if (!role) acting.clear();  // a role lost since: the new token acts with all that remain
      else return Fail(Error::Field("role", "validation_invalid_value", "You do not hold this role."));
    }
  }
  return Issue(*realm, std::move(**current), std::move(acting));
}

Result<AuthMethods> Authenticate::Methods(std::string_view project, std::string_view collection) {
  auto realm = Find(project, collection);
  if (!realm) return std::unexpected(std::move(realm.error()));
  AuthMethods methods;
  methods.password = realm->collection->auth.password_auth;
  methods.identity_fields = realm->collection->auth.identity_fields;
  return methods;
}

Result<Caller> Authenticate::Identify(std::string_view project, std::string_view token) {
  auto claims = signer_.Verify(token);
  if (!claims) return std::unexpected(Unauthenticated(claims.error().internal));
  std::shared_ptr<ProjectStore> store;
  domain::VerifyPolicy policy;
  if (project.empty()) {
    policy.expected_aud = std::string(kPlatformAudience);
  } else {
    auto entry = projects_.Find(project);
    if (!entry) return std::unexpected(std::move(entry.error()));
    policy.expected_aud = Audience(entry->project);
    store = entry->store;
  }
  policy.expected_iss = options_.issuer;
  policy.max_skew = options_.max_skew;
  if (auto valid = domain::CheckClaims(*claims, policy, clock_.Now()); !valid) {
    return std::unexpected(Unauthenticated(valid.error().internal));
  }
  if (claims->type != "auth") return std::unexpected(Unauthenticated("not an auth token"));

  const bool superuser = claims->collection_id == domain::kSuperusersCollectionId;
  if (project.empty() && !superuser) {
    return std::unexpected(Unauthenticated("only superusers hold platform auth tokens"));
  }
  if (superuser) {
    auto platform = platform_.Store();
    if (!platform) return std::unexpected(std::move(platform.error()));
    store = std::move(*platform);
  }
  auto schema = store->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  const Collection* coll = (*schema)->FindById(claims->collection_id);
  if (coll == nullptr || coll->type != domain::CollectionType::kAuth) {
    return std::unexpected(Unauthenticated("unknown auth collection"));
  }
  auto record = store->Get(*coll, claims->sub, nullptr);
  if (!record) return std::unexpected(std::move(record.error()));
  if (!*record) return std::unexpected(Unauthenticated("unknown record"));
  if (claims->key_binding.empty() ||
      !ConstantTimeEquals(claims->key_binding, signer_.Bind(Text(*coll, **record, "tokenKey")))) {
    return std::unexpected(Unauthenticated("the record's tokenKey changed"));
  }
  Caller caller;
  caller.superuser = superuser;
  caller.active_role = claims->role;
  std::vector<std::string> roles = RecordRoles(*coll, **record);
  if (!claims->role.empty()) {
    // Acting with one role: only it counts, and only while the record still holds it.
    const bool held = std::find(roles.begin(), roles.end(), claims->role) != roles.end();
    roles = held ? std::vector<std::string>{claims->role} : std::vector<std::string>{};
  }
  caller.request.auth = filter::AuthIdentity{coll, std::move(**record), std::move(roles)};
  caller.auth_schema = std::move(*schema);
  return caller;
}

}  // namespace socle::application
