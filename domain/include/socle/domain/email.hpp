#pragma once

#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::domain {

/// An email address, checked for shape (RFC 5321 lengths, one '@', a dotted domain of DNS
/// labels, no spaces or control characters) and stored with its domain lower-cased.
/// Deliverability is not checked here.
class Email final {
 public:
  static constexpr std::size_t kMaxLength = 254;
  static constexpr std::size_t kMaxLocalLength = 64;

  /// Validates `text`; invalid_argument with field "email" otherwise.
  static Result<Email> Parse(std::string_view text);

  const std::string& str() const noexcept { return value_; }
  friend bool operator==(const Email&, const Email&) = default;

 private:
  explicit Email(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace socle::domain
