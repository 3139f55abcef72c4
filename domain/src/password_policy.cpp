#include "socle/domain/password_policy.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "socle/domain/display_name.hpp"

namespace socle::domain {
namespace {

constexpr std::string_view kField = "password";
// Parts shorter than this ("al", "bob") occur inside too many good passwords to refuse them.
constexpr std::size_t kMinIdentityPartLength = 4;

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

bool IsAsciiPunctuationOrSpace(char c) {
  return c == ' ' || (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

bool Listed(std::string_view candidate) {
  return !candidate.empty() && std::ranges::binary_search(CommonPasswords(), candidate);
}

// Removes trailing characters matching `strip`; true when any were removed.
template <typename Predicate>
bool StripTrailing(std::string_view& text, Predicate strip) {
  const std::size_t before = text.size();
  while (!text.empty() && strip(text.back())) text.remove_suffix(1);
  return text.size() != before;
}

std::unexpected<Error> FieldFail(std::string code, std::string message) {
  return Fail(Error::Field(std::string(kField), std::move(code), std::move(message)));
}

// Whether `lower_password` (ASCII lower-cased) contains the identity `part`.
bool ContainsIdentity(std::string_view lower_password, std::string_view part) {
  // An email address is compared by its local part: that is what people reuse ("alice2024"),
  // and a password containing the whole address contains the local part too. The local part
  // ends at the last '@' (a quoted local part may hold one).
  if (const std::size_t at = part.rfind('@'); at != std::string_view::npos) {
    part = part.substr(0, at);
  }
  const long code_points = Utf8Length(part);
  const std::size_t length = code_points < 0 ? part.size() : static_cast<std::size_t>(code_points);
  if (length < kMinIdentityPartLength) return false;
  return lower_password.find(AsciiLower(part)) != std::string_view::npos;
}

}  // namespace

bool IsCommonPassword(std::string_view password) {
  const std::string lower = AsciiLower(password);
  std::string_view candidate = lower;
  if (Listed(candidate)) return true;
  // "123456789!": a list entry made of digits keeps its digits.
  if (StripTrailing(candidate, IsAsciiPunctuationOrSpace) && Listed(candidate)) return true;
  // "Password123!": the usual decoration of a common word.
  return StripTrailing(candidate,
                       [](char c) { return IsAsciiDigit(c) || IsAsciiPunctuationOrSpace(c); }) &&
         Listed(candidate);
}

Result<void> CheckPassword(std::string_view password, const PasswordPolicy& policy,
                           std::span<const std::string_view> identity_parts) {
  if (password.empty()) return FieldFail("validation_required", "Cannot be blank.");
  const long code_points = Utf8Length(password);
  if (code_points < 0) return FieldFail("validation_invalid_format", "Must be valid UTF-8 text.");
  const auto length = static_cast<std::size_t>(code_points);
  if (length < policy.min_length) {
    return FieldFail("validation_min_text_constraint",
                     "Must be at least " + std::to_string(policy.min_length) + " character(s).");
  }
  if (length > policy.max_length) {
    return FieldFail(
        "validation_max_text_constraint",
        "Must be no more than " + std::to_string(policy.max_length) + " character(s).");
  }
  if (policy.refuse_common && IsCommonPassword(password)) {
    return FieldFail("validation_common_password",
                     "This password is too common and easy to guess; choose another one.");
  }
  const std::string lower = AsciiLower(password);
  for (const std::string_view part : identity_parts) {
    if (ContainsIdentity(lower, part)) {
      return FieldFail("validation_password_contains_identity",
                       "Must not contain your email address, username or name.");
    }
  }
  return {};
}

}  // namespace socle::domain
