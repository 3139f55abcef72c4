#include "socle/domain/project_settings.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>

#include "socle/domain/email.hpp"

namespace socle::domain {
namespace {

// PocketBase's (ozzo-validation's) codes and messages.
constexpr std::string_view kRequired = "validation_required";
constexpr std::string_view kRequiredMessage = "Cannot be blank.";
constexpr std::string_view kMin = "validation_min_greater_equal_than_required";
// govalidator's bound on a URL, which PocketBase's is.URL applies.
constexpr std::size_t kMaxUrlLength = 2083;
constexpr std::size_t kMaxNameLength = 255;

// Field errors keyed as PocketBase keys them; like PocketBase, one error per key (the first).
class Problems {
 public:
  void Add(std::string key, std::string_view code, std::string message) {
    for (const auto& existing : errors_) {
      if (existing.field == key) return;
    }
    errors_.push_back(FieldError{std::move(key), std::string(code), std::move(message)});
  }
  Result<void> Finish() {
    if (errors_.empty()) return {};
    return Fail(Error::Fields(std::move(errors_)));
  }

 private:
  std::vector<FieldError> errors_;
};

// Characters, as ozzo's Length counts them (runes): every byte that does not continue a UTF-8
// sequence.
std::size_t CountCharacters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

void CheckName(Problems& problems, std::string key, std::string_view value) {
  if (value.empty()) {
    problems.Add(std::move(key), kRequired, std::string(kRequiredMessage));
  } else if (CountCharacters(value) > kMaxNameLength) {
    problems.Add(std::move(key), "validation_length_out_of_range",
                 "The length must be between 1 and 255.");
  }
}

void CheckMin(Problems& problems, std::string key, std::int64_t value, std::int64_t min) {
  if (value < min) {
    problems.Add(std::move(key), kMin, "Must be no less than " + std::to_string(min) + ".");
  }
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// Go's regexp \w: ASCII letters, digits and '_'.
bool IsWord(char c) { return IsAsciiLetter(c) || IsDigit(c) || c == '_'; }
bool IsWords(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsWord);
}
// A path of PocketBase's rule labels: "/" then [\w/-]*.
bool IsLabelPath(std::string_view text) {
  return !text.empty() && text.front() == '/' &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return IsWord(c) || c == '/' || c == '-'; });
}

// PocketBase's rule label shapes: `\w+ /[\w/-]*` (method and path), `/[\w/-]*` (path),
// `\w+:\w+` (collection and action), `\*:\w+` (any collection), `\w+` (a tag).
bool IsRateLimitLabel(std::string_view label) {
  if (IsWords(label) || IsLabelPath(label)) return true;
  if (const std::size_t space = label.find(' '); space != std::string_view::npos) {
    return IsWords(label.substr(0, space)) && IsLabelPath(label.substr(space + 1));
  }
  if (const std::size_t colon = label.find(':'); colon != std::string_view::npos) {
    const std::string_view left = label.substr(0, colon);
    return (left == "*" || IsWords(left)) && IsWords(label.substr(colon + 1));
  }
  return false;
}

// A host of an http(s) URL: a DNS name or IPv4 address ([A-Za-z0-9.-], not starting or ending
// with '.' or '-'), or a bracketed IPv6 address; then an optional port of 1 to 5 digits.
bool IsUrlAuthority(std::string_view authority) {
  if (authority.empty()) return false;
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    const std::string_view inside = authority.substr(1, close - 1);
    const bool hex = std::all_of(inside.begin(), inside.end(), [](char c) {
      return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
             c == '.';
    });
    if (!hex || inside.find(':') == std::string_view::npos) return false;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      if (port.empty()) return false;
    }
    host = {};
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) return false;
    int number = 0;
    for (char c : port) number = number * 10 + (c - '0');
    if (number < 1 || number > 65535) return false;
  }
  if (authority.front() == '[') return true;
  if (host.empty() || host.size() > 253) return false;
  if (host.front() == '.' || host.front() == '-' || host.back() == '.' || host.back() == '-') {
    return false;
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return IsAsciiLetter(c) || IsDigit(c) || c == '.' || c == '-';
  });
}

// An absolute http or https URL, as links in e-mails need one. PocketBase's is.URL also takes
// a URL without a scheme ("example.com"), which makes a broken link; Socle asks for the scheme.
bool IsHttpUrl(std::string_view url) {
  if (url.size() > kMaxUrlLength) return false;
  std::string_view rest;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() < scheme.size()) continue;
    const bool same = std::equal(scheme.begin(), scheme.end(), url.begin(), [](char a, char b) {
      return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
    });
    if (same) rest = url.substr(scheme.size());
  }
  if (rest.empty()) return false;
  // No whitespace or control characters anywhere: they cannot appear in a link unescaped.
  const bool printable = std::all_of(url.begin(), url.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte != 0x7F;
  });
  if (!printable) return false;
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // Credentials in a public link would be published with it.
  if (authority.find('@') != std::string_view::npos) return false;
  return IsUrlAuthority(authority);
}

