#include "socle/adapters/json/access_json.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace socle;
using namespace socle::domain;
using socle::adapters::json::JsonWriter;
using socle::adapters::json::ProjectSlugResolver;
namespace json = socle::adapters::json;

namespace {

Id I(std::string_view text) { return Id::Parse(text).value(); }

// 2023-11-14 22:13:20 UTC, plus `seconds`.
Timestamp T(std::int64_t seconds = 0) {
  return Timestamp::FromUnixMicros((1'700'000'000 + seconds) * 1'000'000);
}

// Slugs from a map; an id it does not hold is shown as itself (a project deleted meanwhile),
// and the ids in `failing` fail the lookup, as a catalogue that is down would.
class FakeSlugs final : public ProjectSlugResolver {
 public:
  explicit FakeSlugs(std::map<std::string, std::string> slugs, std::set<std::string> failing = {})
      : slugs_(std::move(slugs)), failing_(std::move(failing)) {}

  Result<std::optional<std::string>> SlugOf(
      const std::optional<std::string>& project_id) override {
    if (!project_id) return std::optional<std::string>{};
    ++lookups;
    if (failing_.contains(*project_id)) {
      return Fail(ErrorCode::kUnavailable, "The catalogue is unavailable.");
    }
    auto found = slugs_.find(*project_id);
    return std::optional<std::string>(found == slugs_.end() ? *project_id : found->second);
  }

  int lookups = 0;

 private:
  std::map<std::string, std::string> slugs_;
  std::set<std::string> failing_;
};

constexpr std::string_view kWeb = "webprojectid000";
constexpr std::string_view kGone = "goneprojectid00";

FakeSlugs Slugs() { return FakeSlugs({{std::string(kWeb), "web"}}); }

template <typename Write>
std::string Text(Write write) {
  JsonWriter w;
  write(w);
  return std::move(w).Take();
}

// The text a writer that names projects makes; it must succeed.
template <typename Write>
std::string Named(Write write) {
  JsonWriter w;
  auto slugs = Slugs();
  auto written = write(w, slugs);
  REQUIRE(written);
  return std::move(w).Take();
}

Membership MembershipOf(std::string member, std::string email, std::int64_t at) {
  return Membership{I("orgorgorgorgorg"), std::move(member), std::move(email), T(at)};
}

Invitation InvitationTo(std::optional<std::string_view> project) {
  std::optional<std::string> project_id;
  if (project) project_id = std::string(*project);
  return Invitation{I("invitation00001"), I("orgorgorgorgorg"), "bob@example.com",
                    "project.viewer", std::move(project_id), "binding-never-shown", "ann",
                    InvitationState::kPending, T(), T(3600), std::nullopt};
}

Policy PolicyOn(std::string id, RbacSubject subject, std::string role,
                std::optional<std::string_view> project) {
  Policy policy{std::move(id), std::move(subject), std::move(role), "orgorgorgorgorg", {}};
  if (project) policy.project = std::string(*project);
  return policy;
}

StoredPolicy Stored(Policy policy) { return StoredPolicy{std::move(policy), T(), "system"}; }

application::OrganisationKeyView KeyWith(std::vector<Policy> policies) {
  application::OrganisationKeyView view;
  view.key.id = "key000000000001";
  view.key.name = "ci";
  view.key.prefix = "sk_abcdefghi";
  view.key.expires = T(86400);
  view.key.uses = 3;
  view.key.created = T();
  view.key.org = "orgorgorgorgorg";
  view.policies = std::move(policies);
  return view;
}

}  // namespace

TEST_CASE("a member page is PocketBase's list of {memberId, email, roles, teams, created}",
          "[json][access]") {
  PageOf<application::MemberView> page;
  page.page = 2;
  page.per_page = 1;
  page.total_items = 3;
  page.items.push_back(application::MemberView{
      MembershipOf("ann", "ann@example.com", 0), {"owner"}, {"team00000000001"}});
  CHECK(Text([&](JsonWriter& w) { json::WriteMemberPage(w, page); }) ==
        R"({"page":2,"perPage":1,"totalItems":3,"totalPages":3,"items":[{"memberId":"ann",)"
        R"("email":"ann@example.com","roles":["owner"],"teams":["team00000000001"],)"
        R"("created":"2023-11-14 22:13:20.000Z"}]})");
}

TEST_CASE("an invitation shows its project's slug, and its token only when given",
          "[json][access]") {
  const std::string token = "tok.en";
  CHECK(Named([&](JsonWriter& w, ProjectSlugResolver& slugs) {
          return json::WriteInvitation(w, InvitationTo(kWeb), slugs, &token);
        }) == R"({"id":"invitation00001","email":"bob@example.com","role":"project.viewer",)"
              R"("project":"web","state":"pending","created":"2023-11-14 22:13:20.000Z",)"
              R"("expires":"2023-11-14 23:13:20.000Z","token":"tok.en"})");

  // In a page: never a token; null for the whole organisation; a project gone keeps its id.
  PageOf<Invitation> page;
  page.total_items = 2;
  page.items = {InvitationTo(std::nullopt), InvitationTo(kGone)};
  const std::string listed = Named([&](JsonWriter& w, ProjectSlugResolver& slugs) {
    return json::WriteInvitationPage(w, page, slugs);
  });
  CHECK(listed ==
        R"({"page":1,"perPage":30,"totalItems":2,"totalPages":1,"items":[)"
        R"({"id":"invitation00001","email":"bob@example.com","role":"project.viewer",)"
        R"("project":null,"state":"pending","created":"2023-11-14 22:13:20.000Z",)"
        R"("expires":"2023-11-14 23:13:20.000Z"},)"
        R"({"id":"invitation00001","email":"bob@example.com","role":"project.viewer",)"
        R"("project":"goneprojectid00","state":"pending","created":"2023-11-14 22:13:20.000Z",)"
        R"("expires":"2023-11-14 23:13:20.000Z"}]})");
  CHECK(listed.find("binding") == std::string::npos);
}

TEST_CASE("a team lists its members only when given them", "[json][access]") {
  Team team{I("team00000000001"), I("orgorgorgorgorg"), "Ops \"night\"", "", T(), T(60)};
  const std::vector<Membership> members = {MembershipOf("bob", "bob@example.com", 5)};
  CHECK(Text([&](JsonWriter& w) { json::WriteTeam(w, team, &members); }) ==
        R"({"id":"team00000000001","name":"Ops \"night\"","description":"",)"
        R"("created":"2023-11-14 22:13:20.000Z","updated":"2023-11-14 22:14:20.000Z",)"
        R"("members":[{"memberId":"bob","email":"bob@example.com",)"
        R"("created":"2023-11-14 22:13:25.000Z"}]})");
  CHECK(Text([&](JsonWriter& w) { json::WriteTeamList(w, {team}); }) ==
        R"({"items":[{"id":"team00000000001","name":"Ops \"night\"","description":"",)"
        R"("created":"2023-11-14 22:13:20.000Z","updated":"2023-11-14 22:14:20.000Z"}]})");
  CHECK(Text([&](JsonWriter& w) { json::WriteTeamList(w, {}); }) == R"({"items":[]})");
}

