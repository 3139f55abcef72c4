#include "socle/domain/login_throttle.hpp"

#include <algorithm>
#include <functional>
#include <iterator>
#include <limits>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace socle::domain {

namespace {

// How many of a full shard's least recently failed keys eviction looks at: enough to find an
// unlocked or stale one in practice, few enough to keep a RecordFailure O(1).
constexpr std::size_t kEvictionScan = 16;

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerMilli = 1'000;

// Counting stops here: far past any schedule's ceiling, and no overflow however long a key is
// hammered.
constexpr std::int64_t kMaxFailures = std::numeric_limits<std::int32_t>::max();

// Ceiling of a / b for a >= 0, b > 0.
std::int64_t CeilDiv(std::int64_t a, std::int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

struct Entry {
  std::string key;
  std::int64_t failures = 0;        // counted since the count last restarted
  std::int64_t last_failure = 0;    // micros; meaningful while failures > 0
  std::int64_t not_before = 0;      // micros; attempts before it are refused

  bool LockedAt(std::int64_t now) const { return now < not_before; }
  bool StaleAt(std::int64_t now, std::int64_t max_delta) const {
    return failures == 0 || now - last_failure > max_delta;
  }
  // Whether forgetting the entry at `now` would change no answer.
  bool ForgettableAt(std::int64_t now, std::int64_t max_delta) const {
    return !LockedAt(now) && StaleAt(now, max_delta);
  }
};

}  // namespace

struct LoginThrottle::Shard {
  explicit Shard(std::size_t max_entries) : capacity(max_entries) {}

  void Erase(std::list<Entry>::iterator it) {
    index.erase(std::string_view(it->key));
    lru.erase(it);
  }

  void Evict(std::int64_t now, std::int64_t max_delta) {
    auto unlocked = lru.end();
    std::size_t looked = 0;
    for (auto it = lru.rbegin(); it != lru.rend() && looked < kEvictionScan; ++it, ++looked) {
      if (it->ForgettableAt(now, max_delta)) {
        Erase(std::prev(it.base()));
        return;
      }
      if (unlocked == lru.end() && !it->LockedAt(now)) unlocked = std::prev(it.base());
    }
    Erase(unlocked != lru.end() ? unlocked : std::prev(lru.end()));
  }

  mutable std::mutex mutex;
  const std::size_t capacity;
  // Most recently failed first. The index's keys view the strings held by the list's nodes,
  // which never move, so a lookup by string_view allocates nothing.
  std::list<Entry> lru;
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
};

LoginThrottle::LoginThrottle() : LoginThrottle(LoginThrottleOptions{}) {}

LoginThrottle::LoginThrottle(const LoginThrottleOptions& options) : options_(options) {
  const std::size_t count = std::min(options.shards, options.max_keys);
  shards_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t share = options.max_keys / count + (i < options.max_keys % count ? 1 : 0);
    shards_.push_back(std::make_unique<Shard>(share));
  }
}

Result<void> LoginThrottle::Validate(const LoginThrottleOptions& options) {
  Error error = Error::Make(ErrorCode::kInvalidArgument, "Failed to validate the submitted data.");
  const auto out_of_range = [&](std::string field, std::string range) {
    error.fields.push_back(FieldError{std::move(field), "validation_out_of_range",
                                      "Must be " + std::move(range) + "."});
  };
  const std::string max_seconds = std::to_string(LoginThrottleOptions::kMaxDuration.count());
  const auto check_seconds = [&](const char* field, std::chrono::seconds value,
                                 std::int64_t min) {
    if (value.count() < min || value > LoginThrottleOptions::kMaxDuration) {
      out_of_range(field, "between " + std::to_string(min) + " and " + max_seconds + " seconds");
    }
  };

  if (options.failure_factor < 1 || options.failure_factor > kMaxFailures) {
    out_of_range("failure_factor", "between 1 and " + std::to_string(kMaxFailures));
  }
  check_seconds("wait_increment", options.wait_increment, 0);
  check_seconds("max_failure_wait", options.max_failure_wait, 1);
  check_seconds("minimum_quick_login_wait", options.minimum_quick_login_wait, 0);
  if (options.quick_login_check.count() < 0 ||
      options.quick_login_check > LoginThrottleOptions::kMaxDuration) {
    out_of_range("quick_login_check", "between 0 and " + max_seconds + " seconds");
  }
  check_seconds("max_delta_time", options.max_delta_time, 1);
  if (options.exponential_after < 0 || options.exponential_after > kMaxFailures) {
    out_of_range("exponential_after", "between 0 and " + std::to_string(kMaxFailures));
  }
  if (options.max_keys < 1 || options.max_keys > LoginThrottleOptions::kMaxKeysLimit) {
    out_of_range("max_keys",
                 "between 1 and " + std::to_string(LoginThrottleOptions::kMaxKeysLimit));
  }
  if (options.shards < 1 || options.shards > LoginThrottleOptions::kMaxShards) {
    out_of_range("shards", "between 1 and " + std::to_string(LoginThrottleOptions::kMaxShards));
  }
  if (!error.fields.empty()) return Fail(std::move(error));
  return {};
}

