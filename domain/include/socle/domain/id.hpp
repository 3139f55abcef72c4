#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::domain {

/// A record or entity id in PocketBase's format: exactly 15 characters of [a-z0-9].
class Id final {
 public:
  static constexpr std::size_t kLength = 15;
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

  /// Validates `text`; invalid_argument with field "id" when it is not a well-formed id.
  static Result<Id> Parse(std::string_view text);

  /// Builds an id from uniformly random bytes. Uses rejection sampling so that every
  /// character is uniform over the 36-letter alphabet; `next_byte` is called until 15
  /// acceptable bytes were drawn.
  static Id FromRandom(const std::function<std::uint8_t()>& next_byte);

  const std::string& str() const noexcept { return value_; }
  friend bool operator==(const Id&, const Id&) = default;
  friend auto operator<=>(const Id&, const Id&) = default;

 private:
  explicit Id(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace socle::domain
