#include "socle/adapters/mail/smtp_mailer.hpp"

#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/host_name.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base64.hpp"
#include "smtp_protocol.hpp"
#include "socle/adapters/mail/mime.hpp"

namespace socle::adapters::mail {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using application::MailMessage;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;
using smtp::Reply;

// QUIT after the work is done is a courtesy: a server slow to answer it must not hold Send.
constexpr std::chrono::milliseconds kMaxQuitWait = std::chrono::seconds(5);

Error MakeError(ErrorCode code, std::string message, std::string internal) {
  Error error = Error::Make(code, std::move(message));
  error.internal = std::move(internal);
  return error;
}

// The error for a reply other than the one expected at `step`: transient replies mean "later",
// permanent ones get the step's own code and message.
Error ReplyError(const Reply& reply, std::string_view step, ErrorCode permanent_code,
                 std::string permanent_message) {
  std::string internal = "SMTP " + std::string(step) + ": " + reply.Describe();
  if (reply.IsTransient()) {
    return MakeError(ErrorCode::kUnavailable,
                     "The mail server is temporarily unable to accept the message.",
                     std::move(internal));
  }
  if (reply.IsPermanent()) {
    return MakeError(permanent_code, std::move(permanent_message), std::move(internal));
  }
  return MakeError(ErrorCode::kUnavailable, "The mail server answered unexpectedly.",
                   std::move(internal));
}

// Name resolution with a real deadline. getaddrinfo cannot be cancelled, and Asio's resolver
// waits for it when torn down; so it runs on a detached thread whose result is dropped when
// the deadline passes first (the thread ends when the system resolver gives up on its own).
Result<std::vector<tcp::endpoint>> Resolve(const std::string& host, std::uint16_t port,
                                           SteadyClock::time_point deadline) {
  struct Shared {
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false;
    int status = 0;
    std::vector<tcp::endpoint> endpoints;
  };
  auto shared = std::make_shared<Shared>();
  try {
    std::thread([shared, host, port] {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
      addrinfo* list = nullptr;
      const int status = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
      std::vector<tcp::endpoint> endpoints;
      for (addrinfo* entry = list; status == 0 && entry != nullptr; entry = entry->ai_next) {
        tcp::endpoint endpoint;
        if (entry->ai_addrlen > endpoint.capacity()) continue;
        std::memcpy(endpoint.data(), entry->ai_addr, entry->ai_addrlen);
        endpoint.resize(entry->ai_addrlen);
        endpoints.push_back(endpoint);
      }
      if (list != nullptr) ::freeaddrinfo(list);
      std::lock_guard lock(shared->mutex);
      shared->status = status;
      shared->endpoints = std::move(endpoints);
      shared->finished = true;
      shared->done.notify_all();
    }).detach();
  } catch (const std::exception& error) {
    return Fail(MakeError(ErrorCode::kInternal, "The mail could not be sent.",
                          std::string("SMTP resolve: cannot start a thread: ") + error.what()));
  }
  std::unique_lock lock(shared->mutex);
  if (!shared->done.wait_until(lock, deadline, [&] { return shared->finished; })) {
    return Fail(MakeError(ErrorCode::kUnavailable, "The mail server could not be reached.",
                          "SMTP resolve " + host + ": timed out"));
  }
  if (shared->status != 0 || shared->endpoints.empty()) {
    return Fail(MakeError(ErrorCode::kUnavailable, "The mail server could not be reached.",
                          "SMTP resolve " + host + ": " +
                              (shared->status != 0 ? ::gai_strerror(shared->status)
                                                   : "no address")));
  }
  return std::move(shared->endpoints);
}

// One SMTP connection, plain or TLS, whose every operation ends by a deadline. Asio's
// asynchronous operations are run on a private io_context until they complete or the
// deadline passes; then the socket is closed, which ends the operation, and the connection is
// broken for good.
class Connection {
 public:
  Connection(const SmtpOptions& options, ssl::context* tls_context)
      : options_(options), tls_context_(tls_context) {}

