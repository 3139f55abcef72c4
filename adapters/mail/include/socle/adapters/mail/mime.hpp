#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/ports/mailer.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::mail {

/// Most distinct recipients (to, cc and bcc together) of one message: RFC 5321 4.5.3.1.8 only
/// obliges a server to take 100, and a larger list is a mailing, not a transactional mail.
inline constexpr std::size_t kMaxRecipients = 100;
/// Largest text plus html body, in bytes, before encoding.
inline constexpr std::size_t kMaxBodyBytes = std::size_t{10} << 20;
/// Most extra header fields of one message.
inline constexpr std::size_t kMaxExtraHeaders = 50;
/// Longest display name and subject, in bytes.
inline constexpr std::size_t kMaxHeaderTextBytes = 2000;
/// Longest extra header field name (RFC 5322 lines should stay within 78 characters).
inline constexpr std::size_t kMaxHeaderNameBytes = 76;

/// A message ready to hand to a transport: its envelope and its RFC 5322 text.
struct ComposedMail {
  /// The sender's address, for SMTP's MAIL FROM.
  std::string envelope_from;
  /// Every distinct recipient address of to, cc and bcc, in that order, for SMTP's RCPT TO.
  std::vector<std::string> recipients;
  /// The Message-ID field's value, angle brackets included.
  std::string message_id;
  /// The message: header fields, a blank line, the body. 7-bit ASCII, CRLF line endings, every
  /// line at most 78 characters (a longer header element, such as a long address, stays within
  /// RFC 5322's 998), ending with CRLF. Not dot-stuffed.
  std::string data;
};

/// Checks `message` as Mailer::Send promises (see mailer.hpp): invalid_argument with the field
/// at fault ("from", "to", "cc", "bcc", "reply_to", "subject", "headers", "text", "html") for
/// no recipient, an address that is not an ASCII e-mail address, a CR, LF or NUL in any header
/// text (code "validation_header_injection"), text that is not UTF-8, a malformed or reserved
/// extra header, too many recipients or headers; resource_exhausted when the bodies together
/// exceed kMaxBodyBytes. Pure.
domain::Result<void> ValidateMail(const application::MailMessage& message);

/// Composes `message` (checked as ValidateMail does) into an RFC 5322 / MIME message:
/// - Date from `date` (RFC 5322 form, in UTC); Message-ID "<unique@sender's domain>";
/// - From, Reply-To, To, Cc with display names as atoms, quoted strings, or RFC 2047
///   encoded-words (UTF-8, B encoding) when not printable ASCII; "To: undisclosed-recipients:;"
///   when there is neither To nor Cc; Bcc never appears;
/// - Subject as written when it is printable ASCII, else as encoded-words;
/// - the extra headers, folded at their spaces;
/// - MIME-Version 1.0 and a text/plain body, a text/html body alone, or multipart/alternative
///   with both, in UTF-8; a body is 7bit when it is ASCII with short lines, else
///   quoted-printable, or base64 when mostly non-ASCII; line breaks become CRLF.
/// `unique` (1 to 40 characters of [A-Za-z0-9], unpredictable and never reused) names the
/// message in its Message-ID and its multipart boundary. Errors as ValidateMail. Pure.
domain::Result<ComposedMail> ComposeMail(const application::MailMessage& message,
                                         domain::Timestamp date, std::string_view unique);

/// A fresh `unique` for ComposeMail: 128 random bits as 32 lower-case hex digits.
std::string NewMailToken(application::RandomSource& random);

/// RFC 5322 3.3 date-time in UTC: "Tue, 14 Nov 2023 22:13:20 +0000" (sub-seconds dropped).
std::string FormatMailDate(domain::Timestamp date);

/// Quoted-printable (RFC 2045 6.7) of `text`, whose lines may end with LF, CRLF or CR: hard
/// line breaks become CRLF, encoded lines are at most 76 characters (soft breaks "=" between),
/// '=' and bytes outside printable ASCII become =XX, a space or tab ending a line becomes =20 or
/// =09. The result ends without a line break unless `text` ends with one.
std::string EncodeQuotedPrintable(std::string_view text);

/// Standard base64 with padding (RFC 4648 4) in lines of 76 characters, each ending with CRLF.
std::string EncodeBase64Lines(std::string_view bytes);

/// RFC 2047 encoded-words ("=?utf-8?B?...?=") of the UTF-8 `text`, each at most 52 characters
/// and never splitting a character, separated by single spaces; a decoder joins them back.
/// Precondition: `text` is valid UTF-8.
std::string EncodeWords(std::string_view text);

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF).
bool IsValidUtf8(std::string_view text) noexcept;

}  // namespace socle::adapters::mail
