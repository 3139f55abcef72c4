// The Mailer contract on the file adapter: messages are read back from the directory.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <stdexcept>

#include "mail_test_support.hpp"
#include "mailer_fixture.hpp"
#include "socle/adapters/mail/file_mailer.hpp"
#include "support/temp_dir.hpp"
#include "support/test_ports.hpp"

namespace socle::testing {
namespace {

// Moves a microsecond at each reading, so that file names (which start with the time) sort in
// the order the messages were sent, while every message stays within the same second.
class SteppingClock final : public application::Clock {
 public:
  domain::Timestamp Now() override {
    return domain::Timestamp::FromUnixMicros(1'700'000'000'000'000 + ticks_++);
  }

 private:
  std::atomic<std::int64_t> ticks_{0};
};

class FileUnderTest final : public MailerUnderTest {
 public:
  FileUnderTest() : mailer_(dir_.path() / "outbox", clock_, random_) {}

  application::Mailer& mailer() override { return mailer_; }

  std::vector<DeliveredMail> Delivered(std::size_t count) override {
    std::vector<std::filesystem::path> files;
    if (std::filesystem::exists(mailer_.directory())) {
      for (const auto& entry : std::filesystem::directory_iterator(mailer_.directory())) {
        if (entry.path().extension() == ".eml") files.push_back(entry.path());
      }
    }
    // The file adapter writes before Send returns: what is not there was not delivered.
    if (files.size() != count) {
      throw std::runtime_error("the outbox holds " + std::to_string(files.size()) +
                               " messages, not " + std::to_string(count));
    }
    std::sort(files.begin(), files.end());
    std::vector<domain::JsonValue> parsed = ParseMailFiles(files);
    std::vector<DeliveredMail> out;
    for (std::size_t i = 0; i < files.size(); ++i) {
      out.push_back(DeliveredMail{ReadFile(files[i]), std::move(parsed[i]), std::nullopt});
    }
    return out;
  }

 private:
  TempDir dir_;
  SteppingClock clock_;
  SeededRandomSource random_;
  adapters::mail::FileMailer mailer_;
};

}  // namespace

std::unique_ptr<MailerUnderTest> MakeMailerUnderTest() {
  return std::make_unique<FileUnderTest>();
}

}  // namespace socle::testing
