// The AccessStore contract: every adapter of the port passes exactly these cases. They pin the
// port's documented behaviour (orders, totals, error codes, atomicity, the last-owner
// invariant), the isolation of organisations, and what goes with a deleted organisation or
// project.
#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "contracts/access_store_fixture.hpp"

using namespace socle;
using namespace socle::domain;
using application::DeleteMode;
using application::PolicyChange;

namespace {

// ---- values ------------------------------------------------------------------------------------

// A 15-character id: `prefix`, zeros, then `n` ("pol" 7 -> "pol000000000007").
std::string Key(std::string_view prefix, int n) {
  std::string digits = std::to_string(n);
  return std::string(prefix) + std::string(15 - prefix.size() - digits.size(), '0') + digits;
}

Id I(std::string_view text) { return Id::Parse(text).value(); }
Slug S(std::string_view text) { return Slug::Parse(text).value(); }
Timestamp T(std::int64_t micros) { return Timestamp::FromUnixMicros(micros); }
PageRequest P(std::int64_t page, std::int64_t per_page) {
  return PageRequest::Make(page, per_page).value();
}

const std::string kOrgA = Key("orga", 1);
const std::string kOrgB = Key("orgb", 1);
const std::string kShop = Key("shop", 1);  // a project of A
const std::string kBlog = Key("blog", 1);  // another project of A
const std::string kNews = Key("news", 1);  // a project of B

Organisation Org(const std::string& id, std::string_view slug) {
  return Organisation{I(id), S(slug), DisplayName::Parse("Org " + std::string(slug)).value(),
                      S("local"), IsolationTier::kShared, T(1'700'000'000'000'001),
                      T(1'700'000'000'000'001)};
}

Project Proj(const std::string& id, std::string_view slug, const std::string& org_id) {
  // The organisation slug is the store's to fill in (from org_id); any valid one will do here.
  return Project{I(id), S(slug), DisplayName::Parse("Project").value(), I(org_id), S(slug),
                 T(1'700'000'000'000'002), T(1'700'000'000'000'002)};
}

Membership Mem(const std::string& org, const std::string& member, std::string email,
               std::int64_t created = 1'700'000'000'123'456) {
  return Membership{I(org), member, std::move(email), T(created)};
}

StoredPolicy Pol(const std::string& id, const std::string& org, RbacSubject::Kind kind,
                 const std::string& subject, std::string role,
                 std::optional<std::string> project = std::nullopt,
                 std::string created_by = "system") {
  StoredPolicy out;
  out.policy = Policy{id, RbacSubject{kind, subject}, std::move(role), org, std::move(project)};
  out.created = T(1'700'000'000'654'321);
  out.created_by = std::move(created_by);
  return out;
}

StoredPolicy MemberPol(const std::string& id, const std::string& org, const std::string& member,
                       std::string role, std::optional<std::string> project = std::nullopt) {
  return Pol(id, org, RbacSubject::Kind::kMember, member, std::move(role), std::move(project));
}

StoredPolicy OwnerPol(const std::string& id, const std::string& org, const std::string& member) {
  return MemberPol(id, org, member, std::string(kOwnerRole));
}

Invitation Inv(const std::string& id, const std::string& org, std::string role,
               std::string token, std::int64_t created = 1'000, std::int64_t expires = 900'000) {
  return Invitation{.id = I(id),
                    .org_id = I(org),
                    .email = "guest@example.com",
                    .role = std::move(role),
                    .project = std::nullopt,
                    .token_binding = std::move(token),
                    .invited_by = Key("mem", 1),
                    .state = InvitationState::kPending,
                    .created = T(created),
                    .expires = T(expires),
                    .decided = std::nullopt};
}

Team TeamOf(const std::string& id, const std::string& org, std::string name) {
  return Team{I(id), I(org), std::move(name), "", T(1'700'000'000'000'100),
              T(1'700'000'000'000'100)};
}

CustomRole RoleOf(const std::string& org, std::string id, std::vector<std::string> parents = {},
                  std::vector<std::string> permissions = {"records.read"}) {
  Role role{.id = id,
            .name = "Role " + id,
            .scope = RbacScope::kOrganisation,
            .parents = std::move(parents),
            .permissions = std::move(permissions),
            .builtin = false};
  return CustomRole{.org_id = I(org),
                    .role = std::move(role),
                    .created = T(1'700'000'000'000'200),
                    .updated = T(1'700'000'000'000'200)};
}

FeatureFlag FlagOf(std::string key, FlagLevel level, std::string org, std::string subject,
                   JsonValue value) {
  FeatureFlag out;
  out.key = std::move(key);
  out.level = level;
  out.org_id = std::move(org);
  out.subject = std::move(subject);
  out.value = std::move(value);
  out.description = "about " + out.key;
  out.updated = T(1'700'000'000'000'300);
  out.updated_by = "superuser:" + Key("sup", 1);
  return out;
}

// ---- outcomes ----------------------------------------------------------------------------------

// "ok", or the error's code: what the contract pins.
template <typename T>
std::string Code(const Result<T>& result) {
  return result ? "ok" : std::string(ToString(result.error().code));
}

// "ok", or everything about the error: shown when a step that must succeed fails.
template <typename T>
std::string Outcome(const Result<T>& result) {
  if (result) return "ok";
  return std::string(ToString(result.error().code)) + ": " + result.error().message + " [" +
         result.error().internal + "]";
}

#define REQUIRE_OK(expr) REQUIRE(Outcome(expr) == "ok")

std::vector<std::string> PolicyIds(const Result<std::vector<StoredPolicy>>& policies) {
  std::vector<std::string> out;
  for (const auto& p : policies.value()) out.push_back(p.policy.id);
  return out;
}

std::vector<std::string> MemberIds(const std::vector<Membership>& memberships) {
  std::vector<std::string> out;
  for (const auto& m : memberships) out.push_back(m.member_id);
  return out;
}

std::vector<std::string> InvitationIds(const std::vector<Invitation>& invitations) {
  std::vector<std::string> out;
  for (const auto& i : invitations) out.push_back(i.id.str());
  return out;
}

std::vector<std::string> TeamNames(const Result<std::vector<Team>>& teams) {
  std::vector<std::string> out;
  for (const auto& t : teams.value()) out.push_back(t.name);
  return out;
}

std::vector<std::string> RoleIds(const Result<std::vector<CustomRole>>& roles) {
  std::vector<std::string> out;
  for (const auto& r : roles.value()) out.push_back(r.role.id);
  return out;
}

// "key/level/subject" of each flag, in the order listed.
std::vector<std::string> FlagNames(const Result<std::vector<FeatureFlag>>& flags) {
  std::vector<std::string> out;
  for (const auto& f : flags.value()) {
    out.push_back(f.key + "/" + std::string(ToString(f.level)) + "/" + f.subject);
  }
  return out;
}

// Two organisations, A (projects shop and blog) and B (project news), nothing else.
std::unique_ptr<testing::AccessStoreUnderTest> TwoOrganisations() {
  auto ut = testing::MakeAccessStoreUnderTest();
  auto& catalogue = ut->catalogue();
  REQUIRE_OK(catalogue.InsertOrganisation(Org(kOrgA, "acme")));
  REQUIRE_OK(catalogue.InsertOrganisation(Org(kOrgB, "bigco")));
  REQUIRE_OK(catalogue.InsertProject(Proj(kShop, "shop", kOrgA)));
  REQUIRE_OK(catalogue.InsertProject(Proj(kBlog, "blog", kOrgA)));
  REQUIRE_OK(catalogue.InsertProject(Proj(kNews, "news", kOrgB)));
  return ut;
}

// Everything an organisation's access data holds, read through the port, for comparing the
// data before and after something that must not touch it.
struct Snapshot {
  std::vector<Membership> memberships;
  std::vector<Invitation> invitations;
  std::vector<Team> teams;
  std::vector<std::vector<Membership>> team_members;
  std::vector<CustomRole> roles;
  std::vector<StoredPolicy> policies;
  std::vector<FeatureFlag> flags;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

Snapshot Take(application::AccessStore& access, const std::string& org) {
  Snapshot out;
  out.memberships = access.ListMemberships(I(org), P(1, 1000)).value().items;
  out.invitations = access.ListInvitations(I(org), P(1, 1000)).value().items;
  out.teams = access.ListTeams(I(org)).value();
  for (const auto& team : out.teams) {
    out.team_members.push_back(access.TeamMembers(I(org), team.id).value());
  }
  out.roles = access.ListRoles(I(org)).value();
  out.policies = access.ListPolicies(I(org)).value();
  out.flags = access.ListFlags(org).value();
  return out;
}

// Gives an organisation one of every kind of access row: members m1 (owner) and m2, a team
// with m2 in it, a custom role, policies at the organisation and on `project`, an
// invitation at the organisation and one on `project`, and a flag of each organisation level.
// `n` keeps the ids of two organisations apart.
void Populate(application::AccessStore& access, const std::string& org,
              const std::string& project, int n) {
  const std::string m1 = Key("mem", 10 * n + 1);
  const std::string m2 = Key("mem", 10 * n + 2);
  REQUIRE_OK(access.InsertMembership(Mem(org, m1, "one@example.com"),
                                     {OwnerPol(Key("pol", 10 * n + 1), org, m1)}));
  REQUIRE_OK(access.InsertMembership(
      Mem(org, m2, "two@example.com"),
      {MemberPol(Key("pol", 10 * n + 2), org, m2, "project.editor", project)}));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", n), org, "Ops")));
  REQUIRE_OK(access.AddTeamMember(I(org), I(Key("team", n)), m2));
  REQUIRE_OK(access.PutRole(RoleOf(org, "billing", {"viewer"})));
  REQUIRE_OK(access.ChangePolicies(
      I(org), PolicyChange{{},
                           {Pol(Key("pol", 10 * n + 3), org, RbacSubject::Kind::kTeam,
                                Key("team", n), "billing"),
                            Pol(Key("pol", 10 * n + 4), org, RbacSubject::Kind::kApiKey,
                                Key("key", n), "viewer", project)}}));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 10 * n + 1), org, "billing",
                                         "token-org-" + std::to_string(n))));
  auto on_project = Inv(Key("inv", 10 * n + 2), org, "project.viewer",
                        "token-project-" + std::to_string(n));
  on_project.project = project;
  REQUIRE_OK(access.InsertInvitation(on_project));
  REQUIRE_OK(
      access.PutFlag(FlagOf("beta", FlagLevel::kOrganisation, org, "", JsonValue::Bool(true))));
  REQUIRE_OK(
      access.PutFlag(FlagOf("beta", FlagLevel::kRole, org, "billing", JsonValue::Integer(2))));
  REQUIRE_OK(access.PutFlag(FlagOf("beta", FlagLevel::kUser, org, m2, JsonValue::String("on"))));
}

}  // namespace

// ---- memberships -------------------------------------------------------------------------------

TEST_CASE("access: memberships round-trip and list by e-mail with paging totals",
          "[contract][access][members]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const char* emails[] = {"delta@example.com", "alpha@example.com", "echo@example.com",
                          "charlie@example.com", "bravo@example.com"};
  for (int n = 0; n < 5; ++n) {
    REQUIRE_OK(access.InsertMembership(Mem(kOrgA, Key("mem", n + 1), emails[n],
                                           1'700'000'000'000'000 + n),
                                       {}));
  }
  REQUIRE_OK(access.InsertMembership(Mem(kOrgB, Key("mem", 9), "aaa@example.com"), {}));

  auto got = access.GetMembership(I(kOrgA), Key("mem", 4));
  REQUIRE_OK(got);
  CHECK(*got == Mem(kOrgA, Key("mem", 4), "charlie@example.com", 1'700'000'000'000'003));
  CHECK(Code(access.GetMembership(I(kOrgA), Key("mem", 99))) == "not_found");

  auto first = access.ListMemberships(I(kOrgA), P(1, 2));
  REQUIRE_OK(first);
  CHECK(first->total_items == 5);
  CHECK(first->TotalPages() == 3);
  CHECK(first->page == 1);
  CHECK(first->per_page == 2);
  CHECK(MemberIds(first->items) == std::vector<std::string>{Key("mem", 2), Key("mem", 5)});
  auto last = access.ListMemberships(I(kOrgA), P(3, 2));
  REQUIRE_OK(last);
  CHECK(MemberIds(last->items) == std::vector<std::string>{Key("mem", 3)});
  CHECK(last->items[0] == Mem(kOrgA, Key("mem", 3), "echo@example.com", 1'700'000'000'000'002));
  auto beyond = access.ListMemberships(I(kOrgA), P(4, 2));
  REQUIRE_OK(beyond);
  CHECK(beyond->items.empty());
  CHECK(beyond->total_items == 5);

  auto of_b = access.ListMemberships(I(kOrgB), P(1, 30));
  REQUIRE_OK(of_b);
  CHECK(of_b->total_items == 1);
  CHECK(MemberIds(of_b->items) == std::vector<std::string>{Key("mem", 9)});
  auto of_nobody = access.ListMemberships(I(Key("orgz", 1)), P(1, 30));
  REQUIRE_OK(of_nobody);
  CHECK(of_nobody->total_items == 0);
  CHECK(of_nobody->items.empty());
}

TEST_CASE("access: e-mail ties list by member id", "[contract][access][members]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, Key("mem", 3), "same@example.com"), {}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, Key("mem", 1), "same@example.com"), {}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, Key("mem", 2), "same@example.com"), {}));
  auto page = access.ListMemberships(I(kOrgA), P(1, 30));
  REQUIRE_OK(page);
  CHECK(MemberIds(page->items) ==
        std::vector<std::string>{Key("mem", 1), Key("mem", 2), Key("mem", 3)});
}

TEST_CASE("access: a member joins an organisation once, and only an existing one",
          "[contract][access][members]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, Key("mem", 1), "one@example.com"), {}));
  CHECK(Code(access.InsertMembership(Mem(kOrgA, Key("mem", 1), "other@example.com"), {})) ==
        "already_exists");
  CHECK(access.GetMembership(I(kOrgA), Key("mem", 1))->email == "one@example.com");
  // The same member in another organisation is another membership.
  REQUIRE_OK(access.InsertMembership(Mem(kOrgB, Key("mem", 1), "one@example.com"), {}));

  CHECK(Code(access.InsertMembership(Mem(Key("orgz", 1), Key("mem", 2), "two@example.com"),
                                     {})) == "not_found");
  CHECK(Code(access.InsertMembership(Mem(kOrgA, "", "two@example.com"), {})) ==
        "invalid_argument");
  CHECK(access.ListMemberships(I(kOrgA), P(1, 30))->total_items == 1);
}

TEST_CASE("access: InsertMembership adds its policies in the same transaction",
          "[contract][access][members][policies]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m1 = Key("mem", 1);
  auto owner = OwnerPol(Key("pol", 1), kOrgA, m1);
  owner.created_by = "member:" + Key("mem", 7);
  auto editor = MemberPol(Key("pol", 2), kOrgA, m1, "project.editor", kShop);
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, m1, "one@example.com"), {owner, editor}));
  auto policies = access.ListPolicies(I(kOrgA));
  REQUIRE_OK(policies);
  REQUIRE(policies->size() == 2);
  CHECK((*policies)[0] == owner);  // every field round-trips, created_by and times included
  CHECK((*policies)[1] == editor);

  SECTION("a failing policy leaves neither the membership nor the other policies") {
    const std::string m2 = Key("mem", 2);
    auto fine = MemberPol(Key("pol", 3), kOrgA, m2, "viewer");
    auto taken = MemberPol(Key("pol", 1), kOrgA, m2, "developer");  // the owner policy's id
    CHECK(Code(access.InsertMembership(Mem(kOrgA, m2, "two@example.com"), {fine, taken})) ==
          "already_exists");
    CHECK(Code(access.GetMembership(I(kOrgA), m2)) == "not_found");
    CHECK(PolicyIds(access.ListPolicies(I(kOrgA))) ==
          std::vector<std::string>{Key("pol", 1), Key("pol", 2)});
  }
  SECTION("a policy of another organisation is refused") {
    const std::string m2 = Key("mem", 2);
    auto elsewhere = MemberPol(Key("pol", 3), kOrgB, m2, "viewer");
    CHECK(Code(access.InsertMembership(Mem(kOrgA, m2, "two@example.com"), {elsewhere})) ==
          "invalid_argument");
    CHECK(Code(access.GetMembership(I(kOrgA), m2)) == "not_found");
    CHECK(access.ListPolicies(I(kOrgB))->empty());
  }
  SECTION("a policy on another organisation's project is refused") {
    const std::string m2 = Key("mem", 2);
    auto on_news = MemberPol(Key("pol", 3), kOrgA, m2, "project.viewer", kNews);
    CHECK(Code(access.InsertMembership(Mem(kOrgA, m2, "two@example.com"), {on_news})) ==
          "not_found");
    CHECK(Code(access.GetMembership(I(kOrgA), m2)) == "not_found");
    CHECK(access.ListPolicies(I(kOrgA))->size() == 2);
  }
}

TEST_CASE("access: MemberOrganisations lists a member's organisations by org id",
          "[contract][access][members]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string kOrgC = Key("orgc", 1);
  REQUIRE_OK(ut->catalogue().InsertOrganisation(Org(kOrgC, "cargo")));
  const std::string m = Key("mem", 1);
  // Joined in an order that is not the id order.
  REQUIRE_OK(access.InsertMembership(Mem(kOrgC, m, "m@example.com", 3), {}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, m, "m@example.com", 1), {}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgB, m, "m@example.com", 2), {}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgB, Key("mem", 2), "x@example.com"), {}));

  auto orgs = access.MemberOrganisations(m);
  REQUIRE_OK(orgs);
  REQUIRE(orgs->size() == 3);
  CHECK((*orgs)[0] == Mem(kOrgA, m, "m@example.com", 1));
  CHECK((*orgs)[1] == Mem(kOrgB, m, "m@example.com", 2));
  CHECK((*orgs)[2] == Mem(kOrgC, m, "m@example.com", 3));
  auto none = access.MemberOrganisations(Key("mem", 99));
  REQUIRE_OK(none);
  CHECK(none->empty());
}

TEST_CASE("access: DeleteMembership removes the member's policies and team places there only",
          "[contract][access][members]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string owner = Key("mem", 1);
  const std::string m = Key("mem", 2);
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, owner, "owner@example.com"),
                                     {OwnerPol(Key("pol", 1), kOrgA, owner)}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, m, "m@example.com"),
                                     {MemberPol(Key("pol", 2), kOrgA, m, "developer"),
                                      MemberPol(Key("pol", 3), kOrgA, m, "project.admin", kShop)}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgB, m, "m@example.com"),
                                     {MemberPol(Key("pol", 4), kOrgB, m, "developer")}));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 1), kOrgA, "Ops")));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 2), kOrgB, "Ops")));
  REQUIRE_OK(access.AddTeamMember(I(kOrgA), I(Key("team", 1)), m));
  REQUIRE_OK(access.AddTeamMember(I(kOrgA), I(Key("team", 1)), owner));
  REQUIRE_OK(access.AddTeamMember(I(kOrgB), I(Key("team", 2)), m));

  REQUIRE_OK(access.DeleteMembership(I(kOrgA), m));
  CHECK(Code(access.GetMembership(I(kOrgA), m)) == "not_found");
  CHECK(PolicyIds(access.ListPolicies(I(kOrgA))) == std::vector<std::string>{Key("pol", 1)});
  CHECK(MemberIds(access.TeamMembers(I(kOrgA), I(Key("team", 1))).value()) ==
        std::vector<std::string>{owner});
  CHECK(access.MemberTeams(I(kOrgA), m)->empty());
  // Organisation B keeps the member, their policy and their team place.
  CHECK(Code(access.GetMembership(I(kOrgB), m)) == "ok");
  CHECK(PolicyIds(access.ListPolicies(I(kOrgB))) == std::vector<std::string>{Key("pol", 4)});
  CHECK(access.MemberTeams(I(kOrgB), m).value() == std::vector<std::string>{Key("team", 2)});

  CHECK(Code(access.DeleteMembership(I(kOrgA), m)) == "not_found");
  CHECK(Code(access.DeleteMembership(I(kOrgB), owner)) == "not_found");
  CHECK(Code(access.GetMembership(I(kOrgA), owner)) == "ok");
}

