#include "socle/domain/rate_limiter.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

using namespace socle::domain;
using std::chrono::seconds;

namespace {

constexpr std::int64_t kEpoch = 1'714'555'800'000'000;  // 2024-05-01 09:30:00 UTC

// The instant `ms` milliseconds after kEpoch.
Timestamp At(std::int64_t ms) { return Timestamp::FromUnixMicros(kEpoch + ms * 1000); }

BucketSpec Spec(std::int64_t max_requests, std::int64_t duration_s) {
  return BucketSpec{max_requests, seconds{duration_s}};
}

RateLimiter Make(std::size_t max_keys, std::size_t shards) {
  auto limiter = RateLimiter::Create(RateLimiterOptions{max_keys, shards});
  REQUIRE(limiter);
  return std::move(*limiter);
}

RateLimitDecision Allowed(std::int64_t remaining) {
  return RateLimitDecision{true, seconds{0}, remaining};
}
RateLimitDecision Refused(std::int64_t retry_after_s) {
  return RateLimitDecision{false, seconds{retry_after_s}, 0};
}

}  // namespace

TEST_CASE("a bucket lets a burst up to its capacity through, then refuses",
          "[domain][rate_limit]") {
  RateLimiter limiter;
  // PocketBase's default "*:auth": 2 requests per 3 seconds.
  const BucketSpec spec = Spec(2, 3);
  CHECK(limiter.Take("k", spec, At(0)) == Allowed(1));
  CHECK(limiter.Take("k", spec, At(0)) == Allowed(0));
  // One request comes back every 1.5 s: the Retry-After rounds it up.
  CHECK(limiter.Take("k", spec, At(0)) == Refused(2));
  CHECK(limiter.Take("k", spec, At(500)) == Refused(1));
  CHECK(limiter.Take("k", spec, At(1499)) == Refused(1));
  CHECK(limiter.Take("k", spec, At(1500)) == Allowed(0));
  CHECK(limiter.Take("k", spec, At(1500)) == Refused(2));
}

