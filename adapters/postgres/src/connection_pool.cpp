#include "connection_pool.hpp"

#include <algorithm>

namespace socle::adapters::postgres {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

ConnectionPool::Lease::~Lease() {
  if (conn_) pool_->Release(std::move(conn_));
}

ConnectionPool::ConnectionPool(ConnectionSettings settings, std::size_t max_size,
                               std::chrono::milliseconds acquire_timeout)
    : settings_(std::move(settings)), max_size_(std::max<std::size_t>(max_size, 1)),
      acquire_timeout_(acquire_timeout) {}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
  std::unique_lock lock(mutex_);
  for (;;) {
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());  // the most recently used one: likely still alive
      idle_.pop_back();
      lock.unlock();
      if (conn->IsReusable()) return Lease(*this, std::move(conn));
      conn.reset();  // closes it
      lock.lock();
      --open_;
    }
    if (open_ < max_size_) break;
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_size_) {
      return Fail(ErrorCode::kUnavailable,
                  "The database is busy; every connection is in use. Try again later.");
    }
  }
  ++open_;  // reserve the slot, then connect without holding the lock
  lock.unlock();
  auto opened = Connection::Open(settings_);
  if (!opened) {
    lock.lock();
    --open_;
    returned_.notify_one();
    return Fail(opened.error());
  }
  return Lease(*this, std::move(*opened));
}

void ConnectionPool::Release(std::unique_ptr<Connection> conn) {
  if (!conn->broken() && !conn->IsReusable()) {
    (void)conn->Script("ROLLBACK");  // a transaction left open by a failed COMMIT/ROLLBACK
  }
  if (conn->broken() || !conn->IsReusable()) {
    Discard(std::move(conn));
    return;
  }
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(conn));
  returned_.notify_one();
}

void ConnectionPool::Discard(std::unique_ptr<Connection> conn) {
  conn.reset();  // closes it outside the lock
  std::lock_guard lock(mutex_);
  --open_;
  returned_.notify_one();
}

}  // namespace socle::adapters::postgres
