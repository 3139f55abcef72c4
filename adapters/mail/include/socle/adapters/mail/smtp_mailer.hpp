#pragma once

#include <memory>

#include "socle/adapters/mail/smtp_options.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/mailer.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::mail {

/// Delivers mail to one SMTP server (RFC 5321), over TLS when configured (RFC 3207 STARTTLS or
/// RFC 8314 implicit TLS), authenticating with AUTH PLAIN or LOGIN (RFC 4954).
///
/// Each Send opens a connection of its own and closes it (QUIT) afterwards: mail here is
/// occasional (verification, resets, notifications), and no connection state is shared, which
/// makes Send thread-safe without a lock. Every network step has a deadline (SmtpOptions'
/// timeouts), so Send never blocks longer than connect_timeout plus a command_timeout per
/// exchange plus data_timeout. Errors follow the Mailer port (mailer.hpp); server replies go
/// to Error::internal only.
class SmtpMailer final : public application::Mailer {
 public:
  /// Checks `options` (ValidateSmtpOptions) and prepares TLS (the trust store or ca_file is
  /// loaded here, once). invalid_argument for bad options or an unreadable ca_file; internal
  /// when the TLS library cannot be set up. `clock` dates the messages and `random` names
  /// them; both must outlive the mailer.
  static domain::Result<std::unique_ptr<SmtpMailer>> Create(SmtpOptions options,
                                                            application::Clock& clock,
                                                            application::RandomSource& random);
  ~SmtpMailer() override;
  SmtpMailer(const SmtpMailer&) = delete;
  SmtpMailer& operator=(const SmtpMailer&) = delete;

  domain::Result<void> Send(const application::MailMessage& message) override;

 private:
  struct Impl;
  explicit SmtpMailer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;  // keeps Boost.Asio and OpenSSL out of this header
};

}  // namespace socle::adapters::mail
