#include "socle/domain/login_throttle.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace socle::domain;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr std::int64_t kEpoch = 1'714'555'800'000'000;  // 2024-05-01 09:30:00 UTC

// The instant `ms` milliseconds after kEpoch.
Timestamp At(std::int64_t ms) { return Timestamp::FromUnixMicros(kEpoch + ms * 1000); }

LoginThrottle Make(const LoginThrottleOptions& options) {
  auto throttle = LoginThrottle::Create(options);
  REQUIRE(throttle);
  return std::move(*throttle);
}

LoginThrottleOptions KeycloakOnly() {
  LoginThrottleOptions options;
  options.exponential_after = 0;
  return options;
}

LoginThrottleStatus Open(std::int64_t failures) {
  return LoginThrottleStatus{false, seconds{0}, failures};
}
LoginThrottleStatus Locked(std::int64_t retry_after_s, std::int64_t failures) {
  return LoginThrottleStatus{true, seconds{retry_after_s}, failures};
}

// Records `count` failures two seconds apart (never quick) from `start_ms`, checking each time
// that the key is open first as a caller would; returns when the last one was recorded.
std::int64_t FailSlowly(LoginThrottle& throttle, std::string_view key, int count,
                        std::int64_t start_ms) {
  std::int64_t now = start_ms;
  for (int i = 0; i < count; ++i) {
    now += 2000;
    while (throttle.Check(key, At(now)).locked) now += 1000;
    throttle.RecordFailure(key, At(now));
  }
  return now;
}

}  // namespace

