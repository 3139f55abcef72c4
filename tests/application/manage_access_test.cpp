// Organisations' access management (ManageAccess, PlatformCatalogue, AccessControl,
// PlatformCallers) over the memory stores, with the real Argon2id hasher and Ed25519 signer:
// membership, invitations, ownership, teams, custom roles, policies, explanations, role
// switching, feature flags, and the rule that nobody grants more than they hold.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_organisation_keys.hpp"
#include "socle/application/platform_callers.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/mailer.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/login_throttle.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using namespace socle::domain;
using application::Principal;

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

LoginThrottle Throttle() {
  auto throttle = LoginThrottle::Create({});
  REQUIRE(throttle);
  return std::move(*throttle);
}

class CapturingMailer final : public application::Mailer {
 public:
  Result<void> Send(const application::MailMessage& message) override {
    sent.push_back(message);
    return {};
  }
  std::vector<application::MailMessage> sent;
};

struct World {
  World() {
    REQUIRE(signer.Generate("k1", random));
    ann = Member("ann@example.com");
    bob = Member("bob@example.com");
    eve = Member("eve@example.org");
    Must(catalogue.CreateOrganisation(ann, {"acme", std::nullopt, std::nullopt, std::nullopt}));
    Must(catalogue.CreateProject(ann, {"shop", "acme", std::nullopt}));
    Must(catalogue.CreateProject(ann, {"blog", "acme", std::nullopt}));
    // Eve runs another organisation on the same instance.
    Must(catalogue.CreateOrganisation(eve, {"evil", std::nullopt, std::nullopt, std::nullopt}));
    Must(catalogue.CreateProject(eve, {"lair", "evil", std::nullopt}));
  }

  Principal Member(std::string email) {
    auto made = Must(sessions.UpsertMember(email, kPassword, ""));
    Principal p;
    p.kind = Principal::Kind::kMember;
    p.id = made.id;
    p.email = std::move(email);
    return p;
  }

  // Adds `who` to acme through an invitation with `role` (on `project` when given).
  void Join(const Principal& who, std::string role, std::optional<std::string_view> project = {}) {
    auto invited = Must(access.Invite(ann, "acme", who.email, role, project));
    Must(access.AcceptInvitation(who, invited.token, "", ""));
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
  CapturingMailer mailer;
  application::ManageAccess access{store, store, control, sessions, signer, clock, random, &mailer,
                                   {std::chrono::hours(24), "https://console.example/invite",
                                    "Socle <no-reply@example.com>", std::chrono::milliseconds(0)}};
  Principal ann, bob, eve;
};

}  // namespace

TEST_CASE("access: the creator of an organisation owns it; strangers do not see it", "[application][access]") {
  World w;
  auto mine = Must(w.catalogue.ListOrganisations(w.ann, {1, 30}));
  REQUIRE(mine.items.size() == 1);
  CHECK(mine.items[0].slug.str() == "acme");
  CHECK(Must(w.catalogue.GetOrganisation(w.ann, "acme")).slug.str() == "acme");

  // Bob belongs nowhere: acme does not exist for him, exactly like a missing organisation.
  CHECK(Must(w.catalogue.ListOrganisations(w.bob, {1, 30})).items.empty());
  auto hidden = w.catalogue.GetOrganisation(w.bob, "acme");
  auto missing = w.catalogue.GetOrganisation(w.bob, "nothere");
  REQUIRE_FALSE(hidden);
  REQUIRE_FALSE(missing);
  CHECK(hidden.error().code == ErrorCode::kNotFound);
  CHECK(hidden.error().message == missing.error().message);
  CHECK(CodeOf(w.catalogue.GetProject(w.bob, "shop")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.catalogue.ListProjects(w.bob, "acme", {1, 30})) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.catalogue.CreateProject(w.bob, {"bobs", "acme", std::nullopt})) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.catalogue.DeleteOrganisation(w.eve, "acme", application::ForceDelete::kYes)) ==
        ErrorCode::kNotFound);
  CHECK(CodeOf(w.access.ListMembers(w.eve, "acme", {1, 30})) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.catalogue.GetOrganisation(Principal::Anonymous(), "acme")) ==
        ErrorCode::kUnauthenticated);

  // A superuser sees every organisation.
  Principal root;
  root.kind = Principal::Kind::kSuperuser;
  root.id = "root";
  root.email = "root@example.com";
  CHECK(Must(w.catalogue.ListOrganisations(root, {1, 30})).items.size() == 2);
  CHECK(Must(w.catalogue.GetProject(root, "lair")).slug.str() == "lair");
}