TEST_CASE("access: the last owner cannot leave through DeleteMembership",
          "[contract][access][members][owner]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string o1 = Key("mem", 1);
  const std::string o2 = Key("mem", 2);
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, o1, "o1@example.com"),
                                     {OwnerPol(Key("pol", 1), kOrgA, o1)}));
  // Owner on a project, or a team bound to "owner", is not an owner of the organisation.
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, o2, "o2@example.com"),
                                     {MemberPol(Key("pol", 2), kOrgA, o2, "owner", kShop)}));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 1), kOrgA, "Owners")));
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgA), PolicyChange{{},
                             {Pol(Key("pol", 3), kOrgA, RbacSubject::Kind::kTeam,
                                  Key("team", 1), "owner")}}));
  const auto before = Take(access, kOrgA);

  CHECK(Code(access.DeleteMembership(I(kOrgA), o1)) == "failed_precondition");
  CHECK(Take(access, kOrgA) == before);  // nothing changed

  // With a second owner, the first may go; then the second is the last.
  REQUIRE_OK(access.ChangePolicies(I(kOrgA),
                                   PolicyChange{{}, {OwnerPol(Key("pol", 4), kOrgA, o2)}}));
  REQUIRE_OK(access.DeleteMembership(I(kOrgA), o1));
  CHECK(Code(access.DeleteMembership(I(kOrgA), o2)) == "failed_precondition");
  CHECK(Code(access.GetMembership(I(kOrgA), o2)) == "ok");

  // An organisation without owners has nothing to keep.
  REQUIRE_OK(access.InsertMembership(Mem(kOrgB, o1, "o1@example.com"),
                                     {MemberPol(Key("pol", 5), kOrgB, o1, "admin")}));
  REQUIRE_OK(access.DeleteMembership(I(kOrgB), o1));
}

