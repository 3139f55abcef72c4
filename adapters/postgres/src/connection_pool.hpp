#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "connection.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::postgres {

/// A bounded pool of connections to one database. Connections open on demand up to the limit;
/// a caller waits at most the acquire timeout for one, then gets unavailable (an overloaded
/// store answers, it does not hang). A connection that broke, or that a failed COMMIT or
/// ROLLBACK left inside a transaction, is closed instead of returned, and its slot reopens.
class ConnectionPool final {
 public:
  /// Returns its connection to the pool when destroyed.
  class Lease final {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> conn) noexcept
        : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease&&) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const noexcept { return *conn_; }
    Connection* operator->() const noexcept { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  ConnectionPool(ConnectionSettings settings, std::size_t max_size,
                 std::chrono::milliseconds acquire_timeout);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// A healthy connection for the calling thread; unavailable when none frees up within the
  /// acquire timeout, or the error of opening a new one.
  domain::Result<Lease> Acquire();
  /// The settings pooled connections are opened with (for a dedicated connection).
  const ConnectionSettings& settings() const noexcept { return settings_; }

 private:
  void Release(std::unique_ptr<Connection> conn);
  void Discard(std::unique_ptr<Connection> conn);

  const ConnectionSettings settings_;
  const std::size_t max_size_;
  const std::chrono::milliseconds acquire_timeout_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle plus lent plus being opened
};

}  // namespace socle::adapters::postgres
