// The platform store's own changes in its audit trail: API keys (ManageApiKeys), superusers
// (ManageSuperusers), signing keys (ManageSigningKeys), and members and their sessions
// (PlatformSessions), over the memory stores with the real SHA-256, Argon2id hasher, Ed25519
// signer and AES-GCM sealer. Each action leaves its event with its owner, actor, origin and
// target; no secret (API key, refresh or access token, password, password hash, tokenKey, key
// binding, sealed seed) appears anywhere in any stored event; a change whose event cannot be
// written does not happen; and the chain verifies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "application/data_world.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/crypto/secret_box.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_signing_keys.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/domain/audit.hpp"
#include "socle/domain/login_throttle.hpp"
#include "support/forwarding_project_store.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::crypto::Argon2PasswordHasher;
using adapters::crypto::Argon2Policy;
using adapters::crypto::Ed25519TokenSigner;
using adapters::crypto::SecretBox;
using application::AuditContext;
using application::ClientInfo;
using application::PlatformStore;
using application::PlatformTokens;
using application::StoredAuditEvent;

namespace {

constexpr std::string_view kAda = "ada@example.com";
constexpr std::string_view kAdaPassword = "velvet-otter-quarry-41";
constexpr std::string_view kNewPassword = "lantern-moss-harbour-87";
constexpr std::string_view kWrongPassword = "copper-heron-meadow-19";
constexpr std::string_view kStranger = "nobody-here@example.org";
constexpr std::string_view kRoot = "root@example.com";
constexpr std::string_view kRootPassword = "granite-kettle-swift-55";
constexpr std::string_view kRootNewPassword = "amber-falcon-river-73";

std::string Sha256Hex(std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
}

std::string Describe(const Error& error) {
  std::string out = std::string(ToString(error.code)) + ": " + error.message;
  for (const auto& f : error.fields) out += " | " + f.field + " " + f.code;
  if (!error.internal.empty()) out += " (" + error.internal + ")";
  return out;
}

LoginThrottle MustThrottle() {
  LoginThrottleOptions options;
  options.failure_factor = 50;
  options.exponential_after = 0;
  options.quick_login_check = std::chrono::milliseconds(0);
  auto throttle = LoginThrottle::Create(options);
  REQUIRE(throttle);
  return std::move(*throttle);
}

Argon2PasswordHasher MustHasher(application::RandomSource& random, Argon2Policy policy = {}) {
  auto hasher = Argon2PasswordHasher::Create(policy, random);
  REQUIRE(hasher);
  return std::move(*hasher);
}

SecretBox MustBox(application::RandomSource& random) {
  std::array<std::uint8_t, SecretBox::kKeySize> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(7 + i);
  auto box = SecretBox::Create(key, {}, random);
  REQUIRE(box);
  return std::move(*box);
}

AuditContext MemberContext(std::string id) {
  AuditContext context;
  context.actor = {AuditActorKind::kMember, std::move(id)};
  context.origin.request_id = "req-17";
  context.origin.client_address = "203.0.113.9";
  context.origin.user_agent = "console/2";
  return context;
}

AuditContext SystemContext(std::string component) {
  AuditContext context;
  context.actor = {AuditActorKind::kSystem, std::move(component)};
  return context;
}

const ClientInfo kBrowser{"198.51.100.7", "browser/1"};

// A transaction whose audit appends fail, as a trail that cannot be written: what the work
// did must then be undone with it.
class NoAuditTransaction final : public application::RecordTransaction {
 public:
  explicit NoAuditTransaction(application::RecordTransaction& inner) : inner_(inner) {}
  Result<std::optional<Record>> Find(const Collection& c, std::string_view id) override {
    return inner_.Find(c, id);
  }
  Result<std::size_t> CountExisting(const Collection& c,
                                    const std::vector<std::string>& ids) override {
    return inner_.CountExisting(c, ids);
  }
  Result<application::RecordPage> Query(const Collection& c,
                                        const application::RecordQuery& query) override {
    return inner_.Query(c, query);
  }
  Result<bool> Matches(const Collection& c, std::string_view id,
                       const filter::ResolvedFilter& where) override {
    return inner_.Matches(c, id, where);
  }
  Result<void> Insert(const Collection& c, const Record& r) override { return inner_.Insert(c, r); }
  Result<void> Update(const Collection& c, const Record& r) override { return inner_.Update(c, r); }
  Result<void> Delete(const Collection& c, std::string_view id) override {
    return inner_.Delete(c, id);
  }
  Result<AuditHead> LockAuditHead() override { return inner_.LockAuditHead(); }
  Result<void> AppendAudit(const AuditEvent&, const std::vector<AuditPersonal>&) override {
    return Fail(ErrorCode::kUnavailable, "The audit trail cannot be written.");
  }

