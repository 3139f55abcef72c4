#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/collection.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/record.hpp"
#include "socle/domain/timestamp.hpp"

// The audit trail's model: events, their canonical form, the hash chain they form and how a
// chain is verified. docs/audit.md is the specification; this is its implementation.
namespace socle::domain {

/// Who acted.
/// Who acted: a platform member, a signed-in user of a project's app, a superuser, an API key,
/// a caller without identity, or the platform itself (CLI, background work).
enum class AuditActorKind { kMember, kAppUser, kSuperuser, kApiKey, kGuest, kSystem };
/// How the attempt ended: done; refused by a rule or a permission; failed otherwise
/// (invalid input, a conflict), nothing changed.
enum class AuditOutcome { kSuccess, kDenied, kError };

std::string_view ToString(AuditActorKind kind) noexcept;
std::optional<AuditActorKind> ParseAuditActorKind(std::string_view text) noexcept;
std::string_view ToString(AuditOutcome outcome) noexcept;
std::optional<AuditOutcome> ParseAuditOutcome(std::string_view text) noexcept;

/// The hash of nothing: what the first event of a chain names as its predecessor.
inline constexpr std::string_view kAuditGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event, as stored. The chain it belongs to is (project, lane) in a project's
/// store: a project's events form `lanes` independent chains (one on SQLite and in memory,
/// several on PostgreSQL so that concurrent writers do not queue behind one another).
struct AuditEvent {
  std::int64_t lane = 0;
  std::int64_t seq = 0;  ///< position in its chain, from 1, without gaps
  Timestamp at;          ///< UTC, microseconds
  std::string org_id;
  std::string project_id;
  AuditActorKind actor_kind = AuditActorKind::kSystem;
  /// The member's, app user's (their record's), superuser's or API key's id; "" for a guest;
  /// for the system the component ("cli", "server").
  std::string actor_id;
  std::string action;  ///< "record.create", "record.update", "collection.delete" ...
  std::string target_kind;        ///< "record", "collection" ...
  std::string target_collection;  ///< the collection id of a record or collection target
  std::string target_id;
  AuditOutcome outcome = AuditOutcome::kSuccess;
  std::string request_id;
  std::string reason;
  /// The canonical JSON array of changed fields (see AuditDiff), masked: hidden values never
  /// appear, personal values are replaced by a marker and kept in the target's personal part.
  std::string changes = "[]";
  /// SHA-256 (hex) of the actor's and of the target's personal part (AuditPersonal::data),
  /// or "" when there is none. The parts themselves sit outside the chain and can be erased.
  std::string actor_personal;
  std::string target_personal;
  std::string prev_hash;  ///< the previous event's hash, kAuditGenesis for the first
  std::string hash;       ///< SHA-256 (hex) of CanonicalAuditEvent(*this)

  friend bool operator==(const AuditEvent&, const AuditEvent&) = default;
};

/// Which personal part of an event.
enum class AuditPart { kActor, kTarget };
std::string_view ToString(AuditPart part) noexcept;

/// The personal data of one event, kept beside the chain: the actor's (client address, user
/// agent) or the target's (the values of its personal fields before and after). `subject`
/// is whose data it is (the actor's id, the target record's id): erasing a subject deletes
/// its parts, and the chain, which holds only their hashes, stays valid.
struct AuditPersonal {
  std::int64_t lane = 0;
  std::int64_t seq = 0;
  AuditPart part = AuditPart::kActor;
  std::string subject;
  /// Canonical JSON object with a random "salt" member (so the hash in the chain cannot be
  /// matched against guessed values) and the personal values.
  std::string data;

