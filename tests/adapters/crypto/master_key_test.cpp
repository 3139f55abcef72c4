// The master key: parsing, the key file's creation and refusals, and processes or threads
// racing to create it.
#include "socle/adapters/crypto/master_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <latch>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/openssl_random_source.hpp"
#include "support/temp_dir.hpp"
#include "support/test_ports.hpp"

using namespace socle::adapters::crypto;
using socle::domain::ErrorCode;
using socle::testing::TempDir;

namespace {

using Bytes = std::vector<std::uint8_t>;

// base64 of the bytes 0x00..0x1f, and of 0xe0..0xff (whose encoding uses '+' and '/').
constexpr std::string_view kKeyA = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr std::string_view kKeyB = "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=";
constexpr std::string_view kKeyBUrl = "4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8=";

Bytes Range(int first, int count) {
  Bytes out;
  for (int i = 0; i < count; ++i) out.push_back(static_cast<std::uint8_t>(first + i));
  return out;
}

Bytes BytesOf(const MasterKey& key) { return Bytes(key.bytes().begin(), key.bytes().end()); }

template <typename T>
std::optional<ErrorCode> CodeOf(const socle::domain::Result<T>& result) {
  if (result) return std::nullopt;
  return result.error().code;
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

std::vector<std::string> Entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::ranges::sort(names);
  return names;
}

}  // namespace

TEST_CASE("ParseMasterKey: base64 of 32 bytes in the usual spellings", "[crypto][master_key]") {
  const auto a = ParseMasterKey(kKeyA);
  REQUIRE(a);
  CHECK(BytesOf(*a) == Range(0, 32));

  const Bytes b = Range(0xe0, 32);
  for (const std::string& text :
       {std::string(kKeyB), std::string(kKeyBUrl), std::string(kKeyB.substr(0, 43)),
        std::string(kKeyBUrl.substr(0, 43)), std::string(kKeyB) + "\n",
        "  " + std::string(kKeyB) + "\r\n", "\t" + std::string(kKeyB) + " "}) {
    INFO(text);
    const auto key = ParseMasterKey(text);
    REQUIRE(key);
    CHECK(BytesOf(*key) == b);
  }
}

TEST_CASE("ParseMasterKey: refuses anything else without echoing it", "[crypto][master_key]") {
  const std::string b(kKeyB);
  for (const std::string& text : {
           std::string(),
           std::string(" \n"),
           std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="),    // 31 bytes
           std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"),    // 33 bytes
           b.substr(0, 43) + "==",                                       // too much padding
           b.substr(0, 43) + "===",
           b.substr(0, 42) + "=",                                        // padding mid-way
           b.substr(0, 20) + " " + b.substr(20),                         // inner space
           b.substr(0, 20) + "\n" + b.substr(20),
           std::string("4OHi4+Tl5ufo6err7O3u7_Dx8vP09fb3+Pn6+/z9/v8="),  // mixed alphabets
           std::string(64, 'a'),                                         // hex is not base64
           std::string("not a key at all"),
           b.substr(0, 42) + "9",  // non-canonical last character
       }) {
    INFO("[" << text << "]");
    const auto key = ParseMasterKey(text);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == ErrorCode::kInvalidArgument);
    if (text.size() > 8) CHECK(key.error().message.find(text) == std::string::npos);
  }
}

