#include "postgres_record_codec.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::postgres {

using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::JsonValue;
using domain::Result;
using domain::StorageClass;

namespace {

// Stored JSON was accepted once under the request limits; reading it back must not refuse it,
// whatever limits applied when it was written (a conversion may also have built it).
constexpr json::JsonLimits kStoredJsonLimits{.max_depth = 1024, .max_bytes = std::size_t{1} << 30};

void AppendQuotedElement(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

Error Malformed(std::string_view what, std::string_view text) {
  return Error::Internal("unexpected " + std::string(what) +
                         " from PostgreSQL: " + std::string(text.substr(0, 200)));
}

Error WrongType(const domain::Field& field, std::string_view expected) {
  return Error::Field(field.name, "validation_invalid_value",
                      "Must be " + std::string(expected) + ".");
}

Error HasNul(const domain::Field& field) {
  return Error::Field(field.name, "validation_invalid_value",
                      "Must not contain the NUL character.");
}

std::string CompactJson(const JsonValue& value) {
  json::JsonWriter writer;
  writer.Value(value);
  return std::move(writer).Take();
}

// "YYYY-MM-DD HH:MM:SS[.f{1,6}]+00" (ISO output at UTC) as "YYYY-MM-DD HH:MM:SS.mmmZ",
// the fraction truncated to milliseconds as the canonical form is.
std::optional<std::string> CanonicalDate(std::string_view text) {
  constexpr std::size_t kSeconds = 19;  // "YYYY-MM-DD HH:MM:SS"
  if (text.size() < kSeconds + 3 || text.substr(text.size() - 3) != "+00" || text[4] != '-' ||
      text[10] != ' ' || text[13] != ':') {
    return std::nullopt;
  }
  std::string out(text.substr(0, kSeconds));
  out += '.';
  std::string_view fraction = text.substr(kSeconds, text.size() - 3 - kSeconds);
  if (!fraction.empty()) {
    if (fraction.front() != '.') return std::nullopt;
    fraction.remove_prefix(1);
  }
  for (std::size_t i = 0; i < 3; ++i) out += i < fraction.size() ? fraction[i] : '0';
  out += 'Z';
  return out;
}

}  // namespace



std::string FormatDouble(double value) {
  std::array<char, 32> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), end);
}

Result<double> ParseDouble(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return Fail(Malformed("number", text));
  return value;
}

std::string FormatTextArray(const std::vector<JsonValue>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    AppendQuotedElement(out, items[i].AsString());
  }
  out += '}';
  return out;
}

std::string FormatTextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    AppendQuotedElement(out, items[i]);
  }
  out += '}';
  return out;
}

std::string FormatTextArray(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    if (items[i]) {
      AppendQuotedElement(out, *items[i]);
    } else {
      out += "NULL";
    }
  }
  out += '}';
  return out;
}

