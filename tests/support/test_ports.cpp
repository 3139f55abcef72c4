#include "support/test_ports.hpp"

namespace socle::testing {

void SeededRandomSource::Fill(std::span<std::uint8_t> out) {
  std::lock_guard lock(mutex_);
  for (auto& byte : out) {
    state_ += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    byte = static_cast<std::uint8_t>((z ^ (z >> 31)) & 0xFF);
  }
}

}  // namespace socle::testing