TEST_CASE("access: invitations are single-use, expire, and can be declined or revoked", "[application][access]") {
  World w;
  auto invited = Must(w.access.Invite(w.ann, "acme", "Bob@Example.com", "developer", std::nullopt));
  CHECK(invited.invitation.email == "bob@example.com");
  CHECK(invited.token.starts_with("inv_"));
  // Mailed with the link; the token itself is never stored.
  REQUIRE(w.mailer.sent.size() == 1);
  CHECK(w.mailer.sent[0].to[0].address == "bob@example.com");
  CHECK(w.mailer.sent[0].text.find("https://console.example/invite?token=" + invited.token) !=
        std::string::npos);
  CHECK(invited.invitation.token_binding.find(invited.token) == std::string::npos);

  auto preview = Must(w.access.PreviewInvitation(invited.token));
  CHECK(preview.organisation.slug.str() == "acme");
  CHECK(preview.member_exists);

  // Someone else signed in cannot take it; an anonymous caller cannot claim an existing account.
  CHECK(CodeOf(w.access.AcceptInvitation(w.eve, invited.token, "", "")) == ErrorCode::kPermissionDenied);
  CHECK(CodeOf(w.access.AcceptInvitation(Principal::Anonymous(), invited.token, "x-y-z-w-1234", "")) ==
        ErrorCode::kUnauthenticated);
  auto joined = Must(w.access.AcceptInvitation(w.bob, invited.token, "", ""));
  CHECK(joined.member_id == w.bob.id);
  CHECK(CodeOf(w.access.AcceptInvitation(w.bob, invited.token, "", "")) == ErrorCode::kFailedPrecondition);
  CHECK(Must(w.catalogue.GetOrganisation(w.bob, "acme")).slug.str() == "acme");
  auto decision = Must(w.control.Decide(w.bob, Must(w.catalogue.GetOrganisation(w.ann, "acme")).id));
  CHECK(decision.Allows("project.create"));
  CHECK_FALSE(decision.Allows("member.invite"));

  // A newcomer accepts anonymously and gets an account for the invited address.
  auto fresh = Must(w.access.Invite(w.ann, "acme", "carol@example.com", "viewer", std::nullopt));
  CHECK(CodeOf(w.access.AcceptInvitation(Principal::Anonymous(), fresh.token, "", "")) ==
        ErrorCode::kInvalidArgument);
  Must(w.access.AcceptInvitation(Principal::Anonymous(), fresh.token, kPassword, "Carol"));
  auto carol = Must(w.sessions.FindMember("carol@example.com"));
  REQUIRE(carol.has_value());
  CHECK(carol->name == "Carol");

  // Declined and revoked invitations are closed for good.
  auto declined = Must(w.access.Invite(w.ann, "acme", "dan@example.com", "viewer", std::nullopt));
  Must(w.access.DeclineInvitation(declined.token));
  CHECK(CodeOf(w.access.PreviewInvitation(declined.token)) == ErrorCode::kFailedPrecondition);
  auto revoked = Must(w.access.Invite(w.ann, "acme", "dan@example.com", "viewer", std::nullopt));
  Must(w.access.RevokeInvitation(w.ann, "acme", revoked.invitation.id.str()));
  CHECK(CodeOf(w.access.AcceptInvitation(Principal::Anonymous(), revoked.token, kPassword, "")) ==
        ErrorCode::kFailedPrecondition);

  // Expiry.
  auto late = Must(w.access.Invite(w.ann, "acme", "dan@example.com", "viewer", std::nullopt));
  w.clock.Advance(25LL * 3600 * 1'000'000);
  CHECK(CodeOf(w.access.PreviewInvitation(late.token)) == ErrorCode::kFailedPrecondition);

  // Garbage tokens are unknown, never a crash.
  for (std::string_view junk : {"", "inv_", "inv_short", "xyz", "inv_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"}) {
    CHECK(CodeOf(w.access.PreviewInvitation(junk)) == ErrorCode::kNotFound);
  }
}

