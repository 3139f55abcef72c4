#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/json/json_writer.hpp"

using socle::adapters::http::HttpStatusFor;
using socle::adapters::http::JsonLimits;
using socle::adapters::http::JsonObjectReader;
using socle::adapters::http::JsonValue;
using socle::adapters::json::JsonWriter;
using socle::adapters::http::ParseJson;
using socle::adapters::http::ParseJsonObject;
using socle::domain::ErrorCode;

namespace {

namespace fs = std::filesystem;

std::string ReadBinary(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<fs::path> FilesWithPrefix(const fs::path& dir, std::string_view prefix) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with(prefix)) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Lines "name<space>value"; '#' starts a comment.
std::map<std::string, std::string> ReadExpectations(const fs::path& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.find(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

std::string Serialise(const JsonValue& value) {
  JsonWriter w;
  w.Value(value);
  return std::move(w).Take();
}

const fs::path kSuite = fs::path(SOCLE_JSONTESTSUITE_DIR);
const fs::path kData = fs::path(SOCLE_HTTP_TEST_DATA_DIR);

}  // namespace

TEST_CASE("ParseJson accepts every y_ file of JSONTestSuite", "[http][json][jsontestsuite]") {
  const auto files = FilesWithPrefix(kSuite / "test_parsing", "y_");
  REQUIRE(files.size() == 95);
  for (const auto& file : files) {
    INFO(file.filename().string());
    auto parsed = ParseJson(ReadBinary(file));
    CHECK(parsed.has_value());
  }
}

TEST_CASE("ParseJson rejects every n_ file of JSONTestSuite as a 400",
          "[http][json][jsontestsuite]") {
  const auto files = FilesWithPrefix(kSuite / "test_parsing", "n_");
  REQUIRE(files.size() == 188);
  for (const auto& file : files) {
    INFO(file.filename().string());
    auto parsed = ParseJson(ReadBinary(file));
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK(HttpStatusFor(parsed.error().code) == 400);
    CHECK(parsed.error().internal.size() > 0);  // the parser's diagnosis, for the log
  }
}

TEST_CASE("ParseJson decides each i_ file as documented in i_expectations.txt",
          "[http][json][jsontestsuite]") {
  const auto expected = ReadExpectations(kData / "i_expectations.txt");
  const auto files = FilesWithPrefix(kSuite / "test_parsing", "i_");
  REQUIRE(files.size() == 35);
  REQUIRE(expected.size() == files.size());
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    INFO(name);
    REQUIRE(expected.count(name) == 1);
    auto parsed = ParseJson(ReadBinary(file));
    CHECK((parsed ? "accept" : "reject") == expected.at(name));
    if (!parsed) CHECK(HttpStatusFor(parsed.error().code) == 400);
  }
}

TEST_CASE("ParseJson's output for JSONTestSuite's test_transform files is pinned",
          "[http][json][jsontestsuite]") {
  const auto expected = ReadExpectations(kData / "transform_snapshot.txt");
  const auto files = FilesWithPrefix(kSuite / "test_transform", "");
  REQUIRE(files.size() == 22);
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    INFO(name);
    auto parsed = ParseJson(ReadBinary(file));
    const std::string actual = parsed ? Serialise(*parsed) : "reject";
    REQUIRE(expected.count(name) == 1);
    CHECK(actual == expected.at(name));
  }
}

