#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/error.hpp"
#include "socle/domain/project_settings.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::domain {

/// How much traffic one bucket lets through: at most `max_requests` per `duration`, the shape
/// of a PocketBase rate limit rule. A bucket holds `max_requests` requests and refills
/// continuously at max_requests / duration, so a client may burst up to `max_requests` at once
/// and then sustain that rate, and an idle bucket is full again after `duration`.
struct BucketSpec {
  /// The largest values a bucket works with; Take clamps a spec into [1, kMax...] so that its
  /// arithmetic (exact integers, in milliseconds) cannot overflow. Rules past them make no
  /// practical sense (a hundred million requests, a year).
  static constexpr std::int64_t kMaxRequests = 100'000'000;
  static constexpr std::chrono::seconds kMaxDuration{366LL * 24 * 3600};

  std::int64_t max_requests = 0;
  std::chrono::seconds duration{0};

  /// The spec of a PocketBase rule (its `maxRequests` per `duration` seconds).
  static BucketSpec For(const RateLimitRule& rule) {
    return BucketSpec{rule.max_requests, std::chrono::seconds{rule.duration}};
  }
  /// Whether the spec lies within [1, kMaxRequests] and [1 s, kMaxDuration], where Take uses it
  /// as it is.
  bool IsValid() const noexcept {
    return max_requests >= 1 && max_requests <= kMaxRequests && duration.count() >= 1 &&
           duration <= kMaxDuration;
  }

  friend bool operator==(const BucketSpec&, const BucketSpec&) = default;
};

/// The answer of RateLimiter::Take.
struct RateLimitDecision {
  bool allowed = false;
  /// Zero when allowed; when refused, the seconds (rounded up, at least 1) until the bucket
  /// holds one request again: the value of a Retry-After header.
  std::chrono::seconds retry_after{0};
  /// Whole requests left in the bucket after this one (0 when refused).
  std::int64_t remaining = 0;

  friend bool operator==(const RateLimitDecision&, const RateLimitDecision&) = default;
};

/// How a RateLimiter bounds its memory and spreads its locks.
struct RateLimiterOptions {
  static constexpr std::size_t kMaxKeysLimit = 100'000'000;
  static constexpr std::size_t kMaxShards = 1024;

  /// The most buckets held at once; past it the limiter evicts (see RateLimiter).
  std::size_t max_keys = 100'000;
  /// Independently locked parts of the key space; more than the cores, so that two threads
  /// rarely wait on one mutex.
  std::size_t shards = 16;
};

/// Token buckets keyed by a string, in memory, for one process: the per-address limits of
/// a project's `rateLimits` rules and any other "at most N per T" limit.
///
/// The caller builds the key, naming everything the bucket is per ("ip:203.0.113.7|rule:*:auth"),
/// and passes the spec and the current time on every call: the limiter reads no clock, so the
/// same calls give the same answers. Each key's bucket is created full on first use.
///
/// Memory is bounded by `max_keys`, split evenly over the shards. When a shard is full, taking
/// from a new key first evicts, among the least recently used buckets of that shard (the 16
/// oldest), one that has refilled to full, and failing that the least recently used one. A new
/// bucket starts full, so eviction can only make the limiter more lenient to the evicted key,
/// never stricter: evicting a full bucket changes nothing, evicting another forgives what it had
/// consumed. Keys that an attacker can vary freely (an IPv6 address's low 64 bits) should be
/// cut down by the caller (to the /64) so that flooding distinct keys cannot push real clients'
/// buckets out.
///
/// A key's spec may change between calls (settings were edited): the bucket keeps the requests
/// it has consumed, rounded up to whole ones, and continues under the new spec. Time that runs
/// backwards (a `now` before the previous call's) refills nothing and does not move the bucket's
/// clock back.
///
/// Thread-safe: every method may be called from any thread; a key's shard is locked for the
/// duration of one call. Moving a limiter while another thread uses it is not.
class RateLimiter final {
 public:
  /// A limiter with the default options.
  RateLimiter();
  /// A limiter with the given options; invalid_argument naming "max_keys" or "shards" when one
  /// is outside [1, kMaxKeysLimit] or [1, kMaxShards].
  static Result<RateLimiter> Create(const RateLimiterOptions& options);

