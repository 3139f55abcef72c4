// The AccessStore half of SqliteCatalogueStore, over the tables of migration 0003_access. The
// schema enforces what it can (shapes, uniqueness, that a row only refers to rows of its own
// organisation, cascades); this file adds the checks a schema cannot express: the last-owner
// invariant, and which rows still depend on a role.
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "sqlite_catalogue_store_impl.hpp"

namespace socle::adapters::sqlite {

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

// ---- SQL, as named constants; every value is bound (?n). -------------------------------------

constexpr std::string_view kOrganisationExists = "SELECT 1 FROM organisations WHERE id = ?1";

constexpr std::string_view kInsertMembership =
    "INSERT INTO memberships (org_id, member_id, email, created) VALUES (?1, ?2, ?3, ?4)";
// AcceptInvitation: the member joins unless they already belong to the organisation.
constexpr std::string_view kInsertMembershipIfNew =
    "INSERT INTO memberships (org_id, member_id, email, created) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (org_id, member_id) DO NOTHING";
constexpr std::string_view kGetMembership =
    "SELECT org_id, member_id, email, created FROM memberships"
    " WHERE org_id = ?1 AND member_id = ?2";
// One statement reads the total and the page from the same snapshot; the LEFT JOIN keeps the
// total when the page is past the end (one row of NULLs).
constexpr std::string_view kListMemberships =
    "SELECT t.total, p.org_id, p.member_id, p.email, p.created"
    " FROM (SELECT count(*) AS total FROM memberships WHERE org_id = ?3) AS t"
    " LEFT JOIN (SELECT org_id, member_id, email, created FROM memberships WHERE org_id = ?3"
    "            ORDER BY email, member_id LIMIT ?1 OFFSET ?2) AS p ON TRUE"
    " ORDER BY p.email, p.member_id";
constexpr std::string_view kMemberOrganisations =
    "SELECT org_id, member_id, email, created FROM memberships WHERE member_id = ?1"
    " ORDER BY org_id";
// Deleting a membership cascades to its team places (team_members' foreign key).
constexpr std::string_view kDeleteMembership =
    "DELETE FROM memberships WHERE org_id = ?1 AND member_id = ?2";

constexpr std::string_view kInsertInvitation =
    "INSERT INTO invitations (id, org_id, email, role, project_id, token_binding, invited_by,"
    " state, created, expires, decided) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr std::string_view kGetInvitation =
    "SELECT id, org_id, email, role, project_id, token_binding, invited_by, state, created,"
    " expires, decided FROM invitations WHERE id = ?1 AND org_id = ?2";
constexpr std::string_view kFindInvitation =
    "SELECT id, org_id, email, role, project_id, token_binding, invited_by, state, created,"
    " expires, decided FROM invitations WHERE token_binding = ?1";
constexpr std::string_view kListInvitations =
    "SELECT t.total, p.id, p.org_id, p.email, p.role, p.project_id, p.token_binding,"
    " p.invited_by, p.state, p.created, p.expires, p.decided"
    " FROM (SELECT count(*) AS total FROM invitations WHERE org_id = ?3) AS t"
    " LEFT JOIN (SELECT id, org_id, email, role, project_id, token_binding, invited_by, state,"
    "                   created, expires, decided FROM invitations WHERE org_id = ?3"
    "            ORDER BY created DESC, id DESC LIMIT ?1 OFFSET ?2) AS p ON TRUE"
    " ORDER BY p.created DESC, p.id DESC";
constexpr std::string_view kInvitationState =
    "SELECT state FROM invitations WHERE id = ?1 AND org_id = ?2";
constexpr std::string_view kDecideInvitation =
    "UPDATE invitations SET state = ?3, decided = ?4 WHERE id = ?1 AND org_id = ?2";
// A decided invitation has `decided` set and an undecided one never has (a CHECK says so), so
// "closed before" is `decided < ?1`; the comparison also lets the partial index serve it.
constexpr std::string_view kPurgeInvitations =
    "DELETE FROM invitations WHERE decided < ?1 OR expires < ?1";

constexpr std::string_view kInsertTeam =
    "INSERT INTO teams (id, org_id, name, description, created, updated)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr std::string_view kGetTeam =
    "SELECT id, org_id, name, description, created, updated FROM teams"
    " WHERE id = ?1 AND org_id = ?2";
constexpr std::string_view kListTeams =
    "SELECT id, org_id, name, description, created, updated FROM teams WHERE org_id = ?1"
    " ORDER BY name COLLATE NOCASE, id";
constexpr std::string_view kUpdateTeam =
    "UPDATE teams SET name = ?3, description = ?4, updated = ?5 WHERE id = ?1 AND org_id = ?2";
// Deleting a team cascades to its member places.
constexpr std::string_view kDeleteTeam = "DELETE FROM teams WHERE id = ?1 AND org_id = ?2";
constexpr std::string_view kTeamExists = "SELECT 1 FROM teams WHERE id = ?1 AND org_id = ?2";
constexpr std::string_view kMembershipExists =
    "SELECT 1 FROM memberships WHERE org_id = ?1 AND member_id = ?2";
constexpr std::string_view kInsertTeamMember =
    "INSERT INTO team_members (team_id, org_id, member_id) VALUES (?1, ?2, ?3)";
constexpr std::string_view kDeleteTeamMember =
    "DELETE FROM team_members WHERE team_id = ?1 AND org_id = ?2 AND member_id = ?3";
// One row per member, or one row of NULLs for a team without members, or no row at all for no
// team: the existence and the members come from one snapshot.
constexpr std::string_view kTeamMembers =
    "SELECT m.org_id, m.member_id, m.email, m.created FROM teams AS tm"
    " LEFT JOIN team_members AS t ON t.team_id = tm.id AND t.org_id = tm.org_id"
    " LEFT JOIN memberships AS m ON m.org_id = t.org_id AND m.member_id = t.member_id"
    " WHERE tm.id = ?1 AND tm.org_id = ?2 ORDER BY m.email, m.member_id";
constexpr std::string_view kMemberTeams =
    "SELECT team_id FROM team_members WHERE org_id = ?1 AND member_id = ?2 ORDER BY team_id";

// A replaced role keeps its created time: the update leaves that column alone.
constexpr std::string_view kPutRole =
    "INSERT INTO roles (org_id, id, name, scope, parents, permissions, created, updated)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (org_id, id) DO UPDATE SET name = excluded.name, scope = excluded.scope,"
    " parents = excluded.parents, permissions = excluded.permissions,"
    " updated = excluded.updated";
constexpr std::string_view kListRoles =
    "SELECT org_id, id, name, scope, parents, permissions, created, updated FROM roles"
    " WHERE org_id = ?1 ORDER BY id";
constexpr std::string_view kRoleExists = "SELECT 1 FROM roles WHERE org_id = ?1 AND id = ?2";
constexpr std::string_view kRoleBound =
    "SELECT 1 FROM policies WHERE org_id = ?1 AND role = ?2 LIMIT 1";
// 'pending' is spelled out, not bound: only then can the partial index on pending invitations
// serve the query.
constexpr std::string_view kRoleOffered =
    "SELECT 1 FROM invitations WHERE org_id = ?1 AND role = ?2 AND state = 'pending' LIMIT 1";
constexpr std::string_view kRoleInherited =
    "SELECT 1 FROM roles AS r, json_each(r.parents) AS p"
    " WHERE r.org_id = ?1 AND r.id <> ?2 AND p.value = ?2 LIMIT 1";
constexpr std::string_view kDeleteRole = "DELETE FROM roles WHERE org_id = ?1 AND id = ?2";

constexpr std::string_view kInsertPolicy =
    "INSERT INTO policies (id, org_id, subject_kind, subject_id, role, project_id, created,"
    " created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr std::string_view kListPolicies =
    "SELECT id, org_id, subject_kind, subject_id, role, project_id, created, created_by"
    " FROM policies WHERE org_id = ?1 ORDER BY id";
constexpr std::string_view kDeletePolicy = "DELETE FROM policies WHERE id = ?1 AND org_id = ?2";
constexpr std::string_view kDeleteSubjectPolicies =
    "DELETE FROM policies WHERE org_id = ?1 AND subject_kind = ?2 AND subject_id = ?3";
// The owner policies of an organisation, as domain::IsOwnerPolicy defines them (?2 is the
// owner role, ?3 the member subject kind).
constexpr std::string_view kCountOwners =
    "SELECT count(*) FROM policies"
    " WHERE org_id = ?1 AND role = ?2 AND subject_kind = ?3 AND project_id IS NULL";

constexpr std::string_view kPutFlag =
    "INSERT INTO flags (key, level, org_id, subject, value, description, updated, updated_by)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (key, level, org_id, subject) DO UPDATE SET value = excluded.value,"
    " description = excluded.description, updated = excluded.updated,"
    " updated_by = excluded.updated_by";
constexpr std::string_view kDeleteFlag =
    "DELETE FROM flags WHERE key = ?1 AND level = ?2 AND org_id = ?3 AND subject = ?4";
// Levels are stored by name, and the names sort as the levels do (global, organisation, role,
// user), so ORDER BY level is the port's order. Global flags are those of org_id ''.
constexpr std::string_view kListFlags =
    "SELECT key, level, org_id, subject, value, description, updated, updated_by FROM flags"
    " WHERE org_id = ?1 OR org_id = '' ORDER BY key, level, subject";

// ---- encodings ---------------------------------------------------------------------------------

std::string_view SubjectKindName(domain::RbacSubject::Kind kind) {
  switch (kind) {
    case domain::RbacSubject::Kind::kMember: return "member";
    case domain::RbacSubject::Kind::kTeam: return "team";
    case domain::RbacSubject::Kind::kApiKey: return "apikey";
  }
  return "member";
}

Result<domain::RbacSubject::Kind> ParseSubjectKind(std::string_view text) {
  for (auto kind : {domain::RbacSubject::Kind::kMember, domain::RbacSubject::Kind::kTeam,
                    domain::RbacSubject::Kind::kApiKey}) {
    if (SubjectKindName(kind) == text) return kind;
  }
  return Fail(ErrorCode::kInvalidArgument, "unknown subject kind '" + std::string(text) + "'");
}

Result<domain::RbacScope> ParseScope(std::string_view text) {
  for (auto scope : {domain::RbacScope::kOrganisation, domain::RbacScope::kProject}) {
    if (domain::ToString(scope) == text) return scope;
  }
  return Fail(ErrorCode::kInvalidArgument, "unknown scope '" + std::string(text) + "'");
}

std::string StringArrayJson(const std::vector<std::string>& items) {
  json::JsonWriter writer;
  writer.BeginArray();
  for (const auto& item : items) writer.String(item);
  writer.EndArray();
  return std::move(writer).Take();
}

Result<std::vector<std::string>> ParseStringArray(std::string_view text) {
  auto parsed = json::ParseJson(text);
  if (!parsed) return Fail(parsed.error());
  if (parsed->type() != domain::JsonValue::Type::kArray) {
    return Fail(ErrorCode::kInvalidArgument, "not a JSON array");
  }
  std::vector<std::string> out;
  for (const auto& item : parsed->items()) {
    if (item.type() != domain::JsonValue::Type::kString) {
      return Fail(ErrorCode::kInvalidArgument, "an item is not a string");
    }
    out.push_back(item.AsString());
  }
  return out;
}

std::string ValueJson(const domain::JsonValue& value) {
  json::JsonWriter writer;
  writer.Value(value);
  return std::move(writer).Take();
}

// ---- binding and reading rows ------------------------------------------------------------------

void BindOptional(Statement& stmt, const std::optional<std::string>& value) {
  if (value) {
    stmt.Bind(*value);
  } else {
    stmt.BindNull();
  }
}

std::optional<std::string> OptionalText(const Statement& row, int column) {
  if (row.IsNull(column)) return std::nullopt;
  return std::string(row.Text(column));
}

domain::Timestamp Micros(const Statement& row, int column) {
  return domain::Timestamp::FromUnixMicros(row.Int(column));
}

Result<Membership> ReadMembership(const Statement& row, int first) {
  auto org_id = Column(domain::Id::Parse(row.Text(first)), "memberships.org_id");
  if (!org_id) return Fail(org_id.error());
  return Membership{*org_id, std::string(row.Text(first + 1)), std::string(row.Text(first + 2)),
                    Micros(row, first + 3)};
}

Result<Invitation> ReadInvitation(const Statement& row, int first) {
  auto id = Column(domain::Id::Parse(row.Text(first)), "invitations.id");
  auto org_id = Column(domain::Id::Parse(row.Text(first + 1)), "invitations.org_id");
  auto state = Column(domain::ParseInvitationState(row.Text(first + 7)), "invitations.state");
  if (!id) return Fail(id.error());
  if (!org_id) return Fail(org_id.error());
  if (!state) return Fail(state.error());
  std::optional<domain::Timestamp> decided;
  if (!row.IsNull(first + 10)) decided = Micros(row, first + 10);
  return Invitation{.id = *id,
                    .org_id = *org_id,
                    .email = std::string(row.Text(first + 2)),
                    .role = std::string(row.Text(first + 3)),
                    .project = OptionalText(row, first + 4),
                    .token_binding = std::string(row.Text(first + 5)),
                    .invited_by = std::string(row.Text(first + 6)),
                    .state = *state,
                    .created = Micros(row, first + 8),
                    .expires = Micros(row, first + 9),
                    .decided = decided};
}

Result<Team> ReadTeam(const Statement& row, int first) {
  auto id = Column(domain::Id::Parse(row.Text(first)), "teams.id");
  auto org_id = Column(domain::Id::Parse(row.Text(first + 1)), "teams.org_id");
  if (!id) return Fail(id.error());
  if (!org_id) return Fail(org_id.error());
  return Team{*id,
              *org_id,
              std::string(row.Text(first + 2)),
              std::string(row.Text(first + 3)),
              Micros(row, first + 4),
              Micros(row, first + 5)};
}

Result<domain::CustomRole> ReadRole(const Statement& row, int first) {
  auto org_id = Column(domain::Id::Parse(row.Text(first)), "roles.org_id");
  auto scope = Column(ParseScope(row.Text(first + 3)), "roles.scope");
  auto parents = Column(ParseStringArray(row.Text(first + 4)), "roles.parents");
  auto permissions = Column(ParseStringArray(row.Text(first + 5)), "roles.permissions");
  if (!org_id) return Fail(org_id.error());
  if (!scope) return Fail(scope.error());
  if (!parents) return Fail(parents.error());
  if (!permissions) return Fail(permissions.error());
  domain::Role role{.id = std::string(row.Text(first + 1)),
                    .name = std::string(row.Text(first + 2)),
                    .scope = *scope,
                    .parents = std::move(*parents),
                    .permissions = std::move(*permissions),
                    .builtin = false};
  return domain::CustomRole{.org_id = *org_id,
                            .role = std::move(role),
                            .created = Micros(row, first + 6),
                            .updated = Micros(row, first + 7)};
}

Result<StoredPolicy> ReadPolicy(const Statement& row, int first) {
  auto kind = Column(ParseSubjectKind(row.Text(first + 2)), "policies.subject_kind");
  if (!kind) return Fail(kind.error());
  StoredPolicy out;
  out.policy.id = std::string(row.Text(first));
  out.policy.organisation = std::string(row.Text(first + 1));
  out.policy.subject = domain::RbacSubject{*kind, std::string(row.Text(first + 3))};
  out.policy.role = std::string(row.Text(first + 4));
  out.policy.project = OptionalText(row, first + 5);
  out.created = Micros(row, first + 6);
  out.created_by = std::string(row.Text(first + 7));
  return out;
}

Result<FeatureFlag> ReadFlag(const Statement& row, int first) {
  auto level = Column(domain::ParseFlagLevel(row.Text(first + 1)), "flags.level");
  auto value = Column(json::ParseJson(row.Text(first + 4)), "flags.value");
  if (!level) return Fail(level.error());
  if (!value) return Fail(value.error());
  FeatureFlag out;
  out.key = std::string(row.Text(first));
  out.level = *level;
  out.org_id = std::string(row.Text(first + 2));
  out.subject = std::string(row.Text(first + 3));
  out.value = std::move(*value);
  out.description = std::string(row.Text(first + 5));
  out.updated = Micros(row, first + 6);
  out.updated_by = std::string(row.Text(first + 7));
  return out;
}

// Steps `stmt` to the end, reading every row with `read`.
template <typename T, typename Reader>
Result<std::vector<T>> ReadAll(Statement& stmt, Reader read) {
  std::vector<T> out;
  for (;;) {
    auto row = stmt.Step();
    if (!row) return Fail(row.error());
    if (!*row) return out;
    auto item = read(stmt, 0);
    if (!item) return Fail(item.error());
    out.push_back(std::move(*item));
  }
}

// Whether the query `sql`, bound to `args`, returns a row.
Result<bool> Exists(Connection& conn, std::string_view sql,
                    std::initializer_list<std::string_view> args) {
  auto stmt = conn.Prepare(sql);
  if (!stmt) return Fail(stmt.error());
  for (auto arg : args) stmt->Bind(arg);
  return stmt->Step();
}

// ---- errors ------------------------------------------------------------------------------------

// What a unique key's violation means for the caller: SQLite names the column or the index
// that collided ("UNIQUE constraint failed: teams.id", "... index 'teams_org_name'").
struct Conflict {
  std::string_view marker;
  std::string_view message;
};

// Refines an insert's or update's error for the caller: a collision names the key that was
// taken (the code stays already_exists); a foreign key violation means a row this one refers
// to (its organisation, project, team or membership) is not there, which the port calls
// not_found.
Error Refine(Error error, std::initializer_list<Conflict> conflicts, std::string_view missing) {
  if (error.code == ErrorCode::kAlreadyExists) {
    for (const auto& conflict : conflicts) {
      if (error.internal.find(conflict.marker) != std::string::npos) {
        error.message = std::string(conflict.message);
        break;
      }
    }
  } else if (error.code == ErrorCode::kFailedPrecondition &&
             error.internal.find("FOREIGN KEY") != std::string::npos) {
    error.code = ErrorCode::kNotFound;
    error.message = std::string(missing);
  }
  return error;
}

Result<void> RequireOrganisation(Connection& conn, const std::string& org_id) {
  auto found = Exists(conn, kOrganisationExists, {org_id});
  if (!found) return Fail(found.error());
  if (!*found) return Fail(ErrorCode::kNotFound, "Organisation not found.");
  return {};
}

Result<void> InsertPolicy(Connection& conn, const domain::Id& org_id, const StoredPolicy& stored) {
  const auto& policy = stored.policy;
  // The row's organisation comes from the call, never from the policy: a policy naming another
  // organisation is refused rather than written there.
  if (policy.organisation != org_id.str()) {
    return Fail(ErrorCode::kInvalidArgument,
                "A policy can only be added to its own organisation.");
  }
  auto stmt = conn.Prepare(kInsertPolicy);
  if (!stmt) return Fail(stmt.error());
  stmt->Bind(policy.id)
      .Bind(org_id.str())
      .Bind(SubjectKindName(policy.subject.kind))
      .Bind(policy.subject.id)
      .Bind(policy.role);
  BindOptional(*stmt, policy.project);
  auto done = stmt->Bind(stored.created.unix_micros()).Bind(stored.created_by).Run();
  if (done) return {};
  return Fail(Refine(std::move(done.error()),
                     {{"policies.id", "A policy with this id already exists."},
                      {"policies_binding",
                       "This role is already bound to this subject at this scope."}},
                     "Organisation or project not found."));
}

Result<std::int64_t> CountOwners(Connection& conn, const domain::Id& org_id) {
  auto stmt = conn.Prepare(kCountOwners);
  if (!stmt) return Fail(stmt.error());
  auto row = stmt->Bind(org_id.str())
                 .Bind(domain::kOwnerRole)
                 .Bind(SubjectKindName(domain::RbacSubject::Kind::kMember))
                 .Step();
  if (!row) return Fail(row.error());
  return stmt->Int(0);
}

// The last-owner invariant, checked at the end of the write transaction that may break it:
// `before` is the owner count read at its start, under the same write lock.
Result<void> KeepsAnOwner(Connection& conn, const domain::Id& org_id, std::int64_t before) {
  if (before == 0) return {};
  auto after = CountOwners(conn, org_id);
  if (!after) return Fail(after.error());
  if (*after == 0) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The organisation must keep at least one owner.");
  }
  return {};
}

