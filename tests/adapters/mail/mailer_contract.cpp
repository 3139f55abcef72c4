// The Mailer contract: every adapter of the port passes exactly these cases, so that SMTP and
// file delivery give a recipient the same message. What arrived is read back with mailparser,
// an implementation independent of the one under test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mail_test_support.hpp"
#include "mailer_fixture.hpp"

using namespace socle;
using application::MailAddress;
using application::MailMessage;
using domain::ErrorCode;
using testing::MailboxesOf;
using testing::NormalizeNewlines;
using testing::StringOf;

namespace {

MailMessage Simple(std::string subject) {
  MailMessage message;
  message.from = {"Socle", "noreply@example.org"};
  message.to = {{"Ann Lee", "ann@example.org"}};
  message.subject = std::move(subject);
  message.text = "Hello Ann.\n";
  return message;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::vector<std::string> HeaderNames(const domain::JsonValue& parsed) {
  std::vector<std::string> names;
  if (const auto* list = parsed.Find("headerNames")) {
    for (const auto& name : list->items()) names.push_back(name.AsString());
  }
  return names;
}

std::vector<std::string> PartTypes(const domain::JsonValue& parsed) {
  std::vector<std::string> types;
  if (const auto* parts = parsed.Find("parts")) {
    for (const auto& part : parts->items()) types.push_back(StringOf(part, "type"));
  }
  return types;
}

// Every line of a delivered message: CRLF-terminated, within RFC 5322's 78 characters here
// (no address in these tests is long), and 7-bit.
void CheckWireShape(const std::string& raw) {
  REQUIRE(raw.ends_with("\r\n"));
  std::size_t start = 0;
  while (start < raw.size()) {
    const std::size_t end = raw.find("\r\n", start);
    REQUIRE(end != std::string::npos);
    const std::string_view line(raw.data() + start, end - start);
    INFO("line: " << line);
    CHECK(line.size() <= 78);
    CHECK(line.find_first_of("\r\n") == std::string_view::npos);
    CHECK(std::all_of(line.begin(), line.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x80;
    }));
    start = end + 2;
  }
}

}  // namespace

TEST_CASE("a sent message arrives with its subject, recipients, text and html",
          "[mail][contract]") {
  auto fixture = testing::MakeMailerUnderTest();
  MailMessage message;
  message.from = {"Zoë Écrivain", "zoe@example.org"};
  message.to = {{"Ann Lee", "ann@example.org"}, {"", "bob@example.net"}};
  message.cc = {{"Ça Va, Inc.", "cc@example.com"}};
  message.bcc = {{"Hidden Person", "hidden@example.com"}};
  message.reply_to = MailAddress{"Support \"desk\"", "help@example.org"};
  message.subject = "Réinitialisation du mot de passe — 🔑 clé";
  message.text = "Bonjour Ann,\n\nVotre lien : https://example.org/reset?t=abc=def\n\n— L'équipe\n";
  message.html = "<p>Bonjour <b>Ann</b>,</p>\n<p><a href=\"https://example.org/reset?t=abc=def\">"
                 "Réinitialiser</a></p>\n";
  REQUIRE(fixture->mailer().Send(message));

  auto delivered = fixture->Delivered(1);
  const auto& mail = delivered.front();
  const auto& parsed = mail.parsed;
  CHECK(StringOf(parsed, "subject") == message.subject);
  CHECK(MailboxesOf(parsed, "from") == std::vector<std::string>{"Zoë Écrivain <zoe@example.org>"});
  CHECK(MailboxesOf(parsed, "to") ==
        std::vector<std::string>{"Ann Lee <ann@example.org>", "bob@example.net"});
  CHECK(MailboxesOf(parsed, "cc") == std::vector<std::string>{"Ça Va, Inc. <cc@example.com>"});
  CHECK(MailboxesOf(parsed, "replyTo") ==
        std::vector<std::string>{"Support \"desk\" <help@example.org>"});
  CHECK(NormalizeNewlines(StringOf(parsed, "text")) == NormalizeNewlines(message.text));
  CHECK(NormalizeNewlines(StringOf(parsed, "html")) == NormalizeNewlines(message.html));
  CHECK(PartTypes(parsed) == std::vector<std::string>{"text/plain", "text/html"});
  CHECK(StringOf(parsed, "contentType") == "multipart/alternative");

  // Bcc reaches its recipient through the envelope only.
  CHECK(MailboxesOf(parsed, "bcc").empty());
  CHECK_FALSE(Contains(HeaderNames(parsed), "bcc"));
  CHECK(mail.raw.find("hidden@example.com") == std::string::npos);
  CHECK(mail.raw.find("Hidden Person") == std::string::npos);
  if (mail.envelope_to) {
    CHECK(*mail.envelope_to == std::vector<std::string>{"ann@example.org", "bob@example.net",
                                                        "cc@example.com", "hidden@example.com"});
  }
  CheckWireShape(mail.raw);
}