TEST_CASE("a role shows what it grants directly and in effect", "[json][access]") {
  application::RoleView role{
      Role{"qa", "QA", RbacScope::kProject, {"project.viewer"}, {"records.update"}, false},
      {"records.read", "records.update"}};
  const std::string one =
      R"({"id":"qa","name":"QA","scope":"project","parents":["project.viewer"],)"
      R"("permissions":["records.update"],"builtin":false,)"
      R"("effective":["records.read","records.update"]})";
  CHECK(Text([&](JsonWriter& w) { json::WriteRole(w, role); }) == one);
  CHECK(Text([&](JsonWriter& w) { json::WriteRoleList(w, {role}); }) ==
        R"({"items":[)" + one + "]}");
}

TEST_CASE("a policy names its subject by kind and its project by slug", "[json][access]") {
  const StoredPolicy on_web =
      Stored(PolicyOn("policy000000001", {RbacSubject::Kind::kTeam, "team00000000001"},
                      "project.editor", kWeb));
  CHECK(Named([&](JsonWriter& w, ProjectSlugResolver& slugs) {
          return json::WritePolicy(w, on_web, slugs);
        }) == R"({"id":"policy000000001","subject":{"kind":"team","id":"team00000000001"},)"
              R"("role":"project.editor","project":"web","created":"2023-11-14 22:13:20.000Z",)"
              R"("createdBy":"system"})");

  const std::vector<StoredPolicy> policies = {
      Stored(PolicyOn("policy000000002", {RbacSubject::Kind::kApiKey, "key000000000001"},
                      "viewer", std::nullopt)),
      Stored(PolicyOn("policy000000003", {RbacSubject::Kind::kMember, "ann"}, "owner",
                      std::nullopt))};
  CHECK(Named([&](JsonWriter& w, ProjectSlugResolver& slugs) {
          return json::WritePolicyList(w, policies, slugs);
        }) == R"({"items":[)"
              R"({"id":"policy000000002","subject":{"kind":"apikey","id":"key000000000001"},)"
              R"("role":"viewer","project":null,"created":"2023-11-14 22:13:20.000Z",)"
              R"("createdBy":"system"},)"
              R"({"id":"policy000000003","subject":{"kind":"member","id":"ann"},)"
              R"("role":"owner","project":null,"created":"2023-11-14 22:13:20.000Z",)"
              R"("createdBy":"system"}]})");
}

