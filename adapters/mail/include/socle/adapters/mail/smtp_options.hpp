#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::adapters::mail {

/// How the connection to the SMTP server is protected.
enum class SmtpSecurity {
  kNone,      ///< Plain TCP throughout (a local relay); STARTTLS is not attempted.
  kStartTls,  ///< Plain TCP, then STARTTLS before anything else; refused if not offered.
  kTls,       ///< TLS from the first byte ("implicit TLS", RFC 8314, port 465).
};

/// The stable lower-case name of a mode: "none", "starttls", "tls".
std::string_view ToString(SmtpSecurity security) noexcept;

/// Everything SmtpMailer needs to reach and use one SMTP server (a submission server or relay).
struct SmtpOptions {
  std::string host;        ///< Name or IP address; also the name the certificate must carry.
  std::uint16_t port = 587;
  SmtpSecurity security = SmtpSecurity::kStartTls;
  /// AUTH credentials; no AUTH when username is empty. PLAIN is used when the server offers
  /// it, LOGIN otherwise.
  std::string username;
  std::string password;
  /// Lets credentials travel over a connection without TLS (security kNone). Off by default:
  /// only for a relay on a trusted network.
  bool allow_plaintext_auth = false;
  /// The name given in EHLO; empty: this machine's host name when it is a dotted name, else
  /// the connection's local address as an address literal ("[192.0.2.1]").
  std::string local_name;
  /// Verify the server's certificate (chain to a trusted root, name matching `host`). On by
  /// default; turning it off makes TLS worthless against an active attacker and is meant only
  /// for a test server whose certificate cannot be provided through ca_file.
  bool tls_verify = true;
  /// PEM file of the certificates to trust instead of the system's store; empty: the system
  /// store (OpenSSL's default paths, /etc/ssl/certs on Debian).
  std::string ca_file;
  /// Bound on name resolution plus the TCP connection.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  /// Bound on each command's reply (the greeting, EHLO, AUTH, MAIL, RCPT ...) and on each TLS
  /// handshake.
  std::chrono::milliseconds command_timeout{std::chrono::seconds(30)};
  /// Bound on sending the message data and receiving the server's verdict on it.
  std::chrono::milliseconds data_timeout{std::chrono::seconds(120)};
};

/// Checks options for use: invalid_argument for an empty host, port 0, a local name or
/// credentials containing CR, LF or NUL (or spaces, for the local name), a password without a
/// username, credentials over kNone without allow_plaintext_auth, a ca_file with tls_verify
/// off, or a timeout that is not positive. Messages never repeat the password.
domain::Result<void> ValidateSmtpOptions(const SmtpOptions& options);

/// Parses a configuration URL:
///
///   smtp://[user[:password]@]host[:port][?param=value&...]
///   smtps://...                        (security=tls, port 465 by default)
///
/// user, password and values are percent-decoded; an IPv6 host is written in brackets.
/// Parameters: security=none|starttls|tls (smtp:// defaults to starttls), ca_file=PATH,
/// tls_verify=true|false, allow_plaintext_auth=true|false, local_name=NAME, and
/// connect_timeout, command_timeout, data_timeout as seconds ("10") or milliseconds ("500ms").
/// The default port follows the security: 25 for none, 587 for starttls, 465 for tls. An
/// unknown or repeated parameter is refused, so that a typo cannot turn a protection off.
/// invalid_argument otherwise (also when ValidateSmtpOptions refuses the result); messages
/// never repeat the URL or its password.
domain::Result<SmtpOptions> ParseSmtpUrl(std::string_view url);

/// The options as a URL that ParseSmtpUrl reads back, with the password replaced by "***":
/// for logs and for showing the configuration. Never use it to connect.
std::string RedactedSmtpUrl(const SmtpOptions& options);

}  // namespace socle::adapters::mail
