// SecretBox: the AES-256-GCM primitive against Wycheproof's vectors (shared corpora; the suite
// fails when they are missing), then the sealed format: round trips, context binding, every
// kind of alteration, key rotation, nonce freshness and malformed input.
#include "socle/adapters/crypto/secret_box.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/openssl_random_source.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/application/ports/secret_sealer.hpp"
#include "support/test_ports.hpp"

using namespace socle::adapters::crypto;
using socle::adapters::json::JsonLimits;
using socle::adapters::json::ParseJson;
using socle::domain::ErrorCode;
using socle::domain::JsonValue;

namespace {

using Bytes = std::vector<std::uint8_t>;
using KeySpans = std::vector<std::span<const std::uint8_t>>;

constexpr std::string_view kCannotOpen = "The sealed value could not be opened.";
constexpr std::string_view kContext = "signing-key:k1";

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

Bytes Hex(std::string_view hex) {
  REQUIRE(hex.size() % 2 == 0);
  Bytes out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The error code of a failed result; nullopt when it succeeded (so that a wrong success fails
// the check instead of reading error() from a value).
template <typename T>
std::optional<ErrorCode> CodeOf(const socle::domain::Result<T>& result) {
  if (result) return std::nullopt;
  return result.error().code;
}

Bytes Key(std::uint8_t first) {
  Bytes key(SecretBox::kKeySize);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(first + i);
  return key;
}

SecretBox MakeBox(const Bytes& current, const KeySpans& older,
                  socle::application::RandomSource& random) {
  auto box = SecretBox::Create(current, older, random);
  REQUIRE(box);
  return std::move(*box);
}

// Every failed Open looks the same to the caller, whatever the cause.
void RequireRefused(SecretBox& box, std::string_view sealed, std::string_view context = kContext) {
  INFO("sealed: " << sealed);
  const auto opened = box.Open(sealed, context);
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code == ErrorCode::kUnauthenticated);
  CHECK(opened.error().message == kCannotOpen);
  CHECK_FALSE(opened.error().internal.empty());
}

bool IsSealedChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

std::string_view PayloadText(std::string_view sealed) {
  return sealed.substr(SecretBox::kVersionPrefix.size() + SecretBox::kKeyIdLength + 1);
}

struct Fixture {
  socle::testing::SeededRandomSource random{11};
  Bytes key1 = Key(1);
  Bytes key2 = Key(101);
  SecretBox box = MakeBox(key1, {}, random);
};

}  // namespace

TEST_CASE("AES-256-GCM: Wycheproof vectors", "[crypto][secret_box][wycheproof]") {
  const JsonValue file = ReadJsonFile(SOCLE_WYCHEPROOF_AES_GCM_FILE);
  std::int64_t total = 0;
  std::int64_t checked = 0;
  std::int64_t valid = 0;
  for (const JsonValue& group : file.Find("testGroups")->items()) {
    const auto& tests = group.Find("tests")->items();
    total += static_cast<std::int64_t>(tests.size());
    // SecretBox uses exactly one parameter set: 256-bit keys, 96-bit nonces, 128-bit tags.
    // Groups with other key, nonce or tag sizes test what it never does and are skipped
    // (counted below so that the skip stays visible).
    if (Int(group, "keySize") != 256 || Int(group, "ivSize") != 96 ||
        Int(group, "tagSize") != 128) {
      continue;
    }
    for (const JsonValue& test : tests) {
      INFO("tcId " << Int(test, "tcId") << ": " << Str(test, "comment"));
      const Bytes key = Hex(Str(test, "key"));
      const Bytes iv = Hex(Str(test, "iv"));
      const Bytes aad = Hex(Str(test, "aad"));
      const Bytes msg = Hex(Str(test, "msg"));
      Bytes sealed = Hex(Str(test, "ct"));
      const Bytes tag = Hex(Str(test, "tag"));
      sealed.insert(sealed.end(), tag.begin(), tag.end());
      const std::string& result = Str(test, "result");
      REQUIRE((result == "valid" || result == "invalid"));
      const auto opened = SecretBox::DecryptAes256Gcm(key, iv, aad, sealed);
      if (result == "valid") {
        const auto encrypted = SecretBox::EncryptAes256Gcm(key, iv, aad, msg);
        REQUIRE(encrypted);
        CHECK(*encrypted == sealed);
        REQUIRE(opened);
        CHECK(*opened == msg);
        ++valid;
      } else {
        CHECK_FALSE(opened);
      }
      ++checked;
    }
  }
  CHECK(total == Int(file, "numberOfTests"));
  // 39 valid and 27 invalid cases of the file have SecretBox's parameters (commit dac1dd4).
  CHECK(checked == 66);
  CHECK(valid == 39);
}

TEST_CASE("AES-256-GCM helpers refuse wrong sizes", "[crypto][secret_box]") {
  const Bytes key = Key(1);
  const Bytes nonce(SecretBox::kNonceSize, 7);
  const Bytes text{'h', 'i'};
  CHECK(CodeOf(SecretBox::EncryptAes256Gcm(Bytes(31, 1), nonce, {}, text)) ==
        ErrorCode::kInvalidArgument);
  CHECK(CodeOf(SecretBox::EncryptAes256Gcm(key, Bytes(16, 7), {}, text)) ==
        ErrorCode::kInvalidArgument);
  const auto sealed = SecretBox::EncryptAes256Gcm(key, nonce, {}, text);
  REQUIRE(sealed);
  CHECK(sealed->size() == text.size() + SecretBox::kTagSize);
  CHECK(SecretBox::DecryptAes256Gcm(key, nonce, {}, *sealed) == text);
  CHECK_FALSE(SecretBox::DecryptAes256Gcm(Bytes(31, 1), nonce, {}, *sealed));
  CHECK_FALSE(SecretBox::DecryptAes256Gcm(key, Bytes(11, 7), {}, *sealed));
  CHECK_FALSE(SecretBox::DecryptAes256Gcm(key, nonce, {}, Bytes(15, 0)));
  CHECK_FALSE(SecretBox::DecryptAes256Gcm(key, nonce, Bytes{1}, *sealed));  // other aad
}

TEST_CASE("SecretBox: round trips as printable ASCII", "[crypto][secret_box]") {
  Fixture f;
  socle::application::SecretSealer& sealer = f.box;  // it is the port

  for (const std::string& plaintext :
       {std::string("s3cr3t"), std::string(), std::string("\0\xff\x01 binary\n", 11),
        std::string("é → 🔑"), std::string(SecretBox::kMaxPlaintextBytes, 'x')}) {
    INFO("plaintext of " << plaintext.size() << " bytes");
    const auto sealed = sealer.Seal(plaintext, kContext);
    REQUIRE(sealed);
    CHECK(sealed->starts_with("sb1." + SecretBox::KeyIdOf(f.key1) + "."));
    CHECK(std::ranges::all_of(*sealed, IsSealedChar));
    CHECK(sealed->size() <= SecretBox::kMaxSealedBytes);
    CHECK(sealed->find(plaintext.empty() ? "\x01" : plaintext) == std::string::npos);
    const auto opened = sealer.Open(*sealed, kContext);
    REQUIRE(opened);
    CHECK(*opened == plaintext);
  }
}

TEST_CASE("SecretBox: the key id is the start of SHA-256 of the key", "[crypto][secret_box]") {
  CHECK(SecretBox::KeyIdOf(Bytes(32, 0)) == "66687aad");
  CHECK(SecretBox::KeyIdOf(Key(0)) == "630dcd29");  // bytes 0x00..0x1f
  Fixture f;
  CHECK(f.box.CurrentKeyId() == SecretBox::KeyIdOf(f.key1));
}

TEST_CASE("SecretBox: a value opens only in the context it was sealed for",
          "[crypto][secret_box]") {
  Fixture f;
  const auto sealed = f.box.Seal("seed", "totp:user1");
  REQUIRE(sealed);
  CHECK(f.box.Open(*sealed, "totp:user1") == "seed");
  RequireRefused(f.box, *sealed, "totp:user2");
  RequireRefused(f.box, *sealed, "totp:user");
  RequireRefused(f.box, *sealed, "totp:user10");
  RequireRefused(f.box, *sealed, "TOTP:user1");
  RequireRefused(f.box, *sealed, std::string("totp:user1\0", 11));

  // An empty or oversized context is the caller's mistake, said plainly.
  CHECK(CodeOf(f.box.Seal("seed", "")) == ErrorCode::kInvalidArgument);
  CHECK(CodeOf(f.box.Open(*sealed, "")) == ErrorCode::kInvalidArgument);
  const std::string long_context(SecretBox::kMaxContextBytes + 1, 'c');
  CHECK(CodeOf(f.box.Seal("seed", long_context)) == ErrorCode::kInvalidArgument);
  CHECK(f.box.Seal("seed", std::string(SecretBox::kMaxContextBytes, 'c')));
}

TEST_CASE("SecretBox: any altered character is refused", "[crypto][secret_box]") {
  Fixture f;
  const auto sealed = f.box.Seal("hunter2 is my password", kContext);
  REQUIRE(sealed);
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    for (const char replacement : {'A', 'f', '0', '-', '.'}) {
      if ((*sealed)[i] == replacement) continue;
      std::string altered = *sealed;
      altered[i] = replacement;
      RequireRefused(f.box, altered);
    }
  }
}

