// The SMTP client against scripted servers: the replies a well-behaved receiver never gives
// (no EHLO, refusals at each step, non-SMTP answers, bytes injected before TLS) and how each
// maps to an error code.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "scripted_smtp_server.hpp"
#include "socle/adapters/mail/smtp_mailer.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using adapters::mail::SmtpMailer;
using adapters::mail::SmtpOptions;
using adapters::mail::SmtpSecurity;
using application::MailMessage;
using domain::ErrorCode;
using testing::ScriptedSmtpServer;
using Step = ScriptedSmtpServer::Step;

namespace {

MailMessage Message() {
  MailMessage message;
  message.from = {"", "noreply@example.org"};
  message.to = {{"", "ann@example.org"}};
  message.subject = "Scripted";
  message.text = "Hello.\n";
  return message;
}

domain::Result<void> SendTo(ScriptedSmtpServer& server,
                            SmtpSecurity security = SmtpSecurity::kNone) {
  SmtpOptions options;
  options.host = "127.0.0.1";
  options.port = server.port();
  options.security = security;
  options.local_name = "client.example.org";
  options.tls_verify = false;
  options.command_timeout = std::chrono::seconds(5);
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  auto mailer = SmtpMailer::Create(options, clock, random);
  REQUIRE(mailer);
  return (*mailer)->Send(Message());
}

const Step kGreeting{"", "220 scripted.example.org ESMTP\r\n"};
const Step kEhlo{"EHLO client.example.org", "250-scripted.example.org\r\n250 8BITMIME\r\n"};
const Step kMail{"MAIL FROM:<noreply@example.org>", "250 2.1.0 ok\r\n"};
const Step kRcpt{"RCPT TO:<ann@example.org>", "250 2.1.5 ok\r\n"};
const Step kData{"DATA", "354 go ahead\r\n", true};
const Step kQuit{"QUIT", "221 bye\r\n"};

}  // namespace

TEST_CASE("smtp dialogue: HELO for a server that does not know EHLO", "[mail][smtp]") {
  ScriptedSmtpServer server({kGreeting,
                             {"EHLO ", "502 5.5.2 command not implemented\r\n"},
                             {"HELO client.example.org", "250 scripted.example.org\r\n"},
                             kMail,
                             kRcpt,
                             kData,
                             {"", "250 2.0.0 queued\r\n"},
                             kQuit});
  REQUIRE(SendTo(server));
  INFO(server.failure());
  CHECK(server.failure().empty());
  CHECK(server.received() ==
        std::vector<std::string>{"EHLO client.example.org", "HELO client.example.org",
                                 "MAIL FROM:<noreply@example.org>", "RCPT TO:<ann@example.org>",
                                 "DATA", "QUIT"});
}

TEST_CASE("smtp dialogue: multi-line replies and a 251 forward are accepted", "[mail][smtp]") {
  ScriptedSmtpServer server({{"", "220-scripted.example.org\r\n220-welcome\r\n220 ready\r\n"},
                             kEhlo,
                             {"MAIL FROM:", "250-one\r\n250 two\r\n"},
                             {"RCPT TO:", "251 2.1.5 user not local; will forward\r\n"},
                             kData,
                             {"", "250-queued\r\n250 as 42\r\n"},
                             kQuit});
  REQUIRE(SendTo(server));
  CHECK(server.failure().empty());
}

