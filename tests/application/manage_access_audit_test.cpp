// Access management in the platform's audit trail (ManageAccess with a PlatformTrail over the
// memory catalogue, real SHA-256): every change commits with its event on the organisation's
// chain (global flags: the platform's chain), refusals are recorded and change nothing,
// e-mails sit only in the erasable personal parts, and an audit that cannot be written undoes
// the change.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_organisation_keys.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/domain/audit.hpp"
#include "socle/domain/login_throttle.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using namespace socle::domain;
using application::Principal;
using application::StoredAuditEvent;

namespace {

constexpr std::string_view kPassword = "velvet-otter-quarry-41";

std::string Describe(const Error& error) {
  std::string out = std::string(ToString(error.code)) + ": " + error.message;
  for (const auto& f : error.fields) out += " | " + f.field + " " + f.code + " " + f.message;
  return out;
}

template <typename T>
T Must(Result<T> result) {
  if (!result) FAIL(Describe(result.error()));
  return std::move(*result);
}
inline void Must(Result<void> result) {
  if (!result) FAIL(Describe(result.error()));
}

template <typename T>
ErrorCode CodeOf(const Result<T>& result) {
  REQUIRE_FALSE(result);
  return result.error().code;
}

std::string HexSha256(std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

LoginThrottle Throttle() {
  auto throttle = LoginThrottle::Create({});
  REQUIRE(throttle);
  return std::move(*throttle);
}

// A catalogue whose audit chains cannot be written: Audited runs the change and then an audit
// that fails (so the store must undo the change), RecordAudit fails outright. Everything else
// goes to the memory store.
class FailingAuditCatalogue final : public application::CatalogueStore {
 public:
  explicit FailingAuditCatalogue(adapters::memory::MemoryCatalogueStore& inner) : inner_(inner) {}

  Result<application::MigrationReport> Migrate() override { return inner_.Migrate(); }
  Result<void> Ping() override { return inner_.Ping(); }
  Result<void> UpsertRegion(const Region& region) override { return inner_.UpsertRegion(region); }
  Result<Region> GetRegion(const Slug& name) override { return inner_.GetRegion(name); }
  Result<std::vector<Region>> ListRegions() override { return inner_.ListRegions(); }
  Result<void> InsertOrganisation(const Organisation& org) override {
    return inner_.InsertOrganisation(org);
  }
  Result<Organisation> GetOrganisation(const Slug& slug) override {
    return inner_.GetOrganisation(slug);
  }
  Result<Organisation> GetOrganisationById(const Id& id) override {
    return inner_.GetOrganisationById(id);
  }
  Result<PageOf<Organisation>> ListOrganisations(const PageRequest& page) override {
    return inner_.ListOrganisations(page);
  }
  Result<void> UpdateOrganisation(const Organisation& org) override {
    return inner_.UpdateOrganisation(org);
  }
  Result<std::int64_t> DeleteOrganisation(const Id& org_id,
                                          application::DeleteMode mode) override {
    return inner_.DeleteOrganisation(org_id, mode);
  }
  Result<void> InsertProject(const Project& project) override {
    return inner_.InsertProject(project);
  }
  Result<Project> GetProject(const Slug& slug) override { return inner_.GetProject(slug); }
  Result<Project> GetProjectById(const Id& id) override { return inner_.GetProjectById(id); }
  Result<PageOf<Project>> ListProjects(const std::optional<Id>& org_id,
                                       const PageRequest& page) override {
    return inner_.ListProjects(org_id, page);
  }
  Result<void> UpdateProject(const Project& project) override {
    return inner_.UpdateProject(project);
  }
  Result<void> DeleteProject(const Id& project_id) override {
    return inner_.DeleteProject(project_id);
  }
  Result<std::optional<ProjectSettings>> GetProjectSettings(const Id& project_id) override {
    return inner_.GetProjectSettings(project_id);
  }
  Result<void> PutProjectSettings(const Id& project_id, const ProjectSettings& settings,
                                  Timestamp at) override {
    return inner_.PutProjectSettings(project_id, settings, at);
  }

  Result<void> Audited(const std::string& chain, const application::AuditWrite& /*audit*/,
                       const std::function<Result<void>()>& change) override {
    ++audited;
    return inner_.Audited(chain, &Broken, change);
  }
  Result<void> RecordAudit(const std::string& /*chain*/,
                           const application::AuditWrite& /*audit*/) override {
    ++recorded;
    return Fail(ErrorCode::kUnavailable, "the audit chain cannot be written");
  }
  Result<std::vector<application::StoredAuditEvent>> PlatformAuditEvents(
      const std::string& chain, const application::AuditQuery& query) override {
    return inner_.PlatformAuditEvents(chain, query);
  }
  Result<std::vector<domain::AuditCheckpointHead>> PlatformAuditHeads() override {
    return inner_.PlatformAuditHeads();
  }
  Result<std::vector<application::StoredAuditEvent>> PlatformAuditChain(
      const std::string& chain, std::int64_t after_seq, std::int64_t limit) override {
    return inner_.PlatformAuditChain(chain, after_seq, limit);
  }
  Result<std::int64_t> ErasePlatformPersonal(std::string_view subject) override {
    return inner_.ErasePlatformPersonal(subject);
  }

  int audited = 0;
  int recorded = 0;

 private:
  static Result<void> Broken(application::AuditAppender& /*appender*/) {
    return Fail(ErrorCode::kUnavailable, "the audit chain cannot be written");
  }

  adapters::memory::MemoryCatalogueStore& inner_;
};

struct World {
  World() {
    REQUIRE(signer.Generate("k1", random));
    ann = Member("ann@example.com");
    bob = Member("bob@example.com");
    eve = Member("eve@example.org");
    root.kind = Principal::Kind::kSuperuser;
    root.id = "su0000000000001";
    root.email = "root@example.com";
    Must(catalogue.CreateOrganisation(ann, {"acme", std::nullopt, std::nullopt, std::nullopt}));
    Must(catalogue.CreateProject(ann, {"shop", "acme", std::nullopt}));
    Must(catalogue.CreateOrganisation(eve, {"evil", std::nullopt, std::nullopt, std::nullopt}));
    acme = Must(store.GetOrganisation(*Slug::Parse("acme")));
    shop = Must(store.GetProject(*Slug::Parse("shop")));
    // Every call from here on comes from somewhere the events must show.
    ann.origin = {"req-ann", "203.0.113.7", "console/1.0", "quarterly review"};
    bob.origin = {"req-bob", "198.51.100.2", "curl/8", ""};
    eve.origin = {"req-eve", "192.0.2.66", "curl/8", ""};
    root.origin = {"req-root", "127.0.0.1", "socle-cli", ""};
  }

  Principal Member(std::string email) {
    auto made = Must(sessions.UpsertMember(email, kPassword, ""));
    Principal p;
    p.kind = Principal::Kind::kMember;
    p.id = made.id;
    p.email = std::move(email);
    return p;
  }

  // Adds `who` to acme with `role` through an invitation.
  void Join(const Principal& who, std::string_view role) {
    auto invited = Must(access.Invite(ann, "acme", who.email, role, std::nullopt));
    Must(access.AcceptInvitation(who, invited.token, "", ""));
  }

  /// The chain `chain` as stored, oldest first.
  std::vector<StoredAuditEvent> Chain(const std::string& chain) {
    return Must(store.PlatformAuditChain(chain, 0, 10000));
  }
  std::vector<StoredAuditEvent> Acme() { return Chain(acme->id.str()); }

  /// The last event of the chain.
  StoredAuditEvent Last(const std::string& chain) {
    auto events = Chain(chain);
    REQUIRE_FALSE(events.empty());
    return events.back();
  }
  StoredAuditEvent LastOfAcme() { return Last(acme->id.str()); }

  /// Whether the chain, with the personal parts it still holds, verifies.
  bool Verifies(const std::string& chain) {
    AuditChainVerifier verifier(0, &HexSha256, std::nullopt);
    for (const auto& stored : Chain(chain)) {
      if (!verifier.Next(stored.event)) break;
      for (const auto& part : stored.personal) {
        if (!verifier.Personal(stored.event, part)) break;
      }
    }
    auto broken = verifier.Finish();
    if (broken) UNSCOPED_INFO("chain broken: " << ToString(*broken) << " " << verifier.detail());
    return !broken.has_value();
  }

  adapters::memory::MemoryCatalogueStore store;
  adapters::memory::MemoryProjectStores stores;
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  adapters::crypto::Argon2PasswordHasher hasher =
      Must(adapters::crypto::Argon2PasswordHasher::Create({}, random));
  adapters::crypto::Ed25519TokenSigner signer;
  LoginThrottle identities = Throttle();
  application::PlatformStore platform{stores, clock};
  application::PlatformSessions sessions{platform, signer, hasher, clock, random, identities, nullptr};
  application::ManageOrganisations organisations{store, clock, random};
  application::ManageProjects projects{store, clock, random};
  application::AccessControl control{store, clock, {std::chrono::milliseconds(0)}};
  application::PlatformCatalogue catalogue{organisations, projects, store, store,
                                           control, clock, random};
  application::AuditTrail trail{clock, random, &HexSha256};
  application::PlatformTrail platform_trail{store, trail};
  application::ManageAccessOptions options{std::chrono::hours(24), "", "Socle <no-reply@example.com>",
                                           std::chrono::milliseconds(0)};
  application::ManageAccess access{store,  store,   control, sessions, signer,
                                   clock,  random,  nullptr, options,  &platform_trail};
  Principal ann, bob, eve, root;
  std::optional<Organisation> acme;  // set by the constructor
  std::optional<Project> shop;
};

// The common fields of an event a member's call made.
void CheckMade(const AuditEvent& event, const Principal& by, std::string_view action,
               std::string_view target_kind, std::string_view target_id,
               AuditOutcome outcome = AuditOutcome::kSuccess) {
  CHECK(event.action == action);
  CHECK(event.target_kind == target_kind);
  CHECK(event.target_id == target_id);
  CHECK(event.outcome == outcome);
  CHECK(event.actor_kind == (by.kind == Principal::Kind::kSuperuser ? AuditActorKind::kSuperuser
                                                                    : AuditActorKind::kMember));
  CHECK(event.actor_id == by.id);
  CHECK(event.request_id == by.origin.request_id);
  CHECK(event.reason == by.origin.reason);
}

// The actor's personal part (client address, user agent) of an event.
const AuditPersonal* ActorPart(const StoredAuditEvent& stored) {
  for (const auto& part : stored.personal) {
    if (part.part == AuditPart::kActor) return &part;
  }
  return nullptr;
}
const AuditPersonal* TargetPart(const StoredAuditEvent& stored) {
  for (const auto& part : stored.personal) {
    if (part.part == AuditPart::kTarget) return &part;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("access audit: invitations are recorded made, revoked, declined and accepted, tokens never",
          "[application][access][audit]") {
  World w;
  auto invited = Must(w.access.Invite(w.ann, "acme", "Bob@Example.com", "developer", std::nullopt));
  auto made = w.LastOfAcme();
  CheckMade(made.event, w.ann, "invitation.create", "invitation", invited.invitation.id.str());
  CHECK(made.event.org_id == w.acme->id.str());
  CHECK(made.event.project_id.empty());
  CHECK(Contains(made.event.changes, R"({"field":"role","before":null,"after":"developer"})"));
  CHECK(Contains(made.event.changes, R"({"field":"state","before":null,"after":"pending"})"));
  CHECK(Contains(made.event.changes, R"({"field":"email","personal":true})"));
  CHECK_FALSE(Contains(made.event.changes, "bob@example.com"));
  // The origin's client address and user agent go to the actor's erasable part.
  const auto* actor = ActorPart(made);
  REQUIRE(actor != nullptr);
  CHECK(actor->subject == w.ann.id);
  CHECK(Contains(actor->data, "203.0.113.7"));
  CHECK(Contains(actor->data, "console/1.0"));
  CHECK(made.event.actor_personal == HexSha256(actor->data));
  const auto* target = TargetPart(made);
  REQUIRE(target != nullptr);
  CHECK(target->subject == invited.invitation.id.str());
  CHECK(Contains(target->data, "bob@example.com"));

  // On a project: the event says which.
  auto on_shop = Must(w.access.Invite(w.ann, "acme", "dan@example.com", "project.editor", "shop"));
  CHECK(w.LastOfAcme().event.project_id == w.shop->id.str());
  CHECK(Contains(w.LastOfAcme().event.changes,
                 R"({"field":"project","before":null,"after":")" + w.shop->id.str() + "\"}"));

  // Revoked: only the state changes.
  w.clock.Advance(5'000'000);
  Must(w.access.RevokeInvitation(w.ann, "acme", on_shop.invitation.id.str()));
  auto revoked = w.LastOfAcme();
  CheckMade(revoked.event, w.ann, "invitation.revoke", "invitation", on_shop.invitation.id.str());
  CHECK(revoked.event.project_id == w.shop->id.str());
  CHECK(revoked.event.changes == R"([{"field":"state","before":"pending","after":"revoked"}])");

  // Declined by whoever holds the token: a guest, from where the request came.
  auto declined = Must(w.access.Invite(w.ann, "acme", "carl@example.com", "viewer", std::nullopt));
  Must(w.access.DeclineInvitation(declined.token, {"req-decline", "192.0.2.1", "mail-client", ""}));
  auto decline = w.LastOfAcme();
  CHECK(decline.event.action == "invitation.decline");
  CHECK(decline.event.actor_kind == AuditActorKind::kGuest);
  CHECK(decline.event.actor_id.empty());
  CHECK(decline.event.target_id == declined.invitation.id.str());
  CHECK(decline.event.request_id == "req-decline");
  CHECK(decline.event.outcome == AuditOutcome::kSuccess);
  CHECK(decline.event.changes == R"([{"field":"state","before":"pending","after":"declined"}])");

  // Accepted by the invitee: they are the actor; the event shows who joined with which policy.
  auto membership = Must(w.access.AcceptInvitation(w.bob, invited.token, "", ""));
  auto accepted = w.LastOfAcme();
  CheckMade(accepted.event, w.bob, "invitation.accept", "invitation", invited.invitation.id.str());
  CHECK(Contains(accepted.event.changes,
                 R"({"field":"state","before":"pending","after":"accepted"})"));
  CHECK(Contains(accepted.event.changes,
                 R"({"field":"member","before":null,"after":")" + w.bob.id + "\"}"));
  CHECK(Contains(accepted.event.changes, R"("role":"developer","subject":"member:)" + w.bob.id));
  CHECK(membership.member_id == w.bob.id);

  // A newcomer accepting anonymously is recorded as the member just made for them.
  auto fresh = Must(w.access.Invite(w.ann, "acme", "fay@example.com", "viewer", std::nullopt));
  Principal guest = Principal::Anonymous();
  guest.origin = {"req-fay", "192.0.2.9", "browser", ""};
  auto fay = Must(w.access.AcceptInvitation(guest, fresh.token, kPassword, "Fay"));
  auto joined = w.LastOfAcme();
  CHECK(joined.event.action == "invitation.accept");
  CHECK(joined.event.actor_kind == AuditActorKind::kMember);
  CHECK(joined.event.actor_id == fay.member_id);
  CHECK(joined.event.request_id == "req-fay");

  // No token, no token binding, anywhere in the chain (events or personal parts).
  for (const auto& stored : w.Acme()) {
    const std::string event = CanonicalAuditEvent(stored.event);
    for (const auto* token : {&invited.token, &on_shop.token, &declined.token, &fresh.token}) {
      CHECK_FALSE(Contains(event, *token));
      CHECK_FALSE(Contains(event, w.signer.Bind(*token)));
      for (const auto& part : stored.personal) {
        CHECK_FALSE(Contains(part.data, *token));
        CHECK_FALSE(Contains(part.data, w.signer.Bind(*token)));
      }
    }
  }
  CHECK(w.Verifies(w.acme->id.str()));
}

TEST_CASE("access audit: accepting as someone else is recorded as denied and changes nothing",
          "[application][access][audit]") {
  World w;
  auto invited = Must(w.access.Invite(w.ann, "acme", "bob@example.com", "admin", std::nullopt));
  const auto before = w.Acme().size();
  CHECK(CodeOf(w.access.AcceptInvitation(w.eve, invited.token, "", "")) ==
        ErrorCode::kPermissionDenied);
  auto events = w.Acme();
  REQUIRE(events.size() == before + 1);
  CheckMade(events.back().event, w.eve, "invitation.accept", "invitation",
            invited.invitation.id.str(), AuditOutcome::kDenied);
  CHECK(events.back().event.changes == "[]");
  // Still pending, and eve is no member of acme.
  CHECK(Must(w.access.PreviewInvitation(invited.token)).invitation.state ==
        InvitationState::kPending);
  CHECK(CodeOf(w.store.GetMembership(w.acme->id, w.eve.id)) == ErrorCode::kNotFound);

  // Anonymous, for an address that has an account: a guest refused, on the same chain.
  Principal guest = Principal::Anonymous();
  guest.origin = {"req-anon", "192.0.2.3", "browser", ""};
  CHECK(CodeOf(w.access.AcceptInvitation(guest, invited.token, kPassword, "")) ==
        ErrorCode::kUnauthenticated);
  auto refused = w.LastOfAcme().event;
  CHECK(refused.action == "invitation.accept");
  CHECK(refused.actor_kind == AuditActorKind::kGuest);
  CHECK(refused.outcome == AuditOutcome::kDenied);
  CHECK(refused.request_id == "req-anon");
  CHECK(w.Verifies(w.acme->id.str()));
}

TEST_CASE("access audit: members removed, leaving and ownership transferred",
          "[application][access][audit]") {
  World w;
  w.Join(w.bob, "developer");
  w.Join(w.eve, "viewer");

  Must(w.access.RemoveMember(w.ann, "acme", w.eve.id));
  auto removed = w.LastOfAcme();
  CheckMade(removed.event, w.ann, "member.remove", "member", w.eve.id);
  CHECK(removed.event.changes ==
        R"([{"field":"member","before":")" + w.eve.id +
            R"(","after":null},{"field":"email","personal":true}])");
  const auto* target = TargetPart(removed);
  REQUIRE(target != nullptr);
  CHECK(target->subject == w.eve.id);
  CHECK(Contains(target->data, "eve@example.org"));
  CHECK(removed.event.target_personal == HexSha256(target->data));