Result<std::vector<std::string>> ParseTextArray(std::string_view literal) {
  // array_out: {elem,elem,...}; an element is quoted when empty, when it contains a brace, a
  // comma, a quote, a backslash or white space, or when it spells NULL; inside quotes `"` and
  // `\` are backslash-escaped. An unquoted NULL is the null element. A lower bound other than
  // 1 would print a "[2:3]=" prefix, which this adapter never writes.
  std::vector<std::string> items;
  if (literal.size() < 2 || literal.front() != '{' || literal.back() != '}') {
    return Fail(Malformed("text[]", literal));
  }
  const std::string_view body = literal.substr(1, literal.size() - 2);
  if (body.empty()) return items;
  std::size_t i = 0;
  for (;;) {
    std::string item;
    if (i < body.size() && body[i] == '"') {
      ++i;
      bool closed = false;
      while (i < body.size()) {
        char c = body[i++];
        if (c == '\\') {
          if (i >= body.size()) return Fail(Malformed("text[]", literal));
          item += body[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          item += c;
        }
      }
      if (!closed) return Fail(Malformed("text[]", literal));
    } else {
      const std::size_t start = i;
      while (i < body.size() && body[i] != ',') {
        if (body[i] == '{' || body[i] == '"') return Fail(Malformed("text[]", literal));
        ++i;
      }
      item.assign(body.substr(start, i - start));
      if (item == "NULL") item.clear();
    }
    items.push_back(std::move(item));
    if (i == body.size()) break;
    if (body[i] != ',') return Fail(Malformed("text[]", literal));
    ++i;
  }
  return items;
}

bool CanBindText(std::string_view text) noexcept {
  return text.find('\0') == std::string_view::npos;
}

Result<std::optional<std::string>> EncodeValue(const domain::Field& field, StorageClass storage,
                                               const JsonValue& value) {
  switch (storage) {
    case StorageClass::kText:
      if (value.type() != JsonValue::Type::kString) return Fail(WrongType(field, "a string"));
      if (!CanBindText(value.AsString())) return Fail(HasNul(field));
      return std::optional<std::string>(value.AsString());
    case StorageClass::kNumber:
      if (value.type() != JsonValue::Type::kNumber) return Fail(WrongType(field, "a number"));
      if (auto exact = value.AsInt64()) return std::optional<std::string>(std::to_string(*exact));
      return std::optional<std::string>(FormatDouble(value.AsDouble()));
    case StorageClass::kBool:
      if (value.type() != JsonValue::Type::kBool) return Fail(WrongType(field, "a boolean"));
      return std::optional<std::string>(value.AsBool() ? "true" : "false");
    case StorageClass::kDate: {
      if (value.type() != JsonValue::Type::kString) return Fail(WrongType(field, "a date"));
      if (value.AsString().empty()) return std::optional<std::string>();
      auto at = domain::Timestamp::Parse(value.AsString());
      if (!at) {
        return Fail(Error::Field(field.name, "validation_invalid_date",
                                 "Must be a UTC date like 2024-05-01 09:30:00.000Z."));
      }
      // Milliseconds, as the canonical form has them, so the instant reads back as written.
      std::string canonical = at->ToApiString();
      if (canonical.starts_with("0000")) {  // timestamptz has no year 0 (1 BC)
        return Fail(Error::Field(field.name, "validation_invalid_date",
                                 "Must be a date from the year 0001 on."));
      }
      return std::optional<std::string>(std::move(canonical));
    }
    case StorageClass::kJson:
      if (value.IsNull()) return std::optional<std::string>();
      return std::optional<std::string>(CompactJson(value));
    case StorageClass::kTextArray: {
      if (value.type() != JsonValue::Type::kArray) return Fail(WrongType(field, "an array"));
      for (const auto& item : value.items()) {
        if (item.type() != JsonValue::Type::kString) {
          return Fail(WrongType(field, "an array of strings"));
        }
        if (!CanBindText(item.AsString())) return Fail(HasNul(field));
      }
      return std::optional<std::string>(FormatTextArray(value.items()));
    }
  }
  return Fail(Error::Internal("unknown storage class"));
}

Result<JsonValue> DecodeValue(StorageClass storage, std::string_view text, bool null_column) {
  switch (storage) {
    case StorageClass::kText: return JsonValue::String(std::string(text));
    case StorageClass::kNumber: {
      if (null_column) return JsonValue::Integer(0);
      auto number = ParseDouble(text);
      if (!number) return Fail(number.error());
      return CanonicalNumber(*number);
    }
    case StorageClass::kBool: return JsonValue::Bool(!null_column && text == "t");
    case StorageClass::kDate: {
      if (null_column) return JsonValue::String("");
      auto canonical = CanonicalDate(text);
      if (!canonical) return Fail(Malformed("timestamptz", text));
      return JsonValue::String(std::move(*canonical));
    }
    case StorageClass::kJson: {
      if (null_column) return JsonValue::Null();
      auto parsed = json::ParseJson(text, kStoredJsonLimits);
      if (!parsed) return Fail(Malformed("json", text));
      return std::move(*parsed);
    }
    case StorageClass::kTextArray: {
      if (null_column) return JsonValue::Array({});
      auto items = ParseTextArray(text);
      if (!items) return Fail(items.error());
      std::vector<JsonValue> values;
      values.reserve(items->size());
      for (auto& item : *items) values.push_back(JsonValue::String(std::move(item)));
      return JsonValue::Array(std::move(values));
    }
  }
  return Fail(ErrorCode::kInternal, "unknown storage class");
}

}  // namespace socle::adapters::postgres
