#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connection.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::sqlite {

/// A bounded set of connections to one database file, each lent to one thread at a time.
/// Connections are opened on demand up to the limit; a caller waits at most the busy timeout
/// for one to come back, so an overloaded store answers unavailable instead of hanging.
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

  ConnectionPool(std::string path, std::size_t max_size, std::uint32_t busy_timeout_ms);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// A connection for the calling thread; unavailable when none frees up within the busy
  /// timeout, or the error of opening a new one.
  domain::Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::string path_;
  const std::size_t max_size_;
  const std::uint32_t busy_timeout_ms_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle plus lent
};

}  // namespace socle::adapters::sqlite