  RateLimiter(RateLimiter&&) noexcept;
  RateLimiter& operator=(RateLimiter&&) noexcept;
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;
  ~RateLimiter();

  /// Takes one request from `key`'s bucket at `now` under `spec` (clamped into its valid range,
  /// see BucketSpec): allowed with the requests remaining, or refused with the seconds to wait.
  RateLimitDecision Take(std::string_view key, const BucketSpec& spec, Timestamp now);

  /// The number of buckets held (at most max_keys()).
  std::size_t Size() const;
  std::size_t max_keys() const noexcept { return max_keys_; }

 private:
  struct Shard;
  explicit RateLimiter(const RateLimiterOptions& options);
  Shard& ShardFor(std::string_view key) const;

  std::vector<std::unique_ptr<Shard>> shards_;
  std::size_t max_keys_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Which of a project's rules applies to a request: PocketBase's FindRateLimitRule.

/// What the rule lookup needs to know of a request.
struct RateLimitRequest {
  std::string_view method;  ///< "GET", "POST" ...
  /// The path relative to the project ("/api/collections/users/records"), without the query.
  std::string_view path;
  /// For the routes of one collection, its name; empty for the other routes.
  std::string_view collection;
  /// For the routes of one collection, PocketBase's action tags, most specific first:
  /// {"list"}, {"view"}, {"create"}, {"update"}, {"delete"}, {"file"}, {"listAuthMethods"},
  /// {"authRefresh"}, {"authWithPassword", "auth"}, {"authWithOAuth2", "auth"},
  /// {"authWithOTP", "auth"}, {"requestOTP"}, {"requestPasswordReset"},
  /// {"confirmPasswordReset"}, {"requestVerification"}, {"confirmVerification"},
  /// {"requestEmailChange"}, {"confirmEmailChange"}. Ignored when `collection` is empty.
  std::vector<std::string_view> actions;
  /// Whether the request carries a valid auth record token (not a superuser's: PocketBase does
  /// not rate limit superusers, and neither should the caller).
  bool authenticated = false;
};

/// The labels a request is looked up by, most specific first, as PocketBase builds them: for a
/// collection route "collection:action" for each action, then "*:action" for each action; then
/// for every route "METHOD path" and "path". {"users:authWithPassword", "users:auth",
/// "*:authWithPassword", "*:auth", "POST /api/collections/users/auth-with-password",
/// "/api/collections/users/auth-with-password"}.
std::vector<std::string> RateLimitLabels(const RateLimitRequest& request);

/// The rule that applies to a request with these labels, or nullptr: PocketBase's
/// FindRateLimitRule. For each label in order, first a rule whose label equals it, then a
/// prefix rule (one whose label ends in '/') that `label + "/"` starts with; among several
/// rules, the first in `rules`' order wins (not the longest prefix). So a collection's own tag
/// beats the wildcard tag, which beats "METHOD path", then a "METHOD /prefix/" rule, then the
/// exact path, then a "/prefix/" rule ("/api/" covers "/api" too). Only rules for the request's
/// audience are considered: audience "" and "@guest" for a guest, "" and "@auth" for an
/// authenticated request; a rule for the other audience is passed over, so a later, less
/// specific rule may apply instead. The result points into `rules`.
///
/// Which bucket the rule then counts in is the caller's choice of key; PocketBase counts per
/// client address and, for a collection route, per collection, route and audience (so "*:auth"
/// limits each collection's auth-with-password separately), for the other routes per rule label
/// and audience.
const RateLimitRule* FindRateLimitRule(std::span<const RateLimitRule> rules,
                                       std::span<const std::string> labels, bool authenticated);

/// FindRateLimitRule(rules, RateLimitLabels(request), request.authenticated).
const RateLimitRule* FindRateLimitRule(std::span<const RateLimitRule> rules,
                                       const RateLimitRequest& request);

}  // namespace socle::domain
