#include "project_role.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <utility>

#include "socle/adapters/postgres/identifier.hpp"

namespace socle::adapters::postgres {

using domain::Fail;
using domain::Result;

namespace {

constexpr Statement kRoleExists{
    "", "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1::text)", 1};

// DDL cannot take parameters: "@r" stands for the quoted role, "@s" for the quoted schema.
// A project role can do nothing on its own: no login, no attribute, and NOINHERIT so that a
// membership granted to it by mistake would still not lend it another role's privileges.
constexpr std::string_view kCreateRole =
    "CREATE ROLE @r NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION"
    " NOBYPASSRLS";
// Without the membership the login role could not SET ROLE (unless a superuser).
constexpr std::string_view kGrantMembership = "GRANT @r TO CURRENT_USER";
// No CREATE on the schema: only the login role changes its tables (ApplySchema).
constexpr std::string_view kGrantSchema =
    "GRANT USAGE ON SCHEMA @s TO @r;"
    " GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA @s TO @r;"
    " GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA @s TO @r";
// The tables there now and those ApplySchema creates later (GrantRecordTable) alike.
static_assert(kGrantSchema.find(std::string("GRANT ") + std::string(kRecordTablePrivileges) +
                                " ON ALL TABLES") != std::string_view::npos);
// This database's grants (and any default privileges naming the role) go first: DROP ROLE
// refuses a role that is still granted something. The role owns nothing.
constexpr std::string_view kDropOwned = "DROP OWNED BY @r";
constexpr std::string_view kDropRole = "DROP ROLE IF EXISTS @r";

// The SQLSTATEs of a role (or a membership) that another transaction created first: CREATE
// ROLE reports duplicate_object when the other one committed before it looked, and
// unique_violation when both inserted at once into the catalogue's unique index.
constexpr std::array<std::string_view, 2> kCreatedMeanwhile = {"42710", "23505"};
// DROP ROLE while another database still grants the role something.
constexpr std::array<std::string_view, 1> kStillUsedElsewhere = {"2BP01"};

constexpr char kSavepoint[] = "SAVEPOINT socle_project_role";
constexpr char kRollbackToSavepoint[] = "ROLLBACK TO SAVEPOINT socle_project_role";
constexpr char kReleaseSavepoint[] = "RELEASE SAVEPOINT socle_project_role";

// Runs `sql` under a savepoint, so that a failure with one of the `tolerated` SQLSTATEs is
// undone without failing the enclosing transaction. Whether `sql` succeeded.
Result<bool> RunTolerating(Connection& conn, const std::string& sql,
                           std::span<const std::string_view> tolerated) {
  if (auto saved = conn.Script(kSavepoint); !saved) return Fail(saved.error());
  auto done = conn.Script(sql);
  if (!done) {
    const std::string sqlstate = conn.last_sqlstate();
    if (std::find(tolerated.begin(), tolerated.end(), sqlstate) == tolerated.end()) {
      return Fail(std::move(done.error()));
    }
    if (auto back = conn.Script(kRollbackToSavepoint); !back) return Fail(back.error());
  }
  if (auto released = conn.Script(kReleaseSavepoint); !released) return Fail(released.error());
  return done.has_value();
}

// `tmpl` with "@r" replaced by `role` and "@s" by `schema`.
std::string Fill(std::string_view tmpl, std::string_view role, std::string_view schema = {}) {
  std::string out;
  out.reserve(tmpl.size() + 4 * (role.size() + schema.size()));
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '@' && i + 1 < tmpl.size() && (tmpl[i + 1] == 'r' || tmpl[i + 1] == 's')) {
      out += tmpl[i + 1] == 'r' ? role : schema;
      ++i;
    } else {
      out += tmpl[i];
    }
  }
  return out;
}

Result<bool> RoleExists(Connection& conn, const std::string& name) {
  auto rows = conn.Execute(kRoleExists, {name});
  if (!rows) return Fail(rows.error());
  return rows->Rows() == 1 && rows->Text(0, 0) == "t";
}

}  // namespace

std::string ProjectRoleName(const domain::Id& project_id) { return "socle_p_" + project_id.str(); }

std::string GrantRecordTable(std::string_view table, std::string_view role) {
  return "GRANT " + std::string(kRecordTablePrivileges) + " ON TABLE " + std::string(table) +
         " TO " + std::string(role);
}

Result<void> EnsureProjectRole(Connection& conn, const domain::Id& project_id) {
  const std::string name = ProjectRoleName(project_id);
  auto role = QuoteIdentifier(name);
  if (!role) return Fail(role.error());
  auto exists = RoleExists(conn, name);
  if (!exists) return Fail(exists.error());
  if (!*exists) {
    auto created = RunTolerating(conn, Fill(kCreateRole, *role), kCreatedMeanwhile);
    if (!created) return Fail(created.error());
  }
  // Granting it again is a no-op (a notice); two databases granting it at once collide on the
  // catalogue's unique index, and the membership exists either way.
  auto member = RunTolerating(conn, Fill(kGrantMembership, *role), kCreatedMeanwhile);
  if (!member) return Fail(member.error());
  return {};
}

Result<void> GrantProjectSchema(Connection& conn, std::string_view schema,
                                const domain::Id& project_id) {
  auto role = QuoteIdentifier(ProjectRoleName(project_id));
  if (!role) return Fail(role.error());
  auto granted = conn.Script(Fill(kGrantSchema, *role, schema));
  if (!granted) return Fail(granted.error());
  return {};
}

Result<void> DropProjectRole(Connection& conn, const domain::Id& project_id) {
  const std::string name = ProjectRoleName(project_id);
  auto role = QuoteIdentifier(name);
  if (!role) return Fail(role.error());
  auto exists = RoleExists(conn, name);
  if (!exists) return Fail(exists.error());
  if (!*exists) return {};
  if (auto owned = conn.Script(Fill(kDropOwned, *role)); !owned) return Fail(owned.error());
  auto dropped = RunTolerating(conn, Fill(kDropRole, *role), kStillUsedElsewhere);
  if (!dropped) return Fail(dropped.error());
  return {};
}

Result<void> SessionRole::Use(Connection& conn, const std::string& role) {
  if (current_ && *current_ == role) return {};
  return Switch(conn, "SET ROLE " + role, role);
}

Result<void> SessionRole::UseLogin(Connection& conn) {
  if (current_ && current_->empty()) return {};
  return Switch(conn, "RESET ROLE", std::string());
}

Result<void> SessionRole::Switch(Connection& conn, const std::string& sql,
                                 const std::string& role) {
  // Unknown until the server confirms: a statement that timed out may or may not have run.
  current_.reset();
  auto done = conn.Script(sql);
  if (!done) return Fail(std::move(done.error()));
  current_ = role;
  return {};
}

}  // namespace socle::adapters::postgres
