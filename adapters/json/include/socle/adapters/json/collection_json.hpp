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
/// convertURLs, cost).
void WriteCollection(JsonWriter& w, const domain::Collection& collection);

/// Reads one collection from PocketBase's JSON shape. Lenient where PocketBase is (absent
/// options take their defaults, unknown members are ignored, as PocketBase's own exports carry
/// members Socle has no use for), strict on types: invalid_argument with field errors keyed
/// as PocketBase keys them ("name", "fields.2.maxSelect", "indexes.0"). Does not validate the
/// definition as a whole (see domain/collection_validation.hpp); missing system fields are not
/// added here.
domain::Result<domain::Collection> ReadCollection(const domain::JsonValue& json);

/// Reads an array of collections (an import file); errors keyed "collections.N.<field>".
domain::Result<std::vector<domain::Collection>> ReadCollections(const domain::JsonValue& json);

}  // namespace socle::adapters::json
