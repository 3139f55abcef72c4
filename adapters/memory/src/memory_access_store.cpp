// The AccessStore half of MemoryCatalogueStore. It refuses what the SQL stores' schemas refuse
// (malformed shapes, rows of another organisation, duplicate keys) with the same codes, so that
// tests run against memory stand for the real stores.
#include "socle/adapters/memory/memory_catalogue_store.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace socle::adapters::memory {

using application::PolicyChange;
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

constexpr const char* kMalformed = "A value does not satisfy the schema.";

bool IsEntityId(std::string_view text) { return domain::Id::Parse(text).has_value(); }

// Team names compare ignoring ASCII case, as SQLite's NOCASE does.
std::string FoldCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<void> CheckMembershipShape(const Membership& membership) {
  if (membership.member_id.empty() || membership.email.empty()) {
    return Fail(ErrorCode::kInvalidArgument, kMalformed);
  }
  return {};
}

// created_by is "system" or "<kind>:<id>" with a non-empty id.
bool IsCreatedBy(std::string_view text) {
  if (text == "system") return true;
  for (std::string_view prefix : {"member:", "apikey:", "superuser:"}) {
    if (text.size() > prefix.size() && text.starts_with(prefix)) return true;
  }
  return false;
}

Result<void> CheckPolicyShape(const StoredPolicy& stored) {
  const auto& policy = stored.policy;
  if (!IsEntityId(policy.id) || policy.subject.id.empty() || policy.role.empty() ||
      !IsCreatedBy(stored.created_by)) {
    return Fail(ErrorCode::kInvalidArgument, kMalformed);
  }
  return {};
}

Result<void> CheckInvitationShape(const Invitation& invitation) {
  const bool pending = invitation.state == InvitationState::kPending;
  if (invitation.email.empty() || invitation.role.empty() || invitation.token_binding.empty() ||
      pending == invitation.decided.has_value()) {
    return Fail(ErrorCode::kInvalidArgument, kMalformed);
  }
  return {};
}

Result<void> CheckFlagShape(const FeatureFlag& flag) {
  using Type = domain::JsonValue::Type;
  const bool global = flag.level == FlagLevel::kGlobal;
  const bool has_subject = flag.level == FlagLevel::kRole || flag.level == FlagLevel::kUser;
  const auto type = flag.value.type();
  if (flag.key.empty() || global != flag.org_id.empty() || has_subject == flag.subject.empty() ||
      (type != Type::kBool && type != Type::kNumber && type != Type::kString)) {
    return Fail(ErrorCode::kInvalidArgument, kMalformed);
  }
  return {};
}

bool SameBinding(const domain::Policy& a, const domain::Policy& b) {
  return a.organisation == b.organisation && a.subject == b.subject && a.role == b.role &&
         a.project == b.project;
}

std::size_t OwnerCount(const std::map<std::string, StoredPolicy>& policies,
                       const std::string& org_id) {
  return static_cast<std::size_t>(
      std::count_if(policies.begin(), policies.end(), [&](const auto& kv) {
        return kv.second.policy.organisation == org_id && domain::IsOwnerPolicy(kv.second.policy);
      }));
}

// The last-owner invariant, between the policies before and after a change.
Result<void> KeepsAnOwner(const std::map<std::string, StoredPolicy>& before,
                          const std::map<std::string, StoredPolicy>& after,
                          const std::string& org_id) {
  if (OwnerCount(before, org_id) > 0 && OwnerCount(after, org_id) == 0) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The organisation must keep at least one owner.");
  }
  return {};
}

template <typename T>
domain::PageOf<T> Paginate(std::vector<T> all, const domain::PageRequest& page) {
  domain::PageOf<T> out;
  out.page = page.page;
  out.per_page = page.per_page;
  out.total_items = static_cast<std::int64_t>(all.size());
  const std::int64_t offset = std::min(page.Offset(), out.total_items);
  const std::int64_t end = std::min(offset + page.per_page, out.total_items);
  out.items.assign(std::make_move_iterator(all.begin() + offset),
                   std::make_move_iterator(all.begin() + end));
  return out;
}

