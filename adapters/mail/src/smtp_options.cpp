#include "socle/adapters/mail/smtp_options.hpp"

#include <charconv>
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace socle::adapters::mail {
namespace {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

// Longer than any real deadline for one SMTP step; a bigger number is a typo.
constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(1);
constexpr std::size_t kMaxUrlLength = 4096;
constexpr std::size_t kMaxLocalNameLength = 255;

std::unexpected<domain::Error> Invalid(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

bool HasControl(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

// Percent-encodes everything but RFC 3986's unreserved characters and those in `keep`.
std::string PercentEncode(std::string_view text, std::string_view keep = {}) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || keep.find(char(c)) != std::string_view::npos;
    if (unreserved) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (unsigned char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool IsIpv6Text(std::string_view host) {
  if (host.size() < 2 || host.find(':') == std::string_view::npos) return false;
  for (unsigned char c : host) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                    c == ':' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::optional<bool> ParseBool(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

// "10" or "10s" (seconds) or "500ms", positive and at most kMaxTimeout.
std::optional<std::chrono::milliseconds> ParseTimeout(std::string_view text) {
  std::int64_t scale = 1000;
  if (text.ends_with("ms")) {
    scale = 1;
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
  }
  std::int64_t value = 0;
  if (text.empty() || text.size() > 9) return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  const std::chrono::milliseconds timeout(value * scale);
  if (timeout > kMaxTimeout) return std::nullopt;
  return timeout;
}

std::optional<SmtpSecurity> ParseSecurity(std::string_view text) {
  if (text == "none") return SmtpSecurity::kNone;
  if (text == "starttls") return SmtpSecurity::kStartTls;
  if (text == "tls") return SmtpSecurity::kTls;
  return std::nullopt;
}

std::uint16_t DefaultPort(SmtpSecurity security) {
  switch (security) {
    case SmtpSecurity::kNone: return 25;
    case SmtpSecurity::kStartTls: return 587;
    case SmtpSecurity::kTls: return 465;
  }
  return 587;
}

// Applies one query parameter. The value is already percent-decoded.
Result<void> ApplyParameter(std::string_view key, const std::string& value, SmtpOptions& options,
                            std::optional<SmtpSecurity>& security) {
  const std::string name(key);
  if (key == "security") {
    security = ParseSecurity(value);
    if (!security) return Invalid("The SMTP URL's security must be none, starttls or tls.");
  } else if (key == "ca_file") {
    if (value.empty()) return Invalid("The SMTP URL's ca_file must not be empty.");
    options.ca_file = value;
  } else if (key == "tls_verify" || key == "allow_plaintext_auth") {
    auto flag = ParseBool(value);
    if (!flag) return Invalid("The SMTP URL's " + name + " must be true or false.");
    (key == "tls_verify" ? options.tls_verify : options.allow_plaintext_auth) = *flag;
  } else if (key == "local_name") {
    options.local_name = value;
  } else if (key == "connect_timeout" || key == "command_timeout" || key == "data_timeout") {
    auto timeout = ParseTimeout(value);
    if (!timeout) {
      return Invalid("The SMTP URL's " + name +
                     " must be a positive number of seconds (\"10\") or milliseconds "
                     "(\"500ms\"), at most an hour.");
    }
    if (key == "connect_timeout") options.connect_timeout = *timeout;
    if (key == "command_timeout") options.command_timeout = *timeout;
    if (key == "data_timeout") options.data_timeout = *timeout;
  } else {
    return Invalid("The SMTP URL has an unknown parameter (known: security, ca_file, tls_verify, "
                   "allow_plaintext_auth, local_name, connect_timeout, command_timeout, "
                   "data_timeout).");
  }
  return {};
}

}  // namespace

std::string_view ToString(SmtpSecurity security) noexcept {
  switch (security) {
    case SmtpSecurity::kNone: return "none";
    case SmtpSecurity::kStartTls: return "starttls";
    case SmtpSecurity::kTls: return "tls";
  }
  return "starttls";
}

Result<void> ValidateSmtpOptions(const SmtpOptions& options) {
  if (options.host.empty() || HasControl(options.host) ||
      options.host.find(' ') != std::string::npos) {
    return Invalid("The SMTP host must be a host name or an IP address.");
  }
  if (options.port == 0) return Invalid("The SMTP port must be from 1 to 65535.");
  if (!options.local_name.empty()) {
    for (unsigned char c : options.local_name) {
      if (c <= 0x20 || c >= 0x7F) {
        return Invalid("The SMTP local name must be printable ASCII without spaces.");
      }
    }
    if (options.local_name.size() > kMaxLocalNameLength) {
      return Invalid("The SMTP local name must be at most 255 characters.");
    }
  }
  if (HasControl(options.username) || HasControl(options.password)) {
    return Invalid("The SMTP username and password must not contain control characters.");
  }
  if (options.username.empty() && !options.password.empty()) {
    return Invalid("An SMTP password needs a username.");
  }
  if (!options.username.empty() && options.security == SmtpSecurity::kNone &&
      !options.allow_plaintext_auth) {
    return Invalid("SMTP credentials would travel unencrypted: use security starttls or tls, or "
                   "allow plaintext authentication explicitly.");
  }
  if (!options.ca_file.empty() && !options.tls_verify) {
    return Invalid("An SMTP CA file has no use when TLS verification is off.");
  }
  if (HasControl(options.ca_file)) {
    return Invalid("The SMTP CA file path must not contain control characters.");
  }
  using std::chrono::milliseconds;
  for (milliseconds timeout : {options.connect_timeout, options.command_timeout,
                               options.data_timeout}) {
    if (timeout <= milliseconds::zero()) return Invalid("SMTP timeouts must be positive.");
  }
  return {};
}

Result<SmtpOptions> ParseSmtpUrl(std::string_view url) {
  if (url.size() > kMaxUrlLength) return Invalid("The SMTP URL is too long.");
  SmtpOptions options;
  std::optional<SmtpSecurity> security;
  std::optional<SmtpSecurity> scheme_security;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Invalid("The SMTP URL must start with smtp:// or smtps://.");
  }
  const std::string scheme = ToLower(url.substr(0, scheme_end));
  if (scheme == "smtps") {
    scheme_security = SmtpSecurity::kTls;
  } else if (scheme != "smtp") {
    return Invalid("The SMTP URL must start with smtp:// or smtps://.");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) {
    return Invalid("The SMTP URL must not have a fragment.");
  }
  const std::size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view after = authority_end == std::string_view::npos ? std::string_view()
                                                                   : rest.substr(authority_end);
  std::string_view query;
  if (after.starts_with('/')) {
    const std::size_t question = after.find('?');
    if (after.substr(0, question) != "/") return Invalid("The SMTP URL must not have a path.");
    after = question == std::string_view::npos ? std::string_view() : after.substr(question);
  }
  if (after.starts_with('?')) query = after.substr(1);

  // The credentials end at the last '@', so that an unescaped '@' in a password still parses.
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const std::size_t colon = userinfo.find(':');
    auto user = PercentDecode(userinfo.substr(0, colon));
    std::optional<std::string> password = std::string();
    if (colon != std::string_view::npos) password = PercentDecode(userinfo.substr(colon + 1));
    if (!user || !password) return Invalid("The SMTP URL's credentials are badly percent-encoded.");
    if (user->empty()) return Invalid("The SMTP URL's username is empty.");
    options.username = std::move(*user);
    options.password = std::move(*password);
  }

  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || !IsIpv6Text(authority.substr(1, close - 1))) {
      return Invalid("The SMTP URL's IPv6 host is malformed.");
    }
    options.host = ToLower(authority.substr(1, close - 1));
    std::string_view tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (!tail.starts_with(':')) return Invalid("The SMTP URL's host is malformed.");
      port_text = tail.substr(1);
      if (port_text.empty()) return Invalid("The SMTP URL's port is empty.");
    }
  } else {
    const std::size_t colon = authority.find(':');
    options.host = ToLower(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Invalid("The SMTP URL's port is empty.");
    }
    if (!IsHostName(options.host)) return Invalid("The SMTP URL's host is malformed.");
  }
  std::optional<std::uint16_t> port;
  if (!port_text.empty()) {
    port = ParsePort(port_text);
    if (!port) return Invalid("The SMTP URL's port must be a number from 1 to 65535.");
  }

  std::set<std::string, std::less<>> seen;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) {
      return Invalid("Each SMTP URL parameter must be written name=value.");
    }
    const std::string_view key = pair.substr(0, equals);
    auto value = PercentDecode(pair.substr(equals + 1));
    if (!value) return Invalid("An SMTP URL parameter is badly percent-encoded.");
    if (!seen.emplace(key).second) return Invalid("An SMTP URL parameter is repeated.");
    if (auto applied = ApplyParameter(key, *value, options, security); !applied) {
      return Fail(applied.error());
    }
  }
  if (scheme_security && security && *security != *scheme_security) {
    return Invalid("smtps:// means security=tls; use smtp:// for another mode.");
  }
  options.security = scheme_security.value_or(security.value_or(SmtpSecurity::kStartTls));
  options.port = port.value_or(DefaultPort(options.security));
  if (auto valid = ValidateSmtpOptions(options); !valid) return Fail(valid.error());
  return options;
}

