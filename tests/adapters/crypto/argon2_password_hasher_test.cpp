#include "socle/adapters/crypto/argon2_password_hasher.hpp"

#include <argon2.h>
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/test_ports.hpp"

namespace {

using socle::adapters::crypto::Argon2PasswordHasher;
using socle::adapters::crypto::Argon2Policy;
using socle::domain::ErrorCode;
using socle::testing::SeededRandomSource;

std::string ReadVectors() {
  std::ifstream in(SOCLE_ARGON2_VECTORS_FILE, std::ios::binary);
  INFO("test vectors: " << SOCLE_ARGON2_VECTORS_FILE);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::uint8_t> FromHex(std::string_view hex) {
  REQUIRE(hex.size() % 2 == 0);
  auto nibble = [](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    REQUIRE((c >= 'a' && c <= 'f'));
    return static_cast<std::uint8_t>(c - 'a' + 10);
  };
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  }
  return out;
}

std::string Str(simdjson::dom::element element, const char* key) {
  std::string_view value;
  REQUIRE(element[key].get(value) == simdjson::SUCCESS);
  return std::string(value);
}

std::uint32_t U32(simdjson::dom::element element, const char* key) {
  std::uint64_t value = 0;
  REQUIRE(element[key].get(value) == simdjson::SUCCESS);
  return static_cast<std::uint32_t>(value);
}

Argon2PasswordHasher MakeHasher(socle::application::RandomSource& random) {
  auto hasher = Argon2PasswordHasher::Create(Argon2Policy{}, random);
  REQUIRE(hasher.has_value());
  return std::move(*hasher);
}

// A PHC string made by the reference library itself, outside the adapter's policy.
std::string ReferenceEncoded(std::uint32_t m_kib, std::string_view password) {
  const std::string salt = "0123456789abcdef";
  std::vector<char> encoded(
      argon2_encodedlen(2, m_kib, 1, static_cast<std::uint32_t>(salt.size()), 32, Argon2_id));
  REQUIRE(argon2id_hash_encoded(2, m_kib, 1, password.data(), password.size(), salt.data(),
                                salt.size(), 32, encoded.data(), encoded.size()) == ARGON2_OK);
  return std::string(encoded.data());
}

void RequireInvalid(const socle::domain::Result<bool>& result) {
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::kInvalidArgument);
}

}  // namespace

TEST_CASE("libargon2 reproduces the RFC 9106 section 5 tags", "[crypto][argon2]") {
  const std::string text = ReadVectors();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(text).get(doc) == simdjson::SUCCESS);
  simdjson::dom::array cases;
  REQUIRE(doc["rfc9106_section5"].get(cases) == simdjson::SUCCESS);
  bool saw_argon2id = false;
  for (simdjson::dom::element c : cases) {
    const std::string variant = Str(c, "variant");
    INFO(variant);
    argon2_type type = Argon2_id;
    if (variant == "argon2d") {
      type = Argon2_d;
    } else if (variant == "argon2i") {
      type = Argon2_i;
    } else {
      REQUIRE(variant == "argon2id");
      saw_argon2id = true;
    }
    auto password = FromHex(Str(c, "password_hex"));
    auto salt = FromHex(Str(c, "salt_hex"));
    auto secret = FromHex(Str(c, "secret_hex"));
    auto ad = FromHex(Str(c, "ad_hex"));
    const auto expected = FromHex(Str(c, "tag_hex"));
    std::vector<std::uint8_t> tag(U32(c, "tag_len"));
    argon2_context ctx{};
    ctx.out = tag.data();
    ctx.outlen = static_cast<std::uint32_t>(tag.size());
    ctx.pwd = password.data();
    ctx.pwdlen = static_cast<std::uint32_t>(password.size());
    ctx.salt = salt.data();
    ctx.saltlen = static_cast<std::uint32_t>(salt.size());
    ctx.secret = secret.data();
    ctx.secretlen = static_cast<std::uint32_t>(secret.size());
    ctx.ad = ad.data();
    ctx.adlen = static_cast<std::uint32_t>(ad.size());
    ctx.t_cost = U32(c, "t");
    ctx.m_cost = U32(c, "m_kib");
    ctx.lanes = U32(c, "p");
    ctx.threads = ctx.lanes;
    ctx.version = U32(c, "version");
    ctx.flags = ARGON2_DEFAULT_FLAGS;
    REQUIRE(argon2_ctx(&ctx, type) == ARGON2_OK);
    CHECK(tag == expected);
  }
  CHECK(saw_argon2id);
}

