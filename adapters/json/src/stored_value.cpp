#include "socle/adapters/json/stored_value.hpp"

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::json {
namespace {

using domain::JsonValue;
using domain::StorageClass;

// 2^53: the largest magnitude below which every integer is exactly a double.
constexpr double kMaxExactInteger = 9007199254740992.0;

std::string CompactJson(const JsonValue& value) {
  JsonWriter w;
  w.Value(value);
  return std::move(w).Take();
}

// The shortest decimal text that reads back as the same number ("12", "12.5", "1e+300").
std::string NumberText(const JsonValue& number) {
  if (auto exact = number.AsInt64()) return std::to_string(*exact);
  if (auto exact = CanonicalNumber(number.AsDouble()).AsInt64()) return std::to_string(*exact);
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number.AsDouble());
  if (ec != std::errc()) return "0";
  return std::string(buffer, end);
}

// The text a single value reads as once its field holds text.
std::string ToText(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kNull: return "";
    case JsonValue::Type::kBool: return value.AsBool() ? "true" : "false";
    case JsonValue::Type::kNumber: return NumberText(value);
    case JsonValue::Type::kString: return value.AsString();
    case JsonValue::Type::kArray:
    case JsonValue::Type::kObject: return CompactJson(value);
  }
  return "";
}

// The whole text as a finite number, else 0.
JsonValue TextToNumber(std::string_view text) {
  double parsed = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, parsed);
  if (text.empty() || ec != std::errc() || stop != end || !std::isfinite(parsed)) {
    return JsonValue::Integer(0);
  }
  return CanonicalNumber(parsed);
}

}  // namespace

JsonValue CanonicalNumber(double value) {
  if (std::trunc(value) == value && std::fabs(value) <= kMaxExactInteger) {
    return JsonValue::Integer(static_cast<std::int64_t>(value));
  }
  return JsonValue::Number(value);
}

JsonValue ConvertValue(const JsonValue& value, StorageClass from, StorageClass to) {
  if (from == to) return value;
  if (to == StorageClass::kJson) {
    // Anything becomes JSON as it is (an array stays an array), except the empty date, which
    // means "no date": JSON's null.
    if (from == StorageClass::kDate && value.type() == JsonValue::Type::kString &&
        value.AsString().empty()) {
      return JsonValue::Null();
    }
    return value;
  }
  if (from == StorageClass::kJson && to == StorageClass::kTextArray &&
      value.type() == JsonValue::Type::kArray) {
    // A JSON array becomes the list of its items as text.
    std::vector<JsonValue> items;
    items.reserve(value.items().size());
    for (const auto& item : value.items()) items.push_back(JsonValue::String(ToText(item)));
    return JsonValue::Array(std::move(items));
  }
  if (from == StorageClass::kTextArray) {
    // Multiple → single: the first item, then as a single text value.
    const bool has_first = value.type() == JsonValue::Type::kArray && !value.items().empty();
    return ConvertValue(has_first ? value.items().front() : JsonValue::String(""),
                        StorageClass::kText, to);
  }
  switch (to) {
    case StorageClass::kText: return JsonValue::String(ToText(value));
    case StorageClass::kNumber:
      switch (value.type()) {
        case JsonValue::Type::kBool: return JsonValue::Integer(value.AsBool() ? 1 : 0);
        case JsonValue::Type::kNumber: return CanonicalNumber(value.AsDouble());
        default: return TextToNumber(ToText(value));
      }
    case StorageClass::kBool:
      switch (value.type()) {
        case JsonValue::Type::kBool: return value;
        case JsonValue::Type::kNumber: return JsonValue::Bool(value.AsDouble() != 0);
        default: {
          const std::string text = ToText(value);
          return JsonValue::Bool(text == "true" || text == "1");
        }
      }
    case StorageClass::kDate: {
      auto parsed = domain::Timestamp::Parse(ToText(value));
      return JsonValue::String(parsed ? parsed->ToApiString() : std::string());
    }
    case StorageClass::kTextArray: {
      std::string text = ToText(value);
      if (text.empty()) return JsonValue::Array({});
      std::vector<JsonValue> items;
      items.push_back(JsonValue::String(std::move(text)));
      return JsonValue::Array(std::move(items));
    }
    case StorageClass::kJson: return value;
  }
  return value;
}

}  // namespace socle::adapters::json
