#include "socle/adapters/crypto/secret_box.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "base64.hpp"
#include "evp_handles.hpp"
#include "socle/adapters/crypto/digest.hpp"

namespace socle::adapters::crypto {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

// The one message every failed Open gets: saying whether the key, the context or the bytes
// were wrong would help someone probing stored values, and nobody else needs it.
constexpr std::string_view kCannotOpen = "The sealed value could not be opened.";

std::unexpected<domain::Error> Reject(std::string internal) {
  domain::Error error = domain::Error::Make(ErrorCode::kUnauthenticated, std::string(kCannotOpen));
  error.internal = std::move(internal);
  return std::unexpected(std::move(error));
}

bool FitsInt(std::size_t size) { return size <= static_cast<std::size_t>(INT_MAX); }

bool IsLowerHex(std::string_view text) {
  return std::ranges::all_of(
      text, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The header "sb1.<key id>." of a sealed value: what Open reads before any crypto, and what
// both sides authenticate together with the context.
std::string Header(std::string_view key_id) {
  std::string header(SecretBox::kVersionPrefix);
  header += key_id;
  header += '.';
  return header;
}

constexpr std::size_t kHeaderSize = SecretBox::kVersionPrefix.size() + SecretBox::kKeyIdLength + 1;

// The key id named by `sealed`, when its header is well formed.
std::optional<std::string_view> SealedKeyId(std::string_view sealed) {
  if (sealed.size() < kHeaderSize || !sealed.starts_with(SecretBox::kVersionPrefix) ||
      sealed[kHeaderSize - 1] != '.') {
    return std::nullopt;
  }
  const std::string_view id =
      sealed.substr(SecretBox::kVersionPrefix.size(), SecretBox::kKeyIdLength);
  if (!IsLowerHex(id)) return std::nullopt;
  return id;
}

std::string AssociatedData(std::string_view header, std::string_view context) {
  // The header has a fixed length, so header + context cannot be read two ways.
  std::string aad(header);
  aad += context;
  return aad;
}

Result<void> CheckContext(std::string_view context) {
  if (context.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "A secret must be sealed for a named context.");
  }
  if (context.size() > SecretBox::kMaxContextBytes) {
    return Fail(ErrorCode::kInvalidArgument, "The secret's context is too long.");
  }
  return {};
}

}  // namespace

SecretBox::Key::~Key() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

Result<SecretBox> SecretBox::Create(std::span<const std::uint8_t> current_key,
                                    std::span<const std::span<const std::uint8_t>> older_keys,
                                    application::RandomSource& random) {
  std::vector<Key> keys;
  keys.reserve(older_keys.size() + 1);
  auto add = [&keys](std::span<const std::uint8_t> bytes) -> Result<void> {
    if (bytes.size() != kKeySize) {
      return Fail(ErrorCode::kInvalidArgument,
                  "A secret box key must be " + std::to_string(kKeySize) + " bytes.");
    }
    Key key;
    key.id = KeyIdOf(bytes);
    std::ranges::copy(bytes, key.bytes.begin());
    for (const Key& existing : keys) {
      if (existing.id != key.id) continue;
      if (ConstantTimeEqual(existing.bytes, key.bytes)) return {};  // the same key twice
      return Fail(ErrorCode::kInvalidArgument,
                  "Two secret box keys share the key id " + key.id + "; generate another key.");
    }
    keys.push_back(key);
    return {};
  };
  if (auto added = add(current_key); !added) return Fail(std::move(added.error()));
  for (const auto older : older_keys) {
    if (auto added = add(older); !added) return Fail(std::move(added.error()));
  }
  return SecretBox(std::move(keys), random);
}

std::string SecretBox::KeyIdOf(std::span<const std::uint8_t> key) {
  const Sha256Digest digest = Sha256(key);
  return ToHex(std::span(digest).first(kKeyIdLength / 2));
}

const SecretBox::Key* SecretBox::FindKey(std::string_view id) const noexcept {
  const auto found = std::ranges::find(keys_, id, &Key::id);
  return found == keys_.end() ? nullptr : &*found;
}

Result<std::string> SecretBox::Seal(std::string_view plaintext, std::string_view context) {
  if (auto checked = CheckContext(context); !checked) return Fail(std::move(checked.error()));
  if (plaintext.size() > kMaxPlaintextBytes) {
    return Fail(ErrorCode::kInvalidArgument, "The secret is too long to seal.");
  }
  const Key& key = keys_.front();
  const std::string header = Header(key.id);
  const std::string aad = AssociatedData(header, context);

  std::vector<std::uint8_t> sealed(kNonceSize);
  random_->Fill(sealed);
  auto encrypted = EncryptAes256Gcm(key.bytes, sealed, AsBytes(aad), AsBytes(plaintext));
  if (!encrypted) return Fail(std::move(encrypted.error()));
  sealed.insert(sealed.end(), encrypted->begin(), encrypted->end());
  return header + EncodeBase64(sealed, Base64Alphabet::kUrl);
}

Result<std::string> SecretBox::Open(std::string_view sealed, std::string_view context) {
  if (auto checked = CheckContext(context); !checked) return Fail(std::move(checked.error()));
  if (sealed.size() > kMaxSealedBytes) return Reject("sealed value longer than any seal");
  const std::optional<std::string_view> key_id = SealedKeyId(sealed);
  if (!key_id) return Reject("sealed value does not start with sb1.<8 hex digits>.");
  const Key* key = FindKey(*key_id);
  if (key == nullptr) {
    return Reject("sealed with key " + std::string(*key_id) + ", which is not in the key ring");
  }
  const auto payload = DecodeBase64(sealed.substr(kHeaderSize), Base64Alphabet::kUrl);
  if (!payload) return Reject("sealed payload is not strict base64url");
  if (payload->size() < kNonceSize + kTagSize) return Reject("sealed payload is too short");

  const std::string aad = AssociatedData(sealed.substr(0, kHeaderSize), context);
  const std::span<const std::uint8_t> bytes(*payload);
  auto plaintext = DecryptAes256Gcm(key->bytes, bytes.first(kNonceSize), AsBytes(aad),
                                    bytes.subspan(kNonceSize));
  if (!plaintext) {
    return Reject("authentication failed under key " + key->id +
                  " (altered, or sealed for another context)");
  }
  std::string result(plaintext->begin(), plaintext->end());
  OPENSSL_cleanse(plaintext->data(), plaintext->size());
  return result;
}

bool SecretBox::NeedsReseal(std::string_view sealed) const noexcept {
  const std::optional<std::string_view> key_id = SealedKeyId(sealed);
  return !key_id || *key_id != keys_.front().id;
}

Result<std::vector<std::uint8_t>> SecretBox::EncryptAes256Gcm(
    std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
    std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plaintext) {
  if (key.size() != kKeySize || nonce.size() != kNonceSize) {
    return Fail(ErrorCode::kInvalidArgument,
                "AES-256-GCM needs a 32-byte key and a 12-byte nonce.");
  }
  if (!FitsInt(aad.size()) || !FitsInt(plaintext.size())) {
    return Fail(ErrorCode::kInvalidArgument, "The input is too long to encrypt.");
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::vector<std::uint8_t> out(plaintext.size() + kTagSize);
  int length = 0;
  // GCM's default nonce length in OpenSSL is 12 bytes, the size this class uses.
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(),
                                      nonce.data()) == 1;
  if (ok && !aad.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), nullptr, &length, aad.data(), static_cast<int>(aad.size())) ==
         1;
  }
  std::size_t written = 0;
  if (ok && !plaintext.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), out.data(), &length, plaintext.data(),
                           static_cast<int>(plaintext.size())) == 1;
    written = static_cast<std::size_t>(length);
  }
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), out.data() + written, &length) == 1;
  if (ok) written += static_cast<std::size_t>(length);
  ok = ok && written == plaintext.size() &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                           out.data() + written) == 1;
  if (!ok) return Fail(domain::Error::Internal("OpenSSL AES-256-GCM encryption failed"));
  return out;
}

