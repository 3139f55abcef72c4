#include "socle/domain/record_input.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <regex>
#include <unordered_map>
#include <utility>

#include "socle/domain/email.hpp"

namespace socle::domain {
namespace {

constexpr std::string_view kRequired = "validation_required";
constexpr std::string_view kRequiredMessage = "Cannot be blank.";

// ---------------------------------------------------------------------------------------------
// PocketBase's casts (spf13/cast as PocketBase's fields use it), on Socle's JSON values.

/// Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent.
std::string FormatFixed(double value) {
  std::array<char, 400> buffer{};
  auto [end, ec] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  return std::string(buffer.data(), end);
}

/// cast.ToString: strings as they are, numbers and booleans spelled, everything else "".
std::string CastString(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kString: return value.AsString();
    case JsonValue::Type::kBool: return value.AsBool() ? "true" : "false";
    case JsonValue::Type::kNumber:
      if (auto exact = value.AsInt64()) return std::to_string(*exact);
      return FormatFixed(value.AsDouble());
    default: return "";
  }
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

/// Go's strconv.ParseFloat on decimal text: an optional sign, digits with an optional fraction
/// and exponent, or inf/infinity/nan. nullopt when the text is not one.
std::optional<double> ParseDecimal(std::string_view text) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (EqualsIgnoringCase(digits, "inf") || EqualsIgnoringCase(digits, "infinity")) {
    return negative ? -HUGE_VAL : HUGE_VAL;
  }
  if (EqualsIgnoringCase(digits, "nan")) return std::nan("");
  if (digits.empty() ||
      !((digits.front() >= '0' && digits.front() <= '9') || digits.front() == '.')) {
    return std::nullopt;
  }
  double parsed = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed,
                                   std::chars_format::general);
  if (end != digits.data() + digits.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Go returns ±Inf for overflow (and an error, which cast turns into 0 anyway).
    return std::nullopt;
  }
  if (ec != std::errc()) return std::nullopt;
  return negative ? -parsed : parsed;
}

/// cast.ToFloat64: numbers, numeric strings, booleans as 1/0; anything else 0.
double CastNumber(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kNumber: return value.AsDouble();
    case JsonValue::Type::kBool: return value.AsBool() ? 1 : 0;
    case JsonValue::Type::kString: return ParseDecimal(value.AsString()).value_or(0);
    default: return 0;
  }
}

/// cast.ToBool: booleans, numbers other than 0, and strconv.ParseBool's spellings of true.
bool CastBool(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kBool: return value.AsBool();
    case JsonValue::Type::kNumber: return value.AsDouble() != 0;
    case JsonValue::Type::kString: {
      const std::string& s = value.AsString();
      return s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True";
    }
    default: return false;
  }
}

/// The canonical number value: integers as Integer, the rest as Number.
JsonValue MakeNumber(double value) {
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 9.2e18) {
    return JsonValue::Integer(static_cast<std::int64_t>(value));
  }
  return JsonValue::Number(value);
}

/// list.ToUniqueStringSlice: a string (a JSON array of strings when it contains '[' and parses
/// as one) or an array of castable values; empty items and repeats dropped, order kept.
std::vector<std::string> CastStringList(const JsonValue& value, const RecordInputOptions& options) {
  std::vector<std::string> raw;
  switch (value.type()) {
    case JsonValue::Type::kString: {
      const std::string& s = value.AsString();
      if (s.empty()) break;
      if (s.find('[') != std::string::npos && options.parse_json) {
        auto parsed = options.parse_json(s);
        bool all_strings = parsed && parsed->type() == JsonValue::Type::kArray;
        if (all_strings) {
          for (const auto& item : parsed->items()) {
            all_strings = all_strings && item.type() == JsonValue::Type::kString;
          }
        }
        if (all_strings) {
          for (const auto& item : parsed->items()) raw.push_back(item.AsString());
          break;
        }
      }
      raw.push_back(s);
      break;
    }
    case JsonValue::Type::kArray:
      for (const auto& item : value.items()) raw.push_back(CastString(item));
      break;
    default: break;
  }
  std::vector<std::string> unique;
  for (auto& item : raw) {
    if (item.empty()) continue;
    bool seen = false;
    for (const auto& kept : unique) seen = seen || kept == item;
    if (!seen) unique.push_back(std::move(item));
  }
  return unique;
}

