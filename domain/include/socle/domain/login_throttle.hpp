#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::domain {

/// The brute force detection settings, Keycloak's with their defaults, plus an exponential
/// delay of Socle's own that slows online guessing well before Keycloak's first lock.
struct LoginThrottleOptions {
  /// The longest any duration below may be, and the most keys and shards.
  static constexpr std::chrono::seconds kMaxDuration{366LL * 24 * 3600};
  static constexpr std::size_t kMaxKeysLimit = 100'000'000;
  static constexpr std::size_t kMaxShards = 1024;

  /// Keycloak's failureFactor: every `failure_factor` failures add `wait_increment` to the
  /// lock. At least 1.
  std::int64_t failure_factor = 30;
  /// Keycloak's waitIncrementSeconds. 0 turns the linear schedule off.
  std::chrono::seconds wait_increment{60};
  /// Keycloak's maxFailureWaitSeconds: no lock lasts longer. At least 1 s.
  std::chrono::seconds max_failure_wait{900};
  /// Keycloak's minimumQuickLoginWaitSeconds: the least lock after a quick failure.
  std::chrono::seconds minimum_quick_login_wait{60};
  /// Keycloak's quickLoginCheckMilliSeconds: a failure this soon after the previous one is
  /// quick. 0 turns the quick check off.
  std::chrono::milliseconds quick_login_check{1000};
  /// Keycloak's maxDeltaTimeSeconds: a failure more than this after the previous one starts
  /// the count again. At least 1 s.
  std::chrono::seconds max_delta_time{43200};
  /// Socle's exponential delay: from this many failures on, a lock of 2^(failures -
  /// exponential_after) seconds. 0 turns it off, leaving Keycloak's schedule alone.
  std::int64_t exponential_after = 5;
  /// The most keys tracked at once (see LoginThrottle on eviction).
  std::size_t max_keys = 100'000;
  /// Independently locked parts of the key space.
  std::size_t shards = 16;
};

/// What LoginThrottle::Check says of a key.
struct LoginThrottleStatus {
  /// Whether an attempt must be refused now, without checking its credentials.
  bool locked = false;
  /// When locked, the seconds (rounded up, at least 1) until the lock ends; otherwise 0.
  std::chrono::seconds retry_after{0};
  /// The failures counted against the key (0 once the last is older than max_delta_time).
  std::int64_t failures = 0;

  friend bool operator==(const LoginThrottleStatus&, const LoginThrottleStatus&) = default;
};

/// Brute force detection for logins, in memory, for one process: Keycloak's temporary lockout
/// with an exponential delay before it, keyed by any string.
///
/// Use: the caller keeps two keys per attempt, an identity key (project, collection and the
/// normalised identity as typed, e.g. "p1|users|alice@example.com") and an address key (the
/// client address, an IPv6 one cut to its /64), ideally in two throttles so that the address's
/// options can tolerate more failures (many people share one NAT address). Before checking a
/// password it calls Check on both and refuses, without checking, while either is locked; a
/// refused attempt is not a failure. After a wrong password it calls RecordFailure on both;
/// after a right one, RecordSuccess on the identity key only. The address is deliberately not
/// reset: someone who owns one account could otherwise clear its address's count between
/// guesses at other accounts; an address's failures age out with max_delta_time instead.
///
/// It never reveals whether an identity exists: it treats every key string alike and keeps no
/// list of valid identities. The caller must throttle an unknown identity exactly as a known
/// one (record the failure, answer the same error with the same delay), or the difference in
/// locking would itself tell that an account exists.
///
/// The schedule, on each failure (Keycloak's, with `n` the failures counted, this one
/// included): a failure more than max_delta_time after the previous one restarts the count at
/// 1; the key is then locked for Delay(n); a failure less than quick_login_check after the
/// previous one locks for at least minimum_quick_login_wait; no lock exceeds max_failure_wait,
/// and a failure never shortens a lock in force. With the defaults: failures 1 to 4 lock
/// nothing (unless quick), the 5th locks 1 s, then 2, 4, 8 ... 512 s at the 14th, and 900 s
/// (15 minutes) from the 15th on; Keycloak's linear lock (60 s per 30 failures) is then below
/// the exponential one. Locks are temporary: a permanent lockout would let anyone lock any
/// account out.
///
/// Memory is bounded by `max_keys`, split over the shards. When a shard is full, recording a
/// failure for a new key evicts, among the 16 least recently failed keys, first one that is
/// unlocked and whose failures are older than max_delta_time (forgetting it changes nothing),
/// then one that is unlocked, and failing both the least recently failed. Like any eviction,
/// the last two make the throttle more lenient to the evicted key, never stricter.
///
/// Thread-safe: every method may be called from any thread. Check then RecordFailure is not
/// atomic; concurrent attempts may pass one Check together, which the quick-login rule then
/// answers with a lock.
class LoginThrottle final {
 public:
  /// A throttle with the default options.
  LoginThrottle();
  /// A throttle with the given options; invalid_argument naming every option out of range.
  static Result<LoginThrottle> Create(const LoginThrottleOptions& options);
  /// Checks the options as Create does.
  static Result<void> Validate(const LoginThrottleOptions& options);

  LoginThrottle(LoginThrottle&&) noexcept;
  LoginThrottle& operator=(LoginThrottle&&) noexcept;
  LoginThrottle(const LoginThrottle&) = delete;
  LoginThrottle& operator=(const LoginThrottle&) = delete;
  ~LoginThrottle();

  /// Whether `key` is locked at `now`, for how long, and its failures counted.
  LoginThrottleStatus Check(std::string_view key, Timestamp now);
  /// Counts a failed attempt for `key` at `now` and locks it as the schedule says.
  void RecordFailure(std::string_view key, Timestamp now);
  /// Forgets `key`'s failures, as Keycloak does on a successful login. A lock still in force at
  /// `now` stays until it ends: Check and the password check are not atomic, and a success must
  /// not lift a lock that concurrent guesses set after this attempt's Check.
  void RecordSuccess(std::string_view key, Timestamp now);

  /// The lock after the n-th failure, before the quick-login rule:
  /// min(max_failure_wait, max(wait_increment * floor(n / failure_factor),
  /// 2^(n - exponential_after) s when exponential_after > 0 and n >= exponential_after)),
  /// and 0 for n <= 0.
  std::chrono::seconds Delay(std::int64_t failures) const noexcept;

  /// The number of keys tracked (at most options().max_keys).
  std::size_t Size() const;
  const LoginThrottleOptions& options() const noexcept { return options_; }

 private:
  struct Shard;
  explicit LoginThrottle(const LoginThrottleOptions& options);
  Shard& ShardFor(std::string_view key) const;

  LoginThrottleOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace socle::domain
