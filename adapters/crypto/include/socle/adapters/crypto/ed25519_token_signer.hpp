#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/ports/random_source.hpp"
#include "socle/application/ports/token_signer.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/token_claims.hpp"

namespace socle::adapters::crypto {

/// Access tokens as JWTs signed with Ed25519 (JWS "EdDSA", RFC 8037) over a ring of keys, so
/// keys can rotate: tokens signed by a retired key keep verifying while its public half stays
/// in the ring. Verification trusts nothing the token says about how to verify it: the
/// algorithm is pinned to EdDSA and the key is looked up by `kid` in the ring only.
///
/// Tokens that verified are remembered (a bounded cache keyed by the token's exact bytes), so
/// that a client presenting its token on every request pays for the signature check once: an
/// Ed25519 verification costs more than the rest of a point read. A remembered token is
/// forgotten the moment its key leaves the ring or changes; times, audience and the token key
/// binding are the caller's checks, made on every request as before.
///
/// Thread-safe: the ring may change (AddKey, RemoveKey) while other threads sign and verify.
class Ed25519TokenSigner final : public application::TokenSigner {
 public:
  static constexpr std::size_t kKeySize = 32;        ///< Ed25519 seed and public key bytes.
  static constexpr std::size_t kSignatureSize = 64;  ///< Ed25519 signature bytes.
  static constexpr std::size_t kMaxTokenBytes = 8 * 1024;  ///< Longer tokens are refused.
  static constexpr std::size_t kMaxKeyIdBytes = 64;
  /// Verified tokens remembered at most (about 1 KiB each).
  static constexpr std::size_t kVerifiedCapacity = 2048;

  Ed25519TokenSigner();
  ~Ed25519TokenSigner() override;
  Ed25519TokenSigner(const Ed25519TokenSigner&) = delete;
  Ed25519TokenSigner& operator=(const Ed25519TokenSigner&) = delete;

  /// Adds a signing key from its 32-byte RFC 8032 private key (the seed) and makes it the
  /// current one. invalid_argument for a key id that is empty, longer than kMaxKeyIdBytes or
  /// not made of [A-Za-z0-9._-], or a key of the wrong size; already_exists when the id is in
  /// the ring; internal when the crypto library refuses the key.
  domain::Result<void> AddKey(std::string kid, std::span<const std::uint8_t> private_key);

  /// Adds a key that only verifies (a retired key, or another issuer's), from its 32-byte
  /// public key. Errors as AddKey. Does not change the current key.
  domain::Result<void> AddVerifyOnlyKey(std::string kid, std::span<const std::uint8_t> public_key);

  /// Adds a new signing key whose seed comes from `random` and makes it the current one.
  /// Errors as AddKey.
  domain::Result<void> Generate(std::string kid, application::RandomSource& random);

  /// Removes a key: tokens naming it stop verifying. not_found for an unknown id;
  /// failed_precondition for the current signing key (add its successor first).
  domain::Result<void> RemoveKey(std::string_view kid);

  /// The ring's public keys as a JSON Web Key Set (RFC 7517 section 5, OKP keys of RFC 8037
  /// with kid, use "sig" and alg "EdDSA"), in key id order, for /.well-known/jwks.json.
  std::string PublicJwks() const override;

  domain::Result<std::string> Sign(const domain::TokenClaims& claims) override;
  domain::Result<domain::TokenClaims> Verify(std::string_view token) override;
  std::string CurrentKeyId() override;
  domain::Result<void> ReplaceKeys(const std::vector<KeyMaterial>& keys,
                                   std::string_view current_kid) override;
  /// base64url of the first 16 bytes of SHA-256("socle-token-key\0" + secret).
  std::string Bind(std::string_view secret) override;

  /// The raw Ed25519 signature of `message` with the current key (what Sign applies to the JWS
  /// signing input); exposed for test vectors. failed_precondition without a current key;
  /// internal when the crypto library fails.
  domain::Result<std::vector<std::uint8_t>> SignBytes(std::span<const std::uint8_t> message);

  /// Whether `signature` is a valid Ed25519 signature of `message` under the 32-byte
  /// `public_key` (RFC 8032, strict: non-canonical S refused). False for malformed inputs.
  static bool VerifyBytes(std::span<const std::uint8_t> public_key,
                          std::span<const std::uint8_t> message,
                          std::span<const std::uint8_t> signature);

 private:
  struct Key;  // holds the crypto library's key object, kept out of this header
  class VerifiedTokens;  // the cache of verified tokens
  static domain::Result<std::shared_ptr<const Key>> MakeKey(std::span<const std::uint8_t> seed);

  domain::Result<void> Insert(std::string kid, std::shared_ptr<const Key> key, bool make_current);
  domain::Result<domain::TokenClaims> VerifyUncached(std::string_view token,
                                                     std::uint64_t& generation);

  mutable std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<const Key>, std::less<>> ring_;
  std::string current_;
  // Bumped (under mutex_) whenever a key that may have verified a token leaves the ring or
  // changes: remembered tokens of an older generation are not trusted.
  std::atomic<std::uint64_t> generation_{0};
  std::unique_ptr<VerifiedTokens> verified_;
};

}  // namespace socle::adapters::crypto
