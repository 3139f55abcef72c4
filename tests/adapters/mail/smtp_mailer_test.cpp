// The SMTP adapter against a real SMTP server (the Node.js receiver of tests/support/smtp,
// started per test on a free loopback port): each security mode, authentication, certificate
// verification, and the ways a server can refuse or fail.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "mail_test_support.hpp"
#include "socle/adapters/mail/smtp_mailer.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using adapters::mail::SmtpMailer;
using adapters::mail::SmtpOptions;
using adapters::mail::SmtpSecurity;
using application::MailMessage;
using domain::ErrorCode;
using testing::ReceiverOptions;
using testing::SmtpReceiver;

namespace {

constexpr const char* kUser = "mailer@example.org";
constexpr const char* kPassword = "pa:ss w0rd\xC3\xA9";

MailMessage Message(std::string subject = "Hello") {
  MailMessage message;
  message.from = {"Socle", "noreply@example.org"};
  message.to = {{"Ann", "ann@example.org"}};
  message.cc = {{"", "carl@example.net"}};
  message.bcc = {{"", "audit@example.com"}};
  message.subject = std::move(subject);
  message.text = "Line one.\n.\n..two dots\nLast line.\n";
  return message;
}

SmtpOptions Options(const SmtpReceiver& receiver, SmtpSecurity security) {
  SmtpOptions options;
  options.host = "localhost";
  options.port = receiver.port();
  options.security = security;
  options.local_name = "client.example.org";
  if (security != SmtpSecurity::kNone) {
    options.ca_file = testing::Certificates().ca_file.string();
  }
  options.connect_timeout = std::chrono::seconds(10);
  options.command_timeout = std::chrono::seconds(10);
  options.data_timeout = std::chrono::seconds(20);
  return options;
}

struct Harness {
  testing::ManualClock clock;
  testing::SeededRandomSource random;

  std::unique_ptr<SmtpMailer> Make(const SmtpOptions& options) {
    auto mailer = SmtpMailer::Create(options, clock, random);
    if (!mailer) {
      throw std::runtime_error("SmtpMailer::Create: " + mailer.error().message + " / " +
                               mailer.error().internal);
    }
    return std::move(*mailer);
  }
};

ReceiverOptions Receiver(ReceiverOptions::Security security) {
  ReceiverOptions options;
  options.security = security;
  return options;
}

ReceiverOptions WithAuth(ReceiverOptions options, std::string methods = "PLAIN,LOGIN") {
  options.user = kUser;
  options.password = kPassword;
  options.auth_methods = std::move(methods);
  return options;
}

void CheckDelivered(const testing::ReceivedMail& mail, bool secure) {
  CHECK(mail.from == "noreply@example.org");
  CHECK(mail.to == std::vector<std::string>{"ann@example.org", "carl@example.net",
                                            "audit@example.com"});
  CHECK(mail.secure == secure);
  CHECK(mail.client_hostname == "client.example.org");
  // Dot-stuffing was undone by the server: the lines are back as written.
  CHECK(mail.raw.find("\r\n\r\nLine one.\r\n.\r\n..two dots\r\nLast line.\r\n") !=
        std::string::npos);
  CHECK(mail.raw.find("audit@example.com") == std::string::npos);
}

}  // namespace

TEST_CASE("smtp: a message goes out over a plain connection", "[mail][smtp]") {
  SmtpReceiver receiver(Receiver(ReceiverOptions::Security::kPlain));
  Harness harness;
  auto mailer = harness.Make(Options(receiver, SmtpSecurity::kNone));
  REQUIRE(mailer->Send(Message()));
  auto mails = receiver.WaitForMessages(1);
  CheckDelivered(mails.front(), false);
  CHECK(mails.front().auth_method.empty());
}

TEST_CASE("smtp: STARTTLS with a verified certificate and AUTH PLAIN", "[mail][smtp][tls]") {
  SmtpReceiver receiver(WithAuth(Receiver(ReceiverOptions::Security::kStartTls)));
  Harness harness;
  SmtpOptions options = Options(receiver, SmtpSecurity::kStartTls);
  options.username = kUser;
  options.password = kPassword;
  auto mailer = harness.Make(options);
  REQUIRE(mailer->Send(Message()));
  REQUIRE(mailer->Send(Message("Second")));  // a fresh connection per message
  auto mails = receiver.WaitForMessages(2);
  CheckDelivered(mails[0], true);
  CHECK(mails[0].auth_method == "PLAIN");
  CHECK(mails[0].auth_user == kUser);
  CHECK(mails[1].raw.find("Subject: Second\r\n") != std::string::npos);
}

TEST_CASE("smtp: implicit TLS", "[mail][smtp][tls]") {
  SmtpReceiver receiver(WithAuth(Receiver(ReceiverOptions::Security::kTls)));
  Harness harness;
  SmtpOptions options = Options(receiver, SmtpSecurity::kTls);
  options.username = kUser;
  options.password = kPassword;
  auto mailer = harness.Make(options);
  REQUIRE(mailer->Send(Message()));
  auto mails = receiver.WaitForMessages(1);
  CheckDelivered(mails.front(), true);
  CHECK(mails.front().auth_method == "PLAIN");
}

