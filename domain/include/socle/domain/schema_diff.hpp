#pragma once

#include <optional>
#include <string>
#include <vector>

#include "socle/domain/collection.hpp"

namespace socle::domain {

/// What changed between two definitions of one collection, field by field (matched by id), as
/// the steps a store applies in this order: rename the table, drop removed indexes, drop
/// removed fields, rename fields, change types, add fields, create added indexes. Pure: every
/// store adapter derives its DDL from it, so all stores change the same way.
struct CollectionDiff {
  struct Renamed {
    const Field* before;
    const Field* after;
  };
  struct Retyped {
    const Field* before;  ///< storage differs: type, or single ↔ multiple
    const Field* after;
  };
  std::optional<std::string> renamed_from;   ///< the old table name when the name changed
  std::vector<const CollectionIndex*> dropped_indexes;  ///< of `before` (changed ones too)
  std::vector<const Field*> removed_fields;             ///< of `before`
  std::vector<Renamed> renamed_fields;
  std::vector<Retyped> retyped_fields;                  ///< after renames: named as in `after`
  std::vector<const Field*> added_fields;               ///< of `after`
  std::vector<const CollectionIndex*> created_indexes;  ///< of `after` (changed ones too)

  bool Empty() const noexcept;
};

/// The diff from `before` to `after`; pointers point into the two arguments, which must outlive
/// the result. Fields are matched by id: a field of `before` whose id is gone is removed, a
/// field of `after` with a new id is added (even when it reuses a removed field's name), a
/// matched field whose name changed is renamed, and one whose type or single/multiple state
/// changed is retyped (see StorageClassOf; ValidateCollection decides which changes are
/// allowed). Indexes are matched by name and recreated when their definition changed, when one
/// of their columns is removed, renamed or retyped (SQLite cannot drop or rebuild an indexed
/// column, PostgreSQL would drop the index with it), or when the table was renamed.
CollectionDiff DiffCollections(const Collection& before, const Collection& after);

/// Whether a store's column for `field` holds an array (multiple select/relation/file).
/// Stores choose column types from (type, IsMultiple()) only; this states the pair's class.
enum class StorageClass { kText, kNumber, kBool, kDate, kJson, kTextArray };
StorageClass StorageClassOf(const Field& field) noexcept;

}  // namespace socle::domain