Result<void> DeleteSubjectPolicies(Connection& conn, const domain::Id& org_id,
                                   domain::RbacSubject::Kind kind, const std::string& subject_id) {
  auto stmt = conn.Prepare(kDeleteSubjectPolicies);
  if (!stmt) return Fail(stmt.error());
  return stmt->Bind(org_id.str()).Bind(SubjectKindName(kind)).Bind(subject_id).Run();
}

Result<void> RunMembershipInsert(Connection& conn, std::string_view sql,
                                 const Membership& membership) {
  auto stmt = conn.Prepare(sql);
  if (!stmt) return Fail(stmt.error());
  auto done = stmt->Bind(membership.org_id.str())
                  .Bind(membership.member_id)
                  .Bind(membership.email)
                  .Bind(membership.created.unix_micros())
                  .Run();
  if (done) return {};
  return Fail(Refine(std::move(done.error()),
                     {{"memberships.", "This member already belongs to the organisation."}},
                     "Organisation not found."));
}

}  // namespace

// ---- memberships -------------------------------------------------------------------------------

Result<void> SqliteCatalogueStore::InsertMembership(const Membership& membership,
                                                    const std::vector<StoredPolicy>& policies) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    if (auto org = RequireOrganisation(conn, membership.org_id.str()); !org) return org;
    if (auto added = RunMembershipInsert(conn, kInsertMembership, membership); !added) {
      return added;
    }
    for (const auto& policy : policies) {
      if (auto added = InsertPolicy(conn, membership.org_id, policy); !added) return added;
    }
    return {};
  });
}