TEST_CASE("smtp: AUTH LOGIN when the server does not offer PLAIN", "[mail][smtp][auth]") {
  SmtpReceiver receiver(WithAuth(Receiver(ReceiverOptions::Security::kStartTls), "LOGIN"));
  Harness harness;
  SmtpOptions options = Options(receiver, SmtpSecurity::kStartTls);
  options.username = kUser;
  options.password = kPassword;
  auto mailer = harness.Make(options);
  REQUIRE(mailer->Send(Message()));
  auto mails = receiver.WaitForMessages(1);
  CHECK(mails.front().auth_method == "LOGIN");
  CHECK(mails.front().auth_user == kUser);
}

TEST_CASE("smtp: wrong credentials are refused and nothing is sent", "[mail][smtp][auth]") {
  const char* methods = GENERATE("PLAIN,LOGIN", "LOGIN");
  INFO("server offers " << methods);
  SmtpReceiver receiver(WithAuth(Receiver(ReceiverOptions::Security::kStartTls), methods));
  Harness harness;
  SmtpOptions options = Options(receiver, SmtpSecurity::kStartTls);
  options.username = kUser;
  options.password = "not the password";
  auto mailer = harness.Make(options);
  auto sent = mailer->Send(Message());
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kFailedPrecondition);
  CHECK(sent.error().internal.find("535") != std::string::npos);
  CHECK(sent.error().message.find("not the password") == std::string::npos);
  CHECK(sent.error().internal.find("not the password") == std::string::npos);
  receiver.WaitForMessages(0);
}

TEST_CASE("smtp: no AUTH configured for a server that requires it", "[mail][smtp][auth]") {
  SmtpReceiver receiver(WithAuth(Receiver(ReceiverOptions::Security::kStartTls)));
  Harness harness;
  auto mailer = harness.Make(Options(receiver, SmtpSecurity::kStartTls));
  auto sent = mailer->Send(Message());
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kFailedPrecondition);
  CHECK(sent.error().internal.find("530") != std::string::npos);
}

TEST_CASE("smtp: credentials never travel unencrypted unless allowed", "[mail][smtp][auth]") {
  ReceiverOptions receiver_options = WithAuth(Receiver(ReceiverOptions::Security::kPlain));
  receiver_options.allow_insecure_auth = true;
  SmtpReceiver receiver(receiver_options);
  Harness harness;
  SmtpOptions options = Options(receiver, SmtpSecurity::kNone);
  options.username = kUser;
  options.password = kPassword;

  // Refused when configured, before any connection.
  auto refused = SmtpMailer::Create(options, harness.clock, harness.random);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);

  options.allow_plaintext_auth = true;
  auto mailer = harness.Make(options);
  REQUIRE(mailer->Send(Message()));
  auto mails = receiver.WaitForMessages(1);
  CHECK_FALSE(mails.front().secure);
  CHECK(mails.front().auth_method == "PLAIN");
}

TEST_CASE("smtp: a certificate that does not chain to the trusted CA is refused",
          "[mail][smtp][tls]") {
  const auto security = GENERATE(SmtpSecurity::kStartTls, SmtpSecurity::kTls);
  const bool implicit = security == SmtpSecurity::kTls;
  INFO("security " << adapters::mail::ToString(security));
  SmtpReceiver receiver(Receiver(implicit ? ReceiverOptions::Security::kTls
                                          : ReceiverOptions::Security::kStartTls));
  Harness harness;
  SmtpOptions options = Options(receiver, security);

  SECTION("the system trust store does not know the test CA") { options.ca_file.clear(); }
  SECTION("another CA") { options.ca_file = testing::Certificates().other_ca_file.string(); }

  auto mailer = harness.Make(options);
  auto sent = mailer->Send(Message());
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kFailedPrecondition);
  CHECK(sent.error().internal.find("certificate") != std::string::npos);
  receiver.WaitForMessages(0);
}

TEST_CASE("smtp: a certificate for another name is refused", "[mail][smtp][tls]") {
  SmtpReceiver receiver(Receiver(ReceiverOptions::Security::kTls));
  Harness harness;
  SmtpOptions options = Options(receiver, SmtpSecurity::kTls);
  options.host = "127.0.0.1";  // the certificate names "localhost" only
  auto mailer = harness.Make(options);
  auto sent = mailer->Send(Message());
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kFailedPrecondition);
  CHECK(sent.error().internal.find("mismatch") != std::string::npos);

  // Turning verification off, explicitly, is the only way past it.
  options.ca_file.clear();
  options.tls_verify = false;
  auto unverified = harness.Make(options);
  REQUIRE(unverified->Send(Message()));
  CHECK(receiver.WaitForMessages(1).front().secure);
}

