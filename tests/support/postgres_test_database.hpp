#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;

namespace socle::testing {

/// One row of a test query; a NULL column is std::nullopt.
using PgRow = std::vector<std::optional<std::string>>;

/// A libpq connection for test code that must keep a session open (hold a lock, keep a
/// transaction running, look at pg_stat_activity). Throws std::runtime_error on any failure:
/// a test cannot go on without its database.
class PostgresSession final {
 public:
  explicit PostgresSession(const std::string& url);
  ~PostgresSession();
  PostgresSession(const PostgresSession&) = delete;
  PostgresSession& operator=(const PostgresSession&) = delete;

  /// Runs one statement with text parameters $1, $2 ... and returns its rows as text.
  std::vector<PgRow> Query(const std::string& sql, const std::vector<std::string>& params = {});
  /// The first column of the first row ("" for NULL); throws when there is no row.
  std::string Value(const std::string& sql, const std::vector<std::string>& params = {});
  /// The server process id serving this session.
  int BackendPid() const;

 private:
  pg_conn* conn_;
};

/// A uniquely named, empty database on the private test cluster (tests/support/pg_cluster.sh),
/// created from template0 and dropped with its connections when the object is destroyed.
/// The cluster's URL is read from the file named by $SOCLE_TEST_PG_URL_FILE, which CTest sets
/// for tests that require the "postgres" fixture (falling back to the build tree's cluster, so
/// a suite also runs straight from its executable once the cluster is started).
/// Throws std::runtime_error when the cluster cannot be reached.
class PostgresTestDatabase final {
 public:
  PostgresTestDatabase();
  ~PostgresTestDatabase();
  PostgresTestDatabase(const PostgresTestDatabase&) = delete;
  PostgresTestDatabase& operator=(const PostgresTestDatabase&) = delete;

  /// The database name: socle_test_<pid>_<n>_<random>.
  const std::string& name() const noexcept { return name_; }
  /// A libpq URI for this database, e.g. postgresql:///socle_test_1_1_ab?host=/tmp/..&port=..
  const std::string& url() const noexcept { return url_; }

  /// Runs one statement on a new session to this database (see PostgresSession::Query).
  std::vector<PgRow> Query(const std::string& sql,
                           const std::vector<std::string>& params = {}) const;
  /// The first column of the first row, on a new session to this database.
  std::string Value(const std::string& sql, const std::vector<std::string>& params = {}) const;

  /// The URL of the test cluster's maintenance database ("postgres").
  static std::string ClusterUrl();
  /// A URL for another database of the test cluster.
  static std::string UrlFor(std::string_view database);

 private:
  std::string name_;
  std::string url_;
};

}  // namespace socle::testing
