// The checkpoint file: the line format and its strict reading, Latest over missing, empty,
// torn and damaged files, the file's and directory's creation, and writers racing in threads
// and in processes.
#include "socle/adapters/files/file_audit_checkpoints.hpp"

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
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

using socle::adapters::files::CheckpointLine;
using socle::adapters::files::FileAuditCheckpoints;
using socle::adapters::files::ParseCheckpointLine;
using socle::domain::AuditCheckpoint;
using socle::domain::AuditCheckpointHead;
using socle::domain::ErrorCode;
using socle::domain::Timestamp;
using socle::testing::TempDir;

namespace {

constexpr std::string_view kHashA =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr std::string_view kHashB =
    "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

AuditCheckpoint Checkpoint(std::string key_id, std::int64_t micros = 1'714'555'800'123'456) {
  AuditCheckpoint checkpoint;
  checkpoint.at = Timestamp::FromUnixMicros(micros);
  checkpoint.key_id = std::move(key_id);
  checkpoint.public_key = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
  checkpoint.heads = {
      AuditCheckpointHead{"org_1", "", 0, 12, std::string(kHashA)},
      AuditCheckpointHead{"org_1", "prj_1", 3, 7, std::string(kHashB)},
  };
  checkpoint.signature = std::string(86, 'S');
  return checkpoint;
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void AppendText(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
  REQUIRE(out.good());
}

std::vector<std::string> Lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::istringstream in(ReadText(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

mode_t ModeOf(const std::filesystem::path& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

std::optional<AuditCheckpoint> MustLatest(FileAuditCheckpoints& checkpoints) {
  auto latest = checkpoints.Latest();
  if (!latest) FAIL(latest.error().message << " / " << latest.error().internal);
  return *latest;
}

void MustAppend(FileAuditCheckpoints& checkpoints, const AuditCheckpoint& checkpoint) {
  auto appended = checkpoints.Append(checkpoint);
  if (!appended) FAIL(appended.error().message << " / " << appended.error().internal);
}

}  // namespace

TEST_CASE("CheckpointLine: the documented compact form", "[files][audit]") {
  AuditCheckpoint checkpoint = Checkpoint("21fe31dfa154a261");
  checkpoint.heads.resize(1);
  checkpoint.signature = "c2ln";
  CHECK(CheckpointLine(checkpoint) ==
        R"({"v":1,"at":"2024-05-01T09:30:00.123456Z","key":"21fe31dfa154a261",)"
        R"("publicKey":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",)"
        R"("heads":[{"org":"org_1","project":"","lane":0,"seq":12,"hash":")" +
            std::string(kHashA) + R"("}],"signature":"c2ln"})");
  const auto back = ParseCheckpointLine(CheckpointLine(checkpoint));
  REQUIRE(back);
  CHECK(*back == checkpoint);
}

TEST_CASE("Append then Latest returns every field as it was", "[files][audit]") {
  TempDir dir;
  FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");

  AuditCheckpoint checkpoint = Checkpoint("clé-ключ-鍵");
  checkpoint.at = Timestamp::FromUnixMicros(1);  // one microsecond after the epoch
  checkpoint.public_key = "quote\" backslash\\ tab\t newline\n nul\x01 del\x7f";
  checkpoint.signature = "emoji 🔏 line separator \u2028 paragraph \u2029 end";
  checkpoint.heads.clear();
  for (std::int64_t i = 0; i < 1000; ++i) {
    checkpoint.heads.push_back(AuditCheckpointHead{
        "org_" + std::to_string(i / 100), i % 3 == 0 ? "" : "projét_" + std::to_string(i),
        i % 8, i * 1'000'003, i % 2 == 0 ? std::string(kHashA) : std::string(kHashB)});
  }
  checkpoint.heads.push_back(AuditCheckpointHead{"o", "p", std::numeric_limits<std::int64_t>::max(),
                                                 std::numeric_limits<std::int64_t>::min(), ""});

  MustAppend(checkpoints, checkpoint);
  const auto latest = MustLatest(checkpoints);
  REQUIRE(latest);
  CHECK(latest->at == checkpoint.at);
  CHECK(latest->key_id == checkpoint.key_id);
  CHECK(latest->public_key == checkpoint.public_key);
  CHECK(latest->signature == checkpoint.signature);
  REQUIRE(latest->heads.size() == 1001);
  CHECK(latest->heads == checkpoint.heads);
  CHECK(*latest == checkpoint);
  // One line, newline-terminated, nothing raw that would split it.
  const std::string text = ReadText(checkpoints.file());
  CHECK(text.back() == '\n');
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}