std::string RedactedSmtpUrl(const SmtpOptions& options) {
  std::string out = "smtp://";
  if (!options.username.empty()) {
    out += PercentEncode(options.username);
    if (!options.password.empty()) out += ":***";
    out += '@';
  }
  if (options.host.find(':') != std::string::npos) {
    out += "[" + options.host + "]";
  } else {
    out += PercentEncode(options.host);
  }
  out += ":" + std::to_string(options.port);
  out += "?security=";
  out += ToString(options.security);
  if (!options.ca_file.empty()) out += "&ca_file=" + PercentEncode(options.ca_file, "/");
  if (!options.tls_verify) out += "&tls_verify=false";
  if (options.allow_plaintext_auth) out += "&allow_plaintext_auth=true";
  if (!options.local_name.empty()) out += "&local_name=" + PercentEncode(options.local_name);
  const SmtpOptions defaults;
  auto timeout = [&](std::string_view name, std::chrono::milliseconds value,
                     std::chrono::milliseconds fallback) {
    if (value == fallback) return;
    out += "&";
    out += name;
    out += "=" + std::to_string(value.count()) + "ms";
  };
  timeout("connect_timeout", options.connect_timeout, defaults.connect_timeout);
  timeout("command_timeout", options.command_timeout, defaults.command_timeout);
  timeout("data_timeout", options.data_timeout, defaults.data_timeout);
  return out;
}

}  // namespace socle::adapters::mail