TEST_CASE("access: invitations check their role and nobody grants more than they hold", "[application][access]") {
  World w;
  CHECK(CodeOf(w.access.Invite(w.ann, "acme", "x@example.com", "owner", std::nullopt)) ==
        ErrorCode::kInvalidArgument);
  CHECK(CodeOf(w.access.Invite(w.ann, "acme", "x@example.com", "nobody", std::nullopt)) ==
        ErrorCode::kInvalidArgument);
  CHECK(CodeOf(w.access.Invite(w.ann, "acme", "not-an-email", "viewer", std::nullopt)) ==
        ErrorCode::kInvalidArgument);
  // Organisation roles are not given on one project.
  CHECK(CodeOf(w.access.Invite(w.ann, "acme", "x@example.com", "admin", "shop")) ==
        ErrorCode::kInvalidArgument);
  // Another organisation's project is unknown.
  CHECK(CodeOf(w.access.Invite(w.ann, "acme", "x@example.com", "project.viewer", "lair")) ==
        ErrorCode::kInvalidArgument);

  // An admin may invite admins, not hand out what only owners hold.
  w.Join(w.bob, "admin");
  Must(w.access.Invite(w.bob, "acme", "x@example.com", "admin", std::nullopt));
  auto role = Role{"superadmin", "Super", RbacScope::kOrganisation, {"admin"},
                   {"organisation.delete"}, false};
  CHECK(CodeOf(w.access.PutRole(w.bob, "acme", role)) == ErrorCode::kPermissionDenied);
  Must(w.access.PutRole(w.ann, "acme", role));
  CHECK(CodeOf(w.access.Invite(w.bob, "acme", "x@example.com", "superadmin", std::nullopt)) ==
        ErrorCode::kPermissionDenied);
  auto members = Must(w.access.ListMembers(w.ann, "acme", {1, 30}));
  CHECK(CodeOf(w.access.Grant(w.bob, "acme", {RbacSubject::Kind::kMember, w.bob.id}, "superadmin",
                              std::nullopt)) == ErrorCode::kPermissionDenied);
  // A developer cannot invite at all.
  w.Join(w.eve, "developer");
  auto refused = w.access.Invite(w.eve, "acme", "y@example.com", "viewer", std::nullopt);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kPermissionDenied);
  CHECK(refused.error().message.find("member.invite") != std::string::npos);
}

TEST_CASE("access: an organisation keeps an owner", "[application][access]") {
  World w;
  const auto acme_id = Must(w.catalogue.GetOrganisation(w.ann, "acme")).id;
  CHECK(CodeOf(w.access.RemoveMember(w.ann, "acme", w.ann.id)) == ErrorCode::kFailedPrecondition);
  w.Join(w.bob, "admin");
  // An admin cannot remove the owner.
  CHECK(CodeOf(w.access.RemoveMember(w.bob, "acme", w.ann.id)) == ErrorCode::kPermissionDenied);
  // Owner cannot be granted by a policy; it is transferred.
  CHECK(CodeOf(w.access.Grant(w.ann, "acme", {RbacSubject::Kind::kMember, w.bob.id}, "owner",
                              std::nullopt)) == ErrorCode::kInvalidArgument);
  Must(w.access.TransferOwnership(w.ann, "acme", w.bob.id));
  auto bob_now = Must(w.control.Decide(w.bob, acme_id));
  auto ann_now = Must(w.control.Decide(w.ann, acme_id));
  CHECK(bob_now.Allows("organisation.delete"));
  CHECK_FALSE(ann_now.Allows("organisation.delete"));
  CHECK(ann_now.Allows("member.invite"));  // the former owner stays admin
  // Ann may leave now; Bob, the last owner, may not.
  Must(w.access.RemoveMember(w.ann, "acme", w.ann.id));
  CHECK(CodeOf(w.catalogue.GetOrganisation(w.ann, "acme")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.access.RemoveMember(w.bob, "acme", w.bob.id)) == ErrorCode::kFailedPrecondition);
  // Transferring to someone outside the organisation is refused.
  CHECK(CodeOf(w.access.TransferOwnership(w.bob, "acme", w.eve.id)) == ErrorCode::kInvalidArgument);
}