TEST_CASE("Latest: nothing stored is nullopt", "[files][audit]") {
  TempDir dir;
  SECTION("no directory") {
    FileAuditCheckpoints checkpoints(dir.path() / "data" / "audit" / "checkpoints.jsonl");
    CHECK(MustLatest(checkpoints) == std::nullopt);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "data"));  // reading creates nothing
  }
  SECTION("no file") {
    FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
    CHECK(MustLatest(checkpoints) == std::nullopt);
    CHECK_FALSE(std::filesystem::exists(checkpoints.file()));
  }
  SECTION("an empty file") {
    FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
    AppendText(checkpoints.file(), "");
    CHECK(MustLatest(checkpoints) == std::nullopt);
  }
  SECTION("a torn first line only") {
    FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
    AppendText(checkpoints.file(), CheckpointLine(Checkpoint("k")).substr(0, 50));
    CHECK(MustLatest(checkpoints) == std::nullopt);
  }
}

TEST_CASE("Several appends: Latest is the last one", "[files][audit]") {
  TempDir dir;
  FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
  for (int i = 0; i < 5; ++i) {
    const AuditCheckpoint checkpoint = Checkpoint("key" + std::to_string(i), 1'000'000 * i);
    MustAppend(checkpoints, checkpoint);
    const auto latest = MustLatest(checkpoints);
    REQUIRE(latest);
    CHECK(*latest == checkpoint);
  }
  CHECK(Lines(checkpoints.file()).size() == 5);
  // Another instance (another process, say) reads the same.
  FileAuditCheckpoints reader(checkpoints.file());
  const auto latest = MustLatest(reader);
  REQUIRE(latest);
  CHECK(latest->key_id == "key4");
}

TEST_CASE("A torn last line is ignored, then cut off by the next append", "[files][audit]") {
  TempDir dir;
  FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
  MustAppend(checkpoints, Checkpoint("first"));
  MustAppend(checkpoints, Checkpoint("second"));
  const std::string intact = ReadText(checkpoints.file());

  // What a crash mid-append leaves: the start of a line, no newline. Even a torn line that
  // happens to be complete JSON does not count without its newline.
  for (const std::string& torn : {CheckpointLine(Checkpoint("third")).substr(0, 40),
                                  CheckpointLine(Checkpoint("third")), std::string("{")}) {
    INFO(torn);
    std::filesystem::resize_file(checkpoints.file(), intact.size());
    AppendText(checkpoints.file(), torn);
    const auto latest = MustLatest(checkpoints);
    REQUIRE(latest);
    CHECK(latest->key_id == "second");
  }

  MustAppend(checkpoints, Checkpoint("fourth"));
  const auto latest = MustLatest(checkpoints);
  REQUIRE(latest);
  CHECK(latest->key_id == "fourth");
  const std::vector<std::string> lines = Lines(checkpoints.file());
  REQUIRE(lines.size() == 3);
  CHECK(ParseCheckpointLine(lines[0])->key_id == "first");
  CHECK(ParseCheckpointLine(lines[1])->key_id == "second");
  CHECK(ParseCheckpointLine(lines[2])->key_id == "fourth");
  CHECK(ReadText(checkpoints.file()).starts_with(intact));
}

TEST_CASE("A torn line alone is cut off by the first complete append", "[files][audit]") {
  TempDir dir;
  FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
  AppendText(checkpoints.file(), R"({"v":1,"at":"2024-)");
  MustAppend(checkpoints, Checkpoint("only"));
  CHECK(ReadText(checkpoints.file()) == CheckpointLine(Checkpoint("only")) + "\n");
}

