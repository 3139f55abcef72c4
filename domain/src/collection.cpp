#include "socle/domain/collection.hpp"

#include <array>
#include <utility>

namespace socle::domain {
namespace {

constexpr std::array<std::pair<CollectionType, std::string_view>, 3> kCollectionTypes{{
    {CollectionType::kBase, "base"},
    {CollectionType::kAuth, "auth"},
    {CollectionType::kView, "view"},
}};

constexpr std::array<std::pair<FieldType, std::string_view>, 13> kFieldTypes{{
    {FieldType::kText, "text"},
    {FieldType::kEditor, "editor"},
    {FieldType::kNumber, "number"},
    {FieldType::kBool, "bool"},
    {FieldType::kEmail, "email"},
    {FieldType::kUrl, "url"},
    {FieldType::kDate, "date"},
    {FieldType::kAutodate, "autodate"},
    {FieldType::kSelect, "select"},
    {FieldType::kJson, "json"},
    {FieldType::kRelation, "relation"},
    {FieldType::kFile, "file"},
    {FieldType::kPassword, "password"},
}};

}  // namespace

std::string_view ToString(CollectionType type) noexcept {
  for (const auto& [value, name] : kCollectionTypes) {
    if (value == type) return name;
  }
  return "base";
}

std::optional<CollectionType> ParseCollectionType(std::string_view text) noexcept {
  for (const auto& [value, name] : kCollectionTypes) {
    if (name == text) return value;
  }
  return std::nullopt;
}

std::string_view ToString(FieldType type) noexcept {
  for (const auto& [value, name] : kFieldTypes) {
    if (value == type) return name;
  }
  return "text";
}

std::optional<FieldType> ParseFieldType(std::string_view text) noexcept {
  for (const auto& [value, name] : kFieldTypes) {
    if (name == text) return value;
  }
  return std::nullopt;
}

bool Field::IsMultiple() const noexcept {
  switch (type) {
    case FieldType::kSelect:
    case FieldType::kRelation:
    case FieldType::kFile: return max_select > 1;
    default: return false;
  }
}

const Field* Collection::FindField(std::string_view field_name) const noexcept {
  for (const auto& field : fields) {
    if (field.name == field_name) return &field;
  }
  return nullptr;
}

std::optional<std::size_t> Collection::FieldIndex(std::string_view field_name) const noexcept {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return i;
  }
  return std::nullopt;
}

const Field* Collection::FindFieldById(std::string_view field_id) const noexcept {
  for (const auto& field : fields) {
    if (field.id == field_id) return &field;
  }
  return nullptr;
}

std::vector<Field> SystemFields() {
  Field id;
  id.id = "text3208210256";
  id.name = "id";
  id.type = FieldType::kText;
  id.system = true;
  id.required = true;
  id.primary_key = true;
  id.min = 15;
  id.max = 15;
  id.pattern = "^[a-z0-9]+$";
  id.autogenerate_pattern = "[a-z0-9]{15}";

  Field created;
  created.id = "autodate2990389176";
  created.name = "created";
  created.type = FieldType::kAutodate;
  created.system = true;
  created.on_create = true;

  Field updated;
  updated.id = "autodate3332085495";
  updated.name = "updated";
  updated.type = FieldType::kAutodate;
  updated.system = true;
  updated.on_create = true;
  updated.on_update = true;

  return {std::move(id), std::move(created), std::move(updated)};
}

}  // namespace socle::domain
