#include "socle/domain/feature_flags.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "socle/domain/display_name.hpp"

namespace socle::domain {
namespace {

constexpr std::size_t kMaxKeyLength = 64;
constexpr long kMaxDescription = 500;

bool IsFlagKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(key.front())) return false;
  return std::all_of(key.begin(), key.end(),
                     [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}

// Whether `role` inherits `ancestor`, directly or through other roles.
bool Inherits(const RoleCatalogue& roles, const std::string& role, const std::string& ancestor) {
  if (role == ancestor || roles.Find(ancestor) == nullptr) return false;
  std::vector<std::string> pending{role};
  std::vector<std::string> seen;
  while (!pending.empty()) {
    auto current = std::move(pending.back());
    pending.pop_back();
    if (std::find(seen.begin(), seen.end(), current) != seen.end()) continue;
    seen.push_back(current);
    const Role* found = roles.Find(current);
    if (found == nullptr) continue;
    for (const auto& parent : found->parents) {
      if (parent == ancestor) return true;
      pending.push_back(parent);
    }
  }
  return false;
}

int Rank(FlagLevel level) {
  switch (level) {
    case FlagLevel::kUser: return 0;
    case FlagLevel::kRole: return 1;
    case FlagLevel::kOrganisation: return 2;
    case FlagLevel::kGlobal: return 3;
  }
  return 3;
}

// Whether `flag` applies to `context` at all.
bool Applies(const FeatureFlag& flag, const FlagContext& context) {
  switch (flag.level) {
    case FlagLevel::kGlobal: return flag.org_id.empty();
    case FlagLevel::kOrganisation:
      return !context.org_id.empty() && flag.org_id == context.org_id;
    case FlagLevel::kRole:
      return !context.org_id.empty() && flag.org_id == context.org_id &&
             std::find(context.roles.begin(), context.roles.end(), flag.subject) !=
                 context.roles.end();
    case FlagLevel::kUser:
      return !context.org_id.empty() && !context.member_id.empty() &&
             flag.org_id == context.org_id && flag.subject == context.member_id;
  }
  return false;
}

// Whether `a` should win over `b`, both applying to the same key.
bool Wins(const FeatureFlag& a, const FeatureFlag& b, const RoleCatalogue& roles) {
  if (Rank(a.level) != Rank(b.level)) return Rank(a.level) < Rank(b.level);
  if (a.level != FlagLevel::kRole) return false;
  if (Inherits(roles, a.subject, b.subject)) return true;
  if (Inherits(roles, b.subject, a.subject)) return false;
  return a.subject < b.subject;
}

FlagEvaluation Describe(std::string_view key, const FeatureFlag* flag) {
  FlagEvaluation out;
  out.key = std::string(key);
  if (flag == nullptr) {
    out.source = "unset";
    return out;
  }
  out.value = flag->value;
  out.level = flag->level;
  switch (flag->level) {
    case FlagLevel::kUser: out.source = "user"; break;
    case FlagLevel::kRole: out.source = "role:" + flag->subject; break;
    case FlagLevel::kOrganisation: out.source = "organisation"; break;
    case FlagLevel::kGlobal: out.source = "global"; break;
  }
  return out;
}

}  // namespace

std::string_view ToString(FlagLevel level) noexcept {
  switch (level) {
    case FlagLevel::kGlobal: return "global";
    case FlagLevel::kOrganisation: return "organisation";
    case FlagLevel::kRole: return "role";
    case FlagLevel::kUser: return "user";
  }
  return "global";
}

Result<FlagLevel> ParseFlagLevel(std::string_view text) {
  for (auto level : {FlagLevel::kGlobal, FlagLevel::kOrganisation, FlagLevel::kRole,
                     FlagLevel::kUser}) {
    if (ToString(level) == text) return level;
  }
  return Fail(Error::Field("level", "validation_invalid_value",
                           "Must be global, organisation, role or user."));
}

Result<void> CheckFlag(const FeatureFlag& flag) {
  std::vector<FieldError> errors;
  if (!IsFlagKey(flag.key)) {
    errors.push_back({"key", "validation_invalid_value",
                      "Must be 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit."});
  }
  const bool global = flag.level == FlagLevel::kGlobal;
  if (global != flag.org_id.empty()) {
    errors.push_back({"level", "validation_invalid_value",
                      global ? "A global flag belongs to no organisation."
                             : "This level needs an organisation."});
  }
  const bool needs_subject = flag.level == FlagLevel::kRole || flag.level == FlagLevel::kUser;
  if (needs_subject == flag.subject.empty()) {
    errors.push_back({"subject", needs_subject ? "validation_required" : "validation_invalid_value",
                      needs_subject ? "A role or user flag names its role or member."
                                    : "Only role and user flags name a subject."});
  }
  using T = JsonValue::Type;
  const auto type = flag.value.type();
  if (type != T::kBool && type != T::kNumber && type != T::kString) {
    errors.push_back({"value", "validation_invalid_value",
                      "Must be a boolean, a number or a string."});
  } else if (type == T::kString && flag.value.AsString().size() > 1000) {
    errors.push_back({"value", "validation_invalid_value",
                      "A string value has at most 1000 bytes."});
  }
  const long description = Utf8Length(flag.description);
  if (description < 0 || description > kMaxDescription) {
    errors.push_back({"description", "validation_invalid_value",
                      "Must be at most 500 characters of valid UTF-8."});
  }
  if (errors.empty()) return {};
  Error error = Error::Make(ErrorCode::kInvalidArgument, "The flag is not valid.");
  error.fields = std::move(errors);
  return std::unexpected(std::move(error));
}

FlagEvaluation EvaluateFlag(const std::vector<FeatureFlag>& flags, std::string_view key,
                            const FlagContext& context, const RoleCatalogue& roles) {
  const FeatureFlag* best = nullptr;
  for (const auto& flag : flags) {
    if (flag.key != key || !Applies(flag, context)) continue;
    if (best == nullptr || Wins(flag, *best, roles)) best = &flag;
  }
  return Describe(key, best);
}

std::vector<FlagEvaluation> EvaluateFlags(const std::vector<FeatureFlag>& flags,
                                          const FlagContext& context,
                                          const RoleCatalogue& roles) {
  std::map<std::string_view, const FeatureFlag*> best;
  for (const auto& flag : flags) {
    if (!Applies(flag, context)) continue;
    auto& slot = best[flag.key];
    if (slot == nullptr || Wins(flag, *slot, roles)) slot = &flag;
  }
  std::vector<FlagEvaluation> out;
  out.reserve(best.size());
  for (const auto& [key, flag] : best) out.push_back(Describe(key, flag));
  return out;
}

}  // namespace socle::domain