  // Ownership to bob: ann's owner policy goes, bob's owner and ann's admin policies come.
  Must(w.access.TransferOwnership(w.ann, "acme", w.bob.id));
  auto transfer = w.LastOfAcme();
  CheckMade(transfer.event, w.ann, "ownership.transfer", "member", w.bob.id);
  const auto& changes = transfer.event.changes;
  CHECK(Contains(changes, R"("role":"owner","subject":"member:)" + w.ann.id + R"("},"after":null})"));
  CHECK(Contains(changes, R"("before":null,"after":{"project":null,"role":"owner","subject":"member:)" +
                              w.bob.id));
  CHECK(Contains(changes, R"("before":null,"after":{"project":null,"role":"admin","subject":"member:)" +
                              w.ann.id));
  for (const auto& policy : Must(w.store.ListPolicies(w.acme->id))) {
    if (policy.policy.role == "owner") CHECK(policy.policy.subject.id == w.bob.id);
  }

  // Leaving: the member themselves is the actor.
  Must(w.access.RemoveMember(w.ann, "acme", w.ann.id));
  CheckMade(w.LastOfAcme().event, w.ann, "member.remove", "member", w.ann.id);

  // The last owner cannot leave: the attempt is recorded as an error, without a diff.
  CHECK(CodeOf(w.access.RemoveMember(w.bob, "acme", w.bob.id)) == ErrorCode::kFailedPrecondition);
  auto failed = w.LastOfAcme();
  CheckMade(failed.event, w.bob, "member.remove", "member", w.bob.id, AuditOutcome::kError);
  CHECK(failed.event.changes == "[]");
  CHECK(TargetPart(failed) == nullptr);
  CHECK(Must(w.store.GetMembership(w.acme->id, w.bob.id)).member_id == w.bob.id);
  CHECK(w.Verifies(w.acme->id.str()));
}

