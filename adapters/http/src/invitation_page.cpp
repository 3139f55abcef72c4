#include "invitation_page.hpp"

#include <string>
#include <string_view>

namespace socle::adapters::http {

namespace {

constexpr std::string_view kPagePath = "/_/invitations";
constexpr std::string_view kScriptPath = "/_/invitations.js";

// The script only ever talks to this origin and runs only from this origin: no inline script
// (so no nonce or hash to keep in step), no style, image, font or frame from anywhere, and
// the forms cannot be submitted natively (which would put a password in a URL when the
// script failed to load): the script sends them.
constexpr std::string_view kPagePolicy =
    "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'none'";

// Static: the token is read by the script from the address bar, so the server never echoes
// it into markup. Every value shown is filled in with textContent.
constexpr std::string_view kPage = R"page(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Socle invitation</title>
<script src="/_/invitations.js" defer></script>
</head>
<body>
<h1>Invitation</h1>
<p id="status" role="status" aria-live="polite">Reading the invitation...</p>
<noscript><p>This page needs JavaScript to answer the invitation.</p></noscript>
<ul id="problems" hidden></ul>
<section id="invitation" hidden>
<dl>
<dt>Organisation</dt><dd id="organisation"></dd>
<div id="project-row" hidden><dt>Project</dt><dd id="project"></dd></div>
<dt>Role</dt><dd id="role"></dd>
<dt>E-mail</dt><dd id="email"></dd>
<dt>Expires</dt><dd id="expires"></dd>
</dl>
<form id="join" method="post" hidden>
<h2>Accept</h2>
<p>Choose your name and a password: your account is created with the e-mail above.</p>
<p><label>Name <input name="name" maxlength="255" autocomplete="name"></label></p>
<p><label>Password <input name="password" type="password" minlength="8" required
  autocomplete="new-password"></label></p>
<p><button>Accept</button></p>
</form>
<form id="sign-in" method="post" hidden>
<h2>Accept</h2>
<p>An account with this e-mail exists: sign in to accept.</p>
<p><label>E-mail <input name="email" type="email" required readonly
  autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" required
  autocomplete="current-password"></label></p>
<p><button>Sign in and accept</button></p>
</form>
<form id="decline" method="post">
<h2>Decline</h2>
<p><button>Decline the invitation</button></p>
</form>
</section>
</body>
</html>
)page";

constexpr std::string_view kScript = R"script('use strict';
// The invitation page's script (served by socle-server at /_/invitations.js). It talks to
// this origin only and writes what the server says with textContent, never as HTML.
(() => {
  const token = new URLSearchParams(window.location.search).get('token') || '';
  const byId = (id) => document.getElementById(id);
  let invitation = null;
  let busy = false;

  function say(message) {
    byId('status').textContent = message;
  }

  // The field errors of an error answer ({message, data: {field: {code, message}}}).
  function listProblems(body) {
    const list = byId('problems');
    list.replaceChildren();
    const data = body && body.data && typeof body.data === 'object' ? body.data : {};
    for (const [field, detail] of Object.entries(data)) {
      const item = document.createElement('li');
      const why = detail && typeof detail.message === 'string' ? detail.message : 'invalid';
      item.textContent = field + ': ' + why;
      list.appendChild(item);
    }
    list.hidden = list.childElementCount === 0;
  }

  // POSTs JSON to this origin. Never throws: a network failure is status 0.
  async function post(path, body, bearer) {
    const headers = {'Content-Type': 'application/json'};
    if (bearer) headers.Authorization = 'Bearer ' + bearer;
    let response;
    try {
      response = await fetch(path, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
    } catch (error) {
      return {ok: false, status: 0, body: {message: 'The server cannot be reached; try again.'}};
    }
    let parsed = null;
    if (response.status !== 204) {
      try {
        parsed = await response.json();
      } catch (error) {
        parsed = null;
      }
    }
    return {ok: response.ok, status: response.status, body: parsed || {}};
  }

  function refused(result) {
    const message = typeof result.body.message === 'string' ? result.body.message : '';
    say(message || 'The server refused the request (' + result.status + ').');
    listProblems(result.body);
  }

  // The invitation is answered: only the outcome stays on the page.
  function answered(message) {
    byId('invitation').hidden = true;
    listProblems(null);
    say(message);
  }

  function organisationName(organisation) {
    return organisation && (organisation.name || organisation.slug) || 'the organisation';
  }

  function localTime(text) {
    const date = new Date(String(text).replace(' ', 'T'));
    return Number.isNaN(date.getTime()) ? String(text) : date.toLocaleString();
  }

  function field(form, name) {
    const value = form.get(name);
    return typeof value === 'string' ? value : '';
  }

  // One request at a time, whatever is clicked or pressed meanwhile.
  function onSubmit(form, action) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (busy) return;
      busy = true;
      const buttons = document.querySelectorAll('button');
      buttons.forEach((button) => { button.disabled = true; });
      try {
        await action(new FormData(form));
      } finally {
        busy = false;
        buttons.forEach((button) => { button.disabled = false; });
      }
    });
  }

