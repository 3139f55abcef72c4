// Row-level security of the access tables (migrations/postgres/0003_access.sql), seen from the
// attacker's side: two organisations get rows in every access table through the adapter, then
// raw libpq sessions run hand-written SQL as the role socle_tenant, as a statement of the
// adapter that forgot its "org_id = $1" would, and find only the organisation in scope. Then
// what the role may not touch at all, that FORCE holds for the tables' owner, that the store's
// statements really run as socle_tenant, and a deployment whose login role is not a superuser.
// Each case gets a throwaway database; roles are cluster-wide, so a role a case creates is
// named after its database and dropped with it.
#include <libpq-fe.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "socle/adapters/migration.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "support/must.hpp"
#include "support/postgres_test_database.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::postgres::PostgresCatalogueStore;
using adapters::postgres::PostgresOptions;
using application::DeleteMode;
using application::PolicyChange;
using socle::testing::Must;
using socle::testing::PgRow;
using socle::testing::PostgresTestDatabase;

namespace {

// ---- a raw session -----------------------------------------------------------------------------

// What one statement did: its rows, the rows it changed, or the SQLSTATE it failed with.
struct Outcome {
  std::string sqlstate;  // "" when it succeeded
  std::string message;
  std::vector<PgRow> rows;
  std::int64_t affected = 0;
  bool ok() const { return sqlstate.empty(); }
};

// A libpq session writing its own SQL. Every outcome is returned, failures included: the
// point of these tests is what the server refuses.
class RawSession final {
 public:
  explicit RawSession(const std::string& url) {
    const char* keys[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {url.c_str(), "10", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string message = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      throw std::runtime_error("cannot connect to " + url + ": " + message);
    }
  }
  ~RawSession() { PQfinish(conn_); }
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;

  // One statement, values bound to $1, $2 ...
  Outcome Run(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    return Read(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0));
  }
  // A named prepared statement, then its executions.
  Outcome Prepare(const std::string& name, const std::string& sql) {
    return Read(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
  }
  Outcome Execute(const std::string& name, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    return Read(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                               values.data(), nullptr, nullptr, 0));
  }
  // Several statements in one simple-protocol message.
  Outcome Script(const std::string& sql) { return Read(PQexec(conn_, sql.c_str())); }

  // A statement that must succeed (setting the scene, not what is tested).
  Outcome Ok(const std::string& sql, const std::vector<std::string>& params = {}) {
    auto outcome = Run(sql, params);
    if (!outcome.ok()) {
      throw std::runtime_error("setup statement failed: " + sql + ": " + outcome.message);
    }
    return outcome;
  }
  std::string Value(const std::string& sql, const std::vector<std::string>& params = {}) {
    auto outcome = Ok(sql, params);
    if (outcome.rows.empty() || outcome.rows[0].empty()) {
      throw std::runtime_error("no value from: " + sql);
    }
    return outcome.rows[0][0].value_or("");
  }
  std::int64_t Count(const std::string& sql, const std::vector<std::string>& params = {}) {
    return std::stoll(Value(sql, params));
  }

 private:
  static Outcome Read(PGresult* raw) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(raw, &PQclear);
    Outcome out;
    const auto status = PQresultStatus(raw);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
      out.sqlstate = state != nullptr ? state : "?????";
      out.message = PQresultErrorMessage(raw);
      return out;
    }
    for (int r = 0; r < PQntuples(raw); ++r) {
      PgRow row;
      for (int c = 0; c < PQnfields(raw); ++c) {
        if (PQgetisnull(raw, r, c) != 0) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(raw, r, c),
                                       static_cast<std::size_t>(PQgetlength(raw, r, c))));
        }
      }
      out.rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(raw);
    out.affected = tuples != nullptr && *tuples != '\0' ? std::stoll(tuples) : 0;
    return out;
  }

  PGconn* conn_;
};

constexpr char kInsufficientPrivilege[] = "42501";  // also "new row violates row-level security"

// Opens a transaction as socle_tenant, the way the adapter does, with the settings given
// (none: the settings are not touched).
void BecomeTenant(RawSession& session, const std::optional<std::string>& org_id,
                  const std::optional<std::string>& scope = std::nullopt) {
  session.Ok("BEGIN");
  session.Ok("SET LOCAL ROLE socle_tenant");
  if (org_id) session.Ok("SELECT set_config('socle.org_id', $1, true)", {*org_id});
  if (scope) session.Ok("SELECT set_config('socle.scope', $1, true)", {*scope});
}

// ---- the data ----------------------------------------------------------------------------------

Id I(std::string_view text) { return Id::Parse(text).value(); }
Timestamp T(std::int64_t micros) { return Timestamp::FromUnixMicros(micros); }

// The ids of one organisation's rows.
struct Tenant {
  std::string org;
  std::string slug;
  std::string project;
  std::string owner;   // a member bound to "owner"
  std::string member;  // a member in the team
  std::string team;
  int n;
};

const Tenant kA{"orga00000000001", "acme", "prja00000000001", "mema00000000001",
                "mema00000000002", "teama0000000001", 1};
