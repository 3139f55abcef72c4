#include "socle/adapters/mail/mime.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <utility>

#include "base64.hpp"
#include "socle/domain/email.hpp"

namespace socle::adapters::mail {
namespace {

using application::MailAddress;
using application::MailMessage;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;

// Header lines are folded before they pass this many characters; RFC 2047 wants lines that
// carry encoded-words within 76, so one target serves every field.
constexpr std::size_t kFoldAt = 76;
// RFC 5322 2.1.1's hard limit on a line, CRLF excluded.
constexpr std::size_t kMaxLineLength = 998;
// UTF-8 bytes per encoded-word: 40 base64 characters, 52 with "=?utf-8?B?" and "?=", so a word
// fits on a line after any field name used here ("Reply-To: " is the longest).
constexpr std::size_t kWordBytes = 30;
// Display names longer than this are written as encoded-words, which fold.
constexpr std::size_t kMaxPlainNameLength = 60;
// A body line longer than this is not sent as 7bit: quoted-printable wraps it.
constexpr std::size_t kMax7bitLineLength = 76;
constexpr std::size_t kMaxUniqueLength = 40;

constexpr std::string_view kUpperHex = "0123456789ABCDEF";

bool HasLineBreakOrNul(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsPrintableAscii(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool IsAtext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(char(c)) != std::string_view::npos;
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

// Fields the mailer writes itself (or that only transports may write): an extra header may not
// replace or duplicate them, which would let a caller forge a sender or break the MIME tree.
bool IsReservedHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kReserved = {
      "date", "from", "sender", "reply-to", "to", "cc", "bcc", "message-id", "subject",
      "mime-version", "return-path"};
  const std::string lower = ToLower(name);
  if (lower.starts_with("content-")) return true;
  for (std::string_view reserved : kReserved) {
    if (lower == reserved) return true;
  }
  return false;
}

// Splits header text at its whitespace into foldable pieces: each piece is the whitespace
// before a word and the word, so that a fold (CRLF) can go before any piece but the first and
// unfolding restores the text exactly. Trailing whitespace stays with the last word, since a
// line may not consist of whitespace only. Every piece starts with at least one space: the
// first one's is the space after the colon.
std::vector<std::string> SplitAtSpaces(std::string_view text) {
  std::vector<std::string> pieces;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t word = text.find_first_not_of(" \t", i);
    if (word == std::string_view::npos) {
      if (pieces.empty()) pieces.emplace_back(" ");
      pieces.back().append(text.substr(i));
      break;
    }
    std::size_t end = text.find_first_of(" \t", word);
    if (end == std::string_view::npos) end = text.size();
    std::string piece = pieces.empty() ? " " : "";
    piece.append(text.substr(i, end - i));
    pieces.push_back(std::move(piece));
    i = end;
  }
  return pieces;
}

std::vector<std::string> EncodedWordPieces(std::string_view text) {
  std::vector<std::string> pieces;
  const std::string words = EncodeWords(text);
  std::size_t start = 0;
  while (start < words.size()) {
    std::size_t end = words.find(' ', start);
    if (end == std::string::npos) end = words.size();
    pieces.push_back(" " + words.substr(start, end - start));
    start = end + 1;
  }
  return pieces;
}

bool LongestPieceFits(const std::vector<std::string>& pieces, std::size_t name_length) {
  for (const std::string& piece : pieces) {
    if (name_length + 1 + piece.size() > kMaxLineLength) return false;
  }
  return true;
}

// Writes "Name:" and the pieces, folding before a piece that would pass kFoldAt. A piece longer
// than a line (a long address) gets a line of its own, still within kMaxLineLength.
void AppendField(std::string& out, std::string_view name, const std::vector<std::string>& pieces) {
  out.append(name);
  out.push_back(':');
  std::size_t line = name.size() + 1;
  bool first = true;
  for (const std::string& piece : pieces) {
    if (!first && line + piece.size() > kFoldAt) {
      out.append("\r\n");
      line = 0;
    }
    out.append(piece);
    line += piece.size();
    first = false;
  }
  out.append("\r\n");
}

std::string QuotedString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// A display name as phrase pieces: atoms when it is made of words of atext, a quoted string
// when it is other printable ASCII, encoded-words otherwise (and when long, or when it could
// be mistaken for an encoded-word by a lenient reader).
std::vector<std::string> NamePieces(std::string_view name) {
  const bool plain = IsPrintableAscii(name) && name.size() <= kMaxPlainNameLength &&
                     name.find("=?") == std::string_view::npos;
  if (!plain) return EncodedWordPieces(name);
  bool atoms = !name.starts_with(' ') && !name.ends_with(' ') &&
               name.find("  ") == std::string_view::npos;
  for (unsigned char c : name) {
    if (c != ' ' && !IsAtext(c)) atoms = false;
  }
  if (atoms) return SplitAtSpaces(name);
  return {" " + QuotedString(name)};
}

// The pieces of an address list: "name <address>" or "address", separated by commas.
std::vector<std::string> AddressListPieces(const std::vector<MailAddress>& mailboxes,
                                           const std::vector<std::string>& addresses) {
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < mailboxes.size(); ++i) {
    if (i > 0) pieces.back().push_back(',');
    if (mailboxes[i].name.empty()) {
      pieces.push_back(" " + addresses[i]);
      continue;
    }
    for (std::string& piece : NamePieces(mailboxes[i].name)) pieces.push_back(std::move(piece));
    pieces.push_back(" <" + addresses[i] + ">");
  }
  return pieces;
}

Error FieldError(std::string_view field, std::string code, std::string message) {
  return Error::Field(std::string(field), std::move(code), std::move(message));
}

// Header text a caller gave (a display name, the subject): no CR, LF or NUL, UTF-8, bounded.
Result<void> CheckHeaderText(std::string_view text, std::string_view field, std::string_view what) {
  if (HasLineBreakOrNul(text)) {
    return Fail(FieldError(field, "validation_header_injection",
                           std::string(what) + " must not contain line breaks or NUL characters."));
  }
  if (text.size() > kMaxHeaderTextBytes) {
    return Fail(FieldError(field, "validation_max_text_constraint",
                           std::string(what) + " must be at most " +
                               std::to_string(kMaxHeaderTextBytes) + " bytes."));
  }
  if (!IsValidUtf8(text)) {
    return Fail(FieldError(field, "validation_invalid_utf8",
                           std::string(what) + " must be UTF-8 text."));
  }
  return {};
}

// The mailbox's address in its normalised form (domain lower-cased).
Result<std::string> CheckMailbox(const MailAddress& mailbox, std::string_view field) {
  if (auto name = CheckHeaderText(mailbox.name, field, "A display name"); !name) {
    return Fail(name.error());
  }
  if (HasLineBreakOrNul(mailbox.address)) {
    return Fail(FieldError(field, "validation_header_injection",
                           "An address must not contain line breaks or NUL characters."));
  }
  if (mailbox.address.empty()) {
    return Fail(FieldError(field, "validation_required", "Missing required address."));
  }
  for (unsigned char c : mailbox.address) {
    // RFC 6531 addresses need SMTPUTF8 end to end; the mailers speak plain 7-bit SMTP.
    if (c >= 0x80) {
      return Fail(FieldError(field, "validation_invalid_email",
                             "Internationalised e-mail addresses are not supported."));
    }
  }
  auto email = domain::Email::Parse(mailbox.address);
  if (!email) {
    return Fail(FieldError(field, "validation_invalid_email", "Must be a valid email address."));
  }
  return email->str();
}

// What checking a message yields: the normalised addresses, in the message's order.
struct CheckedMail {
  std::string from;
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::optional<std::string> reply_to;
  std::vector<std::string> recipients;
};

Result<void> CheckExtraHeader(const std::pair<std::string, std::string>& header) {
  const auto& [name, value] = header;
  if (HasLineBreakOrNul(name) || HasLineBreakOrNul(value)) {
    return Fail(FieldError("headers", "validation_header_injection",
                           "Header names and values must not contain line breaks or NUL "
                           "characters."));
  }
  if (name.empty() || name.size() > kMaxHeaderNameBytes) {
    return Fail(FieldError("headers", "validation_invalid_header",
                           "A header name must have 1 to " + std::to_string(kMaxHeaderNameBytes) +
                               " characters."));
  }
  for (unsigned char c : name) {
    if (c < 33 || c > 126 || c == ':') {
      return Fail(FieldError("headers", "validation_invalid_header",
                             "A header name must be printable ASCII without spaces or colons."));
    }
  }
  if (IsReservedHeader(name)) {
    return Fail(FieldError("headers", "validation_reserved_header",
                           "The header " + name + " is written by the mailer."));
  }
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c > 0x7E) {
      return Fail(FieldError("headers", "validation_invalid_header",
                             "The value of " + name + " must be printable ASCII."));
    }
  }
  if (value.size() > kMaxHeaderTextBytes || !LongestPieceFits(SplitAtSpaces(value), name.size())) {
    return Fail(FieldError("headers", "validation_invalid_header",
                           "The value of " + name + " is too long."));
  }
  return {};
}