Result<LoginThrottle> LoginThrottle::Create(const LoginThrottleOptions& options) {
  if (auto valid = Validate(options); !valid) return Fail(std::move(valid.error()));
  return LoginThrottle(options);
}

LoginThrottle::LoginThrottle(LoginThrottle&&) noexcept = default;
LoginThrottle& LoginThrottle::operator=(LoginThrottle&&) noexcept = default;
LoginThrottle::~LoginThrottle() = default;

LoginThrottle::Shard& LoginThrottle::ShardFor(std::string_view key) const {
  const std::size_t hash = std::hash<std::string_view>{}(key);
  // Fold the high bits in: the maps inside the shards use the same hash.
  const std::size_t mixed = hash ^ (hash >> 29) ^ (hash >> 47);
  return *shards_[mixed % shards_.size()];
}

std::chrono::seconds LoginThrottle::Delay(std::int64_t failures) const noexcept {
  const std::int64_t ceiling = options_.max_failure_wait.count();
  if (failures <= 0) return std::chrono::seconds{0};

  std::int64_t delay = 0;
  // Keycloak's linear schedule; the multiplication saturates at the ceiling.
  const std::int64_t steps = failures / options_.failure_factor;
  const std::int64_t increment = options_.wait_increment.count();
  if (steps > 0 && increment > 0) {
    delay = steps >= CeilDiv(ceiling, increment) ? ceiling : steps * increment;
  }
  // The exponential one: 2^62 s is past any ceiling allowed, so larger exponents saturate.
  if (options_.exponential_after > 0 && failures >= options_.exponential_after) {
    const std::int64_t exponent = failures - options_.exponential_after;
    const std::int64_t exponential =
        exponent >= 62 ? ceiling : std::min(ceiling, std::int64_t{1} << exponent);
    delay = std::max(delay, exponential);
  }
  return std::chrono::seconds{std::min(delay, ceiling)};
}

LoginThrottleStatus LoginThrottle::Check(std::string_view key, Timestamp now) {
  const std::int64_t now_us = now.unix_micros();
  const std::int64_t max_delta = options_.max_delta_time.count() * kMicrosPerSecond;
  Shard& shard = ShardFor(key);

  std::lock_guard lock(shard.mutex);
  const auto found = shard.index.find(key);
  if (found == shard.index.end()) return LoginThrottleStatus{};
  const Entry& entry = *found->second;
  if (entry.ForgettableAt(now_us, max_delta)) {
    // Nothing left to remember: free the slot now rather than at eviction.
    shard.Erase(found->second);
    return LoginThrottleStatus{};
  }
  LoginThrottleStatus status;
  status.failures = entry.StaleAt(now_us, max_delta) ? 0 : entry.failures;
  if (entry.LockedAt(now_us)) {
    status.locked = true;
    status.retry_after = std::chrono::seconds{
        std::max<std::int64_t>(1, CeilDiv(entry.not_before - now_us, kMicrosPerSecond))};
  }
  return status;
}

void LoginThrottle::RecordFailure(std::string_view key, Timestamp now) {
  const std::int64_t now_us = now.unix_micros();
  const std::int64_t max_delta = options_.max_delta_time.count() * kMicrosPerSecond;
  Shard& shard = ShardFor(key);

  std::lock_guard lock(shard.mutex);
  Entry* entry = nullptr;
  if (auto found = shard.index.find(key); found != shard.index.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
    entry = &*found->second;
  } else {
    if (shard.lru.size() >= shard.capacity) shard.Evict(now_us, max_delta);
    shard.lru.push_front(Entry{std::string(key), 0, 0, 0});
    entry = &shard.lru.front();
    shard.index.emplace(std::string_view(entry->key), shard.lru.begin());
  }

  // Time running backwards counts as no time at all.
  const bool had_failure = entry->failures > 0;
  const std::int64_t delta = had_failure ? std::max<std::int64_t>(0, now_us - entry->last_failure)
                                         : 0;
  if (had_failure && delta > max_delta) entry->failures = 0;
  entry->failures = std::min(kMaxFailures, entry->failures + 1);
  entry->last_failure = had_failure ? std::max(entry->last_failure, now_us) : now_us;

  std::int64_t wait = Delay(entry->failures).count() * kMicrosPerSecond;
  const std::int64_t quick = options_.quick_login_check.count() * kMicrosPerMilli;
  if (had_failure && delta < quick) {
    wait = std::max(wait, options_.minimum_quick_login_wait.count() * kMicrosPerSecond);
  }
  wait = std::min(wait, options_.max_failure_wait.count() * kMicrosPerSecond);
  if (wait > 0) entry->not_before = std::max(entry->not_before, now_us + wait);
}

void LoginThrottle::RecordSuccess(std::string_view key, Timestamp now) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  const auto found = shard.index.find(key);
  if (found == shard.index.end()) return;
  Entry& entry = *found->second;
  if (!entry.LockedAt(now.unix_micros())) {
    shard.Erase(found->second);
    return;
  }
  entry.failures = 0;
  entry.last_failure = 0;
}

std::size_t LoginThrottle::Size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->lru.size();
  }
  return total;
}

}  // namespace socle::domain
