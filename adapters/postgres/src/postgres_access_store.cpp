// The AccessStore half of PostgresCatalogueStore: memberships, invitations, teams, custom
// roles, policies and feature flags in the tables of migrations/postgres/0003_access.sql.
//
// Every method is one transaction that first becomes the role socle_tenant and names the
// organisation it acts in (kEnterScope): row-level security then admits that organisation's
// rows only, so a statement here that forgot its "org_id = $1" still could not reach another
// organisation. The few methods the port marks "across organisations", and global feature
// flags, run in platform scope instead, which the policies open only to what they do.
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"

#include <charconv>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include "connection.hpp"
#include "postgres_catalogue_audit.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/json_writer.hpp"

namespace socle::adapters::postgres {

using application::PolicyChange;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::FeatureFlag;
using domain::FlagLevel;
using domain::Invitation;
using domain::InvitationState;
using domain::Membership;
using domain::Result;
using domain::StoredPolicy;
using domain::Team;

namespace {

// ---- SQL, as named constants; every value is bound ($n). --------------------------------------
// Timestamps go in as RFC 3339 text with microseconds and come out as integer microseconds, as
// in the catalogue. Lists of values go in as one JSON array (built by JsonWriter, the one
// serializer) and are unpacked by jsonb functions: one bound value, one round trip.

// Reads cannot write, whatever a statement of theirs might be made to do.
constexpr char kBeginReadOnly[] = "BEGIN READ ONLY";

// The two settings the policies read, and the role switch, in one round trip rather than a
// SET LOCAL ROLE and a set_config (the benchmark in tests/adapters/postgres/access_rls_test.cpp
// measured about half the added cost per transaction on a local socket). set_config with
// is_local = true is SET LOCAL: all three end with the transaction, also when it fails, so a
// pooled connection never carries a scope into the next caller's transaction. The role is
// checked against the session's login role (it must be a member of socle_tenant).
constexpr Statement kEnterScope{
    "socle_access_scope",
    "SELECT pg_catalog.set_config('role', 'socle_tenant', true),"
    " pg_catalog.set_config('socle.org_id', $1::text, true),"
    " pg_catalog.set_config('socle.scope', $2::text, true)",
    2};
constexpr char kPlatformScope[] = "platform";

// Memberships -----------------------------------------------------------------------------------

constexpr Statement kInsertMembership{
    "socle_access_insert_membership",
    "INSERT INTO socle.memberships (org_id, member_id, email, created)"
    " VALUES ($1::text, $2::text, $3::text, $4::timestamptz)",
    4};
// AcceptInvitation: a member who already belongs keeps their membership as it is.
constexpr Statement kJoinIfAbsent{
    "socle_access_join_if_absent",
    "INSERT INTO socle.memberships (org_id, member_id, email, created)"
    " VALUES ($1::text, $2::text, $3::text, $4::timestamptz)"
    " ON CONFLICT (org_id, member_id) DO NOTHING",
    4};
constexpr Statement kGetMembership{
    "socle_access_get_membership",
    "SELECT m.org_id, m.member_id, m.email,"
    " (extract(epoch FROM m.created) * 1000000)::int8 AS created_us"
    " FROM socle.memberships AS m WHERE m.org_id = $1::text AND m.member_id = $2::text",
    2};
// The total and the page from one snapshot; the LEFT JOIN keeps the total past the end.
constexpr Statement kListMemberships{
    "socle_access_list_memberships",
    "SELECT t.total, page.* FROM"
    " (SELECT count(*) AS total FROM socle.memberships WHERE org_id = $1::text) AS t"
    " LEFT JOIN (SELECT m.org_id, m.member_id, m.email,"
    "            (extract(epoch FROM m.created) * 1000000)::int8 AS created_us"
    "            FROM socle.memberships AS m WHERE m.org_id = $1::text"
    "            ORDER BY m.email, m.member_id LIMIT $2::int8 OFFSET $3::int8) AS page ON true"
    " ORDER BY page.email, page.member_id",
    3};
// Platform scope.
constexpr Statement kMemberOrganisations{
    "socle_access_member_organisations",
    "SELECT m.org_id, m.member_id, m.email,"
    " (extract(epoch FROM m.created) * 1000000)::int8 AS created_us"
    " FROM socle.memberships AS m WHERE m.member_id = $1::text ORDER BY m.org_id",
    1};

// The last-owner invariant. A change that may remove owner policies first locks every owner
// policy of the organisation, in id order (so that two such changes never deadlock), and
// counts them; it then counts those left after its own statements, and fails when there were
// some and none is left. Two changes racing to remove the last two owners serialize on these
// locks: the second one waits, then its count (a new snapshot under READ COMMITTED) no longer
// sees the owner the first removed. Row locks rather than an advisory lock keyed on a hash of
// the organisation: they cover exactly the rows the invariant is about, and changes that touch
// no owner of a busy organisation never wait on one another. SERIALIZABLE would need retries
// for every access write.
constexpr Statement kLockOwners{
    "socle_access_lock_owners",
    "SELECT p.id FROM socle.policies AS p WHERE p.org_id = $1::text AND p.is_owner"
    " ORDER BY p.id FOR UPDATE",
    1};
// Data-modifying WITH queries all run, and the outer query sees the snapshot from before
// them: the owners left are those visible minus those this statement removed. The member's
// team places go through team_members' foreign key (ON DELETE CASCADE).
constexpr Statement kDeleteMembership{
    "socle_access_delete_membership",
    "WITH gone AS (DELETE FROM socle.memberships"
    "              WHERE org_id = $1::text AND member_id = $2::text RETURNING 1),"
    " unbound AS (DELETE FROM socle.policies"
    "             WHERE org_id = $1::text AND subject_kind = 'member' AND subject_id = $2::text"
    "             RETURNING is_owner)"
    " SELECT (SELECT count(*) FROM gone),"
    " (SELECT count(*) FROM socle.policies WHERE org_id = $1::text AND is_owner)"
    " - (SELECT count(*) FROM unbound WHERE is_owner)",
    2};

// Policies --------------------------------------------------------------------------------------

// Adds policies given as a JSON array of objects, and returns how many owner policies the
// organisation has with them. The custom roles they bind are locked FOR KEY SHARE until the
// transaction ends, so that DeleteRole (which locks the role FOR UPDATE, then looks for
// policies binding it) cannot miss a binding made concurrently. A SELECT in WITH runs only when
// referenced, hence the condition that reads it.
constexpr Statement kInsertPolicies{
    "socle_access_insert_policies",
    "WITH input AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS i(id text, subject_kind text,"
    "               subject_id text, role text, project text, created timestamptz,"
    "               created_by text)),"
    " held AS (SELECT 1 FROM socle.roles AS r"
    "          WHERE r.org_id = $1::text AND r.id IN (SELECT role FROM input) FOR KEY SHARE),"
    " added AS (INSERT INTO socle.policies"
    "           (id, org_id, subject_kind, subject_id, role, project, created, created_by)"
    "           SELECT i.id, $1::text, i.subject_kind, i.subject_id, i.role, i.project,"
    "           i.created, i.created_by FROM input AS i"
    "           WHERE (SELECT count(*) FROM held) >= 0"
    "           RETURNING is_owner)"
    " SELECT (SELECT count(*) FROM socle.policies WHERE org_id = $1::text AND is_owner)"
    " + (SELECT count(*) FROM added WHERE is_owner)",
    2};
// Removes the policies whose ids a JSON array lists: how many were asked for (a repeated id
// counts twice, so it cannot be found twice), how many went, and how many owners are left.
constexpr Statement kRemovePolicies{
    "socle_access_remove_policies",
    "WITH doomed AS (SELECT jsonb_array_elements_text($2::jsonb) AS id),"
    " gone AS (DELETE FROM socle.policies AS p"
    "          WHERE p.org_id = $1::text AND p.id IN (SELECT id FROM doomed)"
    "          RETURNING p.is_owner)"
    " SELECT (SELECT count(*) FROM doomed), (SELECT count(*) FROM gone),"
    " (SELECT count(*) FROM socle.policies WHERE org_id = $1::text AND is_owner)"
    " - (SELECT count(*) FROM gone WHERE is_owner)",
    2};
constexpr Statement kListPolicies{
    "socle_access_list_policies",
    "SELECT p.id, p.subject_kind, p.subject_id, p.role, p.org_id, p.project,"
    " (extract(epoch FROM p.created) * 1000000)::int8 AS created_us, p.created_by"
    " FROM socle.policies AS p WHERE p.org_id = $1::text ORDER BY p.id",
    1};

// Invitations -----------------------------------------------------------------------------------

// The role it offers is locked FOR KEY SHARE, as for policies (see kInsertPolicies).
constexpr Statement kInsertInvitation{
    "socle_access_insert_invitation",
    "WITH held AS (SELECT 1 FROM socle.roles"
    "              WHERE org_id = $2::text AND id = $4::text FOR KEY SHARE)"
    " INSERT INTO socle.invitations (id, org_id, email, role, project, token_binding,"
    " invited_by, state, created, expires, decided)"
    " SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text,"
    " $9::timestamptz, $10::timestamptz, $11::timestamptz"
    " WHERE (SELECT count(*) FROM held) >= 0",
    11};
constexpr Statement kGetInvitation{
    "socle_access_get_invitation",
    "SELECT i.id, i.org_id, i.email, i.role, i.project, i.token_binding, i.invited_by, i.state,"
    " (extract(epoch FROM i.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM i.expires) * 1000000)::int8 AS expires_us,"
    " (extract(epoch FROM i.decided) * 1000000)::int8 AS decided_us"
    " FROM socle.invitations AS i WHERE i.org_id = $1::text AND i.id = $2::text",
    2};
// Platform scope.
constexpr Statement kFindInvitation{
    "socle_access_find_invitation",
    "SELECT i.id, i.org_id, i.email, i.role, i.project, i.token_binding, i.invited_by, i.state,"
    " (extract(epoch FROM i.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM i.expires) * 1000000)::int8 AS expires_us,"
    " (extract(epoch FROM i.decided) * 1000000)::int8 AS decided_us"
    " FROM socle.invitations AS i WHERE i.token_binding = $1::text",
    1};
constexpr Statement kListInvitations{
    "socle_access_list_invitations",
    "SELECT t.total, page.* FROM"
    " (SELECT count(*) AS total FROM socle.invitations WHERE org_id = $1::text) AS t"
    " LEFT JOIN (SELECT i.id, i.org_id, i.email, i.role, i.project, i.token_binding,"
    "            i.invited_by, i.state,"
    "            (extract(epoch FROM i.created) * 1000000)::int8 AS created_us,"
    "            (extract(epoch FROM i.expires) * 1000000)::int8 AS expires_us,"
    "            (extract(epoch FROM i.decided) * 1000000)::int8 AS decided_us"
    "            FROM socle.invitations AS i WHERE i.org_id = $1::text"
    "            ORDER BY i.created DESC, i.id DESC LIMIT $2::int8 OFFSET $3::int8) AS page"
    " ON true ORDER BY page.created_us DESC, page.id DESC",
    3};
// Moves a pending invitation to a decided state; returns whether it did, and whether the
// invitation exists (from the snapshot before the update) to tell not_found from "no longer
// pending". Two racing decisions: the second waits for the first, then re-reads the row, finds
// it no longer pending and updates nothing.
constexpr Statement kDecideInvitation{
    "socle_access_decide_invitation",
    "WITH decided AS (UPDATE socle.invitations SET state = $3::text, decided = $4::timestamptz"
    "                 WHERE org_id = $1::text AND id = $2::text AND state = 'pending'"
    "                 RETURNING 1)"
    " SELECT (SELECT count(*) FROM decided),"
    " (SELECT count(*) FROM socle.invitations WHERE org_id = $1::text AND id = $2::text)",
    4};
// Platform scope: every organisation's invitations.
constexpr Statement kPurgeInvitations{
    "socle_access_purge_invitations",
    "DELETE FROM socle.invitations WHERE decided < $1::timestamptz OR expires < $1::timestamptz",
    1};

// Teams -----------------------------------------------------------------------------------------

constexpr Statement kInsertTeam{
    "socle_access_insert_team",
    "INSERT INTO socle.teams (id, org_id, name, description, created, updated)"
    " VALUES ($1::text, $2::text, $3::text, $4::text, $5::timestamptz, $6::timestamptz)",
    6};
constexpr Statement kGetTeam{
    "socle_access_get_team",
    "SELECT t.id, t.org_id, t.name, t.description,"
    " (extract(epoch FROM t.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM t.updated) * 1000000)::int8 AS updated_us"
    " FROM socle.teams AS t WHERE t.org_id = $1::text AND t.id = $2::text",
    2};
// lower() of the "C" column folds ASCII only, like the unique index on names.
constexpr Statement kListTeams{
    "socle_access_list_teams",
    "SELECT t.id, t.org_id, t.name, t.description,"
    " (extract(epoch FROM t.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM t.updated) * 1000000)::int8 AS updated_us"
    " FROM socle.teams AS t WHERE t.org_id = $1::text ORDER BY lower(t.name), t.id",
    1};
constexpr Statement kUpdateTeam{
    "socle_access_update_team",
    "UPDATE socle.teams SET name = $3::text, description = $4::text, updated = $5::timestamptz"
    " WHERE org_id = $1::text AND id = $2::text",
    5};
// As kDeleteMembership: the team's member places go through team_members' foreign key.
constexpr Statement kDeleteTeam{
    "socle_access_delete_team",
    "WITH gone AS (DELETE FROM socle.teams WHERE org_id = $1::text AND id = $2::text"
    "              RETURNING 1),"
    " unbound AS (DELETE FROM socle.policies"
    "             WHERE org_id = $1::text AND subject_kind = 'team' AND subject_id = $2::text"
    "             RETURNING is_owner)"
    " SELECT (SELECT count(*) FROM gone),"
    " (SELECT count(*) FROM socle.policies WHERE org_id = $1::text AND is_owner)"
    " - (SELECT count(*) FROM unbound WHERE is_owner)",
    2};
// The composite foreign keys refuse a team, or a member, of another organisation.
constexpr Statement kAddTeamMember{
    "socle_access_add_team_member",
    "INSERT INTO socle.team_members (org_id, team_id, member_id)"
    " VALUES ($1::text, $2::text, $3::text)",
    3};
constexpr Statement kRemoveTeamMember{
    "socle_access_remove_team_member",
    "DELETE FROM socle.team_members"
    " WHERE org_id = $1::text AND team_id = $2::text AND member_id = $3::text",
    3};
// One row per member, or one row of NULLs for an empty team; no row: no team.
constexpr Statement kTeamMembers{
    "socle_access_team_members",
    "SELECT m.org_id, m.member_id, m.email,"
    " (extract(epoch FROM m.created) * 1000000)::int8 AS created_us"
    " FROM socle.teams AS t"
    " LEFT JOIN socle.team_members AS tm ON tm.org_id = t.org_id AND tm.team_id = t.id"
    " LEFT JOIN socle.memberships AS m ON m.org_id = tm.org_id AND m.member_id = tm.member_id"
    " WHERE t.org_id = $1::text AND t.id = $2::text ORDER BY m.email, m.member_id",
    2};
constexpr Statement kMemberTeams{
    "socle_access_member_teams",
    "SELECT tm.team_id FROM socle.team_members AS tm"
    " WHERE tm.org_id = $1::text AND tm.member_id = $2::text ORDER BY tm.team_id",
    2};

// Custom roles ----------------------------------------------------------------------------------

// Parents and permissions arrive as JSON arrays and keep their order. The parents are locked
// FOR KEY SHARE, as policies lock their role (see kInsertPolicies), for DeleteRole's
// "another role inherits it".
constexpr Statement kPutRole{
    "socle_access_put_role",
    "WITH held AS (SELECT 1 FROM socle.roles WHERE org_id = $1::text"
    "              AND id IN (SELECT jsonb_array_elements_text($5::jsonb)) FOR KEY SHARE)"
    " INSERT INTO socle.roles (org_id, id, name, scope, parents, permissions, created, updated)"
    " SELECT $1::text, $2::text, $3::text, $4::text,"
    " ARRAY(SELECT e.value FROM jsonb_array_elements_text($5::jsonb) WITH ORDINALITY"
    "       AS e(value, n) ORDER BY e.n),"
    " ARRAY(SELECT e.value FROM jsonb_array_elements_text($6::jsonb) WITH ORDINALITY"
    "       AS e(value, n) ORDER BY e.n),"
    " $7::timestamptz, $8::timestamptz"
    " WHERE (SELECT count(*) FROM held) >= 0"
    " ON CONFLICT (org_id, id) DO UPDATE SET name = EXCLUDED.name, scope = EXCLUDED.scope,"
    " parents = EXCLUDED.parents, permissions = EXCLUDED.permissions,"
    " updated = EXCLUDED.updated",
    8};
constexpr Statement kListRoles{
    "socle_access_list_roles",
    "SELECT r.org_id, r.id, r.name, r.scope, array_to_json(r.parents)::text,"
    " array_to_json(r.permissions)::text,"
    " (extract(epoch FROM r.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM r.updated) * 1000000)::int8 AS updated_us"
    " FROM socle.roles AS r WHERE r.org_id = $1::text ORDER BY r.id",
    1};
// DeleteRole locks the role first; what refers to it is read afterwards, in a new snapshot
// that includes whatever the transactions holding its KEY SHARE lock committed.
constexpr Statement kLockRole{
    "socle_access_lock_role",
    "SELECT 1 FROM socle.roles WHERE org_id = $1::text AND id = $2::text FOR UPDATE", 2};
constexpr Statement kDeleteRoleIfUnused{
    "socle_access_delete_role_if_unused",
    "WITH uses AS (SELECT"
    "  EXISTS (SELECT 1 FROM socle.policies WHERE org_id = $1::text AND role = $2::text)"
    "    AS bound,"
    "  EXISTS (SELECT 1 FROM socle.invitations"
    "          WHERE org_id = $1::text AND role = $2::text AND state = 'pending') AS offered,"
    "  EXISTS (SELECT 1 FROM socle.roles"
    "          WHERE org_id = $1::text AND id <> $2::text AND $2::text = ANY (parents))"
    "    AS inherited),"
    " gone AS (DELETE FROM socle.roles WHERE org_id = $1::text AND id = $2::text"
    "          AND NOT (SELECT bound OR offered OR inherited FROM uses) RETURNING 1)"
    " SELECT u.bound, u.offered, u.inherited, (SELECT count(*) FROM gone) FROM uses AS u",
    2};

// Feature flags ---------------------------------------------------------------------------------

constexpr Statement kPutFlag{
    "socle_access_put_flag",
    "INSERT INTO socle.flags (org_id, key, level, subject, value, description, updated,"
    " updated_by) VALUES ($1::text, $2::text, $3::text, $4::text, $5::jsonb, $6::text,"
    " $7::timestamptz, $8::text)"
    " ON CONFLICT (org_id, key, level, subject) DO UPDATE SET value = EXCLUDED.value,"
    " description = EXCLUDED.description, updated = EXCLUDED.updated,"
    " updated_by = EXCLUDED.updated_by",
    8};
constexpr Statement kDeleteFlag{
    "socle_access_delete_flag",
    "DELETE FROM socle.flags"
    " WHERE org_id = $1::text AND key = $2::text AND level = $3::text AND subject = $4::text",
    4};
// The organisation's flags and the global ones ('' lists the global ones only). jsonb keeps a
// number as an exact decimal and prints it without exponent, so a double such as 1e300 would
// come back as 301 digits, which no JSON reader takes for a double: a number beyond int64 is
// read back through float8, whose text is the shortest that round-trips.
constexpr Statement kListFlags{
    "socle_access_list_flags",
    "SELECT f.key, f.level, f.org_id, f.subject,"
    " CASE jsonb_typeof(f.value) WHEN 'number' THEN"
    "   CASE WHEN f.value::numeric BETWEEN -9223372036854775808 AND 9223372036854775807"
    "   THEN f.value::text ELSE f.value::float8::text END"
    " ELSE f.value::text END,"
    " f.description, (extract(epoch FROM f.updated) * 1000000)::int8 AS updated_us,"
    " f.updated_by"
    " FROM socle.flags AS f WHERE f.org_id = $1::text OR f.org_id = ''"
    " ORDER BY f.key, f.level, f.subject",
    1};

// ---- helpers -----------------------------------------------------------------------------------

Result<std::int64_t> Int(const PgResult& result, int row, int column) {
  const std::string_view text = result.Text(row, column);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Fail(Error::Internal("expected an integer from PostgreSQL, got: " + std::string(text)));
  }
  return value;
}

Result<bool> Bool(const PgResult& result, int row, int column) {
  const std::string_view text = result.Text(row, column);
  if (text == "t") return true;
  if (text == "f") return false;
  return Fail(Error::Internal("expected a boolean from PostgreSQL, got: " + std::string(text)));
}

Result<domain::Timestamp> Micros(const PgResult& result, int row, int column) {
  auto micros = Int(result, row, column);
  if (!micros) return Fail(micros.error());
  return domain::Timestamp::FromUnixMicros(*micros);
}

// Rows are read back through the domain parsers: a row that fails them was written by
// something else than this adapter, which is an internal error, not the caller's.
template <typename T>
Result<T> Column(Result<T> parsed, std::string_view column) {
  if (parsed) return parsed;
  return Fail(Error::Internal("stored " + std::string(column) + " is malformed: " +
                              parsed.error().message));
}

std::string Text(const PgResult& result, int row, int column) {
  return std::string(result.Text(row, column));
}

std::optional<std::string> OptionalText(const PgResult& result, int row, int column) {
  if (result.IsNull(row, column)) return std::nullopt;
  return Text(result, row, column);
}

std::optional<std::string> OptionalIso(const std::optional<domain::Timestamp>& at) {
  if (!at) return std::nullopt;
  return at->ToIso8601();
}

std::string_view KindName(domain::RbacSubject::Kind kind) {
  switch (kind) {
    case domain::RbacSubject::Kind::kMember: return "member";
    case domain::RbacSubject::Kind::kTeam: return "team";
    case domain::RbacSubject::Kind::kApiKey: return "apikey";
  }
  return "member";
}

Result<domain::RbacSubject::Kind> ParseKind(std::string_view text) {
  using Kind = domain::RbacSubject::Kind;
  for (Kind kind : {Kind::kMember, Kind::kTeam, Kind::kApiKey}) {
    if (KindName(kind) == text) return kind;
  }
  return Fail(Error::Internal("stored policies.subject_kind is unknown: " + std::string(text)));
}

Result<domain::RbacScope> ParseScope(std::string_view text) {
  for (auto scope : {domain::RbacScope::kOrganisation, domain::RbacScope::kProject}) {
    if (domain::ToString(scope) == text) return scope;
  }
  return Fail(Error::Internal("stored roles.scope is unknown: " + std::string(text)));
}

std::string StringsJson(const std::vector<std::string>& values) {
  json::JsonWriter writer;
  writer.BeginArray();
  for (const auto& value : values) writer.String(value);
  writer.EndArray();
  return std::move(writer).Take();
}

Result<std::vector<std::string>> ParseStrings(std::string_view text, std::string_view column) {
  auto parsed = json::ParseJson(text);
  if (!parsed || parsed->type() != domain::JsonValue::Type::kArray) {
    return Fail(Error::Internal("stored " + std::string(column) + " is not a JSON array"));
  }
  std::vector<std::string> out;
  out.reserve(parsed->items().size());
  for (const auto& item : parsed->items()) {
    if (item.type() != domain::JsonValue::Type::kString) {
      return Fail(Error::Internal("stored " + std::string(column) + " holds a non-string"));
    }
    out.push_back(item.AsString());
  }
  return out;
}

// The rows kInsertPolicies unpacks; the organisation is the transaction's, not the object's.
std::string PoliciesJson(const std::vector<StoredPolicy>& policies) {
  json::JsonWriter writer;
  writer.BeginArray();
  for (const auto& stored : policies) {
    const domain::Policy& policy = stored.policy;
    writer.BeginObject()
        .Key("id").String(policy.id)
        .Key("subject_kind").String(KindName(policy.subject.kind))
        .Key("subject_id").String(policy.subject.id)
        .Key("role").String(policy.role)
        .Key("project");
    if (policy.project) {
      writer.String(*policy.project);
    } else {
      writer.Null();
    }
    writer.Key("created").String(stored.created.ToIso8601())
        .Key("created_by").String(stored.created_by)
        .EndObject();
  }
  writer.EndArray();
  return std::move(writer).Take();
}

Result<Membership> ReadMembership(const PgResult& r, int row, int first) {
  auto org_id = Column(domain::Id::Parse(r.Text(row, first)), "memberships.org_id");
  if (!org_id) return Fail(org_id.error());
  auto created = Micros(r, row, first + 3);
  if (!created) return Fail(created.error());
  return Membership{*org_id, Text(r, row, first + 1), Text(r, row, first + 2), *created};
}

Result<Invitation> ReadInvitation(const PgResult& r, int row, int first) {
  auto id = Column(domain::Id::Parse(r.Text(row, first)), "invitations.id");
  auto org_id = Column(domain::Id::Parse(r.Text(row, first + 1)), "invitations.org_id");
  auto state = Column(domain::ParseInvitationState(r.Text(row, first + 7)), "invitations.state");
  auto created = Micros(r, row, first + 8);
  auto expires = Micros(r, row, first + 9);
  if (!id) return Fail(id.error());
  if (!org_id) return Fail(org_id.error());
  if (!state) return Fail(state.error());
  if (!created) return Fail(created.error());
  if (!expires) return Fail(expires.error());
  std::optional<domain::Timestamp> decided;
  if (!r.IsNull(row, first + 10)) {
    auto at = Micros(r, row, first + 10);
    if (!at) return Fail(at.error());
    decided = *at;
  }
  return Invitation{*id,
                    *org_id,
                    Text(r, row, first + 2),
                    Text(r, row, first + 3),
                    OptionalText(r, row, first + 4),
                    Text(r, row, first + 5),
                    Text(r, row, first + 6),
                    *state,
                    *created,
                    *expires,
                    decided};
}

Result<Team> ReadTeam(const PgResult& r, int row) {
  auto id = Column(domain::Id::Parse(r.Text(row, 0)), "teams.id");
  auto org_id = Column(domain::Id::Parse(r.Text(row, 1)), "teams.org_id");
  auto created = Micros(r, row, 4);
  auto updated = Micros(r, row, 5);
  if (!id) return Fail(id.error());
  if (!org_id) return Fail(org_id.error());
  if (!created) return Fail(created.error());
  if (!updated) return Fail(updated.error());
  return Team{*id, *org_id, Text(r, row, 2), Text(r, row, 3), *created, *updated};
}

Result<domain::CustomRole> ReadRole(const PgResult& r, int row) {
  auto org_id = Column(domain::Id::Parse(r.Text(row, 0)), "roles.org_id");
  auto scope = ParseScope(r.Text(row, 3));
  auto parents = ParseStrings(r.Text(row, 4), "roles.parents");
  auto permissions = ParseStrings(r.Text(row, 5), "roles.permissions");
  auto created = Micros(r, row, 6);
  auto updated = Micros(r, row, 7);
  if (!org_id) return Fail(org_id.error());
  if (!scope) return Fail(scope.error());
  if (!parents) return Fail(parents.error());
  if (!permissions) return Fail(permissions.error());
  if (!created) return Fail(created.error());
  if (!updated) return Fail(updated.error());
  domain::Role role{Text(r, row, 1), Text(r, row, 2), *scope, std::move(*parents),
                    std::move(*permissions), /*builtin=*/false};
  return domain::CustomRole{*org_id, std::move(role), *created, *updated};
}

Result<StoredPolicy> ReadPolicy(const PgResult& r, int row) {
  auto kind = ParseKind(r.Text(row, 1));
  auto created = Micros(r, row, 6);
  if (!kind) return Fail(kind.error());
  if (!created) return Fail(created.error());
  domain::Policy policy{Text(r, row, 0), domain::RbacSubject{*kind, Text(r, row, 2)},
                        Text(r, row, 3), Text(r, row, 4), OptionalText(r, row, 5)};
  return StoredPolicy{std::move(policy), *created, Text(r, row, 7)};
}

Result<FeatureFlag> ReadFlag(const PgResult& r, int row) {
  auto level = Column(domain::ParseFlagLevel(r.Text(row, 1)), "flags.level");
  auto value = Column(json::ParseJson(r.Text(row, 4)), "flags.value");
  auto updated = Micros(r, row, 6);
  if (!level) return Fail(level.error());
  if (!value) return Fail(value.error());
  if (!updated) return Fail(updated.error());
  return FeatureFlag{Text(r, row, 0), *level,           Text(r, row, 2), Text(r, row, 3),
                     std::move(*value), Text(r, row, 5), *updated,        Text(r, row, 7)};
}

// Reads a page query shaped "total, columns of one item ..." into a PageOf.
template <typename T, typename Reader>
Result<domain::PageOf<T>> ReadPage(const PgResult& r, const domain::PageRequest& page,
                                   Reader read) {
  domain::PageOf<T> out;
  out.page = page.page;
  out.per_page = page.per_page;
  for (int row = 0; row < r.Rows(); ++row) {
    auto total = Int(r, row, 0);
    if (!total) return Fail(total.error());
    out.total_items = *total;
    if (r.IsNull(row, 1)) continue;  // the page is past the end: only the total came back
    auto item = read(r, row, 1);
    if (!item) return Fail(item.error());
    out.items.push_back(std::move(*item));
  }
  return out;
}

// What a constraint PostgreSQL names in an error means to the caller.
struct Meaning {
  std::string_view constraint;
  ErrorCode code;
  std::string_view message;
};

constexpr Meaning kOrganisationFk[] = {
    {"memberships_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
    {"invitations_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
    {"teams_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
    {"roles_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
    {"policies_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
    {"flags_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
};
constexpr Meaning kPolicyConstraints[] = {
    {"policies_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
    {"policies_project_fkey", ErrorCode::kNotFound, "Project not found in the organisation."},
    {"policies_pkey", ErrorCode::kAlreadyExists, "A policy with this id already exists."},
    {"policies_binding_key", ErrorCode::kAlreadyExists,
     "This role is already bound to this subject at this scope."},
};
constexpr Meaning kMembershipConstraints[] = {
    {"memberships_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
    {"memberships_pkey", ErrorCode::kAlreadyExists,
     "This member already belongs to the organisation."},
};
constexpr Meaning kInvitationConstraints[] = {
    {"invitations_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
    {"invitations_project_fkey", ErrorCode::kNotFound, "Project not found in the organisation."},
    {"invitations_pkey", ErrorCode::kAlreadyExists, "An invitation with this id already exists."},
    {"invitations_token_binding_key", ErrorCode::kAlreadyExists,
     "An invitation with this token already exists."},
};
constexpr Meaning kTeamConstraints[] = {
    {"teams_org_fkey", ErrorCode::kNotFound, "Organisation not found."},
    {"teams_pkey", ErrorCode::kAlreadyExists, "A team with this id already exists."},
    {"teams_org_name_key", ErrorCode::kAlreadyExists, "A team with this name already exists."},
};
constexpr Meaning kTeamMemberConstraints[] = {
    {"team_members_team_fkey", ErrorCode::kNotFound, "Team not found."},
    {"team_members_member_fkey", ErrorCode::kNotFound, "Member not found."},
    {"team_members_pkey", ErrorCode::kAlreadyExists, "The member is already in the team."},
};

// Names a failed statement's error after the constraint it broke, when that is one the method
// expects; any other error (a check constraint, a lost connection) keeps its generic mapping.
template <std::size_t N>
Error Explain(Error error, const Connection& conn, const Meaning (&meanings)[N]) {
  for (const Meaning& meaning : meanings) {
    if (conn.last_constraint() == meaning.constraint) {
      error.code = meaning.code;
      error.message = std::string(meaning.message);
      break;
    }
  }
  return error;
}

// How many owner policies the organisation has, each now locked until the transaction ends
// (see kLockOwners).
Result<std::int64_t> LockOwners(Connection& conn, const domain::Id& org_id) {
  auto owners = conn.Execute(kLockOwners, {org_id.str()});
  if (!owners) return Fail(owners.error());
  return static_cast<std::int64_t>(owners->Rows());
}

Result<void> KeepsAnOwner(std::int64_t before, std::int64_t after) {
  if (before > 0 && after <= 0) {
    return Fail(ErrorCode::kFailedPrecondition, "The organisation must keep at least one owner.");
  }
  return {};
}

Result<void> SameOrganisation(const std::vector<StoredPolicy>& policies,
                              const domain::Id& org_id) {
  for (const auto& stored : policies) {
    if (stored.policy.organisation != org_id.str()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "A policy can only be added to its own organisation.");
    }
  }
  return {};
}

// Adds policies in the open transaction; returns the organisation's owner count with them.
Result<std::int64_t> AddPolicies(Connection& conn, const domain::Id& org_id,
                                 const std::vector<StoredPolicy>& policies) {
  auto added = conn.Execute(kInsertPolicies, {org_id.str(), PoliciesJson(policies)});
  if (!added) return Fail(Explain(std::move(added.error()), conn, kPolicyConstraints));
  return Int(*added, 0, 0);
}

// Moves a pending invitation to `state` in the open transaction.
Result<void> DecideInvitation(Connection& conn, const domain::Id& org_id, const domain::Id& id,
                              InvitationState state, domain::Timestamp at) {
  auto decided = conn.Execute(kDecideInvitation, {org_id.str(), id.str(),
                                                  std::string(domain::ToString(state)),
                                                  at.ToIso8601()});
  if (!decided) return Fail(decided.error());
  auto changed = Int(*decided, 0, 0);
  auto exists = Int(*decided, 0, 1);
  if (!changed) return Fail(changed.error());
  if (!exists) return Fail(exists.error());
  if (*changed == 1) return {};
  if (*exists == 0) return Fail(ErrorCode::kNotFound, "Invitation not found.");
  return Fail(ErrorCode::kFailedPrecondition, "The invitation is no longer pending.");
}

}  // namespace

// ---- the scoped transaction --------------------------------------------------------------------

template <typename T, typename Body>
Result<T> PostgresCatalogueStore::Access(AccessScope scope, const std::string& org_id,
                                         AccessIntent intent, Body&& body) {
  const bool platform = scope == AccessScope::kPlatform;
  // Platform scope names no organisation: org-keyed policies then admit nothing.
  const Params settings{platform ? std::string() : org_id,
                        std::string(platform ? kPlatformScope : "")};
  Result<T> result = Fail(Error::Internal("the access transaction did not run"));
  auto ran = OnConnection([&](Connection& conn) -> Result<void> {
    auto scoped = [&]() -> Result<T> {
      if (auto entered = conn.Execute(kEnterScope, settings); !entered) {
        return Fail(entered.error());
      }
      return body(conn);
    };
    // A write is the catalogue's write transaction, where an audited change's events go; they
    // are appended as the login role (RunAudit leaves socle_tenant), after every statement of
    // the method ran under the scope.
    result = intent == AccessIntent::kRead ? InTransaction(conn, kBeginReadOnly, scoped)
                                           : CatalogueWrite(conn, this, scoped);
    if (!result) return Fail(result.error());
    return {};
  });
  if (!ran) return Fail(ran.error());
  return result;
}

// ---- memberships -------------------------------------------------------------------------------

Result<void> PostgresCatalogueStore::InsertMembership(const Membership& membership,
                                                      const std::vector<StoredPolicy>& policies) {
  if (auto same = SameOrganisation(policies, membership.org_id); !same) return same;
  return Access<void>(
      AccessScope::kOrganisation, membership.org_id.str(), AccessIntent::kWrite,
      [&](Connection& conn) -> Result<void> {
        auto joined = conn.Execute(kInsertMembership,
                                   {membership.org_id.str(), membership.member_id,
                                    membership.email, membership.created.ToIso8601()});
        if (!joined) return Fail(Explain(std::move(joined.error()), conn, kMembershipConstraints));
        if (policies.empty()) return {};
        auto added = AddPolicies(conn, membership.org_id, policies);
        if (!added) return Fail(added.error());
        return {};
      });
}

Result<Membership> PostgresCatalogueStore::GetMembership(const domain::Id& org_id,
                                                         const std::string& member_id) {
  return Access<Membership>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
                            [&](Connection& conn) -> Result<Membership> {
                              auto rows = conn.Execute(kGetMembership, {org_id.str(), member_id});
                              if (!rows) return Fail(rows.error());
                              if (rows->Rows() == 0) {
                                return Fail(ErrorCode::kNotFound, "Member not found.");
                              }
                              return ReadMembership(*rows, 0, 0);
                            });
}

Result<domain::PageOf<Membership>> PostgresCatalogueStore::ListMemberships(
    const domain::Id& org_id, const domain::PageRequest& page) {
  using Page = domain::PageOf<Membership>;
  return Access<Page>(
      AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
      [&](Connection& conn) -> Result<Page> {
        auto rows = conn.Execute(kListMemberships, {org_id.str(), std::to_string(page.per_page),
                                                    std::to_string(page.Offset())});
        if (!rows) return Fail(rows.error());
        return ReadPage<Membership>(*rows, page, ReadMembership);
      });
}

Result<std::vector<Membership>> PostgresCatalogueStore::MemberOrganisations(
    const std::string& member_id) {
  using List = std::vector<Membership>;
  return Access<List>(AccessScope::kPlatform, {}, AccessIntent::kRead,
                      [&](Connection& conn) -> Result<List> {
                        auto rows = conn.Execute(kMemberOrganisations, {member_id});
                        if (!rows) return Fail(rows.error());
                        List out;
                        for (int row = 0; row < rows->Rows(); ++row) {
                          auto membership = ReadMembership(*rows, row, 0);
                          if (!membership) return Fail(membership.error());
                          out.push_back(std::move(*membership));
                        }
                        return out;
                      });
}

Result<void> PostgresCatalogueStore::DeleteMembership(const domain::Id& org_id,
                                                      const std::string& member_id) {
  return Access<void>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kWrite,
                      [&](Connection& conn) -> Result<void> {
                        auto before = LockOwners(conn, org_id);
                        if (!before) return Fail(before.error());
                        auto done = conn.Execute(kDeleteMembership, {org_id.str(), member_id});
                        if (!done) return Fail(done.error());
                        auto gone = Int(*done, 0, 0);
                        auto owners = Int(*done, 0, 1);
                        if (!gone) return Fail(gone.error());
                        if (!owners) return Fail(owners.error());
                        if (*gone == 0) return Fail(ErrorCode::kNotFound, "Member not found.");
                        return KeepsAnOwner(*before, *owners);
                      });
}

// ---- invitations -------------------------------------------------------------------------------

Result<void> PostgresCatalogueStore::InsertInvitation(const Invitation& invitation) {
  return Access<void>(
      AccessScope::kOrganisation, invitation.org_id.str(), AccessIntent::kWrite,
      [&](Connection& conn) -> Result<void> {
        auto done = conn.Execute(
            kInsertInvitation,
            {invitation.id.str(), invitation.org_id.str(), invitation.email, invitation.role,
             invitation.project, invitation.token_binding, invitation.invited_by,
             std::string(domain::ToString(invitation.state)), invitation.created.ToIso8601(),
             invitation.expires.ToIso8601(), OptionalIso(invitation.decided)});
        if (!done) return Fail(Explain(std::move(done.error()), conn, kInvitationConstraints));
        return {};
      });
}

Result<Invitation> PostgresCatalogueStore::GetInvitation(const domain::Id& org_id,
                                                         const domain::Id& id) {
  return Access<Invitation>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
                            [&](Connection& conn) -> Result<Invitation> {
                              auto rows = conn.Execute(kGetInvitation, {org_id.str(), id.str()});
                              if (!rows) return Fail(rows.error());
                              if (rows->Rows() == 0) {
                                return Fail(ErrorCode::kNotFound, "Invitation not found.");
                              }
                              return ReadInvitation(*rows, 0, 0);
                            });
}

Result<Invitation> PostgresCatalogueStore::FindInvitation(const std::string& token_binding) {
  return Access<Invitation>(AccessScope::kPlatform, {}, AccessIntent::kRead,
                            [&](Connection& conn) -> Result<Invitation> {
                              auto rows = conn.Execute(kFindInvitation, {token_binding});
                              if (!rows) return Fail(rows.error());
                              if (rows->Rows() == 0) {
                                return Fail(ErrorCode::kNotFound, "Invitation not found.");
                              }
                              return ReadInvitation(*rows, 0, 0);
                            });
}

Result<domain::PageOf<Invitation>> PostgresCatalogueStore::ListInvitations(
    const domain::Id& org_id, const domain::PageRequest& page) {
  using Page = domain::PageOf<Invitation>;
  return Access<Page>(
      AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
      [&](Connection& conn) -> Result<Page> {
        auto rows = conn.Execute(kListInvitations, {org_id.str(), std::to_string(page.per_page),
                                                    std::to_string(page.Offset())});
        if (!rows) return Fail(rows.error());
        return ReadPage<Invitation>(*rows, page, ReadInvitation);
      });
}

Result<void> PostgresCatalogueStore::CloseInvitation(const domain::Id& org_id,
                                                     const domain::Id& id, InvitationState state,
                                                     domain::Timestamp at) {
  if (state != InvitationState::kDeclined && state != InvitationState::kRevoked) {
    return Fail(ErrorCode::kInvalidArgument, "An invitation is closed as declined or revoked.");
  }
  return Access<void>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kWrite,
                      [&](Connection& conn) { return DecideInvitation(conn, org_id, id, state, at); });
}

Result<void> PostgresCatalogueStore::AcceptInvitation(const domain::Id& org_id,
                                                      const domain::Id& id,
                                                      const Membership& membership,
                                                      const StoredPolicy& policy,
                                                      domain::Timestamp at) {
  if (membership.org_id != org_id || policy.policy.organisation != org_id.str()) {
    return Fail(ErrorCode::kInvalidArgument,
                "The membership and the policy must be of the invitation's organisation.");
  }
  return Access<void>(
      AccessScope::kOrganisation, org_id.str(), AccessIntent::kWrite,
      [&](Connection& conn) -> Result<void> {
        if (auto decided = DecideInvitation(conn, org_id, id, InvitationState::kAccepted, at);
            !decided) {
          return decided;
        }
        auto joined = conn.Execute(kJoinIfAbsent, {org_id.str(), membership.member_id,
                                                   membership.email,
                                                   membership.created.ToIso8601()});
        if (!joined) return Fail(Explain(std::move(joined.error()), conn, kMembershipConstraints));
        auto added = AddPolicies(conn, org_id, {policy});
        if (!added) return Fail(added.error());
        return {};
      });
}

Result<std::int64_t> PostgresCatalogueStore::PurgeInvitations(domain::Timestamp before) {
  return Access<std::int64_t>(AccessScope::kPlatform, {}, AccessIntent::kWrite,
                              [&](Connection& conn) -> Result<std::int64_t> {
                                auto done = conn.Execute(kPurgeInvitations, {before.ToIso8601()});
                                if (!done) return Fail(done.error());
                                return done->Affected();
                              });
}

// ---- teams -------------------------------------------------------------------------------------

Result<void> PostgresCatalogueStore::InsertTeam(const Team& team) {
  return Access<void>(AccessScope::kOrganisation, team.org_id.str(), AccessIntent::kWrite,
                      [&](Connection& conn) -> Result<void> {
                        auto done = conn.Execute(
                            kInsertTeam, {team.id.str(), team.org_id.str(), team.name,
                                          team.description, team.created.ToIso8601(),
                                          team.updated.ToIso8601()});
                        if (!done) {
                          return Fail(Explain(std::move(done.error()), conn, kTeamConstraints));
                        }
                        return {};
                      });
}

Result<Team> PostgresCatalogueStore::GetTeam(const domain::Id& org_id, const domain::Id& id) {
  return Access<Team>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
                      [&](Connection& conn) -> Result<Team> {
                        auto rows = conn.Execute(kGetTeam, {org_id.str(), id.str()});
                        if (!rows) return Fail(rows.error());
                        if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Team not found.");
                        return ReadTeam(*rows, 0);
                      });
}

Result<std::vector<Team>> PostgresCatalogueStore::ListTeams(const domain::Id& org_id) {
  using List = std::vector<Team>;
  return Access<List>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
                      [&](Connection& conn) -> Result<List> {
                        auto rows = conn.Execute(kListTeams, {org_id.str()});
                        if (!rows) return Fail(rows.error());
                        List out;
                        for (int row = 0; row < rows->Rows(); ++row) {
                          auto team = ReadTeam(*rows, row);
                          if (!team) return Fail(team.error());
                          out.push_back(std::move(*team));
                        }
                        return out;
                      });
}

Result<void> PostgresCatalogueStore::UpdateTeam(const Team& team) {
  return Access<void>(AccessScope::kOrganisation, team.org_id.str(), AccessIntent::kWrite,
                      [&](Connection& conn) -> Result<void> {
                        auto done = conn.Execute(kUpdateTeam,
                                                 {team.org_id.str(), team.id.str(), team.name,
                                                  team.description, team.updated.ToIso8601()});
                        if (!done) {
                          return Fail(Explain(std::move(done.error()), conn, kTeamConstraints));
                        }
                        if (done->Affected() == 0) {
                          return Fail(ErrorCode::kNotFound, "Team not found.");
                        }
                        return {};
                      });
}

// A team's policies are never owner policies today (domain::IsOwnerPolicy wants a member), yet
// the deletion goes through the same lock and count as the others: the invariant then rests on
// policies.is_owner alone, should that definition ever change.
Result<void> PostgresCatalogueStore::DeleteTeam(const domain::Id& org_id, const domain::Id& id) {
  return Access<void>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kWrite,
                      [&](Connection& conn) -> Result<void> {
                        auto before = LockOwners(conn, org_id);
                        if (!before) return Fail(before.error());
                        auto done = conn.Execute(kDeleteTeam, {org_id.str(), id.str()});
                        if (!done) return Fail(done.error());
                        auto gone = Int(*done, 0, 0);
                        auto owners = Int(*done, 0, 1);
                        if (!gone) return Fail(gone.error());
                        if (!owners) return Fail(owners.error());
                        if (*gone == 0) return Fail(ErrorCode::kNotFound, "Team not found.");
                        return KeepsAnOwner(*before, *owners);
                      });
}

Result<void> PostgresCatalogueStore::AddTeamMember(const domain::Id& org_id,
                                                   const domain::Id& team_id,
                                                   const std::string& member_id) {
  return Access<void>(
      AccessScope::kOrganisation, org_id.str(), AccessIntent::kWrite,
      [&](Connection& conn) -> Result<void> {
        auto done = conn.Execute(kAddTeamMember, {org_id.str(), team_id.str(), member_id});
        if (!done) return Fail(Explain(std::move(done.error()), conn, kTeamMemberConstraints));
        return {};
      });
}

Result<void> PostgresCatalogueStore::RemoveTeamMember(const domain::Id& org_id,
                                                      const domain::Id& team_id,
                                                      const std::string& member_id) {
  return Access<void>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kWrite,
                      [&](Connection& conn) -> Result<void> {
                        auto done = conn.Execute(kRemoveTeamMember,
                                                 {org_id.str(), team_id.str(), member_id});
                        if (!done) return Fail(done.error());
                        if (done->Affected() == 0) {
                          return Fail(ErrorCode::kNotFound, "The member is not in the team.");
                        }
                        return {};
                      });
}

