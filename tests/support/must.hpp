#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "socle/domain/error.hpp"

namespace socle::testing {

/// The value of `result`; throws std::runtime_error naming `what` and the error's messages
/// when it failed (a test case fails with that message; set-up code outside one stops).
template <typename T>
T Must(domain::Result<T> result, std::string_view what) {
  if (!result) {
    throw std::runtime_error(std::string(what) + ": " + result.error().message + " / " +
                             result.error().internal);
  }
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

}  // namespace socle::testing
