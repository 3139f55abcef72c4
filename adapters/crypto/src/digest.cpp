#include "socle/adapters/crypto/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base64.hpp"
#include "evp_handles.hpp"

namespace socle::adapters::crypto {
namespace {

// HMAC's block size for SHA-256 (RFC 2104 "B").
constexpr std::size_t kSha256BlockSize = 64;

[[noreturn]] void Die(const char* what) {
  // Returning a wrong digest would silently break every comparison built on it; the failure
  // can only come from a broken OpenSSL installation or memory exhaustion, so stop instead.
  std::fprintf(stderr, "fatal: OpenSSL %s failed; refusing to continue\n", what);
  std::abort();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::span<const std::uint8_t> AsBytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

Sha256Digest Sha256(std::span<const std::uint8_t> data) {
  Sha256Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(DataOrEmpty(data), data.size(), digest.data(), &length, EVP_sha256(), nullptr) !=
          1 ||
      length != digest.size()) {
    Die("SHA-256");
  }
  return digest;
}

Sha256Digest Sha256(std::string_view text) { return Sha256(AsBytes(text)); }

Sha256Digest HmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message) {
  // RFC 2104 replaces a key longer than the block by its hash; doing it here gives the same
  // tag and keeps the length within the int OpenSSL's HMAC() takes.
  Sha256Digest hashed_key{};
  if (key.size() > kSha256BlockSize) {
    hashed_key = Sha256(key);
    key = hashed_key;
  }
  Sha256Digest tag{};
  unsigned int length = 0;
  const unsigned char* result = HMAC(EVP_sha256(), DataOrEmpty(key), static_cast<int>(key.size()),
                                     DataOrEmpty(message), message.size(), tag.data(), &length);
  OPENSSL_cleanse(hashed_key.data(), hashed_key.size());
  if (result == nullptr || length != tag.size()) Die("HMAC-SHA-256");
  return tag;
}

Sha256Digest HmacSha256(std::span<const std::uint8_t> key, std::string_view message) {
  return HmacSha256(key, AsBytes(message));
}

std::string ToHex(std::span<const std::uint8_t> bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t byte : bytes) {
    out += kDigits[byte >> 4U];
    out += kDigits[byte & 0x0FU];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = HexValue(hex[i]);
    const int low = HexValue(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>((high << 4) | low));
  }
  return out;
}

std::string ToBase64Url(std::span<const std::uint8_t> bytes) {
  return EncodeBase64(bytes, Base64Alphabet::kUrl);
}

std::optional<std::vector<std::uint8_t>> FromBase64Url(std::string_view text) {
  return DecodeBase64(text, Base64Alphabet::kUrl);
}

bool ConstantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) noexcept {
  return ConstantTimeEqual(AsBytes(a), AsBytes(b));
}

std::string NewOpaqueToken(application::RandomSource& random, std::string_view prefix,
                           std::size_t bytes) {
  std::vector<std::uint8_t> secret(std::max(bytes, kMinOpaqueTokenBytes));
  random.Fill(secret);
  std::string token(prefix);
  token += EncodeBase64(secret, Base64Alphabet::kUrl);
  OPENSSL_cleanse(secret.data(), secret.size());
  return token;
}

}  // namespace socle::adapters::crypto