bool ByEmail(const Membership& a, const Membership& b) {
  return std::tie(a.email, a.member_id) < std::tie(b.email, b.member_id);
}

}  // namespace

// ---- helpers on the store's state (mutex_ held) ------------------------------------------------

bool MemoryCatalogueStore::HasOrganisation(const domain::Id& org_id) const {
  return std::any_of(data_.orgs.begin(), data_.orgs.end(),
                     [&](const auto& kv) { return kv.second.id == org_id; });
}

bool MemoryCatalogueStore::HasProjectOf(const std::string& org_id,
                                        const std::string& project_id) const {
  return std::any_of(data_.projects.begin(), data_.projects.end(), [&](const auto& kv) {
    return kv.second.id.str() == project_id && kv.second.org_id.str() == org_id;
  });
}

Result<void> MemoryCatalogueStore::AddPolicy(PolicyMap& policies, const domain::Id& org_id,
                                             const StoredPolicy& stored) const {
  const auto& policy = stored.policy;
  if (policy.organisation != org_id.str()) {
    return Fail(ErrorCode::kInvalidArgument,
                "A policy can only be added to its own organisation.");
  }
  if (auto shape = CheckPolicyShape(stored); !shape) return shape;
  if (policies.contains(policy.id)) {
    return Fail(ErrorCode::kAlreadyExists, "A policy with this id already exists.");
  }
  const bool bound = std::any_of(policies.begin(), policies.end(), [&](const auto& kv) {
    return SameBinding(kv.second.policy, policy);
  });
  if (bound) {
    return Fail(ErrorCode::kAlreadyExists,
                "This role is already bound to this subject at this scope.");
  }
  if (!HasOrganisation(org_id)) return Fail(ErrorCode::kNotFound, "Organisation not found.");
  if (policy.project && !HasProjectOf(org_id.str(), *policy.project)) {
    return Fail(ErrorCode::kNotFound, "Project not found in the organisation.");
  }
  policies.emplace(policy.id, stored);
  return {};
}

void MemoryCatalogueStore::EraseAccessOfOrganisation(const domain::Id& org_id) {
  const std::string& org = org_id.str();
  std::erase_if(data_.memberships, [&](const auto& kv) { return kv.first.first == org; });
  std::erase_if(data_.invitations, [&](const auto& kv) { return kv.second.org_id == org_id; });
  std::erase_if(data_.team_members, [&](const auto& place) {
    auto team = data_.teams.find(place.first);
    return team != data_.teams.end() && team->second.org_id == org_id;
  });
  std::erase_if(data_.teams, [&](const auto& kv) { return kv.second.org_id == org_id; });
  std::erase_if(data_.roles, [&](const auto& kv) { return kv.first.first == org; });
  std::erase_if(data_.policies,
                [&](const auto& kv) { return kv.second.policy.organisation == org; });
  std::erase_if(data_.flags, [&](const auto& kv) { return kv.second.org_id == org; });
}

void MemoryCatalogueStore::EraseAccessOfProject(const domain::Id& project_id) {
  const std::string& project = project_id.str();
  std::erase_if(data_.invitations, [&](const auto& kv) { return kv.second.project == project; });
  std::erase_if(data_.policies,
                [&](const auto& kv) { return kv.second.policy.project == project; });
}

// ---- memberships -------------------------------------------------------------------------------

Result<void> MemoryCatalogueStore::InsertMembership(const Membership& membership,
                                                    const std::vector<StoredPolicy>& policies) {
  std::lock_guard lock(mutex_);
  if (!HasOrganisation(membership.org_id)) {
    return Fail(ErrorCode::kNotFound, "Organisation not found.");
  }
  if (auto shape = CheckMembershipShape(membership); !shape) return shape;
  auto key = std::make_pair(membership.org_id.str(), membership.member_id);
  if (data_.memberships.contains(key)) {
    return Fail(ErrorCode::kAlreadyExists, "This member already belongs to the organisation.");
  }
  // Policies go in on a copy that replaces the map once all are in: a failure leaves nothing.
  PolicyMap changed = data_.policies;
  for (const auto& policy : policies) {
    if (auto added = AddPolicy(changed, membership.org_id, policy); !added) return added;
  }
  data_.memberships.emplace(std::move(key), membership);
  data_.policies = std::move(changed);
  return {};
}

