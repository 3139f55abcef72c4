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


}  // namespace socle::adapters::sqlite
