#pragma once

#include <string_view>

#include "socle/adapters/http/response.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// The HTTP status of each protocol-neutral error code. This is the one table in Socle that
/// decides a status from an error; nothing else does.
///
/// | code                | status | why                                                         |
/// |---------------------|--------|-------------------------------------------------------------|
/// | invalid_argument    | 400    | PocketBase's validation status                              |
/// | unauthenticated     | 401    |                                                             |
/// | permission_denied   | 403    |                                                             |
/// | not_found           | 404    |                                                             |
/// | already_exists      | 409    | platform API conflicts are 409 (RFC 9110 15.5.10) with the  |
/// |                     |        | field error data.slug.code "validation_not_unique"; the     |
/// |                     |        | PocketBase-compatible data API keeps its own 400 convention |
/// | failed_precondition | 409    | the resource's *state* forbids it (an organisation that     |
/// |                     |        | still has projects); 412 is reserved by RFC 9110 13.1 for   |
/// |                     |        | failed conditional headers (If-Match ...), which this isn't |
/// | aborted             | 409    | a concurrency conflict; the client may retry                |
/// | resource_exhausted  | 429    |                                                             |
/// | unavailable         | 503    |                                                             |
/// | deadline_exceeded   | 504    |                                                             |
/// | internal            | 500    | with a fixed safe message; the detail goes to the log       |
int HttpStatusFor(domain::ErrorCode code) noexcept;

/// The response for an error: status from HttpStatusFor and a PocketBase-shaped body
/// {"status":N,"message":"…","data":{field:{code,message}}}. The message is the error's
/// client-safe one, except for internal errors, which always get a fixed message; Error::internal
/// (and, for internal errors, Error::message) go to Response::log_detail for the log line only.
/// When two field errors name the same field, the first is reported.
Response ErrorResponse(const domain::Error& error);

/// A protocol-level error (404 for an unknown route, 405, 413, 431 ...) in the same shape, with
/// no field details.
Response ErrorResponse(int status, std::string_view message);

/// PocketBase's default message for a status ("The requested resource wasn't found." ...).
std::string_view DefaultMessage(int status) noexcept;

}  // namespace socle::adapters::http