 private:
  application::RecordTransaction& inner_;
};

class AuditFailingStore final : public testing::ForwardingProjectStore {
 public:
  AuditFailingStore(std::shared_ptr<application::ProjectStore> inner, const std::atomic<bool>& fail)
      : ForwardingProjectStore(std::move(inner)), fail_(fail) {}
  Result<void> Write(
      const std::function<Result<void>(application::RecordTransaction&)>& work) override {
    if (!fail_) return inner().Write(work);
    return inner().Write([&](application::RecordTransaction& tx) {
      NoAuditTransaction failing(tx);
      return work(failing);
    });
  }

 private:
  const std::atomic<bool>& fail_;
};

class AuditFailingStores final : public application::ProjectStores {
 public:
  explicit AuditFailingStores(application::ProjectStores& inner) : inner_(inner) {}
  Result<std::shared_ptr<application::ProjectStore>> Open(const Project& project) override {
    auto opened = inner_.Open(project);
    if (!opened) return opened;
    return std::shared_ptr<application::ProjectStore>(
        std::make_shared<AuditFailingStore>(std::move(*opened), fail_audit));
  }
  void Close(const Id& project_id) override { inner_.Close(project_id); }

  std::atomic<bool> fail_audit{false};

 private:
  application::ProjectStores& inner_;
};

// Organisation acme with project shop (DataWorld), and the platform's use cases writing to one
// trail.
struct World : testing::DataWorld {
  World() {
    REQUIRE(signer.Generate("k1", random));
    auto entry = directory.Find("shop");
    REQUIRE(entry);
    shop_id = entry->project.id.str();
    acme_id = entry->project.org_id.str();
  }

  std::shared_ptr<application::ProjectStore> Store() {
    auto store = platform.Store();
    REQUIRE(store);
    return *store;
  }