Result<std::vector<Membership>> PostgresCatalogueStore::TeamMembers(const domain::Id& org_id,
                                                                    const domain::Id& team_id) {
  using List = std::vector<Membership>;
  return Access<List>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
                      [&](Connection& conn) -> Result<List> {
                        auto rows = conn.Execute(kTeamMembers, {org_id.str(), team_id.str()});
                        if (!rows) return Fail(rows.error());
                        if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Team not found.");
                        List out;
                        for (int row = 0; row < rows->Rows(); ++row) {
                          if (rows->IsNull(row, 0)) continue;  // an empty team's one row
                          auto membership = ReadMembership(*rows, row, 0);
                          if (!membership) return Fail(membership.error());
                          out.push_back(std::move(*membership));
                        }
                        return out;
                      });
}

Result<std::vector<std::string>> PostgresCatalogueStore::MemberTeams(
    const domain::Id& org_id, const std::string& member_id) {
  using List = std::vector<std::string>;
  return Access<List>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
                      [&](Connection& conn) -> Result<List> {
                        auto rows = conn.Execute(kMemberTeams, {org_id.str(), member_id});
                        if (!rows) return Fail(rows.error());
                        List out;
                        out.reserve(static_cast<std::size_t>(rows->Rows()));
                        for (int row = 0; row < rows->Rows(); ++row) {
                          out.push_back(Text(*rows, row, 0));
                        }
                        return out;
                      });
}