TEST_CASE("published PHC strings verify and report whether they need a rehash",
          "[crypto][argon2]") {
  const std::string text = ReadVectors();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(text).get(doc) == simdjson::SUCCESS);
  simdjson::dom::array strings;
  REQUIRE(doc["phc_strings"].get(strings) == simdjson::SUCCESS);
  SeededRandomSource random;
  auto hasher = MakeHasher(random);
  int argon2id_count = 0;
  for (simdjson::dom::element s : strings) {
    const std::string encoded = Str(s, "encoded");
    const std::string password = Str(s, "password");
    INFO(encoded);
    if (!encoded.starts_with("$argon2id$")) {
      // Only Argon2id is issued or accepted.
      RequireInvalid(hasher.Verify(password, encoded));
      CHECK(hasher.NeedsRehash(encoded));
      continue;
    }
    ++argon2id_count;
    const auto verified = hasher.Verify(password, encoded);
    REQUIRE(verified.has_value());
    CHECK(*verified);
    // Exactly the OWASP floor with a 16-byte salt and v=19 is current; anything weaker on any
    // axis (t=1, an 8-byte salt, the legacy version) is not.
    std::uint64_t version = 19;  // absent means the current version
    if (s["version"].get(version) != simdjson::SUCCESS) version = 19;
    const bool current = version == 19 && U32(s, "m_kib") >= 19456 && U32(s, "t") >= 2 &&
                         Str(s, "salt_ascii").size() >= 16;
    CHECK(hasher.NeedsRehash(encoded) == !current);
  }
  CHECK(argon2id_count >= 6);
  CHECK_FALSE(hasher.NeedsRehash(
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
      "K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE"));
}

TEST_CASE("the negative vectors are refused or fail verification", "[crypto][argon2]") {
  const std::string text = ReadVectors();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(text).get(doc) == simdjson::SUCCESS);
  simdjson::dom::array negatives;
  REQUIRE(doc["negative"].get(negatives) == simdjson::SUCCESS);
  SeededRandomSource random;
  auto hasher = MakeHasher(random);
  std::size_t count = 0;
  for (simdjson::dom::element n : negatives) {
    ++count;
    const std::string encoded = Str(n, "encoded");
    const std::string expect = Str(n, "expect");
    INFO(encoded << " expects " << expect);
    const auto result = hasher.Verify(Str(n, "password"), encoded);
    if (expect.starts_with("verify=false (case") || expect.starts_with("verify=false (trailing")) {
      REQUIRE(result.has_value());
      CHECK_FALSE(*result);
    } else if (expect.starts_with("verify=false or parse error")) {
      CHECK((!result.has_value() || !*result));
    } else {
      // Missing version, m < 8p, t = 0, another variant, and an m demanding 4 TiB: all refused
      // before any hashing.
      RequireInvalid(result);
      CHECK(hasher.NeedsRehash(encoded));
    }
  }
  CHECK(count == 8);
}

TEST_CASE("hash then verify round-trips with a fresh salt each time", "[crypto][argon2]") {
  SeededRandomSource random;
  auto hasher = MakeHasher(random);
  const auto first = hasher.Hash("correct horse battery staple");
  const auto second = hasher.Hash("correct horse battery staple");
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(*first != *second);

  // 16-byte salt → 22 base64 characters, 32-byte tag → 43; no padding.
  static const std::regex kPhc(
      R"(^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$)");
  CHECK(std::regex_match(*first, kPhc));

  const auto ok = hasher.Verify("correct horse battery staple", *first);
  REQUIRE(ok.has_value());
  CHECK(*ok);
  const auto wrong = hasher.Verify("correct horse battery stapler", *first);
  REQUIRE(wrong.has_value());
  CHECK_FALSE(*wrong);
  CHECK_FALSE(hasher.NeedsRehash(*first));

  // The reference library agrees with the adapter's encoding.
  CHECK(argon2id_verify(first->c_str(), "correct horse battery staple", 28) == ARGON2_OK);
}