  // Every stored event of the platform store, chain by chain, in sequence order.
  std::vector<StoredAuditEvent> Events() {
    auto store = Store();
    auto heads = store->AuditHeads();
    REQUIRE(heads);
    std::vector<StoredAuditEvent> out;
    for (const auto& head : *heads) {
      auto chain = store->AuditChain(head.lane, 0, 100'000);
      REQUIRE(chain);
      out.insert(out.end(), chain->begin(), chain->end());
    }
    return out;
  }

  // The events after the first `from`, as Events() orders them.
  std::vector<StoredAuditEvent> EventsSince(std::size_t from) {
    auto events = Events();
    REQUIRE(events.size() >= from);
    return {events.begin() + static_cast<std::ptrdiff_t>(from), events.end()};
  }

  // Each chain checked from its first event: links, hashes and every personal part.
  void Verify() {
    auto store = Store();
    auto heads = store->AuditHeads();
    REQUIRE(heads);
    REQUIRE_FALSE(heads->empty());
    for (const auto& head : *heads) {
      auto chain = store->AuditChain(head.lane, 0, 100'000);
      REQUIRE(chain);
      AuditChainVerifier verifier(head.lane, &Sha256Hex, std::nullopt);
      for (const auto& stored : *chain) {
        verifier.Next(stored.event);
        for (const auto& part : stored.personal) verifier.Personal(stored.event, part);
      }
      const auto broken = verifier.Finish();
      INFO(verifier.detail());
      CHECK_FALSE(broken.has_value());
      CHECK(verifier.events() == head.seq);
    }
  }

  // A stored record's field, hidden ones included.
  std::string StoredText(std::string_view collection_id, std::string_view id,
                         std::string_view field) {
    auto store = Store();
    auto schema = store->Schema();
    REQUIRE(schema);
    const Collection* c = (*schema)->FindById(collection_id);
    REQUIRE(c != nullptr);
    auto record = store->Get(*c, id, nullptr);
    REQUIRE(record);
    REQUIRE(record->has_value());
    const JsonValue* value = (*record)->Get(*c, field);
    REQUIRE(value != nullptr);
    REQUIRE(value->type() == JsonValue::Type::kString);
    return value->AsString();
  }

  PlatformTokens MustLogin(std::string_view email, std::string_view password) {
    auto tokens = sessions.Login(email, password, kBrowser, "req-login");
    if (!tokens) FAIL(Describe(tokens.error()));
    return *tokens;
  }

  AuditFailingStores platform_stores{stores};
  PlatformStore platform{platform_stores, clock};
  application::AuditTrail trail{clock, random, &Sha256Hex};
  Ed25519TokenSigner signer;
  Argon2PasswordHasher hasher = MustHasher(random);
  LoginThrottle identities = MustThrottle();
  application::ManageApiKeys keys{directory, platform, signer, clock, random, &trail};
  application::ManageSuperusers superusers{platform, hasher, clock, random, {}, &trail};
  application::PlatformSessions sessions{platform, signer, hasher, clock,  random, identities,
                                         nullptr,  {},     {},     &trail};
  std::string shop_id, acme_id;
};

// Everything an event keeps, in the chain and beside it.
std::string AllText(const std::vector<StoredAuditEvent>& events) {
  std::string out;
  for (const auto& stored : events) {
    out += CanonicalAuditEvent(stored.event);
    for (const auto& part : stored.personal) out += part.subject + part.data;
  }
  return out;
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The one event of `events`, by value: callers pass vectors that live for one statement.
StoredAuditEvent Only(const std::vector<StoredAuditEvent>& events) {
  REQUIRE(events.size() == 1);
  return events.front();
}

const AuditPersonal* Part(const StoredAuditEvent& stored, AuditPart kind) {
  for (const auto& part : stored.personal) {
    if (part.part == kind) return &part;
  }
  return nullptr;
}

std::vector<std::string> Actions(const std::vector<StoredAuditEvent>& events) {
  std::vector<std::string> out;
  for (const auto& stored : events) out.push_back(stored.event.action);
  return out;
}

}  // namespace

TEST_CASE("platform audit: API keys' creation, revocation and deletion, never their secret") {
  World w;
  const AuditContext by = MemberContext("mem1");

  auto made = w.keys.Create("shop", "ci", {"posts:read"}, std::nullopt, by);
  if (!made) FAIL(Describe(made.error()));
  const std::string binding = w.StoredText("pbc_api_keys", made->info.id, "binding");
  {
    const auto& stored = Only(w.Events());
    const AuditEvent& e = stored.event;
    CHECK(e.action == "api_key.create");
    CHECK(e.outcome == AuditOutcome::kSuccess);
    CHECK(e.org_id == w.acme_id);
    CHECK(e.project_id == w.shop_id);
    CHECK(e.actor_kind == AuditActorKind::kMember);
    CHECK(e.actor_id == "mem1");
    CHECK(e.request_id == "req-17");
    CHECK(e.target_kind == "record");
    CHECK(e.target_collection == "pbc_api_keys");
    CHECK(e.target_id == made->info.id);
    CHECK(Contains(e.changes, R"({"field":"name","before":null,"after":"ci"})"));
    CHECK(Contains(e.changes, R"({"field":"binding","hidden":true})"));
    CHECK(Contains(e.changes, R"("posts:list")"));
    // The caller's address is personal: beside the chain, under the actor's id.
    const AuditPersonal* actor = Part(stored, AuditPart::kActor);
    REQUIRE(actor != nullptr);
    CHECK(actor->subject == "mem1");
    CHECK(Contains(actor->data, "203.0.113.9"));
    CHECK_FALSE(Contains(e.changes, "203.0.113.9"));
  }

  SECTION("a key's uses are counted and flushed without an event") {
    REQUIRE(w.keys.Identify("shop", made->secret));
    REQUIRE(w.keys.Flush());
    CHECK(w.Events().size() == 1);
  }

  SECTION("revoking records once; an unknown key records nothing") {
    const std::size_t before = w.Events().size();
    REQUIRE(w.keys.Revoke("shop", made->info.id, by));
    const auto& revoked = Only(w.EventsSince(before)).event;
    CHECK(revoked.action == "api_key.revoke");
    CHECK(revoked.org_id == w.acme_id);
    CHECK(revoked.project_id == w.shop_id);
    CHECK(revoked.target_id == made->info.id);
    CHECK(Contains(revoked.changes, R"("field":"revoked")"));
    // The binding did not change: the revocation does not even name it.
    CHECK_FALSE(Contains(revoked.changes, "binding"));
    REQUIRE(w.keys.Revoke("shop", made->info.id, by));
    auto unknown = w.keys.Revoke("shop", "nosuchkey000000", by);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == ErrorCode::kNotFound);
    CHECK(w.Events().size() == before + 1);
  }

  SECTION("an organisation's keys name the organisation and no project") {
    const Id acme = Id::Parse(w.acme_id).value();
    const std::size_t before = w.Events().size();
    auto org_key = w.keys.CreateForOrganisation(acme, "deploy", std::nullopt, by);
    REQUIRE(org_key);
    REQUIRE(w.keys.RevokeForOrganisation(acme, org_key->info.id, by));
    const auto events = w.EventsSince(before);
    REQUIRE(Actions(events) == std::vector<std::string>{"api_key.create", "api_key.revoke"});
    for (const auto& stored : events) {
      CHECK(stored.event.org_id == w.acme_id);
      CHECK(stored.event.project_id.empty());
      CHECK(stored.event.target_id == org_key->info.id);
    }
    CHECK_FALSE(Contains(AllText(events), org_key->secret));
    CHECK_FALSE(
        Contains(AllText(events), w.StoredText("pbc_api_keys", org_key->info.id, "binding")));
  }

  SECTION("a purge's deletions are the purge's") {
    const std::size_t before = w.Events().size();
    REQUIRE(w.keys.DeleteForProject(Id::Parse(w.shop_id).value(), SystemContext("purge")) == 1);
    const auto& deleted = Only(w.EventsSince(before)).event;
    CHECK(deleted.action == "api_key.delete");
    CHECK(deleted.actor_kind == AuditActorKind::kSystem);
    CHECK(deleted.actor_id == "purge");
    CHECK(deleted.project_id == w.shop_id);
    CHECK(deleted.target_id == made->info.id);
    CHECK(Contains(deleted.changes, R"({"field":"binding","hidden":true})"));
  }

  const std::string all = AllText(w.Events());
  CHECK_FALSE(Contains(all, made->secret));
  // The part of the secret that is not its shown prefix, alone.
  CHECK_FALSE(Contains(all, made->secret.substr(12)));
  CHECK_FALSE(Contains(all, binding));
  w.Verify();
}

TEST_CASE("platform audit: a key whose event cannot be written is not made") {
  World w;
  w.platform_stores.fail_audit = true;
  auto made = w.keys.Create("shop", "ci", {"posts:read"}, std::nullopt, MemberContext("mem1"));
  REQUIRE_FALSE(made);
  CHECK(made.error().code == ErrorCode::kUnavailable);
  w.platform_stores.fail_audit = false;
  auto listed = w.keys.List("shop");
  REQUIRE(listed);
  CHECK(listed->empty());
  CHECK(w.Events().empty());
}

TEST_CASE("platform audit: superusers' upserts, the e-mail erasable, the password nowhere") {
  World w;
  auto created = w.superusers.Upsert(kRoot, kRootPassword, SystemContext("cli"));
  if (!created) FAIL(Describe(created.error()));
  REQUIRE(created->created);
  const std::string first_hash = w.StoredText(kSuperusersCollectionId, created->id, "password");
  const std::string first_key = w.StoredText(kSuperusersCollectionId, created->id, "tokenKey");
  auto updated = w.superusers.Upsert(kRoot, kRootNewPassword, SystemContext("cli"));
  REQUIRE(updated);
  CHECK_FALSE(updated->created);

  const auto events = w.Events();
  REQUIRE(Actions(events) == std::vector<std::string>{"superuser.upsert", "superuser.upsert"});
  for (const auto& stored : events) {
    const AuditEvent& e = stored.event;
    CHECK(e.actor_kind == AuditActorKind::kSystem);
    CHECK(e.actor_id == "cli");
    CHECK(e.org_id.empty());
    CHECK(e.project_id.empty());
    CHECK(e.target_collection == kSuperusersCollectionId);
    CHECK(e.target_id == created->id);
    CHECK(Contains(e.changes, R"({"field":"password","hidden":true})"));
    CHECK(Contains(e.changes, R"({"field":"tokenKey","hidden":true})"));
    CHECK_FALSE(Contains(e.changes, kRoot));
  }
  // Created: the e-mail is in the target's erasable part, the record's id its subject.
  CHECK(Contains(events[0].event.changes, R"({"field":"email","personal":true})"));
  const AuditPersonal* target = Part(events[0], AuditPart::kTarget);
  REQUIRE(target != nullptr);
  CHECK(target->subject == created->id);
  CHECK(Contains(target->data, kRoot));
  // Updated: the e-mail did not change and is not mentioned.
  CHECK_FALSE(Contains(events[1].event.changes, "email"));

  const std::string all = AllText(events);
  for (std::string_view secret : {kRootPassword, kRootNewPassword, std::string_view(first_hash),
                                  std::string_view(first_key)}) {
    CHECK_FALSE(Contains(all, secret));
  }
  CHECK_FALSE(Contains(all, w.StoredText(kSuperusersCollectionId, created->id, "password")));
  CHECK_FALSE(Contains(all, w.StoredText(kSuperusersCollectionId, created->id, "tokenKey")));
  w.Verify();
}

TEST_CASE("platform audit: a signing key's rotation shows its kid, never its sealed seed") {
  World w;
  Ed25519TokenSigner ring;
  SecretBox box = MustBox(w.random);
  application::ManageSigningKeys signing{w.platform, ring, box, w.clock, w.random,
                                         std::chrono::hours(24), &w.trail};
  auto kid = signing.Rotate(SystemContext("cli"));
  if (!kid) FAIL(Describe(kid.error()));
  // Loading an existing ring writes nothing.
  REQUIRE(signing.Load(SystemContext("server")));

  const auto events = w.Events();
  const AuditEvent& e = Only(events).event;
  CHECK(e.action == "signing_key.rotate");
  CHECK(e.actor_kind == AuditActorKind::kSystem);
  CHECK(e.actor_id == "cli");
  CHECK(e.target_collection == "pbc_signing_keys");
  CHECK(Contains(e.changes, R"({"field":"kid","before":null,"after":")" + *kid + "\"}"));
  CHECK(Contains(e.changes, R"({"field":"sealedSeed","hidden":true})"));
  CHECK_FALSE(
      Contains(AllText(events), w.StoredText("pbc_signing_keys", e.target_id, "sealedSeed")));
  w.Verify();
}

TEST_CASE("platform audit: members' sign-ins, refreshes, sign-outs and revocations") {
  World w;
  auto upserted = w.sessions.UpsertMember(kAda, kAdaPassword, "Ada", SystemContext("cli"));
  if (!upserted) FAIL(Describe(upserted.error()));
  const std::string ada = upserted->id;
  {
    const auto& stored = Only(w.Events());
    CHECK(stored.event.action == "member.upsert");
    CHECK(stored.event.actor_id == "cli");
    CHECK(stored.event.target_collection == PlatformStore::kMembersCollectionId);
    CHECK(stored.event.target_id == ada);
    CHECK(Contains(stored.event.changes, R"({"field":"email","personal":true})"));
    CHECK(Contains(stored.event.changes, R"({"field":"password","hidden":true})"));
    CHECK(Contains(stored.event.changes, R"({"field":"name","before":null,"after":"Ada"})"));
  }
  std::vector<std::string> secrets{std::string(kAdaPassword), std::string(kWrongPassword),
                                   std::string(kNewPassword)};
  secrets.push_back(w.StoredText(PlatformStore::kMembersCollectionId, ada, "password"));
  secrets.push_back(w.StoredText(PlatformStore::kMembersCollectionId, ada, "tokenKey"));
  auto keep = [&](const PlatformTokens& tokens) {
    secrets.push_back(tokens.access_token);
    secrets.push_back(tokens.refresh_token);
    secrets.push_back(w.signer.Bind(tokens.refresh_token));
  };
  std::size_t seen = w.Events().size();
  auto next = [&] {
    auto events = w.EventsSince(seen);
    seen += events.size();
    return events;
  };

  // A wrong password: a guest acting on ada; what was typed is nowhere.
  REQUIRE_FALSE(w.sessions.Login(kAda, kWrongPassword, kBrowser, "req-bad"));
  {
    const auto events = next();
    const AuditEvent& e = Only(events).event;
    CHECK(e.action == "auth.sign_in");
    CHECK(e.outcome == AuditOutcome::kDenied);
    CHECK(e.actor_kind == AuditActorKind::kGuest);
    CHECK(e.actor_id.empty());
    CHECK(e.target_collection == PlatformStore::kMembersCollectionId);
    CHECK(e.target_id == ada);
    CHECK(e.request_id == "req-bad");
    CHECK(e.changes == "[]");
    CHECK_FALSE(Contains(AllText(events), kAda));
    const AuditPersonal* actor = Part(events.front(), AuditPart::kActor);
    REQUIRE(actor != nullptr);
    CHECK(Contains(actor->data, "198.51.100.7"));
    CHECK(Contains(actor->data, "browser/1"));
  }
  // An e-mail that names no one: no target, and the e-mail is not kept.
  REQUIRE_FALSE(w.sessions.Login(kStranger, kWrongPassword, kBrowser));
  {
    const auto events = next();
    const AuditEvent& e = Only(events).event;
    CHECK(e.action == "auth.sign_in");
    CHECK(e.outcome == AuditOutcome::kDenied);
    CHECK(e.target_id.empty());
    CHECK_FALSE(Contains(AllText(events), kStranger));
  }
  // Blank input is refused before any attempt: nothing to record.
  REQUIRE_FALSE(w.sessions.Login(kAda, "", kBrowser));
  CHECK(next().empty());

  // Success: the member acts on itself and the event names the session it starts.
  const PlatformTokens first = w.MustLogin(kAda, kAdaPassword);
  keep(first);
  auto listed = w.sessions.Sessions(ada);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  const std::string family = listed->front().id;
  {
    const auto events = next();
    const AuditEvent& e = Only(events).event;
    CHECK(e.action == "auth.sign_in");
    CHECK(e.outcome == AuditOutcome::kSuccess);
    CHECK(e.actor_kind == AuditActorKind::kMember);
    CHECK(e.actor_id == ada);
    CHECK(e.target_id == ada);
    CHECK(e.request_id == "req-login");
    CHECK(e.changes == R"([{"field":"session","before":null,"after":")" + family + "\"}]");
    const AuditPersonal* actor = Part(events.front(), AuditPart::kActor);
    REQUIRE(actor != nullptr);
    CHECK(actor->subject == ada);
  }

