#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::domain {

/// What an access token says about its bearer, independent of how it is encoded and signed.
struct TokenClaims {
  std::string iss;            ///< Issuer: the Socle deployment that minted the token.
  std::string sub;            ///< Subject: the authenticated record's id.
  std::string aud;            ///< Audience: the service the token is meant for.
  std::string jti;            ///< Token id, unique per token (revocation, replay checks).
  std::string collection_id;  ///< The auth collection the subject belongs to.
  std::string type;           ///< The token's purpose ("auth", "refresh", ...).
  Timestamp iat;              ///< Issued at.
  Timestamp exp;              ///< Expires at.
  std::optional<Timestamp> nbf;  ///< Not valid before, when set.
  /// Binds the token to a secret of its subject (an auth record's tokenKey, see
  /// TokenSigner::Bind): when the secret changes, tokens minted before stop matching. "" for
  /// tokens without one.
  std::string key_binding;
  /// One-time tokens sent by e-mail: the address the token was sent to ("email") and, for an
  /// e-mail change, the address to change to ("newEmail"). "" when absent.
  std::string email;
  std::string new_email;
  /// Role switching: the role the subject chose to act with ("role"); "" for all of theirs.
  std::string role;

  friend bool operator==(const TokenClaims&, const TokenClaims&) = default;
};

/// What a verifier demands of a token's claims beyond a valid signature.
struct VerifyPolicy {
  std::string expected_aud;
  std::string expected_iss;
  /// Tolerated clock difference between the issuer and this verifier. Negative counts as zero.
  std::chrono::seconds max_skew{30};
};

/// Checks the claims of a token whose signature is already verified against `policy` at `now`.
/// unauthenticated, with a client-safe message (the detail goes to Error::internal), when the
/// audience or issuer differs from the expected one, the token has expired (exp + skew < now),
/// is not yet valid (nbf - skew > now) or was issued in the future (iat - skew > now).
/// An instant exactly at a bound is accepted. Pure: no clock, no I/O.
Result<void> CheckClaims(const TokenClaims& claims, const VerifyPolicy& policy, Timestamp now);

}  // namespace socle::domain