  friend bool operator==(const AuditPersonal&, const AuditPersonal&) = default;
};

/// The last event of a chain: where the next one links.
struct AuditHead {
  std::int64_t lane = 0;
  std::int64_t seq = 0;  ///< 0 for an empty chain
  std::string hash = std::string(kAuditGenesis);
  friend bool operator==(const AuditHead&, const AuditHead&) = default;
};

/// SHA-256 of `bytes`, as 64 lowercase hex digits. The domain states what is hashed; the crypto
/// adapter hashes.
using Sha256Hex = std::function<std::string(std::string_view bytes)>;

/// The canonical serialisation of an event, the bytes its hash covers: a JSON object without
/// whitespace whose members are, in this order, v (1), lane, seq, at (RFC 3339 with six
/// fraction digits), org, project, actor {kind, id}, action, target {kind, collection, id},
/// outcome, requestId, reason, changes (the stored text verbatim), actorPersonal,
/// targetPersonal, prev. Strings are escaped as CanonicalJsonString does.
std::string CanonicalAuditEvent(const AuditEvent& event);

/// A JSON string literal in the canonical form: `"` and `\` escaped with a backslash,
/// U+0008, U+0009, U+000A, U+000C, U+000D as \b \t \n \f \r, other characters below U+0020
/// and U+007F as \u00xx (lowercase hex); everything else, UTF-8 included, verbatim.
void AppendCanonicalJsonString(std::string& out, std::string_view text);
/// Any JSON value in the canonical form: no whitespace, object members sorted by key (bytes),
/// integers in decimal, other numbers in the shortest form that reads back exactly
/// (std::to_chars), strings as above.
void AppendCanonicalJson(std::string& out, const JsonValue& value);

/// Sets event.seq, prev_hash and hash so that it follows `head`, and returns the event.
AuditEvent SealAuditEvent(AuditEvent event, const AuditHead& head, const Sha256Hex& sha256);

/// A record change, masked for the trail: `changes` is the canonical array of
/// {"field", "before", "after"} for every changed field, in field order; a hidden field or a
/// password shows {"field", "hidden": true} (changed, values never kept); a personal field
/// (pii) shows {"field", "personal": true}, its values going to `personal` instead.
struct AuditDiff {
  std::string changes = "[]";
  /// {"<field>": {"before": v, "after": v}} of the personal fields that changed; empty when
  /// none did.
  std::vector<JsonValue::Member> personal;
};
/// The diff between two states of a record of `collection`: before null for a create, after
/// null for a delete (every non-empty value then appears on one side). Autodate fields
/// (created, updated) are left out: the event's own time says when.
AuditDiff DiffForAudit(const Collection& collection, const Record* before, const Record* after);

/// A collection's change, for the trail: the same shape of entries for what a security review
/// looks at — name, type, the five rules, the auth and manage rules, the fields (as
/// "name:type"), the indexes (as declared), the view query and the audit options. before null
/// for a creation, after null for a deletion.
std::string DiffCollectionForAudit(const Collection* before, const Collection* after);

/// The change between two states of something described by named aspects (an organisation's
/// name, a policy's role ...), in the same shape as DiffForAudit: an entry per aspect whose
/// value differs, every aspect for a creation (before null) or a deletion (after null), in
/// the order given. Aspects named in `personal` show {"field", "personal": true}, their values
/// going to the personal part; aspects named in `hidden` show {"field", "hidden": true}.
/// Precondition: before and after, when both given, list the same aspects in the same order.
AuditDiff DiffAspectsForAudit(const std::vector<JsonValue::Member>* before,
                              const std::vector<JsonValue::Member>* after,
                              const std::vector<std::string_view>& personal = {},
                              const std::vector<std::string_view>& hidden = {});

/// The canonical data of a personal part: {"salt": salt, ...members} with members sorted.
std::string CanonicalPersonal(std::string_view salt, std::vector<JsonValue::Member> members);

/// What went wrong first in a chain.
enum class AuditBreak {
  kEdited,     ///< an event's content no longer matches its hash
  kDeleted,    ///< events are missing (a gap in the sequence)
  kInserted,   ///< an event that does not link to its predecessor and to no other event
  kReordered,  ///< an event links to another event than its predecessor
  kTruncated,  ///< the chain ends before a signed checkpoint's head
  kRewritten,  ///< the event at a signed checkpoint's head is not the one signed
  kPersonal,   ///< a personal part no longer matches the hash its event holds
};
std::string_view ToString(AuditBreak kind) noexcept;

/// A signed chain head, from a checkpoint.
struct AuditCheckpointHead {
  std::string org_id;
  std::string project_id;  ///< "" for an organisation's platform chain
  std::int64_t lane = 0;
  std::int64_t seq = 0;
  std::string hash;
  friend bool operator==(const AuditCheckpointHead&, const AuditCheckpointHead&) = default;
};

/// A signed statement of every chain's head at one moment. The signature covers
/// CanonicalCheckpoint(checkpoint).
struct AuditCheckpoint {
  Timestamp at;
  std::string key_id;      ///< AuditSigner::KeyId of the signing key
  std::string public_key;  ///< its public half (base64url), for auditors with the file alone
  /// Every chain's head, sorted by org, project, lane.
  std::vector<AuditCheckpointHead> heads;
  std::string signature;  ///< base64url Ed25519 signature
  friend bool operator==(const AuditCheckpoint&, const AuditCheckpoint&) = default;
};

/// The bytes a checkpoint's signature covers: {"v":1,"at":..,"key":key_id,"heads":[{"org",
/// "project","lane","seq","hash"},...]} without whitespace, heads sorted by org, project, lane,
/// strings escaped as AppendCanonicalJsonString does.
std::string CanonicalCheckpoint(const AuditCheckpoint& checkpoint);

/// Verifies a chain incrementally, one event at a time in sequence order, so that a chain of
/// any length is checked in bounded memory.
class AuditChainVerifier final {
 public:
  /// `start`: where the stored chain begins when its beginning was archived (the last
  /// archived event's seq and hash); nullopt for a chain stored from its first event. A signed
  /// head at or before `start` counts as reached (its event was archived after the checkpoint);
  /// at `start` itself its hash must be start's.
  AuditChainVerifier(std::int64_t lane, Sha256Hex sha256, std::optional<AuditCheckpointHead> signed_head,
                     std::optional<AuditHead> start = std::nullopt);

