#pragma once

#include <string>
#include <string_view>
#include <vector>

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

  /// One key of the ring as the platform stores it: its id and its 32-byte private seed
  /// (RFC 8032), raw bytes.
  struct KeyMaterial {
    std::string kid;
    std::string seed;
  };
  /// Replaces the whole ring at once with `keys`, signing with `current_kid` from now on (""
  /// for none: verification only). invalid_argument for a malformed key or id, or a
  /// current_kid not among the keys; the ring is unchanged then.
  virtual domain::Result<void> ReplaceKeys(const std::vector<KeyMaterial>& keys,
                                           std::string_view current_kid) = 0;

  /// The ring's public keys as a JSON Web Key Set, for /.well-known/jwks.json.
  virtual std::string PublicJwks() const = 0;

  /// A short, one-way binding of `secret` (an auth record's tokenKey) for
  /// TokenClaims::key_binding: equal secrets give equal bindings, and a binding reveals
  /// nothing usable about its secret.
  virtual std::string Bind(std::string_view secret) = 0;
};

}  // namespace socle::application