TEST_CASE("a text-only message arrives as text/plain with its lines as written",
          "[mail][contract]") {
  auto fixture = testing::MakeMailerUnderTest();
  MailMessage message = Simple("Lines");
  const std::string long_line(300, 'x');
  message.text = ".\n..\n.starts with a dot\nFrom the start of a line\n"
                 "trailing spaces   \n\ttab first\n" + long_line + "\n"
                 "=3D is not an escape here\nnon-ASCII: naïve café\n.\n";
  REQUIRE(fixture->mailer().Send(message));

  auto delivered = fixture->Delivered(1);
  const auto& parsed = delivered.front().parsed;
  CHECK(PartTypes(parsed) == std::vector<std::string>{"text/plain"});
  CHECK(StringOf(parsed, "html").empty());
  CHECK(NormalizeNewlines(StringOf(parsed, "text")) == NormalizeNewlines(message.text));
  CheckWireShape(delivered.front().raw);
}

TEST_CASE("an html-only message arrives as text/html", "[mail][contract]") {
  auto fixture = testing::MakeMailerUnderTest();
  MailMessage message = Simple("HTML only");
  message.text.clear();
  message.html = "<!doctype html><p>" + std::string(200, 'h') + "</p>";
  REQUIRE(fixture->mailer().Send(message));

  auto delivered = fixture->Delivered(1);
  const auto& parsed = delivered.front().parsed;
  CHECK(PartTypes(parsed) == std::vector<std::string>{"text/html"});
  CHECK(NormalizeNewlines(StringOf(parsed, "html")) == message.html);
  CheckWireShape(delivered.front().raw);
}

TEST_CASE("a message carries the clock's date and a Message-ID of its own", "[mail][contract]") {
  auto fixture = testing::MakeMailerUnderTest();
  REQUIRE(fixture->mailer().Send(Simple("first")));
  REQUIRE(fixture->mailer().Send(Simple("second")));

  auto delivered = fixture->Delivered(2);
  CHECK(StringOf(delivered[0].parsed, "subject") == "first");
  CHECK(StringOf(delivered[1].parsed, "subject") == "second");
  for (const auto& mail : delivered) {
    CHECK(StringOf(mail.parsed, "date") == "2023-11-14T22:13:20.000Z");
    const std::string id = StringOf(mail.parsed, "messageId");
    CHECK(id.starts_with("<"));
    CHECK(id.ends_with("@example.org>"));
  }
  CHECK(StringOf(delivered[0].parsed, "messageId") != StringOf(delivered[1].parsed, "messageId"));
}

TEST_CASE("extra headers arrive as given", "[mail][contract]") {
  auto fixture = testing::MakeMailerUnderTest();
  MailMessage message = Simple("Headers");
  const std::string long_value =
      "a value long enough to be folded across several lines of the header section, which a "
      "reader unfolds back into exactly this text";
  message.headers = {{"List-Unsubscribe", "<https://example.org/unsubscribe?t=1>"},
                     {"X-Socle-Test", long_value}};
  REQUIRE(fixture->mailer().Send(message));

  auto delivered = fixture->Delivered(1);
  const auto* headers = delivered.front().parsed.Find("headers");
  REQUIRE(headers != nullptr);
  CHECK(StringOf(*headers, "list-unsubscribe") == "<https://example.org/unsubscribe?t=1>");
  CHECK(StringOf(*headers, "x-socle-test") == long_value);
  CheckWireShape(delivered.front().raw);
}