Result<Membership> SqliteCatalogueStore::GetMembership(const domain::Id& org_id,
                                                       const std::string& member_id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<Membership> {
    auto stmt = conn.Prepare(kGetMembership);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(org_id.str()).Bind(member_id).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Member not found.");
    return ReadMembership(*stmt, 0);
  });
}

Result<domain::PageOf<Membership>> SqliteCatalogueStore::ListMemberships(
    const domain::Id& org_id, const domain::PageRequest& page) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::PageOf<Membership>> {
    auto stmt = conn.Prepare(kListMemberships);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(page.per_page).Bind(page.Offset()).Bind(org_id.str());
    return ReadPage<Membership>(*stmt, page, ReadMembership);
  });
}

Result<std::vector<Membership>> SqliteCatalogueStore::MemberOrganisations(
    const std::string& member_id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<Membership>> {
    auto stmt = conn.Prepare(kMemberOrganisations);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(member_id);
    return ReadAll<Membership>(*stmt, ReadMembership);
  });
}

Result<void> SqliteCatalogueStore::DeleteMembership(const domain::Id& org_id,
                                                    const std::string& member_id) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto found = Exists(conn, kMembershipExists, {org_id.str(), member_id});
    if (!found) return Fail(found.error());
    if (!*found) return Fail(ErrorCode::kNotFound, "Member not found.");
    auto owners = CountOwners(conn, org_id);
    if (!owners) return Fail(owners.error());
    if (auto done = DeleteSubjectPolicies(conn, org_id, domain::RbacSubject::Kind::kMember,
                                          member_id);
        !done) {
      return done;
    }
    auto stmt = conn.Prepare(kDeleteMembership);
    if (!stmt) return Fail(stmt.error());
    if (auto done = stmt->Bind(org_id.str()).Bind(member_id).Run(); !done) return done;
    return KeepsAnOwner(conn, org_id, *owners);
  });
}

