#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace socle::domain {

/// A JSON value owned by Socle's own types: request bodies once parsed (so that handlers never
/// see the parser's types), record field values, and the request data rules read. Objects keep
/// their members in document order, duplicates included:
/// whether a duplicate key is acceptable is the request validator's decision, not the parser's.
class JsonValue final {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;
  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool value);
  /// A number that fits std::int64_t exactly.
  static JsonValue Integer(std::int64_t value);
  /// Any other number (fractions, exponents, integers beyond int64).
  static JsonValue Number(double value);
  static JsonValue String(std::string value);
  static JsonValue Array(std::vector<JsonValue> items);
  static JsonValue Object(std::vector<Member> members);

  Type type() const noexcept { return type_; }
  bool IsNull() const noexcept { return type_ == Type::kNull; }
  bool IsObject() const noexcept { return type_ == Type::kObject; }

  /// Preconditions: the matching type().
  bool AsBool() const noexcept { return bool_; }
  double AsDouble() const noexcept { return number_; }
  const std::string& AsString() const noexcept { return string_; }
  const std::vector<JsonValue>& items() const noexcept { return items_; }
  const std::vector<Member>& members() const noexcept { return members_; }
  /// The exact integer when this is a number that is one and fits std::int64_t.
  std::optional<std::int64_t> AsInt64() const noexcept { return integer_; }

  /// The first member named `key`, or nullptr (also when this is not an object).
  const JsonValue* Find(std::string_view key) const noexcept;

  /// Deep equality; numbers compare by value (an integer equals the same double).
  friend bool operator==(const JsonValue& a, const JsonValue& b) noexcept;

  /// The name of a type as API error messages spell it ("string", "object" ...).
  static std::string_view TypeName(Type type) noexcept;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::optional<std::int64_t> integer_;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<Member> members_;
};

}  // namespace socle::domain
