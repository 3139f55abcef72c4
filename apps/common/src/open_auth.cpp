#include "socle/apps/open_auth.hpp"

#include <filesystem>
#include <utility>

#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/crypto/master_key.hpp"
#include "socle/adapters/crypto/secret_box.hpp"
#include "socle/apps/open_audit.hpp"

namespace socle::apps {

namespace crypto = adapters::crypto;

domain::Result<Auth> OpenAuth(const adapters::config::Settings& settings,
                              application::ProjectStores& stores, application::Clock& clock,
                              application::RandomSource& random) {
  Auth auth;
  auth.platform = std::make_unique<application::PlatformStore>(stores, clock);

  auto hasher = crypto::Argon2PasswordHasher::Create(crypto::Argon2Policy{}, random);
  if (!hasher) return std::unexpected(std::move(hasher.error()));
  auth.hasher = std::make_unique<crypto::Argon2PasswordHasher>(std::move(*hasher));

  crypto::MasterKeySource source;
  if (!settings.master_key.empty()) source.environment_value = settings.master_key;
  std::error_code ignored;
  std::filesystem::create_directories(settings.data_dir, ignored);
  source.file = std::filesystem::path(settings.data_dir) / "master.key";
  auto master = crypto::LoadMasterKey(source, random);
  if (!master) return std::unexpected(std::move(master.error()));
  auto box = crypto::SecretBox::Create(master->bytes(), {}, random);
  if (!box) return std::unexpected(std::move(box.error()));
  auth.sealer = std::make_unique<crypto::SecretBox>(std::move(*box));

  auth.signer = std::make_unique<crypto::Ed25519TokenSigner>();
  auth.trail = std::make_unique<application::AuditTrail>(clock, random, &Sha256Hex);
  auth.keys = std::make_unique<application::ManageSigningKeys>(
      *auth.platform, *auth.signer, *auth.sealer, clock, random,
      application::ManageSigningKeys::kDefaultRetention,
      auth.trail.get());
  // A first key made at start-up is the system's doing.
  application::AuditContext start_up;
  start_up.actor = {domain::AuditActorKind::kSystem, "startup"};
  if (auto loaded = auth.keys->Load(start_up); !loaded) {
    return std::unexpected(std::move(loaded.error()));
  }
  return auth;
}

}  // namespace socle::apps