TEST_CASE("LoadOrCreateMasterKeyFile: creates a 0600 file once, then reuses it",
          "[crypto][master_key]") {
  TempDir dir;
  const std::string path = dir / "master.key";
  socle::testing::SeededRandomSource random(3);

  const auto created = LoadOrCreateMasterKeyFile(path, random);
  REQUIRE(created);
  CHECK(ModeOf(path) == 0600);
  const std::string content = ReadText(path);
  CHECK(content.size() == 45);  // 44 characters of padded base64 and a newline
  CHECK(content.back() == '\n');
  const auto parsed = ParseMasterKey(content);
  REQUIRE(parsed);
  CHECK(BytesOf(*parsed) == BytesOf(*created));
  CHECK(BytesOf(*created) != Bytes(32, 0));
  // The temporary name it was written under is gone.
  CHECK(Entries(dir.path()) == std::vector<std::string>{"master.key"});

  // Later loads read the same key, whatever the random source would give, and leave the file.
  socle::testing::SeededRandomSource other(99);
  const auto again = LoadOrCreateMasterKeyFile(path, other);
  REQUIRE(again);
  CHECK(BytesOf(*again) == BytesOf(*created));
  CHECK(ReadText(path) == content);
  CHECK(ModeOf(path) == 0600);
}

TEST_CASE("LoadOrCreateMasterKeyFile: the file is 0600 whatever the umask",
          "[crypto][master_key]") {
  TempDir dir;
  const std::string path = dir / "master.key";
  socle::testing::SeededRandomSource random;
  const mode_t previous = ::umask(0277);
  const auto created = LoadOrCreateMasterKeyFile(path, random);
  ::umask(previous);
  REQUIRE(created);
  CHECK(ModeOf(path) == 0600);
  CHECK(LoadOrCreateMasterKeyFile(path, random));
}

TEST_CASE("LoadOrCreateMasterKeyFile: reads a key file written by hand", "[crypto][master_key]") {
  TempDir dir;
  const std::string path = dir / "master.key";
  socle::testing::SeededRandomSource random;
  for (const mode_t mode : {mode_t{0600}, mode_t{0400}}) {
    WriteFile(path, std::string(kKeyA) + "\n", mode);
    const auto key = LoadOrCreateMasterKeyFile(path, random);
    REQUIRE(key);
    CHECK(BytesOf(*key) == Range(0, 32));
  }
  // Through a symbolic link, as secret volumes mount them: the target's mode is what counts.
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  const std::string link = dir / "link.key";
  REQUIRE(::symlink(path.c_str(), link.c_str()) == 0);
  const auto through_link = LoadOrCreateMasterKeyFile(link, random);
  REQUIRE(through_link);
  CHECK(BytesOf(*through_link) == Range(0, 32));
}

TEST_CASE("LoadOrCreateMasterKeyFile: refuses a file group or others can access",
          "[crypto][master_key]") {
  TempDir dir;
  const std::string path = dir / "master.key";
  socle::testing::SeededRandomSource random;
  for (const mode_t mode : {mode_t{0644}, mode_t{0640}, mode_t{0604}, mode_t{0620},
                            mode_t{0602}, mode_t{0610}, mode_t{0666}}) {
    INFO("mode " << std::oct << mode);
    WriteFile(path, std::string(kKeyA) + "\n", mode);
    const auto key = LoadOrCreateMasterKeyFile(path, random);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == ErrorCode::kFailedPrecondition);
    CHECK(key.error().message.find(path) != std::string::npos);
    CHECK(key.error().message.find("chmod 600") != std::string::npos);
    // Refused, not repaired or replaced.
    CHECK(ModeOf(path) == mode);
    CHECK(ReadText(path) == std::string(kKeyA) + "\n");
  }
}

TEST_CASE("LoadOrCreateMasterKeyFile: refuses malformed content", "[crypto][master_key]") {
  TempDir dir;
  const std::string path = dir / "master.key";
  socle::testing::SeededRandomSource random;
  for (const std::string& content :
       {std::string(), std::string("\n"), std::string("secret-but-not-base64\n"),
        std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n"),  // 31 bytes
        std::string(kKeyA) + "\n" + std::string(kKeyA) + "\n",          // two keys
        std::string(5000, 'A')}) {
    INFO("content of " << content.size() << " bytes");
    WriteFile(path, content, 0600);
    const auto key = LoadOrCreateMasterKeyFile(path, random);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == ErrorCode::kFailedPrecondition);
    CHECK(key.error().message.find(path) != std::string::npos);
    if (content.size() > 2) CHECK(key.error().message.find(content) == std::string::npos);
    CHECK(ReadText(path) == content);  // never overwritten
  }
}

