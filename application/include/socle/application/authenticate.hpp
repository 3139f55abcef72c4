#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/password_hasher.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/ports/token_signer.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/sign_in_log.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/login_throttle.hpp"

namespace socle::application {

/// Where a request comes from, for throttling and for the sign-in record.
struct ClientInfo {
  std::string address;
  std::string user_agent;
};

/// A signed-in record and its new token.
struct AuthResult {
  std::string token;
  RecordResult record;
};

/// What an auth collection offers for signing in (PocketBase's auth-methods).
struct AuthMethods {
  bool password = true;
  std::vector<std::string> identity_fields;
};

struct AuthenticateOptions {
  /// The `iss` of every token; tokens of another issuer are refused.
  std::string issuer = "socle";
  /// Tolerated clock difference between the servers of one deployment.
  std::chrono::seconds max_skew{30};
  /// Throttles failures per client address, with options more tolerant than an identity's
  /// (many people share one NAT address; see AddressThrottleOptions). Null: the identity
  /// throttle counts addresses too.
  domain::LoginThrottle* address_throttle = nullptr;
  /// Where every attempt is recorded (success, failure, locked); null: nowhere.
  SignInLog* sign_in_log = nullptr;
  /// The audit trail: sign-ins to a project's auth collections (auth.sign_in, denied when
  /// refused) and the changes the account flows make to records (password reset, verification,
  /// e-mail change, a password hash upgraded) go into the project's chain. Null: not recorded.
  AuditTrail* audit = nullptr;
};

/// Refuses a sign-in attempt while its identity or its client address is locked:
/// resource_exhausted "Too many failed attempts; try again later." with retry_after_seconds.
/// A refused attempt is not a failure (nothing is recorded in the throttles).
domain::Result<void> CheckSignInThrottles(domain::LoginThrottle& identities,
                                          domain::LoginThrottle& addresses,
                                          std::string_view identity_key,
                                          std::string_view address_key, domain::Timestamp now);

/// The address throttle's options: no quick-failure lock (two people behind one address may
/// mistype within a second), the exponential delay from the 20th failure, Keycloak's linear
/// lock every 100 failures.
domain::LoginThrottleOptions AddressThrottleOptions();

/// Signs records of auth collections in and recognises their tokens, for the project data
/// API: PocketBase's auth-with-password, auth-refresh and auth-methods, and the token check
/// behind every request's Authorization header. Superusers sign in the same way through the
/// `_superusers` collection, which lives in the platform store (PlatformStore) and is reachable
/// from every project.
///
/// Tokens are TokenSigner JWTs with aud "project:<project id>" (a token opens the project it
/// was issued for, nothing else), type "auth", the collection's id and a binding to the
/// record's tokenKey, so that a new password or e-mail, or a new tokenKey, revokes them.
///
/// Abuse resistance: failed sign-ins are throttled per identity (project, collection and
/// identity as typed) and per client address (domain::LoginThrottle); an unknown identity
/// costs one password hash like a known one and gets the same answer, so neither the answer nor
/// its timing tells whether an account exists. Thread-safe.
class Authenticate final {
 public:
  /// `records` renders the signed-in record; `throttle` is shared with whatever else counts
  /// failures. All must outlive this object.
  Authenticate(ProjectDirectory& projects, PlatformStore& platform, TokenSigner& signer,
               PasswordHasher& hasher, Clock& clock, RandomSource& random,
               domain::LoginThrottle& throttle, AuthenticateOptions options = {});

  /// The audience of tokens issued for a project.
  static std::string Audience(const domain::Project& project);
  /// The audience of superusers' tokens for the platform API (project ""): a superuser signs in
  /// to the platform with WithPassword("", "_superusers", ...) and is identified there with
  /// Identify("", token). Members' platform tokens share the audience but are access tokens of
  /// `_members` (PlatformSessions), never accepted here.
  static constexpr std::string_view kPlatformAudience = "platform";

  /// Checks `password` against the record of `collection` whose identity field (the given
  /// one, or each of passwordAuth.identityFields in turn) equals `identity`, then the
  /// collection's authRule, and issues a token. invalid_argument "Failed to authenticate."
  /// for any mismatch (unknown identity, wrong password, authRule refusing, sign-in disabled);
  /// resource_exhausted with retry_after_seconds while the identity or the address is locked;
  /// not_found for an unknown project or collection, or one that is not an auth collection.
  domain::Result<AuthResult> WithPassword(std::string_view project, std::string_view collection,
                                          std::string_view identity, std::string_view password,
                                          std::string_view identity_field,
                                          const ClientInfo& client);

  /// A new token for the caller's own record, which must belong to `collection` (else
  /// permission_denied; unauthenticated without an identity) and still pass the authRule.
  domain::Result<AuthResult> Refresh(std::string_view project, std::string_view collection,
                                     const Caller& caller);
  /// As Refresh, choosing the role the new token acts with (role switching): one of the
  /// record's `roles` field, or "" for all of them; nullopt keeps the caller's. invalid_argument
  /// ("role") for a role the record does not hold.
  domain::Result<AuthResult> Refresh(std::string_view project, std::string_view collection,
                                     const Caller& caller, std::optional<std::string> role);

  /// The roles an auth record holds: its `roles` field (a select, json array of strings, or
  /// text of comma-separated roles) when the collection has one; empty otherwise.
  static std::vector<std::string> RecordRoles(const domain::Collection& collection,
                                              const domain::Record& record);

  domain::Result<AuthMethods> Methods(std::string_view project, std::string_view collection);

  /// The caller a token proves, for requests to `project`: a superuser, or a record of one of
  /// the project's auth collections. unauthenticated, with one client-safe message, for
  /// anything wrong: signature, algorithm, key, issuer, audience, expiry, token type, unknown
  /// collection or record, changed tokenKey.
  domain::Result<Caller> Identify(std::string_view project, std::string_view token);

 private:
  struct Realm;
  domain::Result<Realm> Find(std::string_view project, std::string_view collection);
  domain::Result<AuthResult> Issue(const Realm& realm, domain::Record record,
                                   std::string role = "");
  domain::Result<bool> PassesAuthRule(const Realm& realm, const domain::Record& record);
  // Spends the time of a password verification for an identity that matched no record.
  void VerifyDummy(std::string_view password);

  ProjectDirectory& projects_;
  PlatformStore& platform_;
  TokenSigner& signer_;
  PasswordHasher& hasher_;
  Clock& clock_;
  RandomSource& random_;
  domain::LoginThrottle& throttle_;
  AuthenticateOptions options_;
  std::string dummy_hash_;
};

}  // namespace socle::application
