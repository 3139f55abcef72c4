#include "sqlite_value_codec.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::sqlite {

using domain::Error;
using domain::Fail;
using domain::JsonValue;
using domain::Result;
using domain::StorageClass;

namespace {

// Stored JSON was written by this adapter from values that passed the request limits; reading
// it back must not refuse what was accepted then, so only the depth stays bounded (the parser
// recurses).
constexpr json::JsonLimits kStoredJsonLimits{.max_depth = 256,
                                             .max_bytes = std::numeric_limits<std::size_t>::max()};

// 2^53: the largest magnitude below which every integer is exactly a double.
constexpr double kMaxExactInteger = 9007199254740992.0;

Error Malformed(std::string_view what) {
  return Error::Internal("a stored value is malformed: " + std::string(what));
}

Error Mismatch(StorageClass storage, const JsonValue& value) {
  return Error::Internal("cannot store a " + std::string(JsonValue::TypeName(value.type())) +
                         " in a column of storage class " +
                         std::to_string(static_cast<int>(storage)));
}

std::string CompactJson(const JsonValue& value) {
  json::JsonWriter w;
  w.Value(value);
  return std::move(w).Take();
}

// The shortest decimal text that reads back as the same number ("12", "12.5", "1e+300").
std::string NumberText(const JsonValue& number) {
  if (auto exact = number.AsInt64()) return std::to_string(*exact);
  const JsonValue canonical = CanonicalNumber(number.AsDouble());
  if (auto exact = canonical.AsInt64()) return std::to_string(*exact);
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number.AsDouble());
  if (ec != std::errc()) return "0";
  return std::string(buffer, end);
}

// The text a single value reads as once its field holds text.
std::string ToText(const JsonValue& value, StorageClass from) {
  switch (value.type()) {
    case JsonValue::Type::kNull: return "";
    case JsonValue::Type::kBool: return value.AsBool() ? "true" : "false";
    case JsonValue::Type::kNumber: return NumberText(value);
    case JsonValue::Type::kString: return value.AsString();
    case JsonValue::Type::kArray:
      if (from == StorageClass::kTextArray) {
        return value.items().empty() ? std::string() : ToText(value.items().front(), from);
      }
      return CompactJson(value);
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

JsonValue ToNumber(const JsonValue& value, StorageClass from) {
  switch (value.type()) {
    case JsonValue::Type::kBool: return JsonValue::Integer(value.AsBool() ? 1 : 0);
    case JsonValue::Type::kNumber: return CanonicalNumber(value.AsDouble());
    case JsonValue::Type::kString: return TextToNumber(value.AsString());
    default: return TextToNumber(ToText(value, from));
  }
}

JsonValue ToBool(const JsonValue& value, StorageClass from) {
  switch (value.type()) {
    case JsonValue::Type::kBool: return value;
    case JsonValue::Type::kNumber: return JsonValue::Bool(value.AsDouble() != 0);
    default: {
      const std::string text = ToText(value, from);
      return JsonValue::Bool(text == "true" || text == "1");
    }
  }
}

JsonValue ToDate(const JsonValue& value, StorageClass from) {
  auto parsed = domain::Timestamp::Parse(ToText(value, from));
  return JsonValue::String(parsed ? parsed->ToApiString() : std::string());
}

// Arrays of strings as this adapter writes them (JsonWriter, compact) and without a backslash
// (so without escapes): split in place, sparing a JSON parser per row on the list path. nullopt
// for anything else, which the full parser reads.
std::optional<JsonValue> ReadPlainStringArray(std::string_view text) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']' ||
      text.find('\\') != std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<JsonValue> items;
  std::size_t at = 1;
  const std::size_t end = text.size() - 1;
  while (at < end) {
    if (text[at] != '"') return std::nullopt;
    const std::size_t close = text.find('"', at + 1);
    if (close == std::string_view::npos || close >= end) return std::nullopt;
    items.push_back(JsonValue::String(std::string(text.substr(at + 1, close - at - 1))));
    at = close + 1;
    if (at < end) {
      if (text[at] != ',') return std::nullopt;
      ++at;
      if (at == end) return std::nullopt;  // a trailing comma
    }
  }
  return JsonValue::Array(std::move(items));
}

}  // namespace