// ---- custom roles ------------------------------------------------------------------------------

Result<void> PostgresCatalogueStore::PutRole(const domain::CustomRole& role) {
  return Access<void>(
      AccessScope::kOrganisation, role.org_id.str(), AccessIntent::kWrite,
      [&](Connection& conn) -> Result<void> {
        auto done = conn.Execute(
            kPutRole, {role.org_id.str(), role.role.id, role.role.name,
                       std::string(domain::ToString(role.role.scope)),
                       StringsJson(role.role.parents), StringsJson(role.role.permissions),
                       role.created.ToIso8601(), role.updated.ToIso8601()});
        if (!done) return Fail(Explain(std::move(done.error()), conn, kOrganisationFk));
        return {};
      });
}

Result<std::vector<domain::CustomRole>> PostgresCatalogueStore::ListRoles(
    const domain::Id& org_id) {
  using List = std::vector<domain::CustomRole>;
  return Access<List>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
                      [&](Connection& conn) -> Result<List> {
                        auto rows = conn.Execute(kListRoles, {org_id.str()});
                        if (!rows) return Fail(rows.error());
                        List out;
                        for (int row = 0; row < rows->Rows(); ++row) {
                          auto role = ReadRole(*rows, row);
                          if (!role) return Fail(role.error());
                          out.push_back(std::move(*role));
                        }
                        return out;
                      });
}

