#pragma once

#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/page.hpp"

namespace socle::adapters::json {

// The two list envelopes of the API's documents, shared by the writers of this library so that
// every list is framed alike.

/// PocketBase's paged list {page, perPage, totalItems, totalPages, items: [...]}, each item
/// written by `write_item(w, item)`.
template <typename T, typename WriteItem>
void WritePage(JsonWriter& w, const domain::PageOf<T>& page, WriteItem write_item) {
  w.BeginObject();
  w.Key("page").Int(page.page);
  w.Key("perPage").Int(page.per_page);
  w.Key("totalItems").Int(page.total_items);
  w.Key("totalPages").Int(page.TotalPages());
  w.Key("items").BeginArray();
  for (const auto& item : page.items) write_item(w, item);
  w.EndArray();
  w.EndObject();
}

/// {items: [...]}: the envelope of lists short enough never to be paged (regions, an
/// organisation's teams, roles, policies, flags, keys).
template <typename Items, typename WriteItem>
void WriteItems(JsonWriter& w, const Items& items, WriteItem write_item) {
  w.BeginObject();
  w.Key("items").BeginArray();
  for (const auto& item : items) write_item(w, item);
  w.EndArray();
  w.EndObject();
}

}  // namespace socle::adapters::json
