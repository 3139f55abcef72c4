#pragma once

#include <memory>

#include "socle/adapters/config/settings.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_signing_keys.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/password_hasher.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/ports/secret_sealer.hpp"
#include "socle/application/ports/token_signer.hpp"
#include "socle/domain/error.hpp"

namespace socle::apps {

/// The authentication machinery every executable wires the same way: the platform store (on
/// the same ProjectStores as the projects), Argon2id password hashing at Socle's policy, the
/// master key that seals secrets at rest (the master_key setting when set, else <data_dir>/master.key,
/// created on first use with mode 0600) and the Ed25519 token signer with its keys loaded from
/// the platform store (the first key is created when there is none).
struct Auth {
  std::unique_ptr<application::PlatformStore> platform;
  std::unique_ptr<application::PasswordHasher> hasher;
  std::unique_ptr<application::SecretSealer> sealer;
  std::unique_ptr<application::TokenSigner> signer;
  /// Seals the events of the platform store's trail (signing keys, superusers, members, API
  /// keys).
  std::unique_ptr<application::AuditTrail> trail;
  std::unique_ptr<application::ManageSigningKeys> keys;
};

/// Builds Auth over `stores`, which (with `clock` and `random`) must outlive it. Errors:
/// invalid_argument or failed_precondition for an unusable master key (named, never shown);
/// unavailable when the platform store cannot be opened; unauthenticated when the stored keys
/// do not open with the master key.
domain::Result<Auth> OpenAuth(const adapters::config::Settings& settings,
                              application::ProjectStores& stores, application::Clock& clock,
                              application::RandomSource& random);

}  // namespace socle::apps