// ---- invitations -------------------------------------------------------------------------------

Result<void> SqliteCatalogueStore::InsertInvitation(const Invitation& invitation) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    if (auto org = RequireOrganisation(conn, invitation.org_id.str()); !org) return org;
    auto stmt = conn.Prepare(kInsertInvitation);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(invitation.id.str())
        .Bind(invitation.org_id.str())
        .Bind(invitation.email)
        .Bind(invitation.role);
    BindOptional(*stmt, invitation.project);
    stmt->Bind(invitation.token_binding)
        .Bind(invitation.invited_by)
        .Bind(domain::ToString(invitation.state))
        .Bind(invitation.created.unix_micros())
        .Bind(invitation.expires.unix_micros());
    if (invitation.decided) {
      stmt->Bind(invitation.decided->unix_micros());
    } else {
      stmt->BindNull();
    }
    auto done = stmt->Run();
    if (done) return {};
    return Fail(Refine(std::move(done.error()),
                       {{"invitations.id", "An invitation with this id already exists."},
                        {"invitations.token_binding",
                         "An invitation with this token already exists."}},
                       "Project not found in the organisation."));
  });
}

Result<Invitation> SqliteCatalogueStore::GetInvitation(const domain::Id& org_id,
                                                       const domain::Id& id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<Invitation> {
    auto stmt = conn.Prepare(kGetInvitation);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(id.str()).Bind(org_id.str()).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Invitation not found.");
    return ReadInvitation(*stmt, 0);
  });
}

