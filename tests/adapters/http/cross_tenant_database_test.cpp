// Cross-tenant isolation on PostgreSQL, proven by the database itself over the data the API
// wrote: the world of cross_tenant_world.hpp is built through the server over
// PostgresCatalogueStore and PostgresProjectStores, then raw libpq sessions write SQL by hand,
// as a bug in generated SQL or a stolen connection would:
//   - switched to alpha's main project role (SET ROLE socle_p_<id>), every table of bravo's
//     projects, of alpha's other project, of the platform store and of the catalogue is refused
//     (42501), while alpha's own tables answer with the records the API wrote;
//   - as socle_tenant with socle.org_id set to alpha's organisation, every row of the access
//     tables is alpha's, and there are as many as the login role counts for alpha; bravo's
//     organisation, set the same way, sees only bravo's; no organisation set, nothing.
// tests/adapters/postgres/project_isolation_test.cpp and access_rls_test.cpp prove the same at
// the adapter's level with data of their own.
#include <libpq-fe.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "cross_tenant_stores.hpp"
#include "cross_tenant_world.hpp"

using socle::testing::CrossTenant;
using socle::testing::CrossTenantWorld;

namespace {

constexpr char kInsufficientPrivilege[] = "42501";

// A libpq session for hand-written SQL: every outcome comes back, refusals included.
class RawSession final {
 public:
  struct Outcome {
    std::string sqlstate;  // "" when the statement succeeded
    std::string message;
    std::vector<std::vector<std::optional<std::string>>> rows;
  };

  explicit RawSession(const std::string& url) {
    const char* keys[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {url.c_str(), "10", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string message = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      throw std::runtime_error("cannot connect: " + message);
    }
  }
  ~RawSession() { PQfinish(conn_); }
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;

  Outcome Run(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    std::unique_ptr<PGresult, decltype(&PQclear)> result(
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                     values.data(), nullptr, nullptr, 0),
        &PQclear);
    Outcome out;
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      out.sqlstate = state != nullptr ? state : "?????";
      out.message = PQresultErrorMessage(result.get());
      return out;
    }
    for (int r = 0; r < PQntuples(result.get()); ++r) {
      std::vector<std::optional<std::string>> row;
      for (int c = 0; c < PQnfields(result.get()); ++c) {
        if (PQgetisnull(result.get(), r, c) != 0) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(PQgetvalue(result.get(), r, c));
        }
      }
      out.rows.push_back(std::move(row));
    }
    return out;
  }

  // A statement that sets the scene: it must succeed.
  Outcome Ok(const std::string& sql, const std::vector<std::string>& params = {}) {
    Outcome out = Run(sql, params);
    if (!out.sqlstate.empty()) throw std::runtime_error(sql + ": " + out.message);
    return out;
  }
  // The first column of every row.
  std::vector<std::string> Column(const std::string& sql,
                                  const std::vector<std::string>& params = {}) {
    std::vector<std::string> out;
    for (const auto& row : Ok(sql, params).rows) out.push_back(row.at(0).value_or("<null>"));
    return out;
  }

 private:
  PGconn* conn_;
};

std::string Quoted(const std::string& identifier) { return "\"" + identifier + "\""; }

// Every table of `schema`, schema-qualified and quoted, as the login role lists them.
std::vector<std::string> TablesOf(RawSession& login, const std::string& schema) {
  std::vector<std::string> tables;
  for (const auto& name : login.Column("SELECT tablename FROM pg_catalog.pg_tables"
                                       " WHERE schemaname = $1 ORDER BY tablename",
                                       {schema})) {
    tables.push_back(Quoted(schema) + "." + Quoted(name));
  }
  return tables;
}

// The tables row-level security keys by organisation (migrations/postgres/0003_access.sql).
const std::vector<std::string> kAccessTables = {
    "socle.memberships", "socle.invitations", "socle.teams", "socle.team_members",
    "socle.roles",       "socle.policies",    "socle.flags",
};

}  // namespace

TEST_CASE("cross-tenant: alpha's project role reads none of bravo's tables, nor the catalogue",
          "[http][tenancy][cross-tenant][database]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  REQUIRE(!stores->database_url().empty());
  CrossTenantWorld world(*stores);
  const CrossTenant& a = world.alpha;
  const CrossTenant& b = world.bravo;
  RawSession login(stores->database_url());

  // What the API wrote, as the login role sees it: every project has its tables and records.
  const std::string a_schema = "p_" + a.main.id;
  const auto own_tables = TablesOf(login, a_schema);
  std::vector<std::string> foreign;  // tables alpha's main project must not reach
  for (const std::string& schema : {"p_" + b.main.id, "p_" + b.second.id, "p_" + a.second.id}) {
    const auto tables = TablesOf(login, schema);
    INFO(schema);
    REQUIRE(tables.size() >= 3);  // users, posts, notes and the internal tables
    foreign.insert(foreign.end(), tables.begin(), tables.end());
  }
  // The platform store (members, sessions, API keys) is a schema of its own, like a project's.
  const auto platform_schemas = login.Column(
      "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname LIKE 'p\\_%' AND nspname NOT IN"
      " ($1, $2, $3, $4) ORDER BY nspname",
      {a_schema, "p_" + a.second.id, "p_" + b.main.id, "p_" + b.second.id});
  REQUIRE(platform_schemas.size() == 1);
  const auto platform_tables = TablesOf(login, platform_schemas.front());
  REQUIRE(!platform_tables.empty());
  foreign.insert(foreign.end(), platform_tables.begin(), platform_tables.end());
  // The catalogue: no project role has any business in it.
  for (const auto& table : login.Column("SELECT 'socle.' || tablename FROM pg_catalog.pg_tables"
                                        " WHERE schemaname = 'socle' ORDER BY tablename")) {
    foreign.push_back(table);
  }
  CHECK(std::count(foreign.begin(), foreign.end(), "socle.memberships") == 1);
  const std::string b_posts = Quoted("p_" + b.main.id) + "." + Quoted("posts");
  REQUIRE(login.Column("SELECT count(*) FROM " + b_posts) ==
          std::vector<std::string>{std::to_string(b.main.record_ids.at("posts").size())});

  // Switched to alpha's main project role, as the server's pooled connections are.
  login.Ok("SET ROLE " + Quoted("socle_p_" + a.main.id));
  CHECK(login.Column("SELECT current_user") == std::vector<std::string>{"socle_p_" + a.main.id});
  for (const auto& table : foreign) {
    const auto select = login.Run("SELECT * FROM " + table);
    INFO("SELECT * FROM " << table << " → " << select.sqlstate << " " << select.message);
    CHECK(select.sqlstate == kInsufficientPrivilege);
    CHECK(select.rows.empty());
  }
  // The control: the same role reads its own project's records, which the API wrote.
  std::set<std::string> titles;
  for (const auto& title :
       login.Column("SELECT title FROM " + Quoted(a_schema) + "." + Quoted("posts"))) {
    titles.insert(title);
  }
  CHECK(titles == std::set<std::string>{a.name + " main post of user 1",
                                        a.name + " main post of user 2"});
  CHECK(own_tables.size() >= 3);
  // A join reaching across is refused as a whole.
  const auto joined = login.Run("SELECT a.title FROM " + Quoted(a_schema) + "." +
                                Quoted("posts") + " AS a JOIN " + b_posts + " AS b ON true");
  CHECK(joined.sqlstate == kInsufficientPrivilege);
  login.Ok("RESET ROLE");
}