  // A refresh: the session, by its family.
  auto second = w.sessions.Refresh(first.refresh_token, kBrowser, std::nullopt, {}, "req-refresh");
  REQUIRE(second);
  keep(*second);
  {
    const AuditEvent& e = Only(next()).event;
    CHECK(e.action == "auth.refresh");
    CHECK(e.outcome == AuditOutcome::kSuccess);
    CHECK(e.actor_id == ada);
    CHECK(e.target_kind == "session");
    CHECK(e.target_id == family);
    CHECK(e.request_id == "req-refresh");
    CHECK(e.changes == "[]");
  }
  // Switching roles shows the role's change.
  auto switched = w.sessions.Refresh(second->refresh_token, kBrowser, "viewer", ada);
  REQUIRE(switched);
  keep(*switched);
  CHECK(Only(next()).event.changes == R"([{"field":"role","before":"","after":"viewer"}])");
  // Refreshes refused before anything is written leave nothing.
  REQUIRE_FALSE(w.sessions.Refresh("rt_" + std::string(50, 'A'), kBrowser));
  CHECK(next().empty());

  // The first token again: a reuse. The family ends with the denied event.
  auto reused = w.sessions.Refresh(first.refresh_token, ClientInfo{"192.0.2.66", "thief/1"});
  REQUIRE_FALSE(reused);
  CHECK(reused.error().code == ErrorCode::kUnauthenticated);
  {
    const auto events = next();
    const AuditEvent& e = Only(events).event;
    CHECK(e.action == "auth.refresh_reuse");
    CHECK(e.outcome == AuditOutcome::kDenied);
    CHECK(e.actor_kind == AuditActorKind::kGuest);
    CHECK(e.target_kind == "session");
    CHECK(e.target_id == family);
    CHECK(e.changes == R"([{"field":"member","before":null,"after":")" + ada + "\"}]");
    const AuditPersonal* actor = Part(events.front(), AuditPart::kActor);
    REQUIRE(actor != nullptr);
    CHECK(Contains(actor->data, "192.0.2.66"));
  }
  listed = w.sessions.Sessions(ada);
  REQUIRE(listed);
  CHECK(listed->empty());
  // Revoked already: replaying it changes nothing more and is not recorded again.
  REQUIRE_FALSE(w.sessions.Refresh(first.refresh_token, kBrowser));
  CHECK(next().empty());

  // Signing out, once.
  const PlatformTokens other = w.MustLogin(kAda, kAdaPassword);
  keep(other);
  (void)next();
  REQUIRE(w.sessions.Logout(other.refresh_token, kBrowser, "req-out"));
  {
    const AuditEvent& e = Only(next()).event;
    CHECK(e.action == "auth.sign_out");
    CHECK(e.actor_kind == AuditActorKind::kMember);
    CHECK(e.actor_id == ada);
    CHECK(e.target_kind == "session");
    CHECK(e.request_id == "req-out");
  }
  REQUIRE(w.sessions.Logout(other.refresh_token, kBrowser));
  CHECK(next().empty());

  // Revoking a session from the list, once; another's id is not found and leaves nothing.
  const PlatformTokens third = w.MustLogin(kAda, kAdaPassword);
  keep(third);
  (void)next();
  listed = w.sessions.Sessions(ada);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  const std::string third_family = listed->front().id;
  CHECK_FALSE(w.sessions.RevokeSession("someoneelse0000", third_family, kBrowser));
  CHECK(next().empty());
  REQUIRE(w.sessions.RevokeSession(ada, third_family, kBrowser, "req-revoke"));
  {
    const AuditEvent& e = Only(next()).event;
    CHECK(e.action == "session.revoke");
    CHECK(e.actor_id == ada);
    CHECK(e.target_id == third_family);
    CHECK(e.request_id == "req-revoke");
  }
  REQUIRE(w.sessions.RevokeSession(ada, third_family, kBrowser));
  CHECK(next().empty());

  // A new password revokes the live sessions in the same transaction, each recorded with it.
  const PlatformTokens fourth = w.MustLogin(kAda, kAdaPassword);
  keep(fourth);
  (void)next();
  REQUIRE(w.sessions.UpsertMember(kAda, kNewPassword, "", SystemContext("cli")));
  {
    const auto events = next();
    REQUIRE(events.size() == 2);
    for (const auto& stored : events) CHECK(stored.event.action == "member.upsert");
    CHECK(events[0].event.target_id == ada);
    CHECK(Contains(events[0].event.changes, R"({"field":"password","hidden":true})"));
    CHECK(events[1].event.target_collection == PlatformStore::kSessionsCollectionId);
    CHECK(Contains(events[1].event.changes, R"("field":"revoked")"));
  }
  secrets.push_back(w.StoredText(PlatformStore::kMembersCollectionId, ada, "password"));
  secrets.push_back(w.StoredText(PlatformStore::kMembersCollectionId, ada, "tokenKey"));

  // The purge of spent tokens is bookkeeping: not recorded.
  w.clock.Advance(40LL * 86'400 * 1'000'000);
  auto purged = w.sessions.Purge(w.clock.Now());
  REQUIRE(purged);
  CHECK(*purged > 0);
  CHECK(next().empty());

  const std::string all = AllText(w.Events());
  for (const auto& secret : secrets) {
    INFO(secret);
    CHECK_FALSE(Contains(all, secret));
  }
  w.Verify();
}

