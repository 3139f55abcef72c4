#pragma once

#include <functional>
#include <string>
#include <vector>

#include "socle/application/audit_context.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/domain/access.hpp"
#include "socle/domain/audit.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/feature_flags.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/project_settings.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// Whether a change that fails is recorded as an attempt.
enum class RecordFailure { kYes, kNo };

/// What happens to the catalogue and to access, in the platform's trail (CatalogueStore's
/// audit chains, one per organisation and the platform's own): each change commits with its
/// event; refused and failed attempts are recorded on their own. Thread-safe.
class PlatformTrail final {
 public:
  PlatformTrail(CatalogueStore& catalogue, AuditTrail& trail)
      : catalogue_(catalogue), trail_(trail) {}

  /// Runs `change`, one catalogue or access write, with `entry`'s event in its transaction
  /// (on the chain of entry.org_id). When `change` fails, records the attempt on its own, its
  /// outcome that of the error (OutcomeOf), and returns the change's error; when the event
  /// cannot be written, the change is undone and that error returned.
  domain::Result<void> Write(const AuditEntry& entry,
                             const std::function<domain::Result<void>()>& change,
                             RecordFailure on_failure = RecordFailure::kYes);
  /// Records `entry` on its own: a refused attempt, a sign-in.
  domain::Result<void> Record(const AuditEntry& entry);

  CatalogueStore& catalogue() noexcept { return catalogue_; }

 private:
  CatalogueStore& catalogue_;
  AuditTrail& trail_;
};

/// An event of the platform's trail as a use case describes it: `context`'s actor and origin,
/// organisation `org_id` ("" for the platform's own chain).
AuditEntry PlatformEntry(const AuditContext& context, std::string org_id, std::string action,
                         std::string target_kind, std::string target_id,
                         domain::AuditDiff diff = {});

/// Runs `change` with `entry` through `trail`, or alone without a trail.
domain::Result<void> WritePlatform(PlatformTrail* trail, const AuditEntry& entry,
                                   const std::function<domain::Result<void>()>& change,
                                   RecordFailure on_failure = RecordFailure::kYes);
/// Records `entry` as a refused attempt (outcome denied, no diff) when there is a trail and
/// `error` is a refusal (permission or authentication, see OutcomeOf); returns `error`.
/// Anything else stays out of the chain: a stranger told the organisation does not exist
/// (recording that would let any signed-in caller write into other organisations' chains), a
/// store failure.
domain::Error RecordRefusal(PlatformTrail* trail, AuditEntry entry, domain::Error error);

// What the platform's events show of each thing (for domain::DiffAspectsForAudit): its
// descriptive fields, never secrets (a region's store URL shows without its credentials).
std::vector<domain::JsonValue::Member> AuditAspects(const domain::Region& region);
std::vector<domain::JsonValue::Member> AuditAspects(const domain::Organisation& org);
std::vector<domain::JsonValue::Member> AuditAspects(const domain::Project& project);
std::vector<domain::JsonValue::Member> AuditAspects(const domain::ProjectSettings& settings);
/// "email" is personal: the trail keeps it in the erasable part.
std::vector<domain::JsonValue::Member> AuditAspects(const domain::Membership& membership);
/// "email" is personal.
std::vector<domain::JsonValue::Member> AuditAspects(const domain::Invitation& invitation);
std::vector<domain::JsonValue::Member> AuditAspects(const domain::Team& team);
std::vector<domain::JsonValue::Member> AuditAspects(const domain::Role& role);
std::vector<domain::JsonValue::Member> AuditAspects(const domain::Policy& policy);
std::vector<domain::JsonValue::Member> AuditAspects(const domain::FeatureFlag& flag);

/// The diff of a change of `T` (before null: created; after null: deleted), with the aspects
/// named personal kept out of the chain.
template <typename T>
domain::AuditDiff AuditChange(const T* before, const T* after) {
  const auto old_aspects = before ? AuditAspects(*before) : std::vector<domain::JsonValue::Member>{};
  const auto new_aspects = after ? AuditAspects(*after) : std::vector<domain::JsonValue::Member>{};
  return domain::DiffAspectsForAudit(before ? &old_aspects : nullptr,
                                     after ? &new_aspects : nullptr, {"email"});
}

}  // namespace socle::application
