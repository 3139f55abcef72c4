#include "socle/adapters/http/json_object_reader.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace socle::adapters::http {

JsonObjectReader::JsonObjectReader(const JsonValue& object,
                                   std::initializer_list<std::string_view> allowed)
    : object_(object) {
  std::set<std::string_view> seen;
  for (const auto& [name, value] : object_.members()) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      AddError(name, "validation_unknown_field", "Unknown field.");
      continue;
    }
    if (!seen.insert(name).second) {
      AddError(name, "validation_duplicate_field", "The field appears more than once.");
    }
  }
}

const JsonValue* JsonObjectReader::Member(std::string_view name) const noexcept {
  return object_.Find(name);
}

bool JsonObjectReader::Has(std::string_view name) const noexcept {
  return Member(name) != nullptr;
}

void JsonObjectReader::WrongType(std::string_view name, std::string_view expected) {
  AddError(std::string(name), "validation_invalid_type",
           "Must be a " + std::string(expected) + ".");
}

std::optional<std::string> JsonObjectReader::OptionalString(std::string_view name) {
  const JsonValue* value = Member(name);
  if (value == nullptr || value->IsNull()) return std::nullopt;
  if (value->type() != JsonValue::Type::kString) {
    WrongType(name, "string");
    return std::nullopt;
  }
  return value->AsString();
}

std::optional<std::string> JsonObjectReader::RequiredString(std::string_view name) {
  const JsonValue* value = Member(name);
  if (value == nullptr || value->IsNull()) {
    AddError(std::string(name), "validation_required", "Missing required value.");
    return std::nullopt;
  }
  return OptionalString(name);
}

std::optional<bool> JsonObjectReader::OptionalBool(std::string_view name) {
  const JsonValue* value = Member(name);
  if (value == nullptr || value->IsNull()) return std::nullopt;
  if (value->type() != JsonValue::Type::kBool) {
    WrongType(name, "boolean");
    return std::nullopt;
  }
  return value->AsBool();
}

void JsonObjectReader::AddError(std::string field, std::string code, std::string message) {
  errors_.push_back(domain::FieldError{std::move(field), std::move(code), std::move(message)});
}

domain::Result<void> JsonObjectReader::Finish() {
  if (errors_.empty()) return {};
  domain::Error error = domain::Error::Make(domain::ErrorCode::kInvalidArgument,
                                            "Failed to validate the submitted data.");
  error.fields = std::move(errors_);
  errors_.clear();
  return domain::Fail(std::move(error));
}

domain::Result<domain::JsonValue> ReadJsonBody(const Request& request, const JsonLimits& limits) {
  if (auto content_type = request.Header("content-type")) {
    std::string media(content_type->substr(0, content_type->find(';')));
    media.erase(std::remove_if(media.begin(), media.end(),
                               [](unsigned char c) { return std::isspace(c) != 0; }),
                media.end());
    std::transform(media.begin(), media.end(), media.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (media != "application/json") {
      return domain::Fail(domain::ErrorCode::kInvalidArgument,
                          "Content-Type must be application/json.");
    }
  }
  return ParseJsonObject(request.body, limits);
}

}  // namespace socle::adapters::http
