// The file adapter's own promises: names, permissions, atomic writes, and its failures.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "mail_test_support.hpp"
#include "socle/adapters/mail/file_mailer.hpp"
#include "support/temp_dir.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using adapters::mail::FileMailer;
using application::MailMessage;
using domain::ErrorCode;
namespace fs = std::filesystem;

namespace {

MailMessage Message() {
  MailMessage message;
  message.from = {"", "noreply@example.org"};
  message.to = {{"", "ann@example.org"}};
  message.bcc = {{"", "audit@example.com"}};
  message.subject = "Saved";
  message.text = "Kept on disk.\n";
  return message;
}

std::vector<fs::path> Entries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path());
  return out;
}

unsigned Mode(const fs::path& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777U;
}

}  // namespace

TEST_CASE("file mailer: one private .eml per message, named by time", "[mail][file]") {
  testing::TempDir dir;
  testing::ManualClock clock(1'700'000'000'123'456);
  testing::SeededRandomSource random;
  const fs::path outbox = dir.path() / "var" / "mail" / "outbox";
  FileMailer mailer(outbox, clock, random);

  REQUIRE(mailer.Send(Message()));
  clock.Advance(1'000'000);
  REQUIRE(mailer.Send(Message()));

  auto files = Entries(outbox);
  REQUIRE(files.size() == 2);  // and no temporary file left behind
  std::sort(files.begin(), files.end());
  const std::regex name(R"(\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{16}\.eml)");
  for (const auto& file : files) {
    INFO(file.filename().string());
    CHECK(std::regex_match(file.filename().string(), name));
    CHECK(Mode(file) == 0600);
  }
  CHECK(files[0].filename().string().starts_with("20231114T221320.123456Z-"));
  CHECK(files[1].filename().string().starts_with("20231114T221321.123456Z-"));
  // Directories the mailer made are private; the one that was there is left as it was.
  CHECK(Mode(outbox) == 0700);
  CHECK(Mode(dir.path() / "var") == 0700);
  CHECK(Mode(dir.path()) == 0700);  // made by mkdtemp

  const std::string raw = testing::ReadFile(files[0]);
  CHECK(raw.starts_with("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
  CHECK(raw.find("\r\nSubject: Saved\r\n") != std::string::npos);
  CHECK(raw.find("audit@example.com") == std::string::npos);
  CHECK(raw.ends_with("\r\n\r\nKept on disk.\r\n"));
}

TEST_CASE("file mailer: an existing directory is used as it is", "[mail][file]") {
  testing::TempDir dir;
  fs::permissions(dir.path(), fs::perms(0755));
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  FileMailer mailer(dir.path(), clock, random);
  REQUIRE(mailer.Send(Message()));
  CHECK(Entries(dir.path()).size() == 1);
  CHECK(Mode(dir.path()) == 0755);
}

TEST_CASE("file mailer: a directory that cannot be made is unavailable", "[mail][file]") {
  testing::TempDir dir;
  std::ofstream(dir.path() / "plain-file") << "not a directory";
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  FileMailer mailer(dir.path() / "plain-file" / "outbox", clock, random);
  auto sent = mailer.Send(Message());
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kUnavailable);
  CHECK(sent.error().internal.find("plain-file") != std::string::npos);
  CHECK(sent.error().message.find("plain-file") == std::string::npos);
}

TEST_CASE("file mailer: a malformed message writes nothing", "[mail][file]") {
  testing::TempDir dir;
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  FileMailer mailer(dir.path() / "outbox", clock, random);
  MailMessage message = Message();
  message.headers = {{"X-Evil", "a\nb"}};
  auto sent = mailer.Send(message);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kInvalidArgument);
  CHECK_FALSE(fs::exists(dir.path() / "outbox"));
}