TEST_CASE("access audit: teams and their members", "[application][access][audit]") {
  World w;
  w.Join(w.bob, "developer");
  auto team = Must(w.access.CreateTeam(w.ann, "acme", "Ops", "on call"));
  auto created = w.LastOfAcme().event;
  CheckMade(created, w.ann, "team.create", "team", team.id.str());
  CHECK(created.changes ==
        R"([{"field":"name","before":null,"after":"Ops"},{"field":"description","before":null,"after":"on call"}])");

  Must(w.access.UpdateTeam(w.ann, "acme", team.id.str(), "Operations", std::nullopt));
  auto updated = w.LastOfAcme().event;
  CheckMade(updated, w.ann, "team.update", "team", team.id.str());
  CHECK(updated.changes == R"([{"field":"name","before":"Ops","after":"Operations"}])");

  Must(w.access.AddTeamMember(w.ann, "acme", team.id.str(), w.bob.id));
  auto added = w.LastOfAcme().event;
  CheckMade(added, w.ann, "team.add_member", "team", team.id.str());
  CHECK(added.changes == R"([{"field":"member","before":null,"after":")" + w.bob.id + "\"}]");

  Must(w.access.RemoveTeamMember(w.ann, "acme", team.id.str(), w.bob.id));
  auto left = w.LastOfAcme().event;
  CheckMade(left, w.ann, "team.remove_member", "team", team.id.str());
  CHECK(left.changes == R"([{"field":"member","before":")" + w.bob.id + R"(","after":null}])");

  Must(w.access.DeleteTeam(w.ann, "acme", team.id.str()));
  auto deleted = w.LastOfAcme().event;
  CheckMade(deleted, w.ann, "team.delete", "team", team.id.str());
  CHECK(deleted.changes ==
        R"([{"field":"name","before":"Operations","after":null},{"field":"description","before":"on call","after":null}])");

  // Deleting it again fails in the store: an error attempt, no diff.
  CHECK(CodeOf(w.access.DeleteTeam(w.ann, "acme", team.id.str())) == ErrorCode::kNotFound);
  auto again = w.LastOfAcme().event;
  CheckMade(again, w.ann, "team.delete", "team", team.id.str(), AuditOutcome::kError);
  CHECK(again.changes == "[]");
  CHECK(w.Verifies(w.acme->id.str()));
}