  Result<void> Connect() {
    const auto deadline = SteadyClock::now() + options_.connect_timeout;
    std::vector<tcp::endpoint> endpoints;
    boost::system::error_code parse_error;
    const asio::ip::address literal = asio::ip::make_address(options_.host, parse_error);
    if (!parse_error) {
      endpoints.emplace_back(literal, options_.port);
    } else {
      auto resolved = Resolve(options_.host, options_.port, deadline);
      if (!resolved) return Fail(resolved.error());
      endpoints = std::move(*resolved);
    }
    const auto error = Run(
        [&](auto done) {
          asio::async_connect(socket_, endpoints,
                              [done](const boost::system::error_code& ec, const tcp::endpoint&) mutable {
                                done(ec);
                              });
        },
        deadline);
    if (error) {
      return Fail(MakeError(ErrorCode::kUnavailable, "The mail server could not be reached.",
                            "SMTP connect to " + options_.host + ":" +
                                std::to_string(options_.port) + ": " + Diagnosis(error)));
    }
    return {};
  }

  // TLS over the connected socket (at once for implicit TLS, after "220" to STARTTLS).
  Result<void> StartTls() {
    if (tls_context_ == nullptr) {
      return Fail(MakeError(ErrorCode::kInternal, "The mail could not be sent.",
                            "SMTP: TLS requested without a TLS context"));
    }
    try {
      tls_.emplace(std::move(socket_), *tls_context_);
    } catch (const std::exception& error) {
      return Fail(MakeError(ErrorCode::kInternal, "The mail could not be sent.",
                            std::string("SMTP TLS setup: ") + error.what()));
    }
    SSL* ssl = tls_->native_handle();
    boost::system::error_code not_ip;
    asio::ip::make_address(options_.host, not_ip);
    const bool host_is_ip = !not_ip;
    // SNI names hosts only (RFC 6066 3): an address literal is not sent.
    if (!host_is_ip && SSL_set_tlsext_host_name(ssl, options_.host.c_str()) != 1) {
      return Fail(MakeError(ErrorCode::kInternal, "The mail could not be sent.",
                            "SMTP TLS setup: cannot set the server name"));
    }
    if (options_.tls_verify) {
      // The name is checked by OpenSSL during chain verification, so a failure shows up in
      // SSL_get_verify_result like any other certificate problem.
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int set = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, options_.host.c_str())
                                 : X509_VERIFY_PARAM_set1_host(param, options_.host.c_str(), 0);
      if (set != 1) {
        return Fail(MakeError(ErrorCode::kInternal, "The mail could not be sent.",
                              "SMTP TLS setup: cannot set the name to verify"));
      }
      SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    } else {
      SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
    }
    const auto error = Run(
        [&](auto done) { tls_->async_handshake(ssl::stream_base::client, done); },
        SteadyClock::now() + options_.command_timeout);
    if (!error) return {};
    // A failed handshake leaves nothing to say QUIT over.
    Break();
    const long verify = SSL_get_verify_result(ssl);
    if (options_.tls_verify && verify != X509_V_OK && error != asio::error::timed_out) {
      return Fail(MakeError(ErrorCode::kFailedPrecondition,
                            "The mail server's TLS certificate could not be verified.",
                            "SMTP TLS handshake with " + options_.host + ": certificate " +
                                "verification failed: " + X509_verify_cert_error_string(verify)));
    }
    return Fail(MakeError(ErrorCode::kUnavailable, "The TLS handshake with the mail server failed.",
                          "SMTP TLS handshake with " + options_.host + ": " + Diagnosis(error)));
  }

  bool encrypted() const noexcept { return tls_.has_value(); }
  bool broken() const noexcept { return broken_; }
  // Bytes the server sent after the reply just read.
  bool HasBufferedInput() const noexcept { return !input_.empty(); }