TEST_CASE("access: teams carry roles to their members, on projects too", "[application][access]") {
  World w;
  w.Join(w.bob, "viewer");
  const auto acme = Must(w.catalogue.GetOrganisation(w.ann, "acme"));
  const auto shop = Must(w.catalogue.GetProject(w.ann, "shop"));
  const auto blog = Must(w.catalogue.GetProject(w.ann, "blog"));
  auto ops = Must(w.access.CreateTeam(w.ann, "acme", "Ops", "On call"));
  CHECK(CodeOf(w.access.CreateTeam(w.ann, "acme", "ops", "")) == ErrorCode::kInvalidArgument);
  Must(w.access.Grant(w.ann, "acme", {RbacSubject::Kind::kTeam, ops.id.str()}, "project.editor", "shop"));
  CHECK_FALSE(Must(w.control.Decide(w.bob, acme.id, shop.id)).Allows("records.update"));
  Must(w.access.AddTeamMember(w.ann, "acme", ops.id.str(), w.bob.id));
  auto on_shop = Must(w.control.Decide(w.bob, acme.id, shop.id));
  CHECK(on_shop.Allows("records.update"));
  CHECK(on_shop.Explain("records.update") ==
        "allowed because team " + ops.id.str() + " has role project.editor on project " + shop.id.str());
  CHECK(on_shop.Explain("records.read").starts_with("allowed because member " + w.bob.id +
                                                     " has role viewer on organisation"));
  CHECK_FALSE(Must(w.control.Decide(w.bob, acme.id, blog.id)).Allows("records.update"));
  // The API's explanation names the team and the project as people know them.
  auto explained = Must(w.access.Explain(w.bob, "acme", std::nullopt, "shop", {"records.update"}));
  REQUIRE(explained.size() == 1);
  CHECK(explained[0].explanation == "allowed because team Ops has role project.editor on project shop");
  // Outsiders cannot join a team.
  CHECK(CodeOf(w.access.AddTeamMember(w.ann, "acme", ops.id.str(), w.eve.id)) == ErrorCode::kNotFound);
  // Leaving the team takes the role away; deleting the team too.
  Must(w.access.RemoveTeamMember(w.ann, "acme", ops.id.str(), w.bob.id));
  CHECK_FALSE(Must(w.control.Decide(w.bob, acme.id, shop.id)).Allows("records.update"));
  Must(w.access.DeleteTeam(w.ann, "acme", ops.id.str()));
  CHECK(CodeOf(w.access.GetTeam(w.ann, "acme", ops.id.str())) == ErrorCode::kNotFound);
  // Eve cannot reach acme's teams at all.
  CHECK(CodeOf(w.access.ListTeams(w.eve, "acme")) == ErrorCode::kNotFound);
}

TEST_CASE("access: explanations name the policy and the inheritance", "[application][access]") {
  World w;
  w.Join(w.bob, "developer");
  auto mine = Must(w.access.Explain(w.bob, "acme", std::nullopt, std::nullopt,
                                    {"records.read", "organisation.delete"}));
  REQUIRE(mine.size() == 2);
  CHECK(mine[0].allowed);
  CHECK(mine[0].explanation ==
        "allowed because member bob@example.com has role developer on organisation acme, "
        "inherited from project.viewer");
  CHECK(mine[0].explanation.find("inherited from project.viewer") != std::string::npos);
  REQUIRE(mine[0].policy.has_value());
  CHECK(mine[0].via.front() == "developer");
  CHECK_FALSE(mine[1].allowed);
  CHECK(mine[1].explanation == "denied: no policy grants organisation.delete");
  // Explaining someone else needs policy.read, which developers... hold through viewer.
  auto other = Must(w.access.Explain(w.bob, "acme", application::ExplainSubject{RbacSubject::Kind::kMember, w.ann.id},
                                     std::nullopt, {"organisation.delete"}));
  CHECK(other[0].allowed);
  CHECK(CodeOf(w.access.Explain(w.bob, "acme", std::nullopt, std::nullopt, {"no.such"})) ==
        ErrorCode::kInvalidArgument);
  CHECK(CodeOf(w.access.Explain(w.eve, "acme", std::nullopt, std::nullopt, {})) == ErrorCode::kNotFound);
}

