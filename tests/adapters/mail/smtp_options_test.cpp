// SMTP configuration URLs: what they mean, what they refuse, and that a password never shows.
#include <catch2/catch.hpp>

#include <string>

#include "socle/adapters/mail/smtp_options.hpp"

using namespace socle;
using namespace socle::adapters::mail;
using domain::ErrorCode;
using std::chrono::milliseconds;

namespace {

constexpr const char* kSecret = "s3cr3t-PW";

SmtpOptions Parsed(std::string_view url) {
  auto options = ParseSmtpUrl(url);
  INFO(url);
  REQUIRE(options);
  return *options;
}

}  // namespace

TEST_CASE("smtp url: a full URL", "[mail][smtp_url]") {
  const SmtpOptions options = Parsed(
      "smtp://mailer%40example.org:p%40ss%3Aw%2Fd@Mail.Example.ORG:2587"
      "?security=starttls&ca_file=%2Fetc%2Fsocle%2Fca.pem&local_name=app.example.org"
      "&connect_timeout=5&command_timeout=500ms&data_timeout=90s");
  CHECK(options.host == "mail.example.org");
  CHECK(options.port == 2587);
  CHECK(options.security == SmtpSecurity::kStartTls);
  CHECK(options.username == "mailer@example.org");
  CHECK(options.password == "p@ss:w/d");
  CHECK(options.ca_file == "/etc/socle/ca.pem");
  CHECK(options.local_name == "app.example.org");
  CHECK(options.tls_verify);
  CHECK_FALSE(options.allow_plaintext_auth);
  CHECK(options.connect_timeout == milliseconds(5000));
  CHECK(options.command_timeout == milliseconds(500));
  CHECK(options.data_timeout == milliseconds(90000));
}

TEST_CASE("smtp url: defaults follow the scheme and the security", "[mail][smtp_url]") {
  SmtpOptions plain = Parsed("smtp://relay.example.org");
  CHECK(plain.security == SmtpSecurity::kStartTls);  // the safe default
  CHECK(plain.port == 587);
  CHECK(plain.username.empty());
  CHECK(plain.tls_verify);

  SmtpOptions none = Parsed("smtp://relay.example.org/?security=none");
  CHECK(none.security == SmtpSecurity::kNone);
  CHECK(none.port == 25);

  SmtpOptions tls = Parsed("smtps://relay.example.org");
  CHECK(tls.security == SmtpSecurity::kTls);
  CHECK(tls.port == 465);
  CHECK(Parsed("smtp://relay.example.org?security=tls").port == 465);
  CHECK(Parsed("SMTPS://relay.example.org?security=tls").security == SmtpSecurity::kTls);

  SmtpOptions v6 = Parsed("smtp://[::1]:2525?security=none");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 2525);

  SmtpOptions user_only = Parsed("smtp://apikey@relay.example.org");
  CHECK(user_only.username == "apikey");
  CHECK(user_only.password.empty());

  // An '@' left unescaped in a password still parses: the host starts after the last one.
  SmtpOptions unescaped = Parsed("smtp://u:p@ss@relay.example.org");
  CHECK(unescaped.password == "p@ss");
  CHECK(unescaped.host == "relay.example.org");

  SmtpOptions unverified = Parsed("smtp://relay.example.org?tls_verify=false");
  CHECK_FALSE(unverified.tls_verify);

  SmtpOptions plaintext_auth =
      Parsed("smtp://u:p@relay.example.org?security=none&allow_plaintext_auth=true");
  CHECK(plaintext_auth.allow_plaintext_auth);
}

