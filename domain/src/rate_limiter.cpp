#include "socle/domain/rate_limiter.hpp"

#include <algorithm>
#include <functional>
#include <iterator>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace socle::domain {

namespace {

// How many of a full shard's least recently used buckets eviction looks at for one that has
// refilled: enough to find an idle one in practice, few enough to keep a Take O(1).
constexpr std::size_t kEvictionScan = 16;

constexpr std::int64_t kMillisPerSecond = 1000;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Ceiling of a / b for a >= 0, b > 0.
std::int64_t CeilDiv(std::int64_t a, std::int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

// A spec in the units the bucket counts in. One request is worth `duration_ms` units and the
// bucket gains `max_requests` units per millisecond, so that refilling needs no division and
// stays exact; the capacity max_requests * duration_ms fits in 63 bits by BucketSpec's bounds.
struct Rate {
  std::int64_t max_requests = 1;
  std::int64_t duration_ms = 1;

  std::int64_t Capacity() const { return max_requests * duration_ms; }
  friend bool operator==(const Rate&, const Rate&) = default;
};

Rate Clamped(const BucketSpec& spec) {
  const std::int64_t requests = std::clamp<std::int64_t>(spec.max_requests, 1,
                                                         BucketSpec::kMaxRequests);
  const std::int64_t seconds = std::clamp<std::int64_t>(spec.duration.count(), 1,
                                                        BucketSpec::kMaxDuration.count());
  return Rate{requests, seconds * kMillisPerSecond};
}

struct Bucket {
  std::string key;
  Rate rate;
  std::int64_t level = 0;    // units held, in [0, rate.Capacity()]
  std::int64_t last_ms = 0;  // when `level` was last brought up to date

  // The level at `now_ms` without changing the bucket. Time before last_ms refills nothing.
  std::int64_t LevelAt(std::int64_t now_ms) const {
    if (now_ms <= last_ms) return level;
    const std::int64_t elapsed = now_ms - last_ms;
    // Past one duration any bucket is full; below it elapsed * max_requests < capacity, so the
    // product cannot overflow.
    if (elapsed >= rate.duration_ms) return rate.Capacity();
    return std::min(rate.Capacity(), level + elapsed * rate.max_requests);
  }

  void Refill(std::int64_t now_ms) {
    level = LevelAt(now_ms);
    last_ms = std::max(last_ms, now_ms);
  }

  bool IsFull(std::int64_t now_ms) const { return LevelAt(now_ms) >= rate.Capacity(); }

  // Continues under another spec, keeping the requests consumed (rounded up to whole ones).
  void Rescale(const Rate& next) {
    const std::int64_t consumed = CeilDiv(rate.Capacity() - level, rate.duration_ms);
    rate = next;
    const std::int64_t kept = std::max<std::int64_t>(0, next.max_requests - consumed);
    level = kept * next.duration_ms;
  }
};

}  // namespace

struct RateLimiter::Shard {
  explicit Shard(std::size_t max_buckets) : capacity(max_buckets) {}

  void Evict(std::int64_t now_ms) {
    auto victim = std::prev(lru.end());
    std::size_t looked = 0;
    for (auto it = lru.rbegin(); it != lru.rend() && looked < kEvictionScan; ++it, ++looked) {
      if (it->IsFull(now_ms)) {
        victim = std::prev(it.base());
        break;
      }
    }
    index.erase(std::string_view(victim->key));
    lru.erase(victim);
  }

  mutable std::mutex mutex;
  const std::size_t capacity;
  // Most recently used first. The index's keys view the strings held by the list's nodes,
  // which never move, so a lookup by string_view allocates nothing.
  std::list<Bucket> lru;
  std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;
};

RateLimiter::RateLimiter() : RateLimiter(RateLimiterOptions{}) {}

RateLimiter::RateLimiter(const RateLimiterOptions& options) : max_keys_(options.max_keys) {
  // Never more shards than keys, and the keys spread so that the shards' capacities add up to
  // exactly max_keys.
  const std::size_t count = std::min(options.shards, options.max_keys);
  shards_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t share = options.max_keys / count + (i < options.max_keys % count ? 1 : 0);
    shards_.push_back(std::make_unique<Shard>(share));
  }
}

Result<RateLimiter> RateLimiter::Create(const RateLimiterOptions& options) {
  if (options.max_keys < 1 || options.max_keys > RateLimiterOptions::kMaxKeysLimit) {
    return Fail(Error::Field("max_keys", "validation_out_of_range",
                             "Must be between 1 and " +
                                 std::to_string(RateLimiterOptions::kMaxKeysLimit) + "."));
  }
  if (options.shards < 1 || options.shards > RateLimiterOptions::kMaxShards) {
    return Fail(Error::Field("shards", "validation_out_of_range",
                             "Must be between 1 and " +
                                 std::to_string(RateLimiterOptions::kMaxShards) + "."));
  }
  return RateLimiter(options);
}