TEST_CASE("access: role switching narrows every decision to the active role", "[application][access]") {
  World w;
  w.Join(w.bob, "viewer");
  const auto acme = Must(w.catalogue.GetOrganisation(w.ann, "acme"));
  Must(w.access.Grant(w.ann, "acme", {RbacSubject::Kind::kMember, w.bob.id}, "project.admin", "shop"));
  const auto shop = Must(w.catalogue.GetProject(w.ann, "shop"));
  CHECK(Must(w.control.Decide(w.bob, acme.id, shop.id)).Allows("collection.create"));
  auto acting = w.bob;
  acting.active_role = "viewer";
  CHECK_FALSE(Must(w.control.Decide(acting, acme.id, shop.id)).Allows("collection.create"));
  CHECK(Must(w.control.Decide(acting, acme.id, shop.id)).Allows("records.read"));
  CHECK(Must(w.control.RolesAt(acting, acme.id, shop.id)) ==
        std::vector<std::string>{"project.viewer", "viewer"});
  CHECK(Must(w.control.RolesAt(w.bob, acme.id, shop.id)) ==
        std::vector<std::string>{"project.admin", "project.editor", "project.viewer", "viewer"});
  // Only held roles can be chosen; the session carries the choice through refreshes.
  CHECK(CodeOf(w.access.CheckRoleHeld(w.bob.id, "owner")) == ErrorCode::kInvalidArgument);
  Must(w.access.CheckRoleHeld(w.bob.id, "viewer"));
  auto tokens = Must(w.sessions.Login("bob@example.com", kPassword, {"192.0.2.1", "t"}));
  auto switched = Must(w.sessions.Refresh(tokens.refresh_token, {"192.0.2.1", "t"}, "viewer"));
  CHECK(Must(w.sessions.Identify(switched.access_token)).active_role == "viewer");
  auto kept = Must(w.sessions.Refresh(switched.refresh_token, {"192.0.2.1", "t"}));
  CHECK(Must(w.sessions.Identify(kept.access_token)).active_role == "viewer");
  auto back = Must(w.sessions.Refresh(kept.refresh_token, {"192.0.2.1", "t"}, std::string()));
  CHECK(Must(w.sessions.Identify(back.access_token)).active_role.empty());
}

TEST_CASE("access: custom roles are checked as a catalogue and cannot be deleted while used", "[application][access]") {
  World w;
  auto auditor = Must(w.access.PutRole(w.ann, "acme", Role{"auditor", "Auditor", RbacScope::kOrganisation,
                                                           {"viewer"}, {"audit.read"}, false}));
  CHECK(std::find(auditor.effective.begin(), auditor.effective.end(), "records.read") !=
        auditor.effective.end());
  auto cycle = w.access.PutRole(w.ann, "acme", Role{"viewer2", "V", RbacScope::kOrganisation,
                                                    {"viewer2"}, {}, false});
  REQUIRE_FALSE(cycle);
  CHECK(cycle.error().code == ErrorCode::kInvalidArgument);
  CHECK(CodeOf(w.access.PutRole(w.ann, "acme", Role{"admin", "Mine", RbacScope::kOrganisation, {}, {}, false})) ==
        ErrorCode::kInvalidArgument);
  CHECK(CodeOf(w.access.PutRole(w.ann, "acme", Role{"x", "X", RbacScope::kProject, {"viewer"}, {}, false})) ==
        ErrorCode::kInvalidArgument);
  w.Join(w.bob, "auditor");
  CHECK(CodeOf(w.access.DeleteRole(w.ann, "acme", "auditor")) == ErrorCode::kFailedPrecondition);
  // Eve's organisation has no such role: roles never leak across organisations.
  CHECK(CodeOf(w.access.Invite(w.eve, "evil", "z@example.com", "auditor", std::nullopt)) ==
        ErrorCode::kInvalidArgument);
}