/// The items of a canonical select/relation/file value.
std::vector<std::string> ListOf(const JsonValue& value) {
  std::vector<std::string> items;
  if (value.type() == JsonValue::Type::kString) {
    if (!value.AsString().empty()) items.push_back(value.AsString());
  } else if (value.type() == JsonValue::Type::kArray) {
    for (const auto& item : value.items()) {
      if (item.type() == JsonValue::Type::kString && !item.AsString().empty()) {
        items.push_back(item.AsString());
      }
    }
  }
  return items;
}

/// The canonical value of a select/relation/file field holding `items`: deduplicated; a single
/// field keeps the last item, as PocketBase does.
JsonValue MakeList(const Field& field, std::vector<std::string> items) {
  std::vector<std::string> unique;
  for (auto& item : items) {
    if (item.empty()) continue;
    bool seen = false;
    for (const auto& kept : unique) seen = seen || kept == item;
    if (!seen) unique.push_back(std::move(item));
  }
  if (!field.IsMultiple()) return JsonValue::String(unique.empty() ? "" : unique.back());
  std::vector<JsonValue> values;
  values.reserve(unique.size());
  for (auto& item : unique) values.push_back(JsonValue::String(std::move(item)));
  return JsonValue::Array(std::move(values));
}

// ---------------------------------------------------------------------------------------------
// Dates.

bool ReadDigits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  pos += n;
  out = v;
  return true;
}

