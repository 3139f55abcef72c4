#pragma once

#include <vector>

#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/json_value.hpp"

namespace socle::adapters::json {

// Collections in PocketBase's (≥ 0.23) JSON shape, written and read once for every adapter:
// the HTTP API, the CLI's import/export, and the stores, which keep each collection's
// definition as this JSON.

/// {id, name, type, system, listRule, viewRule, createRule, updateRule, deleteRule, fields:
/// [{id, name, type, system, hidden, presentable, required, <the type's options>}], indexes:
/// ["CREATE INDEX ..."], created, updated} (+ viewQuery for views). Options are written for the
/// field's type only, with PocketBase's names (min, max, pattern, autogeneratePattern,
/// primaryKey, onlyInt, onlyDomains, exceptDomains, onCreate, onUpdate, values, maxSelect,
/// minSelect, maxSize, collectionId, cascadeDelete, mimeTypes, thumbs, protected,
/// convertURLs, cost). As in PocketBase, autodate fields carry no "required", text and password
/// min/max are integers (0 = unset), number min/max are numbers or null, date min/max are
/// strings ("" = unset), domain/value/mime lists are arrays (never null), and a zero
/// created/updated (the Unix epoch) is written as "".
void WriteCollection(JsonWriter& w, const domain::Collection& collection);

/// Reads one collection from PocketBase's JSON shape. Lenient where PocketBase is (absent
/// options take their defaults, unknown members are ignored, as PocketBase's own exports carry
/// members Socle has no use for), strict on types: invalid_argument with field errors keyed
/// as PocketBase keys them ("name", "fields.2.maxSelect", "indexes.0"). Does not validate the
/// definition as a whole (see domain/collection_validation.hpp); missing system fields are not
/// added here. PocketBase < 0.23 exports ("schema" instead of "fields", options nested under
/// "options", noDecimal/convertUrls, a view's query in options.query) are read too: their
/// implicit id/created/updated columns become SystemFields() (not for views), a null relation
/// maxSelect becomes 999 as PocketBase's 0.23 upgrade does, and errors are keyed
/// "schema.N.options.<name>". Auth options of either version are ignored (authentication work).
domain::Result<domain::Collection> ReadCollection(const domain::JsonValue& json);

/// Reads an array of collections (an import file); errors keyed "collections.N.<field>".
domain::Result<std::vector<domain::Collection>> ReadCollections(const domain::JsonValue& json);

}  // namespace socle::adapters::json
