#pragma once

// Helpers for the mail adapter's tests: the Node.js SMTP receiver of tests/support/smtp run as
// a child process, mailparser's reading of message files, and test certificates made with the
// openssl command line tool. Every helper throws std::runtime_error on a broken setup, so a
// test fails saying what to fix instead of passing without having run.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli/child_process.hpp"
#include "socle/domain/json_value.hpp"
#include "support/temp_dir.hpp"

namespace socle::testing {

/// Throws unless Node.js and the receiver's packages (tests/support/smtp/node_modules,
/// installed by `npm ci` there, which `make test` runs) are present.
void RequireMailTools();

/// What parse_mail.mjs reads in each file (see its header for the fields), in order.
std::vector<domain::JsonValue> ParseMailFiles(const std::vector<std::filesystem::path>& files);

/// A string member of a parsed mail ("" when absent or null).
std::string StringOf(const domain::JsonValue& object, std::string_view key);
/// A list of {name, address} members as "name <address>" strings ("address" without a name).
std::vector<std::string> MailboxesOf(const domain::JsonValue& object, std::string_view key);
/// `text` with CRLF and CR line endings turned into LF and trailing line breaks removed, so
/// that texts can be compared whatever line endings a reader reports.
std::string NormalizeNewlines(std::string_view text);

/// A private certificate authority and a server certificate it signed for "localhost" (DNS
/// name only), plus a second, unrelated authority; made once per test process in a temporary
/// directory.
struct TestCertificates {
  std::filesystem::path ca_file;        ///< PEM of the authority that signed the server's.
  std::filesystem::path other_ca_file;  ///< PEM of an authority that signed nothing used here.
  std::filesystem::path server_cert;    ///< The server certificate (CN and SAN "localhost").
  std::filesystem::path server_key;
};
const TestCertificates& Certificates();

/// How to start the receiver (see tests/support/smtp/smtp_receiver.mjs).
struct ReceiverOptions {
  enum class Security { kPlain, kStartTls, kTls };
  Security security = Security::kPlain;
  std::optional<std::string> user;  ///< With password: AUTH offered and required.
  std::string password;
  std::string auth_methods = "PLAIN,LOGIN";
  bool allow_insecure_auth = false;
  std::vector<std::string> refuse_recipients;
  std::optional<std::uint64_t> size;
};

/// The envelope and session of one received message, with its bytes.
struct ReceivedMail {
  std::filesystem::path eml;  ///< The message file.
  std::string raw;            ///< Its bytes.
  std::string from;           ///< MAIL FROM.
  std::vector<std::string> to;  ///< RCPT TO, in order.
  bool secure = false;          ///< Over TLS.
  std::string auth_method;      ///< "PLAIN", "LOGIN" or "" without AUTH.
  std::string auth_user;
  std::string client_hostname;  ///< The EHLO/HELO name.
};

/// The SMTP receiver on 127.0.0.1 and a free port, stopped when destroyed.
class SmtpReceiver final {
 public:
  explicit SmtpReceiver(const ReceiverOptions& options);
  ~SmtpReceiver();
  SmtpReceiver(const SmtpReceiver&) = delete;
  SmtpReceiver& operator=(const SmtpReceiver&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  /// Waits (up to `timeout`) until `count` messages in all have been stored, then returns them
  /// all, in the order received. Throws when they do not come in time, or when more than
  /// `count` were stored.
  std::vector<ReceivedMail> WaitForMessages(std::size_t count,
                                            std::chrono::milliseconds timeout =
                                                std::chrono::seconds(15));

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
  std::size_t stored_ = 0;
};

/// A loopback port where nothing listens (bound, then released).
std::uint16_t UnusedPort();

/// Reads a whole file; throws when it cannot.
std::string ReadFile(const std::filesystem::path& path);

}  // namespace socle::testing
