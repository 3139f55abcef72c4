#include "socle/domain/rbac.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

using namespace socle::domain;

namespace {

RoleCatalogue Builtins() {
  auto catalogue = RoleCatalogue::Make(BuiltinRoles());
  REQUIRE(catalogue);
  return *catalogue;
}

std::set<std::string> Keys(const std::map<std::string, std::vector<std::string>>& effective) {
  std::set<std::string> keys;
  for (const auto& [permission, chain] : effective) keys.insert(permission);
  return keys;
}

std::map<std::string, std::string> Errors(const Error& error) {
  std::map<std::string, std::string> out;
  for (const auto& field : error.fields) out[field.field] = field.code;
  return out;
}

}  // namespace

TEST_CASE("rbac: the built-in roles form a valid hierarchy", "[domain][rbac]") {
  const RoleCatalogue roles = Builtins();
  // Every permission a built-in role names is known, and the owner holds all of them.
  const auto owner = roles.Effective("owner");
  std::set<std::string> known(KnownPermissions().begin(), KnownPermissions().end());
  CHECK(Keys(owner) == known);
  // Each role holds what it inherits and more.
  for (const auto& [child, parent] : std::vector<std::pair<std::string, std::string>>{
           {"owner", "admin"}, {"admin", "developer"}, {"developer", "viewer"},
           {"project.admin", "project.editor"}, {"project.editor", "project.viewer"}}) {
    INFO(child << " ⊃ " << parent);
    const auto mine = Keys(roles.Effective(child));
    const auto theirs = Keys(roles.Effective(parent));
    CHECK(std::includes(mine.begin(), mine.end(), theirs.begin(), theirs.end()));
    CHECK(mine.size() > theirs.size());
  }
  // A viewer reads; it does not write.
  const auto viewer = roles.Effective("viewer");
  CHECK(viewer.contains("records.read"));
  CHECK_FALSE(viewer.contains("records.update"));
  CHECK_FALSE(viewer.contains("records.read_pii"));
  // The chain of an inherited permission names the roles it came through, shortest first.
  CHECK(owner.at("records.read") ==
        std::vector<std::string>{"owner", "admin", "developer", "viewer", "project.viewer"});
  CHECK(owner.at("organisation.delete") == std::vector<std::string>{"owner"});
  CHECK(roles.Effective("nobody").empty());
}

TEST_CASE("rbac: invalid role sets are refused with every problem named", "[domain][rbac]") {
  SECTION("cycles, with their path") {
    auto made = RoleCatalogue::Make({Role{"a", "A", RbacScope::kOrganisation, {"b"}, {}, false},
                                     Role{"b", "B", RbacScope::kOrganisation, {"c"}, {}, false},
                                     Role{"c", "C", RbacScope::kOrganisation, {"a"}, {}, false}});
    REQUIRE_FALSE(made);
    REQUIRE(made.error().fields.size() == 1);
    CHECK(made.error().fields[0].code == "validation_role_cycle");
    CHECK(made.error().fields[0].message == "Roles may not inherit in a cycle: a → b → c → a.");
    auto self = RoleCatalogue::Make({Role{"a", "A", RbacScope::kOrganisation, {"a"}, {}, false}});
    REQUIRE_FALSE(self);
    CHECK(self.error().fields[0].message == "Roles may not inherit in a cycle: a → a.");
  }
  SECTION("unknown parents and permissions, bad and repeated ids, scope inversions") {
    auto made = RoleCatalogue::Make(
        {Role{"ok", "Ok", RbacScope::kOrganisation, {"ghost"}, {"records.read", "records.fly"}, false},
         Role{"Bad Id", "x", RbacScope::kProject, {}, {}, false},
         Role{"ok", "dup", RbacScope::kProject, {}, {}, false},
         Role{"p", "P", RbacScope::kProject, {"org"}, {}, false},
         Role{"org", "O", RbacScope::kOrganisation, {}, {}, false}});
    REQUIRE_FALSE(made);
    CHECK(Errors(made.error()) == std::map<std::string, std::string>{
                                      {"roles.0.parents", "validation_unknown_role"},
                                      {"roles.0.permissions", "validation_unknown_permission"},
                                      {"roles.1.id", "validation_invalid_role_id"},
                                      {"roles.2.id", "validation_duplicated_role"},
                                      {"roles.3.parents", "validation_role_scope"}});
  }
  SECTION("custom roles extend the built-in ones") {
    auto roles = BuiltinRoles();
    roles.push_back(Role{"auditor", "Auditor", RbacScope::kOrganisation, {"viewer"},
                         {"audit.read"}, false});
    auto made = RoleCatalogue::Make(std::move(roles));
    REQUIRE(made);
    const auto auditor = made->Effective("auditor");
    CHECK(auditor.contains("audit.read"));
    CHECK(auditor.contains("records.read"));
    CHECK_FALSE(auditor.contains("records.update"));
  }
}

