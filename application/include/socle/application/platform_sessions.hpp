#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/audit_context.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/sign_in_log.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/password_hasher.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/ports/token_signer.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/login_throttle.hpp"
#include "socle/domain/password_policy.hpp"
#include "socle/domain/record.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// A platform member as the platform shows it: never its password or tokenKey.
struct MemberInfo {
  std::string id;
  std::string email;
  std::string name;
  /// Role switching: the role the session acts with (Identify); "" for all the member's roles.
  std::string active_role;
};

/// What UpsertMember did.
struct MemberUpsert {
  std::string id;
  bool created = false;
};

/// A member's tokens after signing in or refreshing.
struct PlatformTokens {
  std::string access_token;
  /// Opaque ("rt_" and 50 random characters); works once (Refresh replaces it).
  std::string refresh_token;
  /// Seconds the access token lives.
  std::int64_t expires_in = 0;
  MemberInfo member;
};

/// One signed-in device or browser: a family of refresh tokens, each replacing the previous.
struct PlatformSession {
  std::string id;  ///< the family's id
  domain::Timestamp created;    ///< the sign-in that started the family
  domain::Timestamp last_used;  ///< when its current refresh token was issued
  std::string user_agent;
  std::string address;
  domain::Timestamp expires;    ///< when its current refresh token expires
};

struct PlatformSessionsOptions {
  /// The `iss` of access tokens; tokens of another issuer are refused.
  std::string issuer = "socle";
  std::chrono::seconds access_lifetime{15 * 60};
  /// How long a refresh token lives unused. Each refresh issues one that lives this long again,
  /// so a session ends after this long without use.
  std::chrono::seconds refresh_lifetime{30LL * 24 * 3600};
  /// Tolerated clock difference between the servers of one deployment.
  std::chrono::seconds max_skew{30};
  /// How long Purge keeps an exchanged (rotated) or revoked refresh token: while it is kept, its
  /// reuse is recognised and revokes its family.
  std::chrono::seconds retention{24 * 3600};
  /// Where every sign-in attempt is recorded (success, failure, locked); null: nowhere.
  SignInLog* sign_in_log = nullptr;
};

/// Platform members (`_members` of the platform store, the people who run organisations and
/// projects through the platform API) and their sign-in sessions (`_sessions`).
///
/// A member signs in with e-mail and password and gets a short-lived access token (a
/// TokenSigner JWT: aud "platform", type "access", the `_members` collection id, bound to the
/// member's tokenKey) and an opaque refresh token. Refresh tokens are stored only as a one-way
/// binding (TokenSigner::Bind), rotated on every use, and grouped in families (one per sign-in):
/// presenting a token that was already exchanged means two parties hold the family's tokens,
/// so the whole family is revoked and the caller refused. Two concurrent refreshes of one
/// token are decided inside one write transaction: one wins, the other is that reuse.
///
/// A new password (UpsertMember on an existing member) replaces the tokenKey, which stops the
/// member's access tokens, and revokes all the member's sessions in the same transaction.
/// Logging out revokes the session's refresh tokens; an access token already issued lives on
/// until it expires (at most access_lifetime).
///
/// Sign-in is throttled and leaks nothing, as Authenticate::WithPassword: failures are counted
/// per e-mail as typed and per client address, and an unknown e-mail costs one password hash
/// and gets the same answer as a wrong password.
///
/// With a trail, the platform store's trail records: member.upsert (the member's record, its
/// password hash and tokenKey only as changed, its e-mail in the erasable personal part, and
/// the sessions it revokes), auth.sign_in (success with the session it starts, committed
/// together; denied for a wrong password, an unknown e-mail or a locked one: a guest acting,
/// the attempted member as target when the e-mail named one, never what was typed),
/// auth.rehash, auth.refresh (with the exchange), auth.refresh_reuse (denied, with the
/// revocation of the family it causes), auth.sign_out and session.revoke (with the
/// revocation). The client's address and user agent go to each event's erasable actor part.
/// Not recorded: the purge of spent refresh tokens (bookkeeping, no one's action), and
/// refreshes refused before anything is written — malformed, unknown, revoked or expired
/// tokens — which refreshing, unlike signing in, does not throttle: recording each would let
/// anyone grow the trail at will. Thread-safe.
class PlatformSessions final {
 public:
  /// `identities` counts failures per e-mail; `addresses` per client address (null: the
  /// identity throttle counts addresses too). All must outlive this object.
  PlatformSessions(PlatformStore& platform, TokenSigner& signer, PasswordHasher& hasher,
                   Clock& clock, RandomSource& random, domain::LoginThrottle& identities,
                   domain::LoginThrottle* addresses, PlatformSessionsOptions options = {},
                   domain::PasswordPolicy policy = {}, AuditTrail* trail = nullptr);

  /// The audience of members' access tokens.
  static constexpr std::string_view kAudience = "platform";

  /// Creates the member with this e-mail, or gives it a new password (a new tokenKey: its
  /// access tokens stop working, and its sessions are revoked). An empty `name` keeps an
  /// existing member's name. invalid_argument with field errors for a malformed e-mail
  /// ("email"), a password the policy refuses ("password") or a name over 255 characters
  /// ("name"). `context`: who does it (the CLI: the system) and from where, for the trail.
  domain::Result<MemberUpsert> UpsertMember(std::string_view email, std::string_view password,
                                            std::string_view name,
                                            const AuditContext& context = {});