TEST_CASE("smtp: STARTTLS required but not offered is refused before anything is sent",
          "[mail][smtp][tls]") {
  SmtpReceiver receiver(Receiver(ReceiverOptions::Security::kPlain));
  Harness harness;
  SmtpOptions options = Options(receiver, SmtpSecurity::kStartTls);
  auto mailer = harness.Make(options);
  auto sent = mailer->Send(Message());
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kFailedPrecondition);
  CHECK(sent.error().message.find("STARTTLS") != std::string::npos);
  receiver.WaitForMessages(0);
}

TEST_CASE("smtp: a refused recipient fails the send and names the address", "[mail][smtp]") {
  ReceiverOptions receiver_options = Receiver(ReceiverOptions::Security::kPlain);
  receiver_options.refuse_recipients = {"carl@example.net"};
  SmtpReceiver receiver(receiver_options);
  Harness harness;
  auto mailer = harness.Make(Options(receiver, SmtpSecurity::kNone));
  auto sent = mailer->Send(Message());
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kInvalidArgument);
  CHECK(sent.error().message.find("carl@example.net") != std::string::npos);
  REQUIRE(sent.error().fields.size() == 1);
  CHECK(sent.error().fields.front().field == "cc");
  CHECK(sent.error().internal.find("550") != std::string::npos);
  receiver.WaitForMessages(0);

  // The same mailer goes on working for messages the server takes.
  MailMessage fine = Message("fine");
  fine.cc.clear();
  REQUIRE(mailer->Send(fine));
  CHECK(receiver.WaitForMessages(1).front().to ==
        std::vector<std::string>{"ann@example.org", "audit@example.com"});
}

TEST_CASE("smtp: a message over the server's SIZE limit is not sent", "[mail][smtp]") {
  ReceiverOptions receiver_options = Receiver(ReceiverOptions::Security::kPlain);
  receiver_options.size = 2000;
  SmtpReceiver receiver(receiver_options);
  Harness harness;
  auto mailer = harness.Make(Options(receiver, SmtpSecurity::kNone));
  MailMessage big = Message("big");
  big.text = std::string(5000, 'a');
  auto sent = mailer->Send(big);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kResourceExhausted);
  REQUIRE(mailer->Send(Message("small")));
  receiver.WaitForMessages(1);
}

TEST_CASE("smtp: a server that is down is reported unavailable at once", "[mail][smtp]") {
  Harness harness;
  SmtpOptions options;
  options.host = "127.0.0.1";
  options.port = testing::UnusedPort();
  options.security = SmtpSecurity::kNone;
  auto mailer = harness.Make(options);
  const auto start = std::chrono::steady_clock::now();
  auto sent = mailer->Send(Message());
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kUnavailable);
  CHECK(sent.error().message == "The mail server could not be reached.");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("smtp: a server that never answers is given up on at the timeout", "[mail][smtp]") {
  // A listening socket that is never accepted from: the connection completes in the kernel,
  // and the greeting never comes.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);

  Harness harness;
  SmtpOptions options;
  options.host = "127.0.0.1";
  options.port = ntohs(address.sin_port);
  options.security = GENERATE(SmtpSecurity::kNone, SmtpSecurity::kTls);
  options.tls_verify = false;
  options.command_timeout = std::chrono::milliseconds(300);
  auto mailer = harness.Make(options);
  const auto start = std::chrono::steady_clock::now();
  auto sent = mailer->Send(Message());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(listener);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kUnavailable);
  CHECK(sent.error().internal.find("timed out") != std::string::npos);
  CHECK(elapsed >= std::chrono::milliseconds(300));
  CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("smtp: a malformed message never reaches the network", "[mail][smtp]") {
  Harness harness;
  SmtpOptions options;
  options.host = "127.0.0.1";
  options.port = testing::UnusedPort();
  options.security = SmtpSecurity::kNone;
  auto mailer = harness.Make(options);
  MailMessage message = Message();
  message.subject = "a\r\nb";
  auto sent = mailer->Send(message);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kInvalidArgument);  // not unavailable: checked first
}

TEST_CASE("smtp: options that cannot work are refused when the mailer is made", "[mail][smtp]") {
  Harness harness;
  SmtpOptions options;
  options.host = "localhost";
  SECTION("an unreadable CA file") {
    options.ca_file = "/nonexistent/ca.pem";
    auto made = SmtpMailer::Create(options, harness.clock, harness.random);
    REQUIRE_FALSE(made);
    CHECK(made.error().code == ErrorCode::kInvalidArgument);
  }
  SECTION("no host") {
    options.host.clear();
    auto made = SmtpMailer::Create(options, harness.clock, harness.random);
    REQUIRE_FALSE(made);
    CHECK(made.error().code == ErrorCode::kInvalidArgument);
  }
  SECTION("a local name that would inject a command") {
    options.local_name = "client\r\nRCPT TO:<x@example.org>";
    auto made = SmtpMailer::Create(options, harness.clock, harness.random);
    REQUIRE_FALSE(made);
    CHECK(made.error().code == ErrorCode::kInvalidArgument);
  }
}
