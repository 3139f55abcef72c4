#pragma once

#include <optional>
#include <utility>

#include "socle/domain/error.hpp"

namespace socle::application {

/// Collects the field errors of several independent validations so that a caller learns about
/// every bad field in one answer, not one per round trip.
class FieldErrors final {
 public:
  /// Returns the value of `result`, or records its error and returns nullopt.
  template <typename T>
  std::optional<T> Take(domain::Result<T> result) {
    if (result) return std::move(*result);
    Add(std::move(result.error()));
    return std::nullopt;
  }
  /// Records a failed validation's field errors (or the whole error when it has none).
  void Add(domain::Error error);
  bool empty() const noexcept { return !error_.has_value(); }
  /// The merged invalid_argument error. Precondition: !empty().
  domain::Error Release() { return std::move(*error_); }

 private:
  std::optional<domain::Error> error_;
};

}  // namespace socle::application
