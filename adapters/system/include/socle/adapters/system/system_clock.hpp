#pragma once

#include "socle/application/ports/clock.hpp"

namespace socle::adapters::system {

/// The real wall clock (CLOCK_REALTIME through std::chrono::system_clock), in UTC.
class SystemClock final : public application::Clock {
 public:
  domain::Timestamp Now() override;
};

}  // namespace socle::adapters::system
