#include "connection_pool.hpp"

#include <algorithm>

namespace socle::adapters::sqlite {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

ConnectionPool::Lease::~Lease() {
  if (conn_) pool_->Release(std::move(conn_));
}

ConnectionPool::ConnectionPool(std::string path, std::size_t max_size,
                               std::uint32_t busy_timeout_ms)
    : path_(std::move(path)), max_size_(std::max<std::size_t>(max_size, 1)),
      busy_timeout_ms_(busy_timeout_ms) {}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms_);
  while (idle_.empty() && open_ >= max_size_) {
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout &&
        idle_.empty() && open_ >= max_size_) {
      return Fail(ErrorCode::kUnavailable,
                  "The catalogue is busy; every database connection is in use.");
    }
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(conn));
  }
  ++open_;  // reserve the slot, then open without holding the lock
  lock.unlock();
  auto opened = Connection::Open(path_, busy_timeout_ms_);
  if (!opened) {
    lock.lock();
    --open_;
    returned_.notify_one();
    return Fail(opened.error());
  }
  return Lease(*this, std::move(*opened));
}

void ConnectionPool::Release(std::unique_ptr<Connection> conn) {
  // A transaction left open by a failed COMMIT or ROLLBACK would hold the write lock; such a
  // connection is closed (which rolls back) rather than lent to the next caller.
  if (conn->InTransaction() && (!conn->Exec("ROLLBACK") || conn->InTransaction())) {
    conn.reset();
  }
  std::lock_guard lock(mutex_);
  if (conn) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  returned_.notify_one();
}

}  // namespace socle::adapters::sqlite