const Tenant kB{"orgb00000000001", "bigco", "prjb00000000001", "memb00000000001",
                "memb00000000002", "teamb0000000001", 2};

std::string PolicyId(const Tenant& t, int k) {
  return "pol" + std::to_string(t.n) + std::string(10, '0') + std::to_string(k);
}

StoredPolicy MemberPolicy(const std::string& id, const Tenant& t, const std::string& member,
                          std::string role, std::optional<std::string> project = std::nullopt) {
  return StoredPolicy{Policy{id, RbacSubject{RbacSubject::Kind::kMember, member},
                             std::move(role), t.org, std::move(project)},
                      T(1'700'000'000'000'000), "system"};
}

// Gives `t` rows in every access table, through the adapter.
void Populate(PostgresCatalogueStore& store, const Tenant& t) {
  const auto at = T(1'700'000'000'000'000);
  Must(store.InsertOrganisation(Organisation{I(t.org), Slug::Parse(t.slug).value(),
                                             DisplayName::Parse("Org").value(),
                                             Slug::Parse("local").value(), IsolationTier::kShared,
                                             at, at}),
       "organisation");
  Must(store.InsertProject(Project{I(t.project), Slug::Parse(t.slug + "-shop").value(),
                                   DisplayName::Parse("Shop").value(), I(t.org),
                                   Slug::Parse(t.slug).value(), at, at}),
       "project");
  Must(store.InsertMembership(Membership{I(t.org), t.owner, "owner@example.com", at},
                              {MemberPolicy(PolicyId(t, 1), t, t.owner, "owner")}),
       "owner");
  Must(store.InsertMembership(
           Membership{I(t.org), t.member, "member@example.com", at},
           {MemberPolicy(PolicyId(t, 2), t, t.member, "project.editor", t.project)}),
       "member");
  Must(store.InsertTeam(Team{I(t.team), I(t.org), "Ops", "", at, at}), "team");
  Must(store.AddTeamMember(I(t.org), I(t.team), t.member), "team member");
  Must(store.PutRole(CustomRole{I(t.org),
                                Role{"billing", "Billing", RbacScope::kOrganisation, {"viewer"},
                                     {"records.read"}, false},
                                at, at}),
       "role");
  Must(store.ChangePolicies(
           I(t.org), PolicyChange{{},
                                  {StoredPolicy{Policy{PolicyId(t, 3),
                                                       RbacSubject{RbacSubject::Kind::kTeam, t.team},
                                                       "billing", t.org, std::nullopt},
                                                at, "system"}}}),
       "team policy");
  const Invitation invitation{I("inv" + std::to_string(t.n) + std::string(10, '0') + "1"),
                              I(t.org),
                              "guest@example.com",
                              "billing",
                              t.project,
                              "binding-" + t.org,
                              "",
                              InvitationState::kPending,
                              at,
                              T(1'800'000'000'000'000),
                              std::nullopt};
  Must(store.InsertInvitation(invitation), "invitation");
  FeatureFlag flag;
  flag.key = "beta";
  flag.level = FlagLevel::kOrganisation;
  flag.org_id = t.org;
  flag.value = JsonValue::Bool(true);
  flag.updated = at;
  flag.updated_by = "system";
  Must(store.PutFlag(flag), "organisation flag");
  flag.level = FlagLevel::kUser;
  flag.subject = t.member;
  Must(store.PutFlag(flag), "user flag");
}

void PutGlobalFlag(PostgresCatalogueStore& store) {
  FeatureFlag flag;
  flag.key = "beta";
  flag.level = FlagLevel::kGlobal;
  flag.value = JsonValue::Bool(false);
  flag.updated = T(1'700'000'000'000'000);
  flag.updated_by = "system";
  Must(store.PutFlag(flag), "global flag");
}

// One access table and the hand-written statements an attacker would try on it. The insert
// takes $1 = org id, $2 = a team of that org, $3 = a member of it not yet in the team; it is
// valid for the organisation in scope (the control), so that its failure for another
// organisation can only be row-level security.
struct Table {
  std::string name;
  std::string insert;
  std::string update;  // "" when socle_tenant holds no UPDATE on the table
};

const std::vector<Table>& AccessTables() {
  static const std::vector<Table> tables = {
      {"socle.memberships",
       "INSERT INTO socle.memberships (org_id, member_id, email, created)"
       " SELECT $1, 'intruder', 'x@example.com', now() WHERE $2 <> $3",
       ""},
      {"socle.invitations",
       "INSERT INTO socle.invitations (id, org_id, email, role, token_binding, invited_by, state,"
       " created, expires) SELECT 'intr00000000001', $1, 'x@example.com', 'viewer',"
       " 'intruder-token', '', 'pending', now(), now() WHERE $2 <> $3",
       "UPDATE socle.invitations SET email = email WHERE org_id = $1"},
      {"socle.teams",
       "INSERT INTO socle.teams (id, org_id, name, description, created, updated)"
       " SELECT 'intr00000000001', $1, 'Intruders', '', now(), now() WHERE $2 <> $3",
       "UPDATE socle.teams SET description = description WHERE org_id = $1"},
      {"socle.team_members",
       "INSERT INTO socle.team_members (org_id, team_id, member_id) VALUES ($1, $2, $3)", ""},
      {"socle.roles",
       "INSERT INTO socle.roles (org_id, id, name, scope, parents, permissions, created, updated)"
       " SELECT $1, 'intruder', 'I', 'organisation', '{}', '{}', now(), now() WHERE $2 <> $3",
       "UPDATE socle.roles SET name = name WHERE org_id = $1"},
      {"socle.policies",
       "INSERT INTO socle.policies (id, org_id, subject_kind, subject_id, role, created,"
       " created_by) SELECT 'intr00000000001', $1, 'member', 'intruder', 'owner', now(), 'system'"
       " WHERE $2 <> $3",
       "UPDATE socle.policies SET created_by = created_by WHERE org_id = $1"},
      {"socle.flags",
       "INSERT INTO socle.flags (org_id, key, level, subject, value, description, updated,"
       " updated_by) SELECT $1, 'intrusion', 'organisation', '', 'true', '', now(), 'x'"
       " WHERE $2 <> $3",
       "UPDATE socle.flags SET description = description WHERE org_id = $1"},
  };
  return tables;
}

// A throwaway database migrated by a store, with A and B populated and a global flag.
struct Populated {
  PostgresTestDatabase db;
  std::unique_ptr<PostgresCatalogueStore> store;

  explicit Populated(std::size_t pool_size = 4)
      : store(Must(PostgresCatalogueStore::Open({.url = db.url(), .pool_size = pool_size}),
                   "open")) {
    Must(store->Migrate(), "migrate");
    Populate(*store, kA);
    Populate(*store, kB);
    PutGlobalFlag(*store);
  }

  // Rows of `table` with this org_id, as the superuser (who bypasses row-level security) sees.
  std::int64_t Rows(const std::string& table, const std::string& org_id) const {
    return std::stoll(db.Value("SELECT count(*) FROM " + table + " WHERE org_id = $1", {org_id}));
  }
};

// A URL for the same database as `url`, logging in as `user`.
std::string UrlAs(const std::string& url, const std::string& user) {
  const auto at = url.find("user=");
  if (at == std::string::npos) {
    return url + (url.find('?') == std::string::npos ? "?user=" : "&user=") + user;
  }
  const auto end = url.find('&', at);
  return url.substr(0, at) + "user=" + user + (end == std::string::npos ? "" : url.substr(end));
}

}  // namespace

// ---- (a) one organisation in scope -------------------------------------------------------------

TEST_CASE("access rls: scoped to A, socle_tenant reads, changes and adds A's rows only",
          "[postgres][access][rls]") {
  Populated p;
  RawSession attacker(p.db.url());
  for (const Table& table : AccessTables()) {
    INFO(table.name);
    const std::int64_t a_rows = p.Rows(table.name, kA.org);
    const std::int64_t b_rows = p.Rows(table.name, kB.org);
    const std::int64_t global_rows = p.Rows(table.name, "");
    REQUIRE(a_rows > 0);  // the adapter wrote rows for both, or this proves nothing
    REQUIRE(b_rows > 0);
    const bool flags = table.name == "socle.flags";
    CHECK(global_rows == (flags ? 1 : 0));

    BecomeTenant(attacker, kA.org);
    // Everything visible is A's (and the global flags, which every organisation reads).
    auto all = attacker.Run("SELECT org_id FROM " + table.name);
    REQUIRE(all.ok());
    std::set<std::string> orgs;
    for (const auto& row : all.rows) orgs.insert(row[0].value_or("NULL"));
    CHECK(orgs == (flags ? std::set<std::string>{"", kA.org} : std::set<std::string>{kA.org}));
    CHECK(static_cast<std::int64_t>(all.rows.size()) == a_rows + global_rows);
    // Asking for B by name finds nothing.
    CHECK(attacker.Count("SELECT count(*) FROM " + table.name + " WHERE org_id = $1",
                         {kB.org}) == 0);
    // Changing B's rows changes none, or is not allowed at all.
    if (!table.update.empty()) {
      auto updated = attacker.Run(table.update, {kB.org});
      REQUIRE(updated.ok());
      CHECK(updated.affected == 0);
    } else {
      CHECK(attacker.Run("UPDATE " + table.name + " SET org_id = org_id WHERE org_id = $1",
                         {kB.org})
                .sqlstate == kInsufficientPrivilege);
      attacker.Ok("ROLLBACK");
      BecomeTenant(attacker, kA.org);
    }
    auto deleted = attacker.Run("DELETE FROM " + table.name + " WHERE org_id = $1", {kB.org});
    REQUIRE(deleted.ok());
    CHECK(deleted.affected == 0);
    // A DELETE without any condition reaches A's rows only (rolled back below).
    auto wiped = attacker.Run("DELETE FROM " + table.name);
    REQUIRE(wiped.ok());
    CHECK(wiped.affected == a_rows);
    attacker.Ok("ROLLBACK");

    // The same insert succeeds for A (the control) and is refused for B (WITH CHECK).
    BecomeTenant(attacker, kA.org);
    auto for_a = attacker.Run(table.insert, {kA.org, kA.team, kA.owner});
    CHECK(for_a.message == "");
    CHECK(for_a.affected == 1);
    attacker.Ok("ROLLBACK");
    BecomeTenant(attacker, kA.org);
    auto for_b = attacker.Run(table.insert, {kB.org, kB.team, kB.owner});
    CHECK(for_b.sqlstate == kInsufficientPrivilege);
    CHECK(for_b.message.find("row-level security") != std::string::npos);
    attacker.Ok("ROLLBACK");

    // Moving one of A's rows to B is refused too.
    if (!table.update.empty()) {
      BecomeTenant(attacker, kA.org);
      auto moved = attacker.Run("UPDATE " + table.name + " SET org_id = $2 WHERE org_id = $1",
                                {kA.org, kB.org});
      CHECK(moved.sqlstate == kInsufficientPrivilege);
      attacker.Ok("ROLLBACK");
    }
    CHECK(p.Rows(table.name, kA.org) == a_rows);
    CHECK(p.Rows(table.name, kB.org) == b_rows);
  }
}

TEST_CASE("access rls: an organisation reads the global flags but never writes them",
          "[postgres][access][rls]") {
  Populated p;
  RawSession attacker(p.db.url());
  BecomeTenant(attacker, kA.org);
  CHECK(attacker.Count("SELECT count(*) FROM socle.flags WHERE org_id = ''") == 1);
  auto updated = attacker.Run("UPDATE socle.flags SET value = 'true' WHERE org_id = ''");
  REQUIRE(updated.ok());
  CHECK(updated.affected == 0);
  auto deleted = attacker.Run("DELETE FROM socle.flags WHERE org_id = ''");
  REQUIRE(deleted.ok());
  CHECK(deleted.affected == 0);
  auto inserted = attacker.Run(
      "INSERT INTO socle.flags (org_id, key, level, subject, value, description, updated,"
      " updated_by) VALUES ('', 'gamma', 'global', '', 'true', '', now(), 'x')");
  CHECK(inserted.sqlstate == kInsufficientPrivilege);
  attacker.Ok("ROLLBACK");
  CHECK(p.db.Value("SELECT value::text FROM socle.flags WHERE org_id = ''") == "false");
}

// ---- (b) no organisation in scope --------------------------------------------------------------

TEST_CASE("access rls: with no organisation set, socle_tenant sees nothing",
          "[postgres][access][rls]") {
  Populated p;
  RawSession attacker(p.db.url());
  SECTION("never set in the session") {
    BecomeTenant(attacker, std::nullopt);
    CHECK(attacker.Value("SELECT current_setting('socle.org_id', true) IS NULL") == "t");
  }
  SECTION("set to the empty string") { BecomeTenant(attacker, std::string()); }
  SECTION("set by an earlier transaction of the session, which ended") {
    // What a pooled connection looks like once an access transaction returned it: the
    // setting reads '' from then on, not NULL.
    BecomeTenant(attacker, kA.org);
    attacker.Ok("COMMIT");
    BecomeTenant(attacker, std::nullopt);
    CHECK(attacker.Value("SELECT current_setting('socle.org_id', true)") == "");
  }
  SECTION("a scope other than the platform's") {
    BecomeTenant(attacker, std::nullopt, std::string("Platform"));
  }
  for (const Table& table : AccessTables()) {
    INFO(table.name);
    CHECK(attacker.Count("SELECT count(*) FROM " + table.name) == 0);
    auto deleted = attacker.Run("DELETE FROM " + table.name);
    REQUIRE(deleted.ok());
    CHECK(deleted.affected == 0);
  }
  attacker.Ok("ROLLBACK");
}

TEST_CASE("access rls: platform scope reaches only what the cross-organisation methods need",
          "[postgres][access][rls]") {
  Populated p;
  RawSession attacker(p.db.url());
  BecomeTenant(attacker, std::nullopt, std::string("platform"));
  // MemberOrganisations and FindInvitation read across organisations...
  CHECK(attacker.Count("SELECT count(*) FROM socle.memberships") ==
        p.Rows("socle.memberships", kA.org) + p.Rows("socle.memberships", kB.org));
  CHECK(attacker.Count("SELECT count(*) FROM socle.invitations") ==
        p.Rows("socle.invitations", kA.org) + p.Rows("socle.invitations", kB.org));
  // ... and nothing else of any organisation.
  for (const char* table : {"socle.teams", "socle.team_members", "socle.roles",
                            "socle.policies"}) {
    INFO(table);
    CHECK(attacker.Count(std::string("SELECT count(*) FROM ") + table) == 0);
  }
  CHECK(attacker.Count("SELECT count(*) FROM socle.flags") == 1);  // the global one
  CHECK(attacker.Count("SELECT count(*) FROM socle.flags WHERE org_id <> ''") == 0);
  // Memberships are only read there: no change of any organisation's.
  auto left = attacker.Run("DELETE FROM socle.memberships");
  REQUIRE(left.ok());
  CHECK(left.affected == 0);
  auto joined = attacker.Run(
      "INSERT INTO socle.memberships (org_id, member_id, email, created)"
      " VALUES ($1, 'intruder', 'x@example.com', now())",
      {kA.org});
  CHECK(joined.sqlstate == kInsufficientPrivilege);
  attacker.Ok("ROLLBACK");

  // PurgeInvitations deletes across organisations, and may update none.
  BecomeTenant(attacker, std::nullopt, std::string("platform"));
  auto touched = attacker.Run("UPDATE socle.invitations SET email = email");
  REQUIRE(touched.ok());
  CHECK(touched.affected == 0);
  auto purged = attacker.Run("DELETE FROM socle.invitations");
  REQUIRE(purged.ok());
  CHECK(purged.affected == 2);
  attacker.Ok("ROLLBACK");
}

// ---- (c) FORCE: the owner is filtered too ------------------------------------------------------

TEST_CASE("access rls: every access table enables and forces row-level security",
          "[postgres][access][rls]") {
  PostgresTestDatabase db;
  auto store = Must(PostgresCatalogueStore::Open({.url = db.url()}), "open");
  Must(store->Migrate(), "migrate");
  for (const Table& table : AccessTables()) {
    INFO(table.name);
    CHECK(db.Value("SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class"
                   " WHERE oid = $1::regclass",
                   {table.name}) == "t");
    // Every policy is for socle_tenant only: any other role that is subject to row-level
    // security (the owner, under FORCE) is admitted no row at all.
    CHECK(db.Value("SELECT count(*) FROM pg_catalog.pg_policies"
                   " WHERE schemaname || '.' || tablename = $1"
                   " AND roles <> ARRAY['socle_tenant']::name[]",
                   {table.name}) == "0");
  }
  // And socle_tenant itself cannot bypass them.
  CHECK(db.Value("SELECT rolsuper OR rolbypassrls OR rolcanlogin FROM pg_catalog.pg_roles"
                 " WHERE rolname = 'socle_tenant'") == "f");
}

TEST_CASE("access rls: FORCE filters the tables' owner when it is not a superuser",
          "[postgres][access][rls]") {
  Populated p;
  // Counted first: once the transaction below changed the owners, it holds the tables
  // locked against every other session until it ends.
  std::map<std::string, std::int64_t> a_rows;
  std::int64_t all_teams = p.Rows("socle.teams", kA.org) + p.Rows("socle.teams", kB.org);
  for (const Table& table : AccessTables()) a_rows[table.name] = p.Rows(table.name, kA.org);
  RawSession admin(p.db.url());
  // A non-superuser owner, in a transaction rolled back at the end (CREATE ROLE is
  // transactional): nothing of it outlives the case.
  const std::string owner = p.db.name() + "_owner";
  admin.Ok("BEGIN");
  admin.Ok("CREATE ROLE \"" + owner + "\" NOLOGIN");
  admin.Ok("GRANT USAGE ON SCHEMA socle TO \"" + owner + "\"");
  for (const Table& table : AccessTables()) {
    admin.Ok("ALTER TABLE " + table.name + " OWNER TO \"" + owner + "\"");
  }
  admin.Ok("SAVEPOINT owned");

  SECTION("an owner outside socle_tenant sees nothing, whatever it sets") {
    admin.Ok("SET LOCAL ROLE \"" + owner + "\"");
    admin.Ok("SELECT set_config('socle.org_id', $1, true)", {kA.org});
    admin.Ok("SELECT set_config('socle.scope', 'platform', true)");
    for (const Table& table : AccessTables()) {
      INFO(table.name);
      CHECK(admin.Count("SELECT count(*) FROM " + table.name) == 0);
    }
  }
  SECTION("an owner that is a member of socle_tenant, as the login role is, sees A's rows "
          "only when scoped to A, and none unscoped") {
    admin.Ok("GRANT socle_tenant TO \"" + owner + "\"");
    admin.Ok("SET LOCAL ROLE \"" + owner + "\"");
    for (const Table& table : AccessTables()) {
      INFO(table.name);
      CHECK(admin.Count("SELECT count(*) FROM " + table.name) == 0);
    }
    admin.Ok("SELECT set_config('socle.org_id', $1, true)", {kA.org});
    for (const Table& table : AccessTables()) {
      INFO(table.name);
      CHECK(admin.Count("SELECT count(*) FROM " + table.name + " WHERE org_id <> ''") ==
            a_rows[table.name]);
      CHECK(admin.Count("SELECT count(*) FROM " + table.name + " WHERE org_id = $1",
                        {kB.org}) == 0);
    }
  }
  SECTION("without FORCE the same owner would see every row (the control)") {
    admin.Ok("ALTER TABLE socle.teams NO FORCE ROW LEVEL SECURITY");
    admin.Ok("SET LOCAL ROLE \"" + owner + "\"");
    CHECK(admin.Count("SELECT count(*) FROM socle.teams") == all_teams);
  }
  admin.Ok("ROLLBACK");
}

// ---- (d) what socle_tenant cannot touch at all -------------------------------------------------

TEST_CASE("access rls: socle_tenant holds nothing on the catalogue tables nor on project schemas",
          "[postgres][access][rls]") {
  Populated p;
  const std::string schema = "p_" + kA.project;
  // A collection table of project A, as the project store would have made it.
  p.db.Query("CREATE TABLE " + schema + ".probe (id text PRIMARY KEY, secret text)");
  p.db.Query("INSERT INTO " + schema + ".probe VALUES ('r1', 'A''s data')");
  RawSession attacker(p.db.url());
  for (const char* sql :
       {"SELECT store_url FROM socle.regions", "SELECT count(*) FROM socle.organisations",
        "SELECT count(*) FROM socle.projects", "SELECT count(*) FROM socle.project_settings",
        "SELECT count(*) FROM socle.schema_migrations",
        "UPDATE socle.regions SET store_url = 'postgres://evil'",
        "DELETE FROM socle.organisations", "CREATE TABLE socle.evil (x int)",
        "CREATE FUNCTION socle.evil() RETURNS int LANGUAGE sql AS 'SELECT 1'"}) {
    INFO(sql);
    BecomeTenant(attacker, kA.org);
    CHECK(attacker.Run(sql).sqlstate == kInsufficientPrivilege);
    attacker.Ok("ROLLBACK");
  }
  for (const std::string& sql :
       {"SELECT secret FROM " + schema + ".probe", "DELETE FROM " + schema + ".probe",
        "CREATE TABLE " + schema + ".evil (x int)"}) {
    INFO(sql);
    BecomeTenant(attacker, kA.org);
    CHECK(attacker.Run(sql).sqlstate == kInsufficientPrivilege);
    attacker.Ok("ROLLBACK");
  }
  CHECK(p.db.Value("SELECT has_schema_privilege('socle_tenant', $1, 'USAGE')", {schema}) == "f");
  CHECK(p.db.Value("SELECT has_table_privilege('socle_tenant', 'socle.regions', 'SELECT')") ==
        "f");
  CHECK(p.db.Value("SELECT count(*) FROM " + schema + ".probe") == "1");
  CHECK(p.db.Value("SELECT count(*) FROM socle.organisations") == "2");
}

// ---- the store's side ----------------------------------------------------------------------------

TEST_CASE("access rls: the store's access statements run as socle_tenant",
          "[postgres][access][rls]") {
  // The test cluster's login role is a superuser, which row-level security never filters: only
  // a privilege taken from socle_tenant shows which role the statements ran as.
  Populated p;
  REQUIRE(p.store->ListTeams(I(kA.org)).value().size() == 1);
  p.db.Query("REVOKE SELECT ON socle.teams FROM socle_tenant");
  auto refused = p.store->ListTeams(I(kA.org));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInternal);
  CHECK(refused.error().internal.find("42501") != std::string::npos);
  p.db.Query("GRANT SELECT ON socle.teams TO socle_tenant");
  CHECK(p.store->ListTeams(I(kA.org)).value().size() == 1);
}

TEST_CASE("access rls: a pooled connection leaves its role and scope behind",
          "[postgres][access][rls]") {
  // One connection serves every call: had the role or a setting outlived an access
  // transaction, the catalogue (to which socle_tenant holds nothing) or the next
  // organisation's call would show it.
  Populated p(/*pool_size=*/1);
  auto check_catalogue = [&] {
    CHECK(p.store->GetRegion(Slug::Parse("local").value()));
    CHECK(p.store->ListOrganisations(PageRequest{}).value().total_items == 2);
  };
  check_catalogue();
  REQUIRE(p.store->GetMembership(I(kA.org), kA.owner));
  check_catalogue();
  // A failed access transaction (a duplicate team) rolls its role and settings back too.
  auto duplicate = p.store->InsertTeam(Team{I(kA.team), I(kA.org), "Other", "", T(0), T(0)});
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.error().code == ErrorCode::kAlreadyExists);
  check_catalogue();
  CHECK(p.store->ListPolicies(I(kB.org)).value().size() == 3);
  CHECK(p.store->MemberOrganisations(kA.owner).value().size() == 1);
  CHECK(p.store->ListFlags("").value().size() == 1);
  check_catalogue();
}

TEST_CASE("access rls: the one-statement scope switch is SET LOCAL ROLE",
          "[postgres][access][rls]") {
  // The adapter enters socle_tenant with set_config('role', .., true) beside the two
  // settings, in one round trip: it must behave exactly as SET LOCAL ROLE.
  PostgresTestDatabase db;
  auto store = Must(PostgresCatalogueStore::Open({.url = db.url()}), "open");
  Must(store->Migrate(), "migrate");
  RawSession session(db.url());
  const std::string login = session.Value("SELECT current_user");
  const std::string enter =
      "SELECT pg_catalog.set_config('role', 'socle_tenant', true),"
      " pg_catalog.set_config('socle.org_id', $1, true),"
      " pg_catalog.set_config('socle.scope', '', true)";
  for (const char* end : {"COMMIT", "ROLLBACK"}) {
    INFO(end);
    session.Ok("BEGIN");
    session.Ok(enter, {kA.org});
    CHECK(session.Value("SELECT current_user") == "socle_tenant");
    CHECK(session.Value("SELECT session_user") == login);
    CHECK(session.Value("SELECT current_setting('socle.org_id')") == kA.org);
    CHECK(session.Run("SELECT count(*) FROM socle.regions").sqlstate == kInsufficientPrivilege);
    session.Ok(end);
    CHECK(session.Value("SELECT current_user") == login);
    CHECK(session.Value("SELECT current_setting('socle.org_id')") == "");
  }
  // Outside a transaction block it lasts one statement, not the session.
  session.Ok(enter, {kA.org});
  CHECK(session.Value("SELECT current_user") == login);
}

TEST_CASE("access rls: removing the last two owners at once through two stores leaves one",
          "[postgres][access][rls][owner][concurrency]") {
  // DeleteMembership of each of two owners, at the same time through two pools, round after
  // round: exactly one may go each time. Without the owner lock both would count two owners,
  // each see one left after its own deletion, and both commit.
  Populated p;
  auto other = Must(PostgresCatalogueStore::Open({.url = p.db.url()}), "open other");
  const std::string owners[] = {kA.owner, "mema00000000003"};
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    for (int k = 0; k < 2; ++k) {
      if (p.store->GetMembership(I(kA.org), owners[k])) continue;
      Must(p.store->InsertMembership(
               Membership{I(kA.org), owners[k], "owner" + std::to_string(k) + "@example.com",
                          T(0)},
               {MemberPolicy("own" + std::to_string(k) + std::string(8, '0') +
                                 std::to_string(100 + round),
                             kA, owners[k], "owner")}),
           "owner " + std::to_string(k));
    }
    REQUIRE(p.db.Value("SELECT count(*) FROM socle.policies WHERE org_id = $1 AND is_owner",
                       {kA.org}) == "2");
    std::atomic<int> ready{0};
    Result<void> gone[2] = {{}, {}};
    auto remove = [&](int k) {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();  // start together
      gone[k] = (k == 0 ? *p.store : *other).DeleteMembership(I(kA.org), owners[k]);
    };
    std::thread t0(remove, 0);
    std::thread t1(remove, 1);
    t0.join();
    t1.join();
    CHECK(static_cast<int>(gone[0].has_value()) + static_cast<int>(gone[1].has_value()) == 1);
    const auto& refused = gone[0] ? gone[1] : gone[0];
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kFailedPrecondition);
    CHECK(p.db.Value("SELECT count(*) FROM socle.policies WHERE org_id = $1 AND is_owner",
                     {kA.org}) == "1");
  }
}

