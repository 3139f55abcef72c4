#include "socle/domain/access.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace socle::domain;

namespace {

Id SomeId(char fill) { return *Id::Parse(std::string(Id::kLength, fill)); }

Team MakeTeam(std::string name, std::string description = "") {
  return Team{SomeId('t'), SomeId('o'), std::move(name), std::move(description), {}, {}};
}

std::string FieldCode(const Error& error, std::string_view field) {
  for (const auto& f : error.fields) {
    if (f.field == field) return f.code;
  }
  return "";
}

}  // namespace

TEST_CASE("access: invitation states spell and parse both ways", "[domain][access]") {
  for (auto state : {InvitationState::kPending, InvitationState::kAccepted,
                     InvitationState::kDeclined, InvitationState::kRevoked}) {
    auto parsed = ParseInvitationState(ToString(state));
    REQUIRE(parsed);
    CHECK(*parsed == state);
  }
  for (std::string_view bad : {"", "Pending", "open", "accepted "}) {
    auto parsed = ParseInvitationState(bad);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK(FieldCode(parsed.error(), "state") == "validation_invalid_value");
  }
}

TEST_CASE("access: an invitation is open while pending and unexpired", "[domain][access]") {
  Invitation invitation{SomeId('i'), SomeId('o'), "ann@example.com", "viewer", std::nullopt,
                        "binding", "", InvitationState::kPending, Timestamp::FromUnixMicros(0),
                        Timestamp::FromUnixMicros(2'000'000), std::nullopt};
  CHECK(invitation.Open(Timestamp::FromUnixMicros(1'999'999)));
  CHECK_FALSE(invitation.Open(Timestamp::FromUnixMicros(2'000'000)));  // expiry is exclusive
  invitation.state = InvitationState::kRevoked;
  CHECK_FALSE(invitation.Open(Timestamp::FromUnixMicros(1'000'000)));
}

TEST_CASE("access: team names and descriptions are checked", "[domain][access]") {
  CHECK(CheckTeam(MakeTeam("Ops")));
  CHECK(CheckTeam(MakeTeam("Équipe données", std::string(1000, 'x'))));
  CHECK(CheckTeam(MakeTeam(std::string(100, 'n'))));

  auto blank = CheckTeam(MakeTeam("   "));
  REQUIRE_FALSE(blank);
  CHECK(FieldCode(blank.error(), "name") == "validation_required");
  CHECK(FieldCode(CheckTeam(MakeTeam("")).error(), "name") == "validation_required");
  CHECK(FieldCode(CheckTeam(MakeTeam(std::string(101, 'n'))).error(), "name") ==
        "validation_invalid_value");
  CHECK(FieldCode(CheckTeam(MakeTeam("a\nb")).error(), "name") == "validation_invalid_value");
  CHECK(FieldCode(CheckTeam(MakeTeam("\xff\xfe")).error(), "name") == "validation_invalid_value");
  // Both problems are reported at once.
  auto both = CheckTeam(MakeTeam("", std::string(1001, 'd')));
  REQUIRE_FALSE(both);
  CHECK(both.error().fields.size() == 2);
  CHECK(FieldCode(both.error(), "description") == "validation_invalid_value");
}

TEST_CASE("access: only a member bound to owner on the organisation is an owner", "[domain][access]") {
  Policy policy{"p", {RbacSubject::Kind::kMember, "m"}, "owner", "o", std::nullopt, };
  CHECK(IsOwnerPolicy(policy));
  Policy on_project = policy;
  on_project.project = "proj";
  CHECK_FALSE(IsOwnerPolicy(on_project));
  Policy team = policy;
  team.subject.kind = RbacSubject::Kind::kTeam;
  CHECK_FALSE(IsOwnerPolicy(team));
  Policy key = policy;
  key.subject.kind = RbacSubject::Kind::kApiKey;
  CHECK_FALSE(IsOwnerPolicy(key));
  Policy admin = policy;
  admin.role = "admin";
  CHECK_FALSE(IsOwnerPolicy(admin));
}

TEST_CASE("access: an organisation's catalogue is the built-ins plus its custom roles", "[domain][access]") {
  CustomRole auditor{SomeId('o'), Role{"auditor", "Auditor", RbacScope::kOrganisation, {"viewer"},
                                       {"audit.read"}, false},
                     {}, {}};
  auto catalogue = CatalogueOf({auditor});
  REQUIRE(catalogue);
  REQUIRE(catalogue->Find("auditor") != nullptr);
  REQUIRE(catalogue->Find("owner") != nullptr);
  CHECK(catalogue->Effective("auditor").contains("audit.read"));
  CHECK(catalogue->Effective("auditor").contains("records.read"));  // through viewer

  // A custom role may not take a built-in's id, nor inherit an unknown role.
  CustomRole clash = auditor;
  clash.role.id = "admin";
  CHECK_FALSE(CatalogueOf({clash}));
  CustomRole orphan = auditor;
  orphan.role.parents = {"nobody"};
  auto refused = CatalogueOf({orphan});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
}