  /// Checks the next stored event; false once a break was found (later events are not
  /// looked at).
  bool Next(const AuditEvent& event);
  /// Checks a personal part still present against the hash its event holds.
  bool Personal(const AuditEvent& event, const AuditPersonal& part);
  /// Ends the chain: checks it reaches the signed head. Returns the first break, if any.
  std::optional<AuditBreak> Finish();

  std::int64_t events() const noexcept { return events_; }
  const AuditHead& head() const noexcept { return head_; }
  /// The first break and where: the sequence number of the first event that is wrong (for a
  /// deletion, the first missing one; for a truncation, the first missing after the end).
  std::optional<AuditBreak> broken() const noexcept { return broken_; }
  std::int64_t broken_at() const noexcept { return broken_at_; }
  const std::string& detail() const noexcept { return detail_; }

 private:
  void Break(AuditBreak kind, std::int64_t seq, std::string detail);
  // The sequence number near `event.seq` under which the event's content matches its hash:
  // where it was before someone moved it. nullopt when there is none (it was edited).
  std::optional<std::int64_t> OriginalSeq(const AuditEvent& event) const;

  std::int64_t lane_;
  Sha256Hex sha256_;
  std::optional<AuditCheckpointHead> signed_head_;
  AuditHead head_;
  // An event found moved from a later position: a deletion (what follows moved too) or a swap
  // (what follows is the one it swapped with) — decided by the next event.
  std::optional<std::int64_t> moved_back_at_;
  std::int64_t events_ = 0;
  bool signed_head_seen_ = false;
  std::optional<AuditBreak> broken_;
  std::int64_t broken_at_ = 0;
  std::string detail_;
};

}  // namespace socle::domain