  // The local address as an EHLO address literal (RFC 5321 4.1.3): "[192.0.2.1]" or
  // "[IPv6:2001:db8::1]".
  std::string LocalAddressLiteral() {
    boost::system::error_code error;
    const tcp::endpoint local = Socket().local_endpoint(error);
    if (error) return "[127.0.0.1]";
    const asio::ip::address address = local.address();
    if (address.is_v6()) {
      if (address.to_v6().is_v4_mapped()) {
        return "[" + asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string() + "]";
      }
      return "[IPv6:" + address.to_string() + "]";
    }
    return "[" + address.to_string() + "]";
  }

  Result<Reply> ReadReply(std::chrono::milliseconds timeout, std::string_view step) {
    return ReadReplyUntil(SteadyClock::now() + timeout, step);
  }

  Result<Reply> ReadReplyUntil(SteadyClock::time_point deadline, std::string_view step) {
    smtp::ReplyReader reader;
    while (true) {
      auto line = ReadLine(deadline, step);
      if (!line) return Fail(line.error());
      switch (reader.Add(*line)) {
        case smtp::ReplyReader::Status::kComplete: return reader.Take();
        case smtp::ReplyReader::Status::kNeedMore: break;
        case smtp::ReplyReader::Status::kMalformed:
          Break();
          return Fail(MakeError(ErrorCode::kUnavailable,
                                "The mail server answered with something that is not SMTP.",
                                "SMTP " + std::string(step) + ": " + reader.error()));
      }
    }
  }

  Result<void> WriteUntil(std::string_view bytes, SteadyClock::time_point deadline,
                          std::string_view step) {
    const auto error = Run(
        [&](auto done) {
          auto handler = [done](const boost::system::error_code& ec, std::size_t) mutable {
            done(ec);
          };
          if (tls_) {
            asio::async_write(*tls_, asio::buffer(bytes.data(), bytes.size()), handler);
          } else {
            asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), handler);
          }
        },
        deadline);
    if (error) return Fail(TransportError(error, step));
    return {};
  }

  // Sends one command line and reads its reply, each within command_timeout. `shown` is what
  // Error::internal may say of the command (never the credentials AUTH carries).
  Result<Reply> Command(std::string_view line, std::string_view shown) {
    std::string bytes(line);
    bytes.append("\r\n");
    if (auto written = WriteUntil(bytes, SteadyClock::now() + options_.command_timeout, shown);
        !written) {
      return Fail(written.error());
    }
    return ReadReply(options_.command_timeout, shown);
  }

  // Says goodbye when the connection is still usable; the answer does not matter any more.
  void Quit() {
    if (broken_) return;
    const auto wait = std::min<std::chrono::milliseconds>(options_.command_timeout, kMaxQuitWait);
    const auto deadline = SteadyClock::now() + wait;
    if (WriteUntil("QUIT\r\n", deadline, "QUIT")) (void)ReadReplyUntil(deadline, "QUIT");
  }

 private:
  tcp::socket& Socket() { return tls_ ? tls_->next_layer() : socket_; }

  void Break() {
    broken_ = true;
    boost::system::error_code ignored;
    Socket().close(ignored);
  }

  static std::string Diagnosis(const boost::system::error_code& error) {
    if (error == asio::error::timed_out) return "timed out";
    if (error == asio::error::eof || error == ssl::error::stream_truncated) {
      return "connection closed by the server";
    }
    return error.message();
  }

  Error TransportError(const boost::system::error_code& error, std::string_view step) {
    Break();
    std::string internal = "SMTP " + std::string(step) + ": " + Diagnosis(error);
    if (error == asio::error::timed_out) {
      return MakeError(ErrorCode::kUnavailable, "The mail server did not answer in time.",
                       std::move(internal));
    }
    return MakeError(ErrorCode::kUnavailable, "The connection to the mail server was lost.",
                     std::move(internal));
  }

  Result<std::string> ReadLine(SteadyClock::time_point deadline, std::string_view step) {
    while (true) {
      const std::size_t newline = input_.find('\n');
      if (newline != std::string::npos) {
        std::string line = input_.substr(0, newline);
        input_.erase(0, newline + 1);
        if (line.ends_with('\r')) line.pop_back();
        return line;
      }
      if (input_.size() > smtp::kMaxReplyLineLength) {
        Break();
        return Fail(MakeError(ErrorCode::kUnavailable,
                              "The mail server answered with something that is not SMTP.",
                              "SMTP " + std::string(step) + ": a reply line is too long"));
      }
      std::array<char, 4096> chunk{};
      std::size_t received = 0;
      const auto error = Run(
          [&](auto done) {
            auto handler = [done, &received](const boost::system::error_code& ec,
                                             std::size_t count) mutable {
              received = count;
              done(ec);
            };
            if (tls_) {
              tls_->async_read_some(asio::buffer(chunk), handler);
            } else {
              socket_.async_read_some(asio::buffer(chunk), handler);
            }
          },
          deadline);
      if (error) return Fail(TransportError(error, step));
      input_.append(chunk.data(), received);
    }
  }

  // Starts one asynchronous operation with `start(done)` and runs it to completion or to the
  // deadline, whichever comes first; on the deadline the socket is closed so that the
  // operation completes (aborted) before this returns, and timed_out is reported.
  template <typename Start>
  boost::system::error_code Run(Start&& start, SteadyClock::time_point deadline) {
    boost::system::error_code result;
    bool finished = false;
    std::forward<Start>(start)([&result, &finished](const boost::system::error_code& ec) {
      result = ec;
      finished = true;
    });
    io_.restart();
    io_.run_until(deadline);
    if (finished) return result;
    Break();
    io_.restart();
    io_.run();
    return asio::error::timed_out;
  }

  const SmtpOptions& options_;
  ssl::context* tls_context_;
  asio::io_context io_{1};
  tcp::socket socket_{io_};
  std::optional<ssl::stream<tcp::socket>> tls_;
  std::string input_;
  bool broken_ = false;
};