TEST_CASE("a bucket refills continuously and never past its capacity", "[domain][rate_limit]") {
  RateLimiter limiter;
  // PocketBase's default "/api/": 300 per 10 s, i.e. 30 a second.
  const BucketSpec spec = Spec(300, 10);
  for (int i = 0; i < 300; ++i) REQUIRE(limiter.Take("k", spec, At(0)).allowed);
  CHECK_FALSE(limiter.Take("k", spec, At(0)).allowed);

  // A second later, 30 more and not 31.
  for (int i = 0; i < 30; ++i) REQUIRE(limiter.Take("k", spec, At(1000)).allowed);
  CHECK(limiter.Take("k", spec, At(1000)) == Refused(1));
  // 100 ms refill 3 requests.
  CHECK(limiter.Take("k", spec, At(1100)) == Allowed(2));

  // Idle for much longer than the duration: full, and no fuller.
  CHECK(limiter.Take("k", spec, At(3'600'000)) == Allowed(299));
  // Exactly one duration after running dry is full too.
  RateLimiter other;
  for (int i = 0; i < 300; ++i) REQUIRE(other.Take("k", spec, At(0)).allowed);
  CHECK(other.Take("k", spec, At(10'000)) == Allowed(299));
}

TEST_CASE("Retry-After is the wait rounded up to whole seconds, at least one",
          "[domain][rate_limit]") {
  RateLimiter limiter;
  SECTION("one request a minute") {
    const BucketSpec spec = Spec(1, 60);
    CHECK(limiter.Take("k", spec, At(0)) == Allowed(0));
    CHECK(limiter.Take("k", spec, At(0)) == Refused(60));
    CHECK(limiter.Take("k", spec, At(30'000)) == Refused(30));
    CHECK(limiter.Take("k", spec, At(59'001)) == Refused(1));
    CHECK(limiter.Take("k", spec, At(60'000)) == Allowed(0));
  }
  SECTION("a wait shorter than a second still says one") {
    const BucketSpec spec = Spec(10, 1);  // one request every 100 ms
    for (int i = 0; i < 10; ++i) REQUIRE(limiter.Take("k", spec, At(0)).allowed);
    CHECK(limiter.Take("k", spec, At(0)) == Refused(1));
    CHECK(limiter.Take("k", spec, At(99)) == Refused(1));
    CHECK(limiter.Take("k", spec, At(100)) == Allowed(0));
  }
}

TEST_CASE("keys have buckets of their own", "[domain][rate_limit]") {
  RateLimiter limiter;
  const BucketSpec spec = Spec(1, 60);
  CHECK(limiter.Take("ip:203.0.113.7|rule:*:auth", spec, At(0)).allowed);
  CHECK_FALSE(limiter.Take("ip:203.0.113.7|rule:*:auth", spec, At(0)).allowed);
  CHECK(limiter.Take("ip:203.0.113.8|rule:*:auth", spec, At(0)).allowed);
  CHECK(limiter.Take("ip:203.0.113.7|rule:/api/", spec, At(0)).allowed);
  // A key that only differs by case or by a trailing byte is another key.
  CHECK(limiter.Take("IP:203.0.113.7|rule:*:auth", spec, At(0)).allowed);
  CHECK(limiter.Take(std::string("ip:203.0.113.7|rule:*:auth\0", 27), spec, At(0)).allowed);
  CHECK(limiter.Size() == 5);
}

TEST_CASE("time running backwards refills nothing", "[domain][rate_limit]") {
  RateLimiter limiter;
  const BucketSpec spec = Spec(1, 10);
  CHECK(limiter.Take("k", spec, At(10'000)).allowed);
  CHECK(limiter.Take("k", spec, At(0)) == Refused(10));
  // The bucket's clock stayed at 10 s: 5 s later is half a request, not 15 s' worth.
  CHECK(limiter.Take("k", spec, At(15'000)) == Refused(5));
  CHECK(limiter.Take("k", spec, At(20'000)).allowed);
}

TEST_CASE("a changed spec keeps the requests consumed", "[domain][rate_limit]") {
  RateLimiter limiter;
  for (int i = 0; i < 3; ++i) REQUIRE(limiter.Take("k", Spec(5, 10), At(0)).allowed);
  // Raised to 10: 3 consumed, so 7 left before this one.
  CHECK(limiter.Take("k", Spec(10, 10), At(0)) == Allowed(6));
  // Lowered to 2: 4 consumed already, nothing left; a request returns every 5 s.
  CHECK(limiter.Take("k", Spec(2, 10), At(0)) == Refused(5));
  CHECK(limiter.Take("k", Spec(2, 10), At(5'000)) == Allowed(0));
}

TEST_CASE("specs out of range are clamped, never overflow", "[domain][rate_limit]") {
  CHECK(Spec(1, 1).IsValid());
  CHECK(Spec(BucketSpec::kMaxRequests, BucketSpec::kMaxDuration.count()).IsValid());
  CHECK_FALSE(Spec(0, 10).IsValid());
  CHECK_FALSE(Spec(-5, 10).IsValid());
  CHECK_FALSE(Spec(10, 0).IsValid());
  CHECK_FALSE(Spec(BucketSpec::kMaxRequests + 1, 10).IsValid());
  CHECK_FALSE(Spec(10, BucketSpec::kMaxDuration.count() + 1).IsValid());

  RateLimiter limiter;
  // No requests at all is read as one.
  CHECK(limiter.Take("zero", Spec(0, 10), At(0)) == Allowed(0));
  CHECK(limiter.Take("zero", Spec(0, 10), At(0)) == Refused(10));
  // A negative duration is read as one second.
  CHECK(limiter.Take("negative", Spec(1, -3), At(0)) == Allowed(0));
  CHECK(limiter.Take("negative", Spec(1, -3), At(0)) == Refused(1));
  // The largest values of the JSON numbers settings accept still give sane answers.
  const BucketSpec huge = Spec(INT64_MAX, INT64_MAX);
  CHECK(limiter.Take("huge", huge, At(0)) == Allowed(BucketSpec::kMaxRequests - 1));
  CHECK(limiter.Take("huge", huge, At(INT64_MAX / 4000)) ==
        Allowed(BucketSpec::kMaxRequests - 1));
}

TEST_CASE("the rule's spec is its maxRequests per duration", "[domain][rate_limit]") {
  const RateLimitRule rule{"*:auth", 2, 3, ""};
  CHECK(BucketSpec::For(rule) == Spec(2, 3));
}

TEST_CASE("limiter options are validated", "[domain][rate_limit]") {
  const auto field_of = [](const RateLimiterOptions& options) -> std::string {
    auto made = RateLimiter::Create(options);
    if (made) return "<valid>";
    CHECK(made.error().code == ErrorCode::kInvalidArgument);
    REQUIRE(made.error().fields.size() == 1);
    return made.error().fields[0].field;
  };
  CHECK(field_of(RateLimiterOptions{}) == "<valid>");
  CHECK(field_of(RateLimiterOptions{1, 1}) == "<valid>");
  CHECK(field_of(RateLimiterOptions{0, 16}) == "max_keys");
  CHECK(field_of(RateLimiterOptions{RateLimiterOptions::kMaxKeysLimit + 1, 16}) == "max_keys");
  CHECK(field_of(RateLimiterOptions{100, 0}) == "shards");
  CHECK(field_of(RateLimiterOptions{100, RateLimiterOptions::kMaxShards + 1}) == "shards");
  CHECK(RateLimiter().max_keys() == 100'000);
}

TEST_CASE("the limiter holds at most max_keys buckets under a million distinct keys",
          "[domain][rate_limit]") {
  RateLimiter limiter = Make(1000, 16);
  const BucketSpec spec = Spec(5, 60);
  std::size_t most = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const auto decision = limiter.Take("ip:" + std::to_string(i), spec, At(i / 1000));
    // Every new key starts with a full bucket, evictions or not.
    REQUIRE(decision == Allowed(4));
    if (i % 10'000 == 0) most = std::max(most, limiter.Size());
  }
  most = std::max(most, limiter.Size());
  CHECK(most <= 1000);
  // The shards' shares add up to exactly max_keys, whatever the split.
  RateLimiter odd = Make(10, 4);
  for (int i = 0; i < 10'000; ++i) odd.Take(std::to_string(i), spec, At(0));
  CHECK(odd.Size() <= 10);
  RateLimiter fewer_keys_than_shards = Make(3, 16);
  for (int i = 0; i < 100; ++i) fewer_keys_than_shards.Take(std::to_string(i), spec, At(0));
  CHECK(fewer_keys_than_shards.Size() <= 3);
  CHECK(fewer_keys_than_shards.Size() >= 1);
}

TEST_CASE("eviction takes a refilled bucket before the least recently used one",
          "[domain][rate_limit]") {
  RateLimiter limiter = Make(2, 1);
  const BucketSpec slow = Spec(1, 100);
  const BucketSpec fast = Spec(1, 1);
  CHECK(limiter.Take("busy", slow, At(0)).allowed);  // least recently used, still empty at 5 s
  CHECK(limiter.Take("idle", fast, At(0)).allowed);  // full again from 1 s on
  CHECK(limiter.Take("new", slow, At(5'000)).allowed);
  CHECK(limiter.Size() == 2);
  // "busy" was kept: it is still refused.
  CHECK(limiter.Take("busy", slow, At(5'000)) == Refused(95));
}

TEST_CASE("eviction only ever forgives", "[domain][rate_limit]") {
  RateLimiter limiter = Make(2, 1);
  const BucketSpec spec = Spec(1, 100);
  CHECK(limiter.Take("a", spec, At(0)).allowed);
  CHECK(limiter.Take("b", spec, At(1'000)).allowed);
  CHECK(limiter.Take("a", spec, At(2'000)) == Refused(98));  // "a" is now the most recent
  CHECK(limiter.Take("c", spec, At(3'000)).allowed);         // evicts "b", none being full
  CHECK(limiter.Size() == 2);
  CHECK(limiter.Take("a", spec, At(3'000)) == Refused(97));  // kept
  CHECK(limiter.Take("b", spec, At(3'000)) == Allowed(0));   // forgotten: a full bucket again
}

TEST_CASE("concurrent takes never let more through than the bucket holds",
          "[domain][rate_limit][threads]") {
  RateLimiter limiter = Make(64, 16);
  const BucketSpec spec = Spec(1000, 1000);
  std::atomic<std::int64_t> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&limiter, &allowed, spec, t] {
      for (int i = 0; i < 5000; ++i) {
        if (limiter.Take("shared", spec, At(0)).allowed) allowed.fetch_add(1);
        // Keys of its own, more than the limiter holds: evictions race with the shared key.
        limiter.Take("t" + std::to_string(t) + ":" + std::to_string(i % 200), spec, At(0));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  // The shared key is taken from at every step, so it is never the least recently used of a
  // full shard for long; whether or not it was evicted, at most one bucket's worth per life.
  CHECK(allowed.load() >= 1000);
  CHECK(limiter.Size() <= 64);

  // Without eviction the count is exact.
  RateLimiter exact;
  std::atomic<std::int64_t> exact_allowed{0};
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&exact, &exact_allowed, spec] {
      for (int i = 0; i < 5000; ++i) {
        if (exact.Take("shared", spec, At(0)).allowed) exact_allowed.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(exact_allowed.load() == 1000);
}

// ---------------------------------------------------------------------------------------------
// Rule lookup, pinned on PocketBase's FindRateLimitRule and its middleware's labels.

namespace {

RateLimitRequest Collection(std::string_view method, std::string_view path,
                            std::string_view collection, std::vector<std::string_view> actions,
                            bool authenticated = false) {
  return RateLimitRequest{method, path, collection, std::move(actions), authenticated};
}

RateLimitRequest Route(std::string_view method, std::string_view path,
                       bool authenticated = false) {
  return RateLimitRequest{method, path, {}, {}, authenticated};
}

// The label of the rule found, or "<none>".
std::string Found(const std::vector<RateLimitRule>& rules, const RateLimitRequest& request) {
  const RateLimitRule* rule = FindRateLimitRule(rules, request);
  if (rule == nullptr) return "<none>";
  return rule->audience.empty() ? rule->label : rule->label + " " + rule->audience;
}

RateLimitRule Rule(std::string label, std::string audience = "") {
  return RateLimitRule{std::move(label), 10, 10, std::move(audience)};
}

}  // namespace

TEST_CASE("labels come most specific first, as PocketBase builds them", "[domain][rate_limit]") {
  CHECK(RateLimitLabels(Collection("POST", "/api/collections/users/auth-with-password", "users",
                                   {"authWithPassword", "auth"})) ==
        std::vector<std::string>{"users:authWithPassword", "users:auth", "*:authWithPassword",
                                 "*:auth", "POST /api/collections/users/auth-with-password",
                                 "/api/collections/users/auth-with-password"});
  CHECK(RateLimitLabels(Route("GET", "/api/health")) ==
        std::vector<std::string>{"GET /api/health", "/api/health"});
  // Actions without a collection are not tags.
  CHECK(RateLimitLabels(RateLimitRequest{"GET", "/api/x", {}, {"list"}, false}) ==
        std::vector<std::string>{"GET /api/x", "/api/x"});
}

TEST_CASE("PocketBase's default rules apply as in PocketBase", "[domain][rate_limit]") {
  const std::vector<RateLimitRule> rules = DefaultRateLimitRules();
  CHECK(Found(rules, Collection("POST", "/api/collections/users/auth-with-password", "users",
                                {"authWithPassword", "auth"})) == "*:auth");
  CHECK(Found(rules, Collection("POST", "/api/collections/users/auth-with-otp", "users",
                                {"authWithOTP", "auth"}, true)) == "*:auth");
  CHECK(Found(rules, Collection("POST", "/api/collections/posts/records", "posts",
                                {"create"})) == "*:create");
  CHECK(Found(rules, Route("POST", "/api/batch")) == "/api/batch");
  // No rule for lists: the path prefix catches it.
  CHECK(Found(rules, Collection("GET", "/api/collections/posts/records", "posts", {"list"})) ==
        "/api/");
  CHECK(Found(rules, Collection("POST", "/api/collections/users/request-otp", "users",
                                {"requestOTP"})) == "/api/");
  CHECK(Found(rules, Route("GET", "/api/health")) == "/api/");
  // "/api/" covers "/api" itself (label + "/" starts with it), but not another tree.
  CHECK(Found(rules, Route("GET", "/api")) == "/api/");
  CHECK(Found(rules, Route("GET", "/_/")) == "<none>");
  CHECK(Found(rules, Route("GET", "/apix")) == "<none>");
  // "/api/batch" has no trailing slash: an exact path, not a prefix.
  CHECK(Found(rules, Route("POST", "/api/batch/x")) == "/api/");
  CHECK(Found({}, Route("GET", "/api/health")) == "<none>");
}

TEST_CASE("a collection's own tag beats the wildcard, whatever the rules' order",
          "[domain][rate_limit]") {
  const auto request = Collection("POST", "/api/collections/users/auth-with-password", "users",
                                  {"authWithPassword", "auth"});
  CHECK(Found({Rule("*:auth"), Rule("users:auth")}, request) == "users:auth");
  CHECK(Found({Rule("users:auth"), Rule("users:authWithPassword")}, request) ==
        "users:authWithPassword");
  // Every collection tag comes before every wildcard tag.
  CHECK(Found({Rule("*:authWithPassword"), Rule("users:auth")}, request) == "users:auth");
  CHECK(Found({Rule("*:auth"), Rule("*:authWithPassword")}, request) == "*:authWithPassword");
  // Another collection's tag does not apply.
  CHECK(Found({Rule("admins:auth"), Rule("/api/")}, request) == "/api/");
}

TEST_CASE("tags beat paths, a method and path beats the path", "[domain][rate_limit]") {
  const auto create = Collection("POST", "/api/collections/posts/records", "posts", {"create"});
  CHECK(Found({Rule("/api/"), Rule("/api/collections/posts/records"), Rule("*:create")},
              create) == "*:create");
  CHECK(Found({Rule("/api/collections/posts/records"), Rule("POST /api/collections/posts/records")},
              create) == "POST /api/collections/posts/records");
  // A "METHOD /prefix/" rule comes before the exact path: prefixes are tried after each label.
  CHECK(Found({Rule("/api/collections/posts/records"), Rule("POST /api/collections/")}, create) ==
        "POST /api/collections/");
  // But not for another method.
  CHECK(Found({Rule("GET /api/collections/"), Rule("/api/")}, create) == "/api/");
  // The exact path comes before a path prefix.
  CHECK(Found({Rule("/api/"), Rule("/api/collections/posts/records")}, create) ==
        "/api/collections/posts/records");
}

TEST_CASE("among prefixes the first rule listed wins, not the longest", "[domain][rate_limit]") {
  const auto request = Route("GET", "/api/collections/posts/records");
  CHECK(Found({Rule("/api/"), Rule("/api/collections/")}, request) == "/api/");
  CHECK(Found({Rule("/api/collections/"), Rule("/api/")}, request) == "/api/collections/");
  // A prefix matches on whole segments only.
  CHECK(Found({Rule("/api/coll/"), Rule("/")}, request) == "/");
  CHECK(Found({Rule("/api/collections/posts/records/")}, request) ==
        "/api/collections/posts/records/");
}

TEST_CASE("only the rules for the request's audience apply", "[domain][rate_limit]") {
  const auto guest = Collection("POST", "/api/collections/posts/records", "posts", {"create"});
  const auto user = Collection("POST", "/api/collections/posts/records", "posts", {"create"},
                               true);
  const std::vector<RateLimitRule> split = {Rule("*:create", "@guest"),
                                            Rule("*:create", "@auth")};
  CHECK(Found(split, guest) == "*:create @guest");
  CHECK(Found(split, user) == "*:create @auth");

  // A rule for the other audience is passed over and a less specific one applies.
  const std::vector<RateLimitRule> guests_only = {Rule("posts:create", "@guest"), Rule("/api/")};
  CHECK(Found(guests_only, guest) == "posts:create @guest");
  CHECK(Found(guests_only, user) == "/api/");
  const std::vector<RateLimitRule> prefix_for_users = {Rule("/api/", "@auth")};
  CHECK(Found(prefix_for_users, guest) == "<none>");
  CHECK(Found(prefix_for_users, user) == "/api/ @auth");

  // An audience PocketBase does not know never applies.
  CHECK(Found({Rule("*:create", "@admin")}, guest) == "<none>");
  CHECK(Found({Rule("*:create", "@admin")}, user) == "<none>");
}

TEST_CASE("the rule found points into the rules given", "[domain][rate_limit]") {
  const std::vector<RateLimitRule> rules = DefaultRateLimitRules();
  const std::vector<std::string> labels = {"users:auth", "*:auth"};
  const RateLimitRule* rule = FindRateLimitRule(rules, labels, false);
  REQUIRE(rule != nullptr);
  CHECK(rule == &rules[0]);
  CHECK(BucketSpec::For(*rule) == Spec(2, 3));
}