// ---- invitations -------------------------------------------------------------------------------

TEST_CASE("access: invitations round-trip and list newest first",
          "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  auto full = Inv(Key("inv", 1), kOrgA, "project.editor", "binding-1", 1'700'000'000'000'001,
                  1'700'000'999'000'001);
  full.email = "invitee+tag@example.com";
  full.project = kShop;
  full.invited_by = "";
  REQUIRE_OK(access.InsertInvitation(full));
  // created 3, 5, 5 (a tie: the greater id first), 4; and one in B.
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 2), kOrgA, "viewer", "binding-2", 3)));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 3), kOrgA, "viewer", "binding-3", 5)));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 4), kOrgA, "viewer", "binding-4", 5)));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 5), kOrgA, "viewer", "binding-5", 4)));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 6), kOrgB, "viewer", "binding-6", 9)));

  auto got = access.GetInvitation(I(kOrgA), I(Key("inv", 1)));
  REQUIRE_OK(got);
  CHECK(*got == full);
  CHECK_FALSE(got->decided.has_value());
  auto plain = access.GetInvitation(I(kOrgA), I(Key("inv", 2)));
  REQUIRE_OK(plain);
  CHECK(*plain == Inv(Key("inv", 2), kOrgA, "viewer", "binding-2", 3));
  CHECK_FALSE(plain->project.has_value());
  CHECK(Code(access.GetInvitation(I(kOrgA), I(Key("inv", 99)))) == "not_found");

  auto first = access.ListInvitations(I(kOrgA), P(1, 3));
  REQUIRE_OK(first);
  CHECK(first->total_items == 5);
  CHECK(first->TotalPages() == 2);
  CHECK(InvitationIds(first->items) ==
        std::vector<std::string>{Key("inv", 1), Key("inv", 4), Key("inv", 3)});
  auto second = access.ListInvitations(I(kOrgA), P(2, 3));
  REQUIRE_OK(second);
  CHECK(second->total_items == 5);
  CHECK(InvitationIds(second->items) == std::vector<std::string>{Key("inv", 5), Key("inv", 2)});
  auto beyond = access.ListInvitations(I(kOrgA), P(3, 3));
  REQUIRE_OK(beyond);
  CHECK(beyond->items.empty());
  CHECK(beyond->total_items == 5);
  CHECK(InvitationIds(access.ListInvitations(I(kOrgB), P(1, 30))->items) ==
        std::vector<std::string>{Key("inv", 6)});
}

TEST_CASE("access: FindInvitation looks an invitation up by its token binding, in any organisation",
          "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 1), kOrgA, "viewer", "binding-a")));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 2), kOrgB, "admin", "binding-b")));
  auto found = access.FindInvitation("binding-b");
  REQUIRE_OK(found);
  CHECK(*found == Inv(Key("inv", 2), kOrgB, "admin", "binding-b"));
  CHECK(access.FindInvitation("binding-a")->id.str() == Key("inv", 1));
  CHECK(Code(access.FindInvitation("binding-c")) == "not_found");
  CHECK(Code(access.FindInvitation("BINDING-A")) == "not_found");  // bindings are exact
  CHECK(Code(access.FindInvitation("")) == "not_found");
}

