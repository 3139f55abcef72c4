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

// Newest first: time, then project, lane and sequence number, all descending.
bool Newer(const StoredAuditEvent& a, const StoredAuditEvent& b) {
  return std::tie(a.event.at, a.event.project_id, a.event.lane, a.event.seq) >
         std::tie(b.event.at, b.event.project_id, b.event.lane, b.event.seq);
}

std::optional<std::int64_t> ParseInteger(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty() || text.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

using ChainKey = std::tuple<std::string, std::string, std::int64_t>;  // org, project, lane

}  // namespace

std::string EncodeAuditCursor(const AuditEvent& event) {
  return std::to_string(event.at.unix_micros()) + "_" + event.project_id + "_" +
         std::to_string(event.lane) + "_" + std::to_string(event.seq);
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

Result<std::vector<domain::Project>> AuditLog::AllProjects(const domain::Id* org) {
  std::vector<domain::Project> projects;
  std::unordered_set<std::string> seen;
  const std::optional<domain::Id> org_id =
      org != nullptr ? std::optional<domain::Id>(*org) : std::nullopt;
  for (std::int64_t page = 1;; ++page) {
    auto request = domain::PageRequest::Make(page, kCatalogueBatch);
    if (!request) return Fail(request.error());
    auto listed = catalogue_.ListProjects(org_id, *request);
    if (!listed) return Fail(listed.error());
    for (auto& project : listed->items) {
      if (seen.insert(project.id.str()).second) projects.push_back(std::move(project));
    }
    if (static_cast<std::int64_t>(listed->items.size()) < kCatalogueBatch) break;
  }
  auto scheduled = catalogue_.ListScheduledDeletions();
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
  std::vector<domain::Project> projects;
  if (project != nullptr) {
    projects.push_back(*project);
  } else {
    auto all = AllProjects(&org);
    if (!all) return Fail(all.error());
    projects = std::move(*all);
  }
  const std::int64_t limit = std::clamp<std::int64_t>(query.limit, 1, kMaxPage);
  AuditQuery resolved = query;
  if (project != nullptr && !query.target_collection.empty()) {
    // A collection may be named as the API names it; a deleted one keeps its id in the trail.
    auto store = stores_.Open(*project);
    if (!store) return Fail(store.error());
    auto schema = (*store)->Schema();
    if (!schema) return Fail(schema.error());
    if (const auto* found = (*schema)->Find(query.target_collection)) {
      resolved.target_collection = found->id;
    }
  }
  std::vector<StoredAuditEvent> merged;
  for (const auto& each : projects) {
    AuditQuery per_store = resolved;
    per_store.limit = limit + 1;  // one more than the page: whether there is a next one
    per_store.before.reset();
    if (position) {
      // The cursor's project orders the projects at the cursor's instant: the stores hold one
      // project each, so the condition becomes a bound on time for the others.
      const std::string& id = each.id.str();
      if (id == position->project_id) {
        per_store.before = AuditCursor{position->at, position->lane, position->seq};
      } else if (id > position->project_id) {
        per_store.before = AuditCursor{position->at, -1, -1};  // strictly older
      } else {
        per_store.before = AuditCursor{position->at, std::numeric_limits<std::int64_t>::max(),
                                       std::numeric_limits<std::int64_t>::max()};
      }
    }
    auto store = stores_.Open(each);
    if (!store) return Fail(store.error());
    auto events = (*store)->AuditEvents(per_store);
    if (!events) return Fail(events.error());
    for (auto& event : *events) merged.push_back(std::move(event));
  }
  std::sort(merged.begin(), merged.end(), Newer);
  AuditPage page;
  if (static_cast<std::int64_t>(merged.size()) > limit) {
    merged.resize(static_cast<std::size_t>(limit));
    page.next_cursor = EncodeAuditCursor(merged.back().event);
  }
  page.items = std::move(merged);
  return page;
}

Result<std::vector<AuditCheckpointHead>> AuditLog::Heads(
    const std::vector<domain::Project>& projects) {
  std::vector<AuditCheckpointHead> heads;
  for (const auto& project : projects) {
    auto store = stores_.Open(project);
    if (!store) return Fail(store.error());
    auto lanes = (*store)->AuditHeads();
    if (!lanes) return Fail(lanes.error());
    for (const auto& head : *lanes) {
      heads.push_back(AuditCheckpointHead{project.org_id.str(), project.id.str(), head.lane,
                                          head.seq, head.hash});
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
  auto projects = AllProjects(nullptr);
  if (!projects) return Fail(projects.error());
  auto heads = Heads(*projects);
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

  auto projects = AllProjects(org != nullptr ? &org->id : nullptr);
  if (!projects) return Fail(projects.error());
  std::sort(projects->begin(), projects->end(),
            [](const auto& a, const auto& b) { return a.id.str() < b.id.str(); });
  for (const auto& project : *projects) {
    auto store = stores_.Open(project);
    if (!store) return Fail(store.error());
    auto heads = (*store)->AuditHeads();
    if (!heads) return Fail(heads.error());
    std::set<std::int64_t> lanes;
    for (const auto& head : *heads) lanes.insert(head.lane);
    const std::string org_id = project.org_id.str();
    const std::string project_id = project.id.str();
    for (auto it = signed_heads.lower_bound(ChainKey{org_id, project_id, 0});
         it != signed_heads.end() && std::get<0>(it->first) == org_id &&
         std::get<1>(it->first) == project_id;
         ++it) {
      lanes.insert(std::get<2>(it->first));
    }
    for (const std::int64_t lane : lanes) {
      std::optional<AuditCheckpointHead> signed_head;
      if (auto it = signed_heads.find(ChainKey{org_id, project_id, lane});
          it != signed_heads.end()) {
        signed_head = it->second;
        signed_heads.erase(it);
      }
      AuditChainReport chain;
      chain.org_id = org_id;
      chain.project_id = project_id;
      chain.project_slug = project.slug.str();
      chain.lane = lane;
      chain.signed_seq = signed_head ? signed_head->seq : 0;
      domain::AuditChainVerifier verifier(lane, sha256_, signed_head);
      std::int64_t after = 0;
      bool going = true;
      while (going) {
        auto batch = (*store)->AuditChain(lane, after, kChainBatch);
        if (!batch) return Fail(batch.error());
        for (const auto& stored : *batch) {
          after = stored.event.seq;
          if (stored.event.project_id != project_id || stored.event.org_id != org_id) {
            // Sealed for another project: copied here from elsewhere.
            going = false;
            chain.broken = domain::AuditBreak::kInserted;
            chain.broken_at = stored.event.seq;
            chain.detail = "event " + std::to_string(stored.event.seq) +
                           " belongs to another project's trail";
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
  // Heads the checkpoint signed whose project is gone from the catalogue.
  for (const auto& [key, head] : signed_heads) {
    AuditChainReport chain;
    chain.org_id = head.org_id;
    chain.project_id = head.project_id;
    chain.lane = head.lane;
    chain.signed_seq = head.seq;
    chain.broken = domain::AuditBreak::kTruncated;
    chain.broken_at = 1;
    chain.detail = "the checkpoint signed this chain, whose project no longer exists";
    report.ok = false;
    report.chains.push_back(std::move(chain));
  }
  return report;
}

}  // namespace socle::application