// ---- a deployment whose login role is not a superuser ------------------------------------------

namespace {

// A LOGIN role with CREATEROLE, allowed to create schemas in the test database: what a
// deployment's login role looks like. Dropped with what it owns when the case ends.
class LoginRole final {
 public:
  explicit LoginRole(const PostgresTestDatabase& db) : db_(db), name_(db.name() + "_login") {
    db_.Query("CREATE ROLE \"" + name_ + "\" LOGIN CREATEROLE");
    db_.Query("GRANT CREATE ON DATABASE \"" + db_.name() + "\" TO \"" + name_ + "\"");
  }
  ~LoginRole() {
    try {
      db_.Query("DROP OWNED BY \"" + name_ + "\" CASCADE");
      db_.Query("DROP ROLE \"" + name_ + "\"");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warning: could not drop role %s: %s\n", name_.c_str(), e.what());
    }
  }
  LoginRole(const LoginRole&) = delete;
  LoginRole& operator=(const LoginRole&) = delete;
  const std::string& name() const noexcept { return name_; }

 private:
  const PostgresTestDatabase& db_;
  std::string name_;
};

}  // namespace

TEST_CASE("access rls: a non-superuser login role migrates, works, and its own reads are "
          "filtered",
          "[postgres][access][rls][deployment]") {
  PostgresTestDatabase db;
  LoginRole login(db);  // dropped before the database, after the store below
  const std::string url = UrlAs(db.url(), login.name());
  auto store = Must(PostgresCatalogueStore::Open({.url = url, .pool_size = 2}), "open");
  Must(store->Migrate(), "migrate as a non-superuser");
  CHECK(db.Value("SELECT pg_has_role($1, 'socle_tenant', 'MEMBER')", {login.name()}) == "t");
  CHECK(db.Value("SELECT tableowner FROM pg_catalog.pg_tables"
                 " WHERE schemaname = 'socle' AND tablename = 'memberships'") == login.name());
  Populate(*store, kA);
  Populate(*store, kB);
  PutGlobalFlag(*store);
  CHECK(store->ListPolicies(I(kA.org)).value().size() == 3);
  CHECK(store->MemberOrganisations(kB.owner).value().size() == 1);

  // The login role owns the tables, yet reads none of their rows by itself.
  RawSession owner(url);
  for (const Table& table : AccessTables()) {
    INFO(table.name);
    CHECK(owner.Count("SELECT count(*) FROM " + table.name) == 0);
  }
  // It cannot take another role than its own and socle_tenant's.
  CHECK(owner.Run("SET ROLE postgres").sqlstate == kInsufficientPrivilege);

  // The store's own cascades run as the owner too, which FORCE does not hinder: a member's
  // team places go with their membership, a team's with the team.
  Must(store->DeleteMembership(I(kB.org), kB.member), "delete membership");
  CHECK(db.Value("SELECT count(*) FROM socle.team_members WHERE org_id = $1", {kB.org}) == "0");
  Must(store->AddTeamMember(I(kB.org), I(kB.team), kB.owner), "add owner to team");
  Must(store->DeleteTeam(I(kB.org), I(kB.team)), "delete team");
  CHECK(db.Value("SELECT count(*) FROM socle.team_members WHERE org_id = $1", {kB.org}) == "0");
  Must(store->InsertTeam(Team{I(kB.team), I(kB.org), "Ops", "", T(0), T(0)}), "team again");
  Must(store->AddTeamMember(I(kB.org), I(kB.team), kB.owner), "team member again");

  // Deleting an organisation (the catalogue, as the owner) cascades to every access row of
  // it, flags included, although the owner's own reads are filtered.
  Must(store->DeleteOrganisation(I(kA.org), DeleteMode::kCascade), "delete organisation");
  for (const Table& table : AccessTables()) {
    INFO(table.name);
    CHECK(std::stoll(db.Value("SELECT count(*) FROM " + table.name + " WHERE org_id = $1",
                              {kA.org})) == 0);
    CHECK(std::stoll(db.Value("SELECT count(*) FROM " + table.name + " WHERE org_id = $1",
                              {kB.org})) > 0);
  }
  CHECK(db.Value("SELECT count(*) FROM socle.flags WHERE org_id = ''") == "1");
  // So does deleting a project, for the policies and invitations on it.
  Must(store->DeleteProject(I(kB.project)), "delete project");
  CHECK(db.Value("SELECT count(*) FROM socle.policies WHERE project IS NOT NULL") == "0");
  CHECK(db.Value("SELECT count(*) FROM socle.invitations") == "0");
  CHECK(store->ListPolicies(I(kB.org)).value().size() == 1);  // the owner's; the team's went
  store.reset();  // its connections close before the role goes
}

