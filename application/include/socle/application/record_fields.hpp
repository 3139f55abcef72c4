#pragma once

// Small readers and writers of record values by field name, and string comparisons, shared by
// the use cases that keep their own records in a store (the platform's and the auth ones).
// Not part of any port: helpers of the use cases.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/filter/resolver.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/record.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application::internal {

/// The text value of field `name`, or "" when the field is missing or not text.
inline std::string Text(const domain::Collection& c, const domain::Record& r,
                        std::string_view name) {
  auto index = c.FieldIndex(name);
  if (!index || *index >= r.values.size() ||
      r.values[*index].type() != domain::JsonValue::Type::kString) {
    return {};
  }
  return r.values[*index].AsString();
}

/// Whether the bool field `name` is true (false when missing or not a bool).
inline bool Flag(const domain::Collection& c, const domain::Record& r, std::string_view name) {
  auto index = c.FieldIndex(name);
  return index && *index < r.values.size() &&
         r.values[*index].type() == domain::JsonValue::Type::kBool && r.values[*index].AsBool();
}

/// The instant a date field holds, or nullopt when it is empty or not a date.
inline std::optional<domain::Timestamp> Time(const domain::Collection& c, const domain::Record& r,
                                             std::string_view name) {
  const std::string text = Text(c, r, name);
  if (text.empty()) return std::nullopt;
  auto parsed = domain::Timestamp::Parse(text);
  if (!parsed) return std::nullopt;
  return *parsed;
}

/// Sets field `name` (nothing when the collection has no such field).
inline void Set(const domain::Collection& c, domain::Record& r, std::string_view name,
                domain::JsonValue value) {
  if (auto index = c.FieldIndex(name)) r.values[*index] = std::move(value);
}

/// Compares two strings without an early exit on the first difference (secrets' bindings).
inline bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^
                                              static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

/// `text` with ASCII letters lower-cased (identities typed by people).
inline std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// The filter `field <op> value` over `c` (hidden fields allowed: for the use cases' own
/// lookups, never a client's filter). The value reaches the query as a request value, never as
/// filter text. internal when it does not resolve (a programming error: a field that is not
/// there).
inline domain::Result<domain::filter::ResolvedFilter> CompareField(
    const domain::SchemaPtr& schema, const domain::Collection& c, std::string_view field,
    std::string_view op, std::string_view value) {
  domain::filter::RequestContext request;
  request.body = domain::JsonValue::Object({{"v", domain::JsonValue::String(std::string(value))}});
  domain::filter::ResolveOptions resolve;
  resolve.allow_hidden = true;
  auto compiled = domain::filter::Compile(
      std::string(field) + " " + std::string(op) + " @request.body.v", schema, c, request, resolve);
  if (!compiled) {
    return domain::Fail(domain::Error::Internal("lookup of " + c.name + "." + std::string(field) +
                                                ": " + compiled.error().message));
  }
  return std::move(*compiled);
}

}  // namespace socle::application::internal