TEST_CASE("LoadOrCreateMasterKeyFile: refuses what is not a creatable regular file",
          "[crypto][master_key]") {
  TempDir dir;
  socle::testing::SeededRandomSource random;

  SECTION("a directory") {
    const std::string path = dir / "keydir";
    REQUIRE(::mkdir(path.c_str(), 0700) == 0);
    CHECK(CodeOf(LoadOrCreateMasterKeyFile(path, random)) == ErrorCode::kFailedPrecondition);
  }
  SECTION("a FIFO, without blocking on it") {
    const std::string path = dir / "fifo";
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    CHECK(CodeOf(LoadOrCreateMasterKeyFile(path, random)) == ErrorCode::kFailedPrecondition);
  }
  SECTION("a missing directory") {
    const std::string path = dir / "missing/master.key";
    const auto key = LoadOrCreateMasterKeyFile(path, random);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == ErrorCode::kFailedPrecondition);
    CHECK(key.error().message.find(path) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "missing"));
  }
  SECTION("a dangling symbolic link") {
    const std::string path = dir / "dangling.key";
    REQUIRE(::symlink((dir / "nowhere").c_str(), path.c_str()) == 0);
    CHECK(CodeOf(LoadOrCreateMasterKeyFile(path, random)) == ErrorCode::kFailedPrecondition);
    // Nothing was created through the link, and no temporary file is left behind.
    CHECK_FALSE(std::filesystem::exists(dir.path() / "nowhere"));
    CHECK(Entries(dir.path()) == std::vector<std::string>{"dangling.key"});
  }
  SECTION("an empty path") {
    CHECK(CodeOf(LoadOrCreateMasterKeyFile("", random)) == ErrorCode::kFailedPrecondition);
  }
  if (::geteuid() != 0) {  // root ignores directory permissions
    SECTION("a directory it may not write") {
      const std::string sub = dir / "readonly";
      REQUIRE(::mkdir(sub.c_str(), 0500) == 0);
      const auto key = LoadOrCreateMasterKeyFile(sub + "/master.key", random);
      CHECK(CodeOf(key) == ErrorCode::kFailedPrecondition);
      REQUIRE(::chmod(sub.c_str(), 0700) == 0);
    }
  }
}

TEST_CASE("LoadOrCreateMasterKeyFile: racing threads agree on one key", "[crypto][master_key]") {
  constexpr int kRounds = 20;
  constexpr int kThreads = 8;
  for (int round = 0; round < kRounds; ++round) {
    TempDir dir;
    const std::string path = dir / "master.key";
    std::latch start(kThreads);
    std::vector<std::optional<Bytes>> keys(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        OpenSslRandomSource random;  // each its own: a lost race must not hide behind equal bytes
        start.arrive_and_wait();
        auto key = LoadOrCreateMasterKeyFile(path, random);
        if (key) keys[static_cast<std::size_t>(t)] = BytesOf(*key);
      });
    }
    for (auto& thread : threads) thread.join();
    const auto on_disk = ParseMasterKey(ReadText(path));
    REQUIRE(on_disk);
    for (const auto& key : keys) {
      REQUIRE(key);
      CHECK(*key == BytesOf(*on_disk));
    }
    CHECK(Entries(dir.path()) == std::vector<std::string>{"master.key"});
  }
}

