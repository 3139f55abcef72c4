// Project isolation on PostgreSQL: each project's records are reached through a database role
// of its own (socle_p_<project id>) that holds privileges on the project's schema only. Raw
// sessions (hand-written SQL, as an application bug would send) probe what the role may and may
// not do; triggers that stamp current_user into the rows, and privileges revoked under the
// store's feet, show which role the store's statements run as; the role helpers are pinned
// directly. Each case gets a throwaway database and project ids of its own: roles are
// cluster-wide, shared by every database of the test cluster.
#include <libpq-fe.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "project_role.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "support/must.hpp"
#include "support/postgres_test_database.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::postgres::Connection;
using adapters::postgres::PostgresCatalogueStore;
using adapters::postgres::PostgresProjectStores;
using adapters::postgres::ProjectRoleName;
using adapters::postgres::SessionRole;
using application::CollectionChange;
using application::ProjectStore;
using application::RecordQuery;
using application::RecordTransaction;
using socle::testing::Must;
using socle::testing::PgRow;
using socle::testing::PostgresTestDatabase;

namespace {

Timestamp At(std::int64_t seconds) { return Timestamp::FromUnixMicros(seconds * 1'000'000); }

// A project id no other test (or other run of this one) uses: its role is this test's alone.
Id UniqueId() {
  static std::random_device device;
  return Id::FromRandom([] { return static_cast<std::uint8_t>(device()); });
}

Project MakeProject(const Id& id, std::string_view slug) {
  return Project{id,
                 Slug::Parse(slug).value(),
                 DisplayName::Parse("P").value(),
                 Id::Parse("org000000000001").value(),
                 Slug::Parse("acme").value(),
                 At(1'700'000'000),
                 At(1'700'000'000)};
}

Field MakeField(std::string name, FieldType type) {
  Field field;
  field.id = "f_" + name;
  field.name = std::move(name);
  field.type = type;
  return field;
}

Collection Notes() {
  Collection collection;
  collection.id = "pbc_notes";
  collection.name = "notes";
  collection.fields = SystemFields();
  collection.fields.push_back(MakeField("title", FieldType::kText));
  collection.fields.push_back(MakeField("views", FieldType::kNumber));
  collection.created = At(1'700'000'000);
  collection.updated = At(1'700'000'000);
  return collection;
}

Record Note(const Collection& collection, std::string_view id, std::string title) {
  Record record = EmptyRecord(collection);
  record.values[*collection.FieldIndex("id")] = JsonValue::String(std::string(id));
  record.values[*collection.FieldIndex("title")] = JsonValue::String(std::move(title));
  return record;
}

// A throwaway database with the catalogue migrated and two projects A and B created by the
// catalogue (which creates their schemas), with ids of their own.
struct Fixture {
  PostgresTestDatabase db;
  Project a;
  Project b = MakeProject(UniqueId(), "beta");
  std::string schema_a = "p_" + a.id.str();
  std::string schema_b = "p_" + b.id.str();
  std::string role_a = ProjectRoleName(a.id);
  std::string role_b = ProjectRoleName(b.id);

  // `a_id`: project A's id, for a test that needs the same project in two databases.
  explicit Fixture(const std::optional<Id>& a_id = std::nullopt)
      : a(MakeProject(a_id ? *a_id : UniqueId(), "alpha")) {
    auto catalogue = Must(PostgresCatalogueStore::Open({.url = db.url()}), "catalogue");
    Must(catalogue->Migrate(), "migrate");
    Must(catalogue->InsertOrganisation(Organisation{a.org_id, a.org_slug,
                                                    DisplayName::Parse("Acme").value(),
                                                    Slug::Parse("local").value(),
                                                    IsolationTier::kShared, At(0), At(0)}),
         "organisation");
    Must(catalogue->InsertProject(a), "project a");
    Must(catalogue->InsertProject(b), "project b");
  }

  std::unique_ptr<PostgresProjectStores> Connect(std::size_t pool_size = 4) const {
    return Must(PostgresProjectStores::Connect({.url = db.url(), .pool_size = pool_size}),
                "connect");
  }

  std::string Value(const std::string& sql, const std::vector<std::string>& params = {}) const {
    return db.Value(sql, params);
  }
};

// A raw libpq session for hand-written SQL that reports each statement's SQLSTATE, optionally
// logged in as another role than the cluster's superuser.
class RawSession {
 public:
  explicit RawSession(const std::string& url, const std::string& user = {}) {
    const char* keys[] = {"dbname", user.empty() ? nullptr : "user", nullptr};
    const char* values[] = {url.c_str(), user.empty() ? nullptr : user.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string message = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      throw std::runtime_error("raw session cannot connect: " + message);
    }
    // GRANT's "no privileges were granted" warning is expected here: keep it off stderr.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~RawSession() { PQfinish(conn_); }
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;

  /// Runs `sql` (simple protocol); "" when it succeeded, else its SQLSTATE.
  std::string Run(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_, sql.c_str()), &PQclear);
    const auto status = PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return "";
    const char* sqlstate = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    return sqlstate != nullptr ? sqlstate : "?????";
  }

  /// The first column of the first row of `sql`; throws when it fails or returns no row.
  std::string Value(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_, sql.c_str()), &PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) < 1) {
      throw std::runtime_error("raw query failed: " + sql + ": " + PQerrorMessage(conn_));
    }
    return PQgetvalue(result.get(), 0, 0);
  }

 private:
  PGconn* conn_;
};

// A LOGIN role of the test's own, member of `granted` only: a session that could SET ROLE to
// one project (a BI tool's, say). Dropped with the object (roles outlive the test database).
class MemberLogin {
 public:
  MemberLogin(const PostgresTestDatabase& db, const std::string& granted)
      : db_(db), name_(db.name() + "_login") {
    db_.Query("CREATE ROLE \"" + name_ + "\" LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB");
    db_.Query("GRANT \"" + granted + "\" TO \"" + name_ + "\"");
  }
  ~MemberLogin() {
    try {
      db_.Query("DROP ROLE IF EXISTS \"" + name_ + "\"");
    } catch (const std::exception&) {
      // The cluster is thrown away after the run: a role left behind harms nothing.
    }
  }
  MemberLogin(const MemberLogin&) = delete;
  MemberLogin& operator=(const MemberLogin&) = delete;
  const std::string& name() const noexcept { return name_; }

 private:
  const PostgresTestDatabase& db_;
  std::string name_;
};

std::vector<std::string> TablesOf(const Fixture& f, const std::string& schema) {
  std::vector<std::string> tables;
  for (const PgRow& row : f.db.Query("SELECT tablename FROM pg_catalog.pg_tables"
                                     " WHERE schemaname = $1 ORDER BY tablename",
                                     {schema})) {
    tables.push_back(*row[0]);
  }
  return tables;
}

void Insert(ProjectStore& store, const Collection& collection, const std::vector<Record>& records) {
  Must(store.Write([&](RecordTransaction& tx) -> Result<void> {
    for (const auto& record : records) {
      if (auto done = tx.Insert(collection, record); !done) return done;
    }
    return {};
  }),
       "insert");
}

SchemaPtr Create(ProjectStore& store, const Collection& collection) {
  auto schema = Must(store.Schema(), "schema");
  return Must(store.ApplySchema({CollectionChange{std::nullopt, collection}}, schema->version,
                                "test", At(1'700'000'100)),
              "create collection");
}

SchemaPtr AddField(ProjectStore& store, const Collection& before, const Collection& after) {
  auto schema = Must(store.Schema(), "schema");
  return Must(store.ApplySchema({CollectionChange{before, after}}, schema->version, "test",
                                At(1'700'000'200)),
              "change collection");
}

std::string TitleOf(ProjectStore& store, const Collection& collection, std::string_view id) {
  auto found = Must(store.Get(collection, id, nullptr), "get");
  if (!found) throw std::runtime_error("no record " + std::string(id));
  return found->Get(collection, "title")->AsString();
}

// Makes every row written to `schema`.notes carry, as its title, the role that wrote it.
void StampWriter(const Fixture& f, const std::string& schema) {
  f.db.Query("CREATE FUNCTION " + schema +
             ".stamp() RETURNS trigger LANGUAGE plpgsql AS"
             " $$BEGIN NEW.title := current_user; RETURN NEW; END$$");
  f.db.Query("CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON " + schema +
             ".notes FOR EACH ROW EXECUTE FUNCTION " + schema + ".stamp()");
}

// The grantees and privileges of a relation other than its owner: "role:PRIVILEGE,...".
std::string Grants(const Fixture& f, const std::string& relation) {
  return f.Value(
      "SELECT coalesce(string_agg(pg_catalog.pg_get_userbyid(x.grantee) || ':' ||"
      " x.privilege_type, ',' ORDER BY pg_catalog.pg_get_userbyid(x.grantee), x.privilege_type),"
      " '')"
      " FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS x"
      " WHERE c.oid = $1::regclass AND x.grantee <> c.relowner",
      {relation});
}

std::string RecordGrants(const std::string& role) {
  return role + ":DELETE," + role + ":INSERT," + role + ":SELECT," + role + ":UPDATE";
}

bool RoleExists(const Fixture& f, const std::string& role) {
  return f.Value("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = $1", {role}) == "1";
}

// Whether the current database still grants `role` anything (what DROP ROLE would refuse).
std::string RoleReferencesHere(const PostgresTestDatabase& db, const std::string& role) {
  return db.Value(
      "SELECT count(*) FROM pg_catalog.pg_shdepend AS d, pg_catalog.pg_database AS db,"
      " pg_catalog.pg_roles AS r WHERE d.dbid = db.oid AND db.datname = current_database()"
      " AND d.refobjid = r.oid AND r.rolname = $1",
      {role});
}

void Script(Connection& conn, const std::string& sql) { Must(conn.Script(sql), sql); }

}  // namespace

TEST_CASE("postgres project isolation: a project's role reaches its own schema only",
          "[postgres][project][isolation]") {
  Fixture f;
  auto stores = f.Connect();
  auto a = Must(stores->Open(f.a), "open a");
  auto b = Must(stores->Open(f.b), "open b");
  const Collection notes = Notes();
  Create(*a, notes);
  Create(*b, notes);
  Insert(*a, notes, {Note(notes, "a1", "in a")});
  Insert(*b, notes, {Note(notes, "b1", "in b")});

  // The role can do nothing on its own and is a member of nothing.
  CHECK(f.Value("SELECT NOT (rolcanlogin OR rolsuper OR rolinherit OR rolcreaterole OR"
                " rolcreatedb OR rolreplication OR rolbypassrls) FROM pg_catalog.pg_roles"
                " WHERE rolname = $1",
                {f.role_a}) == "t");
  CHECK(f.Value("SELECT count(*) FROM pg_catalog.pg_auth_members WHERE member ="
                " (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)",
                {f.role_a}) == "0");
  // Its privileges: USAGE on its schema, the record privileges on its collection tables, read
  // only on the internal tables; nothing on B's tables.
  CHECK(f.Value("SELECT has_schema_privilege($1, $2, 'USAGE')", {f.role_a, f.schema_a}) == "t");
  CHECK(f.Value("SELECT has_schema_privilege($1, $2, 'CREATE')", {f.role_a, f.schema_a}) == "f");
  CHECK(f.Value("SELECT has_schema_privilege($1, $2, 'USAGE')", {f.role_a, f.schema_b}) == "f");
  CHECK(f.Value("SELECT has_schema_privilege($1, 'socle', 'USAGE')", {f.role_a}) == "f");
  CHECK(Grants(f, f.schema_a + ".notes") == RecordGrants(f.role_a));
  CHECK(Grants(f, f.schema_b + ".notes") == RecordGrants(f.role_b));
  for (const char* internal : {"._collections", "._schema_history", "._schema_version"}) {
    INFO(internal);
    CHECK(Grants(f, f.schema_a + internal) == f.role_a + ":SELECT");
  }

  // What a session switched to A's role can do, whoever it logged in as.
  auto probe = [&](RawSession& session) {
    CHECK(session.Value("SELECT current_user") == f.role_a);
    const std::string own = f.schema_a + ".notes";
    CHECK(session.Value("SELECT title FROM " + own + " WHERE id = 'a1'") == "in a");
    CHECK(session.Run("INSERT INTO " + own + " (id, title) VALUES ('raw1', 'by hand')").empty());
    CHECK(session.Run("UPDATE " + own + " SET title = 'edited' WHERE id = 'raw1'").empty());
    CHECK(session.Run("SELECT * FROM " + own + " WHERE id = 'raw1' FOR UPDATE").empty());
    CHECK(session.Run("DELETE FROM " + own + " WHERE id = 'raw1'").empty());
    CHECK(session.Run("SELECT * FROM " + f.schema_a + "._collections").empty());
    CHECK(session.Run("SELECT * FROM " + f.schema_a + "._schema_history").empty());
    CHECK(session.Run("SELECT * FROM " + f.schema_a + "._schema_version").empty());
    // The definitions are ApplySchema's, which runs as the login role.
    CHECK(session.Run("UPDATE " + f.schema_a + "._collections SET name = 'renamed'") == "42501");
    CHECK(session.Run("DELETE FROM " + f.schema_a + "._schema_history") == "42501");
    CHECK(session.Run("UPDATE " + f.schema_a + "._schema_version SET version = 99") == "42501");
    CHECK(session.Run("INSERT INTO " + f.schema_a + "._collections DEFAULT VALUES") == "42501");
    // No DDL, in its schema or anywhere, and no privilege beyond the four on its tables.
    CHECK(session.Run("CREATE TABLE " + f.schema_a + ".intruder (x int)") == "42501");
    CHECK(session.Run("CREATE VIEW " + f.schema_a + ".intruder AS SELECT 1") == "42501");
    CHECK(session.Run("CREATE INDEX intruder ON " + own + " (title)") == "42501");
    CHECK(session.Run("ALTER TABLE " + own + " ADD COLUMN intruder int") == "42501");
    CHECK(session.Run("DROP TABLE " + own) == "42501");
    CHECK(session.Run("TRUNCATE " + own) == "42501");
    // Holding privileges without grant option, GRANT only warns that it granted nothing.
    (void)session.Run("GRANT SELECT ON " + own + " TO PUBLIC");
    CHECK(session.Run("CREATE SCHEMA intruder") == "42501");
    CHECK(session.Run("CREATE TABLE public.intruder (x int)") == "42501");
    CHECK(session.Run("DROP SCHEMA " + f.schema_b + " CASCADE") == "42501");
    // Every table of B's schema and of the catalogue, whatever the statement.
    for (const std::string& schema : {f.schema_b, std::string("socle")}) {
      const auto tables = TablesOf(f, schema);
      CHECK(tables.size() >= 3);
      for (const std::string& table : tables) {
        const std::string name = schema + "." + table;
        const std::string column = f.Value(
            "SELECT quote_ident(attname) FROM pg_catalog.pg_attribute WHERE attrelid ="
            " $1::regclass AND attnum = 1",
            {name});
        INFO(name);
        CHECK(session.Run("SELECT * FROM " + name) == "42501");
        CHECK(session.Run("SELECT count(*) FROM " + name) == "42501");
        CHECK(session.Run("INSERT INTO " + name + " DEFAULT VALUES") == "42501");
        CHECK(session.Run("UPDATE " + name + " SET " + column + " = " + column) == "42501");
        CHECK(session.Run("DELETE FROM " + name) == "42501");
        CHECK(session.Run("TRUNCATE " + name) == "42501");
        REQUIRE(session.Run("BEGIN").empty());
        CHECK(session.Run("LOCK TABLE " + name + " IN ACCESS SHARE MODE") == "42501");
        REQUIRE(session.Run("ROLLBACK").empty());
      }
    }
    // It cannot lend itself B's role.
    CHECK(session.Run("GRANT \"" + f.role_b + "\" TO \"" + f.role_a + "\"") == "42501");
  };

  SECTION("a session of the pools' login role") {
    RawSession session(f.db.url());
    REQUIRE(session.Run("SET ROLE \"" + f.role_a + "\"").empty());
    probe(session);
  }
  SECTION("a session of a login that is a member of A's role only") {
    MemberLogin login(f.db, f.role_a);
    RawSession session(f.db.url(), login.name());
    CHECK(session.Run("SET ROLE \"" + f.role_a + "\"").empty());
    probe(session);
    // Not a member of B's role, neither is A's role: no way to switch to it.
    CHECK(session.Run("SET ROLE \"" + f.role_b + "\"") == "42501");
    CHECK(session.Run("RESET ROLE").empty());
    CHECK(session.Run("SET ROLE \"" + f.role_b + "\"") == "42501");
    CHECK(session.Run("SELECT * FROM " + f.schema_b + ".notes") == "42501");
  }
  CHECK(f.Value("SELECT pg_has_role($1, $2, 'MEMBER')", {f.role_a, f.role_b}) == "f");
  CHECK(Grants(f, f.schema_a + ".notes") == RecordGrants(f.role_a));
  // The probes left A's records as they were; B's were never reached.
  CHECK(TitleOf(*a, notes, "a1") == "in a");
  CHECK(TitleOf(*b, notes, "b1") == "in b");
}

TEST_CASE("postgres project isolation: the store's statements run as the project's role",
          "[postgres][project][isolation]") {
  Fixture f;
  // One connection serves both projects in turn: each request must switch it.
  auto stores = f.Connect(1);
  auto a = Must(stores->Open(f.a), "open a");
  auto b = Must(stores->Open(f.b), "open b");
  const Collection notes = Notes();
  Create(*a, notes);
  Create(*b, notes);
  StampWriter(f, f.schema_a);
  StampWriter(f, f.schema_b);

  // Writes: each row carries the role that wrote it.
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    Insert(*a, notes, {Note(notes, "a" + n, "?")});
    Insert(*b, notes, {Note(notes, "b" + n, "?")});
    Insert(*b, notes, {Note(notes, "c" + n, "?")});
  }
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    CHECK(TitleOf(*a, notes, "a" + n) == f.role_a);
    CHECK(TitleOf(*b, notes, "b" + n) == f.role_b);
    CHECK(TitleOf(*b, notes, "c" + n) == f.role_b);
  }
  CHECK(f.Value("SELECT count(*) FROM " + f.schema_a + ".notes WHERE title <> $1", {f.role_a}) ==
        "0");

  // Reads: A's role losing SELECT fails A's reads, and only A's (the login role, a superuser
  // here, would still read).
  f.db.Query("REVOKE SELECT ON " + f.schema_a + ".notes FROM \"" + f.role_a + "\"");
  auto refused = a->Get(notes, "a0", nullptr);
  REQUIRE(!refused);
  CHECK(refused.error().internal.find("42501") != std::string::npos);
  CHECK(!a->Query(notes, RecordQuery{}));
  CHECK(TitleOf(*b, notes, "b0") == f.role_b);
  f.db.Query("GRANT SELECT ON " + f.schema_a + ".notes TO \"" + f.role_a + "\"");
  CHECK(TitleOf(*a, notes, "a0") == f.role_a);
  // The schema's history too.
  f.db.Query("REVOKE SELECT ON " + f.schema_a + "._schema_history FROM \"" + f.role_a + "\"");
  CHECK(!a->History());
  CHECK(Must(b->History(), "history of b").size() == 1);
  f.db.Query("GRANT SELECT ON " + f.schema_a + "._schema_history TO \"" + f.role_a + "\"");
  CHECK(Must(a->History(), "history of a").size() == 1);

  // DDL runs as the login role, which owns the schema: a schema change, and a new project's
  // storage created on the one connection, last lent to B.
  Collection more = notes;
  more.fields.push_back(MakeField("extra", FieldType::kText));
  AddField(*a, notes, more);
  const Project c = MakeProject(UniqueId(), "gamma");
  auto c_store = Must(stores->Open(c), "open c");
  const std::string schema_c = "p_" + c.id.str();
  const std::string role_c = ProjectRoleName(c.id);
  CHECK(f.Value("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = $1 AND"
                " tableowner = session_user AND tablename NOT LIKE '\\_audit%'",
                {schema_c}) == "3");
  Create(*c_store, notes);
  CHECK(Grants(f, schema_c + ".notes") == RecordGrants(role_c));
  CHECK(TitleOf(*b, notes, "b1") == f.role_b);
  Insert(*c_store, notes, {Note(notes, "x1", "plain")});
  Insert(*a, more, {Note(more, "a9", "?")});
  CHECK(TitleOf(*a, more, "a9") == f.role_a);
  CHECK(TitleOf(*c_store, notes, "x1") == "plain");
}

TEST_CASE("postgres project isolation: a failed request does not leave the wrong role behind",
          "[postgres][project][isolation]") {
  Fixture f;
  auto stores = f.Connect(1);
  auto a = Must(stores->Open(f.a), "open a");
  auto b = Must(stores->Open(f.b), "open b");
  const Collection notes = Notes();
  Create(*a, notes);
  Create(*b, notes);
  StampWriter(f, f.schema_a);
  StampWriter(f, f.schema_b);

  // A transaction of A that fails half-way, then B: B's row is B's.
  auto failed = a->Write([&](RecordTransaction& tx) -> Result<void> {
    if (auto done = tx.Insert(notes, Note(notes, "a1", "?")); !done) return done;
    return Fail(ErrorCode::kAborted, "changed my mind");
  });
  CHECK(!failed);
  CHECK(!Must(a->Get(notes, "a1", nullptr), "get").has_value());
  Insert(*b, notes, {Note(notes, "b1", "?")});
  CHECK(TitleOf(*b, notes, "b1") == f.role_b);

  // A switch that fails (B's role dropped under the store) leaves the connection's role
  // unknown: the next request, for A, switches again and runs as A.
  Insert(*a, notes, {Note(notes, "a2", "?")});
  f.db.Query("DROP OWNED BY \"" + f.role_b + "\"");
  f.db.Query("DROP ROLE \"" + f.role_b + "\"");
  auto lost = b->Get(notes, "b1", nullptr);
  REQUIRE(!lost);
  INFO(lost.error().internal);
  CHECK(lost.error().internal.find("does not exist") != std::string::npos);
  Insert(*a, notes, {Note(notes, "a3", "?")});
  CHECK(TitleOf(*a, notes, "a3") == f.role_a);
  // And a project's storage is still created as the login role after it.
  const Project c = MakeProject(UniqueId(), "gamma");
  CHECK(stores->Open(c).has_value());
  CHECK(TitleOf(*a, notes, "a2") == f.role_a);
}

TEST_CASE("postgres project isolation: a project whose storage predates roles gets one on open",
          "[postgres][project][isolation]") {
  Fixture f;
  const Collection notes = Notes();
  {
    auto stores = f.Connect();
    auto a = Must(stores->Open(f.a), "open a");
    Create(*a, notes);
    Insert(*a, notes, {Note(notes, "a1", "kept")});
  }
  // The storage as an older version left it: schema and tables, no role.
  f.db.Query("DROP OWNED BY \"" + f.role_a + "\"");
  f.db.Query("DROP ROLE \"" + f.role_a + "\"");
  REQUIRE(!RoleExists(f, f.role_a));

  auto stores = f.Connect();
  auto a = Must(stores->Open(f.a), "reopen a");
  CHECK(RoleExists(f, f.role_a));
  CHECK(TitleOf(*a, notes, "a1") == "kept");
  CHECK(Grants(f, f.schema_a + ".notes") == RecordGrants(f.role_a));
  CHECK(Grants(f, f.schema_a + "._collections") == f.role_a + ":SELECT");
  CHECK(f.Value("SELECT has_schema_privilege($1, $2, 'USAGE')", {f.role_a, f.schema_a}) == "t");
  // The login role is a member, so that it could switch to the role without being superuser.
  CHECK(f.Value("SELECT count(*) FROM pg_catalog.pg_auth_members WHERE roleid = to_regrole($1)"
                " AND member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname ="
                " session_user)",
                {f.role_a}) == "1");
  Insert(*a, notes, {Note(notes, "a2", "new")});
  CHECK(TitleOf(*a, notes, "a2") == "new");
}

TEST_CASE("postgres project isolation: one project id in several databases shares its role",
          "[postgres][project][isolation]") {
  // Roles are per cluster, grants per database: the databases open the project at once, and
  // dropping the project in one leaves the role to the others.
  const Id shared = UniqueId();
  constexpr int kDatabases = 4;
  std::vector<std::unique_ptr<Fixture>> fixtures;
  std::vector<std::unique_ptr<PostgresProjectStores>> stores;
  for (int i = 0; i < kDatabases; ++i) {
    fixtures.push_back(std::make_unique<Fixture>(shared));
    stores.push_back(fixtures.back()->Connect(1));
  }
  const std::string role = ProjectRoleName(shared);
  const std::string schema = "p_" + shared.str();
  REQUIRE(!RoleExists(*fixtures[0], role));
  std::vector<std::shared_ptr<ProjectStore>> opened(kDatabases);
  std::vector<std::string> failures(kDatabases);
  {
    std::latch start(kDatabases);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < kDatabases; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        auto store = stores[i]->Open(fixtures[i]->a);
        if (store) {
          opened[i] = std::move(*store);
        } else {
          failures[i] = store.error().internal;
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  for (const auto& failure : failures) CHECK(failure.empty());
  const Collection notes = Notes();
  for (std::size_t i = 0; i < kDatabases; ++i) {
    REQUIRE(opened[i] != nullptr);
    Create(*opened[i], notes);
    Insert(*opened[i], notes, {Note(notes, "r1", "db " + std::to_string(i))});
    CHECK(TitleOf(*opened[i], notes, "r1") == "db " + std::to_string(i));
  }

  // How the catalogue deletes a project: its schema and its role in one transaction.
  auto drop_project = [&](const Fixture& f, bool commit) {
    auto conn = Must(Connection::Open({.url = f.db.url()}), "connect");
    Script(*conn, "BEGIN");
    Script(*conn, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    Must(adapters::postgres::DropProjectRole(*conn, shared), "drop project role");
    Script(*conn, commit ? "COMMIT" : "ROLLBACK");
  };
  // Rolled back: everything stays.
  drop_project(*fixtures[0], false);
  CHECK(RoleExists(*fixtures[0], role));
  CHECK(TitleOf(*opened[0], notes, "r1") == "db 0");
  // Every database but the last: the role stays for the others, this one forgets it.
  for (std::size_t i = 0; i + 1 < kDatabases; ++i) {
    opened[i].reset();
    stores[i].reset();
    drop_project(*fixtures[i], true);
    CHECK(RoleExists(*fixtures[i], role));
    CHECK(RoleReferencesHere(fixtures[i]->db, role) == "0");
    CHECK(TitleOf(*opened.back(), notes, "r1") == "db " + std::to_string(kDatabases - 1));
  }
  // The last one drops it.
  opened.back().reset();
  stores.back().reset();
  drop_project(*fixtures.back(), true);
  CHECK(!RoleExists(*fixtures.back(), role));
  // A role that does not exist is nothing to drop.
  drop_project(*fixtures.back(), true);
}

TEST_CASE("postgres project isolation: a session switches role only when it must",
          "[postgres][project][isolation]") {
  Fixture f;
  {
    auto stores = f.Connect();
    Must(stores->Open(f.a), "open a");
    Must(stores->Open(f.b), "open b");
  }
  auto conn = Must(Connection::Open({.url = f.db.url()}), "connect");
  const adapters::postgres::Statement current_user{"", "SELECT current_user::text", 0};
  auto runs_as = [&] {
    auto rows = Must(conn->Execute(current_user), "current_user");
    return std::string(rows.Text(0, 0));
  };
  auto round_trips = [&](const std::function<Result<void>()>& step) {
    conn->ResetUsage();
    Must(step(), "switch");
    return conn->round_trips();
  };
  const std::string login = runs_as();
  const std::string quoted_a = "\"" + f.role_a + "\"";
  const std::string quoted_b = "\"" + f.role_b + "\"";
  SessionRole role;

  // A new session runs as its login role.
  CHECK(role.current() == std::optional<std::string>(""));
  CHECK(round_trips([&] { return role.UseLogin(*conn); }) == 0);
  // A switch costs one round trip, staying on the role none.
  CHECK(round_trips([&] { return role.Use(*conn, quoted_a); }) == 1);
  CHECK(runs_as() == f.role_a);
  CHECK(round_trips([&] { return role.Use(*conn, quoted_a); }) == 0);
  CHECK(round_trips([&] { return role.Use(*conn, quoted_b); }) == 1);
  CHECK(runs_as() == f.role_b);
  CHECK(round_trips([&] { return role.UseLogin(*conn); }) == 1);
  CHECK(runs_as() == login);
  CHECK(round_trips([&] { return role.Use(*conn, quoted_b); }) == 1);

  // A switch that fails leaves the role unknown: whatever comes next switches again, even to
  // the role the server kept.
  auto missing = role.Use(*conn, "\"socle_p_missing00000000\"");
  CHECK(!missing);
  CHECK(!role.current().has_value());
  CHECK(runs_as() == f.role_b);
  CHECK(round_trips([&] { return role.Use(*conn, quoted_b); }) == 1);
  CHECK(runs_as() == f.role_b);
  CHECK(!role.Use(*conn, "\"socle_p_missing00000000\""));
  CHECK(round_trips([&] { return role.UseLogin(*conn); }) == 1);
  CHECK(runs_as() == login);
  CHECK(role.current() == std::optional<std::string>(""));
}

// The cost of running each statement under the project's role: a single-threaded loop of point
// reads over one pooled connection, on one project (the connection stays on its role) and
// alternating between two (every checkout switches role). Compare with the same loop before
// the roles existed; the numbers are reported as warnings.
TEST_CASE("postgres project isolation: point read cost", "[.][benchmark][postgres][project]") {
  Fixture f;
  auto stores = f.Connect(1);
  auto a = Must(stores->Open(f.a), "open a");
  auto b = Must(stores->Open(f.b), "open b");
  const Collection notes = Notes();
  Create(*a, notes);
  Create(*b, notes);
  constexpr int kRecords = 200;
  std::vector<Record> records;
  for (int i = 0; i < kRecords; ++i) {
    records.push_back(Note(notes, "r" + std::to_string(i), "title " + std::to_string(i)));
  }
  Insert(*a, notes, records);
  Insert(*b, notes, records);

  constexpr int kReads = 20'000;
  constexpr int kRounds = 3;
  auto measure = [&](const char* name, bool alternate) {
    std::vector<double> micros;
    for (int round = 0; round < kRounds; ++round) {
      const auto start = std::chrono::steady_clock::now();
      int failed = 0;
      for (int i = 0; i < kReads; ++i) {
        ProjectStore& store = alternate && i % 2 == 1 ? *b : *a;
        auto found = store.Get(notes, "r" + std::to_string(i % kRecords), nullptr);
        if (!found || !found->has_value()) ++failed;
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      CHECK(failed == 0);
      micros.push_back(seconds * 1e6 / kReads);
    }
    std::sort(micros.begin(), micros.end());
    WARN(name << ": median " << micros[kRounds / 2] << " us/read, best " << micros.front()
              << " us/read (" << kReads << " reads x " << kRounds << " rounds)");
  };
  measure("one project", false);
  measure("two projects alternating", true);
  measure("one project", false);
}