TEST_CASE("ParseJson enforces the depth limit without recursing", "[http][json]") {
  JsonLimits limits;
  limits.max_depth = 8;
  CHECK(ParseJson("[[[[[[[[1]]]]]]]]", limits));  // 8 levels
  auto deep = ParseJson("[[[[[[[[[1]]]]]]]]]", limits);
  REQUIRE_FALSE(deep);
  CHECK(deep.error().code == ErrorCode::kInvalidArgument);
  CHECK(deep.error().message == "The JSON body is nested too deeply.");

  const std::string hostile(100000, '[');
  auto refused = ParseJson(hostile);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("ParseJson keeps int64 exact and other numbers as doubles", "[http][json]") {
  auto value = ParseJson(
      R"([9223372036854775807, -9223372036854775808, 18446744073709551615, 1.5, 1e2])");
  REQUIRE(value);
  const auto& items = value->items();
  CHECK(items[0].AsInt64() == 9223372036854775807LL);
  CHECK(items[1].AsInt64() == std::numeric_limits<std::int64_t>::min());
  CHECK_FALSE(items[2].AsInt64().has_value());
  CHECK(items[2].AsDouble() == Approx(1.8446744073709552e19));
  CHECK(items[3].AsDouble() == 1.5);
  CHECK_FALSE(items[4].AsInt64().has_value());
}

TEST_CASE("ParseJson refuses a byte order mark, lone surrogates and a size over the limit",
          "[http][json]") {
  CHECK_FALSE(ParseJson("\xEF\xBB\xBF{}"));
  CHECK_FALSE(ParseJson(R"(["\ud800"])"));
  CHECK_FALSE(ParseJson(R"(["\udc00\ud800"])"));
  CHECK_FALSE(ParseJson(R"(["a\ud800b"])"));
  CHECK(ParseJson(R"(["\ud83d\ude00"])"));  // a proper pair
  CHECK(ParseJson(R"(["\\ud800"])"));       // an escaped backslash, not an escape
  JsonLimits limits;
  limits.max_bytes = 4;
  CHECK_FALSE(ParseJson("[1,2]", limits));
}

TEST_CASE("ParseJsonObject wants an object at the top", "[http][json]") {
  CHECK(ParseJsonObject(R"({"a":1})"));
  for (std::string_view body : {"[]", "1", "\"x\"", "null", "true"}) {
    INFO(body);
    auto parsed = ParseJsonObject(body);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK(parsed.error().message == "The request body must be a JSON object.");
  }
  auto empty = ParseJsonObject("");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message == "Failed to load the submitted data due to invalid formatting.");
}

TEST_CASE("JsonObjectReader reports unknown, duplicate, mistyped and missing fields together",
          "[http][json]") {
  auto body = ParseJsonObject(
      R"({"slug":"acme","slug":"other","nmae":"x","name":7,"flag":"yes","extra":null})");
  REQUIRE(body);
  JsonObjectReader reader(*body, {"slug", "name", "flag", "region"});
  CHECK(reader.RequiredString("slug") == "acme");
  CHECK_FALSE(reader.OptionalString("name"));
  CHECK_FALSE(reader.OptionalBool("flag"));
  CHECK_FALSE(reader.RequiredString("region"));
  auto finished = reader.Finish();
  REQUIRE_FALSE(finished);
  const auto& fields = finished.error().fields;
  REQUIRE(fields.size() == 6);
  CHECK(fields[0].field == "slug");
  CHECK(fields[0].code == "validation_duplicate_field");
  CHECK(fields[1].field == "nmae");
  CHECK(fields[1].code == "validation_unknown_field");
  CHECK(fields[2].field == "extra");
  CHECK(fields[2].code == "validation_unknown_field");
  CHECK(fields[3].field == "name");
  CHECK(fields[3].code == "validation_invalid_type");
  CHECK(fields[4].field == "flag");
  CHECK(fields[4].code == "validation_invalid_type");
  CHECK(fields[5].field == "region");
  CHECK(fields[5].code == "validation_required");
}

TEST_CASE("JsonObjectReader treats null as absent for optional fields", "[http][json]") {
  auto body = ParseJsonObject(R"({"name":null,"ok":true})");
  REQUIRE(body);
  JsonObjectReader reader(*body, {"name", "ok"});
  CHECK_FALSE(reader.OptionalString("name"));
  CHECK(reader.OptionalBool("ok") == true);
  CHECK(reader.Has("name"));
  CHECK(reader.Finish());
}