TEST_CASE("access: invitation ids and token bindings are unique; an invitation needs its "
          "organisation and project",
          "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 1), kOrgA, "viewer", "binding-1")));
  CHECK(Code(access.InsertInvitation(Inv(Key("inv", 1), kOrgA, "viewer", "binding-2"))) ==
        "already_exists");
  CHECK(Code(access.InsertInvitation(Inv(Key("inv", 1), kOrgB, "viewer", "binding-2"))) ==
        "already_exists");
  CHECK(Code(access.InsertInvitation(Inv(Key("inv", 2), kOrgA, "viewer", "binding-1"))) ==
        "already_exists");
  CHECK(Code(access.InsertInvitation(Inv(Key("inv", 2), kOrgB, "viewer", "binding-1"))) ==
        "already_exists");
  CHECK(Code(access.InsertInvitation(Inv(Key("inv", 2), Key("orgz", 1), "viewer", "b-2"))) ==
        "not_found");

  auto on_news = Inv(Key("inv", 2), kOrgA, "project.viewer", "binding-2");
  on_news.project = kNews;  // a project of B
  CHECK(Code(access.InsertInvitation(on_news)) == "not_found");
  auto on_nothing = on_news;
  on_nothing.project = Key("nope", 1);
  CHECK(Code(access.InsertInvitation(on_nothing)) == "not_found");

  auto closed_undated = Inv(Key("inv", 2), kOrgA, "viewer", "binding-2");
  closed_undated.state = InvitationState::kDeclined;  // a closed invitation has a decision time
  CHECK(Code(access.InsertInvitation(closed_undated)) == "invalid_argument");
  auto no_token = Inv(Key("inv", 2), kOrgA, "viewer", "");
  CHECK(Code(access.InsertInvitation(no_token)) == "invalid_argument");

  CHECK(access.ListInvitations(I(kOrgA), P(1, 30))->total_items == 1);
  CHECK(access.ListInvitations(I(kOrgB), P(1, 30))->total_items == 0);
  // A closed invitation with its decision is stored as it is.
  auto closed = closed_undated;
  closed.decided = T(2'000);
  REQUIRE_OK(access.InsertInvitation(closed));
  CHECK(access.GetInvitation(I(kOrgA), closed.id).value() == closed);
}

TEST_CASE("access: an invitation is closed once", "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 1), kOrgA, "viewer", "binding-1")));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 2), kOrgA, "viewer", "binding-2")));

  REQUIRE_OK(access.CloseInvitation(I(kOrgA), I(Key("inv", 1)), InvitationState::kDeclined,
                                    T(5'000)));
  auto declined = access.GetInvitation(I(kOrgA), I(Key("inv", 1)));
  REQUIRE_OK(declined);
  CHECK(declined->state == InvitationState::kDeclined);
  CHECK(declined->decided == T(5'000));

  CHECK(Code(access.CloseInvitation(I(kOrgA), I(Key("inv", 1)), InvitationState::kRevoked,
                                    T(6'000))) == "failed_precondition");
  CHECK(access.GetInvitation(I(kOrgA), I(Key("inv", 1))).value() == *declined);

  REQUIRE_OK(access.CloseInvitation(I(kOrgA), I(Key("inv", 2)), InvitationState::kRevoked,
                                    T(7'000)));
  CHECK(access.GetInvitation(I(kOrgA), I(Key("inv", 2)))->state == InvitationState::kRevoked);
  CHECK(Code(access.CloseInvitation(I(kOrgA), I(Key("inv", 2)), InvitationState::kDeclined,
                                    T(8'000))) == "failed_precondition");

  CHECK(Code(access.CloseInvitation(I(kOrgA), I(Key("inv", 9)), InvitationState::kRevoked,
                                    T(1))) == "not_found");
}

TEST_CASE("access: an invitation is closed only as declined or revoked",
          "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 1), kOrgA, "viewer", "binding-1")));
  CHECK(Code(access.CloseInvitation(I(kOrgA), I(Key("inv", 1)), InvitationState::kAccepted,
                                    T(1))) == "invalid_argument");
  CHECK(Code(access.CloseInvitation(I(kOrgA), I(Key("inv", 1)), InvitationState::kPending,
                                    T(1))) == "invalid_argument");
  CHECK(access.GetInvitation(I(kOrgA), I(Key("inv", 1)))->state == InvitationState::kPending);
}

TEST_CASE("access: accepting an invitation adds the membership and the policy at once",
          "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m = Key("mem", 1);
  auto invitation = Inv(Key("inv", 1), kOrgA, "project.editor", "binding-1");
  invitation.project = kShop;
  REQUIRE_OK(access.InsertInvitation(invitation));
  const auto membership = Mem(kOrgA, m, "guest@example.com", 42);
  const auto policy = MemberPol(Key("pol", 1), kOrgA, m, "project.editor", kShop);

  REQUIRE_OK(access.AcceptInvitation(I(kOrgA), invitation.id, membership, policy, T(9'000)));
  auto accepted = access.GetInvitation(I(kOrgA), invitation.id);
  REQUIRE_OK(accepted);
  CHECK(accepted->state == InvitationState::kAccepted);
  CHECK(accepted->decided == T(9'000));
  CHECK(access.GetMembership(I(kOrgA), m).value() == membership);
  auto policies = access.ListPolicies(I(kOrgA));
  REQUIRE_OK(policies);
  REQUIRE(policies->size() == 1);
  CHECK((*policies)[0] == policy);

  // Once accepted it changes no more.
  CHECK(Code(access.AcceptInvitation(I(kOrgA), invitation.id, membership,
                                     MemberPol(Key("pol", 2), kOrgA, m, "viewer"), T(9'500))) ==
        "failed_precondition");
  CHECK(Code(access.CloseInvitation(I(kOrgA), invitation.id, InvitationState::kRevoked,
                                    T(9'600))) == "failed_precondition");
  CHECK(access.ListPolicies(I(kOrgA))->size() == 1);
  CHECK(Code(access.AcceptInvitation(I(kOrgA), I(Key("inv", 9)), membership,
                                     MemberPol(Key("pol", 2), kOrgA, m, "viewer"), T(1))) ==
        "not_found");
}

TEST_CASE("access: accepting keeps an existing membership and adds the policy",
          "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m = Key("mem", 1);
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, m, "first@example.com", 1),
                                     {MemberPol(Key("pol", 1), kOrgA, m, "viewer")}));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 1), kOrgA, "admin", "binding-1")));
  REQUIRE_OK(access.AcceptInvitation(I(kOrgA), I(Key("inv", 1)),
                                     Mem(kOrgA, m, "second@example.com", 2),
                                     MemberPol(Key("pol", 2), kOrgA, m, "admin"), T(3)));
  CHECK(access.GetMembership(I(kOrgA), m).value() == Mem(kOrgA, m, "first@example.com", 1));
  CHECK(PolicyIds(access.ListPolicies(I(kOrgA))) ==
        std::vector<std::string>{Key("pol", 1), Key("pol", 2)});
}

TEST_CASE("access: an acceptance that cannot add its policy changes nothing",
          "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m = Key("mem", 1);
  const std::string other = Key("mem", 2);
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, other, "other@example.com"),
                                     {MemberPol(Key("pol", 1), kOrgA, other, "viewer")}));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 1), kOrgA, "viewer", "binding-1")));
  const auto before = Take(access, kOrgA);

  // The policy's id is taken: the invitation stays pending and the member does not join.
  CHECK(Code(access.AcceptInvitation(I(kOrgA), I(Key("inv", 1)), Mem(kOrgA, m, "m@example.com"),
                                     MemberPol(Key("pol", 1), kOrgA, m, "viewer"), T(5))) ==
        "already_exists");
  CHECK(Take(access, kOrgA) == before);
  // A policy on another organisation's project.
  CHECK(Code(access.AcceptInvitation(I(kOrgA), I(Key("inv", 1)), Mem(kOrgA, m, "m@example.com"),
                                     MemberPol(Key("pol", 2), kOrgA, m, "project.viewer", kNews),
                                     T(5))) == "not_found");
  CHECK(Take(access, kOrgA) == before);
  // A membership or a policy of another organisation.
  CHECK(Code(access.AcceptInvitation(I(kOrgA), I(Key("inv", 1)), Mem(kOrgB, m, "m@example.com"),
                                     MemberPol(Key("pol", 2), kOrgA, m, "viewer"), T(5))) ==
        "invalid_argument");
  CHECK(Code(access.AcceptInvitation(I(kOrgA), I(Key("inv", 1)), Mem(kOrgA, m, "m@example.com"),
                                     MemberPol(Key("pol", 2), kOrgB, m, "viewer"), T(5))) ==
        "invalid_argument");
  CHECK(Take(access, kOrgA) == before);
  CHECK(Code(access.GetMembership(I(kOrgB), m)) == "not_found");
  CHECK(access.ListPolicies(I(kOrgB))->empty());
}

TEST_CASE("access: a revoked or declined invitation cannot be accepted",
          "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m = Key("mem", 1);
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 1), kOrgA, "viewer", "binding-1")));
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 2), kOrgA, "viewer", "binding-2")));
  REQUIRE_OK(access.CloseInvitation(I(kOrgA), I(Key("inv", 1)), InvitationState::kRevoked,
                                    T(10)));
  REQUIRE_OK(access.CloseInvitation(I(kOrgA), I(Key("inv", 2)), InvitationState::kDeclined,
                                    T(11)));
  for (int n : {1, 2}) {
    CHECK(Code(access.AcceptInvitation(I(kOrgA), I(Key("inv", n)), Mem(kOrgA, m, "m@example.com"),
                                       MemberPol(Key("pol", n), kOrgA, m, "viewer"), T(20))) ==
          "failed_precondition");
  }
  CHECK(Code(access.GetMembership(I(kOrgA), m)) == "not_found");
  CHECK(access.ListPolicies(I(kOrgA))->empty());
  CHECK(access.GetInvitation(I(kOrgA), I(Key("inv", 1)))->state == InvitationState::kRevoked);
  CHECK(access.GetInvitation(I(kOrgA), I(Key("inv", 1)))->decided == T(10));
}

TEST_CASE("access: PurgeInvitations removes the closed and the expired ones before a time, "
          "in every organisation",
          "[contract][access][invitations]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::int64_t before = 500;
  // id, org, expires, decided (0: pending), purged?
  struct Case {
    int n;
    std::string org;
    std::int64_t expires;
    InvitationState state;
    std::int64_t decided;
    bool purged;
  };
  const Case cases[] = {
      {1, kOrgA, 1'000, InvitationState::kPending, 0, false},   // open
      {2, kOrgA, 400, InvitationState::kPending, 0, true},      // expired
      {3, kOrgA, 500, InvitationState::kPending, 0, false},     // expires at `before`, not before
      {4, kOrgA, 2'000, InvitationState::kDeclined, 300, true},  // closed before
      {5, kOrgA, 2'000, InvitationState::kRevoked, 600, false},  // closed after
      {6, kOrgA, 2'000, InvitationState::kAccepted, 100, true},  // accepted: closed too
      {7, kOrgB, 450, InvitationState::kPending, 0, true},       // another organisation
      {8, kOrgB, 400, InvitationState::kRevoked, 700, true},     // expired, closed after
  };
  for (const auto& c : cases) {
    auto invitation = Inv(Key("inv", c.n), c.org, "viewer", "binding-" + std::to_string(c.n), 50,
                          c.expires);
    invitation.state = c.state;
    if (c.decided != 0) invitation.decided = T(c.decided);
    REQUIRE_OK(access.InsertInvitation(invitation));
  }
  auto purged = access.PurgeInvitations(T(before));
  REQUIRE_OK(purged);
  CHECK(*purged == 5);
  for (const auto& c : cases) {
    INFO("invitation " << c.n);
    CHECK(Code(access.GetInvitation(I(c.org), I(Key("inv", c.n)))) ==
          (c.purged ? "not_found" : "ok"));
  }
  CHECK(access.PurgeInvitations(T(before)).value() == 0);
}

// ---- teams -------------------------------------------------------------------------------------

TEST_CASE("access: teams round-trip and list by name ignoring case", "[contract][access][teams]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  auto described = TeamOf(Key("team", 1), kOrgA, "beta");
  described.description = "Builds the \"beta\" \xc3\xa9quipe";
  described.updated = T(1'700'000'000'999'999);
  REQUIRE_OK(access.InsertTeam(described));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 2), kOrgA, "Alpha")));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 3), kOrgA, "gamma")));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 4), kOrgA, "ALPHA2")));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 5), kOrgA, "_under")));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 6), kOrgB, "Aardvark")));

  CHECK(access.GetTeam(I(kOrgA), I(Key("team", 1))).value() == described);
  CHECK(Code(access.GetTeam(I(kOrgA), I(Key("team", 9)))) == "not_found");
  // "_" sorts before the letters once they are folded to lower case.
  CHECK(TeamNames(access.ListTeams(I(kOrgA))) ==
        std::vector<std::string>{"_under", "Alpha", "ALPHA2", "beta", "gamma"});
  CHECK(TeamNames(access.ListTeams(I(kOrgB))) == std::vector<std::string>{"Aardvark"});
  CHECK(access.ListTeams(I(Key("orgz", 1)))->empty());
}

TEST_CASE("access: team ids are unique, and names per organisation ignoring case",
          "[contract][access][teams]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 1), kOrgA, "ops")));
  CHECK(Code(access.InsertTeam(TeamOf(Key("team", 1), kOrgA, "other"))) == "already_exists");
  CHECK(Code(access.InsertTeam(TeamOf(Key("team", 1), kOrgB, "other"))) == "already_exists");
  CHECK(Code(access.InsertTeam(TeamOf(Key("team", 2), kOrgA, "OPS"))) == "already_exists");
  CHECK(Code(access.InsertTeam(TeamOf(Key("team", 2), kOrgA, "Ops"))) == "already_exists");
  CHECK(Code(access.InsertTeam(TeamOf(Key("team", 2), kOrgA, "ops"))) == "already_exists");
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 2), kOrgB, "OPS")));  // another organisation
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 3), kOrgA, "ops 2")));
  CHECK(Code(access.InsertTeam(TeamOf(Key("team", 4), Key("orgz", 1), "ops"))) == "not_found");
  CHECK(Code(access.InsertTeam(TeamOf(Key("team", 4), kOrgA, ""))) == "invalid_argument");
  CHECK(TeamNames(access.ListTeams(I(kOrgA))) == std::vector<std::string>{"ops", "ops 2"});
}

