#pragma once

#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::application {

/// Signs audit checkpoints (Ed25519, RFC 8032) with a key of the instance's own, kept apart
/// from the audit tables, and checks signatures against a given public key, so that an auditor
/// can pin the key they trust. Implementations are thread-safe.
/// Adapter: crypto::Ed25519AuditSigner.
class AuditSigner {
 public:
  virtual ~AuditSigner() = default;

  /// The signing key's public half: 32 bytes, unpadded base64url.
  virtual std::string PublicKey() = 0;
  /// A short name of the key: the first 16 hex digits of SHA-256 of its public half.
  virtual std::string KeyId() = 0;
  /// The signature of `message`, unpadded base64url. internal when the crypto library fails.
  virtual domain::Result<std::string> Sign(std::string_view message) = 0;
  /// Whether `signature` (unpadded base64url) is `public_key`'s signature of `message`; false
  /// for anything malformed.
  virtual bool Verify(std::string_view message, std::string_view signature,
                      std::string_view public_key) = 0;
};

}  // namespace socle::application
