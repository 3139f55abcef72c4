#pragma once

#include <string>
#include <string_view>

#include "socle/domain/error.hpp"
#include "socle/domain/token_claims.hpp"

namespace socle::application {

/// Mints and checks signed access tokens (compact JWS). It vouches for integrity and origin
/// only: whether the claims are acceptable now is domain::CheckClaims' decision, made by the
/// caller with its own policy and clock. Implementations are thread-safe.
class TokenSigner {
 public:
  virtual ~TokenSigner() = default;

  /// Returns `claims` signed with the current key as a compact JWS whose protected header names
  /// the key (`kid`). Instants are written as whole seconds (sub-second parts are dropped).
  /// failed_precondition when no signing key is configured; internal when the crypto library
  /// fails.
  virtual domain::Result<std::string> Sign(const domain::TokenClaims& claims) = 0;

  /// Returns the claims of `token` once its structure and signature check out against the key
  /// its header names. unauthenticated, with one client-safe message, for anything else:
  /// malformed or oversized token, unexpected algorithm or header, unknown key, bad signature,
  /// missing or mistyped claims. Does not look at times, audience or issuer.
  virtual domain::Result<domain::TokenClaims> Verify(std::string_view token) = 0;

  /// Returns the id of the key Sign uses now, or "" when there is none. Never fails.
  virtual std::string CurrentKeyId() = 0;
};

}  // namespace socle::application
