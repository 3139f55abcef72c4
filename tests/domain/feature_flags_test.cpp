#include "socle/domain/feature_flags.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "socle/domain/access.hpp"

using namespace socle::domain;

namespace {

FeatureFlag Flag(std::string key, FlagLevel level, std::string org, std::string subject,
                 JsonValue value) {
  FeatureFlag flag;
  flag.key = std::move(key);
  flag.level = level;
  flag.org_id = std::move(org);
  flag.subject = std::move(subject);
  flag.value = std::move(value);
  return flag;
}

RoleCatalogue Roles() {
  auto roles = CatalogueOf({CustomRole{*Id::Parse("orgaaaaaaaaaaaa"),
                                       Role{"support", "Support", RbacScope::kOrganisation,
                                            {"viewer"}, {}, false},
                                       {}, {}}});
  REQUIRE(roles);
  return *roles;
}

std::string FieldCode(const Error& error, std::string_view field) {
  for (const auto& f : error.fields) {
    if (f.field == field) return f.code;
  }
  return "";
}

}  // namespace

TEST_CASE("flags: levels spell and parse both ways", "[domain][flags]") {
  for (auto level : {FlagLevel::kGlobal, FlagLevel::kOrganisation, FlagLevel::kRole,
                     FlagLevel::kUser}) {
    auto parsed = ParseFlagLevel(ToString(level));
    REQUIRE(parsed);
    CHECK(*parsed == level);
  }
  CHECK_FALSE(ParseFlagLevel("org"));
  CHECK_FALSE(ParseFlagLevel(""));
}

TEST_CASE("flags: a flag's shape is checked", "[domain][flags]") {
  CHECK(CheckFlag(Flag("new-ui", FlagLevel::kGlobal, "", "", JsonValue::Bool(true))));
  CHECK(CheckFlag(Flag("limits.max_rows", FlagLevel::kOrganisation, "o", "", JsonValue::Integer(5))));
  CHECK(CheckFlag(Flag("theme", FlagLevel::kRole, "o", "admin", JsonValue::String("dark"))));
  CHECK(CheckFlag(Flag("beta", FlagLevel::kUser, "o", "m", JsonValue::Bool(false))));

  CHECK(FieldCode(CheckFlag(Flag("", FlagLevel::kGlobal, "", "", JsonValue::Bool(true))).error(),
                  "key") == "validation_invalid_value");
  CHECK(FieldCode(CheckFlag(Flag("New", FlagLevel::kGlobal, "", "", JsonValue::Bool(true))).error(),
                  "key") == "validation_invalid_value");
  CHECK(FieldCode(CheckFlag(Flag("-x", FlagLevel::kGlobal, "", "", JsonValue::Bool(true))).error(),
                  "key") == "validation_invalid_value");
  CHECK(FieldCode(CheckFlag(Flag(std::string(65, 'k'), FlagLevel::kGlobal, "", "",
                                 JsonValue::Bool(true))).error(),
                  "key") == "validation_invalid_value");
  // A global flag has no organisation; the others need one.
  CHECK(FieldCode(CheckFlag(Flag("k", FlagLevel::kGlobal, "o", "", JsonValue::Bool(true))).error(),
                  "level") == "validation_invalid_value");
  CHECK(FieldCode(CheckFlag(Flag("k", FlagLevel::kOrganisation, "", "", JsonValue::Bool(true))).error(),
                  "level") == "validation_invalid_value");
  // Role and user flags name their subject; the others do not.
  CHECK(FieldCode(CheckFlag(Flag("k", FlagLevel::kRole, "o", "", JsonValue::Bool(true))).error(),
                  "subject") == "validation_required");
  CHECK(FieldCode(CheckFlag(Flag("k", FlagLevel::kOrganisation, "o", "x", JsonValue::Bool(true))).error(),
                  "subject") == "validation_invalid_value");
  // Values are scalars.
  CHECK(FieldCode(CheckFlag(Flag("k", FlagLevel::kGlobal, "", "", JsonValue::Null())).error(),
                  "value") == "validation_invalid_value");
  CHECK(FieldCode(CheckFlag(Flag("k", FlagLevel::kGlobal, "", "", JsonValue::Array({}))).error(),
                  "value") == "validation_invalid_value");
  CHECK(FieldCode(CheckFlag(Flag("k", FlagLevel::kGlobal, "", "",
                                 JsonValue::String(std::string(1001, 's')))).error(),
                  "value") == "validation_invalid_value");
  auto long_description = Flag("k", FlagLevel::kGlobal, "", "", JsonValue::Bool(true));
  long_description.description = std::string(501, 'd');
  CHECK(FieldCode(CheckFlag(long_description).error(), "description") == "validation_invalid_value");
}