TEST_CASE("A damaged last complete line is internal, naming its number", "[files][audit]") {
  TempDir dir;
  FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
  MustAppend(checkpoints, Checkpoint("first"));
  MustAppend(checkpoints, Checkpoint("second"));
  MustAppend(checkpoints, Checkpoint("third"));
  const std::string intact = ReadText(checkpoints.file());
  const std::string good = CheckpointLine(Checkpoint("x"));
  const std::string heads = R"("heads":[{"org":"o","project":"p","lane":0,"seq":1,"hash":"h"}])";
  const std::string prefix =
      R"({"v":1,"at":"2024-05-01T09:30:00.123456Z","key":"k","publicKey":"p",)";

  for (const std::string& bad : {
           std::string(),                                           // an empty line
           std::string("not json"),
           good.substr(0, good.size() - 1),                         // cut short
           good + "x",                                              // trailing bytes
           std::string("[]"),
           prefix + heads + R"(,"signature":"s","extra":1})",       // unknown member
           prefix + heads + "}",                                    // no signature
           prefix + heads + R"(,"signature":"s","signature":"t"})", // twice
           prefix + heads + R"(,"signature":7})",                   // wrong type
           R"({"v":2,"at":"2024-05-01T09:30:00Z","key":"k","publicKey":"p",)" + heads +
               R"(,"signature":"s"})",                              // unknown version
           R"({"v":1,"at":"yesterday","key":"k","publicKey":"p",)" + heads +
               R"(,"signature":"s"})",
           R"({"v":1,"at":"2024-05-01T09:30:00+02:00","key":"k","publicKey":"p",)" + heads +
               R"(,"signature":"s"})",                              // not UTC
           prefix + R"("heads":{},"signature":"s"})",
           prefix + R"("heads":[{"org":"o","project":"p","lane":0.5,"seq":1,"hash":"h"}],)" +
               R"("signature":"s"})",                               // fractional lane
           prefix + R"("heads":[{"org":"o","project":"p","lane":0,"seq":"1","hash":"h"}],)" +
               R"("signature":"s"})",
           prefix + R"("heads":[{"org":"o","lane":0,"seq":1,"hash":"h"}],"signature":"s"})",
           prefix + R"("heads":[[{"org":"o"}]],"signature":"s"})",  // too deep
           prefix + R"("heads":["x"],"signature":"s"})",
           std::string("{\"v\":1,\"key\":\"\xff\"}"),               // not UTF-8
       }) {
    INFO(bad);
    std::filesystem::resize_file(checkpoints.file(), intact.size());
    AppendText(checkpoints.file(), bad + "\n");
    const auto latest = checkpoints.Latest();
    REQUIRE_FALSE(latest);
    CHECK(latest.error().code == ErrorCode::kInternal);
    CHECK(latest.error().message == "The audit checkpoint file is damaged at line 4.");
    CHECK(latest.error().internal.find(checkpoints.file().string() + " line 4: ") == 0);
  }

  // Damage before the last line is not Latest's to find: it reads the last line only.
  std::filesystem::resize_file(checkpoints.file(), 0);
  AppendText(checkpoints.file(), "garbage\n" + intact);
  const auto latest = MustLatest(checkpoints);
  REQUIRE(latest);
  CHECK(latest->key_id == "third");
}

TEST_CASE("A last line beyond the limit is damage, not a reason to read it", "[files][audit]") {
  TempDir dir;
  FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
  MustAppend(checkpoints, Checkpoint("first"));
  const auto size = std::filesystem::file_size(checkpoints.file());
  // A sparse run of zero bytes longer than any line may be, then a newline.
  std::filesystem::resize_file(checkpoints.file(), size + FileAuditCheckpoints::kMaxLineBytes + 1);
  AppendText(checkpoints.file(), "\n");
  const auto latest = checkpoints.Latest();
  REQUIRE_FALSE(latest);
  CHECK(latest.error().code == ErrorCode::kInternal);
  CHECK(latest.error().message == "The audit checkpoint file is damaged at line 2.");
  CHECK(latest.error().internal.find("longer than") != std::string::npos);
}

