#include "socle/adapters/json/project_settings_json.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "socle/adapters/json/json_parser.hpp"

using namespace socle::domain;
using socle::adapters::json::ParseJson;
using socle::adapters::json::PatchProjectSettings;
using socle::adapters::json::ProjectSettingsFromText;
using socle::adapters::json::ProjectSettingsText;
using socle::adapters::json::ReadProjectSettings;

namespace {

JsonValue Parse(std::string_view text) {
  auto parsed = ParseJson(text);
  REQUIRE(parsed);
  return *parsed;
}

std::map<std::string, std::string> Errors(const Error& error) {
  std::map<std::string, std::string> errors;
  for (const auto& f : error.fields) errors[f.field] = f.code;
  return errors;
}

ProjectSettings Patch(const ProjectSettings& current, std::string_view patch) {
  auto patched = PatchProjectSettings(current, Parse(patch));
  INFO(patch);
  REQUIRE(patched);
  return *patched;
}

}  // namespace

TEST_CASE("settings are written in PocketBase's shape and order", "[json][settings]") {
  ProjectSettings settings;
  settings.rate_limits.rules = {RateLimitRule{"*:auth", 2, 3, "@guest"}};
  CHECK(ProjectSettingsText(settings) ==
        R"({"meta":{"appName":"Acme","appURL":"http://localhost:8090","senderName":"Support",)"
        R"("senderAddress":"support@example.com","hideControls":false},)"
        R"("rateLimits":{"rules":[{"label":"*:auth","audience":"@guest","duration":3,)"
        R"("maxRequests":2}],"enabled":false},)"
        R"("trustedProxy":{"headers":[],"useLeftmostIP":false},)"
        R"("batch":{"enabled":true,"maxRequests":50,"timeout":3,"maxBodySize":0}})");
}

TEST_CASE("settings read back exactly what was written", "[json][settings]") {
  ProjectSettings settings;
  settings.meta.app_name = "Caf\xc3\xa9 \"du\" \\ coin\n";
  settings.meta.hide_controls = true;
  settings.batch.enabled = false;
  settings.batch.max_body_size = 9'000'000'000;
  settings.rate_limits.enabled = true;
  settings.rate_limits.rules.clear();
  settings.trusted_proxy.headers = {"X-Real-IP"};
  settings.trusted_proxy.use_leftmost_ip = true;
  auto back = ProjectSettingsFromText(ProjectSettingsText(settings));
  REQUIRE(back);
  CHECK(*back == settings);
}

TEST_CASE("reading is lenient on absent and unknown members, strict on types",
          "[json][settings]") {
  // PocketBase's own settings document: groups Socle does not keep are ignored.
  auto read = ReadProjectSettings(Parse(R"({
    "smtp": {"enabled": true, "host": "smtp.example.com", "password": "secret"},
    "meta": {"appName": "Shop", "unknown": 1},
    "batch": {"enabled": false},
    "logs": {"maxDays": 5}})"));
  REQUIRE(read);
  CHECK(read->meta.app_name == "Shop");
  CHECK(read->meta.sender_name == "Support");  // absent: the default
  CHECK_FALSE(read->batch.enabled);
  CHECK(read->batch.max_requests == 50);
  CHECK(read->rate_limits.rules.size() == 4);

  auto nulls = ReadProjectSettings(Parse(R"({"meta": null, "rateLimits": {"rules": null},
                                             "trustedProxy": {"headers": null}})"));
  REQUIRE(nulls);
  CHECK(nulls->meta == MetaSettings{});
  CHECK(nulls->rate_limits.rules.empty());

  auto wrong = ReadProjectSettings(Parse(R"({
    "meta": {"appName": 5, "hideControls": "yes"},
    "batch": {"maxRequests": 2.5, "timeout": "3"},
    "rateLimits": {"rules": [{"label": "ok", "maxRequests": 1, "duration": 1}, "x",
                             {"label": 1, "duration": 1.5}]},
    "trustedProxy": {"headers": ["X-A", 7]}})"));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == ErrorCode::kInvalidArgument);
  CHECK(wrong.error().message == "An error occurred while loading the submitted data.");
  CHECK(Errors(wrong.error()) ==
        std::map<std::string, std::string>{
            {"meta.appName", "validation_invalid_type"},
            {"meta.hideControls", "validation_invalid_type"},
            {"batch.maxRequests", "validation_invalid_type"},
            {"batch.timeout", "validation_invalid_type"},
            {"rateLimits.rules.1", "validation_invalid_type"},
            {"rateLimits.rules.2.label", "validation_invalid_type"},
            {"rateLimits.rules.2.duration", "validation_invalid_type"},
            {"trustedProxy.headers.1", "validation_invalid_type"},
        });
  CHECK_FALSE(ReadProjectSettings(Parse(R"({"meta": []})")));
  CHECK_FALSE(ReadProjectSettings(Parse(R"({"rateLimits": {"rules": {}}})")));
  CHECK_FALSE(ReadProjectSettings(Parse("[]")));
}

TEST_CASE("a patch is decoded over the current settings as PocketBase does",
          "[json][settings]") {
  ProjectSettings current;
  current.meta.app_name = "Shop";
  current.trusted_proxy.headers = {"X-Forwarded-For"};

  // Members sent replace, the others stay, at every level.
  auto patched = Patch(current, R"({"meta": {"senderName": "Team"}, "batch": {"timeout": 9}})");
  CHECK(patched.meta.app_name == "Shop");
  CHECK(patched.meta.sender_name == "Team");
  CHECK(patched.batch.timeout == 9);
  CHECK(patched.batch.enabled);
  CHECK(patched.trusted_proxy.headers == std::vector<std::string>{"X-Forwarded-For"});

  // Lists are replaced whole; a rule's members not sent are zero (validation names them).
  patched = Patch(current, R"({"rateLimits": {"rules": [{"label": "/api/"}]}})");
  REQUIRE(patched.rate_limits.rules.size() == 1);
  CHECK(patched.rate_limits.rules[0] == RateLimitRule{"/api/", 0, 0, ""});

  // null empties a list and changes nothing else; unknown groups and an empty patch are no-ops.
  patched = Patch(current, R"({"trustedProxy": {"headers": null}, "meta": {"appName": null},
                               "batch": null, "smtp": {"host": "x"}})");
  CHECK(patched.trusted_proxy.headers.empty());
  CHECK(patched.meta.app_name == "Shop");
  CHECK(patched.batch == current.batch);
  CHECK(Patch(current, "{}") == current);

  // Types are checked as on reading.
  auto wrong = PatchProjectSettings(current, Parse(R"({"batch": {"enabled": "no"}})"));
  REQUIRE_FALSE(wrong);
  CHECK(Errors(wrong.error()) ==
        std::map<std::string, std::string>{{"batch.enabled", "validation_invalid_type"}});
  auto group = PatchProjectSettings(current, Parse(R"({"meta": "Shop"})"));
  REQUIRE_FALSE(group);
  CHECK(Errors(group.error()) ==
        std::map<std::string, std::string>{{"meta", "validation_invalid_type"}});
  CHECK(PatchProjectSettings(current, Parse("[1]")).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("stored text that does not read back is an internal error", "[json][settings]") {
  for (std::string_view text : {"", "{", "[]", R"({"batch": {"timeout": "3"}})"}) {
    auto read = ProjectSettingsFromText(text);
    INFO(text);
    REQUIRE_FALSE(read);
    CHECK(read.error().code == ErrorCode::kInternal);
    CHECK_FALSE(read.error().internal.empty());
  }
}
