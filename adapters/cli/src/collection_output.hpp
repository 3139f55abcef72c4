#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "socle/application/manage_collections.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/collection.hpp"

namespace socle::adapters::cli {

// What the `collection` commands print. JSON documents use PocketBase's collection shape (the
// one the data API and the stores use, written by socle_adapter_json), so that an export can be
// imported back, into Socle or into PocketBase.

/// One collection: {id, name, type, system, listRule ..., fields, indexes, created, updated}.
std::string CollectionJson(const domain::Collection& collection);
/// {items: [collection, ...]}, in the order given.
std::string CollectionListJson(const std::vector<domain::Collection>& collections);
/// The export document: a JSON array of collections, one per line so that an export kept under
/// version control diffs collection by collection. Ends with a newline.
std::string CollectionExportJson(const std::vector<domain::Collection>& collections);
/// {created: [names], updated: [names], deleted: [names]}
std::string ImportReportJson(const application::ImportReport& report);
/// {items: [{version, at, actor, action, collection, before, after}]}: action is "create",
/// "update" or "delete"; before/after are the definitions (null for the side that is absent).
std::string HistoryJson(const std::vector<application::SchemaHistoryEntry>& history);
/// {id, name, deleted: true} (the HTTP API answers deletes with no body).
std::string CollectionDeletedJson(const domain::Collection& collection);

/// How a rule reads to a person: "(superusers only)" for null, "(everyone)" for "", else the
/// filter itself.
std::string RuleText(const std::optional<std::string>& rule);

/// The options a field sets beyond its name, type and required flag, as one short line
/// ("values draft, live; up to 2"). `all` names the targets of relation fields.
std::string FieldOptionsText(const domain::Field& field,
                             const std::vector<domain::Collection>& all);

/// "key: value" lines, then a table of the fields and one of the indexes. `all` (the project's
/// collections) names the targets of relation fields.
void PrintCollection(std::ostream& out, const domain::Collection& collection,
                     const std::vector<domain::Collection>& all);

/// "created", "updated" or "deleted", and the collection's name as the entry shows it
/// ("posts", or "posts -> articles" for a rename).
std::string HistoryAction(const application::SchemaHistoryEntry& entry);
std::string HistoryCollection(const application::SchemaHistoryEntry& entry);

}  // namespace socle::adapters::cli
