#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "socle/domain/error.hpp"

namespace socle::adapters::postgres {

/// A statement kept as a named constant. With a name it is prepared once per connection under
/// that name, then executed by name; without one it is sent unnamed (for one-off statements).
/// Values are always bound to $1..$params, as text.
struct Statement {
  const char* name;
  const char* sql;
  int params;
};

/// Bound values, in text format; std::nullopt binds NULL.
using Params = std::vector<std::optional<std::string>>;

/// An owned PGresult, read as text.
class PgResult final {
 public:
  explicit PgResult(PGresult* result) noexcept : result_(result, &PQclear) {}
  int Rows() const noexcept { return PQntuples(result_.get()); }
  std::string_view Text(int row, int column) const noexcept;
  bool IsNull(int row, int column) const noexcept;
  /// Rows affected by an INSERT, UPDATE or DELETE.
  std::int64_t Affected() const noexcept;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

/// How every pooled connection is opened.
struct ConnectionSettings {
  std::string url;
  std::chrono::milliseconds connect_timeout{5000};
  /// Server-side statement_timeout; 0 disables it and the client-side deadline with it.
  std::chrono::milliseconds statement_timeout{5000};
};

/// One libpq connection in non-blocking mode: every round trip waits on the socket with a
/// deadline (the statement timeout plus a grace period), so a server that vanishes without
/// closing the connection costs a bounded wait, never a hang. Used by one thread at a time.
class Connection final {
 public:
  /// Connects within settings.connect_timeout and sets statement_timeout for the session.
  /// unavailable when the server cannot be reached, invalid_argument for a malformed URL.
  static domain::Result<std::unique_ptr<Connection>> Open(const ConnectionSettings& settings);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Executes `statement` with `params`, preparing it on this connection on first use.
  domain::Result<PgResult> Execute(const Statement& statement, const Params& params = {});
  /// Runs SQL text with the simple protocol (several statements allowed): transaction control,
  /// migrations and DDL whose identifiers went through QuoteIdentifier. Never request input.
  domain::Result<PgResult> Script(const std::string& sql);

  /// Whether the connection is idle, outside any transaction and still connected. Reads what
  /// the server sent meanwhile without blocking, so a backend that was terminated while the
  /// connection sat in the pool is noticed before it is lent out.
  bool IsReusable();
  /// True once the connection was found lost or timed out; it must then be discarded.
  bool broken() const noexcept { return broken_; }
  /// Round trips that succeeded since the last ResetUsage().
  int round_trips() const noexcept { return round_trips_; }
  void ResetUsage() noexcept { round_trips_ = 0; }
  /// The constraint named by the last failed statement (PG_DIAG_CONSTRAINT_NAME), if any.
  const std::string& last_constraint() const noexcept { return last_constraint_; }

 private:
  Connection(PGconn* conn, std::chrono::milliseconds io_timeout) noexcept
      : conn_(conn), io_timeout_(io_timeout) {}
  domain::Result<PgResult> Await(std::string_view what);
  domain::Error Lost(std::string_view what);

  PGconn* conn_;
  std::chrono::milliseconds io_timeout_;  // 0: no client-side deadline
  std::unordered_set<std::string_view> prepared_;
  bool broken_ = false;
  int round_trips_ = 0;
  std::string last_constraint_;
};

}  // namespace socle::adapters::postgres
