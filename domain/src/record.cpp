#include "socle/domain/record.hpp"

#include <cstddef>

namespace socle::domain {
namespace {

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

const JsonValue* Record::Get(const Collection& collection, std::string_view name) const noexcept {
  auto index = collection.FieldIndex(name);
  if (!index || *index >= values.size()) return nullptr;
  return &values[*index];
}

const std::string& Record::Id(const Collection& collection) const {
  static const std::string kNone;
  const JsonValue* id = Get(collection, "id");
  return id != nullptr ? id->AsString() : kNone;
}

JsonValue ZeroValue(const Field& field) {
  switch (field.type) {
    case FieldType::kNumber: return JsonValue::Integer(0);
    case FieldType::kBool: return JsonValue::Bool(false);
    case FieldType::kJson: return JsonValue::Null();
    default:
      if (field.IsMultiple()) return JsonValue::Array({});
      return JsonValue::String("");
  }
}

bool IsZeroValue(const JsonValue& value) noexcept {
  switch (value.type()) {
    case JsonValue::Type::kNull: return true;
    case JsonValue::Type::kBool: return !value.AsBool();
    case JsonValue::Type::kNumber: return value.AsDouble() == 0;
    case JsonValue::Type::kString: return value.AsString().empty();
    case JsonValue::Type::kArray: return value.items().empty();
    case JsonValue::Type::kObject: return value.members().empty();
  }
  return false;
}

Record EmptyRecord(const Collection& collection) {
  Record record;
  record.values.reserve(collection.fields.size());
  for (const auto& field : collection.fields) record.values.push_back(ZeroValue(field));
  return record;
}

const Collection* ProjectSchema::Find(std::string_view id_or_name) const noexcept {
  if (const Collection* by_id = FindById(id_or_name)) return by_id;
  for (const auto& collection : collections) {
    if (EqualsIgnoringAsciiCase(collection.name, id_or_name)) return &collection;
  }
  return nullptr;
}

const Collection* ProjectSchema::FindById(std::string_view id) const noexcept {
  for (const auto& collection : collections) {
    if (collection.id == id) return &collection;
  }
  return nullptr;
}

}  // namespace socle::domain
