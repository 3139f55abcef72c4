#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "socle/domain/error.hpp"

namespace socle::adapters {

/// A bounded pool of connections to one database, each lent to one thread at a time. The store
/// adapters share it; what a connection is, how it opens and when it may be lent again stay
/// with each adapter.
///
/// Connections open on demand, up to the maximum. A caller waits at most the acquire timeout
/// for one to come back, then gets unavailable: an overloaded store answers, it does not hang.
/// A connection that `reusable` rejects, when it comes back or before an idle one is lent out,
/// is closed and its slot reopens. Thread-safe; opening, probing and closing connections happen
/// outside the lock. The pool must outlive its leases.
template <typename Connection>
class BoundedPool final {
 public:
  /// Opens a new connection. Its error reaches the caller of Acquire() unchanged.
  using OpenFn = std::function<domain::Result<std::unique_ptr<Connection>>()>;
  /// Whether a connection may be lent (again). It may probe the connection (read what its
  /// server sent meanwhile), hence the non-const reference.
  using ReusableFn = std::function<bool(Connection&)>;

  /// Returns its connection to the pool when destroyed.
  class Lease final {
   public:
    Lease(Lease&&) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    Connection& operator*() const noexcept { return *conn_; }
    Connection* operator->() const noexcept { return conn_.get(); }

   private:
    friend class BoundedPool;
    Lease(BoundedPool& pool, std::unique_ptr<Connection> conn) noexcept
        : pool_(&pool), conn_(std::move(conn)) {}

    BoundedPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  /// `open` and `reusable` must not throw. A `max_size` of 0 is taken as 1.
  BoundedPool(OpenFn open, ReusableFn reusable, std::size_t max_size,
              std::chrono::milliseconds acquire_timeout)
      : open_(std::move(open)),
        reusable_(std::move(reusable)),
        max_size_(std::max<std::size_t>(max_size, 1)),
        acquire_timeout_(acquire_timeout) {}
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  /// A connection for the calling thread: an idle one if `reusable` accepts it, else a new one
  /// while fewer than the maximum are open. unavailable when none frees up within the acquire
  /// timeout; the error of `open` when opening fails.
  domain::Result<Lease> Acquire() {
    const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!idle_.empty()) {
        auto conn = std::move(idle_.back());  // the most recently used one: likely still alive
        idle_.pop_back();
        lock.unlock();
        if (reusable_(*conn)) return Lease(*this, std::move(conn));
        conn.reset();  // closes it
        lock.lock();
        --open_count_;
      }
      if (open_count_ < max_size_) break;
      if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_count_ >= max_size_) {
        return domain::Fail(Exhausted());
      }
    }
    ++open_count_;  // reserve the slot, then open without holding the lock
    lock.unlock();
    auto opened = open_();
    if (!opened) {
      FreeSlot();
      return domain::Fail(std::move(opened.error()));
    }
    return Lease(*this, std::move(*opened));
  }

 private:
  void Release(std::unique_ptr<Connection> conn) {
    if (!reusable_(*conn)) {
      conn.reset();  // closes it outside the lock
      FreeSlot();
      return;
    }
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(conn));
    returned_.notify_one();
  }

  void FreeSlot() {
    std::lock_guard lock(mutex_);
    --open_count_;
    returned_.notify_one();
  }

  domain::Error Exhausted() const {
    domain::Error error =
        domain::Error::Make(domain::ErrorCode::kUnavailable,
                            "The database is busy; every connection is in use. Try again later.");
    error.internal = "connection pool exhausted: " + std::to_string(max_size_) +
                     " connections in use for " + std::to_string(acquire_timeout_.count()) + " ms";
    return error;
  }

  const OpenFn open_;
  const ReusableFn reusable_;
  const std::size_t max_size_;
  const std::chrono::milliseconds acquire_timeout_;
  std::mutex mutex_;
  std::condition_variable returned_;  // a connection came back or a slot freed up
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_count_ = 0;  // idle, lent, or being opened
};

}  // namespace socle::adapters