Result<Invitation> SqliteCatalogueStore::FindInvitation(const std::string& token_binding) {
  return impl_->WithConnection([&](Connection& conn) -> Result<Invitation> {
    auto stmt = conn.Prepare(kFindInvitation);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(token_binding).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Invitation not found.");
    return ReadInvitation(*stmt, 0);
  });
}

Result<domain::PageOf<Invitation>> SqliteCatalogueStore::ListInvitations(
    const domain::Id& org_id, const domain::PageRequest& page) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::PageOf<Invitation>> {
    auto stmt = conn.Prepare(kListInvitations);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(page.per_page).Bind(page.Offset()).Bind(org_id.str());
    return ReadPage<Invitation>(*stmt, page, ReadInvitation);
  });
}

namespace {

// Reads the state of the organisation's invitation `id` and requires it to be pending: not_found
// or failed_precondition otherwise. Runs inside the write transaction that changes it.
Result<void> RequirePending(Connection& conn, const domain::Id& org_id, const domain::Id& id) {
  auto stmt = conn.Prepare(kInvitationState);
  if (!stmt) return Fail(stmt.error());
  auto row = stmt->Bind(id.str()).Bind(org_id.str()).Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(ErrorCode::kNotFound, "Invitation not found.");
  if (stmt->Text(0) != domain::ToString(InvitationState::kPending)) {
    return Fail(ErrorCode::kFailedPrecondition, "The invitation is no longer pending.");
  }
  return {};
}

Result<void> Decide(Connection& conn, const domain::Id& org_id, const domain::Id& id,
                    InvitationState state, domain::Timestamp at) {
  auto stmt = conn.Prepare(kDecideInvitation);
  if (!stmt) return Fail(stmt.error());
  return stmt->Bind(id.str())
      .Bind(org_id.str())
      .Bind(domain::ToString(state))
      .Bind(at.unix_micros())
      .Run();
}

}  // namespace

