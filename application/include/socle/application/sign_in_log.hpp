#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/platform_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// One sign-in attempt, as recorded.
struct SignInAttempt {
  std::string realm;       ///< "project:<id>" for a project's auth collection, "platform" for members
  std::string collection;  ///< the auth collection's id
  std::string identity;    ///< as typed (at most 255 characters)
  std::string record_id;   ///< the account when the identity named one; "" otherwise
  std::string outcome;     ///< "success", "failure" (any refusal) or "locked" (throttled)
  std::string address;
  std::string user_agent;
  domain::Timestamp at;
};

/// Every sign-in attempt (success, failure, throttled), with the client's address and user
/// agent, for the audit trail and for operators looking into an attack. Kept in the platform
/// store (`_signInAttempts`), never reachable through the records API, and deleted after
/// `retention` (they hold typed identities: personal data). Thread-safe.
class SignInLog final {
 public:
  SignInLog(PlatformStore& platform, Clock& clock, RandomSource& random,
            std::chrono::seconds retention = std::chrono::hours(24 * 90))
      : platform_(platform), clock_(clock), random_(random), retention_(retention) {}

  /// Stores one attempt (a durable write: a sign-in already costs a password hash). Errors as
  /// the store's; callers treat the log as best effort so that a full disk does not stop
  /// sign-ins.
  domain::Result<void> Record(SignInAttempt attempt);

  /// The newest attempts of a realm, newest first.
  domain::Result<std::vector<SignInAttempt>> Recent(std::string_view realm, std::int64_t limit);

  /// Deletes the attempts older than the retention; returns how many went.
  domain::Result<std::int64_t> Purge();

  /// The attempts in `realm` of the account `record_id` or typed as `identity` (when not
  /// empty), newest first, at most `limit`: a data subject's sign-ins, for their export.
  domain::Result<std::vector<SignInAttempt>> About(std::string_view realm,
                                                   std::string_view record_id,
                                                   std::string_view identity, std::int64_t limit);
  /// Deletes those attempts (a data subject's erasure); returns how many went.
  domain::Result<std::int64_t> Forget(std::string_view realm, std::string_view record_id,
                                      std::string_view identity);

  /// The collection the attempts live in.
  static domain::Collection AttemptsCollection();

 private:
  PlatformStore& platform_;
  Clock& clock_;
  RandomSource& random_;
  std::chrono::seconds retention_;
};

}  // namespace socle::application