Result<CheckedMail> Check(const MailMessage& message) {
  CheckedMail checked;
  auto from = CheckMailbox(message.from, "from");
  if (!from) return Fail(from.error());
  checked.from = std::move(*from);

  std::set<std::string> seen;
  auto add_list = [&](const std::vector<MailAddress>& list, std::string_view field,
                      std::vector<std::string>* out) -> Result<void> {
    for (const MailAddress& mailbox : list) {
      auto address = CheckMailbox(mailbox, field);
      if (!address) return Fail(address.error());
      if (seen.insert(*address).second) checked.recipients.push_back(*address);
      if (out != nullptr) out->push_back(std::move(*address));
    }
    return {};
  };
  if (auto ok = add_list(message.to, "to", &checked.to); !ok) return Fail(ok.error());
  if (auto ok = add_list(message.cc, "cc", &checked.cc); !ok) return Fail(ok.error());
  if (auto ok = add_list(message.bcc, "bcc", nullptr); !ok) return Fail(ok.error());
  if (checked.recipients.empty()) {
    return Fail(FieldError("to", "validation_required", "A message needs at least one recipient."));
  }
  if (checked.recipients.size() > kMaxRecipients) {
    return Fail(FieldError("to", "validation_too_many_recipients",
                           "A message may have at most " + std::to_string(kMaxRecipients) +
                               " recipients."));
  }
  if (message.reply_to) {
    auto reply_to = CheckMailbox(*message.reply_to, "reply_to");
    if (!reply_to) return Fail(reply_to.error());
    checked.reply_to = std::move(*reply_to);
  }
  if (auto subject = CheckHeaderText(message.subject, "subject", "The subject"); !subject) {
    return Fail(subject.error());
  }
  if (message.headers.size() > kMaxExtraHeaders) {
    return Fail(FieldError("headers", "validation_too_many_headers",
                           "A message may have at most " + std::to_string(kMaxExtraHeaders) +
                               " extra headers."));
  }
  for (const auto& header : message.headers) {
    if (auto ok = CheckExtraHeader(header); !ok) return Fail(ok.error());
  }
  if (message.text.size() + message.html.size() > kMaxBodyBytes) {
    return Fail(ErrorCode::kResourceExhausted,
                "The message body must be at most " + std::to_string(kMaxBodyBytes >> 20) +
                    " MiB.");
  }
  if (!IsValidUtf8(message.text)) {
    return Fail(FieldError("text", "validation_invalid_utf8", "The text must be UTF-8."));
  }
  if (!IsValidUtf8(message.html)) {
    return Fail(FieldError("html", "validation_invalid_utf8", "The HTML must be UTF-8."));
  }
  return checked;
}

