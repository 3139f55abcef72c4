// BoundedPool on a stand-in connection: lazy opening, the bound, waiting, discarding, failures.
#include "socle/adapters/bounded_pool.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using socle::adapters::BoundedPool;
using socle::domain::Error;
using socle::domain::ErrorCode;
using socle::domain::Fail;
using socle::domain::Result;
using namespace std::chrono_literals;

namespace {

// A stand-in connection: numbered in opening order, counted while alive, and reusable until a
// test says otherwise.
class FakeConnection final {
 public:
  FakeConnection(int id, std::atomic<int>& alive) : id_(id), alive_(alive) { ++alive_; }
  ~FakeConnection() { --alive_; }
  FakeConnection(const FakeConnection&) = delete;
  FakeConnection& operator=(const FakeConnection&) = delete;

  int id() const noexcept { return id_; }
  bool reusable = true;

 private:
  int id_;
  std::atomic<int>& alive_;
};

using Pool = BoundedPool<FakeConnection>;

// Opens FakeConnections and counts them; fails instead while `failing` is set.
struct Opener {
  std::atomic<int> opened{0};
  std::atomic<int> alive{0};
  std::atomic<bool> failing{false};

  Pool MakePool(std::size_t max_size, std::chrono::milliseconds timeout) {
    return Pool(
        [this]() -> Result<std::unique_ptr<FakeConnection>> {
          if (failing) {
            Error error = Error::Make(ErrorCode::kUnavailable, "The database is unreachable.");
            error.internal = "driver detail: connection refused";
            return Fail(std::move(error));
          }
          return std::make_unique<FakeConnection>(++opened, alive);
        },
        [](FakeConnection& conn) { return conn.reusable; }, max_size, timeout);
  }
};

}  // namespace

TEST_CASE("BoundedPool opens connections only when asked, and reuses returned ones",
          "[adapters][pool]") {
  Opener opener;
  auto pool = opener.MakePool(4, 1s);
  CHECK(opener.opened == 0);
  {
    auto lease = pool.Acquire();
    REQUIRE(lease);
    CHECK((*lease)->id() == 1);
    CHECK(opener.opened == 1);
  }
  auto again = pool.Acquire();
  REQUIRE(again);
  CHECK((*again)->id() == 1);
  CHECK(opener.opened == 1);
  CHECK(opener.alive == 1);
}

TEST_CASE("BoundedPool never has more than its maximum open", "[adapters][pool]") {
  Opener opener;
  constexpr std::size_t kMax = 3;
  auto pool = opener.MakePool(kMax, 10s);

  std::atomic<int> lent{0};
  std::atomic<int> most_lent{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto lease = pool.Acquire();
        if (!lease) {
          ++failures;
          continue;
        }
        const int now = ++lent;
        int seen = most_lent;
        while (now > seen && !most_lent.compare_exchange_weak(seen, now)) {
        }
        --lent;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK(failures == 0);
  CHECK(most_lent <= static_cast<int>(kMax));
  CHECK(opener.opened <= static_cast<int>(kMax));
  CHECK(opener.alive <= static_cast<int>(kMax));
}

TEST_CASE("BoundedPool hands a waiter the connection another thread returns", "[adapters][pool]") {
  Opener opener;
  auto pool = opener.MakePool(1, 10s);
  auto first = pool.Acquire();
  REQUIRE(first);
  std::optional<Pool::Lease> held(std::move(*first));

  std::promise<void> waiting;
  auto waiter = std::async(std::launch::async, [&] {
    waiting.set_value();
    auto lease = pool.Acquire();  // blocks until the holder's lease comes back
    return lease ? (*lease)->id() : -1;
  });
  waiting.get_future().wait();
  // Returned from a third thread. Whether the waiter is already waiting or not yet, it must get
  // this connection, not open a second one nor give up.
  std::thread releaser([&held] { held.reset(); });
  releaser.join();

  CHECK(waiter.get() == 1);
  CHECK(opener.opened == 1);
}

TEST_CASE("BoundedPool answers unavailable when no connection frees up in time",
          "[adapters][pool]") {
  Opener opener;
  auto pool = opener.MakePool(1, 50ms);
  auto held = pool.Acquire();
  REQUIRE(held);

  const auto start = std::chrono::steady_clock::now();
  auto late = pool.Acquire();
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(late);
  CHECK(late.error().code == ErrorCode::kUnavailable);
  CHECK(late.error().message ==
        "The database is busy; every connection is in use. Try again later.");
  CHECK(late.error().internal.find("pool exhausted") != std::string::npos);
  CHECK(waited >= 50ms);
  CHECK(opener.opened == 1);
}

TEST_CASE("BoundedPool closes connections it may not lend again, and their slot reopens",
          "[adapters][pool]") {
  Opener opener;
  auto pool = opener.MakePool(1, 0ms);

  SECTION("one rejected when it comes back") {
    {
      auto lease = pool.Acquire();
      REQUIRE(lease);
      (*lease)->reusable = false;
    }
    CHECK(opener.alive == 0);
  }
  SECTION("one rejected before it is lent again") {
    FakeConnection* idle = nullptr;
    {
      auto lease = pool.Acquire();
      REQUIRE(lease);
      idle = &**lease;
    }
    REQUIRE(opener.alive == 1);
    idle->reusable = false;  // it went bad while idle in the pool
  }
  auto next = pool.Acquire();  // with no wait allowed: the slot must be free already
  REQUIRE(next);
  CHECK((*next)->id() == 2);
  CHECK(opener.alive == 1);
}

TEST_CASE("BoundedPool reports a failed open as is, and frees its slot", "[adapters][pool]") {
  Opener opener;
  auto pool = opener.MakePool(1, 0ms);
  opener.failing = true;

  auto failed = pool.Acquire();
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == ErrorCode::kUnavailable);
  CHECK(failed.error().message == "The database is unreachable.");
  CHECK(failed.error().internal == "driver detail: connection refused");

  opener.failing = false;
  auto next = pool.Acquire();  // with no wait allowed: the slot must be free already
  REQUIRE(next);
  CHECK((*next)->id() == 1);
}