Result<void> PostgresCatalogueStore::DeleteRole(const domain::Id& org_id,
                                                const std::string& role_id) {
  return Access<void>(
      AccessScope::kOrganisation, org_id.str(), AccessIntent::kWrite,
      [&](Connection& conn) -> Result<void> {
        auto locked = conn.Execute(kLockRole, {org_id.str(), role_id});
        if (!locked) return Fail(locked.error());
        if (locked->Rows() == 0) return Fail(ErrorCode::kNotFound, "Role not found.");
        auto done = conn.Execute(kDeleteRoleIfUnused, {org_id.str(), role_id});
        if (!done) return Fail(done.error());
        auto bound = Bool(*done, 0, 0);
        auto offered = Bool(*done, 0, 1);
        auto inherited = Bool(*done, 0, 2);
        if (!bound) return Fail(bound.error());
        if (!offered) return Fail(offered.error());
        if (!inherited) return Fail(inherited.error());
        if (*bound) return Fail(ErrorCode::kFailedPrecondition, "A policy still binds this role.");
        if (*offered) {
          return Fail(ErrorCode::kFailedPrecondition,
                      "A pending invitation still offers this role.");
        }
        if (*inherited) {
          return Fail(ErrorCode::kFailedPrecondition, "Another role still inherits this role.");
        }
        return {};
      });
}