TEST_CASE("an explanation carries the granting policy, or null when denied", "[json][access]") {
  std::vector<application::PermissionExplanation> items;
  items.push_back({"records.update", true, "allowed because ...",
                   PolicyOn("policy000000001", {RbacSubject::Kind::kMember, "bob"},
                            "project.editor", kWeb),
                   {"project.editor"}});
  items.push_back({"project.delete", false, "denied: no policy grants project.delete",
                   std::nullopt, {}});
  CHECK(Named([&](JsonWriter& w, ProjectSlugResolver& slugs) {
          return json::WriteExplanationList(w, items, slugs);
        }) == R"({"items":[{"permission":"records.update","allowed":true,)"
              R"("explanation":"allowed because ...","policy":{"id":"policy000000001",)"
              R"("subject":{"kind":"member","id":"bob"},"role":"project.editor",)"
              R"("project":"web"},"via":["project.editor"]},)"
              R"({"permission":"project.delete","allowed":false,)"
              R"("explanation":"denied: no policy grants project.delete","policy":null,)"
              R"("via":[]}]})");
}

TEST_CASE("flags keep their value's type; an unset evaluation is null", "[json][access]") {
  FeatureFlag flag;
  flag.key = "limit";
  flag.level = FlagLevel::kRole;
  flag.org_id = "orgorgorgorgorg";
  flag.subject = "developer";
  flag.value = JsonValue::Integer(42);
  flag.description = "max";
  flag.updated = T();
  flag.updated_by = "member:ann";
  const std::string one =
      R"({"key":"limit","level":"role","subject":"developer","value":42,"description":"max",)"
      R"("updated":"2023-11-14 22:13:20.000Z","updatedBy":"member:ann"})";
  CHECK(Text([&](JsonWriter& w) { json::WriteFlag(w, flag); }) == one);
  CHECK(Text([&](JsonWriter& w) { json::WriteFlagList(w, {flag}); }) ==
        R"({"items":[)" + one + "]}");

  const std::vector<FlagEvaluation> evaluations = {
      {"theme", JsonValue::String("dark"), FlagLevel::kOrganisation, "organisation"},
      {"beta", std::nullopt, std::nullopt, "unset"}};
  CHECK(Text([&](JsonWriter& w) { json::WriteFlagEvaluationList(w, evaluations); }) ==
        R"({"items":[{"key":"theme","value":"dark","source":"organisation",)"
        R"("level":"organisation"},{"key":"beta","value":null,"source":"unset","level":null}]})");
}