RateLimiter::RateLimiter(RateLimiter&&) noexcept = default;
RateLimiter& RateLimiter::operator=(RateLimiter&&) noexcept = default;
RateLimiter::~RateLimiter() = default;

RateLimiter::Shard& RateLimiter::ShardFor(std::string_view key) const {
  const std::size_t hash = std::hash<std::string_view>{}(key);
  // Fold the high bits in: the maps inside the shards use the same hash, and a shard should not
  // hold only keys that share their low bits.
  const std::size_t mixed = hash ^ (hash >> 29) ^ (hash >> 47);
  return *shards_[mixed % shards_.size()];
}

RateLimitDecision RateLimiter::Take(std::string_view key, const BucketSpec& spec,
                                    Timestamp now) {
  const Rate rate = Clamped(spec);
  const std::int64_t now_ms = FloorDiv(now.unix_micros(), 1000);
  Shard& shard = ShardFor(key);

  std::lock_guard lock(shard.mutex);
  Bucket* bucket = nullptr;
  if (auto found = shard.index.find(key); found != shard.index.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
    bucket = &*found->second;
    bucket->Refill(now_ms);
    if (bucket->rate != rate) bucket->Rescale(rate);
  } else {
    if (shard.lru.size() >= shard.capacity) shard.Evict(now_ms);
    shard.lru.push_front(Bucket{std::string(key), rate, rate.Capacity(), now_ms});
    bucket = &shard.lru.front();
    shard.index.emplace(std::string_view(bucket->key), shard.lru.begin());
  }

  if (bucket->level >= rate.duration_ms) {
    bucket->level -= rate.duration_ms;
    return RateLimitDecision{true, std::chrono::seconds{0}, bucket->level / rate.duration_ms};
  }
  // The bucket gains max_requests units per millisecond; the first instant it holds one whole
  // request, rounded up to the second.
  const std::int64_t wait_ms = CeilDiv(rate.duration_ms - bucket->level, rate.max_requests);
  const std::int64_t wait_s = std::max<std::int64_t>(1, CeilDiv(wait_ms, kMillisPerSecond));
  return RateLimitDecision{false, std::chrono::seconds{wait_s}, 0};
}

std::size_t RateLimiter::Size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->lru.size();
  }
  return total;
}

// ---------------------------------------------------------------------------------------------

std::vector<std::string> RateLimitLabels(const RateLimitRequest& request) {
  std::vector<std::string> labels;
  if (!request.collection.empty()) {
    labels.reserve(request.actions.size() * 2 + 2);
    for (std::string_view action : request.actions) {
      labels.push_back(std::string(request.collection) + ":" + std::string(action));
    }
    for (std::string_view action : request.actions) {
      labels.push_back("*:" + std::string(action));
    }
  }
  labels.push_back(std::string(request.method) + " " + std::string(request.path));
  labels.emplace_back(request.path);
  return labels;
}

const RateLimitRule* FindRateLimitRule(std::span<const RateLimitRule> rules,
                                       std::span<const std::string> labels,
                                       bool authenticated) {
  const std::string_view own_audience = authenticated ? "@auth" : "@guest";
  const auto for_audience = [&](const RateLimitRule& rule) {
    return rule.audience.empty() || rule.audience == own_audience;
  };
  for (const std::string& label : labels) {
    for (const RateLimitRule& rule : rules) {
      if (rule.label == label && for_audience(rule)) return &rule;
    }
    // A prefix rule covers the label when `label + "/"` starts with it, so "/api/" covers
    // "/api" and "/api/x", and "POST /api/" covers "POST /api/x" but not "/api/x".
    for (const RateLimitRule& rule : rules) {
      if (rule.label.empty() || rule.label.back() != '/' || !for_audience(rule)) continue;
      const std::string_view prefix = rule.label;
      if (std::string_view(label).starts_with(prefix) ||
          label == prefix.substr(0, prefix.size() - 1)) {
        return &rule;
      }
    }
  }
  return nullptr;
}

const RateLimitRule* FindRateLimitRule(std::span<const RateLimitRule> rules,
                                       const RateLimitRequest& request) {
  const std::vector<std::string> labels = RateLimitLabels(request);
  return FindRateLimitRule(rules, labels, request.authenticated);
}

}  // namespace socle::domain