TEST_CASE("access audit: custom roles and policies", "[application][access][audit]") {
  World w;
  w.Join(w.bob, "developer");
  Role auditor{"auditor", "Auditor", RbacScope::kOrganisation, {"viewer"}, {}, false};
  Must(w.access.PutRole(w.ann, "acme", auditor));
  auto put = w.LastOfAcme().event;
  CheckMade(put, w.ann, "role.put", "role", "auditor");
  CHECK(put.changes ==
        R"([{"field":"name","before":null,"after":"Auditor"},{"field":"scope","before":null,"after":"organisation"},{"field":"parents","before":null,"after":["viewer"]},{"field":"permissions","before":null,"after":[]}])");

  auditor.permissions = {"member.read"};
  Must(w.access.PutRole(w.ann, "acme", auditor));
  auto replaced = w.LastOfAcme().event;
  CheckMade(replaced, w.ann, "role.put", "role", "auditor");
  CHECK(replaced.changes == R"([{"field":"permissions","before":[],"after":["member.read"]}])");

  // A policy on one project: the event names the project.
  auto granted = Must(w.access.Grant(w.ann, "acme", {RbacSubject::Kind::kMember, w.bob.id},
                                     "project.admin", "shop"));
  auto grant = w.LastOfAcme().event;
  CheckMade(grant, w.ann, "policy.grant", "policy", granted.policy.id);
  CHECK(grant.project_id == w.shop->id.str());
  CHECK(grant.changes == R"([{"field":"subject","before":null,"after":"member:)" + w.bob.id +
                             R"("},{"field":"role","before":null,"after":"project.admin"},{"field":"project","before":null,"after":")" +
                             w.shop->id.str() + "\"}]");

  Must(w.access.Revoke(w.ann, "acme", granted.policy.id));
  auto revoke = w.LastOfAcme().event;
  CheckMade(revoke, w.ann, "policy.revoke", "policy", granted.policy.id);
  CHECK(revoke.project_id == w.shop->id.str());
  CHECK(Contains(revoke.changes, R"({"field":"role","before":"project.admin","after":null})"));

  Must(w.access.DeleteRole(w.ann, "acme", "auditor"));
  auto dropped = w.LastOfAcme().event;
  CheckMade(dropped, w.ann, "role.delete", "role", "auditor");
  CHECK(Contains(dropped.changes, R"({"field":"name","before":"Auditor","after":null})"));
  CHECK(w.Verifies(w.acme->id.str()));
}

