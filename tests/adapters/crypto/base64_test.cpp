// The crypto adapter's unpadded base64 (PHC strings, JWS) against RFC 4648's vectors and the
// shared reject list.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base64.hpp"
#include "socle/adapters/json/json_parser.hpp"

using socle::adapters::crypto::Base64Alphabet;
using socle::adapters::crypto::DecodeBase64;
using socle::adapters::crypto::EncodeBase64;
using socle::domain::JsonValue;

namespace {

JsonValue Vectors() {
  std::ifstream in(SOCLE_BASE_VECTORS_FILE);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = socle::adapters::json::ParseJson(text.str());
  REQUIRE(parsed.has_value());
  return *parsed;
}

std::vector<std::uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

std::vector<std::uint8_t> FromHex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Unpadded(std::string text) {
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

}  // namespace

TEST_CASE("base64: RFC 4648 section 10, unpadded, both alphabets", "[crypto][base64]") {
  const JsonValue vectors = Vectors();
  const auto& section10 = vectors.Find("rfc4648_section10")->items();
  REQUIRE(section10.size() >= 7);
  for (const auto& v : section10) {
    const std::string input = v.Find("input_ascii")->AsString();
    const std::string expected = Unpadded(v.Find("base64")->AsString());
    INFO(input);
    for (auto alphabet : {Base64Alphabet::kStandard, Base64Alphabet::kUrl}) {
      CHECK(EncodeBase64(Bytes(input), alphabet) == expected);
      CHECK(DecodeBase64(expected, alphabet) == Bytes(input));
    }
  }
}

TEST_CASE("base64: the two alphabets differ at 62 and 63", "[crypto][base64]") {
  const JsonValue vectors = Vectors();
  for (const auto& v : vectors.Find("base64url_examples")->items()) {
    const auto bytes = FromHex(v.Find("bytes_hex")->AsString());
    const std::string url = v.Find("base64url_nopad")->AsString();
    const std::string standard = Unpadded(v.Find("base64")->AsString());
    CHECK(EncodeBase64(bytes, Base64Alphabet::kUrl) == url);
    CHECK(EncodeBase64(bytes, Base64Alphabet::kStandard) == standard);
    CHECK(DecodeBase64(url, Base64Alphabet::kUrl) == bytes);
    if (url != standard) {
      CHECK_FALSE(DecodeBase64(url, Base64Alphabet::kStandard).has_value());
      CHECK_FALSE(DecodeBase64(standard, Base64Alphabet::kUrl).has_value());
    }
  }
}

TEST_CASE("base64: malformed input is refused", "[crypto][base64]") {
  const JsonValue vectors = Vectors();
  const auto& rejects = vectors.Find("must_reject")->items();
  REQUIRE_FALSE(rejects.empty());
  for (const auto& v : rejects) {
    const std::string input = v.Find("input")->AsString();
    INFO(input);
    CHECK_FALSE(DecodeBase64(input, Base64Alphabet::kUrl).has_value());
  }
  CHECK_FALSE(DecodeBase64("Zm9v YmFy", Base64Alphabet::kStandard).has_value());
  CHECK_FALSE(DecodeBase64("Zh", Base64Alphabet::kStandard).has_value());  // low bits set
  CHECK(DecodeBase64("Zg", Base64Alphabet::kStandard) == Bytes("f"));
}