TEST_CASE("SecretBox: any flipped bit of nonce, ciphertext or tag is refused",
          "[crypto][secret_box]") {
  Fixture f;
  const auto sealed = f.box.Seal("hunter2", kContext);
  REQUIRE(sealed);
  const std::string header(sealed->substr(0, sealed->size() - PayloadText(*sealed).size()));
  const auto payload = FromBase64Url(PayloadText(*sealed));
  REQUIRE(payload);
  REQUIRE(payload->size() == SecretBox::kNonceSize + 7 + SecretBox::kTagSize);
  for (std::size_t byte = 0; byte < payload->size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes altered = *payload;
      altered[byte] = static_cast<std::uint8_t>(altered[byte] ^ (1U << bit));
      RequireRefused(f.box, header + ToBase64Url(altered));
    }
  }
  // Unaltered, the rebuilt string opens: the loop above tested what it meant to.
  CHECK(f.box.Open(header + ToBase64Url(*payload), kContext) == "hunter2");
}

TEST_CASE("SecretBox: truncated or extended values are refused", "[crypto][secret_box]") {
  Fixture f;
  const auto sealed = f.box.Seal("hunter2", kContext);
  REQUIRE(sealed);
  for (std::size_t length = 0; length < sealed->size(); ++length) {
    RequireRefused(f.box, sealed->substr(0, length));
  }
  RequireRefused(f.box, *sealed + "A");
  RequireRefused(f.box, *sealed + "AAAA");
  RequireRefused(f.box, *sealed + "=");
  RequireRefused(f.box, *sealed + "\n");
  RequireRefused(f.box, " " + *sealed);
}