TEST_CASE("access: UpdateTeam replaces name, description and updated",
          "[contract][access][teams]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  auto ops = TeamOf(Key("team", 1), kOrgA, "ops");
  REQUIRE_OK(access.InsertTeam(ops));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 2), kOrgA, "dev")));

  auto renamed = ops;
  renamed.name = "Operations";
  renamed.description = "Keeps things running";
  renamed.updated = T(1'800'000'000'000'000);
  renamed.created = T(1);  // not a mutable field
  REQUIRE_OK(access.UpdateTeam(renamed));
  auto got = access.GetTeam(I(kOrgA), ops.id);
  REQUIRE_OK(got);
  CHECK(got->name == "Operations");
  CHECK(got->description == "Keeps things running");
  CHECK(got->updated == T(1'800'000'000'000'000));
  CHECK(got->created == ops.created);

  auto recased = renamed;
  recased.name = "OPERATIONS";  // its own name in another case is not taken
  REQUIRE_OK(access.UpdateTeam(recased));
  auto taken = renamed;
  taken.name = "DEV";
  CHECK(Code(access.UpdateTeam(taken)) == "already_exists");
  CHECK(access.GetTeam(I(kOrgA), ops.id)->name == "OPERATIONS");
  auto blank = renamed;
  blank.name = "";
  CHECK(Code(access.UpdateTeam(blank)) == "invalid_argument");

  auto unknown = TeamOf(Key("team", 9), kOrgA, "ghost");
  CHECK(Code(access.UpdateTeam(unknown)) == "not_found");
}

TEST_CASE("access: team members are the organisation's members, listed by e-mail",
          "[contract][access][teams]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m1 = Key("mem", 1);
  const std::string m2 = Key("mem", 2);
  const std::string m3 = Key("mem", 3);
  const std::string outsider = Key("mem", 4);
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, m1, "zed@example.com"), {}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, m2, "amy@example.com"), {}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, m3, "max@example.com"), {}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgB, outsider, "out@example.com"), {}));
  const auto t = I(Key("team", 1));
  const auto u = I(Key("team", 2));
  const auto empty = I(Key("team", 3));
  REQUIRE_OK(access.InsertTeam(TeamOf(t.str(), kOrgA, "T")));
  REQUIRE_OK(access.InsertTeam(TeamOf(u.str(), kOrgA, "U")));
  REQUIRE_OK(access.InsertTeam(TeamOf(empty.str(), kOrgA, "Empty")));

  REQUIRE_OK(access.AddTeamMember(I(kOrgA), t, m1));
  REQUIRE_OK(access.AddTeamMember(I(kOrgA), t, m2));
  REQUIRE_OK(access.AddTeamMember(I(kOrgA), u, m1));
  CHECK(Code(access.AddTeamMember(I(kOrgA), t, m1)) == "already_exists");
  CHECK(Code(access.AddTeamMember(I(kOrgA), t, outsider)) == "not_found");  // not of A
  CHECK(Code(access.AddTeamMember(I(kOrgA), t, Key("mem", 99))) == "not_found");
  CHECK(Code(access.AddTeamMember(I(kOrgA), I(Key("team", 9)), m3)) == "not_found");

  auto members = access.TeamMembers(I(kOrgA), t);
  REQUIRE_OK(members);
  REQUIRE(members->size() == 2);
  CHECK((*members)[0] == Mem(kOrgA, m2, "amy@example.com"));
  CHECK((*members)[1] == Mem(kOrgA, m1, "zed@example.com"));
  auto none = access.TeamMembers(I(kOrgA), empty);
  REQUIRE_OK(none);
  CHECK(none->empty());
  CHECK(Code(access.TeamMembers(I(kOrgA), I(Key("team", 9)))) == "not_found");

  CHECK(access.MemberTeams(I(kOrgA), m1).value() == std::vector<std::string>{t.str(), u.str()});
  CHECK(access.MemberTeams(I(kOrgA), m3)->empty());

  REQUIRE_OK(access.RemoveTeamMember(I(kOrgA), t, m1));
  CHECK(Code(access.RemoveTeamMember(I(kOrgA), t, m1)) == "not_found");
  CHECK(Code(access.RemoveTeamMember(I(kOrgA), t, m3)) == "not_found");
  CHECK(Code(access.RemoveTeamMember(I(kOrgA), I(Key("team", 9)), m2)) == "not_found");
  CHECK(MemberIds(access.TeamMembers(I(kOrgA), t).value()) == std::vector<std::string>{m2});
  CHECK(access.MemberTeams(I(kOrgA), m1).value() == std::vector<std::string>{u.str()});
  // Leaving a team is not leaving the organisation.
  CHECK(Code(access.GetMembership(I(kOrgA), m1)) == "ok");
}

TEST_CASE("access: DeleteTeam removes the team's places and policies, and frees its name",
          "[contract][access][teams]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string owner = Key("mem", 1);
  const std::string m = Key("mem", 2);
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, owner, "owner@example.com"),
                                     {OwnerPol(Key("pol", 1), kOrgA, owner)}));
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, m, "m@example.com"), {}));
  const auto t = I(Key("team", 1));
  REQUIRE_OK(access.InsertTeam(TeamOf(t.str(), kOrgA, "Ops")));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 2), kOrgA, "Dev")));
  REQUIRE_OK(access.AddTeamMember(I(kOrgA), t, m));
  REQUIRE_OK(access.AddTeamMember(I(kOrgA), I(Key("team", 2)), m));
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgA), PolicyChange{{},
                             {Pol(Key("pol", 2), kOrgA, RbacSubject::Kind::kTeam, t.str(),
                                  "developer"),
                              Pol(Key("pol", 3), kOrgA, RbacSubject::Kind::kTeam, t.str(),
                                  "project.admin", kShop),
                              Pol(Key("pol", 4), kOrgA, RbacSubject::Kind::kTeam,
                                  Key("team", 2), "viewer")}}));

  REQUIRE_OK(access.DeleteTeam(I(kOrgA), t));
  CHECK(Code(access.GetTeam(I(kOrgA), t)) == "not_found");
  CHECK(Code(access.TeamMembers(I(kOrgA), t)) == "not_found");
  CHECK(PolicyIds(access.ListPolicies(I(kOrgA))) ==
        std::vector<std::string>{Key("pol", 1), Key("pol", 4)});
  CHECK(access.MemberTeams(I(kOrgA), m).value() == std::vector<std::string>{Key("team", 2)});
  CHECK(Code(access.GetMembership(I(kOrgA), m)) == "ok");
  CHECK(Code(access.DeleteTeam(I(kOrgA), t)) == "not_found");
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 3), kOrgA, "ops")));  // the name is free
}

// ---- custom roles ------------------------------------------------------------------------------

TEST_CASE("access: custom roles are put, replaced keeping their creation, and listed by id",
          "[contract][access][roles]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  auto billing = RoleOf(kOrgA, "billing", {"viewer", "project.viewer"},
                        {"records.read", "project.read"});
  billing.role.name = "Billing \xe2\x82\xac \"team\"";
  auto auditor = RoleOf(kOrgA, "auditor", {}, {});
  auditor.role.scope = RbacScope::kProject;
  REQUIRE_OK(access.PutRole(billing));
  REQUIRE_OK(access.PutRole(auditor));
  REQUIRE_OK(access.PutRole(RoleOf(kOrgB, "auditor", {"viewer"})));  // ids are per organisation

  auto roles = access.ListRoles(I(kOrgA));
  REQUIRE_OK(roles);
  REQUIRE(roles->size() == 2);
  CHECK((*roles)[0] == auditor);  // empty parents and permissions round-trip too
  CHECK((*roles)[1] == billing);
  CHECK_FALSE((*roles)[1].role.builtin);

  auto replaced = billing;
  replaced.role.name = "Finance";
  replaced.role.parents = {"developer"};
  replaced.role.permissions = {"records.write"};
  replaced.role.scope = RbacScope::kProject;
  replaced.created = T(1'900'000'000'000'000);  // ignored: the role keeps its creation time
  replaced.updated = T(1'900'000'000'000'001);
  REQUIRE_OK(access.PutRole(replaced));
  auto after = access.ListRoles(I(kOrgA));
  REQUIRE_OK(after);
  REQUIRE(after->size() == 2);
  auto expected = replaced;
  expected.created = billing.created;
  CHECK((*after)[1] == expected);

  CHECK(RoleIds(access.ListRoles(I(kOrgB))) == std::vector<std::string>{"auditor"});
  CHECK(access.ListRoles(I(kOrgB))->at(0).role.parents == std::vector<std::string>{"viewer"});
  CHECK(Code(access.PutRole(RoleOf(Key("orgz", 1), "billing"))) == "not_found");
  CHECK(access.ListRoles(I(Key("orgz", 1)))->empty());
}

TEST_CASE("access: DeleteRole is refused while the role is bound, offered or inherited",
          "[contract][access][roles]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  REQUIRE_OK(access.PutRole(RoleOf(kOrgA, "billing")));
  REQUIRE_OK(access.PutRole(RoleOf(kOrgA, "finance", {"billing"})));
  REQUIRE_OK(access.PutRole(RoleOf(kOrgB, "billing")));
  // Another organisation's use of a role of the same id does not count.
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgB), PolicyChange{{}, {MemberPol(Key("pol", 9), kOrgB, Key("mem", 9), "billing")}}));

  // Inherited by "finance".
  CHECK(Code(access.DeleteRole(I(kOrgA), "billing")) == "failed_precondition");
  REQUIRE_OK(access.DeleteRole(I(kOrgA), "finance"));

  // Bound by a policy (on a project: any scope counts).
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgA),
      PolicyChange{{}, {MemberPol(Key("pol", 1), kOrgA, Key("mem", 1), "billing", kShop)}}));
  CHECK(Code(access.DeleteRole(I(kOrgA), "billing")) == "failed_precondition");
  REQUIRE_OK(access.ChangePolicies(I(kOrgA), PolicyChange{{Key("pol", 1)}, {}}));

  // Offered by a pending invitation; a closed one no longer offers it.
  REQUIRE_OK(access.InsertInvitation(Inv(Key("inv", 1), kOrgA, "billing", "binding-1")));
  CHECK(Code(access.DeleteRole(I(kOrgA), "billing")) == "failed_precondition");
  REQUIRE_OK(access.CloseInvitation(I(kOrgA), I(Key("inv", 1)), InvitationState::kRevoked,
                                    T(5)));
  CHECK(RoleIds(access.ListRoles(I(kOrgA))) == std::vector<std::string>{"billing"});

  REQUIRE_OK(access.DeleteRole(I(kOrgA), "billing"));
  CHECK(access.ListRoles(I(kOrgA))->empty());
  CHECK(Code(access.DeleteRole(I(kOrgA), "billing")) == "not_found");
  CHECK(Code(access.DeleteRole(I(kOrgA), "ghost")) == "not_found");
  CHECK(RoleIds(access.ListRoles(I(kOrgB))) == std::vector<std::string>{"billing"});
}