Result<void> SqliteCatalogueStore::CloseInvitation(const domain::Id& org_id, const domain::Id& id,
                                                   InvitationState state, domain::Timestamp at) {
  if (state != InvitationState::kDeclined && state != InvitationState::kRevoked) {
    return Fail(ErrorCode::kInvalidArgument, "An invitation is closed as declined or revoked.");
  }
  return impl_->Write([&](Connection& conn) -> Result<void> {
    if (auto pending = RequirePending(conn, org_id, id); !pending) return pending;
    return Decide(conn, org_id, id, state, at);
  });
}

Result<void> SqliteCatalogueStore::AcceptInvitation(const domain::Id& org_id, const domain::Id& id,
                                                    const Membership& membership,
                                                    const StoredPolicy& policy,
                                                    domain::Timestamp at) {
  if (membership.org_id != org_id || policy.policy.organisation != org_id.str()) {
    return Fail(ErrorCode::kInvalidArgument,
                "The membership and the policy must be of the invitation's organisation.");
  }
  return impl_->Write([&](Connection& conn) -> Result<void> {
    if (auto pending = RequirePending(conn, org_id, id); !pending) return pending;
    if (auto joined = RunMembershipInsert(conn, kInsertMembershipIfNew, membership); !joined) {
      return joined;
    }
    if (auto added = InsertPolicy(conn, org_id, policy); !added) return added;
    return Decide(conn, org_id, id, InvitationState::kAccepted, at);
  });
}

Result<std::int64_t> SqliteCatalogueStore::PurgeInvitations(domain::Timestamp before) {
  return impl_->Write([&](Connection& conn) -> Result<std::int64_t> {
    auto stmt = conn.Prepare(kPurgeInvitations);
    if (!stmt) return Fail(stmt.error());
    if (auto done = stmt->Bind(before.unix_micros()).Run(); !done) return Fail(done.error());
    return conn.Changes();
  });
}

// ---- teams -------------------------------------------------------------------------------------

namespace {

// An insert's or update's error on teams, for the caller.
Error TeamError(Error error) {
  return Refine(std::move(error),
                {{"teams.id", "A team with this id already exists."},
                 {"teams_org_name", "A team with this name already exists."}},
                "Organisation not found.");
}

}  // namespace

Result<void> SqliteCatalogueStore::InsertTeam(const Team& team) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    if (auto org = RequireOrganisation(conn, team.org_id.str()); !org) return org;
    auto stmt = conn.Prepare(kInsertTeam);
    if (!stmt) return Fail(stmt.error());
    auto done = stmt->Bind(team.id.str())
                    .Bind(team.org_id.str())
                    .Bind(team.name)
                    .Bind(team.description)
                    .Bind(team.created.unix_micros())
                    .Bind(team.updated.unix_micros())
                    .Run();
    if (done) return {};
    return Fail(TeamError(std::move(done.error())));
  });
}