  /// Signs a member in and starts a session. invalid_argument "Failed to authenticate." for an
  /// unknown e-mail or a wrong password alike (field errors for blank ones);
  /// resource_exhausted with retry_after_seconds while the e-mail or the address is locked.
  /// `request_id`: the request's, for the trail (as every request_id below).
  domain::Result<PlatformTokens> Login(std::string_view email, std::string_view password,
                                       const ClientInfo& client, std::string_view request_id = {});

  /// Exchanges a refresh token for new tokens of the same session. unauthenticated, with one
  /// client-safe message, for a malformed, unknown, revoked or expired token, a member gone,
  /// or a token already exchanged (whose whole session is revoked then).
  domain::Result<PlatformTokens> Refresh(std::string_view refresh_token, const ClientInfo& client);
  /// As Refresh, switching the session's role (role switching): the new tokens, and those
  /// refreshed from them, act with `role` only ("" acts with all of the member's roles again).
  /// The caller checks that the member holds the role (ManageAccess::CheckRoleHeld). With
  /// `expected_member`, a token of another member's session is refused (unauthenticated, as an
  /// unknown token) before anything is exchanged.
  /// (std::nullopt as `role` keeps the session's role: the plain Refresh with a request id.)
  domain::Result<PlatformTokens> Refresh(std::string_view refresh_token, const ClientInfo& client,
                                         std::optional<std::string> role,
                                         std::string_view expected_member = {},
                                         std::string_view request_id = {});

  /// The member with this e-mail (compared in lower case and as typed), or nullopt.
  domain::Result<std::optional<MemberInfo>> FindMember(std::string_view email);
  /// The member with this id; not_found.
  domain::Result<MemberInfo> GetMember(std::string_view id);

  /// The member an access token proves. unauthenticated, with one client-safe message, for
  /// anything wrong: signature, issuer, audience, type, expiry, a new tokenKey, a member gone.
  domain::Result<MemberInfo> Identify(std::string_view access_token);

  /// As Identify, with the member's `_members` record and the platform store's schema it
  /// belongs to (for callers that make it @request.auth), read once.
  struct IdentifiedMember {
    MemberInfo info;
    domain::SchemaPtr schema;
    const domain::Collection* collection = nullptr;  ///< points into `schema`
    domain::Record record;
  };
  domain::Result<IdentifiedMember> IdentifyRecord(std::string_view access_token);

  /// Ends the session of `refresh_token`. Succeeds for an unknown or already revoked token too:
  /// the answer tells nothing about the token. `client`: who asks, for the trail.
  domain::Result<void> Logout(std::string_view refresh_token, const ClientInfo& client = {},
                              std::string_view request_id = {});

  /// The member's active sessions, most recently used first.
  domain::Result<std::vector<PlatformSession>> Sessions(std::string_view member_id);

  /// Ends one of the member's sessions. not_found when the member has no session of that id
  /// (another member's included); revoking twice is fine. `client`: where the member asks
  /// from, for the trail.
  domain::Result<void> RevokeSession(std::string_view member_id, std::string_view session_id,
                                     const ClientInfo& client = {},
                                     std::string_view request_id = {});

  /// Deletes the refresh tokens that expired, and those revoked or exchanged more than
  /// `retention` before `now`. Returns how many went. Not recorded in the trail (see above).
  domain::Result<std::int64_t> Purge(domain::Timestamp now);

 private:
  struct Tables;
  domain::Result<Tables> Open();
  domain::Result<PlatformTokens> Issue(const Tables& tables, const domain::Record& member,
                                       std::string refresh_token, std::string role = "");
  // The member whose e-mail is exactly `email`, if any.
  domain::Result<std::optional<domain::Record>> MemberByEmail(const Tables& tables,
                                                              std::string_view email);
  domain::Result<std::vector<domain::Record>> SessionRows(const Tables& tables,
                                                          std::string_view field,
                                                          std::string_view value);
  // Revokes every live row of `family`; with a trail and `event`, appends it in the same
  // transaction — when a row was revoked, or always with `even_unchanged`.
  domain::Result<void> RevokeFamily(const Tables& tables, std::string_view family,
                                    const AuditEntry* event = nullptr,
                                    bool even_unchanged = false);
  // Runs `work` in one write transaction of the platform store and appends `event` (when there
  // is a trail) as its last step: the change and its event commit together.
  domain::Result<void> WriteWithEvent(
      ProjectStore& store, const AuditEntry& event,
      const std::function<domain::Result<void>(RecordTransaction&)>& work);
  // Records `event` on its own, best effort: a sign-in's outcome must not depend on it.
  void RecordAttempt(const AuditEntry& event);
  void VerifyDummy(std::string_view password);

  PlatformStore& platform_;
  TokenSigner& signer_;
  PasswordHasher& hasher_;
  Clock& clock_;
  RandomSource& random_;
  domain::LoginThrottle& identities_;
  domain::LoginThrottle* addresses_;
  PlatformSessionsOptions options_;
  domain::PasswordPolicy policy_;
  AuditTrail* trail_;
  std::string dummy_hash_;
};

}  // namespace socle::application