Result<Membership> MemoryCatalogueStore::GetMembership(const domain::Id& org_id,
                                                       const std::string& member_id) {
  std::lock_guard lock(mutex_);
  auto it = data_.memberships.find({org_id.str(), member_id});
  if (it == data_.memberships.end()) return Fail(ErrorCode::kNotFound, "Member not found.");
  return it->second;
}

Result<domain::PageOf<Membership>> MemoryCatalogueStore::ListMemberships(
    const domain::Id& org_id, const domain::PageRequest& page) {
  std::lock_guard lock(mutex_);
  std::vector<Membership> all;
  for (const auto& [key, membership] : data_.memberships) {
    if (key.first == org_id.str()) all.push_back(membership);
  }
  std::sort(all.begin(), all.end(), ByEmail);
  return Paginate(std::move(all), page);
}

Result<std::vector<Membership>> MemoryCatalogueStore::MemberOrganisations(
    const std::string& member_id) {
  std::lock_guard lock(mutex_);
  std::vector<Membership> out;  // the map is ordered by org id first
  for (const auto& [key, membership] : data_.memberships) {
    if (key.second == member_id) out.push_back(membership);
  }
  return out;
}

Result<void> MemoryCatalogueStore::DeleteMembership(const domain::Id& org_id,
                                                    const std::string& member_id) {
  std::lock_guard lock(mutex_);
  auto it = data_.memberships.find({org_id.str(), member_id});
  if (it == data_.memberships.end()) return Fail(ErrorCode::kNotFound, "Member not found.");
  PolicyMap remaining = data_.policies;
  std::erase_if(remaining, [&](const auto& kv) {
    const auto& policy = kv.second.policy;
    return policy.organisation == org_id.str() &&
           policy.subject.kind == domain::RbacSubject::Kind::kMember &&
           policy.subject.id == member_id;
  });
  if (auto kept = KeepsAnOwner(data_.policies, remaining, org_id.str()); !kept) return kept;
  data_.policies = std::move(remaining);
  std::erase_if(data_.team_members, [&](const auto& place) {
    if (place.second != member_id) return false;
    auto team = data_.teams.find(place.first);
    return team != data_.teams.end() && team->second.org_id == org_id;
  });
  data_.memberships.erase(it);
  return {};
}

// ---- invitations -------------------------------------------------------------------------------

Result<void> MemoryCatalogueStore::InsertInvitation(const Invitation& invitation) {
  std::lock_guard lock(mutex_);
  if (!HasOrganisation(invitation.org_id)) {
    return Fail(ErrorCode::kNotFound, "Organisation not found.");
  }
  if (auto shape = CheckInvitationShape(invitation); !shape) return shape;
  if (data_.invitations.contains(invitation.id.str())) {
    return Fail(ErrorCode::kAlreadyExists, "An invitation with this id already exists.");
  }
  const bool token_taken =
      std::any_of(data_.invitations.begin(), data_.invitations.end(), [&](const auto& kv) {
        return kv.second.token_binding == invitation.token_binding;
      });
  if (token_taken) {
    return Fail(ErrorCode::kAlreadyExists, "An invitation with this token already exists.");
  }
  if (invitation.project && !HasProjectOf(invitation.org_id.str(), *invitation.project)) {
    return Fail(ErrorCode::kNotFound, "Project not found in the organisation.");
  }
  data_.invitations.emplace(invitation.id.str(), invitation);
  return {};
}