bool IsDottedHostName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.find('.') == std::string_view::npos) return false;
  for (unsigned char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return !name.starts_with('.') && !name.ends_with('.');
}

// Which of the message's lists named `address`, for the field of a refused recipient.
std::string RecipientField(const MailMessage& message, std::string_view address) {
  auto names = [&](const std::vector<application::MailAddress>& list) {
    for (const auto& mailbox : list) {
      // The composed address has its domain lower-cased; compare the same way.
      const std::size_t at = mailbox.address.rfind('@');
      if (at == std::string::npos || mailbox.address.size() != address.size()) continue;
      bool same = mailbox.address.compare(0, at, address.substr(0, at)) == 0;
      for (std::size_t i = at; same && i < address.size(); ++i) {
        char c = mailbox.address[i];
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
        same = c == address[i];
      }
      if (same) return true;
    }
    return false;
  };
  if (names(message.to)) return "to";
  if (names(message.cc)) return "cc";
  return "bcc";
}

}  // namespace

struct SmtpMailer::Impl {
  SmtpOptions options;
  application::Clock& clock;
  application::RandomSource& random;
  std::unique_ptr<ssl::context> tls;  // null with SmtpSecurity::kNone
  std::string local_name;             // empty: the connection's address literal

  Result<void> Send(const MailMessage& message);
  Result<void> Deliver(Connection& connection, const MailMessage& message,
                       const ComposedMail& mail);
  Result<smtp::Extensions> Hello(Connection& connection, bool allow_helo);
  Result<void> Authenticate(Connection& connection, const smtp::Extensions& extensions);
};

