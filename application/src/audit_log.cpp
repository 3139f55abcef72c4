#include "socle/application/audit_log.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>

namespace socle::application {

using domain::AuditCheckpoint;
using domain::AuditCheckpointHead;
using domain::AuditEvent;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

// A page of the search holds at most this many events.
constexpr std::int64_t kMaxPage = 500;
// Verification reads chains this many events at a time.
constexpr std::int64_t kChainBatch = 1000;
// Catalogue listings are read this many at a time.
constexpr std::int64_t kCatalogueBatch = 1000;

// The cursor's name of an organisation's chain of platform events.
constexpr std::string_view kCatalogueSource = "catalogue";

// An event found in a trail, with the trail's name in cursors.
struct Found {
  std::string source;
  StoredAuditEvent stored;
};

// Newest first: time, then trail, lane and sequence number, all descending.
bool Newer(const Found& a, const Found& b) {
  return std::tie(a.stored.event.at, a.source, a.stored.event.lane, a.stored.event.seq) >
         std::tie(b.stored.event.at, b.source, b.stored.event.lane, b.stored.event.seq);
}

// One organisation's chain of platform events (or the platform's own, ""), read through the
// catalogue as a trail of one lane. `head`, when the caller listed every chain's head already
// (PlatformAuditHeads), saves reading them all again for each chain.
class CatalogueChain final : public AuditChains {
 public:
  CatalogueChain(CatalogueStore& catalogue, std::string chain,
                 std::optional<std::optional<domain::AuditHead>> head = std::nullopt)
      : catalogue_(catalogue), chain_(std::move(chain)), head_(std::move(head)) {}

  Result<std::vector<StoredAuditEvent>> AuditEvents(const AuditQuery& query) override {
    return catalogue_.PlatformAuditEvents(chain_, query);
  }
  Result<std::vector<domain::AuditHead>> AuditHeads() override {
    if (head_) {
      if (!*head_) return std::vector<domain::AuditHead>{};
      return std::vector<domain::AuditHead>{**head_};
    }
    auto heads = catalogue_.PlatformAuditHeads();
    if (!heads) return Fail(heads.error());
    std::vector<domain::AuditHead> out;
    for (const auto& head : *heads) {
      if (head.org_id == chain_) out.push_back(domain::AuditHead{0, head.seq, head.hash});
    }
    return out;
  }
  Result<std::vector<StoredAuditEvent>> AuditChain(std::int64_t lane, std::int64_t after_seq,
                                                   std::int64_t limit) override {
    if (lane != 0) return std::vector<StoredAuditEvent>{};
    return catalogue_.PlatformAuditChain(chain_, after_seq, limit);
  }
  Result<std::int64_t> ErasePersonal(std::string_view subject) override {
    return catalogue_.ErasePlatformPersonal(subject);
  }