Result<Team> SqliteCatalogueStore::GetTeam(const domain::Id& org_id, const domain::Id& id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<Team> {
    auto stmt = conn.Prepare(kGetTeam);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(id.str()).Bind(org_id.str()).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Team not found.");
    return ReadTeam(*stmt, 0);
  });
}

Result<std::vector<Team>> SqliteCatalogueStore::ListTeams(const domain::Id& org_id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<Team>> {
    auto stmt = conn.Prepare(kListTeams);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(org_id.str());
    return ReadAll<Team>(*stmt, ReadTeam);
  });
}

Result<void> SqliteCatalogueStore::UpdateTeam(const Team& team) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kUpdateTeam);
    if (!stmt) return Fail(stmt.error());
    auto done = stmt->Bind(team.id.str())
                    .Bind(team.org_id.str())
                    .Bind(team.name)
                    .Bind(team.description)
                    .Bind(team.updated.unix_micros())
                    .Run();
    if (!done) {
      return Fail(TeamError(std::move(done.error())));
    }
    if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Team not found.");
    return {};
  });
}

Result<void> SqliteCatalogueStore::DeleteTeam(const domain::Id& org_id, const domain::Id& id) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto found = Exists(conn, kTeamExists, {id.str(), org_id.str()});
    if (!found) return Fail(found.error());
    if (!*found) return Fail(ErrorCode::kNotFound, "Team not found.");
    // A team's policy is never an owner policy (IsOwnerPolicy wants a member), but the check
    // is the generic one, so that the invariant does not rest on that definition.
    auto owners = CountOwners(conn, org_id);
    if (!owners) return Fail(owners.error());
    if (auto done =
            DeleteSubjectPolicies(conn, org_id, domain::RbacSubject::Kind::kTeam, id.str());
        !done) {
      return done;
    }
    auto stmt = conn.Prepare(kDeleteTeam);
    if (!stmt) return Fail(stmt.error());
    if (auto done = stmt->Bind(id.str()).Bind(org_id.str()).Run(); !done) return done;
    return KeepsAnOwner(conn, org_id, *owners);
  });
}

Result<void> SqliteCatalogueStore::AddTeamMember(const domain::Id& org_id,
                                                 const domain::Id& team_id,
                                                 const std::string& member_id) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto team = Exists(conn, kTeamExists, {team_id.str(), org_id.str()});
    if (!team) return Fail(team.error());
    if (!*team) return Fail(ErrorCode::kNotFound, "Team not found.");
    auto member = Exists(conn, kMembershipExists, {org_id.str(), member_id});
    if (!member) return Fail(member.error());
    if (!*member) return Fail(ErrorCode::kNotFound, "Member not found.");
    auto stmt = conn.Prepare(kInsertTeamMember);
    if (!stmt) return Fail(stmt.error());
    auto done = stmt->Bind(team_id.str()).Bind(org_id.str()).Bind(member_id).Run();
    if (done) return {};
    return Fail(Refine(std::move(done.error()),
                       {{"team_members.", "The member is already in the team."}},
                       "Team or member not found."));
  });
}

Result<void> SqliteCatalogueStore::RemoveTeamMember(const domain::Id& org_id,
                                                    const domain::Id& team_id,
                                                    const std::string& member_id) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kDeleteTeamMember);
    if (!stmt) return Fail(stmt.error());
    if (auto done = stmt->Bind(team_id.str()).Bind(org_id.str()).Bind(member_id).Run(); !done) {
      return done;
    }
    if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "The member is not in the team.");
    return {};
  });
}

Result<std::vector<Membership>> SqliteCatalogueStore::TeamMembers(const domain::Id& org_id,
                                                                  const domain::Id& team_id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<Membership>> {
    auto stmt = conn.Prepare(kTeamMembers);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(team_id.str()).Bind(org_id.str());
    std::vector<Membership> out;
    bool team_found = false;
    for (;;) {
      auto row = stmt->Step();
      if (!row) return Fail(row.error());
      if (!*row) break;
      team_found = true;
      if (stmt->IsNull(0)) continue;  // the team has no members
      auto membership = ReadMembership(*stmt, 0);
      if (!membership) return Fail(membership.error());
      out.push_back(std::move(*membership));
    }
    if (!team_found) return Fail(ErrorCode::kNotFound, "Team not found.");
    return out;
  });
}

Result<std::vector<std::string>> SqliteCatalogueStore::MemberTeams(const domain::Id& org_id,
                                                                   const std::string& member_id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<std::string>> {
    auto stmt = conn.Prepare(kMemberTeams);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(org_id.str()).Bind(member_id);
    return ReadAll<std::string>(*stmt, [](const Statement& row, int first) -> Result<std::string> {
      return std::string(row.Text(first));
    });
  });
}

// ---- custom roles ------------------------------------------------------------------------------