Result<Invitation> MemoryCatalogueStore::GetInvitation(const domain::Id& org_id,
                                                       const domain::Id& id) {
  std::lock_guard lock(mutex_);
  auto it = data_.invitations.find(id.str());
  if (it == data_.invitations.end() || it->second.org_id != org_id) {
    return Fail(ErrorCode::kNotFound, "Invitation not found.");
  }
  return it->second;
}

Result<Invitation> MemoryCatalogueStore::FindInvitation(const std::string& token_binding) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, invitation] : data_.invitations) {
    if (invitation.token_binding == token_binding) return invitation;
  }
  return Fail(ErrorCode::kNotFound, "Invitation not found.");
}

Result<domain::PageOf<Invitation>> MemoryCatalogueStore::ListInvitations(
    const domain::Id& org_id, const domain::PageRequest& page) {
  std::lock_guard lock(mutex_);
  std::vector<Invitation> all;
  for (const auto& [id, invitation] : data_.invitations) {
    if (invitation.org_id == org_id) all.push_back(invitation);
  }
  std::sort(all.begin(), all.end(), [](const Invitation& a, const Invitation& b) {
    return std::tie(b.created, b.id) < std::tie(a.created, a.id);  // newest first
  });
  return Paginate(std::move(all), page);
}

Result<void> MemoryCatalogueStore::CloseInvitation(const domain::Id& org_id, const domain::Id& id,
                                                   InvitationState state, domain::Timestamp at) {
  if (state != InvitationState::kDeclined && state != InvitationState::kRevoked) {
    return Fail(ErrorCode::kInvalidArgument, "An invitation is closed as declined or revoked.");
  }
  std::lock_guard lock(mutex_);
  auto it = data_.invitations.find(id.str());
  if (it == data_.invitations.end() || it->second.org_id != org_id) {
    return Fail(ErrorCode::kNotFound, "Invitation not found.");
  }
  if (it->second.state != InvitationState::kPending) {
    return Fail(ErrorCode::kFailedPrecondition, "The invitation is no longer pending.");
  }
  it->second.state = state;
  it->second.decided = at;
  return {};
}

Result<void> MemoryCatalogueStore::AcceptInvitation(const domain::Id& org_id, const domain::Id& id,
                                                    const Membership& membership,
                                                    const StoredPolicy& policy,
                                                    domain::Timestamp at) {
  if (membership.org_id != org_id || policy.policy.organisation != org_id.str()) {
    return Fail(ErrorCode::kInvalidArgument,
                "The membership and the policy must be of the invitation's organisation.");
  }
  std::lock_guard lock(mutex_);
  auto it = data_.invitations.find(id.str());
  if (it == data_.invitations.end() || it->second.org_id != org_id) {
    return Fail(ErrorCode::kNotFound, "Invitation not found.");
  }
  if (it->second.state != InvitationState::kPending) {
    return Fail(ErrorCode::kFailedPrecondition, "The invitation is no longer pending.");
  }
  auto key = std::make_pair(org_id.str(), membership.member_id);
  const bool joins = !data_.memberships.contains(key);
  if (joins) {
    if (auto shape = CheckMembershipShape(membership); !shape) return shape;
  }
  PolicyMap changed = data_.policies;
  if (auto added = AddPolicy(changed, org_id, policy); !added) return added;
  // Nothing can fail from here: the three changes land together.
  if (joins) data_.memberships.emplace(std::move(key), membership);
  data_.policies = std::move(changed);
  it->second.state = InvitationState::kAccepted;
  it->second.decided = at;
  return {};
}

Result<std::int64_t> MemoryCatalogueStore::PurgeInvitations(domain::Timestamp before) {
  std::lock_guard lock(mutex_);
  auto purged = std::erase_if(data_.invitations, [&](const auto& kv) {
    const Invitation& invitation = kv.second;
    return (invitation.decided && *invitation.decided < before) || invitation.expires < before;
  });
  return static_cast<std::int64_t>(purged);
}

// ---- teams -------------------------------------------------------------------------------------