 private:
  CatalogueStore& catalogue_;
  std::string chain_;
  // Known: the chain's head, or nullopt for a chain without events; unknown: nullopt.
  std::optional<std::optional<domain::AuditHead>> head_;
};

std::optional<std::int64_t> ParseInteger(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty() || text.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

using ChainKey = std::tuple<std::string, std::string, std::int64_t>;  // org, project, lane

}  // namespace

std::string EncodeAuditCursor(std::string_view source, const AuditEvent& event) {
  return std::to_string(event.at.unix_micros()) + "_" + std::string(source) + "_" +
         std::to_string(event.lane) + "_" + std::to_string(event.seq);
}

std::string EncodeAuditCursor(const AuditEvent& event) {
  return EncodeAuditCursor(event.project_id, event);
}

Result<AuditPosition> DecodeAuditCursor(std::string_view cursor) {
  auto invalid = [] {
    return Fail(domain::Error::Field("cursor", "validation_invalid_value",
                                     "Must be a cursor from a previous page."));
  };
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 5) {
    const std::size_t end = cursor.find('_', start);
    parts.push_back(cursor.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (parts.size() != 4) return invalid();
  const auto at = ParseInteger(parts[0]);
  const auto lane = ParseInteger(parts[2]);
  const auto seq = ParseInteger(parts[3]);
  if (!at || !lane || !seq || *lane < 0 || *seq < 1 || parts[1].empty() || parts[1].size() > 64 ||
      !std::all_of(parts[1].begin(), parts[1].end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      })) {
    return invalid();
  }
  return AuditPosition{domain::Timestamp::FromUnixMicros(*at), std::string(parts[1]), *lane, *seq};
}

// One trail: what it is for checkpoints and reports, and its chains.
struct AuditLog::Trail {
  std::string kind;        // AuditChainReport::trail
  std::string org_id;      // its checkpoint heads' org
  std::string project_id;  // its checkpoint heads' project ("" for a catalogue chain)
  std::string label;       // a project's slug
  std::string source;      // its name in cursors
  std::shared_ptr<AuditChains> chains;
  // What its events must name: a project's trail, its project; an organisation's chain, the
  // organisation; the platform store's trail holds every organisation's events (neither).
  bool owns_project = false;
  bool owns_org = false;
};

Result<std::vector<AuditLog::Trail>> AuditLog::Trails(const domain::Id* org) {
  std::vector<Trail> trails;
  auto projects = ProjectsWithTrails(catalogue_, org);
  if (!projects) return Fail(projects.error());
  for (const auto& project : *projects) {
    auto store = stores_.Open(project);
    if (!store) return Fail(store.error());
    trails.push_back(Trail{"project", project.org_id.str(), project.id.str(), project.slug.str(),
                           project.id.str(), std::move(*store), true, true});
  }
  auto catalogue_chain = [&](const std::string& chain,
                             std::optional<std::optional<domain::AuditHead>> head) {
    trails.push_back(Trail{chain.empty() ? "platform" : "organisation", chain, "", "",
                           std::string(kCatalogueSource),
                           std::make_shared<CatalogueChain>(catalogue_, chain, std::move(head)),
                           false, true});
  };
  if (org != nullptr) {
    catalogue_chain(org->str(), std::nullopt);
  } else {
    // Every chain that has events (those of purged organisations outlive them), and those of
    // the organisations with projects, each with its head read once for all.
    std::map<std::string, std::optional<domain::AuditHead>> chains;
    auto heads = catalogue_.PlatformAuditHeads();
    if (!heads) return Fail(heads.error());
    for (const auto& head : *heads) chains[head.org_id] = domain::AuditHead{0, head.seq, head.hash};
    for (const auto& project : *projects) chains.try_emplace(project.org_id.str());
    for (const auto& [chain, head] : chains) catalogue_chain(chain, head);
  }
  if (platform_ != nullptr) {
    auto store = platform_->Store();
    if (!store) return Fail(store.error());
    const auto& reserved = PlatformStore::Project();
    trails.push_back(Trail{"platform", "", reserved.id.str(), reserved.slug.str(),
                           reserved.id.str(), std::move(*store), false, false});
  }
  return trails;
}

Result<std::vector<domain::Project>> ProjectsWithTrails(CatalogueStore& catalogue,
                                                        const domain::Id* org) {
  std::vector<domain::Project> projects;
  std::unordered_set<std::string> seen;
  const std::optional<domain::Id> org_id =
      org != nullptr ? std::optional<domain::Id>(*org) : std::nullopt;
  for (std::int64_t page = 1;; ++page) {
    auto request = domain::PageRequest::Make(page, kCatalogueBatch);
    if (!request) return Fail(request.error());
    auto listed = catalogue.ListProjects(org_id, *request);
    if (!listed) return Fail(listed.error());
    for (auto& project : listed->items) {
      if (seen.insert(project.id.str()).second) projects.push_back(std::move(project));
    }
    if (static_cast<std::int64_t>(listed->items.size()) < kCatalogueBatch) break;
  }
  auto scheduled = catalogue.ListScheduledDeletions();
  if (!scheduled) return Fail(scheduled.error());
  for (auto& project : scheduled->projects) {
    if (org != nullptr && project.org_id != *org) continue;
    if (seen.insert(project.id.str()).second) projects.push_back(std::move(project));
  }
  return projects;
}

Result<AuditPage> AuditLog::Search(const domain::Id& org, const domain::Project* project,
                                   const AuditQuery& query, std::string_view cursor) {
  std::optional<AuditPosition> position;
  if (!cursor.empty()) {
    auto decoded = DecodeAuditCursor(cursor);
    if (!decoded) return Fail(decoded.error());
    position = std::move(*decoded);
  }
  std::vector<Trail> trails;
  if (project != nullptr) {
    auto store = stores_.Open(*project);
    if (!store) return Fail(store.error());
    trails.push_back(Trail{"project", project->org_id.str(), project->id.str(),
                           project->slug.str(), project->id.str(), std::move(*store), true, true});
  } else {
    auto all = Trails(&org);
    if (!all) return Fail(all.error());
    trails = std::move(*all);
  }
  const std::int64_t limit = std::clamp<std::int64_t>(query.limit, 1, kMaxPage);
  AuditQuery resolved = query;
  resolved.org_id.clear();
  if (project != nullptr && !query.target_collection.empty()) {
    // A collection may be named as the API names it; a deleted one keeps its id in the trail.
    auto schema = static_cast<ProjectStore&>(*trails.front().chains).Schema();
    if (!schema) return Fail(schema.error());
    if (const auto* found = (*schema)->Find(query.target_collection)) {
      resolved.target_collection = found->id;
    }
  }
  std::vector<Found> merged;
  for (const auto& trail : trails) {
    AuditQuery per_trail = resolved;
    per_trail.limit = limit + 1;  // one more than the page: whether there is a next one
    per_trail.before.reset();
    // The platform store's trail holds every organisation's events.
    if (!trail.owns_org) per_trail.org_id = org.str();
    if (position) {
      // The cursor's trail orders the trails at the cursor's instant: each trail is searched
      // on its own, so the condition becomes a bound on time for the others.
      if (trail.source == position->source) {
        per_trail.before = AuditCursor{position->at, position->lane, position->seq};
      } else if (trail.source > position->source) {
        per_trail.before = AuditCursor{position->at, -1, -1};  // strictly older
      } else {
        per_trail.before = AuditCursor{position->at, std::numeric_limits<std::int64_t>::max(),
                                       std::numeric_limits<std::int64_t>::max()};
      }
    }
    auto events = trail.chains->AuditEvents(per_trail);
    if (!events) return Fail(events.error());
    for (auto& event : *events) merged.push_back(Found{trail.source, std::move(event)});
  }
  std::sort(merged.begin(), merged.end(), Newer);
  AuditPage page;
  if (static_cast<std::int64_t>(merged.size()) > limit) {
    merged.resize(static_cast<std::size_t>(limit));
    page.next_cursor = EncodeAuditCursor(merged.back().source, merged.back().stored.event);
  }
  page.items.reserve(merged.size());
  for (auto& found : merged) page.items.push_back(std::move(found.stored));
  return page;
}

Result<std::vector<AuditCheckpointHead>> AuditLog::Heads(const std::vector<Trail>& trails) {
  std::vector<AuditCheckpointHead> heads;
  for (const auto& trail : trails) {
    auto lanes = trail.chains->AuditHeads();
    if (!lanes) return Fail(lanes.error());
    for (const auto& head : *lanes) {
      heads.push_back(
          AuditCheckpointHead{trail.org_id, trail.project_id, head.lane, head.seq, head.hash});
    }
  }
  std::sort(heads.begin(), heads.end(), [](const auto& a, const auto& b) {
    return std::tie(a.org_id, a.project_id, a.lane) < std::tie(b.org_id, b.project_id, b.lane);
  });
  return heads;
}

Result<AuditCheckpoint> AuditLog::Checkpoint(bool only_if_changed) {
  if (signer_ == nullptr || checkpoints_ == nullptr) {
    return Fail(ErrorCode::kFailedPrecondition, "Audit checkpoints are not configured.");
  }
  auto trails = Trails(nullptr);
  if (!trails) return Fail(trails.error());
  auto heads = Heads(*trails);
  if (!heads) return Fail(heads.error());
  if (only_if_changed) {
    auto latest = checkpoints_->Latest();
    if (!latest) return Fail(latest.error());
    if (*latest && (*latest)->heads == *heads && (*latest)->public_key == signer_->PublicKey()) {
      return std::move(**latest);
    }
  }
  AuditCheckpoint checkpoint;
  checkpoint.at = clock_.Now();
  checkpoint.key_id = signer_->KeyId();
  checkpoint.public_key = signer_->PublicKey();
  checkpoint.heads = std::move(*heads);
  auto signature = signer_->Sign(domain::CanonicalCheckpoint(checkpoint));
  if (!signature) return Fail(signature.error());
  checkpoint.signature = std::move(*signature);
  if (auto stored = checkpoints_->Append(checkpoint); !stored) return Fail(stored.error());
  return checkpoint;
}

Result<AuditVerification> AuditLog::Verify(const domain::Organisation* org,
                                           std::string_view trusted_key) {
  AuditVerification report;
  std::map<ChainKey, AuditCheckpointHead> signed_heads;
  if (checkpoints_ != nullptr) {
    auto latest = checkpoints_->Latest();
    if (!latest) return Fail(latest.error());
    report.checkpoint = std::move(*latest);
  }
  if (report.checkpoint) {
    const AuditCheckpoint& checkpoint = *report.checkpoint;
    std::string key(trusted_key);
    if (key.empty() && signer_ != nullptr) key = signer_->PublicKey();
    if (key.empty()) {
      report.checkpoint_problem = "There is no trusted key to check the checkpoint's signature.";
    } else if (checkpoint.public_key != key) {
      report.checkpoint_problem = "The checkpoint was signed by another key than the trusted one.";
    } else if (signer_ == nullptr ||
               !signer_->Verify(domain::CanonicalCheckpoint(checkpoint), checkpoint.signature,
                                key)) {
      report.checkpoint_problem = "The checkpoint's signature does not match its content.";
    }
    if (report.checkpoint_problem.empty()) {
      for (const auto& head : checkpoint.heads) {
        if (org != nullptr && head.org_id != org->id.str()) continue;
        signed_heads.emplace(ChainKey{head.org_id, head.project_id, head.lane}, head);
      }
    } else {
      report.ok = false;
    }
  }

  auto trails = Trails(org != nullptr ? &org->id : nullptr);
  if (!trails) return Fail(trails.error());
  for (const auto& trail : *trails) {
    auto heads = trail.chains->AuditHeads();
    if (!heads) return Fail(heads.error());
    auto anchors = trail.chains->AuditAnchors();
    if (!anchors) return Fail(anchors.error());
    std::set<std::int64_t> lanes;
    for (const auto& head : *heads) lanes.insert(head.lane);
    for (auto it = signed_heads.lower_bound(ChainKey{trail.org_id, trail.project_id, 0});
         it != signed_heads.end() && std::get<0>(it->first) == trail.org_id &&
         std::get<1>(it->first) == trail.project_id;
         ++it) {
      lanes.insert(std::get<2>(it->first));
    }
    for (const std::int64_t lane : lanes) {
      std::optional<AuditCheckpointHead> signed_head;
      if (auto it = signed_heads.find(ChainKey{trail.org_id, trail.project_id, lane});
          it != signed_heads.end()) {
        signed_head = it->second;
        signed_heads.erase(it);
      }
      std::optional<domain::AuditHead> start;
      for (const auto& anchor : *anchors) {
        if (anchor.lane == lane) start = anchor;
      }
      AuditChainReport chain;
      chain.trail = trail.kind;
      chain.org_id = trail.org_id;
      chain.project_id = trail.project_id;
      chain.project_slug = trail.label;
      chain.lane = lane;
      chain.signed_seq = signed_head ? signed_head->seq : 0;
      domain::AuditChainVerifier verifier(lane, sha256_, signed_head, start);
      std::int64_t after = start ? start->seq : 0;
      bool going = !verifier.broken().has_value();
      while (going) {
        auto batch = trail.chains->AuditChain(lane, after, kChainBatch);
        if (!batch) return Fail(batch.error());
        for (const auto& stored : *batch) {
          after = stored.event.seq;
          if ((trail.owns_project && stored.event.project_id != trail.project_id) ||
              (trail.owns_org && stored.event.org_id != trail.org_id)) {
            // Sealed for another trail: copied here from elsewhere.
            going = false;
            chain.broken = domain::AuditBreak::kInserted;
            chain.broken_at = stored.event.seq;
            chain.detail = "event " + std::to_string(stored.event.seq) +
                           " belongs to another trail";
            break;
          }
          if (!verifier.Next(stored.event)) {
            going = false;
            break;
          }
          for (const auto& part : stored.personal) {
            if (!verifier.Personal(stored.event, part)) {
              going = false;
              break;
            }
          }
          if (!going) break;
        }
        if (static_cast<std::int64_t>(batch->size()) < kChainBatch) break;
      }
      if (!chain.broken) {
        chain.broken = verifier.Finish();
        chain.broken_at = verifier.broken_at();
        chain.detail = verifier.detail();
      }
      chain.events = verifier.events();
      chain.head = verifier.head();
      if (chain.broken) report.ok = false;
      report.chains.push_back(std::move(chain));
    }
  }
  // Heads the checkpoint signed whose trail is gone: a purged project's.
  for (const auto& [key, head] : signed_heads) {
    AuditChainReport chain;
    chain.trail = head.project_id.empty() ? (head.org_id.empty() ? "platform" : "organisation")
                                          : "project";
    chain.org_id = head.org_id;
    chain.project_id = head.project_id;
    chain.lane = head.lane;
    chain.signed_seq = head.seq;
    chain.broken = domain::AuditBreak::kTruncated;
    chain.broken_at = 1;
    chain.detail = head.project_id.empty()
                       ? "the checkpoint signed this chain, which no longer exists"
                       : "the checkpoint signed this chain, whose project no longer exists";
    report.ok = false;
    report.chains.push_back(std::move(chain));
  }
  return report;
}

}  // namespace socle::application
