#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "socle/application/audit_context.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/password_hasher.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/password_policy.hpp"

namespace socle::application {

/// What Upsert did.
struct SuperuserUpsert {
  std::string id;
  bool created = false;
};

/// The platform's superusers, records of the `_superusers` collection of the platform store:
/// created or given a new password by an operator (`socle superuser upsert`) or through the
/// one-time setup link of a fresh installation. With a trail, each upsert commits with its
/// event (superuser.upsert) in the platform store's trail: the password hash and the tokenKey
/// show only as changed, the e-mail goes to the event's erasable personal part. Thread-safe.
class ManageSuperusers final {
 public:
  ManageSuperusers(PlatformStore& platform, PasswordHasher& hasher, Clock& clock,
                   RandomSource& random, domain::PasswordPolicy policy = {},
                   AuditTrail* trail = nullptr)
      : platform_(platform), hasher_(hasher), clock_(clock), random_(random), policy_(policy),
        trail_(trail) {}

  /// Creates the superuser with this e-mail, or sets a new password for it (which replaces its
  /// tokenKey: its tokens stop working). invalid_argument with field errors for a malformed
  /// e-mail ("email") or a password the policy refuses ("password").
  /// `context`: who does it (the CLI: the system) and from where, for the trail.
  domain::Result<SuperuserUpsert> Upsert(std::string_view email, std::string_view password,
                                         const AuditContext& context = {});

  /// How many superusers there are.
  domain::Result<std::int64_t> Count();

 private:
  PlatformStore& platform_;
  PasswordHasher& hasher_;
  Clock& clock_;
  RandomSource& random_;
  domain::PasswordPolicy policy_;
  AuditTrail* trail_;
};

}  // namespace socle::application
