#pragma once

#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// The source of "now", injected so that tests can fix time.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Returns the current UTC instant. Never fails. Thread-safe.
  virtual domain::Timestamp Now() = 0;
};

}  // namespace socle::application
