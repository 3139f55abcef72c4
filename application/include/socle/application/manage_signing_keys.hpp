#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "socle/application/audit_context.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/ports/secret_sealer.hpp"
#include "socle/application/ports/token_signer.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// A signing key as listed: never its private half.
struct SigningKeyInfo {
  std::string kid;
  domain::Timestamp created;
  bool current = false;           ///< the key new tokens are signed with
  domain::Timestamp retires_at;   ///< when it stops verifying (the epoch for the current key)
};

/// The token signing keys: Ed25519 seeds generated here, sealed (SecretSealer) in the platform
/// store's `_signingKeys` collection, and loaded into the TokenSigner. The newest key signs;
/// older keys keep verifying for `retention` after their successor appeared (tokens they
/// signed live no longer than that unless an auth collection sets longer lifetimes), and are
/// deleted after. Every server process calls Load() periodically, so a rotation made by the
/// CLI reaches all of them within that period.
///
/// With a trail, each new key commits with its event (signing_key.rotate) in the platform
/// store's trail: its kid, and its sealed seed only as set. The deletion of keys past their
/// retention is not recorded: it is the schedule's, no one's action, and those keys stopped
/// verifying at their retirement whether or not their rows are gone yet. Thread-safe.
class ManageSigningKeys final {
 public:
  /// How long a retired key still verifies tokens by default.
  static constexpr std::chrono::seconds kDefaultRetention = std::chrono::hours(24 * 30);

  ManageSigningKeys(PlatformStore& platform, TokenSigner& signer, SecretSealer& sealer,
                    Clock& clock, RandomSource& random,
                    std::chrono::seconds retention = kDefaultRetention,
                    AuditTrail* trail = nullptr)
      : platform_(platform),
        signer_(signer),
        sealer_(sealer),
        clock_(clock),
        random_(random),
        retention_(retention),
        trail_(trail) {}

  /// Reads the keys, drops those past their retention, and installs the rest in the signer
  /// (the newest signing). Creates the first key when there is none. unavailable when the
  /// store cannot be read; unauthenticated when a stored key does not open with the master
  /// key (a wrong SOCLE_MASTER_KEY). `context`: who made the first key, for the trail.
  domain::Result<std::vector<SigningKeyInfo>> Load(const AuditContext& context = {});

  /// Adds a new key, which signs from now on, and reloads. Returns the new key's id.
  domain::Result<std::string> Rotate(const AuditContext& context = {});

  /// The keys as stored, newest first.
  domain::Result<std::vector<SigningKeyInfo>> List();

 private:
  struct Stored;
  domain::Result<std::vector<Stored>> ReadAll();

  PlatformStore& platform_;
  TokenSigner& signer_;
  SecretSealer& sealer_;
  Clock& clock_;
  RandomSource& random_;
  std::chrono::seconds retention_;
  AuditTrail* trail_;
};

}  // namespace socle::application
