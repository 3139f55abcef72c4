#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "socle/application/ports/audit_signer.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::crypto {

/// Signs audit checkpoints with an Ed25519 key (RFC 8032, pure Ed25519) that belongs to the
/// instance alone and never sits in a store, and checks checkpoint signatures against whatever
/// public key an auditor pins.
///
/// Thread-safe: the key is fixed at creation; every call works on its own OpenSSL context.
class Ed25519AuditSigner final : public application::AuditSigner {
 public:
  static constexpr std::size_t kSeedSize = 32;       ///< RFC 8032 private key (seed) bytes.
  static constexpr std::size_t kPublicKeySize = 32;  ///< RFC 8032 public key bytes.
  static constexpr std::size_t kSignatureSize = 64;  ///< RFC 8032 signature bytes.
  static constexpr std::size_t kKeyIdHexDigits = 16;

  /// A signer holding the key whose RFC 8032 private key is `seed`. The caller keeps (and
  /// wipes) its copy of the seed. internal when the crypto library refuses the key.
  static domain::Result<std::unique_ptr<Ed25519AuditSigner>> FromSeed(
      std::span<const std::uint8_t, kSeedSize> seed);

  ~Ed25519AuditSigner() override;
  Ed25519AuditSigner(const Ed25519AuditSigner&) = delete;
  Ed25519AuditSigner& operator=(const Ed25519AuditSigner&) = delete;

  /// The 32-byte public key, unpadded base64url.
  std::string PublicKey() override;
  /// The first 16 lowercase hex digits of SHA-256 of the 32 raw public key bytes.
  std::string KeyId() override;
  /// The 64-byte signature of `message`, unpadded base64url. internal when OpenSSL fails.
  domain::Result<std::string> Sign(std::string_view message) override;
  /// Whether `signature` is `public_key`'s Ed25519 signature of `message`, both in strict
  /// unpadded base64url (32 and 64 bytes). Any key is accepted, not only this signer's, so
  /// that an auditor can check a checkpoint against the key they pinned. False for anything
  /// malformed (wrong alphabet, padding, length, a point not on the curve, a non-canonical S);
  /// never throws.
  bool Verify(std::string_view message, std::string_view signature,
              std::string_view public_key) override;

 private:
  struct Key;  // the OpenSSL key object, kept out of this header
  explicit Ed25519AuditSigner(std::unique_ptr<const Key> key);

  std::unique_ptr<const Key> key_;
};

/// Returns the signer whose seed is held in the file at `path`, creating the file first when
/// it does not exist: standard base64 of 32 bytes from `random` and a newline (the shape
/// `openssl rand -base64 32` writes), mode 0600, file and directory fsync'd before use. The
/// file is written under a temporary name beside `path` (O_CREAT|O_EXCL) and hard-linked to
/// `path`, which fails when `path` exists: processes racing to create it all end with the
/// winner's key. A key file may hold the seed in either base64 alphabet, padded or not, with
/// surrounding whitespace. The directory is not created: it is the operator's (the data
/// directory), and a missing one means a wrong setting.
/// Errors: failed_precondition, naming the path, when the file is readable or writable by
/// group or others (with the chmod command that fixes it), is not a regular file, does not
/// hold a seed, or cannot be opened or created; unavailable when reading, writing or syncing
/// fails; internal when the crypto library refuses the key. Messages never contain key bytes.
domain::Result<std::unique_ptr<Ed25519AuditSigner>> LoadOrCreateAuditSigningKey(
    const std::filesystem::path& path, application::RandomSource& random);

}  // namespace socle::adapters::crypto
