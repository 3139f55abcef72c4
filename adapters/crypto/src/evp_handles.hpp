#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>

namespace socle::adapters::crypto {

// Owners for the OpenSSL EVP objects the crypto adapter's sources create, so that every path
// out of a function frees them. Internal: OpenSSL types never appear in a public header.
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// OpenSSL wants a valid pointer even for zero bytes (RFC 8032 TEST 1 signs an empty message),
// and an empty span may hold none.
inline const std::uint8_t* DataOrEmpty(std::span<const std::uint8_t> bytes) {
  static constexpr std::uint8_t kEmpty = 0;
  return bytes.empty() ? &kEmpty : bytes.data();
}

}  // namespace socle::adapters::crypto