TEST_CASE("platform audit: a reuse's event and its family's revocation commit together") {
  World w;
  auto upserted = w.sessions.UpsertMember(kAda, kAdaPassword, "Ada", SystemContext("cli"));
  REQUIRE(upserted);
  const PlatformTokens first = w.MustLogin(kAda, kAdaPassword);
  auto second = w.sessions.Refresh(first.refresh_token, kBrowser);
  REQUIRE(second);
  const std::size_t before = w.Events().size();

  // The trail cannot be written: the family is not revoked either, and the caller is refused.
  w.platform_stores.fail_audit = true;
  auto failed = w.sessions.Refresh(first.refresh_token, kBrowser);
  w.platform_stores.fail_audit = false;
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == ErrorCode::kUnavailable);
  CHECK(w.Events().size() == before);
  auto listed = w.sessions.Sessions(upserted->id);
  REQUIRE(listed);
  CHECK(listed->size() == 1);

  // It can: both.
  REQUIRE_FALSE(w.sessions.Refresh(first.refresh_token, kBrowser));
  const auto& e = Only(w.EventsSince(before)).event;
  CHECK(e.action == "auth.refresh_reuse");
  CHECK(e.outcome == AuditOutcome::kDenied);
  listed = w.sessions.Sessions(upserted->id);
  REQUIRE(listed);
  CHECK(listed->empty());
  auto refused = w.sessions.Refresh(second->refresh_token, kBrowser);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kUnauthenticated);
  w.Verify();
}