TEST_CASE("an organisation key's policies leave out the subject; its secret shows once",
          "[json][access]") {
  const auto key = KeyWith(
      {PolicyOn("policy000000001", {RbacSubject::Kind::kApiKey, "key000000000001"},
                "project.viewer", kWeb),
       PolicyOn("policy000000002", {RbacSubject::Kind::kApiKey, "key000000000001"}, "viewer",
                std::nullopt)});
  const std::string secret = "sk_abcdefghijklmnop";
  const std::string body =
      R"({"id":"key000000000001","name":"ci","prefix":"sk_abcdefghi",)"
      R"("expires":"2023-11-15 22:13:20.000Z","revoked":null,"lastUsed":null,"uses":3,)"
      R"("created":"2023-11-14 22:13:20.000Z","policies":[)"
      R"({"id":"policy000000001","role":"project.viewer","project":"web"},)"
      R"({"id":"policy000000002","role":"viewer","project":null}])";
  CHECK(Named([&](JsonWriter& w, ProjectSlugResolver& slugs) {
          return json::WriteOrganisationKey(w, key, slugs, &secret);
        }) == body + R"(,"key":"sk_abcdefghijklmnop"})");
  CHECK(Named([&](JsonWriter& w, ProjectSlugResolver& slugs) {
          return json::WriteOrganisationKeyList(w, {key}, slugs);
        }) == R"({"items":[)" + body + "}]}");
}

TEST_CASE("a failed project lookup fails the document and writes nothing of it",
          "[json][access]") {
  const std::string failing = "downprojectid00";
  const std::vector<StoredPolicy> policies = {
      Stored(PolicyOn("policy000000001", {RbacSubject::Kind::kMember, "ann"}, "project.viewer",
                      kWeb)),
      Stored(PolicyOn("policy000000002", {RbacSubject::Kind::kMember, "bob"}, "project.viewer",
                      failing))};
  PageOf<Invitation> page;
  page.items = {InvitationTo(kWeb), InvitationTo(failing)};
  std::vector<application::PermissionExplanation> explanations(2);
  explanations[0].policy = policies[0].policy;
  explanations[1].policy = policies[1].policy;
  const auto key = KeyWith({policies[0].policy, policies[1].policy});

  using Write = std::function<Result<void>(JsonWriter&, ProjectSlugResolver&)>;
  const std::vector<std::pair<std::string, Write>> writers = {
      {"invitation", [&](JsonWriter& w, ProjectSlugResolver& s) {
         return json::WriteInvitation(w, page.items[1], s);
       }},
      {"invitation page", [&](JsonWriter& w, ProjectSlugResolver& s) {
         return json::WriteInvitationPage(w, page, s);
       }},
      {"policy", [&](JsonWriter& w, ProjectSlugResolver& s) {
         return json::WritePolicy(w, policies[1], s);
       }},
      {"policy list", [&](JsonWriter& w, ProjectSlugResolver& s) {
         return json::WritePolicyList(w, policies, s);
       }},
      {"explanations", [&](JsonWriter& w, ProjectSlugResolver& s) {
         return json::WriteExplanationList(w, explanations, s);
       }},
      {"key", [&](JsonWriter& w, ProjectSlugResolver& s) {
         return json::WriteOrganisationKey(w, key, s);
       }},
      {"key list", [&](JsonWriter& w, ProjectSlugResolver& s) {
         return json::WriteOrganisationKeyList(w, {key}, s);
       }},
  };
  for (const auto& [name, write] : writers) {
    INFO(name);
    FakeSlugs slugs({{std::string(kWeb), "web"}}, {failing});
    JsonWriter w;
    w.BeginArray().String("before");
    const std::string before = w.str();
    auto written = write(w, slugs);
    REQUIRE_FALSE(written);
    CHECK(written.error().code == ErrorCode::kUnavailable);
    CHECK(w.str() == before);
    CHECK(slugs.lookups >= 1);
  }
}

TEST_CASE("subject kinds are spelt as policies and the API spell them", "[json][access]") {
  CHECK(json::SubjectKindName(RbacSubject::Kind::kMember) == "member");
  CHECK(json::SubjectKindName(RbacSubject::Kind::kTeam) == "team");
  CHECK(json::SubjectKindName(RbacSubject::Kind::kApiKey) == "apikey");
}
