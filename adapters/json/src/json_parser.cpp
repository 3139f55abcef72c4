#include "socle/adapters/json/json_parser.hpp"

#include <simdjson.h>

#include <string>

namespace socle::adapters::json {

using domain::Error;
using domain::ErrorCode;
using domain::Result;

namespace {

// PocketBase's wording for a body it cannot decode, so SDK users see a familiar message.
constexpr std::string_view kMalformedMessage =
    "Failed to load the submitted data due to invalid formatting.";

Error Malformed(std::string internal) {
  Error error = Error::Make(ErrorCode::kInvalidArgument, std::string(kMalformedMessage));
  error.internal = std::move(internal);
  return error;
}

// Copies the parsed tape into Socle's own value type. Recursion is bounded: simdjson already
// refused documents deeper than JsonLimits::max_depth.
Result<JsonValue> Convert(simdjson::dom::element element) {
  using simdjson::dom::element_type;
  switch (element.type()) {
    case element_type::NULL_VALUE: return JsonValue::Null();
    case element_type::BOOL: return JsonValue::Bool(element.get_bool().value_unsafe());
    case element_type::INT64: return JsonValue::Integer(element.get_int64().value_unsafe());
    case element_type::UINT64:
      return JsonValue::Number(static_cast<double>(element.get_uint64().value_unsafe()));
    case element_type::DOUBLE: return JsonValue::Number(element.get_double().value_unsafe());
    case element_type::STRING:
      return JsonValue::String(std::string(element.get_string().value_unsafe()));
    case element_type::ARRAY: {
      simdjson::dom::array array;
      if (element.get_array().get(array)) return domain::Fail(Malformed("array expected"));
      std::vector<JsonValue> items;
      for (simdjson::dom::element child : array) {
        auto converted = Convert(child);
        if (!converted) return converted;
        items.push_back(std::move(*converted));
      }
      return JsonValue::Array(std::move(items));
    }
    case element_type::OBJECT: {
      simdjson::dom::object object;
      if (element.get_object().get(object)) return domain::Fail(Malformed("object expected"));
      std::vector<JsonValue::Member> members;
      for (simdjson::dom::key_value_pair field : object) {
        auto converted = Convert(field.value);
        if (!converted) return converted;
        members.emplace_back(std::string(field.key), std::move(*converted));
      }
      return JsonValue::Object(std::move(members));
    }
  }
  return domain::Fail(Malformed("unknown simdjson element type"));
}

// True when the raw text of a string literal holds a \u escape of a UTF-16 surrogate that is not
// part of a well-formed pair. simdjson accepts some of these; Socle refuses them because they
// cannot be represented as UTF-8 and differ between parsers (a parser-differential risk).
bool HasLoneSurrogateEscape(std::string_view text) {
  auto hex_value = [&](std::size_t at, unsigned& value) {
    if (at + 4 > text.size()) return false;
    value = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
      const char c = text[k];
      unsigned digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<unsigned>(c - 'A' + 10);
      } else {
        return false;
      }
      value = value * 16 + digit;
    }
    return true;
  };
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!in_string) {
      if (c == '"') in_string = true;
      continue;
    }
    if (c == '"') {
      in_string = false;
      continue;
    }
    if (c != '\\' || i + 1 >= text.size()) continue;
    if (text[i + 1] != 'u') {
      ++i;  // skip the escaped character (it may be a quote or a backslash)
      continue;
    }
    unsigned unit = 0;
    if (!hex_value(i + 2, unit)) return false;  // malformed escape: simdjson reports it
    if (unit >= 0xDC00 && unit <= 0xDFFF) return true;  // low surrogate without a high one
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      unsigned low = 0;
      const bool paired = i + 7 < text.size() && text[i + 6] == '\\' && text[i + 7] == 'u' &&
                          hex_value(i + 8, low) && low >= 0xDC00 && low <= 0xDFFF;
      if (!paired) return true;
      i += 11;  // past both escapes
      continue;
    }
    i += 5;
  }
  return false;
}

}  // namespace

Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return domain::Fail(Error::Make(ErrorCode::kInvalidArgument, "The JSON body is too large."));
  }
  if (text.starts_with("\xEF\xBB\xBF")) return domain::Fail(Malformed("byte order mark"));
  simdjson::dom::parser parser;
  // simdjson counts the document itself as one level; JsonLimits counts nesting only.
  if (auto error = parser.allocate(text.size() + 1, limits.max_depth + 1); error) {
    return domain::Fail(Error::Internal(std::string("simdjson allocate: ") +
                                        simdjson::error_message(error)));
  }
  simdjson::dom::element root;
  // realloc_if_needed copies the text into a padded buffer: the caller's string has no padding.
  if (auto error = parser.parse(text.data(), text.size(), true).get(root); error) {
    if (error == simdjson::DEPTH_ERROR) {
      Error depth = Error::Make(ErrorCode::kInvalidArgument, "The JSON body is nested too deeply.");
      depth.internal = simdjson::error_message(error);
      return domain::Fail(std::move(depth));
    }
    if (error == simdjson::MEMALLOC) {
      return domain::Fail(Error::Internal("simdjson: out of memory"));
    }
    return domain::Fail(Malformed(simdjson::error_message(error)));
  }
  if (HasLoneSurrogateEscape(text)) {
    return domain::Fail(Malformed("lone UTF-16 surrogate escape"));
  }
  return Convert(root);
}

Result<JsonValue> ParseJsonObject(std::string_view text, const JsonLimits& limits) {
  auto value = ParseJson(text, limits);
  if (!value) return value;
  if (!value->IsObject()) {
    Error error =
        Error::Make(ErrorCode::kInvalidArgument, "The request body must be a JSON object.");
    error.internal = "top-level " + std::string(JsonValue::TypeName(value->type()));
    return domain::Fail(std::move(error));
  }
  return value;
}

}  // namespace socle::adapters::json