std::string_view ColumnDeclaration(StorageClass storage) {
  switch (storage) {
    case StorageClass::kText: return "TEXT NOT NULL DEFAULT ''";
    case StorageClass::kNumber: return "REAL NOT NULL DEFAULT 0";
    case StorageClass::kBool: return "INTEGER NOT NULL DEFAULT 0";
    case StorageClass::kDate: return "TEXT NOT NULL DEFAULT ''";
    case StorageClass::kJson: return "TEXT NULL";
    case StorageClass::kTextArray: return "TEXT NOT NULL DEFAULT '[]'";
  }
  return "TEXT NOT NULL DEFAULT ''";
}

JsonValue CanonicalNumber(double value) {
  if (std::trunc(value) == value && std::fabs(value) <= kMaxExactInteger) {
    return JsonValue::Integer(static_cast<std::int64_t>(value));
  }
  return JsonValue::Number(value);
}

Result<JsonValue> ReadValue(const Statement& row, int column, StorageClass storage) {
  switch (storage) {
    case StorageClass::kText:
    case StorageClass::kDate:
      return JsonValue::String(std::string(row.Text(column)));
    case StorageClass::kNumber:
      return CanonicalNumber(row.Double(column));
    case StorageClass::kBool:
      return JsonValue::Bool(row.Int(column) != 0);
    case StorageClass::kJson: {
      if (row.IsNull(column)) return JsonValue::Null();
      auto parsed = json::ParseJson(row.Text(column), kStoredJsonLimits);
      if (!parsed) return Fail(Malformed("json: " + parsed.error().internal));
      return parsed;
    }
    case StorageClass::kTextArray: {
      if (auto plain = ReadPlainStringArray(row.Text(column))) return std::move(*plain);
      auto parsed = json::ParseJson(row.Text(column), kStoredJsonLimits);
      if (!parsed) return Fail(Malformed("array: " + parsed.error().internal));
      if (parsed->type() != JsonValue::Type::kArray) return Fail(Malformed("array: not an array"));
      for (const auto& item : parsed->items()) {
        if (item.type() != JsonValue::Type::kString) return Fail(Malformed("array: not text"));
      }
      return parsed;
    }
  }
  return Fail(Malformed("unknown storage class"));
}

Result<void> BindValue(Statement& stmt, const JsonValue& value, StorageClass storage) {
  switch (storage) {
    case StorageClass::kText:
    case StorageClass::kDate:
      if (value.type() != JsonValue::Type::kString) return Fail(Mismatch(storage, value));
      stmt.Bind(std::string_view(value.AsString()));
      return {};
    case StorageClass::kNumber:
      if (value.type() != JsonValue::Type::kNumber) return Fail(Mismatch(storage, value));
      stmt.BindDouble(value.AsDouble());
      return {};
    case StorageClass::kBool:
      if (value.type() != JsonValue::Type::kBool) return Fail(Mismatch(storage, value));
      stmt.Bind(std::int64_t{value.AsBool() ? 1 : 0});
      return {};
    case StorageClass::kJson:
      if (value.IsNull()) {
        stmt.BindNull();
      } else {
        stmt.Bind(std::string_view(CompactJson(value)));
      }
      return {};
    case StorageClass::kTextArray: {
      if (value.type() != JsonValue::Type::kArray) return Fail(Mismatch(storage, value));
      for (const auto& item : value.items()) {
        if (item.type() != JsonValue::Type::kString) return Fail(Mismatch(storage, item));
      }
      stmt.Bind(std::string_view(CompactJson(value)));
      return {};
    }
  }
  return Fail(Mismatch(storage, value));
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
    for (const auto& item : value.items()) items.push_back(JsonValue::String(ToText(item, from)));
    return JsonValue::Array(std::move(items));
  }
  if (from == StorageClass::kTextArray) {
    // Multiple → single: the first item, then as a single text value.
    JsonValue first = value.type() == JsonValue::Type::kArray && !value.items().empty()
                          ? value.items().front()
                          : JsonValue::String("");
    return ConvertValue(first, StorageClass::kText, to);
  }
  switch (to) {
    case StorageClass::kText: return JsonValue::String(ToText(value, from));
    case StorageClass::kNumber: return ToNumber(value, from);
    case StorageClass::kBool: return ToBool(value, from);
    case StorageClass::kDate: return ToDate(value, from);
    case StorageClass::kTextArray: {
      std::string text = ToText(value, from);
      if (text.empty()) return JsonValue::Array({});
      std::vector<JsonValue> items;
      items.push_back(JsonValue::String(std::move(text)));
      return JsonValue::Array(std::move(items));
    }
    case StorageClass::kJson: return value;
  }
  return value;
}

}  // namespace socle::adapters::sqlite
