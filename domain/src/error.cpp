#include "socle/domain/error.hpp"

namespace socle::domain {

std::string_view ToString(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "already_exists";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kFailedPrecondition: return "failed_precondition";
    case ErrorCode::kAborted: return "aborted";
    case ErrorCode::kResourceExhausted: return "resource_exhausted";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kDeadlineExceeded: return "deadline_exceeded";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

Error Error::Field(std::string field, std::string field_code, std::string message) {
  Error e;
  e.code = ErrorCode::kInvalidArgument;
  e.message = "Failed to validate the submitted data.";
  e.fields.push_back(FieldError{std::move(field), std::move(field_code), std::move(message)});
  return e;
}

Error Error::Fields(std::vector<FieldError> fields) {
  Error e;
  e.code = ErrorCode::kInvalidArgument;
  e.message = "Failed to validate the submitted data.";
  e.fields = std::move(fields);
  return e;
}

Error Error::Internal(std::string internal_detail) {
  Error e;
  e.code = ErrorCode::kInternal;
  e.message = "Something went wrong while processing your request.";
  e.internal = std::move(internal_detail);
  return e;
}

}  // namespace socle::domain
