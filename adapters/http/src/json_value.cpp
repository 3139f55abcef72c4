#include "socle/adapters/http/json_value.hpp"

#include "socle/adapters/json/json_writer.hpp"

namespace socle::adapters::http {

using json::JsonWriter;

JsonValue JsonValue::Bool(bool value) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = value;
  return v;
}

JsonValue JsonValue::Integer(std::int64_t value) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.number_ = static_cast<double>(value);
  v.integer_ = value;
  return v;
}

JsonValue JsonValue::Number(double value) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.number_ = value;
  return v;
}

JsonValue JsonValue::String(std::string value) {
  JsonValue v;
  v.type_ = Type::kString;
  v.string_ = std::move(value);
  return v;
}

JsonValue JsonValue::Array(std::vector<JsonValue> items) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}

JsonValue JsonValue::Object(std::vector<Member> members) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.members_ = std::move(members);
  return v;
}

const JsonValue* JsonValue::Find(std::string_view key) const noexcept {
  for (const auto& [name, value] : members_) {
    if (name == key) return &value;
  }
  return nullptr;
}

void JsonValue::WriteTo(JsonWriter& writer) const {
  switch (type_) {
    case Type::kNull: writer.Null(); return;
    case Type::kBool: writer.Bool(bool_); return;
    case Type::kNumber:
      if (integer_) {
        writer.Int(*integer_);
      } else {
        writer.Double(number_);
      }
      return;
    case Type::kString: writer.String(string_); return;
    case Type::kArray:
      writer.BeginArray();
      for (const auto& item : items_) item.WriteTo(writer);
      writer.EndArray();
      return;
    case Type::kObject:
      writer.BeginObject();
      for (const auto& [name, value] : members_) {
        writer.Key(name);
        value.WriteTo(writer);
      }
      writer.EndObject();
      return;
  }
}

std::string_view JsonValue::TypeName(Type type) noexcept {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "boolean";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
  }
  return "value";
}

}  // namespace socle::adapters::http
