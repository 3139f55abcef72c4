#include "socle/apps/open_audit.hpp"

#include <filesystem>
#include <mutex>
#include <utility>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_audit_signer.hpp"
#include "socle/adapters/files/file_audit_checkpoints.hpp"
#include "socle/apps/open_store.hpp"

namespace socle::apps {

std::string Sha256Hex(std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
}

namespace {

// The instance's audit key, loaded (or created) the first time a checkpoint is signed or
// checked: commands that never touch the audit trail leave the data directory alone (with
// PostgreSQL, nothing else may be written there). Thread-safe.
class LazyAuditSigner final : public application::AuditSigner {
 public:
  LazyAuditSigner(std::filesystem::path data_dir, application::RandomSource& random)
      : data_dir_(std::move(data_dir)), random_(random) {}

  std::string PublicKey() override {
    auto signer = Load();
    return signer ? (*signer)->PublicKey() : std::string();
  }
  std::string KeyId() override {
    auto signer = Load();
    return signer ? (*signer)->KeyId() : std::string();
  }
  domain::Result<std::string> Sign(std::string_view message) override {
    auto signer = Load();
    if (!signer) return domain::Fail(signer.error());
    return (*signer)->Sign(message);
  }
  bool Verify(std::string_view message, std::string_view signature,
              std::string_view public_key) override {
    auto signer = Load();
    return signer && (*signer)->Verify(message, signature, public_key);
  }

 private:
  domain::Result<application::AuditSigner*> Load() {
    std::lock_guard lock(mutex_);
    if (signer_) return signer_.get();
    if (auto created = CreatePrivateDirectories(data_dir_); !created) {
      return domain::Fail(created.error());
    }
    // Beside the data directory's other keys, not in audit/: that directory is what
    // operators copy to where they keep evidence, and the private key must not travel.
    auto loaded =
        adapters::crypto::LoadOrCreateAuditSigningKey(data_dir_ / "audit-signing.key", random_);
    if (!loaded) return domain::Fail(loaded.error());
    signer_ = std::move(*loaded);
    return signer_.get();
  }

  const std::filesystem::path data_dir_;
  application::RandomSource& random_;
  std::mutex mutex_;
  std::unique_ptr<application::AuditSigner> signer_;
};

}  // namespace

domain::Result<Audit> OpenAudit(const adapters::config::Settings& settings,
                                application::CatalogueStore& catalogue,
                                application::ProjectStores& stores, application::Clock& clock,
                                application::RandomSource& random,
                                application::PlatformStore* platform) {
  Audit audit;
  audit.trail = std::make_unique<application::AuditTrail>(clock, random, &Sha256Hex);
  audit.platform = std::make_unique<application::PlatformTrail>(catalogue, *audit.trail);
  audit.signer = std::make_unique<LazyAuditSigner>(settings.data_dir, random);
  audit.checkpoints = std::make_unique<adapters::files::FileAuditCheckpoints>(
      adapters::files::FileAuditCheckpoints::DefaultPath(settings.data_dir));
  audit.log = std::make_unique<application::AuditLog>(catalogue, stores, clock, &Sha256Hex,
                                                      audit.signer.get(),
                                                      audit.checkpoints.get(), platform);
  return audit;
}

}  // namespace socle::apps