TEST_CASE("rbac: policies decide per organisation and project, deny by default, explained",
          "[domain][rbac]") {
  const RoleCatalogue roles = Builtins();
  const RbacSubject ann{RbacSubject::Kind::kMember, "ann"};
  const RbacSubject ops{RbacSubject::Kind::kTeam, "ops"};
  const RbacSubject key{RbacSubject::Kind::kApiKey, "k1"};
  const std::vector<Policy> policies = {
      {"p1", ann, "viewer", "acme", std::nullopt},
      {"p2", ops, "project.editor", "acme", std::string("shop")},
      {"p3", key, "project.viewer", "acme", std::string("blog")},
      {"p4", ann, "owner", "globex", std::nullopt},
      // An organisation role bound to one project grants nothing: it would reach
      // organisation actions through a project.
      {"p5", ann, "admin", "acme", std::string("blog")},
  };

  SECTION("an organisation policy covers all its projects; others' policies never count") {
    const Decision at_shop = Evaluate(roles, policies, {ann}, "acme", "shop");
    CHECK(at_shop.Allows("records.read"));
    CHECK_FALSE(at_shop.Allows("records.update"));
    CHECK_FALSE(at_shop.Allows("organisation.delete"));  // owner of globex, not of acme
    CHECK(at_shop.Explain("records.read") ==
          "allowed because member ann has role viewer on organisation acme, inherited from "
          "project.viewer");
    CHECK(at_shop.Explain("records.update") == "denied: no policy grants records.update");
    const Decision at_blog = Evaluate(roles, policies, {ann}, "acme", "blog");
    CHECK_FALSE(at_blog.Allows("member.invite"));  // p5 is ignored
  }
  SECTION("a team's project policy holds on that project only") {
    const Decision member_and_team = Evaluate(roles, policies, {ann, ops}, "acme", "shop");
    CHECK(member_and_team.Allows("records.update"));
    CHECK(member_and_team.Explain("records.update") ==
          "allowed because team ops has role project.editor on project shop");
    const Decision elsewhere = Evaluate(roles, policies, {ann, ops}, "acme", "blog");
    CHECK_FALSE(elsewhere.Allows("records.update"));
    const Decision org_level = Evaluate(roles, policies, {ops}, "acme", std::nullopt);
    CHECK(org_level.permissions.empty());
  }
  SECTION("an API key holds what its policy gives") {
    CHECK(Evaluate(roles, policies, {key}, "acme", "blog").Allows("records.read"));
    CHECK(Evaluate(roles, policies, {key}, "acme", "shop").permissions.empty());
  }
  SECTION("the active role narrows the decision to that role's policies") {
    const std::vector<Policy> two = {{"a", ann, "viewer", "acme", std::nullopt},
                                     {"b", ann, "admin", "acme", std::nullopt}};
    CHECK(Evaluate(roles, two, {ann}, "acme", "shop").Allows("member.invite"));
    const Decision as_viewer = Evaluate(roles, two, {ann}, "acme", "shop", "viewer");
    CHECK_FALSE(as_viewer.Allows("member.invite"));
    CHECK(as_viewer.Allows("records.read"));
  }
  SECTION("the most direct explanation wins") {
    const std::vector<Policy> two = {{"a", ann, "owner", "acme", std::nullopt},
                                     {"b", ann, "project.viewer", "acme", std::string("shop")}};
    const Decision decision = Evaluate(roles, two, {ann}, "acme", "shop");
    CHECK(decision.Explain("records.read") ==
          "allowed because member ann has role project.viewer on project shop");
  }
}