  async function acceptAsNewMember(form) {
    const result = await post('/api/v1/invitations/accept', {
      token,
      name: field(form, 'name'),
      password: field(form, 'password'),
    });
    if (!result.ok) return refused(result);
    answered('You are now a member of ' + organisationName(result.body.organisation) +
             '. Sign in with ' + invitation.email + ' and the password you chose.');
  }

  async function acceptAsMember(form) {
    const login = await post('/api/v1/auth/login', {
      email: field(form, 'email'),
      password: field(form, 'password'),
    });
    if (!login.ok) return refused(login);
    const result = await post('/api/v1/invitations/accept', {token}, login.body.accessToken);
    // The session was opened for this answer only: it ends whatever the answer was.
    if (typeof login.body.refreshToken === 'string') {
      await post('/api/v1/auth/logout', {refreshToken: login.body.refreshToken});
    }
    if (!result.ok) return refused(result);
    answered('You are now a member of ' + organisationName(result.body.organisation) + '.');
  }

  async function decline() {
    const name = organisationName(invitation.organisation);
    if (!window.confirm('Decline the invitation to ' + name + '?')) return;
    const result = await post('/api/v1/invitations/decline', {token});
    if (!result.ok) return refused(result);
    answered('You declined the invitation to ' + name + '. The link no longer works.');
  }

  async function load() {
    if (!token) {
      say('This link holds no invitation: open the whole link from the invitation e-mail.');
      return;
    }
    const result = await post('/api/v1/invitations/preview', {token});
    if (result.status === 404) {
      say('This invitation link is not valid: open the whole link from the invitation e-mail.');
      return;
    }
    if (!result.ok) return refused(result);
    invitation = result.body;
    const organisation = invitation.organisation || {};
    byId('organisation').textContent = organisation.name + ' (' + organisation.slug + ')';
    if (invitation.project) {
      byId('project').textContent = invitation.project.name + ' (' + invitation.project.slug + ')';
      byId('project-row').hidden = false;
    }
    byId('role').textContent = invitation.role;
    byId('email').textContent = invitation.email;
    byId('expires').textContent = localTime(invitation.expires);
    if (invitation.memberExists) {
      byId('sign-in').elements.namedItem('email').value = invitation.email;
      byId('sign-in').hidden = false;
    } else {
      byId('join').hidden = false;
    }
    byId('invitation').hidden = false;
    say('You are invited to join ' + organisationName(organisation) + ' as ' + invitation.role +
        '.');
  }

  onSubmit(byId('join'), acceptAsNewMember);
  onSubmit(byId('sign-in'), acceptAsMember);
  onSubmit(byId('decline'), decline);
  load();
})();
)script";

// Headers for both answers: nothing on the way keeps them, no page frames them, and no
// request they cause names the page's address (which holds the token).
Response Serve(std::string_view body, std::string_view content_type) {
  Response response = Response::Text(200, std::string(body), std::string(content_type));
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("X-Frame-Options", "DENY");
  response.SetHeader("Referrer-Policy", "no-referrer");
  response.SetHeader("Content-Security-Policy", std::string(kPagePolicy));
  return response;
}

}  // namespace

domain::Result<void> InvitationPage::Register(Router& router) const {
  // Constant answers, made in microseconds: served on the I/O thread, never queued behind the
  // store's work.
  if (auto added = router.Add(
          Method::kGet, kPagePath,
          [](const Request&) { return Serve(kPage, "text/html; charset=utf-8"); },
          Dispatch::kInline);
      !added) {
    return added;
  }
  return router.Add(
      Method::kGet, kScriptPath,
      [](const Request&) { return Serve(kScript, "text/javascript; charset=utf-8"); },
      Dispatch::kInline);
}

}  // namespace socle::adapters::http