TEST_CASE("access audit: flags, the global ones on the platform's chain",
          "[application][access][audit]") {
  World w;
  w.Join(w.bob, "developer");
  FeatureFlag beta{"beta", FlagLevel::kOrganisation, "", "", JsonValue::Bool(true), "new UI", {}, ""};
  Must(w.access.PutFlag(w.ann, "acme", beta));
  auto put = w.LastOfAcme().event;
  CheckMade(put, w.ann, "flag.put", "flag", "beta");
  CHECK(Contains(put.changes, R"({"field":"value","before":null,"after":true})"));
  CHECK(Contains(put.changes, R"({"field":"level","before":null,"after":"organisation"})"));

  beta.value = JsonValue::Bool(false);
  Must(w.access.PutFlag(w.ann, "acme", beta));
  CHECK(w.LastOfAcme().event.changes == R"([{"field":"value","before":true,"after":false}])");

  Must(w.access.DeleteFlag(w.ann, "acme", "beta", FlagLevel::kOrganisation, ""));
  auto deleted = w.LastOfAcme().event;
  CheckMade(deleted, w.ann, "flag.delete", "flag", "beta");
  CHECK(Contains(deleted.changes, R"({"field":"value","before":false,"after":null})"));

  // Global flags belong to no organisation: the platform's chain "".
  FeatureFlag maintenance{"maintenance", FlagLevel::kGlobal, "", "", JsonValue::Bool(true), "", {}, ""};
  Must(w.access.PutFlag(w.root, "", maintenance));
  auto global = w.Last("");
  CheckMade(global.event, w.root, "flag.put", "flag", "maintenance");
  CHECK(global.event.org_id.empty());
  CHECK(Contains(global.event.changes, R"({"field":"level","before":null,"after":"global"})"));

  // A member may not: refused on the platform's chain, nothing set.
  CHECK(CodeOf(w.access.PutFlag(w.bob, "", maintenance)) == ErrorCode::kPermissionDenied);
  CheckMade(w.Last("").event, w.bob, "flag.put", "flag", "maintenance", AuditOutcome::kDenied);
  CHECK(CodeOf(w.access.DeleteFlag(w.bob, "", "maintenance", FlagLevel::kGlobal, "")) ==
        ErrorCode::kPermissionDenied);
  CheckMade(w.Last("").event, w.bob, "flag.delete", "flag", "maintenance", AuditOutcome::kDenied);
  CHECK(Must(w.store.ListFlags("")).size() == 1);

  Must(w.access.DeleteFlag(w.root, "", "maintenance", FlagLevel::kGlobal, ""));
  CheckMade(w.Last("").event, w.root, "flag.delete", "flag", "maintenance");
  CHECK(Must(w.store.ListFlags("")).empty());
  CHECK(w.Chain("").size() == 4);
  CHECK(w.Verifies(""));
  CHECK(w.Verifies(w.acme->id.str()));
}

