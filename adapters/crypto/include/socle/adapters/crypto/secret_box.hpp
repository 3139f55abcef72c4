#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/application/ports/random_source.hpp"
#include "socle/application/ports/secret_sealer.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::crypto {

/// Secrets at rest sealed with AES-256-GCM under a master key ring, as
/// "sb1.<key id>.<base64url(nonce | ciphertext | tag)>". The key id (the first 8 hex digits of
/// SHA-256 of the key) lets Open pick the key a value was sealed with, so that the master key
/// can rotate: new values are sealed with the current key while values sealed with an older key
/// in the ring keep opening until they are re-sealed. The version prefix, the key id and the
/// caller's context are all authenticated as associated data.
///
/// Each seal draws a fresh 96-bit nonce; NIST SP 800-38D bounds random nonces to 2^32 seals
/// per key, far above the number of secrets a deployment stores under one master key.
///
/// Thread-safe: the ring is fixed at creation. Key bytes are wiped when the box is destroyed.
class SecretBox final : public application::SecretSealer {
 public:
  static constexpr std::size_t kKeySize = 32;     ///< AES-256 key bytes.
  static constexpr std::size_t kNonceSize = 12;   ///< GCM nonce bytes (96 bits).
  static constexpr std::size_t kTagSize = 16;     ///< GCM tag bytes (128 bits).
  static constexpr std::size_t kKeyIdLength = 8;  ///< Hex digits of the key id.
  static constexpr std::string_view kVersionPrefix = "sb1.";
  /// Largest plaintext Seal accepts: sealed values are small secrets, not documents.
  static constexpr std::size_t kMaxPlaintextBytes = 64 * 1024;
  /// Longest context accepted.
  static constexpr std::size_t kMaxContextBytes = 1024;
  /// Longest sealed string Open reads; anything longer cannot have come from Seal.
  static constexpr std::size_t kMaxSealedBytes =
      kVersionPrefix.size() + kKeyIdLength + 1 +
      ((kNonceSize + kMaxPlaintextBytes + kTagSize) * 4 + 2) / 3;

  /// Returns a box that seals with `current_key` and opens values sealed with it or with any of
  /// `older_keys`, drawing nonces from `random`, which must outlive it. The key bytes are
  /// copied. Errors: invalid_argument when a key is not kKeySize bytes, or when two different
  /// keys share a key id (a 2^-32 accident: generate another key); a key given twice is kept
  /// once.
  static domain::Result<SecretBox> Create(std::span<const std::uint8_t> current_key,
                                          std::span<const std::span<const std::uint8_t>> older_keys,
                                          application::RandomSource& random);

  /// The key id of `key` as sealed values spell it: the first kKeyIdLength lower-case hex
  /// digits of SHA-256(key).
  static std::string KeyIdOf(std::span<const std::uint8_t> key);

  domain::Result<std::string> Seal(std::string_view plaintext, std::string_view context) override;
  domain::Result<std::string> Open(std::string_view sealed, std::string_view context) override;

  /// The id of the key new values are sealed with.
  const std::string& CurrentKeyId() const noexcept { return keys_.front().id; }

  /// Whether `sealed` should be sealed again to move it to the current key (after a successful
  /// Open): true when it names another key id or does not parse. Never fails.
  bool NeedsReseal(std::string_view sealed) const noexcept;

  /// AES-256-GCM encryption of `plaintext` with an explicit `nonce`: the ciphertext followed by
  /// the 16-byte tag. Exposed for test vectors; Seal never lets a caller choose the nonce.
  /// invalid_argument when the key or nonce has the wrong size or an input is too long for the
  /// crypto library; internal when it fails.
  static domain::Result<std::vector<std::uint8_t>> EncryptAes256Gcm(
      std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
      std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plaintext);

  /// AES-256-GCM decryption of `ciphertext_and_tag` (as EncryptAes256Gcm returns it). nullopt
  /// when the tag does not verify or any input has the wrong size; no unauthenticated byte is
  /// ever returned.
  static std::optional<std::vector<std::uint8_t>> DecryptAes256Gcm(
      std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
      std::span<const std::uint8_t> aad, std::span<const std::uint8_t> ciphertext_and_tag);

 private:
  // One key of the ring. Copies (there are no moves: the destructor is user-declared) leave
  // the original to be wiped by its own destructor.
  struct Key {
    std::string id;
    std::array<std::uint8_t, kKeySize> bytes{};

    Key() = default;
    Key(const Key&) = default;
    Key& operator=(const Key&) = default;
    ~Key();
  };

  SecretBox(std::vector<Key> keys, application::RandomSource& random)
      : keys_(std::move(keys)), random_(&random) {}

  const Key* FindKey(std::string_view id) const noexcept;

  std::vector<Key> keys_;              // keys_.front() is the current key
  application::RandomSource* random_;  // Not owned; a pointer keeps the class movable.
};

}  // namespace socle::adapters::crypto
