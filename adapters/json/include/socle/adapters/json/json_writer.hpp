#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/json_value.hpp"

namespace socle::adapters::json {

/// Builds one JSON document into a string. It is the only place in Socle that turns values into
/// JSON text, so that escaping is decided once: quotes, backslashes and every control character
/// are escaped, U+2028/U+2029 too (they break JavaScript string literals), and each byte that is
/// not part of well-formed UTF-8 becomes U+FFFD, so the output is always valid JSON whatever the
/// input bytes were.
///
/// Commas are inserted automatically. Usage: `w.BeginObject().Key("id").String(id).EndObject();`
/// Not thread-safe; one writer per document.
class JsonWriter final {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  /// Writes a member name; the next call must write its value.
  JsonWriter& Key(std::string_view name);

  JsonWriter& String(std::string_view text);
  JsonWriter& Int(std::int64_t value);
  JsonWriter& UInt(std::uint64_t value);
  /// Shortest text that reads back as the same double; NaN and infinities become null because
  /// JSON cannot spell them.
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  /// Writes a whole JSON value (integers exactly, other numbers as Double()).
  JsonWriter& Value(const domain::JsonValue& value);
  /// Inserts an already serialised JSON value verbatim. Precondition: `json` came from another
  /// JsonWriter (this keeps the "one serializer" rule while allowing composition).
  JsonWriter& Raw(std::string_view json);

  /// The text written so far.
  const std::string& str() const& noexcept { return out_; }
  /// Moves the finished document out.
  std::string Take() && { return std::move(out_); }

  /// Appends `text` to `out` as a quoted, escaped JSON string literal.
  static void AppendQuoted(std::string& out, std::string_view text);

 private:
  struct Frame {
    bool is_object;
    bool has_members;
  };
  void BeforeValue();

  std::string out_;
  std::vector<Frame> stack_;
  bool after_key_ = false;
};

}  // namespace socle::adapters::json