TEST_CASE("access audit: refusals by the access checks are recorded and change nothing",
          "[application][access][audit]") {
  World w;
  w.Join(w.bob, "viewer");
  w.Join(w.eve, "admin");
  auto team = Must(w.access.CreateTeam(w.ann, "acme", "Ops", ""));
  // A role only an owner holds all of: an admin cannot bind it.
  Must(w.access.PutRole(w.ann, "acme",
                        {"heir", "Heir", RbacScope::kOrganisation, {}, {"organisation.transfer"},
                         false}));
  auto owner_policy = [&] {
    for (const auto& stored : Must(w.store.ListPolicies(w.acme->id))) {
      if (stored.policy.role == "owner") return stored.policy.id;
    }
    FAIL("no owner policy");
    return std::string();
  }();
  const auto policies = Must(w.store.ListPolicies(w.acme->id));
  const auto teams = Must(w.store.ListTeams(w.acme->id));
  const auto roles = Must(w.store.ListRoles(w.acme->id));
  const auto flags = Must(w.store.ListFlags(w.acme->id.str()));
  auto start = w.Acme().size();

  struct Refusal {
    std::string action;
    std::string target_kind;
    std::string target_id;
    ErrorCode code;
  };
  auto refused = [&](const auto& result, Principal& by, Refusal want) {
    CHECK(CodeOf(result) == want.code);
    auto events = w.Acme();
    REQUIRE(events.size() == start + 1);
    start = events.size();
    INFO(want.action);
    CheckMade(events.back().event, by, want.action, want.target_kind, want.target_id,
              AuditOutcome::kDenied);
    CHECK(events.back().event.changes == "[]");
    CHECK(TargetPart(events.back()) == nullptr);
  };
  const auto denied = ErrorCode::kPermissionDenied;
  refused(w.access.TransferOwnership(w.bob, "acme", w.bob.id), w.bob,
          {"ownership.transfer", "member", w.bob.id, denied});
  refused(w.access.RemoveMember(w.bob, "acme", w.eve.id), w.bob,
          {"member.remove", "member", w.eve.id, denied});
  // An admin may remove members, not the owner.
  refused(w.access.RemoveMember(w.eve, "acme", w.ann.id), w.eve,
          {"member.remove", "member", w.ann.id, denied});
  refused(w.access.Invite(w.bob, "acme", "zoe@example.com", "viewer", std::nullopt), w.bob,
          {"invitation.create", "invitation", "", denied});
  refused(w.access.RevokeInvitation(w.bob, "acme", "aaaaaaaaaaaaaaa"), w.bob,
          {"invitation.revoke", "invitation", "aaaaaaaaaaaaaaa", denied});
  refused(w.access.CreateTeam(w.bob, "acme", "Mine", ""), w.bob, {"team.create", "team", "", denied});
  refused(w.access.UpdateTeam(w.bob, "acme", team.id.str(), "Hacked", std::nullopt), w.bob,
          {"team.update", "team", team.id.str(), denied});
  refused(w.access.DeleteTeam(w.bob, "acme", team.id.str()), w.bob,
          {"team.delete", "team", team.id.str(), denied});
  refused(w.access.AddTeamMember(w.bob, "acme", team.id.str(), w.bob.id), w.bob,
          {"team.add_member", "team", team.id.str(), denied});
  refused(w.access.RemoveTeamMember(w.bob, "acme", team.id.str(), w.bob.id), w.bob,
          {"team.remove_member", "team", team.id.str(), denied});
  refused(w.access.PutRole(w.bob, "acme", {"mine", "Mine", RbacScope::kOrganisation, {}, {}, false}),
          w.bob, {"role.put", "role", "mine", denied});
  refused(w.access.DeleteRole(w.bob, "acme", "mine"), w.bob, {"role.delete", "role", "mine", denied});
  refused(w.access.Grant(w.bob, "acme", {RbacSubject::Kind::kMember, w.bob.id}, "admin",
                         std::nullopt),
          w.bob, {"policy.grant", "policy", "", denied});
  // An admin may bind roles, but not one holding more than they do; nor offer it.
  refused(w.access.Invite(w.eve, "acme", "zoe@example.com", "heir", std::nullopt), w.eve,
          {"invitation.create", "invitation", "", denied});
  refused(w.access.Grant(w.eve, "acme", {RbacSubject::Kind::kMember, w.bob.id}, "heir",
                         std::nullopt),
          w.eve, {"policy.grant", "policy", "", denied});
  refused(w.access.Revoke(w.bob, "acme", owner_policy), w.bob,
          {"policy.revoke", "policy", owner_policy, denied});
  refused(w.access.Revoke(w.eve, "acme", owner_policy), w.eve,
          {"policy.revoke", "policy", owner_policy, denied});
  FeatureFlag beta{"beta", FlagLevel::kOrganisation, "", "", JsonValue::Bool(true), "", {}, ""};
  refused(w.access.PutFlag(w.bob, "acme", beta), w.bob, {"flag.put", "flag", "beta", denied});
  refused(w.access.DeleteFlag(w.bob, "acme", "beta", FlagLevel::kOrganisation, ""), w.bob,
          {"flag.delete", "flag", "beta", denied});

  // Nothing changed.
  CHECK(Must(w.store.ListPolicies(w.acme->id)) == policies);
  CHECK(Must(w.store.ListTeams(w.acme->id)) == teams);
  CHECK(Must(w.store.ListRoles(w.acme->id)) == roles);
  CHECK(Must(w.store.ListFlags(w.acme->id.str())) == flags);
  CHECK(Must(w.store.GetMembership(w.acme->id, w.ann.id)).member_id == w.ann.id);
  CHECK(Must(w.store.GetMembership(w.acme->id, w.eve.id)).member_id == w.eve.id);

  // A stranger is told the organisation does not exist; its chain does not record the probe,
  // and no other chain gets it either.
  const auto evil = Must(w.store.GetOrganisation(*Slug::Parse("evil")));
  const auto evil_events = w.Chain(evil.id.str()).size();
  Principal zed = w.Member("zed@example.net");
  CHECK(CodeOf(w.access.CreateTeam(zed, "acme", "Zed", "")) == ErrorCode::kNotFound);
  CHECK(w.Acme().size() == start);
  CHECK(w.Chain(evil.id.str()).size() == evil_events);
  CHECK(w.Verifies(w.acme->id.str()));
}

