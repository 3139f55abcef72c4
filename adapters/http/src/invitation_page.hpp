#pragma once

#include "socle/adapters/http/router.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// The page invitation e-mails link to (`<public URL>/_/invitations?token=inv_...`): it shows
/// what the invitation offers and lets the invitee accept or decline it through the public
/// invitation routes of the platform API:
///
///   GET /_/invitations      the HTML page; static, it never sees the token
///   GET /_/invitations.js   its script: reads ?token=, POSTs /api/v1/invitations/preview,
///                           then accept (as a new member with a name and password, or after
///                           POST /api/v1/auth/login as the existing member) or decline
///
/// The token sits in the page's URL, so nothing may carry that URL elsewhere: the page loads
/// no resource from another origin, sends no Referer (header and meta), cannot be framed or
/// cached, and its Content-Security-Policy lets the browser run this origin's script and
/// talk to this origin only. The script writes server data with textContent, never as HTML.
///
/// Stateless; safe to share between threads.
class InvitationPage final {
 public:
  /// Adds both routes; invalid_argument when one is already registered.
  domain::Result<void> Register(Router& router) const;
};

}  // namespace socle::adapters::http