Result<smtp::Extensions> SmtpMailer::Impl::Hello(Connection& connection, bool allow_helo) {
  const std::string name = local_name.empty() ? connection.LocalAddressLiteral() : local_name;
  auto ehlo = connection.Command("EHLO " + name, "EHLO");
  if (!ehlo) return Fail(ehlo.error());
  if (ehlo->code == 250) return smtp::ParseExtensions(*ehlo);
  // A server that does not know EHLO (RFC 5321 4.1.1.1) gets HELO, and offers no extensions.
  if (allow_helo && ehlo->IsPermanent()) {
    auto helo = connection.Command("HELO " + name, "HELO");
    if (!helo) return Fail(helo.error());
    if (helo->code == 250) return smtp::Extensions{};
    return Fail(ReplyError(*helo, "HELO", ErrorCode::kUnavailable,
                           "The mail server refused the greeting."));
  }
  return Fail(ReplyError(*ehlo, "EHLO", ErrorCode::kUnavailable,
                         "The mail server refused the greeting."));
}

Result<void> SmtpMailer::Impl::Authenticate(Connection& connection,
                                            const smtp::Extensions& extensions) {
  if (!connection.encrypted() && !options.allow_plaintext_auth) {
    return Fail(MakeError(ErrorCode::kFailedPrecondition,
                          "The mail server credentials would travel unencrypted.",
                          "SMTP AUTH: refused over a connection without TLS"));
  }
  const std::string rejected = "The mail server rejected the configured credentials.";
  if (extensions.auth_plain) {
    // RFC 4616: authorisation identity (empty), NUL, user, NUL, password; sent as the initial
    // response (RFC 4954) to save a round trip.
    std::string token;
    token.push_back('\0');
    token += options.username;
    token.push_back('\0');
    token += options.password;
    auto reply = connection.Command("AUTH PLAIN " + Base64(token), "AUTH PLAIN");
    if (!reply) return Fail(reply.error());
    if (reply->code == 235) return {};
    return Fail(ReplyError(*reply, "AUTH PLAIN", ErrorCode::kFailedPrecondition, rejected));
  }
  if (extensions.auth_login) {
    auto reply = connection.Command("AUTH LOGIN", "AUTH LOGIN");
    if (!reply) return Fail(reply.error());
    if (reply->code != 334) {
      return Fail(ReplyError(*reply, "AUTH LOGIN", ErrorCode::kFailedPrecondition, rejected));
    }
    reply = connection.Command(Base64(options.username), "AUTH LOGIN username");
    if (!reply) return Fail(reply.error());
    if (reply->code != 334) {
      return Fail(ReplyError(*reply, "AUTH LOGIN username", ErrorCode::kFailedPrecondition,
                             rejected));
    }
    reply = connection.Command(Base64(options.password), "AUTH LOGIN password");
    if (!reply) return Fail(reply.error());
    if (reply->code == 235) return {};
    return Fail(ReplyError(*reply, "AUTH LOGIN password", ErrorCode::kFailedPrecondition,
                           rejected));
  }
  std::string offered;
  for (const std::string& mechanism : extensions.auth_mechanisms) {
    offered += offered.empty() ? mechanism : " " + mechanism;
  }
  if (offered.empty()) {
    return Fail(MakeError(ErrorCode::kFailedPrecondition,
                          "The mail server does not offer authentication.",
                          "SMTP AUTH: not in the EHLO reply"));
  }
  return Fail(MakeError(ErrorCode::kFailedPrecondition,
                        "The mail server offers no supported authentication mechanism.",
                        "SMTP AUTH: offered " + offered + "; supported PLAIN, LOGIN"));
}

