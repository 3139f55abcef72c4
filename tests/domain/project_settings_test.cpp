#include "socle/domain/project_settings.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace socle::domain;

namespace {

// The field errors of a failed validation as key → code, or an empty map when it passed.
std::map<std::string, std::string> Problems(const ProjectSettings& settings) {
  std::map<std::string, std::string> out;
  auto valid = ValidateProjectSettings(settings);
  if (valid) return out;
  CHECK(valid.error().code == ErrorCode::kInvalidArgument);
  for (const auto& field : valid.error().fields) out.emplace(field.field, field.code);
  return out;
}

std::string CodeOf(const ProjectSettings& settings, const std::string& key) {
  auto problems = Problems(settings);
  auto it = problems.find(key);
  return it == problems.end() ? "<valid>" : it->second;
}

}  // namespace

TEST_CASE("the defaults are PocketBase's, except that batches are enabled",
          "[domain][settings]") {
  const ProjectSettings defaults;
  CHECK(defaults.meta.app_name == "Acme");
  CHECK(defaults.meta.app_url == "http://localhost:8090");
  CHECK(defaults.meta.sender_name == "Support");
  CHECK(defaults.meta.sender_address == "support@example.com");
  CHECK_FALSE(defaults.meta.hide_controls);
  CHECK(defaults.batch.enabled);
  CHECK(defaults.batch.max_requests == 50);
  CHECK(defaults.batch.timeout == 3);
  CHECK(defaults.batch.max_body_size == 0);
  CHECK_FALSE(defaults.rate_limits.enabled);
  REQUIRE(defaults.rate_limits.rules.size() == 4);
  CHECK(defaults.rate_limits.rules[0] == RateLimitRule{"*:auth", 2, 3, ""});
  CHECK(defaults.rate_limits.rules[3] == RateLimitRule{"/api/", 300, 10, ""});
  CHECK(defaults.trusted_proxy.headers.empty());
  CHECK(Problems(defaults).empty());
}

TEST_CASE("meta: names required and bounded, a URL and an address", "[domain][settings]") {
  ProjectSettings s;
  s.meta.app_name = "";
  CHECK(CodeOf(s, "meta.appName") == "validation_required");
  s.meta.app_name = std::string(255, 'a');
  CHECK(CodeOf(s, "meta.appName") == "<valid>");
  s.meta.app_name = std::string(256, 'a');
  CHECK(CodeOf(s, "meta.appName") == "validation_length_out_of_range");
  // Characters, not bytes: 255 two-byte characters fit.
  s.meta.app_name.clear();
  for (int i = 0; i < 255; ++i) s.meta.app_name += "\xc3\xa9";
  CHECK(CodeOf(s, "meta.appName") == "<valid>");

  s = {};
  s.meta.sender_name = "";
  CHECK(CodeOf(s, "meta.senderName") == "validation_required");
  s = {};
  s.meta.sender_address = "";
  CHECK(CodeOf(s, "meta.senderAddress") == "validation_required");
  s.meta.sender_address = "not an address";
  CHECK(CodeOf(s, "meta.senderAddress") == "validation_is_email");
  s.meta.sender_address = "team@mail.example.org";
  CHECK(CodeOf(s, "meta.senderAddress") == "<valid>");

  s = {};
  s.meta.app_url = "";
  CHECK(CodeOf(s, "meta.appURL") == "validation_required");
  for (const char* good : {"https://example.com", "http://localhost:8090/p/shop",
                           "HTTPS://Example.COM:443/a?b=c#d", "http://127.0.0.1",
                           "http://[::1]:8090/"}) {
    s.meta.app_url = good;
    INFO(good);
    CHECK(CodeOf(s, "meta.appURL") == "<valid>");
  }
  for (const char* bad :
       {"example.com", "ftp://example.com", "https://", "https:///path", "http://exa mple.com",
        "http://user:pass@example.com", "http://example.com:0", "http://example.com:99999",
        "http://-example.com", "http://example.com:", "http://[zz]/", "javascript:alert(1)"}) {
    s.meta.app_url = bad;
    INFO(bad);
    CHECK(CodeOf(s, "meta.appURL") == "validation_is_url");
  }
}

