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
#include "socle/application/platform_store.hpp"
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
  /// Whose trail: "project" (a project's store), "organisation" (the organisation's chain of
  /// platform events, project_id ""), "platform" (the platform's own: its chain of the
  /// catalogue, org_id "", and the platform store's trail, project_id its reserved id).
  std::string trail = "project";
  std::string org_id;
  std::string project_id;
  std::string project_slug;  ///< "" when the project is gone, or not a project's trail
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
  /// With `platform`, the platform store's trail (superusers, members, API keys) is searched,
  /// verified and checkpointed with the others.
  AuditLog(CatalogueStore& catalogue, ProjectStores& stores, Clock& clock,
           domain::Sha256Hex sha256, AuditSigner* signer, AuditCheckpoints* checkpoints,
           PlatformStore* platform = nullptr)
      : catalogue_(catalogue),
        stores_(stores),
        clock_(clock),
        sha256_(std::move(sha256)),
        signer_(signer),
        checkpoints_(checkpoints),
        platform_(platform) {}

  /// Events of `project`'s trail, or, when project is null, of every trail about `org`: its
  /// projects', its chain of platform events and the platform store's events about it; that
  /// match `query` (its `before` and `org_id` are ignored: the page starts at `cursor`, ""
  /// for the newest). Ordered by time, then trail, lane and sequence number, newest first.
  /// invalid_argument for a malformed cursor; unavailable when a store cannot be read.
  domain::Result<AuditPage> Search(const domain::Id& org,
                                   const domain::Project* project, const AuditQuery& query,
                                   std::string_view cursor);

  /// Recomputes every chain (of `org`'s projects and its chain of platform events, or of all
  /// trails, the platform's included, when null) from its first event (or its archive
  /// anchor), and checks them against the latest checkpoint, whose signature is checked against
  /// `trusted_key` (base64url) or, when empty, this instance's own signing key.
  domain::Result<AuditVerification> Verify(const domain::Organisation* org,
                                           std::string_view trusted_key = {});

  /// Signs and stores the head of every chain: every project's (live or scheduled for
  /// deletion), every organisation's platform events, the platform's own. With `only_if_changed`, returns the latest checkpoint unchanged when no chain
  /// moved since. failed_precondition without a signer and a checkpoint store.
  domain::Result<domain::AuditCheckpoint> Checkpoint(bool only_if_changed = false);

 private:
  struct Trail;
  // The trails about `org`, opened: its projects', its chain of platform events. When null,
  // every trail: every project's, every organisation's chain (a purged one's too: chains
  // outlive their organisation), the platform's own chain and store.
  domain::Result<std::vector<Trail>> Trails(const domain::Id* org);
  domain::Result<std::vector<domain::AuditCheckpointHead>> Heads(const std::vector<Trail>& trails);

  CatalogueStore& catalogue_;
  ProjectStores& stores_;
  Clock& clock_;
  domain::Sha256Hex sha256_;
  AuditSigner* signer_;
  AuditCheckpoints* checkpoints_;
  PlatformStore* platform_;
};

/// Every project whose store holds a trail, each once: the live ones, then those scheduled for
/// deletion (their stores keep their trails until the purge); `org`'s alone, or every
/// organisation's when null. What AuditLog verifies and AuditRetention archives.
domain::Result<std::vector<domain::Project>> ProjectsWithTrails(CatalogueStore& catalogue,
                                                                const domain::Id* org);

/// The opaque cursor of the event after which a page starts, and back. `source` names the
/// trail: a project's id, "catalogue" for an organisation's chain of platform events; the
/// one-argument form is for a project's trail.
std::string EncodeAuditCursor(std::string_view source, const domain::AuditEvent& event);
std::string EncodeAuditCursor(const domain::AuditEvent& event);
struct AuditPosition {
  domain::Timestamp at;
  std::string source;
  std::int64_t lane = 0;
  std::int64_t seq = 0;
};
domain::Result<AuditPosition> DecodeAuditCursor(std::string_view cursor);

}  // namespace socle::application
