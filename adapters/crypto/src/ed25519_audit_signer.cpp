#include "socle/adapters/crypto/ed25519_audit_signer.hpp"

#include <openssl/evp.h>

#include <array>
#include <utility>

#include "evp_handles.hpp"
#include "key_file.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "wipe_on_exit.hpp"

namespace socle::adapters::crypto {

using domain::Fail;
using domain::Result;

namespace {

// How the signing key file is named in messages. It has no other source, so the advice on a
// failed creation names no alternative.
constexpr KeyFileWording kAuditSigningKeyFile{
    .file = "audit signing key file", .content = "key", .alternative = ""};

}  // namespace

struct Ed25519AuditSigner::Key {
  PkeyPtr pkey;
  std::string public_key;  // base64url
  std::string key_id;
};

Ed25519AuditSigner::Ed25519AuditSigner(std::unique_ptr<const Key> key) : key_(std::move(key)) {}

Ed25519AuditSigner::~Ed25519AuditSigner() = default;

Result<std::unique_ptr<Ed25519AuditSigner>> Ed25519AuditSigner::FromSeed(
    std::span<const std::uint8_t, kSeedSize> seed) {
  auto key = std::make_unique<Key>();
  key->pkey.reset(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  std::array<std::uint8_t, kPublicKeySize> public_key{};
  std::size_t length = public_key.size();
  if (!key->pkey ||
      EVP_PKEY_get_raw_public_key(key->pkey.get(), public_key.data(), &length) != 1 ||
      length != kPublicKeySize) {
    return Fail(domain::Error::Internal("OpenSSL refused an Ed25519 audit signing key"));
  }
  key->public_key = ToBase64Url(public_key);
  const Sha256Digest digest = Sha256(std::span<const std::uint8_t>(public_key));
  key->key_id = ToHex(digest).substr(0, kKeyIdHexDigits);
  return std::unique_ptr<Ed25519AuditSigner>(new Ed25519AuditSigner(std::move(key)));
}

std::string Ed25519AuditSigner::PublicKey() { return key_->public_key; }

std::string Ed25519AuditSigner::KeyId() { return key_->key_id; }

Result<std::string> Ed25519AuditSigner::Sign(std::string_view message) {
  const std::span<const std::uint8_t> bytes = AsBytes(message);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::array<std::uint8_t, kSignatureSize> signature{};
  std::size_t length = signature.size();
  // Ed25519 hashes internally (PureEdDSA): no digest is named, and the message goes to
  // EVP_DigestSign in one piece.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length, DataOrEmpty(bytes), bytes.size()) !=
          1 ||
      length != kSignatureSize) {
    return Fail(domain::Error::Internal("OpenSSL Ed25519 audit checkpoint signing failed"));
  }
  return ToBase64Url(signature);
}

bool Ed25519AuditSigner::Verify(std::string_view message, std::string_view signature,
                                std::string_view public_key) {
  // Bounded before decoding: the valid spellings are 43 and 86 characters long.
  if (signature.size() > 2 * kSignatureSize || public_key.size() > 2 * kPublicKeySize) {
    return false;
  }
  const auto key_bytes = FromBase64Url(public_key);
  const auto signature_bytes = FromBase64Url(signature);
  if (!key_bytes || key_bytes->size() != kPublicKeySize || !signature_bytes ||
      signature_bytes->size() != kSignatureSize) {
    return false;
  }
  const std::span<const std::uint8_t> bytes = AsBytes(message);
  return Ed25519TokenSigner::VerifyBytes(
      *key_bytes, std::span<const std::uint8_t>(DataOrEmpty(bytes), bytes.size()),
      *signature_bytes);
}

Result<std::unique_ptr<Ed25519AuditSigner>> LoadOrCreateAuditSigningKey(
    const std::filesystem::path& path, application::RandomSource& random) {
  std::array<std::uint8_t, Ed25519AuditSigner::kSeedSize> seed{};
  const WipeOnExit wipe(seed);
  auto loaded = LoadOrCreateKeyFile(path, kAuditSigningKeyFile, random, seed);
  if (!loaded) return Fail(std::move(loaded.error()));
  return Ed25519AuditSigner::FromSeed(seed);
}

}  // namespace socle::adapters::crypto
