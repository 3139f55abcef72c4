#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "socle/domain/error.hpp"

namespace socle::application {

/// A mailbox: an optional display name (UTF-8, any script) and an e-mail address.
struct MailAddress {
  std::string name;     ///< Display name; empty for none. Encoded on the wire when not ASCII.
  std::string address;  ///< An addr-spec ("ann@example.org"), ASCII only.

  friend bool operator==(const MailAddress&, const MailAddress&) = default;
};

/// One outgoing e-mail, independent of how it is delivered.
struct MailMessage {
  MailAddress from;
  std::vector<MailAddress> to;
  std::vector<MailAddress> cc;
  /// Receives the message without appearing in it: Bcc is never written as a header.
  std::vector<MailAddress> bcc;
  std::optional<MailAddress> reply_to;
  std::string subject;  ///< UTF-8; may be empty.
  std::string text;     ///< The text/plain body (UTF-8); any of LF, CRLF or CR ends a line.
  std::string html;     ///< The text/html body (UTF-8); empty for a text-only message.
  /// Extra header fields (List-Unsubscribe, X-...), in order. Printable ASCII only; they may
  /// not replace a field the mailer writes itself (Date, From, To, Subject, Content-Type ...).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Sends e-mail (account verification, password reset, notifications). Adapters deliver over
/// SMTP or write message files; all of them check and compose the message the same way.
///
/// Error codes of Send, the same for every adapter:
/// - invalid_argument: the message is malformed and nothing was sent: no recipient, an address
///   that is not an e-mail address (or not ASCII), a CR, LF or NUL in any header name or value
///   (header injection), a header that would replace one the mailer writes, text that is not
///   UTF-8, too many recipients; also a recipient the server refused permanently (5xx), with
///   that address named in the message.
/// - resource_exhausted: the message is larger than the mailer's or the server's size limit.
/// - unavailable: the mail server or the output directory cannot be used right now: it cannot
///   be reached, dropped the connection, timed out, answered with a transient (4xx) reply or
///   with something that is not SMTP, or the directory cannot be written. Retrying later may
///   succeed.
/// - failed_precondition: the mailer's configuration cannot work with this server: the
///   credentials were rejected, the server requires authentication that is not configured or
///   offers no supported mechanism, STARTTLS was required but not offered, credentials would
///   travel unencrypted, or the server's TLS certificate could not be verified.
/// - permission_denied: the server refused the sender or the message by policy (a permanent
///   5xx reply to MAIL FROM or to the message data).
/// - internal: something failed that should not (the TLS library could not be set up).
/// Error::message is always safe to show to a client (it never contains server replies or
/// credentials); Error::internal carries the server's reply and the transport's diagnosis.
class Mailer {
 public:
  virtual ~Mailer() = default;
  /// Delivers `message` to every recipient of to, cc and bcc, or fails without a partial
  /// delivery being reported as success. Thread-safe; blocks for at most the adapter's
  /// configured timeouts.
  virtual domain::Result<void> Send(const MailMessage& message) = 0;
};

}  // namespace socle::application
