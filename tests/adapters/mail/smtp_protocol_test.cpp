// The SMTP client's transport-free pieces: reply parsing (RFC 5321 4.2), EHLO extensions and
// dot-stuffing (RFC 5321 4.5.2).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "smtp_protocol.hpp"

using namespace socle::adapters::mail::smtp;

namespace {

// Feeds lines until the reader completes; REQUIREs that it does, exactly at the last line.
Reply Read(const std::vector<std::string>& lines) {
  ReplyReader reader;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    const auto status = reader.Add(lines[i]);
    REQUIRE(status == (i + 1 == lines.size() ? ReplyReader::Status::kComplete
                                             : ReplyReader::Status::kNeedMore));
  }
  return reader.Take();
}

ReplyReader::Status Feed(const std::vector<std::string>& lines) {
  ReplyReader reader;
  ReplyReader::Status status = ReplyReader::Status::kNeedMore;
  for (const auto& line : lines) {
    status = reader.Add(line);
    if (status != ReplyReader::Status::kNeedMore) break;
  }
  return status;
}

}  // namespace

TEST_CASE("smtp replies: one line, several lines, a bare code", "[mail][smtp_protocol]") {
  Reply greeting = Read({"220 mail.example.org ESMTP ready"});
  CHECK(greeting.code == 220);
  CHECK(greeting.lines == std::vector<std::string>{"mail.example.org ESMTP ready"});
  CHECK(greeting.IsPositive());

  Reply ehlo = Read({"250-mail.example.org", "250-STARTTLS", "250 SIZE 1000"});
  CHECK(ehlo.code == 250);
  CHECK(ehlo.lines.size() == 3);
  CHECK(ehlo.Describe() == "250 mail.example.org / STARTTLS / SIZE 1000");

  Reply bare = Read({"354"});
  CHECK(bare.code == 354);
  CHECK(bare.lines == std::vector<std::string>{""});

  CHECK(Read({"451 4.3.0 try later"}).IsTransient());
  CHECK(Read({"550 5.1.1 no such user"}).IsPermanent());
}

TEST_CASE("smtp replies: malformed ones are refused", "[mail][smtp_protocol]") {
  CHECK(Feed({""}) == ReplyReader::Status::kMalformed);
  CHECK(Feed({"25"}) == ReplyReader::Status::kMalformed);
  CHECK(Feed({"HTTP/1.1 400 Bad Request"}) == ReplyReader::Status::kMalformed);
  CHECK(Feed({"250x"}) == ReplyReader::Status::kMalformed);
  CHECK(Feed({"099 too small"}) == ReplyReader::Status::kMalformed);
  CHECK(Feed({"600 too big"}) == ReplyReader::Status::kMalformed);
  CHECK(Feed({"-25 negative"}) == ReplyReader::Status::kMalformed);
  CHECK(Feed({"250-first", "251 second"}) == ReplyReader::Status::kMalformed);
  CHECK(Feed({"250 " + std::string(kMaxReplyLineLength, 'x')}) ==
        ReplyReader::Status::kMalformed);
  std::vector<std::string> endless(kMaxReplyLines + 1, "250-more");
  CHECK(Feed(endless) == ReplyReader::Status::kMalformed);
}

TEST_CASE("smtp replies: descriptions are safe for logs", "[mail][smtp_protocol]") {
  Reply reply = Read({"550 bad\x01\x7F\xFFtext " + std::string(1000, 'y')});
  const std::string text = reply.Describe();
  CHECK(text.starts_with("550 bad???text "));
  CHECK(text.size() <= 603);
}

TEST_CASE("smtp extensions from EHLO", "[mail][smtp_protocol]") {
  Extensions all = ParseExtensions(Read({"250-mail.example.org greets you", "250-PIPELINING",
                                         "250-size 35882577", "250-starttls",
                                         "250-AUTH LOGIN PLAIN XOAUTH2", "250 8BITMIME"}));
  CHECK(all.starttls);
  CHECK(all.auth_plain);
  CHECK(all.auth_login);
  CHECK(all.auth_mechanisms == std::vector<std::string>{"LOGIN", "PLAIN", "XOAUTH2"});
  REQUIRE(all.size);
  CHECK(*all.size == 35882577);

  Extensions old = ParseExtensions(Read({"250-old.example.org", "250-AUTH=LOGIN", "250 SIZE"}));
  CHECK(old.auth_login);
  CHECK_FALSE(old.auth_plain);
  REQUIRE(old.size);
  CHECK(*old.size == 0);

  // The first line is the server's name, whatever it says.
  Extensions none = ParseExtensions(Read({"250 STARTTLS AUTH PLAIN"}));
  CHECK_FALSE(none.starttls);
  CHECK_FALSE(none.auth_plain);
  CHECK_FALSE(none.size);

  Extensions cram = ParseExtensions(Read({"250-x", "250 AUTH CRAM-MD5"}));
  CHECK_FALSE(cram.auth_plain);
  CHECK_FALSE(cram.auth_login);
  CHECK(cram.auth_mechanisms == std::vector<std::string>{"CRAM-MD5"});
}

TEST_CASE("smtp data: dot-stuffing and the end-of-data line", "[mail][smtp_protocol]") {
  CHECK(DotStuff("") == ".\r\n");
  CHECK(DotStuff("a\r\n") == "a\r\n.\r\n");
  CHECK(DotStuff(".\r\n") == "..\r\n.\r\n");
  CHECK(DotStuff("a\r\n.b\r\n..c\r\nd.e\r\n") == "a\r\n..b\r\n...c\r\nd.e\r\n.\r\n");
  CHECK(DotStuff(".first") == "..first\r\n.\r\n");
  CHECK(DotStuff("no final break") == "no final break\r\n.\r\n");
}
