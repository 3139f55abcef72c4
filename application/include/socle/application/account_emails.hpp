#pragma once

#include <string>
#include <string_view>

#include "socle/application/authenticate.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/mailer.hpp"
#include "socle/application/ports/password_hasher.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/ports/token_signer.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/password_policy.hpp"
#include "socle/domain/rate_limiter.hpp"

namespace socle::application {

/// The flows of auth records that go through e-mail, as PocketBase's endpoints:
/// request-password-reset / confirm-password-reset, request-verification /
/// confirm-verification, request-email-change / confirm-email-change.
///
/// The e-mailed tokens are TokenSigner JWTs of the project's audience with type
/// "passwordReset", "verification" or "emailChange", the address they were sent to (and the
/// new one for a change), lifetimes from the collection's options, and a binding to the
/// record's tokenKey: a password reset or an e-mail change replaces tokenKey, so each of those
/// tokens works once, and a password or e-mail changed meanwhile voids the ones in flight.
///
/// No enumeration: a request for an unknown address, an already verified one, or one asked for
/// too often (once per `resend_interval` per address) succeeds exactly like a real one, and the
/// message is handed to the mailer (a queue in production) so that the answer's timing does
/// not depend on the delivery. The e-mails use the collection's templates and the project's
/// meta settings (app name and URL, sender). Thread-safe.
class AccountEmails final {
 public:
  AccountEmails(ProjectDirectory& projects, PlatformStore& platform, ManageSettings& settings,
                TokenSigner& signer, PasswordHasher& hasher, Mailer& mailer, Clock& clock,
                RandomSource& random, AuthenticateOptions options = {},
                domain::PasswordPolicy policy = {}, std::chrono::seconds resend_interval =
                                                        std::chrono::seconds(120));

  /// invalid_argument for a malformed e-mail ("email"); not_found for an unknown project or
  /// collection, or one that is not an auth collection.
  domain::Result<void> RequestPasswordReset(std::string_view project, std::string_view collection,
                                            std::string_view email);
  /// Sets the password and marks the address verified (the mail reached it). invalid_argument
  /// with a "token" field error for a bad, expired or used token; password errors as for
  /// records ("password", "passwordConfirm").
  domain::Result<void> ConfirmPasswordReset(std::string_view project, std::string_view collection,
                                            std::string_view token, std::string_view password,
                                            std::string_view password_confirm);
  domain::Result<void> RequestVerification(std::string_view project, std::string_view collection,
                                           std::string_view email);
  domain::Result<void> ConfirmVerification(std::string_view project, std::string_view collection,
                                           std::string_view token);
  /// For the caller's own record (unauthenticated without one, permission_denied for a record
  /// of another collection). invalid_argument "newEmail" for a malformed or taken address.
  domain::Result<void> RequestEmailChange(std::string_view project, std::string_view collection,
                                          const Caller& caller, std::string_view new_email);
  /// Needs the record's current password ("password": validation_invalid_password).
  domain::Result<void> ConfirmEmailChange(std::string_view project, std::string_view collection,
                                          std::string_view token, std::string_view password);

 private:
  struct Realm;
  struct Verified;
  domain::Result<Realm> Find(std::string_view project, std::string_view collection);
  domain::Result<std::optional<domain::Record>> ByEmail(const Realm& realm, std::string_view email);
  domain::Result<std::string> Mint(const Realm& realm, const domain::Record& record,
                                   std::string_view type, std::int64_t seconds,
                                   std::string_view email, std::string_view new_email);
  domain::Result<Verified> Check(const Realm& realm, std::string_view token, std::string_view type);
  domain::Result<void> Send(const Realm& realm, std::string_view project,
                            const domain::MailTemplate& tmpl, const domain::Record& record,
                            std::string_view to, std::string_view token);
  bool Allowed(std::string_view kind, const Realm& realm, std::string_view email);
  std::string Binding(const domain::Collection& coll, const domain::Record& record);

  ProjectDirectory& projects_;
  PlatformStore& platform_;
  ManageSettings& settings_;
  TokenSigner& signer_;
  PasswordHasher& hasher_;
  Mailer& mailer_;
  Clock& clock_;
  RandomSource& random_;
  AuthenticateOptions options_;
  // The trail that records changes to `realm`'s records (none for the platform's own).
  AuditTrail* TrailFor(const Realm& realm) const;
  domain::PasswordPolicy policy_;
  std::chrono::seconds resend_interval_;
  domain::RateLimiter resends_;
};

}  // namespace socle::application