TEST_CASE("access audit: e-mails sit only in the personal parts, erasable with the chain intact",
          "[application][access][audit]") {
  World w;
  auto invited = Must(w.access.Invite(w.ann, "acme", "carol@example.com", "viewer", std::nullopt));
  Must(w.access.AcceptInvitation(Principal::Anonymous(), invited.token, kPassword, "Carol"));
  const auto carol = Must(w.sessions.FindMember("carol@example.com"));
  REQUIRE(carol.has_value());
  Must(w.access.RemoveMember(w.ann, "acme", carol->id));

  auto mentions = [&](std::string_view text) {
    int in_events = 0;
    int in_parts = 0;
    for (const auto& stored : w.Acme()) {
      if (Contains(CanonicalAuditEvent(stored.event), text)) ++in_events;
      for (const auto& part : stored.personal) {
        if (Contains(part.data, text)) ++in_parts;
      }
    }
    return std::pair{in_events, in_parts};
  };
  // In the invitation's and the removal's target parts, never in an event.
  CHECK(mentions("carol@example.com") == std::pair{0, 2});
  CHECK(w.Verifies(w.acme->id.str()));

  // Erasing the invitation's and the member's parts removes the address; the chain verifies.
  CHECK(Must(w.store.ErasePlatformPersonal(invited.invitation.id.str())) == 1);
  CHECK(Must(w.store.ErasePlatformPersonal(carol->id)) >= 1);
  CHECK(mentions("carol@example.com") == std::pair{0, 0});
  CHECK(w.Verifies(w.acme->id.str()));

  // Tampering with a personal part that is left is caught.
  auto events = w.Acme();
  CHECK(w.Verifies(w.acme->id.str()));
  const auto& first = events.front();
  REQUIRE_FALSE(first.personal.empty());
  AuditChainVerifier verifier(0, &HexSha256, std::nullopt);
  REQUIRE(verifier.Next(first.event));
  AuditPersonal forged = first.personal.front();
  forged.data += " ";
  CHECK_FALSE(verifier.Personal(first.event, forged));
}