TEST_CASE("flags: the most specific level wins", "[domain][flags]") {
  const auto roles = Roles();
  std::vector<FeatureFlag> flags = {
      Flag("beta", FlagLevel::kGlobal, "", "", JsonValue::Bool(false)),
      Flag("beta", FlagLevel::kOrganisation, "org1", "", JsonValue::Bool(true)),
      Flag("beta", FlagLevel::kRole, "org1", "support", JsonValue::String("role")),
      Flag("beta", FlagLevel::kUser, "org1", "ann", JsonValue::String("user")),
      // Other organisations' flags never count.
      Flag("beta", FlagLevel::kUser, "org2", "bob", JsonValue::String("other")),
      Flag("beta", FlagLevel::kOrganisation, "org2", "", JsonValue::String("other")),
  };
  auto eval = [&](FlagContext context) { return EvaluateFlag(flags, "beta", context, roles); };

  auto ann = eval({"org1", {"support"}, "ann"});
  CHECK(ann.source == "user");
  CHECK(*ann.value == JsonValue::String("user"));

  auto support = eval({"org1", {"support"}, "carl"});
  CHECK(support.source == "role:support");
  CHECK(*support.level == FlagLevel::kRole);

  auto plain = eval({"org1", {"viewer"}, "dan"});
  CHECK(plain.source == "organisation");
  CHECK(*plain.value == JsonValue::Bool(true));

  // bob of org2 evaluating in org1 gets org1's value, not his own org2 user flag.
  CHECK(eval({"org1", {}, "bob"}).source == "organisation");
  CHECK(eval({"org3", {}, "bob"}).source == "global");
  CHECK(eval({"", {}, ""}).source == "global");

  auto unset = EvaluateFlag(flags, "missing", {"org1", {}, "ann"}, roles);
  CHECK(unset.source == "unset");
  CHECK_FALSE(unset.value.has_value());
}

TEST_CASE("flags: between roles, the senior one counts, then the smallest id", "[domain][flags]") {
  const auto roles = Roles();
  std::vector<FeatureFlag> flags = {
      Flag("limit", FlagLevel::kRole, "org1", "viewer", JsonValue::Integer(1)),
      Flag("limit", FlagLevel::kRole, "org1", "admin", JsonValue::Integer(3)),
      Flag("limit", FlagLevel::kRole, "org1", "support", JsonValue::Integer(2)),
  };
  // admin inherits viewer: admin's value counts whatever the order of the roles.
  CHECK(EvaluateFlag(flags, "limit", {"org1", {"viewer", "admin"}, "m"}, roles).source == "role:admin");
  CHECK(EvaluateFlag(flags, "limit", {"org1", {"admin", "viewer"}, "m"}, roles).source == "role:admin");
  // support inherits viewer too.
  CHECK(EvaluateFlag(flags, "limit", {"org1", {"viewer", "support"}, "m"}, roles).source ==
        "role:support");
  // admin and support are unrelated: the smallest id.
  CHECK(EvaluateFlag(flags, "limit", {"org1", {"support", "admin"}, "m"}, roles).source == "role:admin");
  // With only the active role, only its flag counts.
  CHECK(EvaluateFlag(flags, "limit", {"org1", {"viewer"}, "m"}, roles).source == "role:viewer");
}

TEST_CASE("flags: EvaluateFlags gives every key once, sorted", "[domain][flags]") {
  const auto roles = Roles();
  std::vector<FeatureFlag> flags = {
      Flag("zeta", FlagLevel::kGlobal, "", "", JsonValue::Bool(true)),
      Flag("alpha", FlagLevel::kGlobal, "", "", JsonValue::Bool(false)),
      Flag("alpha", FlagLevel::kOrganisation, "org1", "", JsonValue::Bool(true)),
      Flag("only-other", FlagLevel::kOrganisation, "org2", "", JsonValue::Bool(true)),
  };
  auto all = EvaluateFlags(flags, {"org1", {}, "m"}, roles);
  REQUIRE(all.size() == 2);
  CHECK(all[0].key == "alpha");
  CHECK(all[0].source == "organisation");
  CHECK(all[1].key == "zeta");
  CHECK(all[1].source == "global");
}