TEST_CASE("SecretBox: malformed values are refused alike", "[crypto][secret_box]") {
  Fixture f;
  const auto sealed = f.box.Seal("hunter2", kContext);
  REQUIRE(sealed);
  const std::string id = f.box.CurrentKeyId();
  const std::string payload(PayloadText(*sealed));
  std::string upper_id = id;
  for (char& c : upper_id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  const std::vector<std::string> malformed = {
      "",
      "sb1.",
      "sb1." + id,
      "sb1." + id + ".",
      "sb2." + id + "." + payload,          // unknown version
      "SB1." + id + "." + payload,
      "sb1" + id + "." + payload,           // missing separator
      "sb1." + id + payload,
      "sb1." + id + ":" + payload,
      "sb1." + id.substr(1) + "." + payload,  // short key id
      "sb1.zzzzzzzz." + payload,            // key id not hex
      "sb1." + id + "." + payload + "==",   // padding
      "sb1." + id + "." + payload.substr(0, 10) + " " + payload.substr(10),
      "sb1." + id + "." + std::string(36, 'A'),  // 27 bytes: shorter than nonce and tag
      "sb1.00000000." + payload,            // a key the box does not hold
      std::string("sb1.") + id + "." + payload + std::string(1, '\0'),
      "sb1." + id + ".\xc3\xa9" + payload,
      "sb1." + id + "." + std::string(SecretBox::kMaxSealedBytes, 'A'),
  };
  for (const std::string& value : malformed) RequireRefused(f.box, value);
  if (upper_id != id) RequireRefused(f.box, "sb1." + upper_id + "." + payload);

  // The standard alphabet is not accepted for the payload.
  std::string standard = payload;
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (standard != payload) RequireRefused(f.box, "sb1." + id + "." + standard);
}

TEST_CASE("SecretBox: a box with another key cannot open", "[crypto][secret_box]") {
  Fixture f;
  const auto sealed = f.box.Seal("hunter2", kContext);
  REQUIRE(sealed);
  SecretBox other = MakeBox(f.key2, {}, f.random);
  RequireRefused(other, *sealed);

  // Relabelled with the other key's id, the value reaches AES-GCM under the wrong key.
  SecretBox both = MakeBox(f.key2, KeySpans{f.key1}, f.random);
  const std::string relabelled = "sb1." + SecretBox::KeyIdOf(f.key2) + "." +
                                 std::string(PayloadText(*sealed));
  RequireRefused(both, relabelled);
  CHECK(both.Open(*sealed, kContext) == "hunter2");
}

TEST_CASE("SecretBox: key rotation", "[crypto][secret_box]") {
  Fixture f;
  const auto old_sealed = f.box.Seal("old secret", kContext);
  REQUIRE(old_sealed);

  // The new key seals; the old one stays in the ring to open what it sealed.
  SecretBox rotated = MakeBox(f.key2, KeySpans{f.key1}, f.random);
  CHECK(rotated.CurrentKeyId() == SecretBox::KeyIdOf(f.key2));
  CHECK(rotated.Open(*old_sealed, kContext) == "old secret");
  CHECK(rotated.NeedsReseal(*old_sealed));

  const auto new_sealed = rotated.Seal("old secret", kContext);
  REQUIRE(new_sealed);
  CHECK(new_sealed->starts_with("sb1." + SecretBox::KeyIdOf(f.key2) + "."));
  CHECK_FALSE(rotated.NeedsReseal(*new_sealed));
  CHECK(rotated.NeedsReseal("not sealed"));

  // A box that never had the new key cannot open what it sealed.
  RequireRefused(f.box, *new_sealed);

  // Once the old key is dropped from the ring, its values stop opening.
  SecretBox retired = MakeBox(f.key2, {}, f.random);
  RequireRefused(retired, *old_sealed);
  CHECK(retired.Open(*new_sealed, kContext) == "old secret");
}

TEST_CASE("SecretBox: Create checks the keys", "[crypto][secret_box]") {
  socle::testing::SeededRandomSource random;
  const Bytes good = Key(1);
  CHECK(CodeOf(SecretBox::Create(Bytes(31, 1), {}, random)) == ErrorCode::kInvalidArgument);
  CHECK(CodeOf(SecretBox::Create(Bytes(33, 1), {}, random)) == ErrorCode::kInvalidArgument);
  CHECK(CodeOf(SecretBox::Create(Bytes{}, {}, random)) == ErrorCode::kInvalidArgument);
  const Bytes short_key(16, 1);
  CHECK(CodeOf(SecretBox::Create(good, KeySpans{short_key}, random)) ==
        ErrorCode::kInvalidArgument);
  // The same key twice is harmless and kept once.
  auto twice = SecretBox::Create(good, KeySpans{good, good}, random);
  REQUIRE(twice);
  const auto sealed = twice->Seal("x", kContext);
  REQUIRE(sealed);
  CHECK(twice->Open(*sealed, kContext) == "x");
}

TEST_CASE("SecretBox: oversized plaintext is refused", "[crypto][secret_box]") {
  Fixture f;
  const auto sealed = f.box.Seal(std::string(SecretBox::kMaxPlaintextBytes + 1, 'x'), kContext);
  REQUIRE_FALSE(sealed);
  CHECK(sealed.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("SecretBox: every seal has a fresh nonce", "[crypto][secret_box]") {
  OpenSslRandomSource random;
  SecretBox box = MakeBox(Key(1), {}, random);
  std::set<std::string> sealed_values;
  std::set<Bytes> nonces;
  constexpr int kSeals = 20'000;
  for (int i = 0; i < kSeals; ++i) {
    const auto sealed = box.Seal("same secret", kContext);
    REQUIRE(sealed);
    sealed_values.insert(*sealed);
    const auto payload = FromBase64Url(PayloadText(*sealed));
    REQUIRE(payload);
    nonces.emplace(payload->begin(), payload->begin() + SecretBox::kNonceSize);
  }
  CHECK(sealed_values.size() == kSeals);
  CHECK(nonces.size() == kSeals);
}

TEST_CASE("SecretBox: concurrent seals and opens", "[crypto][secret_box]") {
  OpenSslRandomSource random;
  SecretBox box = MakeBox(Key(1), {}, random);
  std::vector<std::thread> threads;
  std::array<int, 4> failures{};
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&box, &failures, t] {
      const std::string context = "ctx:" + std::to_string(t);
      for (int i = 0; i < 500; ++i) {
        const std::string plaintext = "secret " + std::to_string(i);
        const auto sealed = box.Seal(plaintext, context);
        if (!sealed || box.Open(*sealed, context) != plaintext) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == std::array<int, 4>{});
}
