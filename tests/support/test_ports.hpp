#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/random_source.hpp"

namespace socle::testing {

/// A clock that stands still until told to move: tests decide what "now" is.
class ManualClock final : public application::Clock {
 public:
  explicit ManualClock(std::int64_t start_micros = 1'700'000'000'000'000) : now_(start_micros) {}
  domain::Timestamp Now() override { return domain::Timestamp::FromUnixMicros(now_.load()); }
  void Advance(std::int64_t micros) { now_ += micros; }

 private:
  std::atomic<std::int64_t> now_;
};

/// A deterministic pseudo-random source (SplitMix64): the same seed gives the same ids.
class SeededRandomSource final : public application::RandomSource {
 public:
  explicit SeededRandomSource(std::uint64_t seed = 42) : state_(seed) {}
  void Fill(std::span<std::uint8_t> out) override;

 private:
  std::mutex mutex_;
  std::uint64_t state_;
};

}  // namespace socle::testing