TEST_CASE("access: a role inheriting itself does not block its own deletion",
          "[contract][access][roles]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  // PutRole does not validate (the caller checks the catalogue); "another role" is the rule.
  REQUIRE_OK(access.PutRole(RoleOf(kOrgA, "loop", {"loop"})));
  REQUIRE_OK(access.DeleteRole(I(kOrgA), "loop"));
}

// ---- policies ----------------------------------------------------------------------------------

TEST_CASE("access: ChangePolicies removes, then adds; ListPolicies orders by id",
          "[contract][access][policies]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  auto team = Pol(Key("pol", 3), kOrgA, RbacSubject::Kind::kTeam, Key("team", 1), "developer");
  team.created_by = "apikey:" + Key("key", 1);
  auto key = Pol(Key("pol", 1), kOrgA, RbacSubject::Kind::kApiKey, Key("key", 2),
                 "project.viewer", kBlog);
  key.created_by = "superuser:" + Key("sup", 1);
  auto member = MemberPol(Key("pol", 2), kOrgA, Key("mem", 1), "admin");
  REQUIRE_OK(access.ChangePolicies(I(kOrgA), PolicyChange{{}, {team, key, member}}));
  auto listed = access.ListPolicies(I(kOrgA));
  REQUIRE_OK(listed);
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[0] == key);
  CHECK((*listed)[1] == member);
  CHECK((*listed)[2] == team);

  // Removals come first: a policy can be replaced under the same id in one change.
  auto demoted = MemberPol(Key("pol", 2), kOrgA, Key("mem", 1), "viewer");
  REQUIRE_OK(access.ChangePolicies(I(kOrgA),
                                   PolicyChange{{Key("pol", 2), Key("pol", 3)}, {demoted}}));
  auto after = access.ListPolicies(I(kOrgA));
  REQUIRE_OK(after);
  REQUIRE(after->size() == 2);
  CHECK((*after)[0] == key);
  CHECK((*after)[1] == demoted);
  // An empty change changes nothing and succeeds.
  REQUIRE_OK(access.ChangePolicies(I(kOrgA), PolicyChange{}));
  CHECK(access.ListPolicies(I(kOrgA))->size() == 2);
  CHECK(access.ListPolicies(I(kOrgB))->empty());
}

TEST_CASE("access: a binding is unique per subject, role and scope",
          "[contract][access][policies]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m = Key("mem", 1);
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgA), PolicyChange{{}, {MemberPol(Key("pol", 1), kOrgA, m, "developer")}}));
  CHECK(Code(access.ChangePolicies(
            I(kOrgA), PolicyChange{{}, {MemberPol(Key("pol", 2), kOrgA, m, "developer")}})) ==
        "already_exists");
  // The same role at another scope, to another subject or of another kind is another binding.
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgA),
      PolicyChange{{},
                   {MemberPol(Key("pol", 2), kOrgA, m, "developer", kShop),
                    MemberPol(Key("pol", 3), kOrgA, m, "developer", kBlog),
                    MemberPol(Key("pol", 4), kOrgA, Key("mem", 2), "developer"),
                    Pol(Key("pol", 5), kOrgA, RbacSubject::Kind::kTeam, m, "developer"),
                    MemberPol(Key("pol", 6), kOrgA, m, "viewer")}}));
  CHECK(Code(access.ChangePolicies(
            I(kOrgA),
            PolicyChange{{}, {MemberPol(Key("pol", 7), kOrgA, m, "developer", kShop)}})) ==
        "already_exists");
  // Two additions of one change collide with each other too.
  CHECK(Code(access.ChangePolicies(
            I(kOrgA), PolicyChange{{},
                                   {MemberPol(Key("pol", 7), kOrgA, m, "admin"),
                                    MemberPol(Key("pol", 8), kOrgA, m, "admin")}})) ==
        "already_exists");
  CHECK(access.ListPolicies(I(kOrgA))->size() == 6);
  // The same binding in another organisation is that organisation's.
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgB), PolicyChange{{}, {MemberPol(Key("pol", 9), kOrgB, m, "developer")}}));
}

TEST_CASE("access: ChangePolicies refuses what it cannot apply, and then changes nothing",
          "[contract][access][policies]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m = Key("mem", 1);
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgA), PolicyChange{{},
                             {MemberPol(Key("pol", 1), kOrgA, m, "developer"),
                              MemberPol(Key("pol", 2), kOrgA, m, "viewer")}}));
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgB), PolicyChange{{}, {MemberPol(Key("pol", 5), kOrgB, m, "viewer")}}));
  const auto before_a = access.ListPolicies(I(kOrgA)).value();
  const auto before_b = access.ListPolicies(I(kOrgB)).value();
  auto unchanged = [&] {
    CHECK(access.ListPolicies(I(kOrgA)).value() == before_a);
    CHECK(access.ListPolicies(I(kOrgB)).value() == before_b);
  };

  SECTION("a removal that does not exist") {
    CHECK(Code(access.ChangePolicies(I(kOrgA), PolicyChange{{Key("pol", 1), Key("pol", 9)}, {}})) ==
          "not_found");
    unchanged();
  }
  SECTION("a removal named twice") {
    CHECK(Code(access.ChangePolicies(I(kOrgA), PolicyChange{{Key("pol", 1), Key("pol", 1)}, {}})) ==
          "not_found");
    unchanged();
  }
  SECTION("a removal of another organisation's policy") {
    CHECK(Code(access.ChangePolicies(I(kOrgA), PolicyChange{{Key("pol", 5)}, {}})) ==
          "not_found");
    unchanged();
  }
  SECTION("the second addition's id is taken") {
    CHECK(Code(access.ChangePolicies(
              I(kOrgA), PolicyChange{{Key("pol", 2)},
                                     {MemberPol(Key("pol", 3), kOrgA, m, "admin"),
                                      MemberPol(Key("pol", 1), kOrgA, m, "owner")}})) ==
          "already_exists");
    unchanged();
  }
  SECTION("an id taken in another organisation") {
    CHECK(Code(access.ChangePolicies(
              I(kOrgA), PolicyChange{{}, {MemberPol(Key("pol", 5), kOrgA, m, "admin")}})) ==
          "already_exists");
    unchanged();
  }
  SECTION("the second addition's binding is taken") {
    CHECK(Code(access.ChangePolicies(
              I(kOrgA), PolicyChange{{},
                                     {MemberPol(Key("pol", 3), kOrgA, m, "admin"),
                                      MemberPol(Key("pol", 4), kOrgA, m, "viewer")}})) ==
          "already_exists");
    unchanged();
  }
  SECTION("an addition of another organisation") {
    CHECK(Code(access.ChangePolicies(
              I(kOrgA), PolicyChange{{}, {MemberPol(Key("pol", 3), kOrgB, m, "admin")}})) ==
          "invalid_argument");
    unchanged();
  }
  SECTION("an addition on another organisation's project, or on no project") {
    CHECK(Code(access.ChangePolicies(
              I(kOrgA),
              PolicyChange{{}, {MemberPol(Key("pol", 3), kOrgA, m, "project.admin", kNews)}})) ==
          "not_found");
    CHECK(Code(access.ChangePolicies(
              I(kOrgA), PolicyChange{{},
                                     {MemberPol(Key("pol", 3), kOrgA, m, "project.admin",
                                                Key("nope", 1))}})) == "not_found");
    unchanged();
  }
  SECTION("malformed policies") {
    CHECK(Code(access.ChangePolicies(
              I(kOrgA), PolicyChange{{}, {MemberPol("short", kOrgA, m, "admin")}})) ==
          "invalid_argument");
    CHECK(Code(access.ChangePolicies(
              I(kOrgA), PolicyChange{{}, {MemberPol(Key("pol", 3), kOrgA, "", "admin")}})) ==
          "invalid_argument");
    CHECK(Code(access.ChangePolicies(
              I(kOrgA), PolicyChange{{}, {MemberPol(Key("pol", 3), kOrgA, m, "")}})) ==
          "invalid_argument");
    auto anonymous = MemberPol(Key("pol", 3), kOrgA, m, "admin");
    anonymous.created_by = "nobody";
    CHECK(Code(access.ChangePolicies(I(kOrgA), PolicyChange{{}, {anonymous}})) ==
          "invalid_argument");
    anonymous.created_by = "member:";
    CHECK(Code(access.ChangePolicies(I(kOrgA), PolicyChange{{}, {anonymous}})) ==
          "invalid_argument");
    unchanged();
  }
}