TEST_CASE("ParseCheckpointLine refuses what CheckpointLine never writes", "[files][audit]") {
  const std::string good = CheckpointLine(Checkpoint("k"));
  REQUIRE(ParseCheckpointLine(good));
  std::string reordered = good;
  reordered.replace(reordered.find(R"("key":"k","publicKey")"), 10, "");
  reordered.insert(reordered.find(R"(,"heads")"), R"(,"key":"k")");
  REQUIRE(reordered.size() == good.size());
  std::string escaped = good;
  escaped.replace(escaped.find(R"("key":"k")"), 9, R"("key":"\u006b")");
  for (const std::string& bad :
       {good + "\n", " " + good, good + "\r", reordered, escaped, std::string("null"),
        std::string(R"({"v":1})")}) {
    INFO(bad);
    const auto parsed = ParseCheckpointLine(bad);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
  }
  // These two are well-formed checkpoints in every other respect: only their form differs.
  for (const std::string& other_form : {reordered, escaped}) {
    INFO(other_form);
    const auto parsed = ParseCheckpointLine(other_form);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().message.find("not in the form") != std::string::npos);
  }
}

TEST_CASE("Append refuses a checkpoint that would not read back identically", "[files][audit]") {
  TempDir dir;
  FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
  AuditCheckpoint checkpoint = Checkpoint("k");
  checkpoint.heads[1].org_id = "org\xff";  // not UTF-8: the writer would replace the byte
  const auto appended = checkpoints.Append(checkpoint);
  REQUIRE_FALSE(appended);
  CHECK(appended.error().code == ErrorCode::kInternal);
  CHECK_FALSE(std::filesystem::exists(checkpoints.file()));
}

TEST_CASE("Append creates the directory 0700 and the file 0600", "[files][audit]") {
  TempDir dir;
  const std::filesystem::path data = dir.path() / "data";
  FileAuditCheckpoints checkpoints(FileAuditCheckpoints::DefaultPath(data));
  CHECK(checkpoints.file() == data / "audit" / "checkpoints.jsonl");

  const mode_t previous = ::umask(0277);  // would leave the owner without write or search
  const auto appended = checkpoints.Append(Checkpoint("k"));
  ::umask(previous);
  REQUIRE(appended);
  CHECK(ModeOf(data) == 0700);
  CHECK(ModeOf(data / "audit") == 0700);
  CHECK(ModeOf(checkpoints.file()) == 0600);
  MustAppend(checkpoints, Checkpoint("k2"));
  CHECK(MustLatest(checkpoints)->key_id == "k2");

  // An existing directory and file keep the modes their owner gave them.
  std::filesystem::permissions(data / "audit", std::filesystem::perms(0750));
  std::filesystem::permissions(checkpoints.file(), std::filesystem::perms(0640));
  MustAppend(checkpoints, Checkpoint("k3"));
  CHECK(ModeOf(data / "audit") == 0750);
  CHECK(ModeOf(checkpoints.file()) == 0640);
}