TEST_CASE("the options default to Keycloak's", "[domain][login_throttle]") {
  const LoginThrottleOptions options;
  CHECK(options.failure_factor == 30);
  CHECK(options.wait_increment == seconds{60});
  CHECK(options.max_failure_wait == seconds{900});
  CHECK(options.minimum_quick_login_wait == seconds{60});
  CHECK(options.quick_login_check == milliseconds{1000});
  CHECK(options.max_delta_time == seconds{43200});
  CHECK(options.exponential_after == 5);
  CHECK(LoginThrottle::Validate(options));
  CHECK(LoginThrottle().options().max_keys == 100'000);
}

TEST_CASE("the delay doubles from the fifth failure up to fifteen minutes",
          "[domain][login_throttle]") {
  const LoginThrottle throttle;
  for (std::int64_t n : {-1, 0, 1, 2, 3, 4}) {
    INFO(n);
    CHECK(throttle.Delay(n) == seconds{0});
  }
  CHECK(throttle.Delay(5) == seconds{1});
  CHECK(throttle.Delay(6) == seconds{2});
  CHECK(throttle.Delay(7) == seconds{4});
  CHECK(throttle.Delay(10) == seconds{32});
  CHECK(throttle.Delay(14) == seconds{512});
  CHECK(throttle.Delay(15) == seconds{900});
  CHECK(throttle.Delay(30) == seconds{900});
  CHECK(throttle.Delay(67) == seconds{900});
  CHECK(throttle.Delay(1'000'000) == seconds{900});
  CHECK(throttle.Delay(INT64_MAX) == seconds{900});
}

TEST_CASE("without the exponential delay the schedule is Keycloak's", "[domain][login_throttle]") {
  const LoginThrottle throttle = Make(KeycloakOnly());
  CHECK(throttle.Delay(1) == seconds{0});
  CHECK(throttle.Delay(29) == seconds{0});
  CHECK(throttle.Delay(30) == seconds{60});
  CHECK(throttle.Delay(59) == seconds{60});
  CHECK(throttle.Delay(60) == seconds{120});
  CHECK(throttle.Delay(449) == seconds{840});
  CHECK(throttle.Delay(450) == seconds{900});
  CHECK(throttle.Delay(INT64_MAX) == seconds{900});

  LoginThrottleOptions no_linear = KeycloakOnly();
  no_linear.wait_increment = seconds{0};
  CHECK(Make(no_linear).Delay(1000) == seconds{0});

  LoginThrottleOptions steep;
  steep.exponential_after = 1;
  steep.max_failure_wait = LoginThrottleOptions::kMaxDuration;
  const LoginThrottle steep_throttle = Make(steep);
  CHECK(steep_throttle.Delay(1) == seconds{1});
  CHECK(steep_throttle.Delay(25) == seconds{1 << 24});
  CHECK(steep_throttle.Delay(26) == LoginThrottleOptions::kMaxDuration);
  CHECK(steep_throttle.Delay(100) == LoginThrottleOptions::kMaxDuration);
}

TEST_CASE("a key locks from the fifth failure and opens when the wait is over",
          "[domain][login_throttle]") {
  LoginThrottle throttle;
  const std::string key = "p1|users|alice@example.com";
  CHECK(throttle.Check(key, At(0)) == Open(0));
  const std::int64_t last = FailSlowly(throttle, key, 4, 0);
  CHECK(throttle.Check(key, At(last)) == Open(4));

  throttle.RecordFailure(key, At(last + 2000));
  CHECK(throttle.Check(key, At(last + 2000)) == Locked(1, 5));
  CHECK(throttle.Check(key, At(last + 2999)) == Locked(1, 5));
  CHECK(throttle.Check(key, At(last + 3000)) == Open(5));

  throttle.RecordFailure(key, At(last + 4000));  // 6th: 2 s
  CHECK(throttle.Check(key, At(last + 4000)) == Locked(2, 6));
  CHECK(throttle.Check(key, At(last + 4500)) == Locked(2, 6));
  CHECK(throttle.Check(key, At(last + 5001)) == Locked(1, 6));
  CHECK(throttle.Check(key, At(last + 6000)) == Open(6));

  const std::int64_t after = FailSlowly(throttle, key, 9, last + 6000);  // 15th: 15 minutes
  CHECK(throttle.Check(key, At(after)) == Locked(900, 15));
  CHECK(throttle.Check(key, At(after + 899'000)) == Locked(1, 15));
  CHECK(throttle.Check(key, At(after + 900'000)) == Open(15));
}

TEST_CASE("Keycloak's schedule locks after failure_factor failures",
          "[domain][login_throttle]") {
  LoginThrottle throttle = Make(KeycloakOnly());
  const std::int64_t last = FailSlowly(throttle, "k", 29, 0);
  CHECK(throttle.Check("k", At(last)) == Open(29));
  throttle.RecordFailure("k", At(last + 2000));
  CHECK(throttle.Check("k", At(last + 2000)) == Locked(60, 30));
  CHECK(throttle.Check("k", At(last + 61'500)) == Locked(1, 30));
  CHECK(throttle.Check("k", At(last + 62'000)) == Open(30));
  // The count goes on: each further failure locks for a minute until the 60th.
  throttle.RecordFailure("k", At(last + 64'000));
  CHECK(throttle.Check("k", At(last + 64'000)) == Locked(60, 31));
}

TEST_CASE("a failure within a second of the previous one locks for a minute",
          "[domain][login_throttle]") {
  LoginThrottle throttle;
  throttle.RecordFailure("k", At(0));
  CHECK(throttle.Check("k", At(0)) == Open(1));
  throttle.RecordFailure("k", At(999));
  CHECK(throttle.Check("k", At(999)) == Locked(60, 2));
  CHECK(throttle.Check("k", At(60'998)) == Locked(1, 2));
  CHECK(throttle.Check("k", At(60'999)) == Open(2));

  // Exactly a second apart is not quick; the same instant is.
  LoginThrottle other;
  other.RecordFailure("k", At(0));
  other.RecordFailure("k", At(1000));
  CHECK(other.Check("k", At(1000)) == Open(2));
  other.RecordFailure("k", At(1000));
  CHECK(other.Check("k", At(1000)) == Locked(60, 3));

  // The first failure is never quick, and the quick check can be turned off.
  LoginThrottleOptions no_quick;
  no_quick.quick_login_check = milliseconds{0};
  LoginThrottle relaxed = Make(no_quick);
  relaxed.RecordFailure("k", At(0));
  relaxed.RecordFailure("k", At(0));
  CHECK(relaxed.Check("k", At(0)) == Open(2));
}

TEST_CASE("a failure never shortens a lock in force", "[domain][login_throttle]") {
  LoginThrottle throttle;
  const std::int64_t last = FailSlowly(throttle, "k", 10, 0);  // 32 s
  CHECK(throttle.Check("k", At(last)) == Locked(32, 10));
  // A caller that records a failure despite the lock (a concurrent attempt) gets the longer of
  // the two.
  throttle.RecordFailure("k", At(last + 2000));  // 11th: 64 s from now
  CHECK(throttle.Check("k", At(last + 2000)) == Locked(64, 11));

  // A success under the lock restarts the count; the next failure would lock nothing, yet the
  // lock in force stays.
  throttle.RecordSuccess("k", At(last + 3000));
  throttle.RecordFailure("k", At(last + 4000));
  CHECK(throttle.Check("k", At(last + 4000)) == Locked(62, 1));
}

TEST_CASE("a success forgets the failures but not a lock in force", "[domain][login_throttle]") {
  LoginThrottle throttle;
  const std::string key = "p1|users|alice@example.com";
  std::int64_t last = FailSlowly(throttle, key, 4, 0);
  throttle.RecordSuccess(key, At(last + 2000));
  CHECK(throttle.Check(key, At(last + 2000)) == Open(0));
  CHECK(throttle.Size() == 0);
  // The schedule starts over: four more failures lock nothing.
  last = FailSlowly(throttle, key, 4, last + 2000);
  CHECK(throttle.Check(key, At(last)) == Open(4));

  // Locked for 32 s after 10 failures; a success (racing the lock) leaves the lock.
  LoginThrottle racing;
  last = FailSlowly(racing, key, 10, 0);
  racing.RecordSuccess(key, At(last + 1000));
  CHECK(racing.Check(key, At(last + 1000)) == Locked(31, 0));
  CHECK(racing.Check(key, At(last + 32'000)) == Open(0));
  CHECK(racing.Size() == 0);  // nothing left to remember, so the key was dropped
  // And the next failure is a first one: neither quick nor counted on.
  racing.RecordFailure(key, At(last + 32'000));
  CHECK(racing.Check(key, At(last + 32'000)) == Open(1));

  // A success for a key never seen is harmless.
  racing.RecordSuccess("nobody", At(0));
  CHECK(racing.Check("nobody", At(0)) == Open(0));
}

TEST_CASE("failures older than max_delta_time start the count again",
          "[domain][login_throttle]") {
  LoginThrottle throttle;
  const std::int64_t last = FailSlowly(throttle, "k", 10, 0);  // locked 32 s
  const std::int64_t twelve_hours = 43'200'000;
  // Exactly twelve hours later the failures still count (Keycloak resets past it).
  CHECK(throttle.Check("k", At(last + twelve_hours)) == Open(10));
  throttle.RecordFailure("k", At(last + twelve_hours));
  CHECK(throttle.Check("k", At(last + twelve_hours)) == Locked(64, 11));

  LoginThrottle later;
  const std::int64_t again = FailSlowly(later, "k", 10, 0);
  CHECK(later.Check("k", At(again + twelve_hours + 1)) == Open(0));
  later.RecordFailure("k", At(again + twelve_hours + 1));
  CHECK(later.Check("k", At(again + twelve_hours + 1)) == Open(1));
}

TEST_CASE("identity and address keys are throttled independently", "[domain][login_throttle]") {
  LoginThrottle identities;
  LoginThrottle addresses;
  const std::string alice = "p1|users|alice@example.com";
  const std::string address = "203.0.113.7";
  // One address guessing at many identities: each identity sees one failure, the address all.
  std::int64_t now = 0;
  for (int i = 0; i < 5; ++i) {
    now += 2000;
    const std::string identity = "p1|users|user" + std::to_string(i) + "@example.com";
    REQUIRE_FALSE(identities.Check(identity, At(now)).locked);
    REQUIRE_FALSE(addresses.Check(address, At(now)).locked);
    identities.RecordFailure(identity, At(now));
    addresses.RecordFailure(address, At(now));
  }
  CHECK(addresses.Check(address, At(now)) == Locked(1, 5));
  CHECK(identities.Check("p1|users|user4@example.com", At(now)) == Open(1));
  // Keys differing by a byte are different keys.
  CHECK(identities.Check(alice, At(now)) == Open(0));
  CHECK(addresses.Check("203.0.113.70", At(now)) == Open(0));
}

TEST_CASE("any key string is throttled alike, known identity or not",
          "[domain][login_throttle]") {
  LoginThrottle throttle;
  const std::vector<std::string> keys = {"p1|users|exists@example.com",
                                         "p1|users|does-not-exist@example.com", "",
                                         std::string(10'000, 'x'), std::string("a\0b", 3)};
  for (const std::string& key : keys) FailSlowly(throttle, key, 5, 0);
  std::set<std::pair<bool, std::int64_t>> answers;
  for (const std::string& key : keys) {
    const auto status = throttle.Check(key, At(10'000));
    answers.emplace(status.locked, status.failures);
  }
  CHECK(answers.size() == 1);
  CHECK(*answers.begin() == std::pair<bool, std::int64_t>{true, 5});
}

TEST_CASE("throttle options are validated", "[domain][login_throttle]") {
  // The fields named by a failed validation, or an empty set when it passed.
  const auto fields_of = [](const LoginThrottleOptions& options) {
    std::set<std::string> out;
    auto made = LoginThrottle::Create(options);
    if (made) return out;
    CHECK(made.error().code == ErrorCode::kInvalidArgument);
    for (const auto& field : made.error().fields) out.insert(field.field);
    return out;
  };
  CHECK(fields_of(LoginThrottleOptions{}).empty());

  LoginThrottleOptions bad;
  bad.failure_factor = 0;
  bad.wait_increment = seconds{-1};
  bad.max_failure_wait = seconds{0};
  bad.minimum_quick_login_wait = seconds{-1};
  bad.quick_login_check = milliseconds{-1};
  bad.max_delta_time = seconds{0};
  bad.exponential_after = -1;
  bad.max_keys = 0;
  bad.shards = 0;
  CHECK(fields_of(bad) == std::set<std::string>{"failure_factor", "wait_increment",
                                                "max_failure_wait", "minimum_quick_login_wait",
                                                "quick_login_check", "max_delta_time",
                                                "exponential_after", "max_keys", "shards"});

  LoginThrottleOptions too_long;
  const auto past = LoginThrottleOptions::kMaxDuration + seconds{1};
  too_long.wait_increment = past;
  too_long.max_failure_wait = past;
  too_long.minimum_quick_login_wait = past;
  too_long.quick_login_check = past;
  too_long.max_delta_time = past;
  too_long.max_keys = LoginThrottleOptions::kMaxKeysLimit + 1;
  too_long.shards = LoginThrottleOptions::kMaxShards + 1;
  CHECK(fields_of(too_long) == std::set<std::string>{"wait_increment", "max_failure_wait",
                                                     "minimum_quick_login_wait",
                                                     "quick_login_check", "max_delta_time",
                                                     "max_keys", "shards"});

  LoginThrottleOptions edges;
  edges.failure_factor = 1;
  edges.wait_increment = seconds{0};
  edges.max_failure_wait = seconds{1};
  edges.minimum_quick_login_wait = seconds{0};
  edges.quick_login_check = milliseconds{0};
  edges.max_delta_time = seconds{1};
  edges.exponential_after = 0;
  edges.max_keys = 1;
  edges.shards = 1;
  CHECK(fields_of(edges).empty());
}

TEST_CASE("the throttle holds at most max_keys keys under a million distinct keys",
          "[domain][login_throttle]") {
  LoginThrottleOptions options;
  options.max_keys = 1000;
  LoginThrottle throttle = Make(options);
  std::size_t most = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    throttle.RecordFailure("203.0." + std::to_string(i), At(i / 100));
    if (i % 10'000 == 0) most = std::max(most, throttle.Size());
  }
  most = std::max(most, throttle.Size());
  CHECK(most <= 1000);
  CHECK(throttle.Size() >= 900);  // the shards fill up, unevenly
}

TEST_CASE("eviction keeps locked keys and drops the forgettable first",
          "[domain][login_throttle]") {
  LoginThrottleOptions options;
  options.max_keys = 2;
  options.shards = 1;
  LoginThrottle throttle = Make(options);
  // The victim of a guessing run, locked for fifteen minutes, and the least recently failed.
  const std::int64_t locked_at = FailSlowly(throttle, "victim", 15, 0);
  throttle.RecordFailure("other", At(locked_at + 1000));
  // A flood of new keys: each evicts an unlocked key, never the locked victim.
  for (int i = 0; i < 100; ++i) {
    throttle.RecordFailure("flood" + std::to_string(i), At(locked_at + 2000));
  }
  CHECK(throttle.Size() == 2);
  CHECK(throttle.Check("victim", At(locked_at + 2000)) == Locked(898, 15));
  CHECK(throttle.Check("other", At(locked_at + 2000)) == Open(0));

  // Once every key is locked, the least recently failed goes.
  LoginThrottle all_locked = Make(options);
  all_locked.RecordFailure("first", At(0));
  all_locked.RecordFailure("first", At(0));  // quick: locked a minute
  all_locked.RecordFailure("second", At(1000));
  all_locked.RecordFailure("second", At(1000));
  REQUIRE(all_locked.Check("first", At(2000)).locked);
  REQUIRE(all_locked.Check("second", At(2000)).locked);
  all_locked.RecordFailure("third", At(2000));
  CHECK(all_locked.Check("first", At(2000)) == Open(0));
  CHECK(all_locked.Check("second", At(2000)) == Locked(59, 2));
  CHECK(all_locked.Check("third", At(2000)) == Open(1));
}

TEST_CASE("a forgettable key is dropped when checked", "[domain][login_throttle]") {
  LoginThrottle throttle;
  throttle.RecordFailure("k", At(0));
  CHECK(throttle.Size() == 1);
  CHECK(throttle.Check("k", At(1000)) == Open(1));
  CHECK(throttle.Size() == 1);
  CHECK(throttle.Check("k", At(43'200'001)) == Open(0));
  CHECK(throttle.Size() == 0);
}

TEST_CASE("concurrent failures are all counted", "[domain][login_throttle][threads]") {
  LoginThrottle throttle;  // room for every key: the count must be exact
  LoginThrottleOptions small;
  small.max_keys = 64;
  LoginThrottle bounded = Make(small);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&throttle, &bounded, t] {
      for (int i = 0; i < 2000; ++i) {
        const Timestamp now = At(i * 2000);
        const std::string own = "t" + std::to_string(t) + ":" + std::to_string(i % 300);
        throttle.Check("shared", now);
        throttle.RecordFailure("shared", now);
        throttle.RecordFailure(own, now);
        if (i % 7 == 0) throttle.RecordSuccess(own, now);
        // More keys than the bounded throttle holds: evictions race with the other calls.
        bounded.Check("shared", now);
        bounded.RecordFailure("shared", now);
        bounded.RecordFailure(own, now);
        if (i % 7 == 0) bounded.RecordSuccess(own, now);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto status = throttle.Check("shared", At(2000 * 2000));
  CHECK(status.failures == 8000);
  CHECK(status.locked);
  CHECK(throttle.Size() <= 1 + 4 * 300);
  CHECK(bounded.Size() <= 64);
}
