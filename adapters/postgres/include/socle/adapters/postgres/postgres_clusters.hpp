#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "socle/application/ports/clusters.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::adapters::postgres {

/// The Clusters on PostgreSQL: the stores of a placement are PostgresProjectStores on its
/// cluster URL (the instance's own URL when the placement names none), in the placement's
/// dedicated database when it names one. That database is created on first use (CREATE
/// DATABASE: the login role needs CREATEDB) with CONNECT revoked from PUBLIC, so that only the
/// roles the owner admits can reach it, and DropDatabase drops it WITH (FORCE), ending the
/// sessions still connected to it (PostgreSQL 13 or newer). Thread-safe.
class PostgresClusters final : public application::Clusters {
 public:
  /// `own`: the instance's PostgreSQL store, whose pool size and timeouts every placement's
  /// stores get too; own.url empty when the instance's own store is not PostgreSQL (a
  /// placement without a cluster URL is then refused: failed_precondition).
  PostgresClusters(PostgresOptions own, PostgresProjectStores::SchemaWatch watch)
      : own_(std::move(own)), watch_(watch) {}

  domain::Result<std::shared_ptr<application::ProjectStores>> Open(
      const domain::Placement& placement) override;
  domain::Result<void> DropDatabase(const domain::Placement& placement) override;

 private:
  domain::Result<std::string> ClusterUrl(const domain::Placement& placement) const;

  PostgresOptions own_;
  PostgresProjectStores::SchemaWatch watch_;
};

/// The libpq connection string `url` (a URI or key=value pairs) with its database replaced by
/// `database`, as key=value pairs. invalid_argument when `url` does not parse.
domain::Result<std::string> WithDatabase(std::string_view url, std::string_view database);

}  // namespace socle::adapters::postgres