TEST_CASE("access: feature flags follow user, role, organisation, global", "[application][access]") {
  World w;
  w.Join(w.bob, "developer");
  Principal root;
  root.kind = Principal::Kind::kSuperuser;
  root.id = "root";
  root.email = "root@example.com";
  FeatureFlag flag;
  flag.key = "new-editor";
  flag.value = JsonValue::Bool(false);
  CHECK(CodeOf(w.access.PutFlag(w.ann, "", flag)) == ErrorCode::kPermissionDenied);
  Must(w.access.PutFlag(root, "", flag));
  flag.level = FlagLevel::kOrganisation;
  flag.value = JsonValue::Bool(true);
  Must(w.access.PutFlag(w.ann, "acme", flag));
  flag.level = FlagLevel::kRole;
  flag.subject = "developer";
  flag.value = JsonValue::String("beta");
  Must(w.access.PutFlag(w.ann, "acme", flag));
  flag.level = FlagLevel::kUser;
  flag.subject = w.eve.id;  // not a member of acme
  CHECK(CodeOf(w.access.PutFlag(w.ann, "acme", flag)) == ErrorCode::kInvalidArgument);

  auto for_bob = Must(w.access.EvaluateFlags(w.bob, "acme", "new-editor", std::nullopt));
  REQUIRE(for_bob.size() == 1);
  CHECK(for_bob[0].source == "role:developer");
  auto for_ann = Must(w.access.EvaluateFlags(w.ann, "acme", "new-editor", std::nullopt));
  CHECK(for_ann[0].source == "role:developer");  // owner inherits developer
  auto for_eve = Must(w.access.EvaluateFlags(w.eve, "evil", "new-editor", std::nullopt));
  CHECK(for_eve[0].source == "global");
  CHECK(*for_eve[0].value == JsonValue::Bool(false));
  // Eve cannot evaluate, list or set acme's flags.
  CHECK(CodeOf(w.access.EvaluateFlags(w.eve, "acme", "", std::nullopt)) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.access.ListFlags(w.eve, "acme")) == ErrorCode::kNotFound);
  // The change is recorded with who made it.
  auto listed = Must(w.access.ListFlags(w.ann, "acme"));
  REQUIRE(listed.size() == 3);
  CHECK(listed[1].updated_by == "member:" + w.ann.id);
}

TEST_CASE("access: a member's token on a project's data API carries their permissions and roles", "[application][access]") {
  World w;
  w.Join(w.bob, "project.editor", "shop");
  application::ProjectDirectory directory{w.store, w.stores, w.clock};
  application::PlatformCallers callers{directory, w.sessions, w.control};
  auto tokens = Must(w.sessions.Login("bob@example.com", kPassword, {"192.0.2.1", "t"}));
  auto on_shop = Must(callers.Member("shop", tokens.access_token));
  REQUIRE(on_shop.permissions.has_value());
  CHECK(on_shop.Holds("records.update"));
  CHECK_FALSE(on_shop.Holds("collection.create"));
  REQUIRE(on_shop.Roles() != nullptr);
  CHECK(*on_shop.Roles() == std::vector<std::string>{"project.editor", "project.viewer"});
  // On another project of the organisation, and on another organisation's: a guest, not a
  // signed-in caller (a rule admitting any signed-in user must not admit them).
  auto on_blog = Must(callers.Member("blog", tokens.access_token));
  CHECK_FALSE(on_blog.permissions.has_value());
  CHECK_FALSE(on_blog.request.auth.has_value());
  auto on_lair = Must(callers.Member("lair", tokens.access_token));
  CHECK_FALSE(on_lair.permissions.has_value());
  CHECK_FALSE(on_lair.request.auth.has_value());
  CHECK(on_lair.Roles() == nullptr);
  CHECK(CodeOf(callers.Member("shop", "not-a-token")) == ErrorCode::kUnauthenticated);
}