Result<void> MemoryCatalogueStore::InsertTeam(const Team& team) {
  std::lock_guard lock(mutex_);
  if (!HasOrganisation(team.org_id)) return Fail(ErrorCode::kNotFound, "Organisation not found.");
  if (team.name.empty()) return Fail(ErrorCode::kInvalidArgument, kMalformed);
  if (data_.teams.contains(team.id.str())) {
    return Fail(ErrorCode::kAlreadyExists, "A team with this id already exists.");
  }
  const std::string folded = FoldCase(team.name);
  const bool name_taken = std::any_of(data_.teams.begin(), data_.teams.end(), [&](const auto& kv) {
    return kv.second.org_id == team.org_id && FoldCase(kv.second.name) == folded;
  });
  if (name_taken) {
    return Fail(ErrorCode::kAlreadyExists, "A team with this name already exists.");
  }
  data_.teams.emplace(team.id.str(), team);
  return {};
}

Result<Team> MemoryCatalogueStore::GetTeam(const domain::Id& org_id, const domain::Id& id) {
  std::lock_guard lock(mutex_);
  auto it = data_.teams.find(id.str());
  if (it == data_.teams.end() || it->second.org_id != org_id) {
    return Fail(ErrorCode::kNotFound, "Team not found.");
  }
  return it->second;
}

Result<std::vector<Team>> MemoryCatalogueStore::ListTeams(const domain::Id& org_id) {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, Team>> keyed;  // folded name first: the sort key
  for (const auto& [id, team] : data_.teams) {
    if (team.org_id == org_id) keyed.emplace_back(FoldCase(team.name), team);
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second.id) < std::tie(b.first, b.second.id);
  });
  std::vector<Team> out;
  out.reserve(keyed.size());
  for (auto& [folded, team] : keyed) out.push_back(std::move(team));
  return out;
}

Result<void> MemoryCatalogueStore::UpdateTeam(const Team& team) {
  std::lock_guard lock(mutex_);
  auto it = data_.teams.find(team.id.str());
  if (it == data_.teams.end() || it->second.org_id != team.org_id) {
    return Fail(ErrorCode::kNotFound, "Team not found.");
  }
  if (team.name.empty()) return Fail(ErrorCode::kInvalidArgument, kMalformed);
  const std::string folded = FoldCase(team.name);
  const bool name_taken = std::any_of(data_.teams.begin(), data_.teams.end(), [&](const auto& kv) {
    return kv.first != team.id.str() && kv.second.org_id == team.org_id &&
           FoldCase(kv.second.name) == folded;
  });
  if (name_taken) {
    return Fail(ErrorCode::kAlreadyExists, "A team with this name already exists.");
  }
  it->second.name = team.name;
  it->second.description = team.description;
  it->second.updated = team.updated;
  return {};
}

Result<void> MemoryCatalogueStore::DeleteTeam(const domain::Id& org_id, const domain::Id& id) {
  std::lock_guard lock(mutex_);
  auto it = data_.teams.find(id.str());
  if (it == data_.teams.end() || it->second.org_id != org_id) {
    return Fail(ErrorCode::kNotFound, "Team not found.");
  }
  PolicyMap remaining = data_.policies;
  std::erase_if(remaining, [&](const auto& kv) {
    const auto& policy = kv.second.policy;
    return policy.organisation == org_id.str() &&
           policy.subject.kind == domain::RbacSubject::Kind::kTeam && policy.subject.id == id.str();
  });
  if (auto kept = KeepsAnOwner(data_.policies, remaining, org_id.str()); !kept) return kept;
  data_.policies = std::move(remaining);
  std::erase_if(data_.team_members, [&](const auto& place) { return place.first == id.str(); });
  data_.teams.erase(it);
  return {};
}