TEST_CASE("batch: limits required while enabled, never negative", "[domain][settings]") {
  ProjectSettings s;
  s.batch.max_requests = 0;
  s.batch.timeout = 0;
  CHECK(CodeOf(s, "batch.maxRequests") == "validation_required");
  CHECK(CodeOf(s, "batch.timeout") == "validation_required");
  s.batch.enabled = false;  // a disabled batch needs no limits
  CHECK(Problems(s).empty());
  s.batch.max_requests = -1;
  s.batch.timeout = -1;
  s.batch.max_body_size = -1;
  CHECK(CodeOf(s, "batch.maxRequests") == "validation_min_greater_equal_than_required");
  CHECK(CodeOf(s, "batch.timeout") == "validation_min_greater_equal_than_required");
  CHECK(CodeOf(s, "batch.maxBodySize") == "validation_min_greater_equal_than_required");
}

TEST_CASE("rate limits: PocketBase's label shapes, bounds and audiences", "[domain][settings]") {
  ProjectSettings s;
  for (const char* good : {"tag_1", "users:create", "*:auth", "/", "/api/", "/api/my-path",
                           "POST /api/collections/", "get /"}) {
    s.rate_limits.rules = {RateLimitRule{good, 1, 1, ""}};
    INFO(good);
    CHECK(Problems(s).empty());
  }
  for (const char* bad : {"has space", "users:", ":create", "*:", "*", "POST api", "/api?x",
                          "POST  /api", "a:b:c", "ünïcode", "users:*"}) {
    s.rate_limits.rules = {RateLimitRule{bad, 1, 1, ""}};
    INFO(bad);
    CHECK(CodeOf(s, "rateLimits.rules.0.label") == "validation_match_invalid");
  }

  s.rate_limits.rules = {RateLimitRule{"", 0, -2, "@admins"}};
  auto problems = Problems(s);
  CHECK(problems["rateLimits.rules.0.label"] == "validation_required");
  CHECK(problems["rateLimits.rules.0.maxRequests"] == "validation_required");
  CHECK(problems["rateLimits.rules.0.duration"] == "validation_min_greater_equal_than_required");
  CHECK(problems["rateLimits.rules.0.audience"] == "validation_in_invalid");

  s.rate_limits.rules.clear();
  CHECK(Problems(s).empty());  // no rules are fine while rate limiting is off
  s.rate_limits.enabled = true;
  CHECK(CodeOf(s, "rateLimits.rules") == "validation_required");
}

TEST_CASE("rate limits: a label repeating or prefixing another with its audience conflicts",
          "[domain][settings]") {
  ProjectSettings s;
  s.rate_limits.rules = {RateLimitRule{"/api/", 1, 1, "@guest"},
                         RateLimitRule{"/api/", 1, 1, "@auth"}};
  CHECK(Problems(s).empty());
  s.rate_limits.rules = {RateLimitRule{"/api/", 1, 1, "@guest"},
                         RateLimitRule{"/api/", 1, 1, "@guest"}};
  CHECK(CodeOf(s, "rateLimits.rules.1.label") == "validation_conflicting_rate_limit_rule");
  // Every audience ("") prefixes a specific one, as PocketBase keys them.
  s.rate_limits.rules = {RateLimitRule{"/api/", 1, 1, "@guest"}, RateLimitRule{"/api/", 1, 1, ""}};
  CHECK(CodeOf(s, "rateLimits.rules.1.label") == "validation_conflicting_rate_limit_rule");
  // Only the first conflict is reported.
  s.rate_limits.rules = {RateLimitRule{"a", 1, 1, ""}, RateLimitRule{"a", 1, 1, ""},
                         RateLimitRule{"a", 1, 1, ""}};
  auto problems = Problems(s);
  CHECK(problems.count("rateLimits.rules.1.label") == 1);
  CHECK(problems.count("rateLimits.rules.2.label") == 0);
}

TEST_CASE("every bad field is reported in one answer", "[domain][settings]") {
  ProjectSettings s;
  s.meta.app_name = "";
  s.meta.app_url = "nope";
  s.batch.max_requests = -5;
  s.rate_limits.rules = {RateLimitRule{"ok", 1, 0, ""}};
  auto valid = ValidateProjectSettings(s);
  REQUIRE_FALSE(valid);
  CHECK(valid.error().fields.size() == 4);
  CHECK(valid.error().fields[0] ==
        FieldError{"meta.appName", "validation_required", "Cannot be blank."});
  CHECK(valid.error().fields[2] == FieldError{"batch.maxRequests",
                                              "validation_min_greater_equal_than_required",
                                              "Must be no less than 0."});
}
