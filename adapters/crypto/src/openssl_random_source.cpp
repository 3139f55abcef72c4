#include "socle/adapters/crypto/openssl_random_source.hpp"

#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace socle::adapters::crypto {

void OpenSslRandomSource::Fill(std::span<std::uint8_t> out) {
  while (!out.empty()) {
    const std::size_t chunk = out.size() > INT_MAX ? std::size_t{INT_MAX} : out.size();
    if (RAND_bytes(out.data(), static_cast<int>(chunk)) != 1) {
      std::fputs("fatal: OpenSSL RAND_bytes failed; refusing to continue without entropy\n", stderr);
      std::abort();
    }
    out = out.subspan(chunk);
  }
}

}  // namespace socle::adapters::crypto