TEST_CASE("salts come from the injected random source", "[crypto][argon2]") {
  SeededRandomSource random_a(7);
  SeededRandomSource random_b(7);
  auto hasher_a = MakeHasher(random_a);
  auto hasher_b = MakeHasher(random_b);
  const auto a = hasher_a.Hash("pw");
  const auto b = hasher_b.Hash("pw");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(*a == *b);
}

TEST_CASE("a hash made with weaker parameters verifies but needs a rehash", "[crypto][argon2]") {
  SeededRandomSource random;
  auto hasher = MakeHasher(random);
  const std::string weak = ReferenceEncoded(4096, "hunter2");
  REQUIRE(weak.starts_with("$argon2id$v=19$m=4096,t=2,p=1$"));
  CHECK(hasher.NeedsRehash(weak));
  const auto ok = hasher.Verify("hunter2", weak);
  REQUIRE(ok.has_value());
  CHECK(*ok);
}

TEST_CASE("malformed PHC strings are invalid arguments", "[crypto][argon2]") {
  SeededRandomSource random;
  auto hasher = MakeHasher(random);
  const std::string good = ReferenceEncoded(19456, "pw");
  REQUIRE(hasher.Verify("pw", good).value_or(false));
  const std::string salt_and_hash = good.substr(good.find("p=1$") + 4);
  const std::string_view bad[] = {
      "",
      "$",
      "argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV",
      "$argon2$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$scrypt$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=18$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=-1,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=4194305,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=99999999999999999999,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=19456,t=1001,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=19456,t=2,p=65$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=19456,t=2,p=0$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$t=2,m=19456,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE=",
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNh!HRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdB$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA",
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$",
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZQ$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE$x",
  };
  for (const std::string_view phc : bad) {
    INFO(phc);
    RequireInvalid(hasher.Verify("pw", phc));
    CHECK(hasher.NeedsRehash(phc));
  }
  // The same salt and hash under another variant are refused, not verified.
  RequireInvalid(hasher.Verify("pw", "$argon2i$v=19$m=19456,t=2,p=1$" + salt_and_hash));
  RequireInvalid(hasher.Verify("pw", "$argon2d$v=19$m=19456,t=2,p=1$" + salt_and_hash));
}

TEST_CASE("passwords longer than the limit are refused", "[crypto][argon2]") {
  SeededRandomSource random;
  auto hasher = MakeHasher(random);
  const std::string at_limit(Argon2PasswordHasher::kMaxPasswordBytes, 'a');
  const std::string over_limit(Argon2PasswordHasher::kMaxPasswordBytes + 1, 'a');
  const auto hashed = hasher.Hash(at_limit);
  REQUIRE(hashed.has_value());
  const auto refused = hasher.Hash(over_limit);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  RequireInvalid(hasher.Verify(over_limit, *hashed));
  const auto ok = hasher.Verify(at_limit, *hashed);
  REQUIRE(ok.has_value());
  CHECK(*ok);
}

TEST_CASE("a policy below the OWASP floor or beyond the bounds is refused", "[crypto][argon2]") {
  SeededRandomSource random;
  CHECK(Argon2PasswordHasher::Create(Argon2Policy{}, random).has_value());
  CHECK(Argon2PasswordHasher::Create(Argon2Policy{.memory_kib = 65536, .iterations = 3}, random)
            .has_value());
  const Argon2Policy refused[] = {
      {.memory_kib = 4096},
      {.iterations = 1},
      {.parallelism = 0},
      {.hash_length = 16},
      {.salt_length = 8},
      {.memory_kib = Argon2PasswordHasher::kMaxMemoryKib + 1},
      {.iterations = Argon2PasswordHasher::kMaxIterations + 1},
      {.parallelism = Argon2PasswordHasher::kMaxParallelism + 1},
      {.hash_length = Argon2PasswordHasher::kMaxHashLength + 1},
      {.salt_length = Argon2PasswordHasher::kMaxSaltLength + 1},
  };
  for (const Argon2Policy& policy : refused) {
    const auto hasher = Argon2PasswordHasher::Create(policy, random);
    REQUIRE_FALSE(hasher.has_value());
    CHECK(hasher.error().code == ErrorCode::kInvalidArgument);
  }
}
