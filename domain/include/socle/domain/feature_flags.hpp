#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/error.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/rbac.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::domain {

// Feature flags: named values (a boolean, a number or a string) set at four levels. The most
// specific level that sets a flag wins: user, then role, then organisation, then global.

enum class FlagLevel { kGlobal, kOrganisation, kRole, kUser };
std::string_view ToString(FlagLevel level) noexcept;
/// Parses "global" / "organisation" / "role" / "user"; invalid_argument with field "level".
Result<FlagLevel> ParseFlagLevel(std::string_view text);

/// One value of a flag at one level.
struct FeatureFlag {
  std::string key;      ///< 1-64 of [a-z0-9_.-], starting with a letter or digit
  FlagLevel level = FlagLevel::kGlobal;
  std::string org_id;   ///< "" for global, the organisation's id otherwise
  std::string subject;  ///< the role id (role level) or member id (user level); "" otherwise
  JsonValue value;      ///< bool, number or string
  std::string description;  ///< at most 500 characters
  Timestamp updated;
  std::string updated_by;
  friend bool operator==(const FeatureFlag&, const FeatureFlag&) = default;
};

/// Checks a flag's key, level/org/subject coherence, value type and description:
/// invalid_argument with field errors "key", "level", "subject", "value", "description".
Result<void> CheckFlag(const FeatureFlag& flag);

/// Who a flag is evaluated for.
struct FlagContext {
  std::string org_id;               ///< "" evaluates global flags only
  std::vector<std::string> roles;   ///< the caller's roles in the organisation (active one only)
  std::string member_id;            ///< "" for a caller that is not a member
};

/// A flag's value for a context and where it came from.
struct FlagEvaluation {
  std::string key;
  std::optional<JsonValue> value;  ///< nullopt: no level sets it
  std::optional<FlagLevel> level;
  std::string source;  ///< "user", "role:<id>", "organisation", "global" or "unset"
};

/// Evaluates `key` for `context` over `flags` (any mix of levels and organisations; those of
/// other organisations, roles and members are ignored). Precedence: user, role, organisation,
/// global. When several of the caller's roles set the flag, the value of the most senior one
/// counts: a role that inherits another (`roles` says who inherits whom) comes before it;
/// between unrelated roles, the smallest id.
FlagEvaluation EvaluateFlag(const std::vector<FeatureFlag>& flags, std::string_view key,
                            const FlagContext& context, const RoleCatalogue& roles);

/// Every key set for `context` (one evaluation each), sorted by key.
std::vector<FlagEvaluation> EvaluateFlags(const std::vector<FeatureFlag>& flags,
                                          const FlagContext& context,
                                          const RoleCatalogue& roles);

}  // namespace socle::domain
