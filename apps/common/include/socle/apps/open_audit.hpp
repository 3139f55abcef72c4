#pragma once

#include <memory>

#include "socle/adapters/config/settings.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/ports/audit_checkpoints.hpp"
#include "socle/application/ports/audit_signer.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"

namespace socle::apps {

/// The audit trail wired the same way by every executable: events sealed with SHA-256
/// (OpenSSL), checkpoints signed with the instance's Ed25519 audit key
/// (<data_dir>/audit-signing.key, loaded or created, mode 0600, the first time a checkpoint is
/// signed or checked) and appended to <data_dir>/audit/checkpoints.jsonl, both outside the
/// audit tables (docs/audit.md). Nothing is written before the audit trail needs it.
struct Audit {
  std::unique_ptr<application::AuditTrail> trail;
  std::unique_ptr<application::AuditSigner> signer;
  std::unique_ptr<application::AuditCheckpoints> checkpoints;
  std::unique_ptr<application::AuditLog> log;
};

/// Builds Audit; `catalogue`, `stores`, `clock` and `random` must outlive it. An unusable key
/// file is reported when a checkpoint is signed (failed_precondition, naming the file and the
/// fix) or checked (the checkpoint is then not trusted).
domain::Result<Audit> OpenAudit(const adapters::config::Settings& settings,
                                application::CatalogueStore& catalogue,
                                application::ProjectStores& stores, application::Clock& clock,
                                application::RandomSource& random);

}  // namespace socle::apps
