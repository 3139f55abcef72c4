#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/json/json_writer.hpp"

using socle::adapters::json::JsonWriter;
using socle::adapters::http::ParseJson;

namespace {

std::string Quoted(std::string_view text) {
  std::string out;
  JsonWriter::AppendQuoted(out, text);
  return out;
}

}  // namespace

TEST_CASE("JsonWriter builds nested documents with commas in the right places", "[http][json]") {
  JsonWriter w;
  w.BeginObject();
  w.Key("a").Int(1);
  w.Key("b").BeginArray().Bool(true).Null().String("x").BeginObject().EndObject().EndArray();
  w.Key("c").BeginObject().Key("d").UInt(18446744073709551615ull).EndObject();
  w.EndObject();
  CHECK(w.str() == R"({"a":1,"b":[true,null,"x",{}],"c":{"d":18446744073709551615}})");
}

TEST_CASE("JsonWriter escapes quotes, backslashes and every control character", "[http][json]") {
  CHECK(Quoted("say \"hi\"") == R"("say \"hi\"")");
  CHECK(Quoted("a\\b") == R"("a\\b")");
  CHECK(Quoted("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  CHECK(Quoted(std::string_view("\x00\x01\x1f", 3)) == R"("\u0000\u0001\u001f")");
  CHECK(Quoted("\x7f") == "\"\x7f\"");  // DEL is legal in JSON strings
  CHECK(Quoted("/") == R"("/")");
}

TEST_CASE("JsonWriter keeps valid UTF-8 and replaces invalid bytes with U+FFFD", "[http][json]") {
  CHECK(Quoted("caf\xC3\xA9") == "\"caf\xC3\xA9\"");                 // é
  CHECK(Quoted("\xF0\x9F\x98\x80") == "\"\xF0\x9F\x98\x80\"");      // 😀
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(Quoted("\xFF") == "\"" + fffd + "\"");                       // never valid
  CHECK(Quoted("\x80") == "\"" + fffd + "\"");                       // stray continuation
  CHECK(Quoted("\xC0\xAF") == "\"" + fffd + fffd + "\"");            // overlong '/'
  CHECK(Quoted("\xED\xA0\x80") == "\"" + fffd + fffd + fffd + "\"");  // UTF-16 surrogate
  CHECK(Quoted("\xF4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
  CHECK(Quoted("ab\xE2\x82") == "\"ab" + fffd + fffd + "\"");        // truncated
}

TEST_CASE("JsonWriter escapes U+2028 and U+2029 for JavaScript consumers", "[http][json]") {
  CHECK(Quoted("a\xE2\x80\xA8" "b\xE2\x80\xA9") == R"("a\u2028b\u2029")");
}

TEST_CASE("JsonWriter output always parses back, whatever the input bytes", "[http][json]") {
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  JsonWriter w;
  w.BeginObject().Key(every_byte).String(every_byte).EndObject();
  auto parsed = ParseJson(w.str());
  REQUIRE(parsed);
  REQUIRE(parsed->members().size() == 1);
  // The ASCII half survives exactly.
  CHECK(parsed->members()[0].second.AsString().substr(0, 128) == every_byte.substr(0, 128));
}

TEST_CASE("JsonWriter writes numbers exactly and non-finite doubles as null", "[http][json]") {
  JsonWriter w;
  w.BeginArray()
      .Int(std::numeric_limits<std::int64_t>::min())
      .Double(0.1)
      .Double(1e300)
      .Double(std::nan(""))
      .Double(std::numeric_limits<double>::infinity())
      .EndArray();
  CHECK(w.str() == "[-9223372036854775808,0.1,1e+300,null,null]");
}

TEST_CASE("JsonWriter never writes a double as an integer too large to read back",
          "[http][json]") {
  JsonWriter w;
  w.BeginArray().Double(18446744073709551615.0).Double(-1e19).Double(123456.0).EndArray();
  CHECK(w.str() == "[1.8446744073709552e+19,-1e+19,123456]");
  auto parsed = ParseJson(w.str());
  REQUIRE(parsed);
  CHECK(parsed->items()[0].AsDouble() == 18446744073709551615.0);
}