std::optional<Timestamp> ParseFlexibleDate(std::string_view s) {
  using namespace std::chrono;
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  std::int64_t micro = 0;
  int offset_minutes = 0;
  if (!ReadDigits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, pos, 2, mo) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, pos, 2, d)) {
    return std::nullopt;
  }
  if (pos < s.size()) {
    if (s[pos] != ' ' && s[pos] != 'T') return std::nullopt;
    ++pos;
    if (!ReadDigits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' ||
        !ReadDigits(s, pos, 2, mi)) {
      return std::nullopt;
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!ReadDigits(s, pos, 2, sec)) return std::nullopt;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::size_t start = pos;
        std::int64_t scale = 100000;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (pos - start < 6) {
            micro += (s[pos] - '0') * scale;
            scale /= 10;
          }
          ++pos;
        }
        if (pos == start || pos - start > 9) return std::nullopt;
      }
    }
    if (pos < s.size() && s[pos] == ' ') ++pos;  // "2024-05-01 10:00:00 +02:00"
    if (pos < s.size()) {
      if (s[pos] == 'Z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        const int sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int oh = 0, om = 0;
        if (!ReadDigits(s, pos, 2, oh)) return std::nullopt;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (!ReadDigits(s, pos, 2, om) || oh > 23 || om > 59) return std::nullopt;
        offset_minutes = sign * (oh * 60 + om);
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + microseconds(micro) -
            minutes(offset_minutes);
  return Timestamp::FromUnixMicros(duration_cast<microseconds>(tp.time_since_epoch()).count());
}

/// Go's time.Time.String() for a UTC instant, as ozzo-validation prints date thresholds:
/// "2020-01-01 00:00:00 +0000 UTC", fractional seconds without trailing zeros.
std::string FormatGoTime(Timestamp t) {
  std::string iso = t.ToIso8601();  // 2024-05-01T09:30:00.123456Z
  std::string out = iso.substr(0, 10) + " " + iso.substr(11, 8);
  std::string fraction = iso.substr(20, 6);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (!fraction.empty()) out += "." + fraction;
  return out + " +0000 UTC";
}

JsonValue CastDate(const JsonValue& value) {
  if (value.type() != JsonValue::Type::kString) return JsonValue::String("");
  auto parsed = ParseFlexibleDate(value.AsString());
  return JsonValue::String(parsed ? parsed->ToApiString() : "");
}

// ---------------------------------------------------------------------------------------------
// JSON fields.

/// A strict JSON number (RFC 8259 grammar), so "1e5" is a number and "1." or "01" are not.
bool IsJsonNumber(std::string_view s) noexcept {
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

/// PocketBase's JSONField.PrepareValue for strings: JSON-looking text becomes the value it
/// spells, anything else stays a string.
JsonValue NormalizeJsonString(const std::string& s, const RecordInputOptions& options) {
  if (s.empty()) return JsonValue::String("");
  if (s == "null") return JsonValue::Null();
  if (s == "true") return JsonValue::Bool(true);
  if (s == "false") return JsonValue::Bool(false);
  const char first = s.front();
  const bool looks_json = (first >= '0' && first <= '9') || first == '-' || first == '"' ||
                          first == '[' || first == '{';
  if (!looks_json) return JsonValue::String(s);
  if (options.parse_json) {
    auto parsed = options.parse_json(s);
    if (parsed) return *std::move(parsed);
    return JsonValue::String(s);
  }
  if (IsJsonNumber(s)) {
    if (auto number = ParseDecimal(s); number && std::isfinite(*number)) return MakeNumber(*number);
  }
  return JsonValue::String(s);
}

/// The size in bytes of `value` serialised compactly (escapes included), for maxSize.
std::size_t JsonSize(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kNull: return 4;
    case JsonValue::Type::kBool: return value.AsBool() ? 4 : 5;
    case JsonValue::Type::kNumber: {
      if (auto exact = value.AsInt64()) return std::to_string(*exact).size();
      std::array<char, 32> buffer{};
      auto [end, ec] =
          std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.AsDouble());
      return ec == std::errc() ? static_cast<std::size_t>(end - buffer.data()) : 4;
    }
    case JsonValue::Type::kString: {
      std::size_t size = 2;
      for (unsigned char c : value.AsString()) {
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
            c == '\t') {
          size += 2;
        } else if (c < 0x20) {
          size += 6;
        } else {
          size += 1;
        }
      }
      return size;
    }
    case JsonValue::Type::kArray: {
      std::size_t size = 2;
      for (std::size_t i = 0; i < value.items().size(); ++i) {
        size += JsonSize(value.items()[i]) + (i > 0 ? 1 : 0);
      }
      return size;
    }
    case JsonValue::Type::kObject: {
      std::size_t size = 2;
      for (std::size_t i = 0; i < value.members().size(); ++i) {
        const auto& [key, member] = value.members()[i];
        size += JsonSize(JsonValue::String(key)) + 1 + JsonSize(member) + (i > 0 ? 1 : 0);
      }
      return size;
    }
  }
  return 0;
}