TEST_CASE("platform audit: a sign-in whose event cannot be written starts no session") {
  World w;
  auto upserted = w.sessions.UpsertMember(kAda, kAdaPassword, "Ada", SystemContext("cli"));
  REQUIRE(upserted);
  w.platform_stores.fail_audit = true;
  auto tokens = w.sessions.Login(kAda, kAdaPassword, kBrowser);
  w.platform_stores.fail_audit = false;
  REQUIRE_FALSE(tokens);
  auto listed = w.sessions.Sessions(upserted->id);
  REQUIRE(listed);
  CHECK(listed->empty());
}

TEST_CASE("platform audit: a password rehashed at sign-in is recorded, the hashes nowhere") {
  World w;
  // Made under the default policy; signing in under a costlier one rehashes it.
  auto upserted = w.sessions.UpsertMember(kAda, kAdaPassword, "Ada", SystemContext("cli"));
  REQUIRE(upserted);
  Argon2PasswordHasher strong = MustHasher(w.random, Argon2Policy{19456, 3, 1, 32, 16});
  application::PlatformSessions new_sessions{w.platform, w.signer, strong, w.clock, w.random,
                                             w.identities, nullptr, {}, {}, &w.trail};
  const std::string old_hash =
      w.StoredText(PlatformStore::kMembersCollectionId, upserted->id, "password");
  REQUIRE(strong.NeedsRehash(old_hash));
  const std::size_t before = w.Events().size();
  REQUIRE(new_sessions.Login(kAda, kAdaPassword, kBrowser));
  const auto events = w.EventsSince(before);
  REQUIRE(Actions(events) == std::vector<std::string>{"auth.rehash", "auth.sign_in"});
  CHECK(events[0].event.actor_id == upserted->id);
  CHECK(events[0].event.target_id == upserted->id);
  CHECK(events[0].event.changes == R"([{"field":"password","hidden":true}])");
  const std::string new_hash =
      w.StoredText(PlatformStore::kMembersCollectionId, upserted->id, "password");
  CHECK(new_hash != old_hash);
  const std::string all = AllText(w.Events());
  CHECK_FALSE(Contains(all, old_hash));
  CHECK_FALSE(Contains(all, new_hash));
  CHECK_FALSE(Contains(all, kAdaPassword));
  w.Verify();
}
