#pragma once

#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::domain {

/// A URL-safe tenant name: 2-63 characters of [a-z0-9-], starting with a letter, not ending
/// with a hyphen and without "--". Usable unescaped in paths (/p/{project}) and as a DNS label.
class Slug final {
 public:
  static constexpr std::size_t kMinLength = 2;
  static constexpr std::size_t kMaxLength = 63;

  /// Validates `text`; invalid_argument with field "slug" when it is not a slug.
  static Result<Slug> Parse(std::string_view text);

  const std::string& str() const noexcept { return value_; }
  friend bool operator==(const Slug&, const Slug&) = default;
  friend auto operator<=>(const Slug&, const Slug&) = default;

 private:
  explicit Slug(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace socle::domain
