#include "socle/domain/access.hpp"

#include <utility>

#include "socle/domain/display_name.hpp"

namespace socle::domain {
namespace {

constexpr long kMaxTeamName = 100;
constexpr long kMaxTeamDescription = 1000;

bool HasControlCharacter(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::string_view ToString(InvitationState state) noexcept {
  switch (state) {
    case InvitationState::kPending: return "pending";
    case InvitationState::kAccepted: return "accepted";
    case InvitationState::kDeclined: return "declined";
    case InvitationState::kRevoked: return "revoked";
  }
  return "pending";
}

Result<InvitationState> ParseInvitationState(std::string_view text) {
  for (auto state : {InvitationState::kPending, InvitationState::kAccepted,
                     InvitationState::kDeclined, InvitationState::kRevoked}) {
    if (ToString(state) == text) return state;
  }
  return Fail(Error::Field("state", "validation_invalid_value",
                             "Must be pending, accepted, declined or revoked."));
}

Result<void> CheckTeam(const Team& team) {
  std::vector<FieldError> errors;
  const long name_length = Utf8Length(team.name);
  if (team.name.empty() || team.name.find_first_not_of(' ') == std::string::npos) {
    errors.push_back({"name", "validation_required", "Cannot be blank."});
  } else if (name_length < 0 || name_length > kMaxTeamName || HasControlCharacter(team.name)) {
    errors.push_back({"name", "validation_invalid_value",
                      "Must be 1-100 characters of valid UTF-8 without control characters."});
  }
  const long description_length = Utf8Length(team.description);
  if (description_length < 0 || description_length > kMaxTeamDescription) {
    errors.push_back({"description", "validation_invalid_value",
                      "Must be at most 1000 characters of valid UTF-8."});
  }
  if (errors.empty()) return {};
  Error error = Error::Make(ErrorCode::kInvalidArgument, "The team is not valid.");
  error.fields = std::move(errors);
  return std::unexpected(std::move(error));
}

bool IsOwnerPolicy(const Policy& policy) noexcept {
  return policy.subject.kind == RbacSubject::Kind::kMember && policy.role == kOwnerRole &&
         !policy.project.has_value();
}

Result<RoleCatalogue> CatalogueOf(const std::vector<CustomRole>& custom) {
  auto roles = BuiltinRoles();
  roles.reserve(roles.size() + custom.size());
  for (const auto& role : custom) roles.push_back(role.role);
  return RoleCatalogue::Make(std::move(roles));
}

}  // namespace socle::domain