Result<void> SqliteCatalogueStore::PutRole(const domain::CustomRole& role) {
  const std::string parents = StringArrayJson(role.role.parents);
  const std::string permissions = StringArrayJson(role.role.permissions);
  return impl_->Write([&](Connection& conn) -> Result<void> {
    if (auto org = RequireOrganisation(conn, role.org_id.str()); !org) return org;
    auto stmt = conn.Prepare(kPutRole);
    if (!stmt) return Fail(stmt.error());
    auto done = stmt->Bind(role.org_id.str())
                    .Bind(role.role.id)
                    .Bind(role.role.name)
                    .Bind(domain::ToString(role.role.scope))
                    .Bind(parents)
                    .Bind(permissions)
                    .Bind(role.created.unix_micros())
                    .Bind(role.updated.unix_micros())
                    .Run();
    if (done) return {};
    return Fail(Refine(std::move(done.error()), {}, "Organisation not found."));
  });
}

Result<std::vector<domain::CustomRole>> SqliteCatalogueStore::ListRoles(const domain::Id& org_id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<domain::CustomRole>> {
    auto stmt = conn.Prepare(kListRoles);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(org_id.str());
    return ReadAll<domain::CustomRole>(*stmt, ReadRole);
  });
}

Result<void> SqliteCatalogueStore::DeleteRole(const domain::Id& org_id,
                                              const std::string& role_id) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto found = Exists(conn, kRoleExists, {org_id.str(), role_id});
    if (!found) return Fail(found.error());
    if (!*found) return Fail(ErrorCode::kNotFound, "Role not found.");
    // What still depends on the role, each checked under the write lock so that none can
    // appear before the deletion commits.
    const std::pair<std::string_view, const char*> dependants[] = {
        {kRoleBound, "A policy still binds this role."},
        {kRoleOffered, "A pending invitation still offers this role."},
        {kRoleInherited, "Another role still inherits this role."}};
    for (const auto& [sql, message] : dependants) {
      auto used = Exists(conn, sql, {org_id.str(), role_id});
      if (!used) return Fail(used.error());
      if (*used) return Fail(ErrorCode::kFailedPrecondition, message);
    }
    auto stmt = conn.Prepare(kDeleteRole);
    if (!stmt) return Fail(stmt.error());
    return stmt->Bind(org_id.str()).Bind(role_id).Run();
  });
}

// ---- policies ----------------------------------------------------------------------------------

Result<std::vector<StoredPolicy>> SqliteCatalogueStore::ListPolicies(const domain::Id& org_id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<StoredPolicy>> {
    auto stmt = conn.Prepare(kListPolicies);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(org_id.str());
    return ReadAll<StoredPolicy>(*stmt, ReadPolicy);
  });
}

Result<void> SqliteCatalogueStore::ChangePolicies(const domain::Id& org_id,
                                                  const PolicyChange& change) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto owners = CountOwners(conn, org_id);
    if (!owners) return Fail(owners.error());
    for (const auto& id : change.remove) {
      auto stmt = conn.Prepare(kDeletePolicy);
      if (!stmt) return Fail(stmt.error());
      if (auto done = stmt->Bind(id).Bind(org_id.str()).Run(); !done) return done;
      if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Policy not found.");
    }
    for (const auto& policy : change.add) {
      if (auto added = InsertPolicy(conn, org_id, policy); !added) return added;
    }
    return KeepsAnOwner(conn, org_id, *owners);
  });
}

// ---- feature flags -----------------------------------------------------------------------------

Result<void> SqliteCatalogueStore::PutFlag(const FeatureFlag& flag) {
  const std::string value = ValueJson(flag.value);
  return impl_->Write([&](Connection& conn) -> Result<void> {
    // The schema's trigger refuses a flag of a missing organisation too, but with the code
    // of every constraint; this check gives it the port's not_found.
    if (!flag.org_id.empty()) {
      if (auto org = RequireOrganisation(conn, flag.org_id); !org) return org;
    }
    auto stmt = conn.Prepare(kPutFlag);
    if (!stmt) return Fail(stmt.error());
    return stmt->Bind(flag.key)
        .Bind(domain::ToString(flag.level))
        .Bind(flag.org_id)
        .Bind(flag.subject)
        .Bind(value)
        .Bind(flag.description)
        .Bind(flag.updated.unix_micros())
        .Bind(flag.updated_by)
        .Run();
  });
}

Result<void> SqliteCatalogueStore::DeleteFlag(const std::string& org_id, const std::string& key,
                                              FlagLevel level, const std::string& subject) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kDeleteFlag);
    if (!stmt) return Fail(stmt.error());
    auto done =
        stmt->Bind(key).Bind(domain::ToString(level)).Bind(org_id).Bind(subject).Run();
    if (!done) return done;
    if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Flag not found.");
    return {};
  });
}

Result<std::vector<FeatureFlag>> SqliteCatalogueStore::ListFlags(const std::string& org_id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<FeatureFlag>> {
    auto stmt = conn.Prepare(kListFlags);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(org_id);
    return ReadAll<FeatureFlag>(*stmt, ReadFlag);
  });
}

}  // namespace socle::adapters::sqlite
