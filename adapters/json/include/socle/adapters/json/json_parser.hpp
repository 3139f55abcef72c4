#pragma once

#include <cstddef>
#include <string_view>

#include "socle/domain/json_value.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::json {

using domain::JsonValue;

/// Limits applied to every JSON document a client sends.
struct JsonLimits {
  /// Deepest nesting of arrays and objects accepted. API bodies are flat; 64 leaves room for
  /// future record payloads while keeping a hostile "[[[[..." from costing anything.
  std::size_t max_depth = 64;
  /// Largest document accepted, in bytes (the HTTP layer's body limit normally bites first).
  std::size_t max_bytes = std::size_t{1} << 20;
};

/// Parses one strict RFC 8259 JSON text: any value at the top, no trailing content, valid UTF-8
/// only, no comments or trailing commas. Lone surrogate escapes ("\ud800") are rejected. A byte
/// order mark is rejected (RFC 8259 8.1: senders must not add one). Numbers that fit int64 are
/// kept exact; other numbers become doubles, except integers outside [-2^63, 2^64) and numbers
/// that overflow a double, which are rejected (they cannot be stored faithfully); underflow
/// becomes 0. Duplicate keys are kept (JsonObjectReader refuses them). The decision for each of
/// JSONTestSuite's implementation-defined files is pinned in tests/adapters/http/data.
/// invalid_argument with a client-safe message (the parser's own diagnosis goes to
/// Error::internal) on any failure; never throws.
domain::Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits = {});

/// Parses a request body that must be one JSON object: as ParseJson, then invalid_argument
/// ("The request body must be a JSON object.") for any other top-level value.
domain::Result<JsonValue> ParseJsonObject(std::string_view text, const JsonLimits& limits = {});

}  // namespace socle::adapters::json
