#include <catch2/catch.hpp>

#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/json_object_reader.hpp"

using socle::adapters::http::ErrorResponse;
using socle::adapters::http::HttpStatusFor;
using socle::adapters::http::ParseJsonObject;
using socle::domain::Error;
using socle::domain::ErrorCode;

TEST_CASE("Every error code maps to its documented HTTP status", "[http][errors]") {
  CHECK(HttpStatusFor(ErrorCode::kInvalidArgument) == 400);
  CHECK(HttpStatusFor(ErrorCode::kUnauthenticated) == 401);
  CHECK(HttpStatusFor(ErrorCode::kPermissionDenied) == 403);
  CHECK(HttpStatusFor(ErrorCode::kNotFound) == 404);
  CHECK(HttpStatusFor(ErrorCode::kAlreadyExists) == 409);
  CHECK(HttpStatusFor(ErrorCode::kFailedPrecondition) == 409);
  CHECK(HttpStatusFor(ErrorCode::kAborted) == 409);
  CHECK(HttpStatusFor(ErrorCode::kResourceExhausted) == 429);
  CHECK(HttpStatusFor(ErrorCode::kUnavailable) == 503);
  CHECK(HttpStatusFor(ErrorCode::kDeadlineExceeded) == 504);
  CHECK(HttpStatusFor(ErrorCode::kInternal) == 500);
}

TEST_CASE("ErrorResponse writes PocketBase's shape with field errors", "[http][errors]") {
  Error error = Error::Field("slug", "validation_invalid_slug", "Must start with a letter.");
  error.fields.push_back({"name", "validation_required", "Missing required value."});
  error.fields.push_back({"slug", "validation_other", "ignored: the first error per field wins"});
  auto response = ErrorResponse(error);
  CHECK(response.status == 400);
  CHECK(response.Header("content-type") == "application/json");
  CHECK(response.body ==
        R"({"status":400,"message":"Failed to validate the submitted data.","data":{)"
        R"("slug":{"code":"validation_invalid_slug","message":"Must start with a letter."},)"
        R"("name":{"code":"validation_required","message":"Missing required value."}}})");
  CHECK(ParseJsonObject(response.body));
  CHECK(response.log_detail.empty());
}

TEST_CASE("Internal errors get a safe message and the detail goes to the log only",
          "[http][errors]") {
  Error error = Error::Internal("SQLSTATE 58030: could not write to /var/lib/secret/file");
  auto response = ErrorResponse(error);
  CHECK(response.status == 500);
  CHECK(response.body ==
        R"({"status":500,"message":"Something went wrong while processing your request.",)"
        R"("data":{}})");
  CHECK(response.body.find("secret") == std::string::npos);
  CHECK(response.log_detail == "SQLSTATE 58030: could not write to /var/lib/secret/file");

  Error careless = Error::Make(ErrorCode::kInternal, "pq: password authentication failed");
  auto also_safe = ErrorResponse(careless);
  CHECK(also_safe.body.find("password") == std::string::npos);
  CHECK(also_safe.log_detail == "pq: password authentication failed");
}

TEST_CASE("Non-internal errors keep their client-safe message and log their detail",
          "[http][errors]") {
  Error error = Error::Make(ErrorCode::kUnavailable, "The store is unavailable.");
  error.internal = "connection refused";
  auto response = ErrorResponse(error);
  CHECK(response.status == 503);
  CHECK(response.body == R"({"status":503,"message":"The store is unavailable.","data":{}})");
  CHECK(response.log_detail == "connection refused");

  auto defaulted = ErrorResponse(Error::Make(ErrorCode::kNotFound, ""));
  CHECK(defaulted.body ==
        R"({"status":404,"message":"The requested resource wasn't found.","data":{}})");
}

TEST_CASE("Protocol errors use the same shape", "[http][errors]") {
  auto response = ErrorResponse(413, "");
  CHECK(response.status == 413);
  CHECK(response.body == R"({"status":413,"message":"The request body is too large.","data":{}})");
  auto custom = ErrorResponse(405, "Nope \"quoted\"");
  CHECK(custom.body == R"({"status":405,"message":"Nope \"quoted\"","data":{}})");
}