std::optional<std::vector<std::uint8_t>> SecretBox::DecryptAes256Gcm(
    std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
    std::span<const std::uint8_t> aad, std::span<const std::uint8_t> ciphertext_and_tag) {
  if (key.size() != kKeySize || nonce.size() != kNonceSize ||
      ciphertext_and_tag.size() < kTagSize || !FitsInt(aad.size()) ||
      !FitsInt(ciphertext_and_tag.size())) {
    return std::nullopt;
  }
  const auto ciphertext = ciphertext_and_tag.first(ciphertext_and_tag.size() - kTagSize);
  std::array<std::uint8_t, kTagSize> tag{};
  std::ranges::copy(ciphertext_and_tag.last(kTagSize), tag.begin());

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::vector<std::uint8_t> out(ciphertext.size());
  int length = 0;
  bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          tag.data()) == 1;
  if (ok && !aad.empty()) {
    ok = EVP_DecryptUpdate(ctx.get(), nullptr, &length, aad.data(), static_cast<int>(aad.size())) ==
         1;
  }
  std::size_t written = 0;
  if (ok && !ciphertext.empty()) {
    ok = EVP_DecryptUpdate(ctx.get(), out.data(), &length, ciphertext.data(),
                           static_cast<int>(ciphertext.size())) == 1;
    written = static_cast<std::size_t>(length);
  }
  // The tag is checked here, after GCM has already produced plaintext: on failure that
  // plaintext is unauthenticated and is wiped rather than left in freed memory.
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), out.data() + written, &length) == 1;
  if (ok) written += static_cast<std::size_t>(length);
  if (!ok || written != ciphertext.size()) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

}  // namespace socle::adapters::crypto
