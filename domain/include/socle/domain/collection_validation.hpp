#pragma once

#include <string_view>

#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/record.hpp"

namespace socle::domain {

/// Limits of identifiers that become table, column or index names: [A-Za-z_][A-Za-z0-9_]*, at
/// most 63 bytes (PostgreSQL truncates longer identifiers silently, so two long names could
/// collide).
inline constexpr std::size_t kMaxIdentifierLength = 63;
/// Collection ids: [A-Za-z0-9_]{1,64}.
inline constexpr std::size_t kMaxCollectionIdLength = 64;
/// Field ids: 1 to 100 bytes, as PocketBase allows (they never reach SQL).
inline constexpr std::size_t kMaxFieldIdLength = 100;
/// A text field with a pattern may not allow values longer than this many characters: std::regex
/// matches recursively, so its stack use grows with the input; this bound keeps it safe.
inline constexpr double kMaxPatternTextLength = 10000;

/// Whether `name` is [A-Za-z_][A-Za-z0-9_]* and at most 63 bytes.
bool IsValidIdentifier(std::string_view name) noexcept;

/// Whether a field may change from `from` to `to` on update with its values converted by the
/// store (see ValidateCollection). Same type is always convertible (including single ↔
/// multiple for select, relation and file).
bool IsConvertible(FieldType from, FieldType to) noexcept;

/// Checks a collection definition as a whole and collects every problem as a field error keyed
/// as PocketBase keys them ("name", "fields.3.name", "fields.3.maxSelect", "indexes.1"), with
/// PocketBase's codes and messages where PocketBase has the check. Returns invalid_argument
/// with all field errors, or nothing when the definition is valid.
///
/// `before` is the stored definition on update (nullptr on create); `schema` holds the
/// project's collections as they will be once the change is applied (for an import: the whole
/// imported set); a collection of `schema` with `c.id` is `c` itself (or its old version) and is
/// ignored. Rules (listRule ...) are not checked here: the filter resolver does that.
///
/// What is checked:
/// - id [A-Za-z0-9_]{1,64}, unchanged on update; name an identifier (see IsValidIdentifier),
///   not containing "_via_", not starting with '_' unless the collection is system, not one of
///   PocketBase's internal tables (_collections, _params, _migrations, _logs) nor _superusers (nor its id) nor a database's
///   reserved prefix (sqlite_, pg_), unique case-insensitively and different from every other
///   collection's id; a system collection keeps its name and the system flag never changes;
///   the type never changes.
/// - base and auth collections: the system fields id (text primary key), created (autodate on
///   create) and updated (autodate on create and update) are present with the options of
///   SystemFields(); on update no system field is removed, renamed or retyped. Auth
///   collections get the same rules as base ones: their own fields (email, password,
///   tokenKey ...) are checked by the authentication work, not here.
/// - view collections: view_query is not empty, field names are valid and unique, nothing else
///   (views are not executed yet, so their fields cannot be checked against a query).
/// - every field: id 1-100 bytes and unique; name an identifier, unique case-insensitively,
///   none of null, true, false, _rowid_, expand, collectionId, collectionName (nor
///   passwordConfirm, oldPassword in auth collections), not containing "_via_"; only "id" may
///   be a primary key; the options of its type (text min ≥ 0, max ≥ min, patterns compile;
///   number min ≤ max, integral with onlyInt; select values non-empty and unique, 0 ≤
///   maxSelect ≤ number of values; relation target existing (a collection of `schema` or `c`
///   itself), unchanged on update, not a view unless `c` is one, 0 ≤ minSelect ≤ maxSelect;
///   json/editor/file maxSize and file maxSelect ≥ 0; file thumbs WxH[t|b|f]; email/url
///   domains valid and not both lists; date min/max valid instants, min ≤ max; autodate on
///   create and/or on update).
/// - type changes on update: only where IsConvertible says so:
///
///   text-ish means text, editor, email or url.
///
///   | from                     | to                                                    |
///   |--------------------------|-------------------------------------------------------|
///   | text-ish                 | text-ish, number, bool, date, select, json            |
///   | number                   | text-ish, bool, json                                  |
///   | bool                     | text-ish, number, json                                |
///   | date, autodate           | text-ish, date, autodate, json                        |
///   | select, relation, file   | text-ish, json (and itself, single <-> multiple)      |
///   | json                     | text-ish                                              |
///   | password                 | nothing                                               |
///
///   Everything else (relation ↔ number, text → relation, anything → file ...) is refused with
///   "validation_field_type_change".
/// - indexes: none on views; each has a valid name unique case-insensitively within the
///   collection and the whole project, at least one column, columns naming fields of `c`, no
///   column twice, no two indexes with the same definition.
Result<void> ValidateCollection(const Collection& c, const Collection* before,
                                const ProjectSchema& schema);

}  // namespace socle::domain