TEST_CASE("LoadOrCreateMasterKeyFile: racing processes agree on one key",
          "[crypto][master_key]") {
  constexpr int kRounds = 10;
  constexpr int kProcesses = 4;
  for (int round = 0; round < kRounds; ++round) {
    TempDir dir;
    const std::string path = dir / "master.key";
    // Children block reading the gate until the parent closes its end, so they start together.
    int gate[2];
    REQUIRE(::pipe(gate) == 0);
    std::vector<pid_t> children;
    std::vector<int> outputs;
    for (int p = 0; p < kProcesses; ++p) {
      int result[2];
      REQUIRE(::pipe(result) == 0);
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        ::close(gate[1]);
        ::close(result[0]);
        char byte = 0;
        while (::read(gate[0], &byte, 1) < 0 && errno == EINTR) {
        }
        OpenSslRandomSource random;
        const auto key = LoadOrCreateMasterKeyFile(path, random);
        const std::string hex = key ? ToHex(key->bytes()) : "error: " + key.error().message;
        const bool written = ::write(result[1], hex.data(), hex.size()) ==
                             static_cast<ssize_t>(hex.size());
        ::_exit(key && written ? 0 : 1);  // no Catch2 teardown in the child
      }
      ::close(result[1]);
      children.push_back(pid);
      outputs.push_back(result[0]);
    }
    ::close(gate[0]);
    ::close(gate[1]);  // go

    std::set<std::string> keys;
    for (std::size_t i = 0; i < children.size(); ++i) {
      std::string hex;
      char buffer[256];
      ssize_t n = 0;
      while ((n = ::read(outputs[i], buffer, sizeof buffer)) > 0) {
        hex.append(buffer, static_cast<std::size_t>(n));
      }
      ::close(outputs[i]);
      int status = 0;
      REQUIRE(::waitpid(children[i], &status, 0) == children[i]);
      INFO("child said: " << hex);
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);
      keys.insert(hex);
    }
    REQUIRE(keys.size() == 1);
    const auto on_disk = ParseMasterKey(ReadText(path));
    REQUIRE(on_disk);
    CHECK(*keys.begin() == ToHex(on_disk->bytes()));
    CHECK(Entries(dir.path()) == std::vector<std::string>{"master.key"});
  }
}

TEST_CASE("LoadMasterKey: the environment first, else the file", "[crypto][master_key]") {
  TempDir dir;
  const std::string path = dir / "master.key";
  socle::testing::SeededRandomSource random;

  SECTION("an environment value is used and no file is made") {
    const auto key = LoadMasterKey({std::string(kKeyA), path}, random);
    REQUIRE(key);
    CHECK(BytesOf(*key) == Range(0, 32));
    CHECK_FALSE(std::filesystem::exists(path));
  }
  SECTION("an empty or malformed environment value is an error, not a fallback") {
    for (const std::string& value : {std::string(), std::string("  "), std::string("short")}) {
      const auto key = LoadMasterKey({value, path}, random);
      REQUIRE_FALSE(key);
      CHECK(key.error().code == ErrorCode::kInvalidArgument);
      CHECK(key.error().message.find("SOCLE_MASTER_KEY") != std::string::npos);
      CHECK_FALSE(std::filesystem::exists(path));
    }
  }
  SECTION("without an environment value the file is created, then reused") {
    const auto first = LoadMasterKey({std::nullopt, path}, random);
    REQUIRE(first);
    CHECK(ModeOf(path) == 0600);
    const auto second = LoadMasterKey({std::nullopt, path}, random);
    REQUIRE(second);
    CHECK(BytesOf(*second) == BytesOf(*first));
  }
  SECTION("neither is a configuration error") {
    CHECK(CodeOf(LoadMasterKey({std::nullopt, {}}, random)) == ErrorCode::kFailedPrecondition);
  }
}

TEST_CASE("MasterKey copies hold the same bytes", "[crypto][master_key]") {
  const auto key = ParseMasterKey(kKeyA);
  REQUIRE(key);
  const MasterKey copy = *key;
  CHECK(BytesOf(copy) == BytesOf(*key));
  const Bytes raw = Range(7, 32);
  const MasterKey from_bytes(std::span<const std::uint8_t, 32>(raw.data(), 32));
  CHECK(BytesOf(from_bytes) == raw);
}
