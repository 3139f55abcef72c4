#include "socle/adapters/system/system_clock.hpp"

#include <chrono>

namespace socle::adapters::system {

domain::Timestamp SystemClock::Now() {
  auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  return domain::Timestamp::FromUnixMicros(now.time_since_epoch().count());
}

}  // namespace socle::adapters::system