enum class TransferEncoding { k7bit, kQuotedPrintable, kBase64 };

// 7bit keeps short ASCII text readable on the wire; base64 is smaller than quoted-printable
// once more than about a third of the bytes need escaping (most non-Latin scripts).
TransferEncoding ChooseEncoding(std::string_view text, bool allow_7bit) {
  std::size_t escaped = 0;
  std::size_t line = 0;
  std::size_t longest = 0;
  for (unsigned char c : text) {
    if (c == '\r' || c == '\n') {
      line = 0;
      continue;
    }
    ++line;
    if (line > longest) longest = line;
    if ((c < 0x20 && c != '\t') || c >= 0x7F) ++escaped;
  }
  if (escaped * 3 > text.size()) return TransferEncoding::kBase64;
  if (allow_7bit && escaped == 0 && longest <= kMax7bitLineLength) return TransferEncoding::k7bit;
  return TransferEncoding::kQuotedPrintable;
}

// `text` with every line ending (LF, CRLF or a lone CR) as CRLF: MIME's canonical text form.
std::string CanonicalLines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      out.append("\r\n");
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out.append("\r\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string_view EncodingName(TransferEncoding encoding) {
  switch (encoding) {
    case TransferEncoding::k7bit: return "7bit";
    case TransferEncoding::kQuotedPrintable: return "quoted-printable";
    case TransferEncoding::kBase64: return "base64";
  }
  return "base64";
}

