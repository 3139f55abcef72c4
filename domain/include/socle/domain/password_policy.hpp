#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::domain {

/// What a new password must satisfy. Lengths count Unicode code points, as a person counts
/// characters, not bytes.
struct PasswordPolicy {
  /// Fewest code points (NIST SP 800-63B asks for at least 8 for a chosen password).
  std::size_t min_length = 8;
  /// Most code points: long passphrases are welcome, but not unbounded hashing work. 256 code
  /// points are at most 1024 bytes of UTF-8, well within what the password hasher accepts.
  std::size_t max_length = 256;
  /// Whether to refuse passwords from the common-password list (see IsCommonPassword).
  bool refuse_common = true;
};

/// Checks a new password against `policy`, and against `identity_parts`: things about the
/// account a guesser would try first (the email address or its local part, the username, the
/// name). Returns invalid_argument with one field error on "password", for the first rule
/// broken in this order:
///   validation_required                    the password is empty;
///   validation_invalid_format              it is not valid UTF-8;
///   validation_min_text_constraint         fewer than min_length code points;
///   validation_max_text_constraint         more than max_length code points;
///   validation_common_password             IsCommonPassword (when refuse_common);
///   validation_password_contains_identity  it contains an identity part of 4 or more code
///                                          points, ignoring ASCII case; for a part holding an
///                                          '@' (an email address) its local part is compared.
Result<void> CheckPassword(std::string_view password, const PasswordPolicy& policy,
                           std::span<const std::string_view> identity_parts = {});

/// Whether `password` is on the embedded common-password list (Openwall's password.lst, the
/// entries of 4 or more characters, ASCII lower-cased), ignoring ASCII case: either exactly,
/// or once its trailing ASCII punctuation and spaces are removed ("123456789!"), or once its
/// trailing ASCII digits, punctuation and spaces are removed ("Password123!" -> "password").
/// Only trailing decorations are removed: a list word inside a longer password is not matched.
bool IsCommonPassword(std::string_view password);

/// The embedded common-password list: ASCII lower-case, sorted by byte, without duplicates.
/// Generated at build time by cmake/common_passwords.cmake.
std::span<const std::string_view> CommonPasswords() noexcept;

}  // namespace socle::domain
