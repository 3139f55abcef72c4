#pragma once

#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::application {

/// One-way, salted, deliberately slow password hashing for stored credentials. Hashes are PHC
/// strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) so that the parameters travel with each
/// hash and can be raised later without invalidating stored rows.
class PasswordHasher {
 public:
  virtual ~PasswordHasher() = default;
  /// Returns a PHC string for `password` under the current policy, with a fresh random salt, so
  /// two calls with one password give different strings. Errors: invalid_argument when the
  /// password is longer than the adapter's limit; resource_exhausted when the memory the hash
  /// needs cannot be had; internal when the hashing library fails otherwise. Thread-safe.
  virtual domain::Result<std::string> Hash(std::string_view password) = 0;
  /// Returns whether `password` matches the PHC string `phc`, comparing in constant time; a
  /// wrong password is `false`, not an error. Errors: invalid_argument when `phc` is malformed,
  /// names an unsupported algorithm or version, or carries parameters outside the adapter's
  /// bounds, or when the password is longer than the adapter's limit; resource_exhausted when the
  /// memory the hash needs cannot be had; internal when the hashing library fails otherwise.
  /// Thread-safe.
  virtual domain::Result<bool> Verify(std::string_view password, std::string_view phc) = 0;
  /// Returns true when `phc` should be replaced by a fresh hash of the same password (after a
  /// successful Verify): its algorithm or version is not the current one, or any parameter is
  /// below the current policy. A string that does not parse also returns true. Never fails.
  /// Thread-safe.
  virtual bool NeedsRehash(std::string_view phc) = 0;
};

}  // namespace socle::application