TEST_CASE("cross-tenant: as socle_tenant, an organisation's scope holds its own access rows only",
          "[http][tenancy][cross-tenant][database]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  REQUIRE(!stores->database_url().empty());
  CrossTenantWorld world(*stores);
  const CrossTenant& a = world.alpha;
  const CrossTenant& b = world.bravo;
  RawSession session(stores->database_url());

  // What each organisation holds, as the login role (which bypasses row-level security as the
  // test cluster's superuser) counts it: the API wrote rows of both in every table.
  auto count_as_login = [&](const std::string& table, const std::string& org) {
    return session.Column("SELECT count(*) FROM " + table + " WHERE org_id = $1", {org}).at(0);
  };
  for (const auto& table : kAccessTables) {
    INFO(table);
    CHECK(count_as_login(table, a.org_id) != "0");
    CHECK(count_as_login(table, b.org_id) != "0");
  }
  std::map<std::string, std::string> a_counts, b_counts;
  for (const auto& table : kAccessTables) {
    a_counts[table] = count_as_login(table, a.org_id);
    b_counts[table] = count_as_login(table, b.org_id);
  }

  // Hand-written, with no "WHERE org_id": what the scope lets through is the organisation's.
  auto scoped = [&](const std::optional<std::string>& org, const std::string& sql) {
    session.Ok("BEGIN");
    session.Ok("SET LOCAL ROLE socle_tenant");
    if (org) session.Ok("SELECT set_config('socle.org_id', $1, true)", {*org});
    auto out = session.Run(sql);
    session.Ok("ROLLBACK");
    return out;
  };
  for (const auto* tenant : {&a, &b}) {
    const auto& counts = tenant == &a ? a_counts : b_counts;
    for (const auto& table : kAccessTables) {
      const auto rows = scoped(tenant->org_id, "SELECT org_id FROM " + table);
      INFO(tenant->slug << ": SELECT org_id FROM " << table << " → " << rows.sqlstate << " "
                        << rows.message);
      REQUIRE(rows.sqlstate.empty());
      CHECK(std::to_string(rows.rows.size()) == counts.at(table));
      for (const auto& row : rows.rows) CHECK(row.at(0).value_or("") == tenant->org_id);
    }
    // The rows of SELECT * name nothing of the other organisation.
    const CrossTenant& other = tenant == &a ? b : a;
    for (const std::string table : {"socle.memberships", "socle.policies", "socle.teams"}) {
      const auto rows = scoped(tenant->org_id, "SELECT * FROM " + table);
      REQUIRE(rows.sqlstate.empty());
      REQUIRE(!rows.rows.empty());
      for (const auto& row : rows.rows) {
        for (const auto& cell : row) {
          const std::string text = cell.value_or("");
          for (const std::string& secret :
               {other.org_id, other.owner.id, other.editor.id, other.viewer.id, other.team,
                other.policy, other.owner.email, other.role}) {
            INFO(tenant->slug << " in " << table << ": " << text);
            CHECK(text.find(secret) == std::string::npos);
          }
        }
      }
    }
  }
  // The teams by name: alpha's scope sees "Alpha Works Night Shift" only.
  const auto teams = scoped(a.org_id, "SELECT name FROM socle.teams ORDER BY name");
  REQUIRE(teams.sqlstate.empty());
  REQUIRE(teams.rows.size() == 1);
  CHECK(teams.rows[0][0].value_or("") == a.name + " Night Shift");
  // Asking by the other organisation's id explicitly changes nothing.
  const auto asked = scoped(a.org_id, "SELECT count(*) FROM socle.memberships WHERE org_id = '" +
                                          b.org_id + "'");
  REQUIRE(asked.sqlstate.empty());
  CHECK(asked.rows[0][0].value_or("") == "0");
  // No organisation in scope: nothing at all.
  for (const auto& table : kAccessTables) {
    const auto rows = scoped(std::nullopt, "SELECT org_id FROM " + table);
    INFO(table << " → " << rows.sqlstate << " " << rows.message);
    CHECK(rows.rows.empty());
  }
}