TEST_CASE("access rls: the migration refuses a socle_tenant that could bypass row-level "
          "security",
          "[postgres][access][rls][migrate]") {
  // Migrated to the version before the access tables, then 0003 run by hand in a transaction
  // that first gives the (cluster-wide) role BYPASSRLS; rolled back, so that no other test
  // ever sees the role so altered.
  PostgresTestDatabase db;
  RawSession admin(db.url());
  const auto migrations = migrations::postgres();
  REQUIRE(migrations.size() >= 3);
  REQUIRE(migrations[2].name == "access");
  admin.Ok("CREATE SCHEMA socle");
  REQUIRE(admin.Script(std::string(migrations[0].sql)).ok());
  REQUIRE(admin.Script(std::string(migrations[1].sql)).ok());

  admin.Ok("BEGIN");
  // Created by another test's migration, or not yet: the DO block makes sure it exists.
  REQUIRE(admin.Script("DO $$ BEGIN CREATE ROLE socle_tenant NOLOGIN;"
                       " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
              .ok());
  admin.Ok("ALTER ROLE socle_tenant BYPASSRLS");
  auto refused = admin.Script(std::string(migrations[2].sql));
  CHECK(refused.sqlstate == "55000");
  CHECK(refused.message.find("BYPASSRLS") != std::string::npos);
  admin.Ok("ROLLBACK");

  // The control: the same text passes once the role is as it should be.
  admin.Ok("BEGIN");
  auto applied = admin.Script(std::string(migrations[2].sql));
  CHECK(applied.message == "");
  admin.Ok("ROLLBACK");
}

// ---- what entering a scope costs ---------------------------------------------------------------

TEST_CASE("access rls: entering a scope in one statement versus SET LOCAL ROLE and set_config",
          "[postgres][access][rls][.benchmark]") {
  PostgresTestDatabase db;
  auto store = Must(PostgresCatalogueStore::Open({.url = db.url()}), "open");
  Must(store->Migrate(), "migrate");
  RawSession session(db.url());
  REQUIRE(session
              .Prepare("one",
                       "SELECT pg_catalog.set_config('role', 'socle_tenant', true),"
                       " pg_catalog.set_config('socle.org_id', $1, true),"
                       " pg_catalog.set_config('socle.scope', '', true)")
              .ok());
  REQUIRE(session
              .Prepare("org",
                       "SELECT pg_catalog.set_config('socle.org_id', $1, true),"
                       " pg_catalog.set_config('socle.scope', '', true)")
              .ok());
  REQUIRE(session.Prepare("role", "SET LOCAL ROLE socle_tenant").ok());
  constexpr int kRounds = 2000;
  auto time = [&](const auto& enter) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRounds; ++i) {
      session.Ok("BEGIN");
      enter();
      session.Ok("COMMIT");
    }
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
               .count() /
           kRounds;
  };
  const double two = time([&] {
    REQUIRE(session.Execute("role", {}).ok());
    REQUIRE(session.Execute("org", {kA.org}).ok());
  });
  const double one = time([&] { REQUIRE(session.Execute("one", {kA.org}).ok()); });
  const double none = time([] {});
  std::printf("per transaction (BEGIN .. COMMIT): empty %.1f us, SET LOCAL ROLE + set_config "
              "%.1f us, one set_config statement %.1f us\n",
              none, two, one);
  CHECK(one < two);
}
