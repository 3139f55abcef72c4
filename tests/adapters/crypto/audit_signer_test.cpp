// The audit checkpoint signer: RFC 8032's Ed25519 vectors, verification against a pinned key
// and its refusals, and the signing key file's creation, reuse and refusals.
#include "socle/adapters/crypto/ed25519_audit_signer.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <catch2/catch.hpp>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "support/temp_dir.hpp"
#include "support/test_ports.hpp"

using namespace socle::adapters::crypto;
using socle::domain::ErrorCode;
using socle::testing::TempDir;

namespace {

using Bytes = std::vector<std::uint8_t>;

// RFC 8032 section 7.1, TEST 1 to 3: secret key (the seed), public key, message, signature.
struct Rfc8032Vector {
  std::string_view name;
  std::string_view seed;
  std::string_view public_key;
  std::string_view message;
  std::string_view signature;
};

constexpr std::array<Rfc8032Vector, 3> kRfc8032Vectors{{
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
}};

// TEST 1's signature with S replaced by S + L (the group order): the same point equation
// holds, so a lax verifier would accept this second spelling of the signature (RFC 8032
// section 5.1.7 requires refusing S >= L).
constexpr std::string_view kTest1MalleatedSignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "4c8c7872aa064e049dbb3013fbf29380d25bf5f0595bbe24655141438e7a101b";

Bytes Hex(std::string_view hex) {
  auto bytes = FromHex(hex);
  REQUIRE(bytes);
  return *bytes;
}

std::string Text(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

std::unique_ptr<Ed25519AuditSigner> SignerFromHex(std::string_view seed_hex) {
  const Bytes seed = Hex(seed_hex);
  REQUIRE(seed.size() == Ed25519AuditSigner::kSeedSize);
  auto signer = Ed25519AuditSigner::FromSeed(
      std::span<const std::uint8_t, Ed25519AuditSigner::kSeedSize>(seed.data(), seed.size()));
  REQUIRE(signer);
  return std::move(*signer);
}

std::unique_ptr<Ed25519AuditSigner> SignerFromRandom(std::uint64_t seed_value) {
  socle::testing::SeededRandomSource random(seed_value);
  std::array<std::uint8_t, Ed25519AuditSigner::kSeedSize> seed{};
  random.Fill(seed);
  auto signer = Ed25519AuditSigner::FromSeed(seed);
  REQUIRE(signer);
  return std::move(*signer);
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, std::string_view content, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    REQUIRE(out.good());
  }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

// `text` with the byte at `index` changed.
std::string Flipped(std::string text, std::size_t index) {
  text[index] = static_cast<char>(text[index] ^ 0x01);
  return text;
}

}  // namespace

TEST_CASE("RFC 8032 7.1: seeds give the published keys and signatures", "[crypto][audit]") {
  for (const auto& vector : kRfc8032Vectors) {
    INFO(vector.name);
    const auto signer = SignerFromHex(vector.seed);

    const auto public_key = FromBase64Url(signer->PublicKey());
    REQUIRE(public_key);
    CHECK(ToHex(*public_key) == vector.public_key);

    const std::string message = Text(Hex(vector.message));
    const auto signature = signer->Sign(message);
    REQUIRE(signature);
    const auto signature_bytes = FromBase64Url(*signature);
    REQUIRE(signature_bytes);
    CHECK(ToHex(*signature_bytes) == vector.signature);

    // The published signature verifies under the published key, whoever verifies it.
    const std::string published_signature = ToBase64Url(Hex(vector.signature));
    const std::string published_key = ToBase64Url(Hex(vector.public_key));
    CHECK(signer->Verify(message, published_signature, published_key));
    CHECK(SignerFromRandom(1)->Verify(message, published_signature, published_key));
  }
}

TEST_CASE("KeyId: 16 hex digits of SHA-256 of the raw public key", "[crypto][audit]") {
  const auto signer = SignerFromHex(kRfc8032Vectors[0].seed);
  // Computed independently: sha256(bytes.fromhex(TEST 1 public key)).hexdigest()[:16].
  CHECK(signer->KeyId() == "21fe31dfa154a261");
  CHECK(signer->PublicKey() == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");

  std::set<std::string> ids;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const auto other = SignerFromRandom(seed);
    const std::string id = other->KeyId();
    CHECK(id.size() == Ed25519AuditSigner::kKeyIdHexDigits);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    const auto public_key = FromBase64Url(other->PublicKey());
    REQUIRE(public_key);
    CHECK(public_key->size() == Ed25519AuditSigner::kPublicKeySize);
    CHECK(id == ToHex(Sha256(std::span<const std::uint8_t>(*public_key))).substr(0, 16));
    ids.insert(id);
  }
  CHECK(ids.size() == 8);
}

TEST_CASE("Sign then Verify round-trips; anything altered is refused", "[crypto][audit]") {
  const auto signer = SignerFromRandom(7);
  const auto stranger = SignerFromRandom(8);
  const std::string message =
      R"({"v":1,"at":"2024-05-01T09:30:00.123456Z","key":"k","heads":[]})";
  const auto signed_once = signer->Sign(message);
  REQUIRE(signed_once);
  const std::string& signature = *signed_once;
  const std::string key = signer->PublicKey();

  CHECK(signature.size() == 86);
  CHECK(signer->Verify(message, signature, key));
  CHECK(stranger->Verify(message, signature, key));  // the key is pinned by the caller
  // Ed25519 is deterministic: the same message, the same signature.
  CHECK(signer->Sign(message).value() == signature);

  SECTION("a tampered message") {
    for (std::size_t i : {std::size_t{0}, message.size() / 2, message.size() - 1}) {
      CHECK_FALSE(signer->Verify(Flipped(message, i), signature, key));
    }
    CHECK_FALSE(signer->Verify(message + " ", signature, key));
    CHECK_FALSE(signer->Verify(message.substr(0, message.size() - 1), signature, key));
    CHECK_FALSE(signer->Verify("", signature, key));
  }
  SECTION("a tampered signature") {
    auto bytes = FromBase64Url(signature);
    REQUIRE(bytes);
    for (std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
      Bytes altered = *bytes;
      altered[i] = static_cast<std::uint8_t>(altered[i] ^ 0x80);
      CHECK_FALSE(signer->Verify(message, ToBase64Url(altered), key));
    }
    CHECK_FALSE(
        signer->Verify(message, ToBase64Url(Hex(kTest1MalleatedSignature)),
                       ToBase64Url(Hex(kRfc8032Vectors[0].public_key))));
    // Another message's signature.
    CHECK_FALSE(signer->Verify(message, signer->Sign("other").value(), key));
  }
  SECTION("the wrong key") {
    CHECK_FALSE(signer->Verify(message, signature, stranger->PublicKey()));
    CHECK_FALSE(stranger->Verify(message, stranger->Sign(message).value(), key));
  }
}

TEST_CASE("Verify refuses malformed input without failing", "[crypto][audit]") {
  const auto signer = SignerFromHex(kRfc8032Vectors[1].seed);
  const std::string message = Text(Hex(kRfc8032Vectors[1].message));
  const std::string signature = ToBase64Url(Hex(kRfc8032Vectors[1].signature));
  const std::string key = ToBase64Url(Hex(kRfc8032Vectors[1].public_key));
  REQUIRE(signer->Verify(message, signature, key));

  const std::string huge(1 << 20, 'A');
  for (const std::string& bad_signature : {
           std::string(),
           signature + "=",                             // padding
           signature + "==",
           signature.substr(0, 85),                     // 63 bytes and change
           signature.substr(0, 84),                     // 63 bytes
           signature + "AA",                            // 65 bytes
           " " + signature,                             // whitespace
           signature + "\n",
           signature.substr(0, 40) + "+" + signature.substr(41),  // standard alphabet
           signature.substr(0, 40) + "/" + signature.substr(41),
           signature.substr(0, 40) + "." + signature.substr(41),
           signature.substr(0, 85) + "B",               // non-zero unused bits
           ToHex(Hex(kRfc8032Vectors[1].signature)),   // hex is not base64url
           huge,
           std::string("\0\0\0", 3),
       }) {
    INFO("signature [" << bad_signature.substr(0, 100) << "]");
    CHECK_FALSE(signer->Verify(message, bad_signature, key));
  }
  for (const std::string& bad_key : {
           std::string(),
           key + "=",
           key.substr(0, 42),                           // 31 bytes
           ToBase64Url(Bytes(33, 0x11)),                // 33 bytes
           ToBase64Url(Bytes(64, 0x11)),                // a private-key-sized blob
           key.substr(0, 10) + "+" + key.substr(11),
           ToHex(Hex(kRfc8032Vectors[1].public_key)),
           ToBase64Url(Bytes(32, 0xff)),                // y >= p: not a canonical point
           ToBase64Url(Bytes(32, 0x00)),                // a small-order point
           huge,
       }) {
    INFO("key [" << bad_key.substr(0, 100) << "]");
    CHECK_FALSE(signer->Verify(message, signature, bad_key));
  }
}

TEST_CASE("Sign and Verify from many threads at once", "[crypto][audit]") {
  const auto signer = SignerFromRandom(11);
  const std::string key = signer->PublicKey();
  constexpr int kThreads = 4;
  std::latch start(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < 200; ++i) {
        const std::string message = "checkpoint " + std::to_string(t) + "/" + std::to_string(i);
        auto signature = signer->Sign(message);
        if (!signature || !signer->Verify(message, *signature, key) ||
            signer->Verify(message + "x", *signature, key)) {
          ++failures[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == std::vector<int>(kThreads, 0));
}

TEST_CASE("LoadOrCreateAuditSigningKey: creates a 0600 file once, then reuses it",
          "[crypto][audit]") {
  TempDir dir;
  const std::string path = dir / "audit-signing.key";
  socle::testing::SeededRandomSource random(3);

  const auto created = LoadOrCreateAuditSigningKey(path, random);
  REQUIRE(created);
  CHECK(ModeOf(path) == 0600);
  const std::string content = ReadText(path);
  CHECK(content.size() == 45);
  CHECK(content.back() == '\n');
  CHECK(content.substr(43) == "=\n");
  // Only the key file is left: the temporary name it was written under is gone.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                      std::filesystem::directory_iterator()) == 1);

  const auto again = LoadOrCreateAuditSigningKey(path, random);
  REQUIRE(again);
  CHECK((*again)->PublicKey() == (*created)->PublicKey());
  CHECK((*again)->KeyId() == (*created)->KeyId());
  CHECK(ReadText(path) == content);
  // What one signs, the reloaded one's key verifies.
  const auto signature = (*created)->Sign("heads");
  REQUIRE(signature);
  CHECK((*again)->Verify("heads", *signature, (*again)->PublicKey()));

  // Another file gets another key.
  const auto other = LoadOrCreateAuditSigningKey(dir / "other.key", random);
  REQUIRE(other);
  CHECK((*other)->PublicKey() != (*created)->PublicKey());
}

TEST_CASE("LoadOrCreateAuditSigningKey: the file is 0600 whatever the umask", "[crypto][audit]") {
  TempDir dir;
  const std::string path = dir / "audit-signing.key";
  socle::testing::SeededRandomSource random(4);
  const mode_t previous = ::umask(0277);  // would leave the owner read-only
  const auto created = LoadOrCreateAuditSigningKey(path, random);
  ::umask(previous);
  REQUIRE(created);
  CHECK(ModeOf(path) == 0600);
}

TEST_CASE("LoadOrCreateAuditSigningKey: reads a seed written by hand", "[crypto][audit]") {
  TempDir dir;
  const std::string path = dir / "audit-signing.key";
  socle::testing::SeededRandomSource random(5);
  // TEST 1's seed in the spellings an operator may produce.
  for (const std::string_view text :
       {"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n",
        "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "  nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\r\n"}) {
    INFO(text);
    WriteFile(path, text, 0600);
    const auto signer = LoadOrCreateAuditSigningKey(path, random);
    REQUIRE(signer);
    CHECK((*signer)->PublicKey() == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    CHECK(ReadText(path) == text);  // never rewritten
  }
}

TEST_CASE("LoadOrCreateAuditSigningKey: refuses a file group or others can access",
          "[crypto][audit]") {
  TempDir dir;
  const std::string path = dir / "audit-signing.key";
  socle::testing::SeededRandomSource random(6);
  for (const mode_t mode : {0640, 0604, 0660, 0620, 0602, 0644, 0610}) {
    INFO("mode " << std::oct << mode);
    WriteFile(path, "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n", mode);
    const auto signer = LoadOrCreateAuditSigningKey(path, random);
    REQUIRE_FALSE(signer);
    CHECK(signer.error().code == ErrorCode::kFailedPrecondition);
    CHECK(signer.error().message.find("chmod 600 '" + path + "'") != std::string::npos);
    CHECK(signer.error().message.find("audit signing key") != std::string::npos);
    CHECK(signer.error().message.find("nWGxne") == std::string::npos);
  }
  // 0400 is fine: the owner alone can read it.
  WriteFile(path, "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n", 0400);
  CHECK(LoadOrCreateAuditSigningKey(path, random));
}

TEST_CASE("LoadOrCreateAuditSigningKey: refuses malformed content without echoing it",
          "[crypto][audit]") {
  TempDir dir;
  const std::string path = dir / "audit-signing.key";
  socle::testing::SeededRandomSource random(7);
  const std::string seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
  for (const std::string& text : {
           std::string(),
           std::string("\n"),
           seed.substr(0, 40),                                 // 30 bytes
           seed + "AAAA",                                      // 35 bytes
           seed + "==",                                        // too much padding
           seed.substr(0, 20) + " " + seed.substr(20),         // inner space
           std::string("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A_"),  // mixed alphabets
           std::string(kRfc8032Vectors[0].seed),               // hex is not base64
           seed + "\n" + seed + "\n",                          // two keys
           std::string(5000, 'A'),                             // far beyond a key file
       }) {
    INFO("[" << text.substr(0, 80) << "]");
    WriteFile(path, text, 0600);
    const auto signer = LoadOrCreateAuditSigningKey(path, random);
    REQUIRE_FALSE(signer);
    CHECK(signer.error().code == ErrorCode::kFailedPrecondition);
    CHECK(signer.error().message.find("does not hold a key") != std::string::npos);
    if (text.size() > 8) CHECK(signer.error().message.find(text) == std::string::npos);
    CHECK(ReadText(path) == text);  // a bad key file is reported, never replaced
  }
}

TEST_CASE("LoadOrCreateAuditSigningKey: refuses what is not a creatable regular file",
          "[crypto][audit]") {
  TempDir dir;
  socle::testing::SeededRandomSource random(8);

  const std::string directory = dir / "a-directory";
  std::filesystem::create_directory(directory);
  auto signer = LoadOrCreateAuditSigningKey(directory, random);
  REQUIRE_FALSE(signer);
  CHECK(signer.error().code == ErrorCode::kFailedPrecondition);
  CHECK(signer.error().message.find("not a regular file") != std::string::npos);

  // The directory is the operator's: a missing one is a wrong setting, not created.
  const std::string missing = dir / "no-such-dir/audit-signing.key";
  signer = LoadOrCreateAuditSigningKey(missing, random);
  REQUIRE_FALSE(signer);
  CHECK(signer.error().code == ErrorCode::kFailedPrecondition);
  CHECK(signer.error().message.find("Cannot create the audit signing key file '" + missing) !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "no-such-dir"));

  signer = LoadOrCreateAuditSigningKey("", random);
  REQUIRE_FALSE(signer);
  CHECK(signer.error().code == ErrorCode::kFailedPrecondition);

  // A dangling symbolic link: link() cannot publish over it and open() cannot follow it.
  const std::string dangling = dir / "dangling.key";
  std::filesystem::create_symlink(dir / "nowhere", dangling);
  signer = LoadOrCreateAuditSigningKey(dangling, random);
  REQUIRE_FALSE(signer);
  CHECK(signer.error().code == ErrorCode::kFailedPrecondition);
  CHECK_FALSE(std::filesystem::exists(dir / "nowhere"));
}

TEST_CASE("LoadOrCreateAuditSigningKey: racing threads agree on one key", "[crypto][audit]") {
  TempDir dir;
  const std::string path = dir / "audit-signing.key";
  constexpr int kThreads = 4;
  std::latch start(kThreads);
  std::vector<std::string> keys(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread draws different bytes, so agreeing means one file won.
      socle::testing::SeededRandomSource random(100 + static_cast<std::uint64_t>(t));
      start.arrive_and_wait();
      auto signer = LoadOrCreateAuditSigningKey(path, random);
      if (signer) keys[static_cast<std::size_t>(t)] = (*signer)->PublicKey();
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE_FALSE(keys[0].empty());
  CHECK(std::set<std::string>(keys.begin(), keys.end()).size() == 1);
  CHECK(ModeOf(path) == 0600);
}