TEST_CASE("access: organisation API keys carry roles, within their organisation only", "[application][access]") {
  World w;
  application::ProjectDirectory directory{w.store, w.stores, w.clock};
  application::ManageApiKeys api_keys{directory, w.platform, w.signer, w.clock, w.random};
  application::ManageOrganisationKeys keys{w.store, w.store, w.control, api_keys, w.clock, w.random};
  application::PlatformCallers callers{directory, w.sessions, w.control};

  auto made = Must(keys.Create(w.ann, "acme", "ci", "project.editor", "shop", std::nullopt));
  CHECK(made.secret.starts_with("sk_"));
  REQUIRE(made.view.policies.size() == 1);
  CHECK(made.view.policies[0].role == "project.editor");

  // On the data API: the key's rights on its project, nothing on the other project, and no
  // way into another organisation's.
  auto on_shop = Must(api_keys.Identify("shop", made.secret));
  CHECK(on_shop.api_key_org == made.view.key.org);
  CHECK_FALSE(on_shop.permissions.has_value());
  auto filled = Must(callers.ApiKey("shop", on_shop));
  CHECK(filled.Holds("records.update"));
  CHECK_FALSE(filled.superuser);
  REQUIRE(filled.Roles() != nullptr);
  CHECK(*filled.Roles() == std::vector<std::string>{"project.editor", "project.viewer"});
  auto on_blog = Must(callers.ApiKey("blog", Must(api_keys.Identify("blog", made.secret))));
  CHECK(on_blog.permissions->empty());
  CHECK(CodeOf(api_keys.Identify("lair", made.secret)) == ErrorCode::kUnauthenticated);

  // On the platform API: a principal of its organisation.
  auto info = Must(api_keys.IdentifyOrganisationKey(made.secret));
  Principal key;
  key.kind = Principal::Kind::kApiKey;
  key.id = info.id;
  key.org_id = info.org;
  CHECK(Must(w.catalogue.GetProject(key, "shop")).slug.str() == "shop");
  CHECK(CodeOf(w.catalogue.GetProject(key, "blog")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.catalogue.GetProject(key, "lair")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.catalogue.CreateOrganisation(key, {"keyorg", std::nullopt, std::nullopt, std::nullopt})) ==
        ErrorCode::kPermissionDenied);

  // Nobody gives a key more than they hold; roles and projects are checked.
  w.Join(w.bob, "developer");
  CHECK(CodeOf(keys.Create(w.bob, "acme", "x", "admin", std::nullopt, std::nullopt)) ==
        ErrorCode::kPermissionDenied);
  Must(keys.Create(w.bob, "acme", "x", "project.admin", "blog", std::nullopt));
  CHECK(CodeOf(keys.Create(w.ann, "acme", "x", "owner", std::nullopt, std::nullopt)) ==
        ErrorCode::kInvalidArgument);
  CHECK(CodeOf(keys.Create(w.ann, "acme", "x", "project.viewer", "lair", std::nullopt)) ==
        ErrorCode::kInvalidArgument);
  CHECK(CodeOf(keys.Create(w.ann, "acme", "", "viewer", std::nullopt, std::nullopt)) ==
        ErrorCode::kInvalidArgument);
  CHECK(CodeOf(keys.Create(w.eve, "acme", "x", "viewer", std::nullopt, std::nullopt)) ==
        ErrorCode::kNotFound);

  // Listing and revoking; a revoked key opens nothing and keeps no policy.
  CHECK(Must(keys.List(w.ann, "acme")).size() == 2);
  CHECK(CodeOf(keys.List(w.eve, "acme")) == ErrorCode::kNotFound);
  CHECK(CodeOf(keys.Revoke(w.eve, "evil", made.view.key.id)) == ErrorCode::kNotFound);
  Must(keys.Revoke(w.ann, "acme", made.view.key.id));
  CHECK(CodeOf(api_keys.Identify("shop", made.secret)) == ErrorCode::kUnauthenticated);
  for (const auto& policy : Must(w.access.ListPolicies(w.ann, "acme"))) {
    CHECK(policy.policy.subject.id != made.view.key.id);
  }
}

TEST_CASE("access: a platform store made by an older build gains the new fields", "[application][access]") {
  World w;
  auto store = Must(w.platform.Store());
  auto schema = Must(store->Schema());
  const Collection* sessions = schema->FindById(application::PlatformStore::kSessionsCollectionId);
  REQUIRE(sessions != nullptr);
  // As an older build made it: no role field.
  Collection older = *sessions;
  std::erase_if(older.fields, [](const Field& f) { return f.name == "role"; });
  Must(store->ApplySchema({{*sessions, older}}, schema->version, "test", w.clock.Now()));
  REQUIRE(Must(store->Schema())->FindById(application::PlatformStore::kSessionsCollectionId)->FindField("role") == nullptr);

  application::PlatformStore again{w.stores, w.clock};
  auto upgraded = Must(Must(again.Store())->Schema());
  CHECK(upgraded->FindById(application::PlatformStore::kSessionsCollectionId)->FindField("role") != nullptr);
}