// One entity's content header fields, a blank line and its encoded body, ending with CRLF.
void AppendTextEntity(std::string& out, std::string_view subtype, std::string_view text,
                      bool allow_7bit) {
  const TransferEncoding encoding = ChooseEncoding(text, allow_7bit);
  out.append("Content-Type: text/");
  out.append(subtype);
  out.append("; charset=utf-8\r\nContent-Transfer-Encoding: ");
  out.append(EncodingName(encoding));
  out.append("\r\n\r\n");
  std::string body;
  switch (encoding) {
    case TransferEncoding::k7bit: body = CanonicalLines(text); break;
    case TransferEncoding::kQuotedPrintable: body = EncodeQuotedPrintable(text); break;
    case TransferEncoding::kBase64: body = EncodeBase64Lines(CanonicalLines(text)); break;
  }
  if (!body.empty() && !body.ends_with("\r\n")) body.append("\r\n");
  out.append(body);
}

bool IsUniqueToken(std::string_view unique) {
  if (unique.empty() || unique.size() > kMaxUniqueLength) return false;
  for (unsigned char c : unique) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// The length of the UTF-8 sequence that starts with `lead` (1 for a stray byte, which valid
// input does not have).
std::size_t SequenceLength(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

void AppendQuotedPrintableLine(std::string& out, std::string_view line) {
  std::size_t length = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    const bool literal =
        (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
    const std::size_t width = literal ? 1 : 3;
    // A soft break "=" must fit on the line too, unless this is the line's last character.
    const std::size_t limit = last ? 76 : 75;
    if (length + width > limit) {
      out.append("=\r\n");
      length = 0;
    }
    if (literal) {
      out.push_back(char(c));
    } else {
      out.push_back('=');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 0x0F]);
    }
    length += width;
  }
}

}  // namespace

bool IsValidUtf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code = lead & 0x1FU;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code = lead & 0x0FU;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code = lead & 0x07U;
    } else {
      return false;  // a continuation byte first, C0/C1 (overlong), or past U+10FFFF
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3FU);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000)) return false;
    if (code >= 0xD800 && code <= 0xDFFF) return false;
    if (code > 0x10FFFF) return false;
    i += length;
  }
  return true;
}

std::string EncodeWords(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = start;
    while (end < text.size()) {
      const std::size_t next = end + SequenceLength(static_cast<unsigned char>(text[end]));
      if (next - start > kWordBytes) break;
      end = next;
    }
    if (!out.empty()) out.push_back(' ');
    out.append("=?utf-8?B?");
    out.append(Base64(text.substr(start, end - start)));
    out.append("?=");
    start = end;
  }
  return out;
}

std::string EncodeQuotedPrintable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find_first_of("\r\n", start);
    AppendQuotedPrintableLine(out, text.substr(start, end == std::string_view::npos
                                                          ? std::string_view::npos
                                                          : end - start));
    if (end == std::string_view::npos) break;
    out.append("\r\n");
    start = end + 1;
    if (text[end] == '\r' && start < text.size() && text[start] == '\n') ++start;
    if (start == text.size()) break;
  }
  return out;
}

std::string EncodeBase64Lines(std::string_view bytes) {
  constexpr std::size_t kBytesPerLine = 57;  // 76 characters of base64
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4 + bytes.size() / kBytesPerLine * 2 + 2);
  for (std::size_t i = 0; i < bytes.size(); i += kBytesPerLine) {
    out.append(Base64(bytes.substr(i, kBytesPerLine)));
    out.append("\r\n");
  }
  return out;
}