TEST_CASE("access: the last owner cannot be removed through ChangePolicies",
          "[contract][access][policies][owner]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string o1 = Key("mem", 1);
  const std::string o2 = Key("mem", 2);
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgA), PolicyChange{{},
                             {OwnerPol(Key("pol", 1), kOrgA, o1),
                              MemberPol(Key("pol", 2), kOrgA, o2, "admin")}}));
  const auto before = access.ListPolicies(I(kOrgA)).value();

  CHECK(Code(access.ChangePolicies(I(kOrgA), PolicyChange{{Key("pol", 1)}, {}})) ==
        "failed_precondition");
  CHECK(access.ListPolicies(I(kOrgA)).value() == before);
  // Neither an owner on a project, nor a team or an API key bound to "owner", is an owner.
  CHECK(Code(access.ChangePolicies(
            I(kOrgA), PolicyChange{{Key("pol", 1)},
                                   {MemberPol(Key("pol", 3), kOrgA, o2, "owner", kShop),
                                    Pol(Key("pol", 4), kOrgA, RbacSubject::Kind::kTeam,
                                        Key("team", 1), "owner"),
                                    Pol(Key("pol", 5), kOrgA, RbacSubject::Kind::kApiKey,
                                        Key("key", 1), "owner")}})) == "failed_precondition");
  CHECK(access.ListPolicies(I(kOrgA)).value() == before);

  // Handing ownership over in one change keeps an owner at every commit: allowed.
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgA), PolicyChange{{Key("pol", 1)}, {OwnerPol(Key("pol", 6), kOrgA, o2)}}));
  CHECK(PolicyIds(access.ListPolicies(I(kOrgA))) ==
        std::vector<std::string>{Key("pol", 2), Key("pol", 6)});
  // Removing every policy, the new owner's included, is refused as a whole.
  CHECK(Code(access.ChangePolicies(I(kOrgA),
                                   PolicyChange{{Key("pol", 2), Key("pol", 6)}, {}})) ==
        "failed_precondition");
  CHECK(PolicyIds(access.ListPolicies(I(kOrgA))) ==
        std::vector<std::string>{Key("pol", 2), Key("pol", 6)});

  // An organisation that never had an owner is not held to one.
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgB), PolicyChange{{}, {MemberPol(Key("pol", 7), kOrgB, o1, "admin")}}));
  REQUIRE_OK(access.ChangePolicies(I(kOrgB), PolicyChange{{Key("pol", 7)}, {}}));
}

TEST_CASE("access: deleting a team is held to the last-owner invariant too",
          "[contract][access][teams][owner]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  // A team's policies are never owner policies, so deleting a team never removes the last
  // owner: with one member owner, deleting a team bound to "owner" succeeds and the owner stays.
  const std::string o1 = Key("mem", 1);
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, o1, "o1@example.com"),
                                     {OwnerPol(Key("pol", 1), kOrgA, o1)}));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 1), kOrgA, "Owners")));
  REQUIRE_OK(access.ChangePolicies(
      I(kOrgA), PolicyChange{{},
                             {Pol(Key("pol", 2), kOrgA, RbacSubject::Kind::kTeam,
                                  Key("team", 1), "owner")}}));
  REQUIRE_OK(access.DeleteTeam(I(kOrgA), I(Key("team", 1))));
  CHECK(PolicyIds(access.ListPolicies(I(kOrgA))) == std::vector<std::string>{Key("pol", 1)});
}

TEST_CASE("access: two owners removed at once through two handles leave exactly one",
          "[contract][access][owner][concurrency]") {
  auto ut = TwoOrganisations();
  const std::string o1 = Key("mem", 1);
  const std::string o2 = Key("mem", 2);
  REQUIRE_OK(ut->access().InsertMembership(Mem(kOrgA, o1, "o1@example.com"), {}));
  REQUIRE_OK(ut->access().InsertMembership(Mem(kOrgA, o2, "o2@example.com"), {}));
  for (int round = 0; round < 10; ++round) {
    INFO("round " << round);
    const std::string p1 = Key("pa", round);
    const std::string p2 = Key("pb", round);
    // Whoever survived the last round keeps their policy; the other one gets a new one.
    PolicyChange reset;
    const auto existing = ut->access().ListPolicies(I(kOrgA));
    REQUIRE_OK(existing);
    for (const auto& policy : *existing) reset.remove.push_back(policy.policy.id);
    reset.add = {OwnerPol(p1, kOrgA, o1), OwnerPol(p2, kOrgA, o2)};
    REQUIRE_OK(ut->access().ChangePolicies(I(kOrgA), reset));

    std::atomic<int> ready{0};
    std::atomic<int> succeeded{0};
    std::atomic<int> refused{0};
    std::atomic<int> other_errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        auto& access = t == 0 ? ut->access() : ut->other_access();
        ++ready;
        while (ready.load() < 2) std::this_thread::yield();  // start together
        auto removed = t == 0 ? access.ChangePolicies(I(kOrgA), PolicyChange{{p1}, {}})
                              : access.ChangePolicies(I(kOrgA), PolicyChange{{p2}, {}});
        if (removed) {
          ++succeeded;
        } else if (removed.error().code == ErrorCode::kFailedPrecondition) {
          ++refused;
        } else {
          ++other_errors;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(succeeded == 1);
    CHECK(refused == 1);
    CHECK(other_errors == 0);
    auto left = ut->access().ListPolicies(I(kOrgA));
    REQUIRE_OK(left);
    REQUIRE(left->size() == 1);
    CHECK(IsOwnerPolicy((*left)[0].policy));
  }
}

// ---- feature flags -----------------------------------------------------------------------------

TEST_CASE("access: flags of every level are put, replaced and listed with the global ones",
          "[contract][access][flags]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m = Key("mem", 1);
  auto global_beta = FlagOf("beta", FlagLevel::kGlobal, "", "", JsonValue::Bool(true));
  auto global_alpha = FlagOf("alpha", FlagLevel::kGlobal, "", "", JsonValue::Integer(3));
  auto org_beta = FlagOf("beta", FlagLevel::kOrganisation, kOrgA, "", JsonValue::Bool(false));
  auto role_admin = FlagOf("beta", FlagLevel::kRole, kOrgA, "admin",
                           JsonValue::String("r\xc3\xb4le \"quoted\" \\ x"));
  auto role_billing = FlagOf("beta", FlagLevel::kRole, kOrgA, "billing", JsonValue::Number(1.5));
  auto user = FlagOf("beta", FlagLevel::kUser, kOrgA, m, JsonValue::Integer(-7));
  auto org_alpha = FlagOf("alpha", FlagLevel::kOrganisation, kOrgA, "",
                          JsonValue::Integer(9'007'199'254'740'993));
  auto b_beta = FlagOf("beta", FlagLevel::kOrganisation, kOrgB, "", JsonValue::Bool(true));
  // Put out of order.
  for (const auto& flag :
       {user, role_billing, global_beta, org_beta, b_beta, role_admin, org_alpha, global_alpha}) {
    REQUIRE_OK(access.PutFlag(flag));
  }

  auto of_a = access.ListFlags(kOrgA);
  REQUIRE_OK(of_a);
  CHECK(FlagNames(of_a) ==
        std::vector<std::string>{"alpha/global/", "alpha/organisation/", "beta/global/",
                                 "beta/organisation/", "beta/role/admin", "beta/role/billing",
                                 "beta/user/" + m});
  REQUIRE(of_a->size() == 7);
  CHECK((*of_a)[0] == global_alpha);
  CHECK((*of_a)[1] == org_alpha);  // beyond 2^53, exactly
  CHECK((*of_a)[4] == role_admin);
  CHECK((*of_a)[5] == role_billing);
  CHECK((*of_a)[6] == user);

  CHECK(FlagNames(access.ListFlags("")) ==
        std::vector<std::string>{"alpha/global/", "beta/global/"});
  CHECK(FlagNames(access.ListFlags(kOrgB)) ==
        std::vector<std::string>{"alpha/global/", "beta/global/", "beta/organisation/"});
  CHECK(access.ListFlags(kOrgB)->at(2) == b_beta);

  auto replaced = org_beta;
  replaced.value = JsonValue::String("on");
  replaced.description = "now a string";
  replaced.updated = T(1'800'000'000'000'000);
  replaced.updated_by = "member:" + m;
  REQUIRE_OK(access.PutFlag(replaced));
  auto after = access.ListFlags(kOrgA);
  REQUIRE_OK(after);
  REQUIRE(after->size() == 7);
  CHECK((*after)[3] == replaced);
  CHECK(access.ListFlags(kOrgB)->at(2) == b_beta);  // same key and level, another organisation
}

TEST_CASE("access: DeleteFlag removes one flag by its identity", "[contract][access][flags]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string m = Key("mem", 1);
  REQUIRE_OK(access.PutFlag(FlagOf("beta", FlagLevel::kGlobal, "", "", JsonValue::Bool(true))));
  REQUIRE_OK(access.PutFlag(FlagOf("beta", FlagLevel::kOrganisation, kOrgA, "",
                                   JsonValue::Bool(true))));
  REQUIRE_OK(access.PutFlag(FlagOf("beta", FlagLevel::kUser, kOrgA, m, JsonValue::Bool(true))));
  REQUIRE_OK(access.PutFlag(FlagOf("beta", FlagLevel::kOrganisation, kOrgB, "",
                                   JsonValue::Bool(true))));

  REQUIRE_OK(access.DeleteFlag(kOrgA, "beta", FlagLevel::kOrganisation, ""));
  CHECK(Code(access.DeleteFlag(kOrgA, "beta", FlagLevel::kOrganisation, "")) == "not_found");
  CHECK(Code(access.DeleteFlag(kOrgA, "beta", FlagLevel::kUser, Key("mem", 2))) == "not_found");
  CHECK(Code(access.DeleteFlag(kOrgA, "beta", FlagLevel::kRole, m)) == "not_found");
  CHECK(Code(access.DeleteFlag(kOrgA, "gamma", FlagLevel::kUser, m)) == "not_found");
  CHECK(FlagNames(access.ListFlags(kOrgA)) ==
        std::vector<std::string>{"beta/global/", "beta/user/" + m});
  CHECK(FlagNames(access.ListFlags(kOrgB)) ==
        std::vector<std::string>{"beta/global/", "beta/organisation/"});

  REQUIRE_OK(access.DeleteFlag("", "beta", FlagLevel::kGlobal, ""));
  CHECK(access.ListFlags("")->empty());
  CHECK(FlagNames(access.ListFlags(kOrgA)) == std::vector<std::string>{"beta/user/" + m});
}

TEST_CASE("access: a flag needs its organisation and a coherent identity and value",
          "[contract][access][flags]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  CHECK(Code(access.PutFlag(FlagOf("beta", FlagLevel::kOrganisation, Key("orgz", 1), "",
                                   JsonValue::Bool(true)))) == "not_found");
  CHECK(Code(access.PutFlag(FlagOf("beta", FlagLevel::kGlobal, kOrgA, "",
                                   JsonValue::Bool(true)))) == "invalid_argument");
  CHECK(Code(access.PutFlag(FlagOf("beta", FlagLevel::kOrganisation, "", "",
                                   JsonValue::Bool(true)))) == "invalid_argument");
  CHECK(Code(access.PutFlag(FlagOf("beta", FlagLevel::kRole, kOrgA, "",
                                   JsonValue::Bool(true)))) == "invalid_argument");
  CHECK(Code(access.PutFlag(FlagOf("beta", FlagLevel::kOrganisation, kOrgA, "admin",
                                   JsonValue::Bool(true)))) == "invalid_argument");
  CHECK(Code(access.PutFlag(FlagOf("beta", FlagLevel::kOrganisation, kOrgA, "",
                                   JsonValue::Null()))) == "invalid_argument");
  CHECK(Code(access.PutFlag(FlagOf("beta", FlagLevel::kOrganisation, kOrgA, "",
                                   JsonValue::Array({JsonValue::Bool(true)})))) ==
        "invalid_argument");
  CHECK(Code(access.PutFlag(FlagOf("", FlagLevel::kGlobal, "", "", JsonValue::Bool(true)))) ==
        "invalid_argument");
  CHECK(access.ListFlags(kOrgA)->empty());
}

