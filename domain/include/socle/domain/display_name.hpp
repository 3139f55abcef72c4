#pragma once

#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::domain {

/// A human-facing name (of an organisation, a project ...): 1-200 Unicode code points of valid
/// UTF-8 after trimming surrounding spaces, with no control characters.
class DisplayName final {
 public:
  static constexpr std::size_t kMaxCodePoints = 200;

  /// Validates `text`; invalid_argument with field "name" otherwise.
  static Result<DisplayName> Parse(std::string_view text);

  const std::string& str() const noexcept { return value_; }
  friend bool operator==(const DisplayName&, const DisplayName&) = default;

 private:
  explicit DisplayName(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

/// Number of code points in `text`, or -1 when it is not valid UTF-8 (overlongs, surrogates and
/// values above U+10FFFF are rejected).
long Utf8Length(std::string_view text) noexcept;

}  // namespace socle::domain