Result<void> MemoryCatalogueStore::AddTeamMember(const domain::Id& org_id,
                                                 const domain::Id& team_id,
                                                 const std::string& member_id) {
  std::lock_guard lock(mutex_);
  auto team = data_.teams.find(team_id.str());
  if (team == data_.teams.end() || team->second.org_id != org_id) {
    return Fail(ErrorCode::kNotFound, "Team not found.");
  }
  if (!data_.memberships.contains({org_id.str(), member_id})) {
    return Fail(ErrorCode::kNotFound, "Member not found.");
  }
  if (!data_.team_members.emplace(team_id.str(), member_id).second) {
    return Fail(ErrorCode::kAlreadyExists, "The member is already in the team.");
  }
  return {};
}

Result<void> MemoryCatalogueStore::RemoveTeamMember(const domain::Id& org_id,
                                                    const domain::Id& team_id,
                                                    const std::string& member_id) {
  std::lock_guard lock(mutex_);
  auto team = data_.teams.find(team_id.str());
  if (team == data_.teams.end() || team->second.org_id != org_id ||
      data_.team_members.erase({team_id.str(), member_id}) == 0) {
    return Fail(ErrorCode::kNotFound, "The member is not in the team.");
  }
  return {};
}

Result<std::vector<Membership>> MemoryCatalogueStore::TeamMembers(const domain::Id& org_id,
                                                                  const domain::Id& team_id) {
  std::lock_guard lock(mutex_);
  auto team = data_.teams.find(team_id.str());
  if (team == data_.teams.end() || team->second.org_id != org_id) {
    return Fail(ErrorCode::kNotFound, "Team not found.");
  }
  std::vector<Membership> out;
  for (auto it = data_.team_members.lower_bound({team_id.str(), std::string()});
       it != data_.team_members.end() && it->first == team_id.str(); ++it) {
    auto membership = data_.memberships.find({org_id.str(), it->second});
    if (membership != data_.memberships.end()) out.push_back(membership->second);
  }
  std::sort(out.begin(), out.end(), ByEmail);
  return out;
}

Result<std::vector<std::string>> MemoryCatalogueStore::MemberTeams(const domain::Id& org_id,
                                                                   const std::string& member_id) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;  // the set is ordered by team id first
  for (const auto& [team_id, member] : data_.team_members) {
    if (member != member_id) continue;
    auto team = data_.teams.find(team_id);
    if (team != data_.teams.end() && team->second.org_id == org_id) out.push_back(team_id);
  }
  return out;
}

// ---- custom roles ------------------------------------------------------------------------------

Result<void> MemoryCatalogueStore::PutRole(const domain::CustomRole& role) {
  std::lock_guard lock(mutex_);
  if (!HasOrganisation(role.org_id)) return Fail(ErrorCode::kNotFound, "Organisation not found.");
  if (role.role.id.empty()) return Fail(ErrorCode::kInvalidArgument, kMalformed);
  domain::CustomRole stored = role;
  stored.role.builtin = false;  // stored roles are custom by definition
  auto [it, inserted] = data_.roles.try_emplace({role.org_id.str(), role.role.id}, stored);
  if (!inserted) {
    stored.created = it->second.created;  // a replacement keeps the role's creation time
    it->second = std::move(stored);
  }
  return {};
}

Result<std::vector<domain::CustomRole>> MemoryCatalogueStore::ListRoles(const domain::Id& org_id) {
  std::lock_guard lock(mutex_);
  std::vector<domain::CustomRole> out;  // the map is ordered by (org, role id)
  for (const auto& [key, role] : data_.roles) {
    if (key.first == org_id.str()) out.push_back(role);
  }
  return out;
}

