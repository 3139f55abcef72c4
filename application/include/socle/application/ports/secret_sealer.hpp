#pragma once

#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::application {

/// Authenticated encryption of small secrets kept at rest (signing keys, TOTP seeds, OAuth
/// client secrets, S3 credentials). Each sealed value is bound to a context naming where it is
/// kept (e.g. "signing-key:<kid>", "totp:<user id>"), so a value copied to another row or
/// column fails to open instead of being accepted as that other secret.
class SecretSealer {
 public:
  virtual ~SecretSealer() = default;
  /// Returns `plaintext` encrypted and authenticated under the current key with `context`
  /// bound to it, as printable ASCII safe for a TEXT column; two seals of one value differ.
  /// Errors: invalid_argument when `context` is empty or either input is longer than the
  /// adapter's limit; internal when the crypto library fails. Thread-safe.
  virtual domain::Result<std::string> Seal(std::string_view plaintext,
                                           std::string_view context) = 0;
  /// Returns the plaintext of a value Seal made with the same `context`. Errors: invalid_argument
  /// when `context` is empty; unauthenticated, with one message whatever the cause, when
  /// `sealed` is malformed, was altered, was sealed for another context or under a key the
  /// adapter does not hold (the cause goes to Error::internal only); internal when the crypto
  /// library fails. Thread-safe.
  virtual domain::Result<std::string> Open(std::string_view sealed, std::string_view context) = 0;
};

}  // namespace socle::application
