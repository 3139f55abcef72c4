// Message composition: RFC 5322 header fields, RFC 2047 encoded-words, RFC 2045 bodies, and the
// refusals that keep caller text from turning into header fields.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "socle/adapters/mail/mime.hpp"

using namespace socle;
using namespace socle::adapters::mail;
using application::MailAddress;
using application::MailMessage;
using domain::ErrorCode;
using domain::Timestamp;

namespace {

const Timestamp kDate = Timestamp::FromUnixMicros(1'700'000'000'000'000);

MailMessage Simple() {
  MailMessage message;
  message.from = {"Ann Lee", "ann@example.org"};
  message.to = {{"", "bob@example.net"}};
  message.subject = "Hello";
  message.text = "Hi Bob\n";
  return message;
}

std::vector<std::string> Lines(const std::string& data) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t end = data.find("\r\n", start);
    if (end == std::string::npos) end = data.size();
    lines.push_back(data.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

// The header section with folds undone: "Name: value" per field.
std::vector<std::string> UnfoldedHeaders(const std::string& data) {
  std::vector<std::string> fields;
  for (const std::string& line : Lines(data.substr(0, data.find("\r\n\r\n")))) {
    if (!fields.empty() && (line.starts_with(' ') || line.starts_with('\t'))) {
      fields.back() += line;
    } else {
      fields.push_back(line);
    }
  }
  return fields;
}

std::string Header(const std::string& data, const std::string& name) {
  for (const std::string& field : UnfoldedHeaders(data)) {
    if (field.starts_with(name + ":")) return field.substr(name.size() + 1);
  }
  return "<absent>";
}

// What every composed message must be: CRLF only, 7-bit, lines within 78 (the messages here have
// no long address), ending with CRLF.
void CheckShape(const std::string& data) {
  REQUIRE(data.ends_with("\r\n"));
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    REQUIRE(c < 0x80);
    REQUIRE(c != 0);
    if (c == '\r') REQUIRE((i + 1 < data.size() && data[i + 1] == '\n'));
    if (c == '\n') REQUIRE((i > 0 && data[i - 1] == '\r'));
  }
  for (const std::string& line : Lines(data)) {
    INFO(line);
    CHECK(line.size() <= 78);
  }
}

int Hex(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }

// A strict quoted-printable decoder for round trips (encoded lines within 76 characters).
std::string DecodeQuotedPrintable(const std::string& encoded) {
  std::string out;
  for (const std::string& line : Lines(encoded)) {
    REQUIRE(line.size() <= 76);
    std::string_view rest(line);
    bool soft = false;
    if (rest.ends_with('=')) {
      soft = true;
      rest.remove_suffix(1);
    }
    REQUIRE_FALSE((rest.ends_with(' ') || rest.ends_with('\t')));
    for (std::size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == '=') {
        REQUIRE(i + 2 < rest.size());
        out.push_back(static_cast<char>(Hex(rest[i + 1]) * 16 + Hex(rest[i + 2])));
        i += 2;
      } else {
        out.push_back(rest[i]);
      }
    }
    if (!soft) out += "\r\n";
  }
  if (!encoded.ends_with("\r\n") && out.ends_with("\r\n")) out.resize(out.size() - 2);
  return out;
}

std::string DecodeBase64(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=' || c == '\r' || c == '\n') continue;
    const auto value = kAlphabet.find(c);
    REQUIRE(value != std::string_view::npos);
    bits = (bits << 6) | static_cast<unsigned>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

// The decoded text of a run of encoded-words, checking each one's form.
std::string DecodeWords(const std::string& words) {
  std::string out;
  std::size_t start = 0;
  while (start < words.size()) {
    std::size_t end = words.find(' ', start);
    if (end == std::string::npos) end = words.size();
    const std::string word = words.substr(start, end - start);
    INFO(word);
    REQUIRE(word.size() <= 75);
    REQUIRE(word.starts_with("=?utf-8?B?"));
    REQUIRE(word.ends_with("?="));
    const std::string decoded = DecodeBase64(word.substr(10, word.size() - 12));
    CHECK(IsValidUtf8(decoded));  // no character is split between words
    out += decoded;
    start = end + 1;
  }
  return out;
}

std::string Compose(const MailMessage& message, std::string_view unique = "u1d") {
  auto mail = ComposeMail(message, kDate, unique);
  REQUIRE(mail);
  CheckShape(mail->data);
  return mail->data;
}

domain::Error Refusal(const MailMessage& message) {
  auto mail = ComposeMail(message, kDate, "u1d");
  REQUIRE_FALSE(mail);
  REQUIRE_FALSE(ValidateMail(message));
  return mail.error();
}

}  // namespace

TEST_CASE("mime: dates in RFC 5322 form, in UTC", "[mail][mime]") {
  CHECK(FormatMailDate(kDate) == "Tue, 14 Nov 2023 22:13:20 +0000");
  CHECK(FormatMailDate(Timestamp::FromUnixMicros(0)) == "Thu, 1 Jan 1970 00:00:00 +0000");
  CHECK(FormatMailDate(Timestamp::FromUnixMicros(1'709'208'000'999'999)) ==
        "Thu, 29 Feb 2024 12:00:00 +0000");
  CHECK(FormatMailDate(Timestamp::FromUnixMicros(-1)) == "Wed, 31 Dec 1969 23:59:59 +0000");
}

TEST_CASE("mime: quoted-printable", "[mail][mime]") {
  CHECK(EncodeQuotedPrintable("") == "");
  CHECK(EncodeQuotedPrintable("plain text") == "plain text");
  CHECK(EncodeQuotedPrintable("a=b") == "a=3Db");
  CHECK(EncodeQuotedPrintable("caf\xC3\xA9") == "caf=C3=A9");
  CHECK(EncodeQuotedPrintable("end \nnext\t") == "end=20\r\nnext=09");
  CHECK(EncodeQuotedPrintable("a\r\nb\rc\n") == "a\r\nb\r\nc\r\n");
  CHECK(EncodeQuotedPrintable(std::string("nul\0", 4)) == "nul=00");
  CHECK(EncodeQuotedPrintable(".\n..") == ".\r\n..");  // SMTP dot-stuffing deals with these

  SECTION("long lines are wrapped with soft breaks within 76 characters") {
    const std::string text = std::string(200, 'x') + "\n" + std::string(150, '\xE9') + " \n" +
                             std::string(75, 'y') + "=" + "\n" + std::string(76, 'z');
    const std::string encoded = EncodeQuotedPrintable(text);
    for (const std::string& line : Lines(encoded)) CHECK(line.size() <= 76);
    std::string canonical;
    for (char c : text) {
      if (c == '\n') canonical += "\r\n"; else canonical.push_back(c);
    }
    CHECK(DecodeQuotedPrintable(encoded) == canonical);
  }
  SECTION("a line of exactly 76 characters needs no soft break") {
    CHECK(EncodeQuotedPrintable(std::string(76, 'a')) == std::string(76, 'a'));
    CHECK(EncodeQuotedPrintable(std::string(77, 'a')) ==
          std::string(75, 'a') + "=\r\n" + "aa");
  }
  SECTION("an escape is never split by a soft break") {
    const std::string encoded = EncodeQuotedPrintable(std::string(74, 'a') + "\xE9\xE9");
    CHECK(encoded == std::string(74, 'a') + "=\r\n=E9=E9");
  }
}

TEST_CASE("mime: base64 in lines of 76", "[mail][mime]") {
  // RFC 4648 section 10.
  CHECK(EncodeBase64Lines("") == "");
  CHECK(EncodeBase64Lines("f") == "Zg==\r\n");
  CHECK(EncodeBase64Lines("fo") == "Zm8=\r\n");
  CHECK(EncodeBase64Lines("foo") == "Zm9v\r\n");
  CHECK(EncodeBase64Lines("foob") == "Zm9vYg==\r\n");
  CHECK(EncodeBase64Lines("fooba") == "Zm9vYmE=\r\n");
  CHECK(EncodeBase64Lines("foobar") == "Zm9vYmFy\r\n");
  const auto lines57 = Lines(EncodeBase64Lines(std::string(57, 'a')));
  CHECK(lines57.size() == 1);
  CHECK(lines57.front().size() == 76);
  const auto lines58 = Lines(EncodeBase64Lines(std::string(58, 'a')));
  CHECK(lines58.size() == 2);
  const std::string bytes = "\x00\xFF\x10 binary \x80";
  CHECK(DecodeBase64(EncodeBase64Lines(bytes)) == bytes);
}

TEST_CASE("mime: encoded-words", "[mail][mime]") {
  CHECK(EncodeWords("\xC3\xA9") == "=?utf-8?B?w6k=?=");
  CHECK(EncodeWords("") == "");
  // A long text in many scripts: words within 52 characters, no character split.
  const std::string text =
      "Zoë — 日本語のテキスト、emoji 🔑🔑🔑 and more Ελληνικά words to fill several words";
  const std::string words = EncodeWords(text);
  CHECK(DecodeWords(words) == text);
  std::size_t start = 0;
  while (start < words.size()) {
    std::size_t end = words.find(' ', start);
    if (end == std::string::npos) end = words.size();
    CHECK(end - start <= 52);
    start = end + 1;
  }
}

TEST_CASE("mime: UTF-8 validation", "[mail][mime]") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("ascii"));
  CHECK(IsValidUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x94\x91"));
  CHECK(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xC0\x80"));            // overlong NUL
  CHECK_FALSE(IsValidUtf8("\xE0\x80\xAF"));        // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));        // surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));    // past U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xC3"));                // truncated
  CHECK_FALSE(IsValidUtf8("\x80"));                // lone continuation
  CHECK_FALSE(IsValidUtf8("\xC3\x28"));            // bad continuation
  CHECK_FALSE(IsValidUtf8("\xFF"));
}

TEST_CASE("mime: a plain ASCII message, field by field", "[mail][mime]") {
  auto mail = ComposeMail(Simple(), kDate, "u1d");
  REQUIRE(mail);
  CHECK(mail->data ==
        "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
        "From: Ann Lee <ann@example.org>\r\n"
        "To: bob@example.net\r\n"
        "Message-ID: <u1d@example.org>\r\n"
        "Subject: Hello\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n"
        "Hi Bob\r\n");
  CHECK(mail->envelope_from == "ann@example.org");
  CHECK(mail->recipients == std::vector<std::string>{"bob@example.net"});
  CHECK(mail->message_id == "<u1d@example.org>");
}

TEST_CASE("mime: recipients, Bcc and Reply-To", "[mail][mime]") {
  MailMessage message = Simple();
  message.from.address = "Ann@Example.ORG";
  message.to = {{"", "bob@example.net"}, {"Carl", "carl@EXAMPLE.net"}};
  message.cc = {{"", "dee@example.com"}, {"", "bob@example.net"}};
  message.bcc = {{"Secret Sam", "sam@example.com"}, {"", "carl@example.net"}};
  message.reply_to = MailAddress{"Help Desk", "help@example.org"};
  const auto mail = ComposeMail(message, kDate, "abc");
  REQUIRE(mail);
  CheckShape(mail->data);
  // Domains are lower-cased; each address gets one RCPT, in to, cc, bcc order.
  CHECK(mail->envelope_from == "Ann@example.org");
  CHECK(mail->message_id == "<abc@example.org>");
  CHECK(mail->recipients == std::vector<std::string>{"bob@example.net", "carl@example.net",
                                                     "dee@example.com", "sam@example.com"});
  CHECK(Header(mail->data, "To") == " bob@example.net, Carl <carl@example.net>");
  CHECK(Header(mail->data, "Cc") == " dee@example.com, bob@example.net");
  CHECK(Header(mail->data, "Reply-To") == " Help Desk <help@example.org>");
  CHECK(Header(mail->data, "Bcc") == "<absent>");
  CHECK(mail->data.find("sam@example.com") == std::string::npos);
  CHECK(mail->data.find("Secret Sam") == std::string::npos);
}

TEST_CASE("mime: only Bcc recipients", "[mail][mime]") {
  MailMessage message = Simple();
  message.to.clear();
  message.bcc = {{"", "sam@example.com"}};
  const std::string data = Compose(message);
  CHECK(Header(data, "To") == " undisclosed-recipients:;");
  CHECK(data.find("sam@example.com") == std::string::npos);
}

TEST_CASE("mime: display names as atoms, quoted strings or encoded-words", "[mail][mime]") {
  MailMessage message = Simple();
  SECTION("specials are quoted, quotes and backslashes escaped") {
    message.from.name = "Lee, Ann \"A\\L\"";
    CHECK(Header(Compose(message), "From") == " \"Lee, Ann \\\"A\\\\L\\\"\" <ann@example.org>");
  }
  SECTION("a dot needs quoting too") {
    message.from.name = "A. Lee";
    CHECK(Header(Compose(message), "From") == " \"A. Lee\" <ann@example.org>");
  }
  SECTION("non-ASCII becomes encoded-words") {
    message.from.name = "Zoë Écrivain";
    const std::string from = Header(Compose(message), "From");
    REQUIRE(from.ends_with(" <ann@example.org>"));
    CHECK(DecodeWords(from.substr(1, from.size() - 1 - std::string(" <ann@example.org>").size())) ==
          "Zoë Écrivain");
  }
  SECTION("ASCII that looks like an encoded-word is encoded") {
    message.from.name = "=?utf-8?B?QQ==?=";
    const std::string from = Header(Compose(message), "From");
    CHECK(from.find("=?utf-8?B?PT91dGYtOD9CP1FRPT0/PQ==?=") != std::string::npos);
  }
  SECTION("a long name is folded as several encoded-words") {
    message.to = {{std::string(150, 'n'), "bob@example.net"}};
    const std::string data = Compose(message);
    const std::string to = Header(data, "To");
    CHECK(DecodeWords(to.substr(1, to.find(" <") - 1)) == std::string(150, 'n'));
  }
}

TEST_CASE("mime: subjects", "[mail][mime]") {
  MailMessage message = Simple();
  SECTION("empty") {
    message.subject.clear();
    CHECK(Compose(message).find("\r\nSubject:\r\n") != std::string::npos);
  }
  SECTION("non-ASCII is encoded") {
    message.subject = "Réinitialisation — 🔑";
    const std::string subject = Header(Compose(message), "Subject");
    CHECK(DecodeWords(subject.substr(1)) == message.subject);
  }
  SECTION("a long ASCII subject is folded at its spaces and unfolds to itself") {
    message.subject = "";
    for (int i = 0; i < 30; ++i) message.subject += "word" + std::to_string(i) + " ";
    message.subject += "end";
    const std::string data = Compose(message);
    CHECK(Header(data, "Subject") == " " + message.subject);
    CHECK(data.find("Subject: word0") != std::string::npos);
    CHECK(data.find("\r\n word") != std::string::npos);  // folded
  }
  SECTION("spaces, leading, doubled and trailing, survive folding") {
    message.subject = "  two  spaces" + std::string(70, '.') + " x   ";
    const std::string data = Compose(message);
    CHECK(Header(data, "Subject") == " " + message.subject);
  }
  SECTION("a word too long for a line is encoded") {
    message.subject = std::string(1200, 's');
    const std::string subject = Header(Compose(message), "Subject");
    CHECK(DecodeWords(subject.substr(1)) == message.subject);
  }
  SECTION("a tab is encoded rather than written") {
    message.subject = "a\tb";
    CHECK(DecodeWords(Header(Compose(message), "Subject").substr(1)) == "a\tb");
  }
}

TEST_CASE("mime: bodies", "[mail][mime]") {
  MailMessage message = Simple();
  SECTION("short ASCII lines are 7bit, line breaks made CRLF, dot lines kept") {
    message.text = "one\n.\n..\r\ntwo\rthree";
    const std::string data = Compose(message);
    CHECK(Header(data, "Content-Transfer-Encoding") == " 7bit");
    CHECK(data.ends_with("\r\n\r\none\r\n.\r\n..\r\ntwo\r\nthree\r\n"));
  }
  SECTION("a long line makes the body quoted-printable, wrapped") {
    message.text = "start\n" + std::string(300, 'w') + "\nend\n";
    const std::string data = Compose(message);
    CHECK(Header(data, "Content-Transfer-Encoding") == " quoted-printable");
    const std::string body = data.substr(data.find("\r\n\r\n") + 4);
    CHECK(DecodeQuotedPrintable(body) == "start\r\n" + std::string(300, 'w') + "\r\nend\r\n");
  }
  SECTION("accents make it quoted-printable") {
    message.text = "Voilà, c'est fait.\n";
    const std::string data = Compose(message);
    CHECK(Header(data, "Content-Transfer-Encoding") == " quoted-printable");
    CHECK(data.find("Voil=C3=A0, c'est fait.\r\n") != std::string::npos);
  }
  SECTION("mostly non-Latin text is base64") {
    message.text = "日本語のテキストです。\n二行目。\n";
    const std::string data = Compose(message);
    CHECK(Header(data, "Content-Transfer-Encoding") == " base64");
    const std::string body = data.substr(data.find("\r\n\r\n") + 4);
    CHECK(DecodeBase64(body) == "日本語のテキストです。\r\n二行目。\r\n");
  }
  SECTION("text and html make multipart/alternative with encoded parts") {
    message.text = "Plain --=_socle_u1d\n";
    message.html = "<p>Rich</p>\n";
    const std::string data = Compose(message);
    CHECK(Header(data, "Content-Type") == " multipart/alternative; boundary=\"=_socle_u1d\"");
    CHECK(Header(data, "Content-Transfer-Encoding") == "<absent>");
    const std::string body = data.substr(data.find("\r\n\r\n") + 4);
    CHECK(body ==
          "--=_socle_u1d\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n"
          "\r\n"
          "Plain --=3D_socle_u1d\r\n"
          "--=_socle_u1d\r\n"
          "Content-Type: text/html; charset=utf-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n"
          "\r\n"
          "<p>Rich</p>\r\n"
          "--=_socle_u1d--\r\n");
  }
  SECTION("html alone is text/html") {
    message.text.clear();
    message.html = "<p>Only</p>";
    const std::string data = Compose(message);
    CHECK(Header(data, "Content-Type") == " text/html; charset=utf-8");
  }
}

TEST_CASE("mime: extra headers", "[mail][mime]") {
  MailMessage message = Simple();
  message.headers = {{"List-Unsubscribe", "<https://example.org/u?t=1>"},
                     {"X-Long", std::string(40, 'a') + " " + std::string(40, 'b') + " c"},
                     {"X-Empty", ""}};
  const std::string data = Compose(message);
  CHECK(Header(data, "List-Unsubscribe") == " <https://example.org/u?t=1>");
  CHECK(Header(data, "X-Long") == " " + message.headers[1].second);
  CHECK(data.find("\r\nX-Empty:\r\n") != std::string::npos);
}

TEST_CASE("mime: header injection is refused wherever caller text reaches a header",
          "[mail][mime]") {
  struct Case {
    const char* what;
    std::function<void(MailMessage&)> change;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"CR LF in the subject", [](MailMessage& m) { m.subject = "Hi\r\nBcc: x@example.net"; },
       "subject"},
      {"a lone LF in the subject", [](MailMessage& m) { m.subject = "Hi\nX: y"; }, "subject"},
      {"a lone CR in the subject", [](MailMessage& m) { m.subject = "Hi\rX: y"; }, "subject"},
      {"NUL in the subject", [](MailMessage& m) { m.subject = std::string("a\0b", 3); },
       "subject"},
      {"LF in the sender's name", [](MailMessage& m) { m.from.name = "Ann\nBcc: x@example.net"; },
       "from"},
      {"CR in a recipient's name", [](MailMessage& m) { m.to[0].name = "Bob\r"; }, "to"},
      {"LF in a Cc address", [](MailMessage& m) { m.cc = {{"", "c@example.net\nBcc: x@y.z"}}; },
       "cc"},
      {"CR LF in Reply-To's name",
       [](MailMessage& m) { m.reply_to = MailAddress{"R\r\nX: y", "r@example.org"}; }, "reply_to"},
      {"CR LF in a header value",
       [](MailMessage& m) { m.headers = {{"X-Note", "ok\r\nBcc: x@example.net"}}; }, "headers"},
      {"LF in a header name", [](MailMessage& m) { m.headers = {{"X-A\nBcc", "x"}}; }, "headers"},
      {"NUL in a header value",
       [](MailMessage& m) { m.headers = {{"X-A", std::string("a\0b", 3)}}; }, "headers"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    MailMessage message = Simple();
    c.change(message);
    const domain::Error error = Refusal(message);
    CHECK(error.code == ErrorCode::kInvalidArgument);
    REQUIRE(error.fields.size() == 1);
    CHECK(error.fields.front().field == c.field);
    CHECK(error.fields.front().code == "validation_header_injection");
  }
}

TEST_CASE("mime: malformed messages are refused", "[mail][mime]") {
  struct Case {
    const char* what;
    std::function<void(MailMessage&)> change;
    const char* field;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"no recipient", [](MailMessage& m) { m.to.clear(); }, "to", "validation_required"},
      {"an empty address", [](MailMessage& m) { m.to[0].address.clear(); }, "to",
       "validation_required"},
      {"not an address", [](MailMessage& m) { m.to[0].address = "bob"; }, "to",
       "validation_invalid_email"},
      {"no dot in the domain", [](MailMessage& m) { m.to[0].address = "bob@localhost"; }, "to",
       "validation_invalid_email"},
      {"a space in the address", [](MailMessage& m) { m.bcc = {{"", "b ob@example.net"}}; },
       "bcc", "validation_invalid_email"},
      {"angle brackets in the address",
       [](MailMessage& m) { m.to[0].address = "<bob@example.net>"; }, "to",
       "validation_invalid_email"},
      {"a non-ASCII address", [](MailMessage& m) { m.from.address = "zoë@example.org"; }, "from",
       "validation_invalid_email"},
      {"a name that is not UTF-8", [](MailMessage& m) { m.from.name = "\xFF"; }, "from",
       "validation_invalid_utf8"},
      {"a subject that is not UTF-8", [](MailMessage& m) { m.subject = "\xC3"; }, "subject",
       "validation_invalid_utf8"},
      {"html that is not UTF-8", [](MailMessage& m) { m.html = "\xED\xA0\x80"; }, "html",
       "validation_invalid_utf8"},
      {"a reserved header", [](MailMessage& m) { m.headers = {{"Content-Type", "text/x"}}; },
       "headers", "validation_reserved_header"},
      {"Bcc as an extra header, any case", [](MailMessage& m) { m.headers = {{"bCC", "x@y.z"}}; },
       "headers", "validation_reserved_header"},
      {"From as an extra header", [](MailMessage& m) { m.headers = {{"From", "x@y.z"}}; },
       "headers", "validation_reserved_header"},
      {"a header name with a colon", [](MailMessage& m) { m.headers = {{"X-A:", "v"}}; },
       "headers", "validation_invalid_header"},
      {"a header name with a space", [](MailMessage& m) { m.headers = {{"X A", "v"}}; },
       "headers", "validation_invalid_header"},
      {"an empty header name", [](MailMessage& m) { m.headers = {{"", "v"}}; }, "headers",
       "validation_invalid_header"},
      {"a non-ASCII header value", [](MailMessage& m) { m.headers = {{"X-A", "é"}}; }, "headers",
       "validation_invalid_header"},
      {"a header word too long for a line",
       [](MailMessage& m) { m.headers = {{"X-A", std::string(1000, 'v')}}; }, "headers",
       "validation_invalid_header"},
      {"too many recipients",
       [](MailMessage& m) {
         m.to.clear();
         for (int i = 0; i <= 100; ++i) m.to.push_back({"", "r" + std::to_string(i) + "@ex.org"});
       },
       "to", "validation_too_many_recipients"},
      {"too many headers",
       [](MailMessage& m) {
         for (int i = 0; i <= 50; ++i) m.headers.push_back({"X-H" + std::to_string(i), "v"});
       },
       "headers", "validation_too_many_headers"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    MailMessage message = Simple();
    c.change(message);
    const domain::Error error = Refusal(message);
    CHECK(error.code == ErrorCode::kInvalidArgument);
    REQUIRE(error.fields.size() == 1);
    CHECK(error.fields.front().field == c.field);
    CHECK(error.fields.front().code == c.code);
  }
}

TEST_CASE("mime: limits", "[mail][mime]") {
  MailMessage message = Simple();
  SECTION("100 distinct recipients are fine, duplicates count once") {
    message.to.clear();
    for (int i = 0; i < 100; ++i) message.to.push_back({"", "r" + std::to_string(i) + "@ex.org"});
    message.bcc = {{"", "r0@EX.org"}};
    auto mail = ComposeMail(message, kDate, "u1d");
    REQUIRE(mail);
    CHECK(mail->recipients.size() == 100);
  }
  SECTION("bodies over the limit are resource_exhausted") {
    message.text = std::string(kMaxBodyBytes / 2 + 1, 'a');
    message.html = std::string(kMaxBodyBytes / 2, 'b');
    const domain::Error error = Refusal(message);
    CHECK(error.code == ErrorCode::kResourceExhausted);
  }
  SECTION("the unique token is checked") {
    CHECK_FALSE(ComposeMail(message, kDate, ""));
    CHECK_FALSE(ComposeMail(message, kDate, "a@b"));
    CHECK_FALSE(ComposeMail(message, kDate, std::string(41, 'a')));
    CHECK(ComposeMail(message, kDate, std::string(40, 'a')));
  }
}
