#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "socle/adapters/config/settings.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/ports/audit_checkpoints.hpp"
#include "socle/application/ports/audit_signer.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"

namespace socle::apps {

/// SHA-256 as the trail hashes (OpenSSL), in lowercase hex: a domain::Sha256Hex.
std::string Sha256Hex(std::string_view bytes);

/// The audit trail wired the same way by every executable: events sealed with SHA-256
/// (OpenSSL), checkpoints signed with the instance's Ed25519 audit key
/// (<data_dir>/audit-signing.key, loaded or created, mode 0600, the first time a checkpoint is
/// signed or checked) and appended to <data_dir>/audit/checkpoints.jsonl, both outside the
/// audit tables (docs/audit.md). Nothing is written before the audit trail needs it.
struct Audit {
  std::unique_ptr<application::AuditTrail> trail;
  /// The platform's events (catalogue and access), in the catalogue's chains.
  std::unique_ptr<application::PlatformTrail> platform;
  std::unique_ptr<application::AuditSigner> signer;
  std::unique_ptr<application::AuditCheckpoints> checkpoints;
  std::unique_ptr<application::AuditLog> log;
};

/// Builds Audit; `catalogue`, `stores`, `clock`, `random` and `platform` (the platform store,
/// whose trail the log reads with the others; may be null) must outlive it. An unusable key
/// file is reported when a checkpoint is signed (failed_precondition, naming the file and the
/// fix) or checked (the checkpoint is then not trusted).
domain::Result<Audit> OpenAudit(const adapters::config::Settings& settings,
                                application::CatalogueStore& catalogue,
                                application::ProjectStores& stores, application::Clock& clock,
                                application::RandomSource& random,
                                application::PlatformStore* platform);

}  // namespace socle::apps
