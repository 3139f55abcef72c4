#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::domain {

/// A UTC instant with microsecond precision, counted from the Unix epoch.
class Timestamp final {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp FromUnixMicros(std::int64_t micros) { return Timestamp(micros); }

  /// Parses "YYYY-MM-DD HH:MM:SS[.f{1,6}]Z" (PocketBase) or the same with 'T' (RFC 3339, UTC
  /// only); invalid_argument otherwise.
  static Result<Timestamp> Parse(std::string_view text);

  constexpr std::int64_t unix_micros() const noexcept { return micros_; }

  /// PocketBase's wire format with milliseconds: "2024-05-01 09:30:00.123Z".
  std::string ToApiString() const;
  /// RFC 3339 with microseconds, sortable as text: "2024-05-01T09:30:00.123456Z".
  std::string ToIso8601() const;

  friend constexpr bool operator==(Timestamp, Timestamp) = default;
  friend constexpr auto operator<=>(Timestamp, Timestamp) = default;

 private:
  constexpr explicit Timestamp(std::int64_t micros) : micros_(micros) {}
  std::int64_t micros_ = 0;
};

}  // namespace socle::domain
