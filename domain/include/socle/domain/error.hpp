#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace socle::domain {

/// Canonical, protocol-neutral error codes (abseil's set). The HTTP adapter maps each to a
/// status in one table; nothing else in the code base decides a status.
enum class ErrorCode {
  kInvalidArgument,     ///< The caller sent something malformed or out of range.
  kNotFound,            ///< The named thing does not exist (or the caller may not know it does).
  kAlreadyExists,       ///< A create collided with an existing unique key.
  kPermissionDenied,    ///< Authenticated, but not allowed.
  kUnauthenticated,     ///< No valid identity.
  kFailedPrecondition,  ///< The system is not in a state that allows this (e.g. org has projects).
  kAborted,             ///< Concurrency conflict; retrying the whole operation may succeed.
  kResourceExhausted,   ///< A quota, rate or size limit was hit.
  kUnavailable,         ///< A dependency is down; retrying later may succeed.
  kDeadlineExceeded,    ///< The operation ran out of time.
  kInternal,            ///< A bug or an invariant broken underneath; never the caller's fault.
};

/// The stable lower-case name of a code ("invalid_argument" ...), used in logs and tests.
std::string_view ToString(ErrorCode code) noexcept;

/// A validation problem with one input field, in PocketBase's shape {code, message}.
struct FieldError {
  std::string field;    ///< Input field name as the caller spelled it ("slug", "name").
  std::string code;     ///< Machine-readable reason, "validation_" prefixed ("validation_required").
  std::string message;  ///< Human-readable, safe to show to the caller.

  friend bool operator==(const FieldError&, const FieldError&) = default;
};

/// An error value. `message` is safe for clients; `internal` carries driver detail for logs only.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string internal;
  std::vector<FieldError> fields;
  /// For resource_exhausted and unavailable: seconds after which a retry may succeed (0:
  /// unknown). The HTTP adapter sends it as Retry-After.
  std::int64_t retry_after_seconds = 0;

  /// Builds an error with a client-safe message.
  static Error Make(ErrorCode code, std::string message) {
    return Error{code, std::move(message), {}, {}, 0};
  }
  /// Builds an invalid_argument error pointing at one field.
  static Error Field(std::string field, std::string field_code, std::string message);
  /// Builds an invalid_argument error pointing at each of `fields`.
  static Error Fields(std::vector<FieldError> fields);
  /// Builds an internal error whose detail goes to logs only.
  static Error Internal(std::string internal_detail);
};

/// Results are values: either a T or an Error. Nothing throws across a port.
template <typename T>
using Result = std::expected<T, Error>;

/// A failed Result, spelled briefly at return sites: `return Fail(ErrorCode::kNotFound, "...")`.
inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected(Error::Make(code, std::move(message)));
}
inline std::unexpected<Error> Fail(Error error) { return std::unexpected(std::move(error)); }

}  // namespace socle::domain
