#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/collection.hpp"
#include "socle/domain/json_value.hpp"

namespace socle::domain {

/// One record of a collection: a value per field, aligned with Collection::fields (values[i]
/// belongs to fields[i]). The in-memory form is canonical and identical whatever the store:
///
/// | field type                                 | value                                          |
/// |--------------------------------------------|------------------------------------------------|
/// | text, editor, email, url, password         | string ("" when empty)                         |
/// | select, relation, file with max_select ≤ 1 | string ("" when empty)                         |
/// | select, relation, file with max_select > 1 | array of strings ([] when empty), no repeats   |
/// | number                                     | number (an integer value is held as Integer)   |
/// | bool                                       | bool                                           |
/// | date, autodate                             | string "YYYY-MM-DD HH:MM:SS.mmmZ" ("" if unset)|
/// | json                                       | any value (null when empty)                    |
struct Record {
  std::vector<JsonValue> values;

  /// The value of the field named `name` of `collection`, or nullptr when there is none.
  /// Precondition: the record was built for `collection`.
  const JsonValue* Get(const Collection& collection, std::string_view name) const noexcept;
  /// The id (values of the "id" field). Precondition: the record was built for a collection.
  const std::string& Id(const Collection& collection) const;

  friend bool operator==(const Record&, const Record&) = default;
};

/// The zero value of a field's type (see the table above).
JsonValue ZeroValue(const Field& field);
/// Whether `value` is the zero value of its type: "", [], null, 0 or false. A required field
/// must not hold one (PocketBase's rule, false and 0 included).
bool IsZeroValue(const JsonValue& value) noexcept;

/// A record made of every field's zero value.
Record EmptyRecord(const Collection& collection);

/// All collections of one project, as loaded from its store: an immutable snapshot shared by
/// the requests that use it and replaced as a whole when the schema changes.
struct ProjectSchema {
  std::vector<Collection> collections;
  /// Incremented by every applied schema change; 0 for a project without collections.
  std::int64_t version = 0;

  /// The collection whose id equals `id_or_name`, else whose name equals it case-insensitively
  /// (PocketBase's lookup), or nullptr.
  const Collection* Find(std::string_view id_or_name) const noexcept;
  const Collection* FindById(std::string_view id) const noexcept;
};

using SchemaPtr = std::shared_ptr<const ProjectSchema>;

}  // namespace socle::domain
