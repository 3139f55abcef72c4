#pragma once

// Reading one text field of an auth record (a superuser's id and e-mail) in the HTTP adapter,
// where signed-in records are described to clients. Private to the adapter.

#include <string>
#include <string_view>

#include "socle/domain/collection.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/record.hpp"

namespace socle::adapters::http {

/// The text value of `record`'s field `name`; "" when the collection has no such field or the
/// value is not text.
inline std::string RecordText(const domain::Collection& collection, const domain::Record& record,
                              std::string_view name) {
  const auto index = collection.FieldIndex(name);
  if (!index || *index >= record.values.size() ||
      record.values[*index].type() != domain::JsonValue::Type::kString) {
    return {};
  }
  return record.values[*index].AsString();
}

}  // namespace socle::adapters::http
