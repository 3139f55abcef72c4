#include "socle/domain/schema_diff.hpp"

#include <algorithm>

namespace socle::domain {
namespace {

const CollectionIndex* FindIndex(const Collection& c, std::string_view name) noexcept {
  for (const auto& index : c.indexes) {
    if (index.name == name) return &index;
  }
  return nullptr;
}

bool StorageChanged(const Field& before, const Field& after) noexcept {
  return before.type != after.type || before.IsMultiple() != after.IsMultiple();
}

// Whether a column of `before`'s index loses its meaning in the migration: its field is removed,
// renamed or retyped. Such an index is dropped before the column changes and recreated after,
// because SQLite refuses to drop or rebuild an indexed column and PostgreSQL would silently drop
// the index with the column.
bool TouchesChangedColumn(const CollectionIndex& index, const Collection& before,
                          const Collection& after) noexcept {
  std::vector<std::string_view> names;
  for (const auto& column : index.columns) names.push_back(column.field);
  for (const auto& column : index.where_not_empty) names.push_back(column);
  for (std::string_view name : names) {
    const Field* old_field = before.FindField(name);
    if (old_field == nullptr) return true;
    const Field* new_field = after.FindFieldById(old_field->id);
    if (new_field == nullptr || new_field->name != old_field->name ||
        StorageChanged(*old_field, *new_field)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool CollectionDiff::Empty() const noexcept {
  return !renamed_from && dropped_indexes.empty() && removed_fields.empty() &&
         renamed_fields.empty() && retyped_fields.empty() && added_fields.empty() &&
         created_indexes.empty();
}

CollectionDiff DiffCollections(const Collection& before, const Collection& after) {
  CollectionDiff diff;
  const bool table_renamed = before.name != after.name;
  if (table_renamed) diff.renamed_from = before.name;

  for (const auto& old_field : before.fields) {
    if (after.FindFieldById(old_field.id) == nullptr) diff.removed_fields.push_back(&old_field);
  }
  for (const auto& new_field : after.fields) {
    const Field* old_field = before.FindFieldById(new_field.id);
    if (old_field == nullptr) {
      diff.added_fields.push_back(&new_field);
      continue;
    }
    if (old_field->name != new_field.name) diff.renamed_fields.push_back({old_field, &new_field});
    if (StorageChanged(*old_field, new_field))
      diff.retyped_fields.push_back({old_field, &new_field});
  }

  // Indexes of `before` that do not survive unchanged are dropped first; indexes of `after`
  // that are new or changed are created last, once every column exists with its final name.
  for (const auto& old_index : before.indexes) {
    const CollectionIndex* new_index = FindIndex(after, old_index.name);
    if (table_renamed || new_index == nullptr || !(*new_index == old_index) ||
        TouchesChangedColumn(old_index, before, after)) {
      diff.dropped_indexes.push_back(&old_index);
    }
  }
  for (const auto& new_index : after.indexes) {
    const CollectionIndex* old_index = FindIndex(before, new_index.name);
    const bool dropped =
        old_index != nullptr && std::find(diff.dropped_indexes.begin(), diff.dropped_indexes.end(),
                                          old_index) != diff.dropped_indexes.end();
    if (old_index == nullptr || dropped) diff.created_indexes.push_back(&new_index);
  }
  return diff;
}

StorageClass StorageClassOf(const Field& field) noexcept {
  switch (field.type) {
    case FieldType::kNumber: return StorageClass::kNumber;
    case FieldType::kBool: return StorageClass::kBool;
    case FieldType::kDate:
    case FieldType::kAutodate: return StorageClass::kDate;
    case FieldType::kJson: return StorageClass::kJson;
    case FieldType::kSelect:
    case FieldType::kRelation:
    case FieldType::kFile:
      return field.IsMultiple() ? StorageClass::kTextArray : StorageClass::kText;
    case FieldType::kText:
    case FieldType::kEditor:
    case FieldType::kEmail:
    case FieldType::kUrl:
    case FieldType::kPassword: return StorageClass::kText;
  }
  return StorageClass::kText;
}

}  // namespace socle::domain
