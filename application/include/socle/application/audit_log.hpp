#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/ports/audit_checkpoints.hpp"
#include "socle/application/ports/audit_signer.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/audit.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// One page of audit events, newest first.
struct AuditPage {
  std::vector<StoredAuditEvent> items;
  /// Where the next page starts (pass it back as the cursor); "" on the last page.
  std::string next_cursor;
};

/// What verifying one chain found.
struct AuditChainReport {
  std::string org_id;
  std::string project_id;
  std::string project_slug;  ///< "" when the project is gone
  std::int64_t lane = 0;
  std::int64_t events = 0;  ///< events read
  domain::AuditHead head;   ///< the last good event
  std::int64_t signed_seq = 0;  ///< the checkpoint's head of this chain (0: none)
  std::optional<domain::AuditBreak> broken;
  std::int64_t broken_at = 0;
  std::string detail;
};

/// What `socle audit verify` and the auditors' API report.
struct AuditVerification {
  /// Every chain verified, the checkpoint (if any) genuine and every head it signed reached.
  bool ok = true;
  /// The latest checkpoint, when there is one.
  std::optional<domain::AuditCheckpoint> checkpoint;
  /// Why the checkpoint cannot be trusted ("" when it can or there is none).
  std::string checkpoint_problem;
  std::vector<AuditChainReport> chains;
};

/// The audit trail as auditors and operators read it: searching events (within one
/// organisation, across its projects, with keyset pagination), recomputing and checking every
/// chain, and writing signed checkpoints of every chain's head. Permission checks are the
/// caller's (PlatformCatalogue::RequireOrganisation / RequireProject with audit.read).
/// Thread-safe.
class AuditLog final {
 public:
  /// `signer` and `checkpoints` may be null (no checkpoints: Checkpoint fails with
  /// failed_precondition, and verification checks the chains alone).
  AuditLog(CatalogueStore& catalogue, ProjectStores& stores, Clock& clock,
           domain::Sha256Hex sha256, AuditSigner* signer, AuditCheckpoints* checkpoints)
      : catalogue_(catalogue),
        stores_(stores),
        clock_(clock),
        sha256_(std::move(sha256)),
        signer_(signer),
        checkpoints_(checkpoints) {}

  /// Events of `project`, or of every project of `org` when project is null, that match
  /// `query` (its `before` is ignored: the page starts at `cursor`, "" for the newest).
  /// Ordered by time, then project, lane and sequence number, newest first.
  /// invalid_argument for a malformed cursor; unavailable when a store cannot be read.
  domain::Result<AuditPage> Search(const domain::Id& org,
                                   const domain::Project* project, const AuditQuery& query,
                                   std::string_view cursor);

  /// Recomputes every chain (of `org`'s projects, or of all when null) from its first event,
  /// and checks them against the latest checkpoint, whose signature is checked against
  /// `trusted_key` (base64url) or, when empty, this instance's own signing key.
  domain::Result<AuditVerification> Verify(const domain::Organisation* org,
                                           std::string_view trusted_key = {});

  /// Signs and stores the head of every chain of every project (live or scheduled for
  /// deletion). With `only_if_changed`, returns the latest checkpoint unchanged when no chain
  /// moved since. failed_precondition without a signer and a checkpoint store.
  domain::Result<domain::AuditCheckpoint> Checkpoint(bool only_if_changed = false);

 private:
  // Every project whose store holds a trail: live ones and those scheduled for deletion.
  domain::Result<std::vector<domain::Project>> AllProjects(const domain::Id* org);
  domain::Result<std::vector<domain::AuditCheckpointHead>> Heads(
      const std::vector<domain::Project>& projects);

  CatalogueStore& catalogue_;
  ProjectStores& stores_;
  Clock& clock_;
  domain::Sha256Hex sha256_;
  AuditSigner* signer_;
  AuditCheckpoints* checkpoints_;
};

/// The opaque cursor of the event after which a page starts, and back.
std::string EncodeAuditCursor(const domain::AuditEvent& event);
struct AuditPosition {
  domain::Timestamp at;
  std::string project_id;
  std::int64_t lane = 0;
  std::int64_t seq = 0;
};
domain::Result<AuditPosition> DecodeAuditCursor(std::string_view cursor);

}  // namespace socle::application
