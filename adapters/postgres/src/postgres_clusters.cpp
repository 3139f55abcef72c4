#include "socle/adapters/postgres/postgres_clusters.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <utility>

#include "connection.hpp"
#include "socle/adapters/postgres/identifier.hpp"

namespace socle::adapters::postgres {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

constexpr std::string_view kDuplicateDatabase = "42P04";

// A value of a key=value connection string: quoted, with backslashes and quotes escaped.
std::string ConninfoValue(std::string_view value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += '\'';
  return quoted;
}

ConnectionSettings SettingsFor(const PostgresOptions& options, std::string url) {
  ConnectionSettings settings;
  settings.url = std::move(url);
  settings.connect_timeout = std::chrono::milliseconds(options.connect_timeout_ms);
  settings.statement_timeout = std::chrono::milliseconds(options.statement_timeout_ms);
  return settings;
}

constexpr Statement kDatabaseExists{"", "SELECT 1 FROM pg_database WHERE datname = $1::text", 1};

// Creates `database` on the cluster `conn` is connected to, unless it exists (one created
// meanwhile by another process counts), reachable by its owner only.
Result<void> EnsureDatabase(Connection& conn, std::string_view database) {
  auto quoted = QuoteIdentifier(database);
  if (!quoted) return Fail(quoted.error());
  auto exists = conn.Execute(kDatabaseExists, {std::string(database)});
  if (!exists) return Fail(exists.error());
  if (exists->Rows() > 0) return {};
  auto created = conn.Script("CREATE DATABASE " + *quoted);
  if (!created) {
    if (conn.last_sqlstate() == kDuplicateDatabase) return {};
    return Fail(created.error());
  }
  auto revoked = conn.Script("REVOKE ALL ON DATABASE " + *quoted + " FROM PUBLIC");
  if (!revoked) return Fail(revoked.error());
  return {};
}

}  // namespace

Result<std::string> WithDatabase(std::string_view url, std::string_view database) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(url).c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return Fail(ErrorCode::kInvalidArgument, "The store URL is not a PostgreSQL connection string.");
  }
  std::string conninfo;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || std::string_view(option->keyword) == "dbname") continue;
    conninfo += std::string(option->keyword) + '=' + ConninfoValue(option->val) + ' ';
  }
  PQconninfoFree(options);
  conninfo += "dbname=" + ConninfoValue(database);
  return conninfo;
}

Result<std::string> PostgresClusters::ClusterUrl(const domain::Placement& placement) const {
  if (!placement.cluster_url.empty()) return placement.cluster_url;
  if (own_.url.empty()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "This instance's own store has no databases to place an organisation in.");
  }
  return own_.url;
}

Result<std::shared_ptr<application::ProjectStores>> PostgresClusters::Open(
    const domain::Placement& placement) {
  auto cluster = ClusterUrl(placement);
  if (!cluster) return Fail(std::move(cluster.error()));
  PostgresOptions options = own_;
  options.url = *cluster;
  if (!placement.database.empty()) {
    auto conn = Connection::Open(SettingsFor(options, *cluster));
    if (!conn) return Fail(std::move(conn.error()));
    if (auto made = EnsureDatabase(**conn, placement.database); !made) {
      return Fail(std::move(made.error()));
    }
    auto url = WithDatabase(*cluster, placement.database);
    if (!url) return Fail(std::move(url.error()));
    options.url = std::move(*url);
  }
  auto stores = PostgresProjectStores::Connect(options, watch_);
  if (!stores) return Fail(std::move(stores.error()));
  return std::shared_ptr<application::ProjectStores>(std::move(*stores));
}

Result<void> PostgresClusters::DropDatabase(const domain::Placement& placement) {
  if (placement.database.empty()) return {};
  auto cluster = ClusterUrl(placement);
  if (!cluster) return Fail(std::move(cluster.error()));
  auto quoted = QuoteIdentifier(placement.database);
  if (!quoted) return Fail(quoted.error());
  auto conn = Connection::Open(SettingsFor(own_, *cluster));
  if (!conn) return Fail(std::move(conn.error()));
  auto dropped = (*conn)->Script("DROP DATABASE IF EXISTS " + *quoted + " WITH (FORCE)");
  if (!dropped) return Fail(dropped.error());
  return {};
}

}  // namespace socle::adapters::postgres
