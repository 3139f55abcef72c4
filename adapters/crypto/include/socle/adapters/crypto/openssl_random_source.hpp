#pragma once

#include "socle/application/ports/random_source.hpp"

namespace socle::adapters::crypto {

/// Cryptographically secure bytes from OpenSSL's DRBG (RAND_bytes), seeded by the kernel.
class OpenSslRandomSource final : public application::RandomSource {
 public:
  /// Aborts the process if OpenSSL cannot produce random bytes: handing out predictable ids or
  /// tokens would be worse than stopping.
  void Fill(std::span<std::uint8_t> out) override;
};

}  // namespace socle::adapters::crypto