// ---- isolation and cascades --------------------------------------------------------------------

TEST_CASE("access: no method called for one organisation sees or changes another's rows",
          "[contract][access][isolation]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  Populate(access, kOrgA, kShop, 1);
  REQUIRE_OK(access.PutFlag(FlagOf("beta", FlagLevel::kGlobal, "", "", JsonValue::Bool(false))));
  const auto a = Take(access, kOrgA);
  const std::string m1 = Key("mem", 11);
  const std::string m2 = Key("mem", 12);
  const auto team = I(Key("team", 1));
  const auto invitation = I(Key("inv", 11));
  const auto b = I(kOrgB);

  // Reads through B see nothing of A.
  CHECK(Code(access.GetMembership(b, m1)) == "not_found");
  CHECK(access.ListMemberships(b, P(1, 30))->total_items == 0);
  CHECK(Code(access.GetInvitation(b, invitation)) == "not_found");
  CHECK(access.ListInvitations(b, P(1, 30))->total_items == 0);
  CHECK(Code(access.GetTeam(b, team)) == "not_found");
  CHECK(access.ListTeams(b)->empty());
  CHECK(Code(access.TeamMembers(b, team)) == "not_found");
  CHECK(access.MemberTeams(b, m2)->empty());
  CHECK(access.ListRoles(b)->empty());
  CHECK(access.ListPolicies(b)->empty());
  CHECK(FlagNames(access.ListFlags(kOrgB)) == std::vector<std::string>{"beta/global/"});

  // Writes through B, given A's row ids, change nothing of A.
  CHECK(Code(access.DeleteMembership(b, m1)) == "not_found");
  CHECK(Code(access.CloseInvitation(b, invitation, InvitationState::kRevoked, T(1))) ==
        "not_found");
  CHECK(Code(access.AcceptInvitation(b, invitation, Mem(kOrgB, m1, "one@example.com"),
                                     MemberPol(Key("pol", 91), kOrgB, m1, "viewer"), T(1))) ==
        "not_found");
  auto renamed = TeamOf(team.str(), kOrgB, "Renamed");
  CHECK(Code(access.UpdateTeam(renamed)) == "not_found");
  CHECK(Code(access.DeleteTeam(b, team)) == "not_found");
  CHECK(Code(access.AddTeamMember(b, team, m1)) == "not_found");
  CHECK(Code(access.RemoveTeamMember(b, team, m2)) == "not_found");
  CHECK(Code(access.DeleteRole(b, "billing")) == "not_found");
  CHECK(Code(access.ChangePolicies(b, PolicyChange{{Key("pol", 11)}, {}})) == "not_found");
  CHECK(Code(access.ChangePolicies(
            b, PolicyChange{{}, {MemberPol(Key("pol", 92), kOrgA, m1, "admin")}})) ==
        "invalid_argument");
  CHECK(Code(access.DeleteFlag(kOrgB, "beta", FlagLevel::kOrganisation, "")) == "not_found");
  CHECK(Code(access.DeleteFlag(kOrgB, "beta", FlagLevel::kUser, m2)) == "not_found");
  // B may hold rows of the same names: team names and role ids are per organisation.
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 2), kOrgB, "OPS")));
  REQUIRE_OK(access.PutRole(RoleOf(kOrgB, "billing")));
  REQUIRE_OK(access.PutFlag(FlagOf("beta", FlagLevel::kOrganisation, kOrgB, "",
                                   JsonValue::Integer(5))));

  CHECK(Take(access, kOrgA) == a);
  CHECK(RoleIds(access.ListRoles(b)) == std::vector<std::string>{"billing"});
}

TEST_CASE("access: deleting an organisation removes all its access rows",
          "[contract][access][cascade]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  Populate(access, kOrgA, kShop, 1);
  Populate(access, kOrgB, kNews, 2);
  REQUIRE_OK(access.PutFlag(FlagOf("beta", FlagLevel::kGlobal, "", "", JsonValue::Bool(false))));
  // A member of both organisations.
  const std::string both = Key("mem", 21);
  REQUIRE_OK(access.InsertMembership(Mem(kOrgA, both, "one@example.com"), {}));
  const auto b = Take(access, kOrgB);

  auto deleted = ut->catalogue().DeleteOrganisation(I(kOrgA), DeleteMode::kCascade);
  REQUIRE_OK(deleted);
  CHECK(*deleted == 2);
  CHECK(Code(access.FindInvitation("token-org-1")) == "not_found");
  CHECK(Code(access.FindInvitation("token-project-1")) == "not_found");
  CHECK(access.MemberOrganisations(both).value() ==
        std::vector<Membership>{Mem(kOrgB, both, "one@example.com")});

  // The organisation created again, under the same id, starts empty: every row is gone (not
  // hidden), so every id and key can be used again.
  REQUIRE_OK(ut->catalogue().InsertOrganisation(Org(kOrgA, "acme")));
  REQUIRE_OK(ut->catalogue().InsertProject(Proj(kShop, "shop", kOrgA)));
  CHECK(access.ListMemberships(I(kOrgA), P(1, 30))->total_items == 0);
  CHECK(access.ListInvitations(I(kOrgA), P(1, 30))->total_items == 0);
  CHECK(access.ListTeams(I(kOrgA))->empty());
  CHECK(access.ListRoles(I(kOrgA))->empty());
  CHECK(access.ListPolicies(I(kOrgA))->empty());
  CHECK(FlagNames(access.ListFlags(kOrgA)) == std::vector<std::string>{"beta/global/"});
  CHECK(access.MemberTeams(I(kOrgA), Key("mem", 12))->empty());
  Populate(access, kOrgA, kShop, 1);

  CHECK(Take(access, kOrgB) == b);  // the other organisation lost nothing
}

TEST_CASE("access: deleting a project removes the policies and invitations on it only",
          "[contract][access][cascade]") {
  auto ut = TwoOrganisations();
  auto& access = ut->access();
  const std::string owner = Key("mem", 1);
  REQUIRE_OK(access.InsertMembership(
      Mem(kOrgA, owner, "owner@example.com"),
      {OwnerPol(Key("pol", 1), kOrgA, owner),
       MemberPol(Key("pol", 2), kOrgA, owner, "project.admin", kShop),
       MemberPol(Key("pol", 3), kOrgA, owner, "project.admin", kBlog)}));
  REQUIRE_OK(access.InsertTeam(TeamOf(Key("team", 1), kOrgA, "Ops")));
  REQUIRE_OK(access.AddTeamMember(I(kOrgA), I(Key("team", 1)), owner));
  auto at_org = Inv(Key("inv", 1), kOrgA, "viewer", "binding-1");
  auto on_shop = Inv(Key("inv", 2), kOrgA, "project.viewer", "binding-2");
  on_shop.project = kShop;
  auto on_blog = Inv(Key("inv", 3), kOrgA, "project.viewer", "binding-3");
  on_blog.project = kBlog;
  for (const auto& invitation : {at_org, on_shop, on_blog}) {
    REQUIRE_OK(access.InsertInvitation(invitation));
  }
  const auto b = Take(access, kOrgB);

  REQUIRE_OK(ut->catalogue().DeleteProject(I(kShop)));
  CHECK(PolicyIds(access.ListPolicies(I(kOrgA))) ==
        std::vector<std::string>{Key("pol", 1), Key("pol", 3)});
  CHECK(InvitationIds(access.ListInvitations(I(kOrgA), P(1, 30))->items) ==
        std::vector<std::string>{Key("inv", 3), Key("inv", 1)});
  CHECK(Code(access.FindInvitation("binding-2")) == "not_found");
  CHECK(Code(access.GetMembership(I(kOrgA), owner)) == "ok");
  CHECK(access.MemberTeams(I(kOrgA), owner).value() == std::vector<std::string>{Key("team", 1)});
  CHECK(Take(access, kOrgB) == b);

  // A project created again under the same id has no policies of the old one.
  REQUIRE_OK(ut->catalogue().InsertProject(Proj(kShop, "shop", kOrgA)));
  CHECK(access.ListPolicies(I(kOrgA))->size() == 2);
  REQUIRE_OK(access.InsertInvitation(on_shop));  // its id and binding are free again
}