Result<void> SmtpMailer::Impl::Deliver(Connection& connection, const MailMessage& message,
                                       const ComposedMail& mail) {
  if (options.security == SmtpSecurity::kTls) {
    if (auto secured = connection.StartTls(); !secured) return Fail(secured.error());
  }
  auto greeting = connection.ReadReply(options.command_timeout, "greeting");
  if (!greeting) return Fail(greeting.error());
  if (greeting->code != 220) {
    return Fail(ReplyError(*greeting, "greeting", ErrorCode::kUnavailable,
                           "The mail server refused the connection."));
  }
  auto extensions = Hello(connection, options.security != SmtpSecurity::kStartTls);
  if (!extensions) return Fail(extensions.error());

  if (options.security == SmtpSecurity::kStartTls) {
    if (!extensions->starttls) {
      return Fail(MakeError(ErrorCode::kFailedPrecondition,
                            "The mail server does not offer STARTTLS, which is required.",
                            "SMTP EHLO: no STARTTLS extension"));
    }
    auto reply = connection.Command("STARTTLS", "STARTTLS");
    if (!reply) return Fail(reply.error());
    if (reply->code != 220) {
      return Fail(ReplyError(*reply, "STARTTLS", ErrorCode::kFailedPrecondition,
                             "The mail server refused STARTTLS, which is required."));
    }
    // Anything already received was sent before TLS and could have been injected by a
    // man in the middle (the STARTTLS command injection attacks): refuse rather than read it.
    if (connection.HasBufferedInput()) {
      return Fail(MakeError(ErrorCode::kUnavailable,
                            "The mail server answered with something that is not SMTP.",
                            "SMTP STARTTLS: data received after the 220 reply, before TLS"));
    }
    if (auto secured = connection.StartTls(); !secured) return Fail(secured.error());
    // RFC 3207 4.2: forget what was learned before TLS and ask again.
    extensions = Hello(connection, false);
    if (!extensions) return Fail(extensions.error());
  }

  if (!options.username.empty()) {
    if (auto authenticated = Authenticate(connection, *extensions); !authenticated) {
      return Fail(authenticated.error());
    }
  }

  const std::string payload = smtp::DotStuff(mail.data);
  if (extensions->size && *extensions->size > 0 && payload.size() > *extensions->size) {
    return Fail(MakeError(ErrorCode::kResourceExhausted,
                          "The message is larger than the mail server accepts.",
                          "SMTP SIZE: the message has " + std::to_string(payload.size()) +
                              " bytes, the server accepts " + std::to_string(*extensions->size)));
  }

  std::string mail_from = "MAIL FROM:<" + mail.envelope_from + ">";
  if (extensions->size) mail_from += " SIZE=" + std::to_string(payload.size());
  auto reply = connection.Command(mail_from, "MAIL FROM");
  if (!reply) return Fail(reply.error());
  if (reply->code != 250) {
    if (reply->code == 530) {
      return Fail(ReplyError(*reply, "MAIL FROM", ErrorCode::kFailedPrecondition,
                             "The mail server requires authentication, which is not configured."));
    }
    if (reply->code == 552) {
      return Fail(ReplyError(*reply, "MAIL FROM", ErrorCode::kResourceExhausted,
                             "The message is larger than the mail server accepts."));
    }
    return Fail(ReplyError(*reply, "MAIL FROM", ErrorCode::kPermissionDenied,
                           "The mail server refused the sender."));
  }

  for (const std::string& recipient : mail.recipients) {
    reply = connection.Command("RCPT TO:<" + recipient + ">", "RCPT TO");
    if (!reply) return Fail(reply.error());
    if (reply->code == 250 || reply->code == 251) continue;
    if (reply->code == 530) {
      return Fail(ReplyError(*reply, "RCPT TO", ErrorCode::kFailedPrecondition,
                             "The mail server requires authentication, which is not configured."));
    }
    if (reply->IsTransient()) {
      Error error = ReplyError(*reply, "RCPT TO", ErrorCode::kUnavailable, "");
      error.message = "The mail server did not accept the recipient " + recipient + " for now.";
      return Fail(std::move(error));
    }
    Error error = ReplyError(*reply, "RCPT TO", ErrorCode::kInvalidArgument,
                             "The mail server refused the recipient " + recipient + ".");
    if (reply->IsPermanent()) {
      error.fields.push_back(domain::FieldError{RecipientField(message, recipient),
                                                "validation_recipient_refused", error.message});
    }
    return Fail(std::move(error));
  }

  reply = connection.Command("DATA", "DATA");
  if (!reply) return Fail(reply.error());
  if (reply->code != 354) {
    return Fail(ReplyError(*reply, "DATA", ErrorCode::kPermissionDenied,
                           "The mail server refused the message."));
  }
  const auto deadline = SteadyClock::now() + options.data_timeout;
  if (auto written = connection.WriteUntil(payload, deadline, "message data"); !written) {
    return Fail(written.error());
  }
  reply = connection.ReadReplyUntil(deadline, "end of data");
  if (!reply) return Fail(reply.error());
  if (reply->code == 250) return {};
  if (reply->code == 552) {
    return Fail(ReplyError(*reply, "end of data", ErrorCode::kResourceExhausted,
                           "The message is larger than the mail server accepts."));
  }
  return Fail(ReplyError(*reply, "end of data", ErrorCode::kPermissionDenied,
                         "The mail server refused the message."));
}

