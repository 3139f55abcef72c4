// The audit archive files of retention: what a committed archive holds (its lines, its
// manifest entry and SHA-256), that nothing of an archive abandoned or failed is left under a
// final name, and that an archive never replaces another.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "socle/adapters/files/file_audit_archive.hpp"
#include "socle/domain/audit.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using socle::adapters::files::ArchiveLine;
using socle::adapters::files::ArchiveTime;
using socle::adapters::files::FileAuditArchive;
using socle::adapters::files::FileAuditArchives;
using socle::application::StoredAuditEvent;
using socle::domain::AuditPart;
using socle::domain::AuditPersonal;
using socle::domain::ErrorCode;
using socle::domain::Timestamp;

constexpr const char* kOrg = "org000000000001";
constexpr const char* kProject = "proj00000000001";

StoredAuditEvent Event(std::int64_t seq, std::int64_t at_seconds) {
  StoredAuditEvent stored;
  auto& e = stored.event;
  e.seq = seq;
  e.at = Timestamp::FromUnixMicros(at_seconds * 1'000'000);
  e.org_id = kOrg;
  e.project_id = kProject;
  e.actor_id = "m_alice";
  e.action = "record.update";
  e.target_kind = "record";
  e.target_collection = "pbc_notes";
  e.target_id = "n1";
  e.reason = "line\nbreak \"quoted\"";
  e.prev_hash = std::string(64, 'a');
  e.hash = std::string(64, 'b');
  return stored;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> Names(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("an archive line is the canonical event, its hash and its personal parts",
          "[files][audit][retention]") {
  StoredAuditEvent stored = Event(1, 10);
  CHECK(ArchiveLine(stored) == "{\"event\":" + socle::domain::CanonicalAuditEvent(stored.event) +
                                   ",\"hash\":\"" + stored.event.hash +
                                   "\",\"actorData\":null,\"targetData\":null}");
  stored.personal.push_back(AuditPersonal{0, 1, AuditPart::kTarget, "n1", "{\"a\":\"\\u0001\"}"});
  CHECK(ArchiveLine(stored).ends_with(
      ",\"actorData\":null,\"targetData\":\"{\\\"a\\\":\\\"\\\\u0001\\\"}\"}"));
  CHECK(ArchiveTime(Timestamp::FromUnixMicros(1'700'000'000'123'456)) ==
        "20231114T221320.123456Z");
}

TEST_CASE("a committed archive holds its events and is listed with its SHA-256",
          "[files][audit][retention]") {
  socle::testing::TempDir dir;
  const fs::path root = FileAuditArchive::DefaultRoot(dir.path());
  CHECK(root == dir.path() / "audit" / "archive");
  const fs::path directory = root / kOrg / kProject;
  {
    FileAuditArchive archive(root, kOrg, kProject);
    CHECK_FALSE(fs::exists(root));  // nothing before the first event
    REQUIRE(archive.Write(Event(1, 100)).has_value());
    REQUIRE(archive.Write(Event(2, 50)).has_value());  // the earliest need not come first
    REQUIRE(archive.Commit().has_value());
    REQUIRE(archive.file().has_value());
    CHECK(archive.Location() == archive.file()->string());
    CHECK(archive.events() == 2);
    const std::string name = "19700101T000050.000000Z_19700101T000140.000000Z.jsonl";
    CHECK(*archive.file() == directory / name);
    CHECK(Names(directory) == std::vector<std::string>{name, "manifest.jsonl"});
    const std::string text = ReadAll(*archive.file());
    CHECK(text == ArchiveLine(Event(1, 100)) + "\n" + ArchiveLine(Event(2, 50)) + "\n");
    CHECK(archive.sha256().size() == 64);
    CHECK(ReadAll(directory / "manifest.jsonl") ==
          "{\"file\":\"" + name + "\",\"sha256\":\"" + archive.sha256() +
              "\",\"events\":2,\"first\":\"1970-01-01T00:00:50.000000Z\",\"last\":"
              "\"1970-01-01T00:01:40.000000Z\"}\n");
    struct stat info {};
    REQUIRE(::stat(archive.file()->c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    REQUIRE(::stat(directory.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0700);
    // Committing twice changes nothing; writing after it is refused.
    CHECK(archive.Commit().has_value());
    auto late = archive.Write(Event(3, 200));
    REQUIRE_FALSE(late.has_value());
    CHECK(late.error().code == ErrorCode::kFailedPrecondition);
  }
  SECTION("a second archive of the same span gets a name of its own") {
    FileAuditArchive again(root, kOrg, kProject);
    REQUIRE(again.Write(Event(1, 100)).has_value());
    REQUIRE(again.Write(Event(2, 50)).has_value());
    REQUIRE(again.Commit().has_value());
    CHECK(again.file()->filename() ==
          "19700101T000050.000000Z_19700101T000140.000000Z.1.jsonl");
    CHECK(Names(directory).size() == 3);
    std::string manifest = ReadAll(directory / "manifest.jsonl");
    CHECK(std::count(manifest.begin(), manifest.end(), '\n') == 2);
  }
}

TEST_CASE("an archive abandoned or refused leaves no archive file behind",
          "[files][audit][retention]") {
  socle::testing::TempDir dir;
  const fs::path root = dir.path() / "archive";
  const fs::path directory = root / kOrg / kProject;
  SECTION("abandoned before its commit") {
    {
      FileAuditArchive archive(root, kOrg, kProject);
      REQUIRE(archive.Write(Event(1, 100)).has_value());
      CHECK(Names(directory).size() == 1);  // the temporary file
    }
    CHECK(Names(directory).empty());
  }
  SECTION("an event of another project") {
    FileAuditArchive archive(root, kOrg, kProject);
    StoredAuditEvent other = Event(1, 100);
    other.event.project_id = "proj00000000002";
    auto refused = archive.Write(other);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  }
  SECTION("ids that are not plain names") {
    for (const char* bad : {"", "..", "a/b", "org 1"}) {
      INFO(bad);
      FileAuditArchive archive(root, bad, kProject);
      StoredAuditEvent event = Event(1, 100);
      event.event.org_id = bad;
      auto refused = archive.Write(event);
      REQUIRE_FALSE(refused.has_value());
      CHECK(refused.error().code == ErrorCode::kInvalidArgument);
      FileAuditArchives archives(root);
      CHECK_FALSE(archives.Open(bad, kProject).has_value());
    }
    CHECK_FALSE(fs::exists(root));
  }
  SECTION("a directory that cannot be made") {
    std::ofstream(dir.path() / "file") << "x";
    FileAuditArchive archive(dir.path() / "file", kOrg, kProject);
    auto refused = archive.Write(Event(1, 100));
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::kUnavailable);
  }
  SECTION("nothing written, nothing made") {
    FileAuditArchive archive(root, kOrg, kProject);
    CHECK(archive.Commit().has_value());
    CHECK_FALSE(archive.file().has_value());
    CHECK_FALSE(fs::exists(root));
  }
}
