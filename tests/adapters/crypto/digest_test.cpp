// Digests and token helpers: SHA-256 against FIPS 180-2's examples, HMAC-SHA-256 against
// RFC 4231 and Wycheproof's vectors (shared corpora; the suite fails when they are missing),
// hex and base64url against RFC 4648's vectors, then constant-time comparison and tokens.
#include "socle/adapters/crypto/digest.hpp"

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/crypto/openssl_random_source.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "support/test_ports.hpp"

using namespace socle::adapters::crypto;
using socle::adapters::json::JsonLimits;
using socle::adapters::json::ParseJson;
using socle::domain::JsonValue;

namespace {

using Bytes = std::vector<std::uint8_t>;

JsonValue ReadJsonFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  INFO("test vectors file: " << path);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = ParseJson(text.str(), JsonLimits{64, std::size_t{16} << 20});
  REQUIRE(parsed);
  return *parsed;
}

const std::string& Str(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.Find(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->type() == JsonValue::Type::kString);
  return value->AsString();
}

std::int64_t Int(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.Find(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->AsInt64().has_value());
  return *value->AsInt64();
}

// Test-side hex decoding, independent of the adapter's FromHex.
Bytes Hex(std::string_view hex) {
  REQUIRE(hex.size() % 2 == 0);
  Bytes out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Bytes Repeat(std::uint8_t byte, std::size_t count) { return Bytes(count, byte); }

std::string HexOf(const Sha256Digest& digest, std::size_t bytes = 32) {
  return ToHex(std::span(digest).first(bytes));
}

}  // namespace

