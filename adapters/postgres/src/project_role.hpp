#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/id.hpp"

// Each project's records are reached through a database role of its own, socle_p_<project id>:
// NOLOGIN, no attribute, a member of nothing, with USAGE on the project's schema p_<id> and the
// record privileges on its tables, nothing on schema socle or any other project's schema. The
// login role of the pools is made a member of every project role so that a pooled session can
// SET ROLE to the project it serves: a wrong schema in a generated statement or a hand-written
// query then fails with permission denied instead of reaching another tenant's data.
//
// Roles are cluster-wide while schemas and grants are per database: several databases of one
// cluster may hold the same project id (the test suites do), so creating a role tolerates a
// concurrent creator and dropping one leaves it to the last database that still grants it
// something.
namespace socle::adapters::postgres {

/// The name of the role a project's statements run as: socle_p_<project id>.
std::string ProjectRoleName(const domain::Id& project_id);

/// The privileges a project role holds on each table of its project's schema.
inline constexpr std::string_view kRecordTablePrivileges = "SELECT, INSERT, UPDATE, DELETE";

/// The statement granting `role` kRecordTablePrivileges on `table`; both already quoted
/// (`table` qualified). A collection table is granted in the transaction that creates it.
std::string GrantRecordTable(std::string_view table, std::string_view role);

/// Creates the role of `project_id` unless it exists (a role created meanwhile by another
/// database's transaction is taken as it is) and makes the current (login) role a member of
/// it. Preconditions: inside a transaction (savepoints keep it usable when a concurrent
/// creator wins), as the login role, which needs CREATEROLE or superuser.
domain::Result<void> EnsureProjectRole(Connection& conn, const domain::Id& project_id);

/// Grants the role of `project_id` USAGE on `schema` (quoted), kRecordTablePrivileges on every
/// table in it and USAGE, SELECT on every sequence in it; nothing else. Idempotent. Run as the
/// login role, which owns the schema.
domain::Result<void> GrantProjectSchema(Connection& conn, std::string_view schema,
                                        const domain::Id& project_id);

/// Drops the role of `project_id`: DROP OWNED BY revokes what this database grants it (the
/// role owns nothing), then DROP ROLE, unless another database of the cluster still grants it
/// something (that database drops it when its own project goes). Nothing when the role does
/// not exist. For the catalogue, in the transaction that drops the project's schema.
/// Precondition: inside a transaction (a savepoint keeps it usable when another database still
/// needs the role), as a role that is a member of the project role and has CREATEROLE.
domain::Result<void> DropProjectRole(Connection& conn, const domain::Id& project_id);

/// The role a pooled session runs as, tracked beside its connection so that switching costs a
/// round trip only when the role changes: a connection that keeps serving one project pays
/// nothing. A switch whose outcome was not seen leaves the role unknown, and the next request
/// switches again whatever it needs. Used by one thread at a time, like its connection.
class SessionRole final {
 public:
  /// Makes `conn`'s statements run as `role` (quoted by QuoteIdentifier) unless they do
  /// already. Precondition: `conn` is the connection this object follows and has no open
  /// transaction (a rollback would undo the switch behind the tracker's back), as when it
  /// comes out of the pool. On failure, the role is unknown.
  domain::Result<void> Use(Connection& conn, const std::string& role);
  /// Makes `conn`'s statements run as the login role again (RESET ROLE) unless they do
  /// already: for DDL and anything else outside one project. Same preconditions as Use.
  domain::Result<void> UseLogin(Connection& conn);

  /// The role as tracked: "" for the login role, the quoted role otherwise, std::nullopt when
  /// unknown (diagnostics and tests).
  const std::optional<std::string>& current() const noexcept { return current_; }

 private:
  domain::Result<void> Switch(Connection& conn, const std::string& sql, const std::string& role);

  // A new session runs as the role it logged in as.
  std::optional<std::string> current_ = std::string();
};

}  // namespace socle::adapters::postgres