void CheckMeta(Problems& problems, const MetaSettings& meta) {
  CheckName(problems, "meta.appName", meta.app_name);
  if (meta.app_url.empty()) {
    problems.Add("meta.appURL", kRequired, std::string(kRequiredMessage));
  } else if (!IsHttpUrl(meta.app_url)) {
    problems.Add("meta.appURL", "validation_is_url",
                 "Must be a valid http:// or https:// URL.");
  }
  CheckName(problems, "meta.senderName", meta.sender_name);
  if (meta.sender_address.empty()) {
    problems.Add("meta.senderAddress", kRequired, std::string(kRequiredMessage));
  } else if (!Email::Parse(meta.sender_address)) {
    problems.Add("meta.senderAddress", "validation_is_email", "Must be a valid email address.");
  }
}

void CheckBatch(Problems& problems, const BatchSettings& batch) {
  // ozzo's Required on a number means "not zero"; it applies only while batches are enabled.
  if (batch.enabled && batch.max_requests == 0) {
    problems.Add("batch.maxRequests", kRequired, std::string(kRequiredMessage));
  }
  CheckMin(problems, "batch.maxRequests", batch.max_requests, 0);
  if (batch.enabled && batch.timeout == 0) {
    problems.Add("batch.timeout", kRequired, std::string(kRequiredMessage));
  }
  CheckMin(problems, "batch.timeout", batch.timeout, 0);
  CheckMin(problems, "batch.maxBodySize", batch.max_body_size, 0);
}

void CheckRateLimits(Problems& problems, const RateLimitSettings& limits) {
  if (limits.enabled && limits.rules.empty()) {
    problems.Add("rateLimits.rules", kRequired, std::string(kRequiredMessage));
  }
  for (std::size_t i = 0; i < limits.rules.size(); ++i) {
    const RateLimitRule& rule = limits.rules[i];
    const std::string prefix = "rateLimits.rules." + std::to_string(i) + ".";
    if (rule.label.empty()) {
      problems.Add(prefix + "label", kRequired, std::string(kRequiredMessage));
    } else if (!IsRateLimitLabel(rule.label)) {
      problems.Add(prefix + "label", "validation_match_invalid", "Must be in a valid format.");
    }
    // ozzo's Required (not zero) first, then Min(1).
    if (rule.max_requests == 0) {
      problems.Add(prefix + "maxRequests", kRequired, std::string(kRequiredMessage));
    }
    CheckMin(problems, prefix + "maxRequests", rule.max_requests, 1);
    if (rule.duration == 0) {
      problems.Add(prefix + "duration", kRequired, std::string(kRequiredMessage));
    }
    CheckMin(problems, prefix + "duration", rule.duration, 1);
    if (!rule.audience.empty() && rule.audience != "@guest" && rule.audience != "@auth") {
      problems.Add(prefix + "audience", "validation_in_invalid", "Must be a valid value.");
    }
  }
  // PocketBase refuses a rule whose label and audience repeat, or are a prefix of, an earlier
  // rule's (so "/api/" with every audience conflicts with "/api/" for @guest), and reports the
  // first conflict only.
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < limits.rules.size(); ++i) {
    const RateLimitRule& rule = limits.rules[i];
    std::string key = rule.label + "@@" + rule.audience;
    const bool conflicts = std::any_of(seen.begin(), seen.end(), [&](const std::string& other) {
      return key.starts_with(other) || other.starts_with(key);
    });
    if (conflicts) {
      problems.Add("rateLimits.rules." + std::to_string(i) + ".label",
                   "validation_conflicting_rate_limit_rule",
                   "Rate limit rule configuration with label " + rule.label +
                       " already exists or conflicts with another rule.");
      break;
    }
    seen.push_back(std::move(key));
  }
}

}  // namespace

std::vector<RateLimitRule> DefaultRateLimitRules() {
  return {
      RateLimitRule{"*:auth", 2, 3, ""},
      RateLimitRule{"*:create", 20, 5, ""},
      RateLimitRule{"/api/batch", 3, 1, ""},
      RateLimitRule{"/api/", 300, 10, ""},
  };
}

Result<void> ValidateProjectSettings(const ProjectSettings& settings) {
  Problems problems;
  CheckMeta(problems, settings.meta);
  CheckBatch(problems, settings.batch);
  CheckRateLimits(problems, settings.rate_limits);
  // trustedProxy: PocketBase accepts any header names and either flag value.
  return problems.Finish();
}

}  // namespace socle::domain
