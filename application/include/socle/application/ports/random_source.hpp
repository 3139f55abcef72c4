#pragma once

#include <cstdint>
#include <span>

namespace socle::application {

/// Unpredictable bytes for ids, salts and tokens. Production adapters are cryptographically
/// secure; tests inject a seeded one to be deterministic.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  /// Fills `out` with random bytes. Never fails (an adapter that cannot get entropy aborts the
  /// process rather than hand out predictable bytes). Thread-safe.
  virtual void Fill(std::span<std::uint8_t> out) = 0;
};

}  // namespace socle::application