TEST_CASE("smtp dialogue: refusals map to error codes", "[mail][smtp]") {
  struct Case {
    const char* what;
    std::vector<Step> script;
    ErrorCode code;
    const char* internal;
  };
  const std::vector<Case> cases = {
      {"a greeting of 554", {{"", "554 no service here\r\n"}, kQuit}, ErrorCode::kUnavailable,
       "554 no service"},
      {"a greeting of 421", {{"", "421 busy, try later\r\n"}, kQuit}, ErrorCode::kUnavailable,
       "421 busy"},
      {"a transient MAIL FROM refusal",
       {kGreeting, kEhlo, {"MAIL FROM:", "451 4.3.0 try later\r\n"}, kQuit},
       ErrorCode::kUnavailable, "451"},
      {"a permanent MAIL FROM refusal",
       {kGreeting, kEhlo, {"MAIL FROM:", "553 5.7.1 sender not allowed\r\n"}, kQuit},
       ErrorCode::kPermissionDenied, "553"},
      {"authentication required",
       {kGreeting, kEhlo, {"MAIL FROM:", "530 5.7.0 authentication required\r\n"}, kQuit},
       ErrorCode::kFailedPrecondition, "530"},
      {"a transient recipient refusal",
       {kGreeting, kEhlo, kMail, {"RCPT TO:", "450 4.2.0 mailbox busy\r\n"}, kQuit},
       ErrorCode::kUnavailable, "450"},
      {"DATA refused", {kGreeting, kEhlo, kMail, kRcpt, {"DATA", "554 no valid recipients\r\n"},
                        kQuit},
       ErrorCode::kPermissionDenied, "554"},
      {"the message too large",
       {kGreeting, kEhlo, kMail, kRcpt, kData, {"", "552 5.3.4 message too big\r\n"}, kQuit},
       ErrorCode::kResourceExhausted, "552"},
      {"the message rejected",
       {kGreeting, kEhlo, kMail, kRcpt, kData, {"", "554 5.7.1 looks like spam\r\n"}, kQuit},
       ErrorCode::kPermissionDenied, "spam"},
      {"the message deferred",
       {kGreeting, kEhlo, kMail, kRcpt, kData, {"", "451 4.7.1 greylisted\r\n"}, kQuit},
       ErrorCode::kUnavailable, "greylisted"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    ScriptedSmtpServer server(c.script);
    auto sent = SendTo(server);
    REQUIRE_FALSE(sent);
    CHECK(sent.error().code == c.code);
    CHECK(sent.error().internal.find(c.internal) != std::string::npos);
    // Server text is for logs, not for clients.
    CHECK(sent.error().message.find(c.internal) == std::string::npos);
    // A refusal still ends the session politely.
    CHECK(server.received().back() == "QUIT");
  }
}

TEST_CASE("smtp dialogue: a server that does not speak SMTP", "[mail][smtp]") {
  SECTION("an HTTP answer") {
    ScriptedSmtpServer server(std::vector<Step>{{"", "HTTP/1.1 400 Bad Request\r\n\r\n"}});
    auto sent = SendTo(server);
    REQUIRE_FALSE(sent);
    CHECK(sent.error().code == ErrorCode::kUnavailable);
    CHECK(sent.error().message == "The mail server answered with something that is not SMTP.");
  }
  SECTION("a reply line without end") {
    ScriptedSmtpServer server(std::vector<Step>{{"", "220 " + std::string(10'000, 'x')}});
    auto sent = SendTo(server);
    REQUIRE_FALSE(sent);
    CHECK(sent.error().code == ErrorCode::kUnavailable);
    CHECK(sent.error().internal.find("too long") != std::string::npos);
  }
  SECTION("a connection closed in the middle of a reply") {
    ScriptedSmtpServer server(std::vector<Step>{{"", "220-first line and then nothing\r\n"}});
    // The script ends and the server hangs up with the greeting unfinished.
    auto sent = SendTo(server);
    REQUIRE_FALSE(sent);
    CHECK(sent.error().code == ErrorCode::kUnavailable);
    CHECK(sent.error().message == "The connection to the mail server was lost.");
  }
}

TEST_CASE("smtp dialogue: bytes sent before the TLS handshake are refused", "[mail][smtp][tls]") {
  // A man in the middle appends a reply to the 220 of STARTTLS, hoping that it will be read as
  // if it came over TLS (the STARTTLS command injection attacks).
  ScriptedSmtpServer server({kGreeting,
                             {"EHLO ", "250-scripted.example.org\r\n250 STARTTLS\r\n"},
                             {"STARTTLS", "220 go ahead\r\n250 injected\r\n"}});
  auto sent = SendTo(server, SmtpSecurity::kStartTls);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kUnavailable);
  CHECK(sent.error().internal.find("before TLS") != std::string::npos);
}

TEST_CASE("smtp dialogue: STARTTLS refused by the server", "[mail][smtp][tls]") {
  ScriptedSmtpServer server({kGreeting,
                             {"EHLO ", "250-scripted.example.org\r\n250 STARTTLS\r\n"},
                             {"STARTTLS", "454 4.7.0 TLS not available\r\n"},
                             kQuit});
  auto sent = SendTo(server, SmtpSecurity::kStartTls);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kUnavailable);  // 4xx: maybe later
  CHECK(server.received().back() == "QUIT");
}

TEST_CASE("smtp dialogue: credentials are not offered to a server without AUTH",
          "[mail][smtp][auth]") {
  ScriptedSmtpServer server({kGreeting,
                             {"EHLO ", "250-scripted.example.org\r\n250 AUTH CRAM-MD5\r\n"},
                             kQuit});
  SmtpOptions options;
  options.host = "127.0.0.1";
  options.port = server.port();
  options.security = SmtpSecurity::kNone;
  options.username = "user";
  options.password = "secret";
  options.allow_plaintext_auth = true;
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  auto mailer = SmtpMailer::Create(options, clock, random);
  REQUIRE(mailer);
  auto sent = (*mailer)->Send(Message());
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::kFailedPrecondition);
  CHECK(sent.error().internal.find("CRAM-MD5") != std::string::npos);
  for (const auto& line : server.received()) CHECK(line.find("AUTH") == std::string::npos);
}
