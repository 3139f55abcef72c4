#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/error.hpp"
#include "socle/domain/id.hpp"
#include "socle/domain/rbac.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::domain {

// Who belongs to an organisation and how: memberships, invitations and teams. What they may do
// is said by policies (rbac.hpp) binding roles to members, teams and API keys. An organisation
// always keeps at least one owner: a member bound to the role "owner" on the whole
// organisation.

/// The built-in role that owns an organisation.
inline constexpr std::string_view kOwnerRole = "owner";

/// A platform member's belonging to an organisation.
struct Membership {
  Id org_id;
  std::string member_id;  ///< the `_members` record id of the platform store
  std::string email;      ///< the member's e-mail when they joined (lower case), for listings
  Timestamp created;
  friend bool operator==(const Membership&, const Membership&) = default;
};

/// Where an invitation stands. Only a pending invitation can change, once.
enum class InvitationState { kPending, kAccepted, kDeclined, kRevoked };
std::string_view ToString(InvitationState state) noexcept;
/// Parses "pending" / "accepted" / "declined" / "revoked"; invalid_argument otherwise.
Result<InvitationState> ParseInvitationState(std::string_view text);

/// An invitation by e-mail to join an organisation with a role, at the organisation or on one
/// project of it. The token the invitee receives is stored only as a one-way binding.
struct Invitation {
  Id id;
  Id org_id;
  std::string email;  ///< lower case
  std::string role;   ///< the role the policy made on acceptance binds
  std::optional<std::string> project;  ///< project id; nullopt: the whole organisation
  std::string token_binding;           ///< TokenSigner::Bind of the token
  std::string invited_by;              ///< member id, or "" for an operator
  InvitationState state = InvitationState::kPending;
  Timestamp created;
  Timestamp expires;
  std::optional<Timestamp> decided;  ///< when it was accepted, declined or revoked
  friend bool operator==(const Invitation&, const Invitation&) = default;

  /// Pending and not yet expired at `now`.
  bool Open(Timestamp now) const noexcept {
    return state == InvitationState::kPending && now < expires;
  }
};

/// A group of an organisation's members; policies may bind roles to it.
struct Team {
  Id id;
  Id org_id;
  std::string name;         ///< 1-100 characters, unique in the organisation (case-insensitive)
  std::string description;  ///< at most 1000 characters
  Timestamp created;
  Timestamp updated;
  friend bool operator==(const Team&, const Team&) = default;
};

/// Checks a team's name and description: invalid_argument with field errors "name" and
/// "description".
Result<void> CheckTeam(const Team& team);

/// A custom role of an organisation (the built-in ones are not stored).
struct CustomRole {
  Id org_id;
  Role role;  ///< builtin false
  Timestamp created;
  Timestamp updated;
  friend bool operator==(const CustomRole&, const CustomRole&) = default;
};

/// A policy as stored: who made it and when.
struct StoredPolicy {
  Policy policy;  ///< policy.id is a 15-character Id; policy.organisation the org's id
  Timestamp created;
  std::string created_by;  ///< "member:<id>", "apikey:<id>", "superuser:<id>" or "system"
  friend bool operator==(const StoredPolicy&, const StoredPolicy&) = default;
};

/// Whether `policy` makes its subject an owner of its organisation: a member bound to "owner"
/// on the whole organisation.
bool IsOwnerPolicy(const Policy& policy) noexcept;

/// The role catalogue of an organisation: the built-in roles and its custom ones.
Result<RoleCatalogue> CatalogueOf(const std::vector<CustomRole>& custom);

}  // namespace socle::domain