TEST_CASE("access audit: an audit that cannot be written leaves the change undone",
          "[application][access][audit]") {
  World w;
  w.Join(w.bob, "developer");
  FailingAuditCatalogue failing(w.store);
  application::PlatformTrail broken{failing, w.trail};
  application::ManageAccess access{w.store, w.store, w.control, w.sessions, w.signer,
                                   w.clock, w.random, nullptr,   w.options,  &broken};
  const auto policies = Must(w.store.ListPolicies(w.acme->id));
  const auto invitations = Must(w.store.ListInvitations(w.acme->id, {1, 50})).total_items;
  const auto events = w.Acme().size();

  CHECK(CodeOf(access.CreateTeam(w.ann, "acme", "Ops", "")) == ErrorCode::kUnavailable);
  CHECK(Must(w.store.ListTeams(w.acme->id)).empty());
  CHECK(CodeOf(access.Invite(w.ann, "acme", "zoe@example.com", "viewer", std::nullopt)) ==
        ErrorCode::kUnavailable);
  CHECK(Must(w.store.ListInvitations(w.acme->id, {1, 50})).total_items == invitations);
  CHECK(CodeOf(access.Grant(w.ann, "acme", {RbacSubject::Kind::kMember, w.bob.id}, "admin",
                            std::nullopt)) == ErrorCode::kUnavailable);
  CHECK(CodeOf(access.TransferOwnership(w.ann, "acme", w.bob.id)) == ErrorCode::kUnavailable);
  CHECK(CodeOf(access.RemoveMember(w.ann, "acme", w.bob.id)) == ErrorCode::kUnavailable);
  CHECK(Must(w.store.ListPolicies(w.acme->id)) == policies);
  CHECK(Must(w.store.GetMembership(w.acme->id, w.bob.id)).member_id == w.bob.id);
  FeatureFlag beta{"beta", FlagLevel::kOrganisation, "", "", JsonValue::Bool(true), "", {}, ""};
  CHECK(CodeOf(access.PutFlag(w.ann, "acme", beta)) == ErrorCode::kUnavailable);
  CHECK(Must(w.store.ListFlags(w.acme->id.str())).empty());
  CHECK(failing.audited == 6);

  // A refusal that cannot be recorded is still a refusal, and what the caller hears.
  CHECK(CodeOf(access.CreateTeam(w.bob, "acme", "Mine", "")) == ErrorCode::kPermissionDenied);
  CHECK(failing.recorded == 1);
  CHECK(w.Acme().size() == events);
  // Without the broken trail, the same change goes through.
  Must(w.access.CreateTeam(w.ann, "acme", "Ops", ""));
  CHECK(Must(w.store.ListTeams(w.acme->id)).size() == 1);
}

TEST_CASE("access audit: an organisation key's role binding and its removal are on the chain",
          "[application][access][audit]") {
  World w;
  application::ProjectDirectory directory{w.store, w.stores, w.clock};
  application::ManageApiKeys api_keys{directory, w.platform, w.signer, w.clock, w.random};
  application::ManageOrganisationKeys keys{w.store,  w.store,  w.control,         api_keys,
                                           w.clock,  w.random, &w.platform_trail};
  auto made = Must(keys.Create(w.ann, "acme", "ci", "project.editor", "shop", std::nullopt));
  const auto granted = w.LastOfAcme();
  CheckMade(granted.event, w.ann, "policy.grant", "policy", made.view.policies[0].id);
  CHECK(granted.event.project_id == w.shop->id.str());
  CHECK(granted.event.changes.find("apikey:" + made.view.key.id) != std::string::npos);
  CHECK(granted.event.changes.find(made.secret) == std::string::npos);

  Must(keys.Revoke(w.ann, "acme", made.view.key.id));
  const auto revoked = w.LastOfAcme();
  CheckMade(revoked.event, w.ann, "policy.revoke", "api_key", made.view.key.id);
  CHECK(revoked.event.changes.find(made.view.policies[0].id) != std::string::npos);
  CHECK(w.Verifies(w.acme->id.str()));
}
