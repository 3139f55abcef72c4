#include "socle/adapters/http/error_response.hpp"

#include <set>
#include <string>
#include <vector>

#include "socle/adapters/json/json_writer.hpp"

namespace socle::adapters::http {

using json::JsonWriter;

using domain::ErrorCode;

int HttpStatusFor(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kAborted: return 409;
    case ErrorCode::kResourceExhausted: return 429;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kDeadlineExceeded: return 504;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

std::string_view DefaultMessage(int status) noexcept {
  switch (status) {
    case 400: return "Something went wrong while processing your request.";
    case 401: return "The request requires valid authorization.";
    case 403: return "You are not allowed to perform this request.";
    case 404: return "The requested resource wasn't found.";
    case 405: return "Method not allowed.";
    case 408: return "The request took too long to arrive.";
    case 409: return "The request conflicts with the current state of the resource.";
    case 413: return "The request body is too large.";
    case 414: return "The request target is too long.";
    case 429: return "Too many requests.";
    case 431: return "The request header fields are too large.";
    case 501: return "Not implemented.";
    case 503: return "The service is temporarily unavailable.";
    case 504: return "The operation timed out.";
    case 505: return "HTTP version not supported.";
    default: return "Something went wrong while processing your request.";
  }
}

namespace {

Response Build(int status, std::string_view message,
               const std::vector<domain::FieldError>& fields) {
  JsonWriter writer;
  writer.BeginObject().Key("status").Int(status).Key("message").String(message);
  writer.Key("data").BeginObject();
  std::set<std::string_view> written;
  for (const auto& field : fields) {
    if (!written.insert(field.field).second) continue;  // a JSON object cannot repeat a key
    writer.Key(field.field).BeginObject();
    writer.Key("code").String(field.code).Key("message").String(field.message);
    writer.EndObject();
  }
  writer.EndObject().EndObject();
  return Response::Json(status, std::move(writer).Take());
}

}  // namespace

Response ErrorResponse(const domain::Error& error) {
  const int status = HttpStatusFor(error.code);
  if (error.code == ErrorCode::kInternal) {
    Response response = Build(status, DefaultMessage(500), {});
    response.log_detail = error.internal.empty() ? error.message : error.internal;
    return response;
  }
  std::string_view message = error.message.empty() ? DefaultMessage(status) : error.message;
  Response response = Build(status, message, error.fields);
  response.log_detail = error.internal;
  if (error.retry_after_seconds > 0) {
    response.SetHeader("Retry-After", std::to_string(error.retry_after_seconds));
  }
  return response;
}

Response ErrorResponse(int status, std::string_view message) {
  return Build(status, message.empty() ? DefaultMessage(status) : message, {});
}

}  // namespace socle::adapters::http