bool IsEmptyJson(const JsonValue& value) noexcept {
  switch (value.type()) {
    case JsonValue::Type::kNull: return true;
    case JsonValue::Type::kString: return value.AsString().empty();
    case JsonValue::Type::kArray: return value.items().empty();
    case JsonValue::Type::kObject: return value.members().empty();
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Formats.

/// Unicode characters of UTF-8 text (continuation bytes are not counted), as PocketBase counts
/// runes.
std::int64_t CharacterCount(std::string_view text) noexcept {
  std::int64_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool DomainListed(const std::vector<std::string>& domains, std::string_view host) {
  for (const auto& domain : domains) {
    if (EqualsIgnoringCase(domain, host)) return true;
  }
  return false;
}

/// An absolute http(s) URL with a host: scheme "://" [userinfo@] host [:port] [/path][?q][#f],
/// no whitespace or control characters. Returns the host (without port), or nullopt.
std::optional<std::string> UrlHost(std::string_view url) {
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7F) return std::nullopt;
  }
  std::string_view rest;
  if (url.size() > 7 && EqualsIgnoringCase(url.substr(0, 7), "http://")) {
    rest = url.substr(7);
  } else if (url.size() > 8 && EqualsIgnoringCase(url.substr(0, 8), "https://")) {
    rest = url.substr(8);
  } else {
    return std::nullopt;
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
    for (char c : host.substr(1, host.size() - 2)) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                      c == ':' || c == '.';
      if (!ok) return std::nullopt;
    }
  } else {
    if (auto colon = authority.find(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
    if (host.empty() || host.front() == '.' || host.front() == '-' || host.back() == '-') {
      return std::nullopt;
    }
    for (unsigned char c : host) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c >= 0x80;
      if (!ok) return std::nullopt;
    }
    if (host.find("..") != std::string_view::npos) return std::nullopt;
  }
  if (port.size() > 5) return std::nullopt;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return LowerAscii(host);
}

/// What a relation id must look like before the store is asked whether it exists: a plain
/// token that can be a record id of any collection (PocketBase's ids may follow custom
/// patterns, but never hold a path separator).
bool IsPlausibleRecordId(std::string_view id) noexcept {
  if (id.empty() || id.size() > 255) return false;
  for (unsigned char c : id) {
    if (c <= 0x20 || c == 0x7F || c == '/' || c == '\\') return false;
  }
  return true;
}

bool IsScalarType(FieldType type) noexcept {
  switch (type) {
    case FieldType::kSelect:
    case FieldType::kRelation:
    case FieldType::kFile:
    case FieldType::kJson: return false;
    default: return true;
  }
}

bool IsListType(FieldType type) noexcept {
  return type == FieldType::kSelect || type == FieldType::kRelation || type == FieldType::kFile;
}

/// Formats `value` like Go's %f ("10.000000"), as PocketBase's number messages do.
std::string FormatGoF(double value) {
  std::array<char, 400> buffer{};
  const int n = std::snprintf(buffer.data(), buffer.size(), "%f", value);
  if (n < 0) return "0.000000";
  return std::string(buffer.data(), static_cast<std::size_t>(std::min<int>(n, 399)));
}

// ---------------------------------------------------------------------------------------------

class RecordInput {
 public:
  RecordInput(const Collection& c, Record& record, const Record& original, bool creating,
              const RecordInputOptions& options)
      : c_(c), record_(record), original_(original), creating_(creating), options_(options) {}

  void Apply(const JsonValue& body) {
    for (const auto& [key, value] : body.members()) SetPlain(key, value);
    // Modifiers after plain keys, so {"tags": [...], "tags+": "x"} means "set, then append".
    for (Op op : {Op::kPrepend, Op::kAppend, Op::kSubtract}) {
      for (const auto& [key, value] : body.members()) SetModified(key, value, op);
    }
    if (creating_ && options_.autogenerate) {
      for (std::size_t i = 0; i < c_.fields.size(); ++i) {
        const Field& field = c_.fields[i];
        if (field.type == FieldType::kText && !field.autogenerate_pattern.empty() &&
            IsZeroValue(record_.values[i])) {
          record_.values[i] = JsonValue::String(options_.autogenerate(field));
        }
      }
    }
    for (std::size_t i = 0; i < c_.fields.size(); ++i) {
      const Field& field = c_.fields[i];
      if (field.type != FieldType::kAutodate) continue;
      if ((creating_ && field.on_create) || (!creating_ && field.on_update)) {
        record_.values[i] = JsonValue::String(options_.now.ToApiString());
      }
    }
  }

  Result<void> Validate() {
    for (std::size_t i = 0; i < c_.fields.size(); ++i) {
      // A NUL character has no place in text, and PostgreSQL cannot store one in a text
      // column: refused the same way whatever the store (json values keep theirs, escaped).
      if (c_.fields[i].type != FieldType::kJson && HoldsNul(record_.values[i])) {
        AddError(c_.fields[i], "validation_invalid_value", "Must not contain NUL characters.");
        continue;
      }
      ValidateField(c_.fields[i], record_.values[i]);
    }
    if (errors_.empty()) return {};
    return Fail(Error::Fields(std::move(errors_)));
  }

 private:
  enum class Op { kPrepend, kAppend, kSubtract };

  static bool HoldsNul(const JsonValue& value) noexcept {
    if (value.type() == JsonValue::Type::kString) {
      return value.AsString().find('\0') != std::string::npos;
    }
    if (value.type() == JsonValue::Type::kArray) {
      for (const auto& item : value.items()) {
        if (HoldsNul(item)) return true;
      }
    }
    return false;
  }

  void AddError(const Field& field, std::string_view code, std::string message) {
    for (const auto& existing : errors_) {
      if (existing.field == field.name) return;
    }
    errors_.push_back(FieldError{field.name, std::string(code), std::move(message)});
  }

  /// A form's repeated key arrives as an array; a single-valued field takes its last value.
  const JsonValue& Scalar(const Field& field, const JsonValue& raw) const {
    static const JsonValue kNull;
    if (options_.format == InputFormat::kForm && raw.type() == JsonValue::Type::kArray &&
        IsScalarType(field.type)) {
      return raw.items().empty() ? kNull : raw.items().back();
    }
    return raw;
  }

  JsonValue Coerce(const Field& field, const JsonValue& raw) const {
    const JsonValue& value = Scalar(field, raw);
    switch (field.type) {
      case FieldType::kNumber: return MakeNumber(CastNumber(value));
      case FieldType::kBool: return JsonValue::Bool(CastBool(value));
      case FieldType::kDate: return CastDate(value);
      case FieldType::kSelect:
      case FieldType::kRelation:
      case FieldType::kFile: return MakeList(field, CastStringList(value, options_));
      case FieldType::kJson:
        if (value.type() == JsonValue::Type::kString)
          return NormalizeJsonString(value.AsString(), options_);
        return value;
      default: return JsonValue::String(CastString(value));
    }
  }

  void SetPlain(const std::string& key, const JsonValue& raw) {
    auto index = c_.FieldIndex(key);
    if (!index) return;
    const Field& field = c_.fields[*index];
    if (field.type == FieldType::kAutodate || field.type == FieldType::kPassword) return;
    if (field.primary_key) {
      std::string id = CastString(Scalar(field, raw));
      if (creating_) {
        record_.values[*index] = JsonValue::String(std::move(id));
      } else if (id != CastString(original_.values[*index])) {
        AddError(field, "validation_pk_change", "The record primary key cannot be changed.");
      }
      return;
    }
    record_.values[*index] = Coerce(field, raw);
  }

  void SetModified(const std::string& key, const JsonValue& raw, Op op) {
    std::string_view name = key;
    if (op == Op::kPrepend) {
      if (name.empty() || name.front() != '+') return;
      name.remove_prefix(1);
    } else {
      const char suffix = op == Op::kAppend ? '+' : '-';
      if (name.empty() || name.back() != suffix) return;
      name.remove_suffix(1);
    }
    auto index = c_.FieldIndex(name);
    if (!index) return;
    const Field& field = c_.fields[*index];
    JsonValue& current = record_.values[*index];
    if (field.type == FieldType::kNumber) {
      if (op == Op::kPrepend) return;
      const double delta = CastNumber(Scalar(field, raw));
      const double base = current.type() == JsonValue::Type::kNumber ? current.AsDouble() : 0;
      current = MakeNumber(op == Op::kAppend ? base + delta : base - delta);
      return;
    }
    if (!IsListType(field.type)) return;
    std::vector<std::string> items = ListOf(current);
    std::vector<std::string> given = CastStringList(raw, options_);
    if (op == Op::kPrepend) {
      given.insert(given.end(), items.begin(), items.end());
      items = std::move(given);
    } else if (op == Op::kAppend) {
      items.insert(items.end(), given.begin(), given.end());
    } else {
      std::vector<std::string> kept;
      for (auto& item : items) {
        bool removed = false;
        for (const auto& g : given) removed = removed || g == item;
        if (!removed) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    current = MakeList(field, std::move(items));
  }

  void ValidateField(const Field& field, const JsonValue& value) {
    switch (field.type) {
      case FieldType::kText: ValidateText(field, value); break;
      case FieldType::kEditor: {
        const std::string& text = value.AsString();
        if (field.required && text.empty())
          return AddError(field, kRequired, std::string(kRequiredMessage));
        const std::int64_t max = field.max_size > 0 ? field.max_size : kDefaultEditorFieldMaxSize;
        if (static_cast<std::int64_t>(text.size()) > max) {
          AddError(field, "validation_content_size_limit",
                   "The maximum allowed content size is " + std::to_string(max) + " bytes.");
        }
        break;
      }
      case FieldType::kNumber: ValidateNumber(field, value); break;
      case FieldType::kBool:
        if (field.required && !value.AsBool())
          AddError(field, kRequired, std::string(kRequiredMessage));
        break;
      case FieldType::kEmail: ValidateEmail(field, value.AsString()); break;
      case FieldType::kUrl: ValidateUrl(field, value.AsString()); break;
      case FieldType::kDate: ValidateDate(field, value.AsString()); break;
      case FieldType::kSelect: ValidateSelect(field, ListOf(value)); break;
      case FieldType::kRelation: ValidateRelation(field, ListOf(value)); break;
      case FieldType::kFile: ValidateFile(field, ListOf(value)); break;
      case FieldType::kJson: {
        const std::int64_t max = field.max_size > 0 ? field.max_size : kDefaultJsonFieldMaxSize;
        if (static_cast<std::int64_t>(JsonSize(value)) > max) {
          return AddError(field, "validation_json_size_limit",
                          "The maximum allowed JSON size is " + std::to_string(max) + " bytes.");
        }
        if (field.required && IsEmptyJson(value))
          AddError(field, kRequired, std::string(kRequiredMessage));
        break;
      }
      case FieldType::kAutodate:
      case FieldType::kPassword: break;
    }
  }

  void ValidateText(const Field& field, const JsonValue& value) {
    const std::string& text = value.AsString();
    if (field.primary_key) {
      if (!creating_) return;  // the stored id is never revalidated (it cannot change)
      if (text.find_first_of("/\\") != std::string::npos) {
        return AddError(field, "validation_pk_forbidden",
                        "The record primary key contains forbidden characters.");
      }
    }
    if ((field.required || field.primary_key) && text.empty()) {
      return AddError(field, kRequired, std::string(kRequiredMessage));
    }
    if (text.empty()) return;
    const std::int64_t length = CharacterCount(text);
    const auto min = static_cast<std::int64_t>(field.min.value_or(0));
    if (min > 0 && length < min) {
      return AddError(field, "validation_min_text_constraint",
                      "Must be at least " + std::to_string(min) + " character(s).");
    }
    auto max = static_cast<std::int64_t>(field.max.value_or(0));
    if (max <= 0) max = kDefaultTextFieldMax;
    if (length > max) {
      return AddError(field, "validation_max_text_constraint",
                      "Must be no more than " + std::to_string(max) + " character(s).");
    }
    if (!field.pattern.empty() && !Matches(field.pattern, text)) {
      AddError(field, "validation_invalid_format", "Invalid value format.");
    }
  }

  static bool Matches(const std::string& pattern, const std::string& text) {
    // Compiling a pattern costs far more than matching it (a third of a record create's work
    // for the id field's pattern): each thread keeps the patterns it compiled, a handful per
    // schema, forgotten all at once should a thread meet an unusual number of them.
    constexpr std::size_t kMaxCompiled = 64;
    thread_local std::unordered_map<std::string, std::regex> compiled_patterns;
    try {
      auto found = compiled_patterns.find(pattern);
      if (found == compiled_patterns.end()) {
        if (compiled_patterns.size() >= kMaxCompiled) compiled_patterns.clear();
        found = compiled_patterns.emplace(pattern, std::regex(pattern, std::regex::ECMAScript))
                    .first;
      }
      return std::regex_search(text, found->second);
    } catch (const std::regex_error&) {
      // A pattern that does not compile was refused by ValidateCollection; one that slipped
      // through (an old definition) or a match that exhausts regex's resources fails closed.
      return false;
    }
  }

  void ValidateNumber(const Field& field, const JsonValue& value) {
    const double number = value.AsDouble();
    if (!std::isfinite(number)) {
      return AddError(field, "validation_not_a_number",
                      "The submitted number is not properly formatted.");
    }
    if (number == 0) {
      if (field.required) AddError(field, kRequired, std::string(kRequiredMessage));
      return;
    }
    if (field.only_int && std::trunc(number) != number) {
      return AddError(field, "validation_only_int_constraint", "Decimal numbers are not allowed.");
    }
    if (field.min && number < *field.min) {
      return AddError(field, "validation_min_number_constraint",
                      "Must be larger than " + FormatGoF(*field.min) + ".");
    }
    if (field.max && number > *field.max) {
      AddError(field, "validation_max_number_constraint",
               "Must be less than " + FormatGoF(*field.max) + ".");
    }
  }

  void ValidateEmail(const Field& field, const std::string& text) {
    if (text.empty()) {
      if (field.required) AddError(field, kRequired, std::string(kRequiredMessage));
      return;
    }
    if (!Email::Parse(text))
      return AddError(field, "validation_is_email", "Must be a valid email address.");
    const std::string domain = text.substr(text.rfind('@') + 1);
    if ((!field.only_domains.empty() && !DomainListed(field.only_domains, domain)) ||
        (!field.except_domains.empty() && DomainListed(field.except_domains, domain))) {
      AddError(field, "validation_email_domain_not_allowed", "Email domain is not allowed.");
    }
  }

  void ValidateUrl(const Field& field, const std::string& text) {
    if (text.empty()) {
      if (field.required) AddError(field, kRequired, std::string(kRequiredMessage));
      return;
    }
    auto host = UrlHost(text);
    if (!host) return AddError(field, "validation_invalid_url", "Must be a valid url.");
    if ((!field.only_domains.empty() && !DomainListed(field.only_domains, *host)) ||
        (!field.except_domains.empty() && DomainListed(field.except_domains, *host))) {
      AddError(field, "validation_url_domain_not_allowed", "Url domain is not allowed.");
    }
  }

  void ValidateDate(const Field& field, const std::string& text) {
    if (text.empty()) {
      if (field.required) AddError(field, kRequired, std::string(kRequiredMessage));
      return;
    }
    auto value = Timestamp::Parse(text);
    if (!value) return;  // canonical by construction; an unparsable stored value is left alone
    if (!field.min_date.empty()) {
      if (auto min = Timestamp::Parse(field.min_date); min && *value < *min) {
        return AddError(field, "validation_min_greater_equal_than_required",
                        "Must be no less than " + FormatGoTime(*min) + ".");
      }
    }
    if (!field.max_date.empty()) {
      if (auto max = Timestamp::Parse(field.max_date); max && *value > *max) {
        AddError(field, "validation_max_less_equal_than_required",
                 "Must be no greater than " + FormatGoTime(*max) + ".");
      }
    }
  }

  void ValidateSelect(const Field& field, const std::vector<std::string>& items) {
    if (items.empty()) {
      if (field.required) AddError(field, kRequired, std::string(kRequiredMessage));
      return;
    }
    const std::int64_t max = std::max<std::int64_t>(field.max_select, 1);
    if (static_cast<std::int64_t>(items.size()) > max) {
      return AddError(field, "validation_too_many_values",
                      "Select no more than " + std::to_string(max) + ".");
    }
    for (const auto& item : items) {
      bool allowed = false;
      for (const auto& v : field.values) allowed = allowed || v == item;
      if (!allowed)
        return AddError(field, "validation_invalid_value", "Invalid value " + item + ".");
    }
  }

  void ValidateRelation(const Field& field, const std::vector<std::string>& ids) {
    if (ids.empty()) {
      if (field.required) AddError(field, kRequired, std::string(kRequiredMessage));
      return;
    }
    if (field.min_select > 0 && static_cast<std::int64_t>(ids.size()) < field.min_select) {
      return AddError(field, "validation_not_enough_values",
                      "Select at least " + std::to_string(field.min_select) + ".");
    }
    const std::int64_t max = std::max<std::int64_t>(field.max_select, 1);
    if (static_cast<std::int64_t>(ids.size()) > max) {
      return AddError(field, "validation_too_many_values",
                      "Select no more than " + std::to_string(max) + ".");
    }
    for (const auto& id : ids) {
      if (!IsPlausibleRecordId(id)) {
        return AddError(field, "validation_missing_rel_records",
                        "Failed to find all relation records with the provided ids.");
      }
    }
  }

  void ValidateFile(const Field& field, const std::vector<std::string>& names) {
    if (names.empty()) {
      if (field.required) AddError(field, kRequired, std::string(kRequiredMessage));
      return;
    }
    const std::vector<std::string> stored = ListOf(*original_.Get(c_, field.name));
    std::vector<std::string> invalid;
    for (const auto& name : names) {
      bool known = false;
      for (const auto& s : stored) known = known || s == name;
      for (const auto& n : options_.new_file_names) known = known || n == name;
      if (!known) invalid.push_back(name.size() > 250 ? name.substr(0, 250) : name);
    }
    if (!invalid.empty()) {
      std::string list;
      for (const auto& name : invalid) list += (list.empty() ? "" : " ") + name;
      return AddError(field, "validation_invalid_file", "Invalid new files: [" + list + "].");
    }
    const std::int64_t max = std::max<std::int64_t>(field.max_select, 1);
    if (static_cast<std::int64_t>(names.size()) > max) {
      AddError(field, "validation_too_many_files",
               "The maximum allowed files is " + std::to_string(max) + ".");
    }
  }

  const Collection& c_;
  Record& record_;
  const Record& original_;
  bool creating_;
  const RecordInputOptions& options_;
  std::vector<FieldError> errors_;
};

}  // namespace

std::optional<std::string> NormalizeDateInput(std::string_view text) {
  auto parsed = ParseFlexibleDate(text);
  if (!parsed) return std::nullopt;
  return parsed->ToApiString();
}

Result<Record> ApplyRecordInput(const Collection& c, Record base, const JsonValue& body,
                                bool creating, const RecordInputOptions& options) {
  if (base.values.size() != c.fields.size()) {
    return Fail(Error::Internal("record has " + std::to_string(base.values.size()) +
                                " values for the " + std::to_string(c.fields.size()) +
                                " fields of collection " + c.name));
  }
  if (!body.IsObject()) {
    return Fail(ErrorCode::kInvalidArgument, "The request body must be a JSON object.");
  }
  const Record original = base;
  RecordInput input(c, base, original, creating, options);
  input.Apply(body);
  if (auto valid = input.Validate(); !valid) return std::unexpected(std::move(valid.error()));
  return base;
}

}  // namespace socle::domain
