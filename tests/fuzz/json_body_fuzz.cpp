// Fuzzes the request-body path: ParseJson / ParseJsonObject on arbitrary bytes must return a
// value or an invalid_argument error (never crash, hang or leak), and whatever parses must
// serialise through JsonWriter into JSON that parses again, stably.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/json/json_writer.hpp"

namespace {

using socle::adapters::http::JsonValue;
using socle::adapters::json::JsonWriter;

std::string Serialise(const JsonValue& value) {
  JsonWriter writer;
  writer.Value(value);
  return std::move(writer).Take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace http = socle::adapters::http;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto parsed = http::ParseJson(text);
  if (!parsed) {
    if (parsed.error().code != socle::domain::ErrorCode::kInvalidArgument) __builtin_trap();
    // The client's error body must be valid JSON whatever the input was.
    if (!http::ParseJson(http::ErrorResponse(parsed.error()).body)) __builtin_trap();
  } else {
    // One round trip may normalise (1.0 becomes 1, -0 becomes 0); after it, output is stable.
    const std::string once = Serialise(*parsed);
    auto again = http::ParseJson(once);
    if (!again) __builtin_trap();
    const std::string twice = Serialise(*again);
    auto third = http::ParseJson(twice);
    if (!third || Serialise(*third) != twice) __builtin_trap();
  }

  auto object = http::ParseJsonObject(text);
  if (object) {
    http::JsonObjectReader reader(*object, {"slug", "name", "region", "tier"});
    (void)reader.RequiredString("slug");
    (void)reader.OptionalString("name");
    (void)reader.OptionalBool("tier");
    auto finished = reader.Finish();
    if (!finished && !http::ParseJson(http::ErrorResponse(finished.error()).body)) {
      __builtin_trap();
    }
  }

  // Arbitrary bytes as a string value: the writer must always produce valid JSON.
  JsonWriter writer;
  writer.BeginObject().Key(text).String(text).EndObject();
  if (!http::ParseJson(writer.str())) __builtin_trap();
  return 0;
}