TEST_CASE("What is not a writable regular file is refused", "[files][audit]") {
  TempDir dir;
  SECTION("a directory at the path") {
    std::filesystem::create_directory(dir.path() / "checkpoints.jsonl");
    FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
    const auto appended = checkpoints.Append(Checkpoint("k"));
    REQUIRE_FALSE(appended);
    CHECK(appended.error().code == ErrorCode::kUnavailable);
    const auto latest = checkpoints.Latest();
    REQUIRE_FALSE(latest);
    CHECK(latest.error().code == ErrorCode::kInternal);
  }
  SECTION("a file where the directory should be") {
    AppendText(dir.path() / "audit", "a file");
    FileAuditCheckpoints checkpoints(dir.path() / "audit" / "checkpoints.jsonl");
    const auto appended = checkpoints.Append(Checkpoint("k"));
    REQUIRE_FALSE(appended);
    CHECK(appended.error().code == ErrorCode::kUnavailable);
    CHECK(appended.error().message.find(checkpoints.file().string()) != std::string::npos);
  }
  SECTION("a read-only file") {
    FileAuditCheckpoints checkpoints(dir.path() / "checkpoints.jsonl");
    MustAppend(checkpoints, Checkpoint("k"));
    std::filesystem::permissions(checkpoints.file(), std::filesystem::perms(0400));
    if (::geteuid() != 0) {  // root writes whatever the mode says
      const auto appended = checkpoints.Append(Checkpoint("k2"));
      REQUIRE_FALSE(appended);
      CHECK(appended.error().code == ErrorCode::kUnavailable);
    }
    CHECK(MustLatest(checkpoints)->key_id == "k");
  }
  SECTION("no path") {
    FileAuditCheckpoints checkpoints{std::filesystem::path()};
    const auto appended = checkpoints.Append(Checkpoint("k"));
    REQUIRE_FALSE(appended);
    CHECK(appended.error().code == ErrorCode::kUnavailable);
  }
}

TEST_CASE("Writers in threads never interleave", "[files][audit]") {
  TempDir dir;
  const std::filesystem::path path = dir.path() / "audit" / "checkpoints.jsonl";
  // Two instances (as two processes would have) and threads sharing each.
  FileAuditCheckpoints first(path);
  FileAuditCheckpoints second(path);
  constexpr int kThreads = 4;
  constexpr int kAppends = 50;
  std::latch start(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      FileAuditCheckpoints& checkpoints = t % 2 == 0 ? first : second;
      start.arrive_and_wait();
      for (int i = 0; i < kAppends; ++i) {
        AuditCheckpoint checkpoint = Checkpoint(std::to_string(t) + "/" + std::to_string(i));
        // Lines of different lengths, so that an interleaving could not go unnoticed.
        const AuditCheckpointHead head = checkpoint.heads[0];
        checkpoint.heads.resize(static_cast<std::size_t>(1 + (i % 7)), head);
        if (!checkpoints.Append(checkpoint)) ++failures[static_cast<std::size_t>(t)];
        if (!checkpoints.Latest()) ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == std::vector<int>(kThreads, 0));

  std::set<std::string> keys;
  for (const std::string& line : Lines(path)) {
    const auto parsed = ParseCheckpointLine(line);
    REQUIRE(parsed);
    keys.insert(parsed->key_id);
  }
  CHECK(keys.size() == static_cast<std::size_t>(kThreads * kAppends));
  CHECK(Lines(path).size() == static_cast<std::size_t>(kThreads * kAppends));
}

TEST_CASE("Writers in processes never interleave", "[files][audit]") {
  TempDir dir;
  const std::filesystem::path path = dir.path() / "checkpoints.jsonl";
  constexpr int kProcesses = 3;
  constexpr int kAppends = 40;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // The child: its own instance, as the CLI beside the server would have. No Catch2 here.
      FileAuditCheckpoints checkpoints(path);
      int failures = 0;
      for (int i = 0; i < kAppends; ++i) {
        AuditCheckpoint checkpoint = Checkpoint("p" + std::to_string(p) + "/" + std::to_string(i));
        const AuditCheckpointHead head = checkpoint.heads[1];
        checkpoint.heads.resize(static_cast<std::size_t>(1 + (i % 5)), head);
        if (!checkpoints.Append(checkpoint)) ++failures;
      }
      ::_exit(failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  std::set<std::string> keys;
  const std::vector<std::string> lines = Lines(path);
  for (const std::string& line : lines) {
    const auto parsed = ParseCheckpointLine(line);
    REQUIRE(parsed);
    keys.insert(parsed->key_id);
  }
  CHECK(lines.size() == static_cast<std::size_t>(kProcesses * kAppends));
  CHECK(keys.size() == static_cast<std::size_t>(kProcesses * kAppends));
}