TEST_CASE("a message for Bcc recipients only names none of them", "[mail][contract]") {
  auto fixture = testing::MakeMailerUnderTest();
  MailMessage message = Simple("Undisclosed");
  message.to.clear();
  message.bcc = {{"", "secret@example.com"}};
  REQUIRE(fixture->mailer().Send(message));

  auto delivered = fixture->Delivered(1);
  const auto& mail = delivered.front();
  CHECK(mail.raw.find("secret@example.com") == std::string::npos);
  CHECK(MailboxesOf(mail.parsed, "to").empty());
  const auto* headers = mail.parsed.Find("headers");
  REQUIRE(headers != nullptr);
  CHECK(StringOf(*headers, "to") == "undisclosed-recipients:;");
  if (mail.envelope_to) CHECK(*mail.envelope_to == std::vector<std::string>{"secret@example.com"});
}

TEST_CASE("a malformed message is refused and nothing of it is delivered", "[mail][contract]") {
  auto fixture = testing::MakeMailerUnderTest();
  struct Case {
    const char* what;
    MailMessage message;
    const char* field;
  };
  std::vector<Case> cases;
  MailMessage no_recipient = Simple("none");
  no_recipient.to.clear();
  cases.push_back({"no recipient", no_recipient, "to"});
  MailMessage bad_address = Simple("bad");
  bad_address.cc = {{"", "not-an-address"}};
  cases.push_back({"an address that is not one", bad_address, "cc"});
  MailMessage bad_sender = Simple("bad sender");
  bad_sender.from.address = "noreply@";
  cases.push_back({"a malformed sender", bad_sender, "from"});
  MailMessage subject_injection = Simple("Hi\r\nBcc: victim@example.net");
  cases.push_back({"CR LF in the subject", subject_injection, "subject"});
  MailMessage name_injection = Simple("name");
  name_injection.to.front().name = "Ann\nBcc: victim@example.net";
  cases.push_back({"LF in a display name", name_injection, "to"});
  MailMessage header_injection = Simple("header");
  header_injection.headers = {{"X-Note", "ok\r\nBcc: victim@example.net"}};
  cases.push_back({"CR LF in a header value", header_injection, "headers"});
  MailMessage nul_header = Simple("nul");
  nul_header.headers = {{std::string("X-\0Note", 7), "value"}};
  cases.push_back({"NUL in a header name", nul_header, "headers"});
  MailMessage reserved = Simple("reserved");
  reserved.headers = {{"bcc", "victim@example.net"}};
  cases.push_back({"a header the mailer writes", reserved, "headers"});
  MailMessage bad_utf8 = Simple("utf8");
  bad_utf8.text = "\xC3\x28";
  cases.push_back({"text that is not UTF-8", bad_utf8, "text"});

  for (const auto& c : cases) {
    INFO(c.what);
    auto sent = fixture->mailer().Send(c.message);
    REQUIRE_FALSE(sent);
    CHECK(sent.error().code == ErrorCode::kInvalidArgument);
    REQUIRE(sent.error().fields.size() == 1);
    CHECK(sent.error().fields.front().field == c.field);
  }
  // Only the valid message that follows arrives.
  REQUIRE(fixture->mailer().Send(Simple("valid")));
  auto delivered = fixture->Delivered(1);
  CHECK(StringOf(delivered.front().parsed, "subject") == "valid");
  CHECK(delivered.front().raw.find("victim@example.net") == std::string::npos);
}

TEST_CASE("messages sent from several threads at once all arrive", "[mail][contract]") {
  auto fixture = testing::MakeMailerUnderTest();
  constexpr int kThreads = 4;
  constexpr int kEach = 3;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto sent = fixture->mailer().Send(Simple("thread " + std::to_string(t) + " message " +
                                                  std::to_string(i)));
        if (!sent) ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == std::vector<int>(kThreads, 0));

  auto delivered = fixture->Delivered(kThreads * kEach);
  std::set<std::string> subjects;
  std::set<std::string> ids;
  for (const auto& mail : delivered) {
    subjects.insert(StringOf(mail.parsed, "subject"));
    ids.insert(StringOf(mail.parsed, "messageId"));
  }
  CHECK(subjects.size() == kThreads * kEach);
  CHECK(ids.size() == kThreads * kEach);
  CHECK(subjects.count("thread 3 message 2") == 1);
}
