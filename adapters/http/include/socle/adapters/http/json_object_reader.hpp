#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/http/request.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

// JSON in the HTTP adapter is the domain's value type, parsed by the JSON adapter.
using domain::JsonValue;
using json::JsonLimits;
using json::ParseJson;
using json::ParseJsonObject;

/// Reads the members of a JSON object request body against the fields an endpoint accepts and
/// collects every problem as a PocketBase field error, so one answer lists all of them.
///
/// Strict by design: a member not in `allowed` is "validation_unknown_field" (a typo must not be
/// silently ignored), a repeated member is "validation_duplicate_field" (parsers disagree on
/// which copy wins, which is a classic smuggling vector), a value of the wrong JSON type is
/// "validation_invalid_type", and a missing required member is "validation_required".
class JsonObjectReader final {
 public:
  /// Precondition: `object.IsObject()`. The reader keeps a reference; `object` must outlive it.
  JsonObjectReader(const JsonValue& object, std::initializer_list<std::string_view> allowed);

  /// True when the body has a member `name` (null included).
  bool Has(std::string_view name) const noexcept;
  /// The string member `name`; nullopt when absent or null, or (recording an error) when it is
  /// not a string.
  std::optional<std::string> OptionalString(std::string_view name);
  /// The string member `name`; records "validation_required" when absent or null.
  std::optional<std::string> RequiredString(std::string_view name);
  /// The boolean member `name`; nullopt when absent or null, or (recording an error) otherwise.
  std::optional<bool> OptionalBool(std::string_view name);
  /// Records an endpoint-specific problem with a member (e.g. an immutable field).
  void AddError(std::string field, std::string code, std::string message);

  /// Success when nothing was recorded; otherwise one invalid_argument error with every field
  /// error, in the order found.
  domain::Result<void> Finish();

 private:
  const JsonValue* Member(std::string_view name) const noexcept;
  void WrongType(std::string_view name, std::string_view expected);

  const JsonValue& object_;
  std::vector<domain::FieldError> errors_;
};

/// The body of a platform API POST or PATCH: a JSON object. An absent Content-Type is tolerated
/// (curl users forget it); any other media type is invalid_argument, so that a cross-site form
/// post cannot reach a handler.
domain::Result<domain::JsonValue> ReadJsonBody(const Request& request, const JsonLimits& limits);

}  // namespace socle::adapters::http