TEST_CASE("smtp url: malformed URLs and unsafe settings are refused", "[mail][smtp_url]") {
  const char* bad[] = {
      "",
      "relay.example.org",
      "http://relay.example.org",
      "smtp://",
      "smtp://user:pw@",
      "smtp://relay.example.org:0",
      "smtp://relay.example.org:65536",
      "smtp://relay.example.org:25x",
      "smtp://relay.example.org:",
      "smtp://relay example.org",
      "smtp://relay.example.org/path",
      "smtp://relay.example.org#fragment",
      "smtp://[::1",
      "smtp://[zz::1]",
      "smtp://relay.example.org?security=ssl",
      "smtp://relay.example.org?tls_verify=no",
      "smtp://relay.example.org?tls_verfy=false",  // a typo must not pass silently
      "smtp://relay.example.org?security=none&security=tls",
      "smtp://relay.example.org?security",
      "smtp://relay.example.org?connect_timeout=0",
      "smtp://relay.example.org?connect_timeout=-1",
      "smtp://relay.example.org?command_timeout=abc",
      "smtp://relay.example.org?data_timeout=7200",
      "smtp://relay.example.org?ca_file=",
      "smtp://relay.example.org?ca_file=%2Fca.pem&tls_verify=false",
      "smtp://relay.example.org?local_name=a%20b",
      "smtp://relay.example.org?local_name=a%0D%0AQUIT",
      "smtps://relay.example.org?security=starttls",
      "smtp://u:p@relay.example.org?security=none",  // credentials in clear, not allowed
      "smtp://u%0Aser:p@relay.example.org",
      "smtp://:p@relay.example.org",
      "smtp://u:p%4@relay.example.org",
      "smtp://u:p%zz@relay.example.org",
  };
  for (const char* url : bad) {
    INFO(url);
    auto options = ParseSmtpUrl(url);
    REQUIRE_FALSE(options);
    CHECK(options.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("smtp url: errors and the redacted form never show the password",
          "[mail][smtp_url]") {
  const std::string secret = kSecret;
  const std::string bad_urls[] = {
      "smtp://user:" + secret + "@relay.example.org:99999",
      "smtp://user:" + secret + "@relay.example.org?oops=1",
      "smtp://user:" + secret + "@relay.example.org?security=none",
      "smtp://user:" + secret + "@relay example.org",
      "ftp://user:" + secret + "@relay.example.org",
  };
  for (const auto& url : bad_urls) {
    INFO(url);
    auto options = ParseSmtpUrl(url);
    REQUIRE_FALSE(options);
    CHECK(options.error().message.find(secret) == std::string::npos);
    CHECK(options.error().internal.find(secret) == std::string::npos);
  }

  const SmtpOptions options =
      Parsed("smtp://us%20er:" + secret + "@relay.example.org:2525?security=tls&ca_file=%2Fca.pem"
             "&local_name=me.example.org&command_timeout=3");
  const std::string redacted = RedactedSmtpUrl(options);
  CHECK(redacted.find(secret) == std::string::npos);
  CHECK(redacted ==
        "smtp://us%20er:***@relay.example.org:2525?security=tls&ca_file=/ca.pem"
        "&local_name=me.example.org&command_timeout=3000ms");
  // It reads back as the same settings, with the password masked.
  SmtpOptions again = Parsed(redacted);
  CHECK(again.username == options.username);
  CHECK(again.password == "***");
  CHECK(again.host == options.host);
  CHECK(again.port == options.port);
  CHECK(again.security == options.security);
  CHECK(again.ca_file == options.ca_file);
  CHECK(again.local_name == options.local_name);
  CHECK(again.command_timeout == options.command_timeout);
  CHECK(again.connect_timeout == options.connect_timeout);

  SmtpOptions v6;
  v6.host = "::1";
  v6.port = 25;
  v6.security = SmtpSecurity::kNone;
  CHECK(RedactedSmtpUrl(v6) == "smtp://[::1]:25?security=none");
}

TEST_CASE("smtp options: checked when given directly", "[mail][smtp_url]") {
  SmtpOptions options;
  options.host = "relay.example.org";
  CHECK(ValidateSmtpOptions(options));
  SECTION("password without a user") {
    options.password = "x";
    CHECK_FALSE(ValidateSmtpOptions(options));
  }
  SECTION("NUL in the password, which AUTH PLAIN uses as a separator") {
    options.username = "u";
    options.password = std::string("a\0b", 3);
    CHECK_FALSE(ValidateSmtpOptions(options));
  }
  SECTION("non-positive timeouts") {
    options.data_timeout = milliseconds(0);
    CHECK_FALSE(ValidateSmtpOptions(options));
  }
  SECTION("port 0") {
    options.port = 0;
    CHECK_FALSE(ValidateSmtpOptions(options));
  }
}