// ---- policies ----------------------------------------------------------------------------------

Result<std::vector<StoredPolicy>> PostgresCatalogueStore::ListPolicies(const domain::Id& org_id) {
  using List = std::vector<StoredPolicy>;
  return Access<List>(AccessScope::kOrganisation, org_id.str(), AccessIntent::kRead,
                      [&](Connection& conn) -> Result<List> {
                        auto rows = conn.Execute(kListPolicies, {org_id.str()});
                        if (!rows) return Fail(rows.error());
                        List out;
                        for (int row = 0; row < rows->Rows(); ++row) {
                          auto policy = ReadPolicy(*rows, row);
                          if (!policy) return Fail(policy.error());
                          out.push_back(std::move(*policy));
                        }
                        return out;
                      });
}

Result<void> PostgresCatalogueStore::ChangePolicies(const domain::Id& org_id,
                                                    const PolicyChange& change) {
  if (auto same = SameOrganisation(change.add, org_id); !same) return same;
  return Access<void>(
      AccessScope::kOrganisation, org_id.str(), AccessIntent::kWrite,
      [&](Connection& conn) -> Result<void> {
        auto before = LockOwners(conn, org_id);
        if (!before) return Fail(before.error());
        std::int64_t owners = *before;
        if (!change.remove.empty()) {
          auto removed = conn.Execute(kRemovePolicies, {org_id.str(), StringsJson(change.remove)});
          if (!removed) return Fail(removed.error());
          auto asked = Int(*removed, 0, 0);
          auto gone = Int(*removed, 0, 1);
          auto left = Int(*removed, 0, 2);
          if (!asked) return Fail(asked.error());
          if (!gone) return Fail(gone.error());
          if (!left) return Fail(left.error());
          if (*gone != *asked) return Fail(ErrorCode::kNotFound, "Policy not found.");
          owners = *left;
        }
        if (!change.add.empty()) {
          auto with_added = AddPolicies(conn, org_id, change.add);
          if (!with_added) return Fail(with_added.error());
          owners = *with_added;
        }
        return KeepsAnOwner(*before, owners);
      });
}