Result<void> MemoryCatalogueStore::DeleteRole(const domain::Id& org_id,
                                              const std::string& role_id) {
  std::lock_guard lock(mutex_);
  const std::string& org = org_id.str();
  auto it = data_.roles.find({org, role_id});
  if (it == data_.roles.end()) return Fail(ErrorCode::kNotFound, "Role not found.");
  const bool bound = std::any_of(data_.policies.begin(), data_.policies.end(), [&](const auto& kv) {
    return kv.second.policy.organisation == org && kv.second.policy.role == role_id;
  });
  if (bound) return Fail(ErrorCode::kFailedPrecondition, "A policy still binds this role.");
  const bool offered =
      std::any_of(data_.invitations.begin(), data_.invitations.end(), [&](const auto& kv) {
        return kv.second.org_id == org_id && kv.second.state == InvitationState::kPending &&
               kv.second.role == role_id;
      });
  if (offered) {
    return Fail(ErrorCode::kFailedPrecondition, "A pending invitation still offers this role.");
  }
  const bool inherited = std::any_of(data_.roles.begin(), data_.roles.end(), [&](const auto& kv) {
    const auto& parents = kv.second.role.parents;
    return kv.first.first == org && kv.first.second != role_id &&
           std::find(parents.begin(), parents.end(), role_id) != parents.end();
  });
  if (inherited) {
    return Fail(ErrorCode::kFailedPrecondition, "Another role still inherits this role.");
  }
  data_.roles.erase(it);
  return {};
}

// ---- policies ----------------------------------------------------------------------------------

Result<std::vector<StoredPolicy>> MemoryCatalogueStore::ListPolicies(const domain::Id& org_id) {
  std::lock_guard lock(mutex_);
  std::vector<StoredPolicy> out;  // the map is ordered by id
  for (const auto& [id, policy] : data_.policies) {
    if (policy.policy.organisation == org_id.str()) out.push_back(policy);
  }
  return out;
}

Result<void> MemoryCatalogueStore::ChangePolicies(const domain::Id& org_id,
                                                  const PolicyChange& change) {
  std::lock_guard lock(mutex_);
  // The change is applied to a copy that replaces the policies only when every step and the
  // last-owner invariant passed: any failure leaves the store as it was.
  PolicyMap changed = data_.policies;
  for (const auto& id : change.remove) {
    auto it = changed.find(id);
    if (it == changed.end() || it->second.policy.organisation != org_id.str()) {
      return Fail(ErrorCode::kNotFound, "Policy not found.");
    }
    changed.erase(it);
  }
  for (const auto& policy : change.add) {
    if (auto added = AddPolicy(changed, org_id, policy); !added) return added;
  }
  if (auto kept = KeepsAnOwner(data_.policies, changed, org_id.str()); !kept) return kept;
  data_.policies = std::move(changed);
  return {};
}

// ---- feature flags -----------------------------------------------------------------------------

Result<void> MemoryCatalogueStore::PutFlag(const FeatureFlag& flag) {
  std::lock_guard lock(mutex_);
  if (!flag.org_id.empty()) {
    const bool org_exists = std::any_of(data_.orgs.begin(), data_.orgs.end(), [&](const auto& kv) {
      return kv.second.id.str() == flag.org_id;
    });
    if (!org_exists) return Fail(ErrorCode::kNotFound, "Organisation not found.");
  }
  if (auto shape = CheckFlagShape(flag); !shape) return shape;
  data_.flags.insert_or_assign(std::make_tuple(flag.key, flag.level, flag.org_id, flag.subject),
                               flag);
  return {};
}

Result<void> MemoryCatalogueStore::DeleteFlag(const std::string& org_id, const std::string& key,
                                              FlagLevel level, const std::string& subject) {
  std::lock_guard lock(mutex_);
  if (data_.flags.erase(std::make_tuple(key, level, org_id, subject)) == 0) {
    return Fail(ErrorCode::kNotFound, "Flag not found.");
  }
  return {};
}

Result<std::vector<FeatureFlag>> MemoryCatalogueStore::ListFlags(const std::string& org_id) {
  std::lock_guard lock(mutex_);
  // The map's order is (key, level, org, subject); within one listing a (key, level) pair has
  // one organisation (global flags have none, the others are this one's), hence the order the
  // port asks for: key, level, subject.
  std::vector<FeatureFlag> out;
  for (const auto& [identity, flag] : data_.flags) {
    if (flag.org_id.empty() || flag.org_id == org_id) out.push_back(flag);
  }
  return out;
}

}  // namespace socle::adapters::memory
