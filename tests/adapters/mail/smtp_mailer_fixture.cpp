// The Mailer contract on the SMTP adapter, delivering to the Node.js receiver over STARTTLS
// with AUTH, as a production submission server would be used.
#include <stdexcept>

#include "mail_test_support.hpp"
#include "mailer_fixture.hpp"
#include "socle/adapters/mail/smtp_mailer.hpp"
#include "support/test_ports.hpp"

namespace socle::testing {
namespace {

ReceiverOptions Receiver() {
  ReceiverOptions options;
  options.security = ReceiverOptions::Security::kStartTls;
  options.user = "mailer";
  options.password = "contract-secret";
  return options;
}

class SmtpUnderTest final : public MailerUnderTest {
 public:
  SmtpUnderTest() : receiver_(Receiver()) {
    adapters::mail::SmtpOptions options;
    options.host = "localhost";
    options.port = receiver_.port();
    options.security = adapters::mail::SmtpSecurity::kStartTls;
    options.ca_file = Certificates().ca_file.string();
    options.username = "mailer";
    options.password = "contract-secret";
    options.local_name = "client.example.org";
    options.connect_timeout = std::chrono::seconds(10);
    options.command_timeout = std::chrono::seconds(10);
    options.data_timeout = std::chrono::seconds(20);
    auto mailer = adapters::mail::SmtpMailer::Create(options, clock_, random_);
    if (!mailer) throw std::runtime_error("SmtpMailer::Create: " + mailer.error().message);
    mailer_ = std::move(*mailer);
  }

  application::Mailer& mailer() override { return *mailer_; }

  std::vector<DeliveredMail> Delivered(std::size_t count) override {
    std::vector<ReceivedMail> received = receiver_.WaitForMessages(count);
    std::vector<std::filesystem::path> files;
    for (const auto& mail : received) files.push_back(mail.eml);
    std::vector<domain::JsonValue> parsed = ParseMailFiles(files);
    std::vector<DeliveredMail> out;
    for (std::size_t i = 0; i < received.size(); ++i) {
      out.push_back(DeliveredMail{received[i].raw, std::move(parsed[i]), received[i].to});
    }
    return out;
  }

 private:
  SmtpReceiver receiver_;
  ManualClock clock_{1'700'000'000'000'000};
  SeededRandomSource random_;
  std::unique_ptr<adapters::mail::SmtpMailer> mailer_;
};

}  // namespace

std::unique_ptr<MailerUnderTest> MakeMailerUnderTest() {
  return std::make_unique<SmtpUnderTest>();
}

}  // namespace socle::testing