// ---- feature flags -----------------------------------------------------------------------------

// A global flag (org_id "") is written, deleted and listed in platform scope, which reaches
// the global flags only; an organisation's flags in its own scope, which also reads (never
// writes) the global ones.

Result<void> PostgresCatalogueStore::PutFlag(const FeatureFlag& flag) {
  json::JsonWriter value;
  value.Value(flag.value);
  const std::string value_json = std::move(value).Take();
  const auto scope = flag.org_id.empty() ? AccessScope::kPlatform : AccessScope::kOrganisation;
  return Access<void>(scope, flag.org_id, AccessIntent::kWrite,
                      [&](Connection& conn) -> Result<void> {
                        auto done = conn.Execute(
                            kPutFlag, {flag.org_id, flag.key, std::string(ToString(flag.level)),
                                       flag.subject, value_json, flag.description,
                                       flag.updated.ToIso8601(), flag.updated_by});
                        if (!done) {
                          return Fail(Explain(std::move(done.error()), conn, kOrganisationFk));
                        }
                        return {};
                      });
}

Result<void> PostgresCatalogueStore::DeleteFlag(const std::string& org_id, const std::string& key,
                                                FlagLevel level, const std::string& subject) {
  const auto scope = org_id.empty() ? AccessScope::kPlatform : AccessScope::kOrganisation;
  return Access<void>(scope, org_id, AccessIntent::kWrite, [&](Connection& conn) -> Result<void> {
    auto done =
        conn.Execute(kDeleteFlag, {org_id, key, std::string(domain::ToString(level)), subject});
    if (!done) return Fail(done.error());
    if (done->Affected() == 0) return Fail(ErrorCode::kNotFound, "Flag not found.");
    return {};
  });
}

Result<std::vector<FeatureFlag>> PostgresCatalogueStore::ListFlags(const std::string& org_id) {
  using List = std::vector<FeatureFlag>;
  const auto scope = org_id.empty() ? AccessScope::kPlatform : AccessScope::kOrganisation;
  return Access<List>(scope, org_id, AccessIntent::kRead, [&](Connection& conn) -> Result<List> {
    auto rows = conn.Execute(kListFlags, {org_id});
    if (!rows) return Fail(rows.error());
    List out;
    for (int row = 0; row < rows->Rows(); ++row) {
      auto flag = ReadFlag(*rows, row);
      if (!flag) return Fail(flag.error());
      out.push_back(std::move(*flag));
    }
    return out;
  });
}

}  // namespace socle::adapters::postgres