TEST_CASE("SHA-256: FIPS 180-2 examples", "[crypto][digest]") {
  CHECK(HexOf(Sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(HexOf(Sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(HexOf(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(HexOf(Sha256(std::string(1'000'000, 'a'))) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // The byte and the text overloads agree.
  const Bytes abc{'a', 'b', 'c'};
  CHECK(Sha256(abc) == Sha256("abc"));
}

TEST_CASE("HMAC-SHA-256: RFC 4231 test cases 1 to 7", "[crypto][digest]") {
  struct Case {
    Bytes key;
    Bytes data;
    std::string_view expected;
    std::size_t bytes;  // case 5 checks a 128-bit truncation
  };
  const std::vector<Case> cases = {
      {Repeat(0x0b, 20), Bytes{'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'},
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 32},
      {Bytes{'J', 'e', 'f', 'e'},
       [] {
         const std::string_view text = "what do ya want for nothing?";
         return Bytes(text.begin(), text.end());
       }(),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32},
      {Repeat(0xaa, 20), Repeat(0xdd, 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 32},
      {Hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), Repeat(0xcd, 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32},
      {Repeat(0x0c, 20),
       [] {
         const std::string_view text = "Test With Truncation";
         return Bytes(text.begin(), text.end());
       }(),
       "a3b6167473100ee06e0c796c2955552b", 16},
      // Keys longer than the block are hashed first.
      {Repeat(0xaa, 131),
       [] {
         const std::string_view text = "Test Using Larger Than Block-Size Key - Hash Key First";
         return Bytes(text.begin(), text.end());
       }(),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 32},
      {Repeat(0xaa, 131),
       [] {
         const std::string_view text =
             "This is a test using a larger than block-size key and a larger than block-size "
             "data. The key needs to be hashed before being used by the HMAC algorithm.";
         return Bytes(text.begin(), text.end());
       }(),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 32},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("RFC 4231 test case " << i + 1);
    CHECK(HexOf(HmacSha256(cases[i].key, cases[i].data), cases[i].bytes) == cases[i].expected);
  }
  // The string overload of the message, and a key given as text.
  CHECK(HexOf(HmacSha256(AsBytes("Jefe"), "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("HMAC-SHA-256: Wycheproof vectors", "[crypto][digest][wycheproof]") {
  const JsonValue file = ReadJsonFile(SOCLE_WYCHEPROOF_HMAC_SHA256_FILE);
  std::int64_t checked = 0;
  std::int64_t valid = 0;
  for (const JsonValue& group : file.Find("testGroups")->items()) {
    const auto tag_bytes = static_cast<std::size_t>(Int(group, "tagSize") / 8);
    REQUIRE(tag_bytes <= 32);
    for (const JsonValue& test : group.Find("tests")->items()) {
      INFO("tcId " << Int(test, "tcId") << ": " << Str(test, "comment"));
      const Sha256Digest tag = HmacSha256(Hex(Str(test, "key")), Hex(Str(test, "msg")));
      const Bytes computed(tag.begin(), tag.begin() + static_cast<std::ptrdiff_t>(tag_bytes));
      const Bytes expected = Hex(Str(test, "tag"));
      const std::string& result = Str(test, "result");
      // A MAC has no "acceptable" middle ground; the file has none either.
      REQUIRE((result == "valid" || result == "invalid"));
      if (result == "valid") {
        CHECK(ConstantTimeEqual(computed, expected));
        ++valid;
      } else {
        CHECK_FALSE(ConstantTimeEqual(computed, expected));
      }
      ++checked;
    }
  }
  // Every test of the file ran: none was skipped.
  CHECK(checked == Int(file, "numberOfTests"));
  CHECK(valid > 0);
  CHECK(checked > valid);
}

TEST_CASE("Hex: RFC 4648 base16 vectors, both cases read, lower case written",
          "[crypto][digest]") {
  const JsonValue file = ReadJsonFile(SOCLE_BASE_VECTORS_FILE);
  for (const JsonValue& v : file.Find("rfc4648_section10")->items()) {
    const std::string& input = Str(v, "input_ascii");
    const std::string& upper = Str(v, "base16");
    INFO(input);
    const Bytes bytes(input.begin(), input.end());
    const auto decoded = FromHex(upper);
    REQUIRE(decoded);
    CHECK(*decoded == bytes);
    std::string lower = upper;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(ToHex(bytes) == lower);
    CHECK(FromHex(lower) == decoded);
  }
  CHECK(ToHex(Bytes{0x00, 0x0f, 0xf0, 0xff}) == "000ff0ff");
  CHECK_FALSE(FromHex("abc"));   // odd length
  CHECK_FALSE(FromHex("0g"));    // not a hex digit
  CHECK_FALSE(FromHex("0x00"));  // no prefix
  CHECK_FALSE(FromHex(" 00"));
  CHECK(FromHex("") == Bytes{});
}

TEST_CASE("Base64url: RFC 4648 examples and the shared reject list", "[crypto][digest]") {
  const JsonValue file = ReadJsonFile(SOCLE_BASE_VECTORS_FILE);
  for (const JsonValue& v : file.Find("base64url_examples")->items()) {
    const Bytes bytes = Hex(Str(v, "bytes_hex"));
    const std::string& text = Str(v, "base64url_nopad");
    CHECK(ToBase64Url(bytes) == text);
    CHECK(FromBase64Url(text) == bytes);
  }
  std::size_t rejected = 0;
  for (const JsonValue& v : file.Find("must_reject")->items()) {
    if (!Str(v, "codec").starts_with("base64url_nopad")) continue;
    INFO(Str(v, "input") << ": " << Str(v, "why"));
    CHECK_FALSE(FromBase64Url(Str(v, "input")));
    ++rejected;
  }
  CHECK(rejected >= 4);
  // The standard alphabet's characters are not base64url.
  CHECK_FALSE(FromBase64Url("+/8"));
  CHECK(FromBase64Url("-_8") == Bytes{0xfb, 0xff});
}

TEST_CASE("ConstantTimeEqual", "[crypto][digest]") {
  const Bytes a{1, 2, 3, 4};
  CHECK(ConstantTimeEqual(a, Bytes{1, 2, 3, 4}));
  CHECK_FALSE(ConstantTimeEqual(a, Bytes{0, 2, 3, 4}));   // first byte differs
  CHECK_FALSE(ConstantTimeEqual(a, Bytes{1, 2, 3, 5}));   // last byte differs
  CHECK_FALSE(ConstantTimeEqual(a, Bytes{1, 2, 3}));      // a prefix is not equal
  CHECK_FALSE(ConstantTimeEqual(a, Bytes{1, 2, 3, 4, 0}));
  CHECK(ConstantTimeEqual(Bytes{}, Bytes{}));
  CHECK_FALSE(ConstantTimeEqual(Bytes{}, a));
  CHECK(ConstantTimeEqual(std::string_view("secret"), std::string_view("secret")));
  CHECK_FALSE(ConstantTimeEqual(std::string_view("secret"), std::string_view("Secret")));
  CHECK_FALSE(ConstantTimeEqual(std::string_view("secret"), std::string_view("secret\0", 7)));
}

TEST_CASE("NewOpaqueToken: prefix and base64url of fresh random bytes", "[crypto][digest]") {
  OpenSslRandomSource random;

  SECTION("an API key: 32 bytes, 256 bits") {
    const std::string token = NewOpaqueToken(random, "sk_");
    REQUIRE(token.starts_with("sk_"));
    const auto bytes = FromBase64Url(std::string_view(token).substr(3));
    REQUIRE(bytes);
    CHECK(bytes->size() == 32);
    CHECK(token.size() == 3 + 43);
  }
  SECTION("other sizes, and no prefix") {
    const std::string token = NewOpaqueToken(random, "", 48);
    const auto bytes = FromBase64Url(token);
    REQUIRE(bytes);
    CHECK(bytes->size() == 48);
  }
  SECTION("fewer bytes than the minimum are raised to it") {
    for (const std::size_t asked : {std::size_t{0}, std::size_t{1}, std::size_t{15}}) {
      const std::string token = NewOpaqueToken(random, "rt_", asked);
      const auto bytes = FromBase64Url(std::string_view(token).substr(3));
      REQUIRE(bytes);
      CHECK(bytes->size() == kMinOpaqueTokenBytes);
    }
  }
  SECTION("tokens do not repeat") {
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) CHECK(seen.insert(NewOpaqueToken(random, "t_")).second);
  }
  SECTION("the bytes come from the random source given") {
    socle::testing::SeededRandomSource a(5);
    socle::testing::SeededRandomSource b(5);
    socle::testing::SeededRandomSource c(6);
    const std::string first = NewOpaqueToken(a, "x_");
    CHECK(first == NewOpaqueToken(b, "x_"));
    CHECK(first != NewOpaqueToken(c, "x_"));
  }
}