Result<void> SmtpMailer::Impl::Send(const MailMessage& message) {
  auto mail = ComposeMail(message, clock.Now(), NewMailToken(random));
  if (!mail) return Fail(mail.error());
  Connection connection(options, tls.get());
  if (auto connected = connection.Connect(); !connected) return Fail(connected.error());
  auto delivered = Deliver(connection, message, *mail);
  connection.Quit();
  return delivered;
}

SmtpMailer::SmtpMailer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SmtpMailer::~SmtpMailer() = default;

Result<std::unique_ptr<SmtpMailer>> SmtpMailer::Create(SmtpOptions options,
                                                       application::Clock& clock,
                                                       application::RandomSource& random) {
  if (auto valid = ValidateSmtpOptions(options); !valid) return Fail(valid.error());
  auto impl = std::unique_ptr<Impl>(new Impl{std::move(options), clock, random, nullptr, {}});
  if (impl->options.security != SmtpSecurity::kNone) {
    try {
      impl->tls = std::make_unique<ssl::context>(ssl::context::tls_client);
    } catch (const std::exception& error) {
      return Fail(MakeError(ErrorCode::kInternal, "The mail could not be set up.",
                            std::string("SMTP TLS context: ") + error.what()));
    }
    SSL_CTX* context = impl->tls->native_handle();
    if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) {
      return Fail(MakeError(ErrorCode::kInternal, "The mail could not be set up.",
                            "SMTP TLS context: cannot require TLS 1.2"));
    }
    if (impl->options.tls_verify) {
      boost::system::error_code error;
      if (impl->options.ca_file.empty()) {
        impl->tls->set_default_verify_paths(error);
      } else {
        impl->tls->load_verify_file(impl->options.ca_file, error);
      }
      if (error) {
        return Fail(MakeError(ErrorCode::kInvalidArgument,
                              impl->options.ca_file.empty()
                                  ? "The system's trusted certificates cannot be loaded."
                                  : "The SMTP CA file cannot be read.",
                              "SMTP TLS trust store " + impl->options.ca_file + ": " +
                                  error.message()));
      }
    }
  }
  if (!impl->options.local_name.empty()) {
    impl->local_name = impl->options.local_name;
  } else {
    boost::system::error_code error;
    std::string host = asio::ip::host_name(error);
    if (!error && IsDottedHostName(host)) impl->local_name = std::move(host);
  }
  return std::unique_ptr<SmtpMailer>(new SmtpMailer(std::move(impl)));
}

Result<void> SmtpMailer::Send(const MailMessage& message) { return impl_->Send(message); }

}  // namespace socle::adapters::mail
