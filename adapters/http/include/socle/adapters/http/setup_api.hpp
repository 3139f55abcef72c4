#pragma once

#include <atomic>
#include <string>

#include "socle/adapters/http/router.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::http {

/// The one-time setup link of a fresh installation. While no superuser exists, the server
/// prints a link to GET /_/setup?token=TOKEN, where TOKEN is random (256 bits), known only to
/// whoever reads the server's output, valid until `expires` and good for one use:
///
///   GET  /_/setup?token=TOKEN   a small HTML form (e-mail, password)
///   POST /_/setup               form or JSON {token, email, password}: creates the first
///                               superuser → 200 (HTML for a form, {"id": ...} for JSON)
///
/// A wrong, used or expired token is 403 and creates nothing; so is any request once a
/// superuser exists (made here or with `socle superuser upsert`). A refused password or e-mail
/// is 400 with the field errors, and the token stays usable.
///
/// Register() also serves the server's other built-in page, the one invitation e-mails link
/// to (GET /_/invitations and its script /_/invitations.js; see src/invitation_page.hpp), so
/// that every page under /_/ comes with one registration.
class SetupApi final {
 public:
  SetupApi(application::ManageSuperusers& superusers, application::Clock& clock,
           std::string token, domain::Timestamp expires)
      : superusers_(superusers), clock_(clock), token_(std::move(token)), expires_(expires) {}

  /// Adds the setup routes and the invitation page's; invalid_argument when one exists.
  domain::Result<void> Register(Router& router);

 private:
  Response Form(const Request& request);
  Response Create(const Request& request);
  bool TokenValid(std::string_view token) const;

  application::ManageSuperusers& superusers_;
  application::Clock& clock_;
  const std::string token_;
  const domain::Timestamp expires_;
  std::atomic<bool> used_{false};
};

}  // namespace socle::adapters::http