std::string FormatMailDate(domain::Timestamp date) {
  using namespace std::chrono;
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_seconds instant =
      floor<seconds>(sys_time<microseconds>(microseconds(date.unix_micros())));
  const sys_days day = floor<days>(instant);
  const year_month_day ymd(day);
  const weekday week_day(day);
  const hh_mm_ss time(instant - day);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %u %s %04d %02d:%02d:%02d +0000",
                kDays[week_day.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

std::string NewMailToken(application::RandomSource& random) {
  std::array<std::uint8_t, 16> bytes{};
  random.Fill(bytes);
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t byte : bytes) {
    out.push_back("0123456789abcdef"[byte >> 4]);
    out.push_back("0123456789abcdef"[byte & 0x0F]);
  }
  return out;
}

Result<void> ValidateMail(const MailMessage& message) {
  auto checked = Check(message);
  if (!checked) return Fail(checked.error());
  return {};
}

Result<ComposedMail> ComposeMail(const MailMessage& message, domain::Timestamp date,
                                 std::string_view unique) {
  if (!IsUniqueToken(unique)) {
    return Fail(Error::Internal("ComposeMail: the unique token must be 1 to 40 letters or digits"));
  }
  auto checked = Check(message);
  if (!checked) return Fail(checked.error());

  ComposedMail mail;
  mail.envelope_from = checked->from;
  mail.recipients = std::move(checked->recipients);
  const std::string domain = checked->from.substr(checked->from.rfind('@') + 1);
  mail.message_id = "<" + std::string(unique) + "@" + domain + ">";

  std::string& out = mail.data;
  out.reserve(message.text.size() * 11 / 10 + message.html.size() * 11 / 10 + 2048);
  AppendField(out, "Date", {" " + FormatMailDate(date)});
  AppendField(out, "From", AddressListPieces({message.from}, {checked->from}));
  if (message.reply_to) {
    AppendField(out, "Reply-To", AddressListPieces({*message.reply_to}, {*checked->reply_to}));
  }
  if (!message.to.empty()) AppendField(out, "To", AddressListPieces(message.to, checked->to));
  if (!message.cc.empty()) AppendField(out, "Cc", AddressListPieces(message.cc, checked->cc));
  if (message.to.empty() && message.cc.empty()) {
    // Only Bcc recipients: an empty group says so without naming anyone (RFC 5322 A.1.3).
    AppendField(out, "To", {" undisclosed-recipients:;"});
  }
  AppendField(out, "Message-ID", {" " + mail.message_id});
  std::vector<std::string> subject;
  if (IsPrintableAscii(message.subject) && message.subject.find("=?") == std::string::npos) {
    subject = SplitAtSpaces(message.subject);
  }
  if (!LongestPieceFits(subject, 7) || (subject.empty() && !message.subject.empty())) {
    subject = EncodedWordPieces(message.subject);
  }
  AppendField(out, "Subject", subject);
  for (const auto& [name, value] : message.headers) AppendField(out, name, SplitAtSpaces(value));
  out.append("MIME-Version: 1.0\r\n");

  if (message.html.empty()) {
    AppendTextEntity(out, "plain", message.text, true);
  } else if (message.text.empty()) {
    AppendTextEntity(out, "html", message.html, true);
  } else {
    // Neither quoted-printable nor base64 output can contain "=_", so this boundary cannot
    // occur in the parts (RFC 2045 6.7 note 8), whatever the text says.
    const std::string boundary = "=_socle_" + std::string(unique);
    AppendField(out, "Content-Type",
                {" multipart/alternative;", " boundary=\"" + boundary + "\""});
    out.append("\r\n");
    out.append("--" + boundary + "\r\n");
    AppendTextEntity(out, "plain", message.text, false);
    out.append("--" + boundary + "\r\n");
    AppendTextEntity(out, "html", message.html, false);
    out.append("--" + boundary + "--\r\n");
  }
  return mail;
}

}  // namespace socle::adapters::mail
