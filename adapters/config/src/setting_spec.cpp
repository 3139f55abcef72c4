#include "setting_spec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "socle/adapters/store_url.hpp"

namespace socle::adapters::config {
namespace {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr std::uint64_t kGiB = 1024 * kMiB;
constexpr std::uint64_t kDayMs = 24ull * 60 * 60 * 1000;

std::unexpected<domain::Error> Problem(std::string text) {
  return Fail(ErrorCode::kInvalidArgument, std::move(text));
}

// Digits only: no sign, no spaces, no hex, so that "-1" or " 8" cannot slip through as
// something else.
Result<std::uint64_t> ParseDigits(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return Problem("not a whole number");
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return Problem("too large");
  return value;
}

std::string ShowSize(std::uint64_t bytes) {
  if (bytes != 0 && bytes % kGiB == 0) return std::to_string(bytes / kGiB) + "GiB";
  if (bytes != 0 && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + "MiB";
  if (bytes != 0 && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + "KiB";
  return std::to_string(bytes);
}

std::string RangeText(std::uint64_t min, std::uint64_t max) {
  return "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max);
}

template <auto Member, std::uint64_t Min, std::uint64_t Max>
Result<void> ApplyInteger(std::string_view text, Settings& settings) {
  using Field = std::remove_reference_t<decltype(settings.*Member)>;
  static_assert(Max <= std::numeric_limits<Field>::max());
  auto value = ParseDigits(text);
  if (!value || *value < Min || *value > Max) return Problem(RangeText(Min, Max));
  settings.*Member = static_cast<Field>(*value);
  return {};
}

template <auto Member>
std::string ShowInteger(const Settings& settings) {
  return std::to_string(settings.*Member);
}

// A byte count, plain or with a binary unit; decimal units (KB, MB) are refused rather than
// guessed at.
template <auto Member, std::uint64_t Min, std::uint64_t Max>
Result<void> ApplySize(std::string_view text, Settings& settings) {
  using Field = std::remove_reference_t<decltype(settings.*Member)>;
  static_assert(Max <= std::numeric_limits<Field>::max());
  auto fail = [] {
    return Problem("must be a size from " + ShowSize(Min) + " to " + ShowSize(Max) +
                   ", in bytes or with a unit KiB, MiB or GiB");
  };
  auto digits_end = text.find_first_not_of("0123456789");
  std::string_view digits = text.substr(0, digits_end);
  std::string_view unit = digits_end == std::string_view::npos ? "" : text.substr(digits_end);
  std::uint64_t multiplier = 1;
  if (unit == "KiB")
    multiplier = kKiB;
  else if (unit == "MiB")
    multiplier = kMiB;
  else if (unit == "GiB")
    multiplier = kGiB;
  else if (!unit.empty())
    return fail();
  auto value = ParseDigits(digits);
  if (!value || *value > Max / multiplier) return fail();
  std::uint64_t bytes = *value * multiplier;
  if (bytes < Min) return fail();
  settings.*Member = static_cast<Field>(bytes);
  return {};
}

template <auto Member>
std::string ShowSizeOf(const Settings& settings) {
  return ShowSize(settings.*Member);
}

// ADDR:PORT, with IPv6 addresses in brackets as in URLs ([::1]:8090) so the last colon is
// unambiguous. Port 0 asks the kernel for a free port (tests use it).
Result<void> ApplyListen(std::string_view text, Settings& settings) {
  constexpr std::string_view kShape = "must be ADDR:PORT, e.g. 127.0.0.1:8090 or [::1]:8090";
  std::string_view address;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Problem(std::string(kShape));
    }
    address = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return Problem(std::string(kShape));
    address = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (address.find(':') != std::string_view::npos) {
      return Problem("an IPv6 address must be in brackets, e.g. [::1]:8090");
    }
  }
  if (address.empty()) return Problem(std::string(kShape));
  auto number = ParseDigits(port);
  if (!number || *number > 65535) return Problem("the port must be a number from 0 to 65535");
  settings.http_address = std::string(address);
  settings.http_port = static_cast<std::uint16_t>(*number);
  return {};
}

std::string ShowListen(const Settings& settings) {
  std::string port = std::to_string(settings.http_port);
  if (settings.http_address.find(':') != std::string::npos) {
    return "[" + settings.http_address + "]:" + port;
  }
  return settings.http_address + ":" + port;
}

Result<void> ApplyDataDir(std::string_view text, Settings& settings) {
  if (text.empty()) return Problem("must not be empty");
  settings.data_dir = std::string(text);
  return {};
}

Result<void> ApplyDatabaseUrl(std::string_view text, Settings& settings) {
  if (!text.empty()) {
    auto parsed = StoreUrl::Parse(text);
    if (!parsed) {
      const auto& error = parsed.error();
      // StoreUrl words its messages as sentences; ours are clauses after "NAME: ".
      std::string why = error.fields.empty() ? error.message : error.fields.front().message;
      if (!why.empty() && why.front() >= 'A' && why.front() <= 'Z') why.front() += 'a' - 'A';
      if (why.ends_with('.')) why.pop_back();
      return Problem(std::move(why));
    }
  }
  settings.database_url = std::string(text);
  return {};
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A path as RFC 3986 allows it (pchar and '/'), percent escapes complete: a link built from it
// must reach mail clients and terminals exactly as written.
bool IsUrlPath(std::string_view path) {
  constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/";
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size() || !IsHexDigit(path[i + 1]) || !IsHexDigit(path[i + 2])) {
        return false;
      }
      i += 2;
      continue;
    }
    if (!IsAsciiAlnum(c) && kAllowed.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// The host[:port] of an absolute URL: a DNS name or IPv4 address, or an IPv6 address in
// brackets; the port, when given, 1 to 65535.
Result<void> CheckAuthority(std::string_view authority) {
  if (authority.empty()) return Problem("must name a host, e.g. https://socle.example.org");
  if (authority.find('@') != std::string_view::npos) {
    // Credentials in a link would be mailed to every invitee.
    return Problem("must not hold a user name or password");
  }
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Problem("has an unclosed '[' in its host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Problem("has text after its bracketed host");
      port = after.substr(1);
      has_port = true;
    }
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != host.npos) {
      return Problem("must have an IPv6 address between its brackets");
    }
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    const bool name_like = std::all_of(host.begin(), host.end(), [](char c) {
      return IsAsciiAlnum(c) || c == '-' || c == '.';
    });
    if (host.empty() || !name_like || host.starts_with('.') || host.starts_with('-')) {
      return Problem("must name a host of letters, digits, '-' and '.' (IPv6 in brackets)");
    }
  }
  if (has_port) {
    auto number = ParseDigits(port);
    if (!number || *number < 1 || *number > 65535) {
      return Problem("the port must be a number from 1 to 65535");
    }
  }
  return {};
}

// Where clients reach the server, for the links it mails and prints: an absolute http(s) URL
// to which a path ("/_/invitations") is appended, so no query, fragment or trailing slash.
Result<void> ApplyPublicUrl(std::string_view text, Settings& settings) {
  if (text.empty()) {
    settings.public_url.clear();
    return {};
  }
  constexpr std::string_view kShape =
      "must be an absolute http:// or https:// URL, e.g. https://socle.example.org";
  const auto separator = text.find("://");
  if (separator == std::string_view::npos) return Problem(std::string(kShape));
  std::string scheme(text.substr(0, separator));
  for (char& c : scheme) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (scheme != "http" && scheme != "https") return Problem(std::string(kShape));
  const std::string_view rest = text.substr(separator + 3);
  if (rest.find('?') != std::string_view::npos) return Problem("must not have a query (?...)");
  if (rest.find('#') != std::string_view::npos) return Problem("must not have a fragment (#...)");
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (auto checked = CheckAuthority(authority); !checked) return checked;
  if (!IsUrlPath(path)) {
    return Problem("has a character that a URL path cannot hold (spaces must be %20)");
  }
  // "https://host/" and "https://host" name the same place; links append "/_/...".
  while (path.ends_with('/')) path.remove_suffix(1);
  settings.public_url = scheme + "://" + std::string(authority) + std::string(path);
  return {};
}

Result<void> ApplyLogLevel(std::string_view text, Settings& settings) {
  if (text != "debug" && text != "info" && text != "warn" && text != "error") {
    return Problem("must be one of debug, info, warn, error");
  }
  settings.log_level = std::string(text);
  return {};
}

Result<void> ApplyLogFormat(std::string_view text, Settings& settings) {
  if (text != "json" && text != "text") return Problem("must be json or text");
  settings.log_format = std::string(text);
  return {};
}

Result<void> ApplyHttpReads(std::string_view text, Settings& settings) {
  if (text != "auto" && text != "loop" && text != "point" && text != "worker") {
    return Problem("must be one of auto, loop, point, worker");
  }
  settings.http_reads = std::string(text);
  return {};
}

Result<void> ApplyConfigFile(std::string_view text, Settings& settings) {
  if (text.empty()) return Problem("must not be empty");
  settings.config_file = std::string(text);
  return {};
}

// A value checked where it is used (the master key by the crypto adapter, the SMTP URL by the
// mail adapter), which report problems without echoing it.
template <auto Member>
Result<void> ApplyText(std::string_view text, Settings& settings) {
  settings.*Member = std::string(text);
  return {};
}

template <auto Member>
std::string ShowText(const Settings& settings) {
  return settings.*Member;
}

// The config-file row is first: it is resolved before the file itself is read.
constexpr std::array kSpecs = {
    SettingSpec{"--config", "FILE", "SOCLE_CONFIG", "",
                "TOML settings file (default: ./socle.toml when it exists).", ValueKind::kText,
                false, &ApplyConfigFile, [](const Settings&) { return std::string(); }},
    SettingSpec{"--data-dir", "DIR", "SOCLE_DATA_DIR", "data_dir",
                "Directory of the embedded store and local files.", ValueKind::kText, false,
                &ApplyDataDir, &ShowText<&Settings::data_dir>},
    SettingSpec{"--deletion-grace-days", "DAYS", "SOCLE_DELETION_GRACE_DAYS",
                "data.deletion_grace_days",
                "Days a deleted organisation or project can be restored before it is purged "
                "with all its data (0: purged at once).",
                ValueKind::kNumber, false,
                &ApplyInteger<&Settings::deletion_grace_days, 0, 3650>,
                &ShowInteger<&Settings::deletion_grace_days>},
    SettingSpec{"--audit-checkpoint-minutes", "MINUTES", "SOCLE_AUDIT_CHECKPOINT_MINUTES",
                "audit.checkpoint_minutes",
                "Minutes between the server's signed checkpoints of the audit chains (0: only "
                "`socle audit checkpoint`).",
                ValueKind::kNumber, false,
                &ApplyInteger<&Settings::audit_checkpoint_minutes, 0, 1440>,
                &ShowInteger<&Settings::audit_checkpoint_minutes>},
    SettingSpec{"--audit-retention-months", "MONTHS", "SOCLE_AUDIT_RETENTION_MONTHS",
                "audit.retention_months",
                "Whole months of audit events kept in the project stores; older ones are "
                "archived daily under the data directory (0: kept forever).",
                ValueKind::kNumber, false,
                &ApplyInteger<&Settings::audit_retention_months, 0, 1200>,
                &ShowInteger<&Settings::audit_retention_months>},
    SettingSpec{"--database-url", "URL", "SOCLE_DATABASE_URL", "database.url",
                "Catalogue store: sqlite://PATH, postgres://..., memory:// (default: SQLite "
                "in the data directory).",
                ValueKind::kText, true, &ApplyDatabaseUrl, &ShowText<&Settings::database_url>},
    SettingSpec{"--database-pool-size", "N", "SOCLE_DATABASE_POOL_SIZE", "database.pool_size",
                "Database connections per pool (0: one per worker thread and per event "
                "loop that reads).",
                ValueKind::kNumber, false, &ApplyInteger<&Settings::database_pool_size, 0, 1024>,
                &ShowInteger<&Settings::database_pool_size>},
    SettingSpec{"--database-timeout-ms", "MS", "SOCLE_DATABASE_TIMEOUT_MS", "database.timeout_ms",
                "Deadline to connect, to wait for a lock or a pooled connection, and per "
                "statement.",
                ValueKind::kNumber, false, &ApplyInteger<&Settings::database_timeout_ms, 1, kDayMs>,
                &ShowInteger<&Settings::database_timeout_ms>},
    SettingSpec{"--http", "ADDR:PORT", "SOCLE_HTTP", "http.address",
                "Address and port socle-server listens on (port 0: any free port).",
                ValueKind::kText, false, &ApplyListen, &ShowListen},
    SettingSpec{"--public-url", "URL", "SOCLE_PUBLIC_URL", "http.public_url",
                "The URL clients reach this server at (https://socle.example.org); used in "
                "links sent by e-mail and printed (invitation and setup links). Default: "
                "http://ADDRESS:PORT when listening on a concrete address.",
                ValueKind::kText, false, &ApplyPublicUrl, &ShowText<&Settings::public_url>},
    SettingSpec{"--http-threads", "N", "SOCLE_HTTP_THREADS", "http.threads",
                "HTTP event loops, one thread each (0: one per core, two with PostgreSQL "
                "reads on the loops).",
                ValueKind::kNumber, false,
                &ApplyInteger<&Settings::http_threads, 0, 256>,
                &ShowInteger<&Settings::http_threads>},
    SettingSpec{"--http-reads", "WHERE", "SOCLE_HTTP_READS", "http.reads",
                "Where short store reads run: loop (all on the connection's event loop), point "
                "(a record by id on the loop, lists on the workers), worker (all on the worker "
                "pool) or auto (loop with SQLite, point with PostgreSQL).",
                ValueKind::kText, false, &ApplyHttpReads, &ShowText<&Settings::http_reads>},
    SettingSpec{"--http-workers", "N", "SOCLE_HTTP_WORKERS", "http.workers",
                "Threads running requests against the store (size it with the pool).",
                ValueKind::kNumber, false, &ApplyInteger<&Settings::worker_threads, 1, 1024>,
                &ShowInteger<&Settings::worker_threads>},
    SettingSpec{"--http-max-body-bytes", "SIZE", "SOCLE_HTTP_MAX_BODY_BYTES", "http.max_body_bytes",
                "Largest request body accepted (larger: 413).", ValueKind::kNumber, false,
                &ApplySize<&Settings::max_body_bytes, 1, kGiB>,
                &ShowSizeOf<&Settings::max_body_bytes>},
    SettingSpec{"--http-max-header-bytes", "SIZE", "SOCLE_HTTP_MAX_HEADER_BYTES",
                "http.max_header_bytes", "Largest request header block accepted (larger: 431).",
                ValueKind::kNumber, false, &ApplySize<&Settings::max_header_bytes, kKiB, kMiB>,
                &ShowSizeOf<&Settings::max_header_bytes>},
    SettingSpec{"--http-read-timeout-ms", "MS", "SOCLE_HTTP_READ_TIMEOUT_MS",
                "http.read_timeout_ms", "Time allowed to receive a whole request.",
                ValueKind::kNumber, false, &ApplyInteger<&Settings::read_timeout_ms, 1, kDayMs>,
                &ShowInteger<&Settings::read_timeout_ms>},
    SettingSpec{"--http-idle-timeout-ms", "MS", "SOCLE_HTTP_IDLE_TIMEOUT_MS",
                "http.idle_timeout_ms", "Keep-alive connections idle longer are closed.",
                ValueKind::kNumber, false, &ApplyInteger<&Settings::idle_timeout_ms, 1, kDayMs>,
                &ShowInteger<&Settings::idle_timeout_ms>},
    SettingSpec{"--http-shutdown-timeout-ms", "MS", "SOCLE_HTTP_SHUTDOWN_TIMEOUT_MS",
                "http.shutdown_timeout_ms", "Time in-flight requests get to finish after SIGTERM.",
                ValueKind::kNumber, false, &ApplyInteger<&Settings::shutdown_timeout_ms, 0, kDayMs>,
                &ShowInteger<&Settings::shutdown_timeout_ms>},
    SettingSpec{"--http-max-connections", "N", "SOCLE_HTTP_MAX_CONNECTIONS", "http.max_connections",
                "Open connections beyond this are refused.", ValueKind::kNumber, false,
                &ApplyInteger<&Settings::max_connections, 1, 1'000'000>,
                &ShowInteger<&Settings::max_connections>},
    SettingSpec{"--http-rate-limit", "N", "SOCLE_HTTP_RATE_LIMIT", "http.rate_limit",
                "Requests per second each client address (and each token or API key) may make "
                "on the API routes, bursts included; beyond it 429 (0: no limit).",
                ValueKind::kNumber, false, &ApplyInteger<&Settings::rate_limit_per_second, 0, 1'000'000>,
                &ShowInteger<&Settings::rate_limit_per_second>},
    SettingSpec{"--master-key", "BASE64", "SOCLE_MASTER_KEY", "security.master_key",
                "Key sealing secrets at rest: base64 of 32 bytes (default: the file "
                "master.key in the data directory, created on first use).",
                ValueKind::kText, true, &ApplyText<&Settings::master_key>,
                &ShowText<&Settings::master_key>},
    SettingSpec{"--smtp-url", "URL", "SOCLE_SMTP_URL", "mail.smtp_url",
                "Outgoing mail: smtp://USER:PASSWORD@HOST:PORT or smtps://... (default: .eml "
                "files in the data directory's mail folder).",
                ValueKind::kText, true, &ApplyText<&Settings::smtp_url>,
                &ShowText<&Settings::smtp_url>},
    SettingSpec{"--log-level", "LEVEL", "SOCLE_LOG_LEVEL", "log.level",
                "Least severe log level written: debug, info, warn or error.", ValueKind::kText,
                false, &ApplyLogLevel, &ShowText<&Settings::log_level>},
    SettingSpec{"--log-format", "FORMAT", "SOCLE_LOG_FORMAT", "log.format",
                "Log lines as json or text.", ValueKind::kText, false, &ApplyLogFormat,
                &ShowText<&Settings::log_format>},
};

}  // namespace

std::span<const SettingSpec> SettingSpecs() { return kSpecs; }

const SettingSpec& ConfigFileSpec() { return kSpecs.front(); }

}  // namespace socle::adapters::config
