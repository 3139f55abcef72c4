// The CatalogueStore contract, audit part: every adapter keeps the platform's audit trail beside
// the catalogue and access data with the same semantics (one chain per organisation and the
// platform's own, each change committed with its events or not at all, newest-first search
// with keyset paging, erasure of personal parts, chains that outlive their organisation), so
// that the platform's audit use cases behave the same on memory, SQLite and PostgreSQL. The
// store is reached through the access fixture: Audited's change may call a method of either
// port, on the same object.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "contracts/access_store_fixture.hpp"
#include "contracts/audit_contract_support.hpp"

using namespace socle;
using namespace socle::domain;
using socle::testing::HexSha256;
using socle::testing::kAwkward;
using socle::testing::Q;
using socle::testing::kSha256;
using socle::testing::Part;
using socle::testing::Pending;
using socle::testing::SealAndAppend;
using socle::testing::WithParts;
using application::AccessStore;
using application::AuditAppender;
using application::AuditCursor;
using application::AuditQuery;
using application::AuditWrite;
using application::CatalogueStore;
using application::DeleteMode;
using application::PolicyChange;
using application::StoredAuditEvent;

namespace {


Timestamp Micros(std::int64_t micros) { return Timestamp::FromUnixMicros(micros); }
Timestamp Seconds(std::int64_t seconds) { return Micros(seconds * 1'000'000); }

std::string Describe(const Error& error) {
  return std::string(ToString(error.code)) + ": " + error.message + " / " + error.internal;
}

// "ok", or everything about the error: shown when a step that must succeed fails.
template <typename T>
std::string Outcome(const Result<T>& result) {
  return result ? "ok" : Describe(result.error());
}

#define REQUIRE_OK(expr) REQUIRE(Outcome(expr) == "ok")

// ---- catalogue and access values ---------------------------------------------------------------

// A 15-character id: `prefix`, zeros, then `n` ("orga" 1 -> "orga00000000001").
std::string Key(std::string_view prefix, int n) {
  std::string digits = std::to_string(n);
  return std::string(prefix) + std::string(15 - prefix.size() - digits.size(), '0') + digits;
}

Id I(std::string_view text) { return Id::Parse(text).value(); }
Slug S(std::string_view text) { return Slug::Parse(text).value(); }
DisplayName N(std::string_view text) { return DisplayName::Parse(text).value(); }

const std::string kOrgA = Key("orga", 1);
const std::string kOrgB = Key("orgb", 1);
const std::string kPlatform;  // the platform's own chain
const std::string kShop = Key("shop", 1);
const std::string kBlog = Key("blog", 1);

Organisation Org(const std::string& id, std::string_view slug) {
  return Organisation{I(id), S(slug), N("Org " + std::string(slug)), S("local"),
                      IsolationTier::kShared, Micros(1'700'000'000'000'001),
                      Micros(1'700'000'000'000'001)};
}

Project Proj(const std::string& id, std::string_view slug, const std::string& org_id) {
  return Project{I(id), S(slug), N("Project"), I(org_id), S(slug),
                 Micros(1'700'000'000'000'002), Micros(1'700'000'000'000'002)};
}

Membership Mem(const std::string& org, const std::string& member, std::string email) {
  return Membership{I(org), member, std::move(email), Micros(1'700'000'000'123'456)};
}

StoredPolicy MemberPol(const std::string& id, const std::string& org, const std::string& member,
                       std::string role) {
  StoredPolicy out;
  out.policy = Policy{id, RbacSubject{RbacSubject::Kind::kMember, member}, std::move(role), org,
                      std::nullopt};
  out.created = Micros(1'700'000'000'654'321);
  out.created_by = "system";
  return out;
}

Invitation Inv(const std::string& id, const std::string& org, std::string role,
               std::string token) {
  return Invitation{.id = I(id),
                    .org_id = I(org),
                    .email = "guest@example.com",
                    .role = std::move(role),
                    .project = std::nullopt,
                    .token_binding = std::move(token),
                    .invited_by = Key("mem", 1),
                    .state = InvitationState::kPending,
                    .created = Micros(1'000),
                    .expires = Micros(900'000),
                    .decided = std::nullopt};
}

Team TeamOf(const std::string& id, const std::string& org, std::string name) {
  return Team{I(id), I(org), std::move(name), "", Micros(1'700'000'000'000'100),
              Micros(1'700'000'000'000'100)};
}

CustomRole RoleOf(const std::string& org, std::string id) {
  Role role{.id = id,
            .name = "Role " + id,
            .scope = RbacScope::kOrganisation,
            .parents = {},
            .permissions = {"records.read"},
            .builtin = false};
  return CustomRole{.org_id = I(org),
                    .role = std::move(role),
                    .created = Micros(1'700'000'000'000'200),
                    .updated = Micros(1'700'000'000'000'200)};
}

FeatureFlag FlagOf(std::string key, FlagLevel level, std::string org, JsonValue value) {
  FeatureFlag out;
  out.key = std::move(key);
  out.level = level;
  out.org_id = std::move(org);
  out.value = std::move(value);
  out.description = "about " + out.key;
  out.updated = Micros(1'700'000'000'000'300);
  out.updated_by = "superuser:" + Key("sup", 1);
  return out;
}

// ---- audit events ------------------------------------------------------------------------------

// An unsealed event of the chain `chain`: the fields a use case fills before SealAuditEvent sets
// seq and hashes. `label` goes into request_id so that results can be told apart by it.
AuditEvent Draft(const std::string& chain, std::string label, Timestamp at,
                 std::string actor_id = "m_alice", std::string action = "organisation.update",
                 std::string target_collection = "", std::string target_id = "t1") {
  AuditEvent event;
  event.lane = 0;
  event.at = at;
  event.org_id = chain;
  event.actor_kind = AuditActorKind::kMember;
  event.actor_id = std::move(actor_id);
  event.action = std::move(action);
  event.target_kind = "organisation";
  event.target_collection = std::move(target_collection);
  event.target_id = std::move(target_id);
  event.outcome = AuditOutcome::kSuccess;
  event.request_id = std::move(label);
  event.changes = R"([{"field":"name","before":"a","after":"b"}])";
  return event;
}


// An audit that appends `events` in this order and keeps their stored forms in `*out` (each
// run replaces them: a store may run an audit again when it retries its transaction).
AuditWrite Appending(std::vector<Pending> events, std::vector<StoredAuditEvent>* out = nullptr) {
  return [events = std::move(events), out](AuditAppender& appender) -> Result<void> {
    if (out != nullptr) out->clear();
    for (const auto& pending : events) {
      auto appended = SealAndAppend(appender, pending);
      if (!appended) return std::unexpected(appended.error());
      if (out != nullptr) out->push_back(std::move(*appended));
    }
    return {};
  };
}

AuditWrite AppendingOne(Pending pending, std::vector<StoredAuditEvent>* out = nullptr) {
  return Appending({std::move(pending)}, out);
}

// An audit that appends its event and then fails, as a use case whose recording fails.
AuditWrite FailingAfter(Pending pending) {
  return [pending = std::move(pending)](AuditAppender& appender) -> Result<void> {
    auto appended = SealAndAppend(appender, pending);
    if (!appended) return std::unexpected(appended.error());
    return Fail(ErrorCode::kFailedPrecondition, "The audit refused the change.");
  };
}

// Appends `events` with RecordAudit, all in one transaction; their stored forms.
std::vector<StoredAuditEvent> RecordEvents(CatalogueStore& store, const std::string& chain,
                                     std::vector<Pending> events) {
  std::vector<StoredAuditEvent> stored;
  auto done = store.RecordAudit(chain, Appending(std::move(events), &stored));
  INFO(Outcome(done));
  REQUIRE(done.has_value());
  return stored;
}

StoredAuditEvent RecordOne(CatalogueStore& store, const std::string& chain, Pending pending) {
  return RecordEvents(store, chain, {std::move(pending)}).front();
}

std::vector<StoredAuditEvent> Search(CatalogueStore& store, const std::string& chain,
                                     const AuditQuery& query) {
  auto found = store.PlatformAuditEvents(chain, query);
  INFO(Outcome(found));
  REQUIRE(found.has_value());
  return *found;
}

std::vector<StoredAuditEvent> Chain(CatalogueStore& store, const std::string& chain,
                                    std::int64_t after_seq = 0, std::int64_t limit = 10'000) {
  auto events = store.PlatformAuditChain(chain, after_seq, limit);
  INFO(Outcome(events));
  REQUIRE(events.has_value());
  return *events;
}

std::vector<AuditCheckpointHead> Heads(CatalogueStore& store) {
  auto heads = store.PlatformAuditHeads();
  INFO(Outcome(heads));
  REQUIRE(heads.has_value());
  return *heads;
}

std::int64_t Erase(CatalogueStore& store, std::string_view subject) {
  auto erased = store.ErasePlatformPersonal(subject);
  INFO(Outcome(erased));
  REQUIRE(erased.has_value());
  return *erased;
}

std::vector<std::string> Labels(const std::vector<StoredAuditEvent>& events) {
  std::vector<std::string> labels;
  for (const auto& stored : events) labels.push_back(stored.event.request_id);
  return labels;
}

using V = std::vector<std::string>;

// Runs the domain verifier over one chain as the store gives it back, personal parts included;
// the first break's description, or "" when the chain is intact. Pages through
// PlatformAuditChain in small steps so that after_seq and limit are exercised too.
std::string Verify(CatalogueStore& store, const std::string& chain,
                   std::int64_t* events = nullptr) {
  AuditChainVerifier verifier(0, kSha256, std::nullopt);
  std::int64_t after = 0;
  for (;;) {
    auto page = store.PlatformAuditChain(chain, after, 7);
    if (!page) return "PlatformAuditChain failed: " + Describe(page.error());
    if (page->empty()) break;
    if (page->size() > 7) return "PlatformAuditChain returned more than its limit";
    for (const auto& stored : *page) {
      if (stored.event.org_id != chain) return "an event of another organisation";
      if (!verifier.Next(stored.event)) break;
      for (const auto& part : stored.personal) verifier.Personal(stored.event, part);
      after = stored.event.seq;
    }
    if (verifier.broken()) break;
  }
  if (auto broken = verifier.Finish()) {
    return std::string(ToString(*broken)) + ": " + verifier.detail();
  }
  if (events != nullptr) *events = verifier.events();
  return "";
}


// ---- what the store holds, read through both ports ---------------------------------------------

// A text rendering of everything the catalogue and access data hold (the audit trail aside),
// for checking that a change left no trace: every list, with the fields a mutating method can
// change, scheduled rows and settings included.
// The value of a read that must succeed, by value: a range-for over it then owns it (iterating
// `Read().value()` would iterate a vector inside a destroyed temporary).
template <typename T>
T Must(Result<T> result) {
  return std::move(result).value();
}

std::string Fingerprint(CatalogueStore& catalogue, AccessStore& access) {
  std::ostringstream out;
  const PageRequest all = PageRequest::Make(1, PageRequest::kMaxPerPage).value();
  auto at = [](const std::optional<Timestamp>& t) {
    return t ? std::to_string(t->unix_micros()) : std::string("-");
  };
  for (const auto& region : Must(catalogue.ListRegions())) {
    out << "region " << region.name.str() << " " << region.store_url << "\n";
  }
  std::vector<Organisation> orgs = Must(catalogue.ListOrganisations(all)).items;
  const auto scheduled = Must(catalogue.ListScheduledDeletions());
  orgs.insert(orgs.end(), scheduled.organisations.begin(), scheduled.organisations.end());
  for (const auto& org : orgs) {
    out << "org " << org.id.str() << " " << org.slug.str() << " " << org.name.str() << " "
        << org.updated.unix_micros() << " " << at(org.deleted) << "\n";
  }
  std::vector<Project> projects = Must(catalogue.ListProjects(std::nullopt, all)).items;
  projects.insert(projects.end(), scheduled.projects.begin(), scheduled.projects.end());
  for (const auto& project : projects) {
    out << "project " << project.id.str() << " " << project.slug.str() << " "
        << project.name.str() << " " << project.updated.unix_micros() << " "
        << at(project.deleted) << "\n";
    if (!project.deleted) {
      auto settings = Must(catalogue.GetProjectSettings(project.id));
      out << "  settings " << (settings ? settings->meta.app_name : std::string("-")) << "\n";
    }
  }
  for (const auto& org : orgs) {
    for (const auto& m : Must(access.ListMemberships(org.id, all)).items) {
      out << "member " << m.org_id.str() << " " << m.member_id << " " << m.email << "\n";
    }
    for (const auto& i : Must(access.ListInvitations(org.id, all)).items) {
      out << "invitation " << i.id.str() << " " << ToString(i.state) << " " << at(i.decided)
          << "\n";
    }
    for (const auto& t : Must(access.ListTeams(org.id))) {
      out << "team " << t.id.str() << " " << t.name << " " << t.description << "\n";
      for (const auto& m : Must(access.TeamMembers(org.id, t.id))) {
        out << "  member " << m.member_id << "\n";
      }
    }
    for (const auto& r : Must(access.ListRoles(org.id))) {
      out << "role " << r.role.id << " " << r.role.name << "\n";
    }
    for (const auto& p : Must(access.ListPolicies(org.id))) {
      out << "policy " << p.policy.id << " " << p.policy.subject.id << " " << p.policy.role
          << "\n";
    }
    for (const auto& f : Must(access.ListFlags(org.id.str()))) {
      out << "flag " << f.org_id << " " << f.key << " " << ToString(f.level) << "\n";
    }
  }
  for (const auto& f : Must(access.ListFlags(""))) {
    out << "flag " << f.org_id << " " << f.key << " " << ToString(f.level) << "\n";
  }
  return out.str();
}

}  // namespace

TEST_CASE("contract: an audited change's event reads back field for field",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  CHECK(Heads(store).empty());
  CHECK(Search(store, kOrgA, {}).empty());
  CHECK(Chain(store, kOrgA).empty());

  // Every member set, with awkward text, and a time that needs all six fraction digits.
  AuditEvent draft = Draft(kOrgA, "req " + kAwkward, Micros(1'717'171'717'123'456),
                           "m_" + kAwkward, "organisation.create", "col " + kAwkward,
                           kOrgA + kAwkward);
  draft.project_id = "proj " + kAwkward;
  draft.actor_kind = AuditActorKind::kSuperuser;
  draft.target_kind = "organisation " + kAwkward;
  draft.outcome = AuditOutcome::kDenied;
  draft.reason = "reason: " + kAwkward;
  // The changes text is stored verbatim, not re-serialised: spacing and escapes kept.
  draft.changes =
      "[ {\"field\": \"name\", \"before\": null, \"after\": \"\\u00e9\\n\xC3\xA9\"} ]";
  const std::string actor_data = R"({"ip":"203.0.113.9","salt":"s1","ua":")" + kAwkward + "\"}";
  const Pending pending =
      WithParts(draft, std::pair{"m_" + kAwkward, actor_data},
                std::pair{kOrgA + kAwkward, R"({"name":{"after":"x","before":"y"},"salt":"s2"})"});

  std::vector<StoredAuditEvent> sealed;
  auto done = store.Audited(kOrgA, AppendingOne(pending, &sealed),
                            [&] { return store.InsertOrganisation(Org(kOrgA, "acme")); });
  REQUIRE_OK(done);
  REQUIRE(sealed.size() == 1);
  const StoredAuditEvent& expected = sealed[0];
  CHECK(store.GetOrganisationById(I(kOrgA)).has_value());

  auto check_all = [&](CatalogueStore& reader) {
    const auto events = Search(reader, kOrgA, {});
    REQUIRE(events.size() == 1);
    const StoredAuditEvent& got = events[0];
    CHECK(got == expected);
    // Field by field, so that a mismatch says which.
    CHECK(got.event.lane == 0);
    CHECK(got.event.seq == 1);
    CHECK(got.event.prev_hash == kAuditGenesis);
    CHECK(got.event.at.unix_micros() == 1'717'171'717'123'456);
    CHECK(got.event.org_id == kOrgA);
    CHECK(got.event.project_id == draft.project_id);
    CHECK(got.event.actor_kind == AuditActorKind::kSuperuser);
    CHECK(got.event.actor_id == draft.actor_id);
    CHECK(got.event.action == "organisation.create");
    CHECK(got.event.target_kind == draft.target_kind);
    CHECK(got.event.target_collection == draft.target_collection);
    CHECK(got.event.target_id == draft.target_id);
    CHECK(got.event.outcome == AuditOutcome::kDenied);
    CHECK(got.event.request_id == draft.request_id);
    CHECK(got.event.reason == draft.reason);
    CHECK(got.event.changes == draft.changes);
    CHECK(got.event.actor_personal == HexSha256(actor_data));
    CHECK(got.event.target_personal == pending.event.target_personal);
    CHECK(got.event.hash == SealAuditEvent(pending.event, AuditHead{}, kSha256).hash);
    CHECK(got.event.hash == HexSha256(CanonicalAuditEvent(got.event)));
    REQUIRE(got.personal.size() == 2);
    CHECK(got.personal[0] ==
          AuditPersonal{0, 1, AuditPart::kActor, "m_" + kAwkward, actor_data});
    CHECK(got.personal[1] == AuditPersonal{0, 1, AuditPart::kTarget, kOrgA + kAwkward,
                                           pending.target->second});

    CHECK(Chain(reader, kOrgA) == events);
    CHECK((Heads(reader) ==
           std::vector{AuditCheckpointHead{kOrgA, "", 0, 1, expected.event.hash}}));
    CHECK(Verify(reader, kOrgA) == "");
  };
  check_all(store);
  SECTION("and the second handle reads the same") {
    check_all(dynamic_cast<CatalogueStore&>(ut->other_access()));
  }
}

TEST_CASE("contract: every actor kind and outcome round-trips", "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  std::vector<Pending> drafts;
  const std::vector<AuditActorKind> kinds = {AuditActorKind::kMember, AuditActorKind::kAppUser,
                                             AuditActorKind::kSuperuser, AuditActorKind::kApiKey,
                                             AuditActorKind::kGuest, AuditActorKind::kSystem};
  const std::vector<AuditOutcome> outcomes = {AuditOutcome::kSuccess, AuditOutcome::kDenied,
                                              AuditOutcome::kError};
  int n = 0;
  for (auto kind : kinds) {
    for (auto outcome : outcomes) {
      AuditEvent event = Draft(kPlatform, "k" + std::to_string(n), Micros(1'000 + n));
      event.actor_kind = kind;
      event.outcome = outcome;
      event.changes = "[]";
      drafts.push_back(WithParts(event));
      ++n;
    }
  }
  const auto stored = RecordEvents(store, kPlatform, drafts);
  CHECK(Chain(store, kPlatform) == stored);
  CHECK(Verify(store, kPlatform) == "");
}

TEST_CASE("contract: a change that fails appends nothing", "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  REQUIRE_OK(store.Audited(kOrgA, AppendingOne(WithParts(Draft(kOrgA, "created", Seconds(1)))),
                           [&] { return store.InsertOrganisation(Org(kOrgA, "acme")); }));
  bool audit_ran = false;
  auto duplicate = store.Audited(
      kOrgA,
      [&](AuditAppender& appender) -> Result<void> {
        audit_ran = true;
        auto appended =
            SealAndAppend(appender, WithParts(Draft(kOrgA, "duplicate", Seconds(2))));
        if (!appended) return std::unexpected(appended.error());
        return {};
      },
      [&] { return store.InsertOrganisation(Org(kOrgB, "acme")); });
  REQUIRE_FALSE(duplicate.has_value());
  CHECK(duplicate.error().code == ErrorCode::kAlreadyExists);
  CHECK_FALSE(audit_ran);
  CHECK(Labels(Chain(store, kOrgA)) == V{"created"});
  CHECK_FALSE(store.GetOrganisationById(I(kOrgB)).has_value());
  CHECK(Heads(store).size() == 1);

  // The chain goes on from where it was.
  REQUIRE_OK(store.Audited(kOrgA, AppendingOne(WithParts(Draft(kOrgA, "renamed", Seconds(3)))),
                           [&] {
                             Organisation org = Org(kOrgA, "acme");
                             org.name = N("Renamed");
                             return store.UpdateOrganisation(org);
                           }));
  const auto chain = Chain(store, kOrgA);
  CHECK(Labels(chain) == V{"created", "renamed"});
  CHECK(chain[1].event.seq == 2);
  CHECK(chain[1].event.prev_hash == chain[0].event.hash);
  CHECK(Verify(store, kOrgA) == "");
}

TEST_CASE("contract: an audit that fails rolls its change back", "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  auto refused = store.Audited(kOrgA, FailingAfter(WithParts(Draft(kOrgA, "doomed", Seconds(1)))),
                               [&] { return store.InsertOrganisation(Org(kOrgA, "acme")); });
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::kFailedPrecondition);
  CHECK(refused.error().message == "The audit refused the change.");
  CHECK(store.GetOrganisationById(I(kOrgA)).error().code == ErrorCode::kNotFound);
  CHECK(store.GetOrganisation(S("acme")).error().code == ErrorCode::kNotFound);
  CHECK(Heads(store).empty());
  CHECK(Chain(store, kOrgA).empty());

  // Nothing was kept: the slug and the id are free, and the chain starts at genesis.
  std::vector<StoredAuditEvent> sealed;
  REQUIRE_OK(store.Audited(kOrgA,
                           AppendingOne(WithParts(Draft(kOrgA, "kept", Seconds(2))), &sealed),
                           [&] { return store.InsertOrganisation(Org(kOrgA, "acme")); }));
  REQUIRE(sealed.size() == 1);
  CHECK(sealed[0].event.seq == 1);
  CHECK(sealed[0].event.prev_hash == kAuditGenesis);
  CHECK(Chain(store, kOrgA) == sealed);
}

TEST_CASE("contract: an audit appending what does not belong to the chain is refused",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  AccessStore& access = ut->access();
  REQUIRE_OK(store.Audited(kOrgA, AppendingOne(WithParts(Draft(kOrgA, "created", Seconds(1)))),
                           [&] { return store.InsertOrganisation(Org(kOrgA, "acme")); }));
  const auto first = Chain(store, kOrgA);
  REQUIRE(first.size() == 1);

  // Each attempt's audit appends the mutated event and returns the appender's answer; the
  // change (a team) must be rolled back and nothing appended to any chain.
  auto attempt = [&](const std::string& chain, auto mutate) {
    std::optional<Error> refusal;
    auto done = store.Audited(
        chain,
        [&](AuditAppender& appender) -> Result<void> {
          auto head = appender.LockAuditHead();
          if (!head) return std::unexpected(head.error());
          AuditEvent event = SealAuditEvent(Draft(chain, "wrong", Seconds(2)), *head, kSha256);
          mutate(event, *head);
          auto appended = appender.AppendAudit(event, {});
          if (!appended) refusal = appended.error();
          return appended;
        },
        [&] { return access.InsertTeam(TeamOf(Key("team", 1), kOrgA, "core")); });
    REQUIRE_FALSE(done.has_value());
    REQUIRE(refusal.has_value());
    CHECK(done.error().code == refusal->code);
    CHECK(access.GetTeam(I(kOrgA), I(Key("team", 1))).error().code == ErrorCode::kNotFound);
    CHECK(Chain(store, kOrgA) == first);
    CHECK(Chain(store, kOrgB).empty());
    CHECK(Chain(store, kPlatform).empty());
    CHECK(Heads(store).size() == 1);
    return *refusal;
  };

  SECTION("an event naming another organisation") {
    const Error error = attempt(kOrgA, [](AuditEvent& event, const AuditHead& head) {
      event.org_id = kOrgB;
      event = SealAuditEvent(event, head, kSha256);
    });
    CHECK(error.code == ErrorCode::kInvalidArgument);
  }
  SECTION("an event naming an organisation in the platform's chain") {
    const Error error = attempt(kPlatform, [](AuditEvent& event, const AuditHead& head) {
      event.org_id = kOrgA;
      event = SealAuditEvent(event, head, kSha256);
    });
    CHECK(error.code == ErrorCode::kInvalidArgument);
  }
  SECTION("an event naming no organisation in an organisation's chain") {
    const Error error = attempt(kOrgA, [](AuditEvent& event, const AuditHead& head) {
      event.org_id = "";
      event = SealAuditEvent(event, head, kSha256);
    });
    CHECK(error.code == ErrorCode::kInvalidArgument);
  }
  SECTION("an event on another lane") {
    const Error error = attempt(kOrgA, [](AuditEvent& event, const AuditHead& head) {
      event = SealAuditEvent(event, AuditHead{1, head.seq, head.hash}, kSha256);
    });
    CHECK(error.code == ErrorCode::kInvalidArgument);
  }
  SECTION("a gap after the head") {
    const Error error = attempt(kOrgA, [](AuditEvent& event, const AuditHead& head) {
      event = SealAuditEvent(event, AuditHead{0, head.seq + 1, head.hash}, kSha256);
    });
    CHECK((error.code == ErrorCode::kInternal || error.code == ErrorCode::kFailedPrecondition));
  }
  SECTION("a seq already taken") {
    const Error error = attempt(kOrgA, [](AuditEvent& event, const AuditHead& head) {
      event = SealAuditEvent(event, AuditHead{0, head.seq - 1, std::string(kAuditGenesis)},
                             kSha256);
    });
    CHECK((error.code == ErrorCode::kInternal || error.code == ErrorCode::kFailedPrecondition));
  }
  SECTION("a link to another hash than the head's") {
    const Error error = attempt(kOrgA, [](AuditEvent& event, const AuditHead& head) {
      event = SealAuditEvent(event, AuditHead{0, head.seq, std::string(kAuditGenesis)}, kSha256);
    });
    CHECK((error.code == ErrorCode::kInternal || error.code == ErrorCode::kFailedPrecondition));
  }
}

TEST_CASE("contract: an audited change that wrote nothing still gets its event",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  AccessStore& access = ut->access();

  // A write that finds nothing to do.
  std::int64_t purged = -1;
  REQUIRE_OK(store.Audited(kPlatform,
                           AppendingOne(WithParts(Draft(kPlatform, "purge", Seconds(1)))),
                           [&]() -> Result<void> {
                             auto done = access.PurgeInvitations(Seconds(10));
                             if (!done) return std::unexpected(done.error());
                             purged = *done;
                             return {};
                           }));
  CHECK(purged == 0);
  // A change that only read.
  REQUIRE_OK(store.Audited(kPlatform, AppendingOne(WithParts(Draft(kPlatform, "read", Seconds(2)))),
                           [&]() -> Result<void> {
                             auto regions = store.ListRegions();
                             if (!regions) return std::unexpected(regions.error());
                             return {};
                           }));
  // A change that called nothing at all.
  REQUIRE_OK(store.Audited(kPlatform,
                           AppendingOne(WithParts(Draft(kPlatform, "nothing", Seconds(3)))),
                           []() -> Result<void> { return {}; }));
  CHECK(Labels(Chain(store, kPlatform)) == V{"purge", "read", "nothing"});
  CHECK(Verify(store, kPlatform) == "");

  SECTION("and its failing audit is still reported") {
    auto refused =
        store.Audited(kPlatform, FailingAfter(WithParts(Draft(kPlatform, "x", Seconds(4)))),
                      []() -> Result<void> { return {}; });
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::kFailedPrecondition);
    CHECK(Labels(Chain(store, kPlatform)) == V{"purge", "read", "nothing"});
  }
}

TEST_CASE("contract: every mutating method commits with its audit event, or not at all",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  AccessStore& access = ut->access();

  const std::string team = Key("team", 1);
  const std::string inv1 = Key("inv", 1);
  const std::string inv2 = Key("inv", 2);
  const std::string m1 = Key("mem", 1);
  const std::string m2 = Key("mem", 2);
  auto ok = [](const auto& result) { return result.has_value(); };
  auto not_found = [](const auto& result) {
    return !result.has_value() && result.error().code == ErrorCode::kNotFound;
  };

  struct Step {
    std::string method;
    std::string chain;
    std::function<Result<void>()> change;
    std::function<bool()> visible;  // whether the change can be seen
  };
  auto step = [](std::string method, std::string chain, auto change,
                 std::function<bool()> visible) {
    return Step{std::move(method), std::move(chain),
                [change]() -> Result<void> {
                  auto done = change();
                  if (!done) return std::unexpected(done.error());
                  return {};
                },
                std::move(visible)};
  };

  ProjectSettings settings;
  settings.meta.app_name = "Audited shop";
  Organisation renamed = Org(kOrgA, "acme");
  renamed.name = N("Acme renamed");
  Project project_renamed = Proj(kShop, "shop", kOrgA);
  project_renamed.name = N("Shop renamed");
  Team team_renamed = TeamOf(team, kOrgA, "platform");

  const std::vector<Step> steps = {
      step("UpsertRegion", kPlatform,
           [&] { return store.UpsertRegion(Region{S("eu-west"), ""}); },
           [&] { return ok(store.GetRegion(S("eu-west"))); }),
      step("InsertOrganisation", kOrgA,
           [&] { return store.InsertOrganisation(Org(kOrgA, "acme")); },
           [&] { return ok(store.GetOrganisationById(I(kOrgA))); }),
      step("UpdateOrganisation", kOrgA, [&] { return store.UpdateOrganisation(renamed); },
           [&] { return store.GetOrganisationById(I(kOrgA))->name.str() == "Acme renamed"; }),
      step("InsertProject", kOrgA, [&] { return store.InsertProject(Proj(kShop, "shop", kOrgA)); },
           [&] { return ok(store.GetProjectById(I(kShop))); }),
      step("UpdateProject", kOrgA, [&] { return store.UpdateProject(project_renamed); },
           [&] { return store.GetProjectById(I(kShop))->name.str() == "Shop renamed"; }),
      step("PutProjectSettings", kOrgA,
           [&] { return store.PutProjectSettings(I(kShop), settings, Seconds(5)); },
           [&] {
             auto got = store.GetProjectSettings(I(kShop));
             return got && *got && (*got)->meta.app_name == "Audited shop";
           }),
      step("ScheduleProjectDeletion", kOrgA,
           [&] { return store.ScheduleProjectDeletion(I(kShop), Seconds(6)); },
           [&] { return not_found(store.GetProjectById(I(kShop))); }),
      step("RestoreProject", kOrgA, [&] { return store.RestoreProject(I(kShop)); },
           [&] { return ok(store.GetProjectById(I(kShop))); }),
      step("InsertMembership", kOrgA,
           [&] {
             return access.InsertMembership(Mem(kOrgA, m1, "one@example.com"),
                                            {MemberPol(Key("pol", 1), kOrgA, m1,
                                                       std::string(kOwnerRole))});
           },
           [&] { return ok(access.GetMembership(I(kOrgA), m1)); }),
      step("InsertTeam", kOrgA, [&] { return access.InsertTeam(TeamOf(team, kOrgA, "core")); },
           [&] { return ok(access.GetTeam(I(kOrgA), I(team))); }),
      step("UpdateTeam", kOrgA, [&] { return access.UpdateTeam(team_renamed); },
           [&] { return access.GetTeam(I(kOrgA), I(team))->name == "platform"; }),
      step("AddTeamMember", kOrgA, [&] { return access.AddTeamMember(I(kOrgA), I(team), m1); },
           [&] { return access.TeamMembers(I(kOrgA), I(team))->size() == 1; }),
      step("RemoveTeamMember", kOrgA,
           [&] { return access.RemoveTeamMember(I(kOrgA), I(team), m1); },
           [&] { return access.TeamMembers(I(kOrgA), I(team))->empty(); }),
      step("PutRole", kOrgA, [&] { return access.PutRole(RoleOf(kOrgA, "editor")); },
           [&] { return access.ListRoles(I(kOrgA))->size() == 1; }),
      step("ChangePolicies", kOrgA,
           [&] {
             return access.ChangePolicies(
                 I(kOrgA), PolicyChange{{}, {MemberPol(Key("pol", 2), kOrgA, m1, "editor")}});
           },
           [&] { return access.ListPolicies(I(kOrgA))->size() == 2; }),
      step("InsertInvitation", kOrgA,
           [&] { return access.InsertInvitation(Inv(inv1, kOrgA, "editor", "token-1")); },
           [&] { return ok(access.GetInvitation(I(kOrgA), I(inv1))); }),
      step("CloseInvitation", kOrgA,
           [&] {
             return access.CloseInvitation(I(kOrgA), I(inv1), InvitationState::kRevoked,
                                           Micros(2'000));
           },
           [&] {
             return access.GetInvitation(I(kOrgA), I(inv1))->state == InvitationState::kRevoked;
           }),
      step("InsertInvitation", kOrgA,
           [&] { return access.InsertInvitation(Inv(inv2, kOrgA, "editor", "token-2")); },
           [&] { return ok(access.GetInvitation(I(kOrgA), I(inv2))); }),
      step("AcceptInvitation", kOrgA,
           [&] {
             return access.AcceptInvitation(I(kOrgA), I(inv2), Mem(kOrgA, m2, "two@example.com"),
                                            MemberPol(Key("pol", 3), kOrgA, m2, "editor"),
                                            Micros(3'000));
           },
           [&] {
             return ok(access.GetMembership(I(kOrgA), m2)) &&
                    access.GetInvitation(I(kOrgA), I(inv2))->state ==
                        InvitationState::kAccepted;
           }),
      step("PurgeInvitations", kOrgA, [&] { return access.PurgeInvitations(Seconds(1'000)); },
           [&] {
             return access.ListInvitations(I(kOrgA), PageRequest::Make(1, 10).value())
                 ->items.empty();
           }),
      step("PutFlag", kOrgA,
           [&] {
             return access.PutFlag(
                 FlagOf("beta", FlagLevel::kOrganisation, kOrgA, JsonValue::Bool(true)));
           },
           [&] { return access.ListFlags(kOrgA)->size() == 1; }),
      step("DeleteFlag", kOrgA,
           [&] { return access.DeleteFlag(kOrgA, "beta", FlagLevel::kOrganisation, ""); },
           [&] { return access.ListFlags(kOrgA)->empty(); }),
      step("DeleteMembership", kOrgA, [&] { return access.DeleteMembership(I(kOrgA), m2); },
           [&] { return not_found(access.GetMembership(I(kOrgA), m2)); }),
      step("ChangePolicies", kOrgA,
           [&] { return access.ChangePolicies(I(kOrgA), PolicyChange{{Key("pol", 2)}, {}}); },
           [&] { return access.ListPolicies(I(kOrgA))->size() == 1; }),
      step("DeleteRole", kOrgA, [&] { return access.DeleteRole(I(kOrgA), "editor"); },
           [&] { return access.ListRoles(I(kOrgA))->empty(); }),
      step("DeleteTeam", kOrgA, [&] { return access.DeleteTeam(I(kOrgA), I(team)); },
           [&] { return not_found(access.GetTeam(I(kOrgA), I(team))); }),
      step("ScheduleOrganisationDeletion", kOrgA,
           [&] {
             return store.ScheduleOrganisationDeletion(I(kOrgA), Seconds(7), DeleteMode::kCascade);
           },
           [&] { return not_found(store.GetOrganisationById(I(kOrgA))); }),
      step("RestoreOrganisation", kOrgA, [&] { return store.RestoreOrganisation(I(kOrgA)); },
           [&] { return ok(store.GetOrganisationById(I(kOrgA))); }),
      step("InsertProject", kOrgA, [&] { return store.InsertProject(Proj(kBlog, "blog", kOrgA)); },
           [&] { return ok(store.GetProjectById(I(kBlog))); }),
      step("DeleteProject", kOrgA, [&] { return store.DeleteProject(I(kShop)); },
           [&] { return not_found(store.GetProjectById(I(kShop))); }),
      step("DeleteOrganisation", kOrgA,
           [&] { return store.DeleteOrganisation(I(kOrgA), DeleteMode::kCascade); },
           [&] {
             return not_found(store.GetOrganisationById(I(kOrgA))) &&
                    not_found(store.GetProjectById(I(kBlog)));
           }),
  };

  std::set<std::string> methods;
  std::map<std::string, std::int64_t> lengths;
  std::int64_t at = 1'000;
  for (const auto& one : steps) {
    INFO("step " << one.method << " on chain '" << one.chain << "'");
    methods.insert(one.method);
    const std::int64_t before = static_cast<std::int64_t>(Chain(store, one.chain).size());
    REQUIRE(before == lengths[one.chain]);
    const std::string state = Fingerprint(store, access);
    REQUIRE_FALSE(one.visible());

    // First with an audit that fails: the change must leave no trace.
    auto refused = store.Audited(
        one.chain, FailingAfter(WithParts(Draft(one.chain, "refused " + one.method, Seconds(at)))),
        one.change);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message == "The audit refused the change.");
    CHECK_FALSE(one.visible());
    CHECK(Fingerprint(store, access) == state);
    CHECK(static_cast<std::int64_t>(Chain(store, one.chain).size()) == before);

    // Then for real: the change and exactly one event.
    auto done = store.Audited(
        one.chain, AppendingOne(WithParts(Draft(one.chain, one.method, Seconds(at)))), one.change);
    REQUIRE_OK(done);
    CHECK(one.visible());
    CHECK(Fingerprint(store, access) != state);
    const auto chain = Chain(store, one.chain);
    REQUIRE(static_cast<std::int64_t>(chain.size()) == before + 1);
    CHECK(chain.back().event.request_id == one.method);
    CHECK(chain.back().event.seq == before + 1);
    lengths[one.chain] = before + 1;
    ++at;
  }
  CHECK(methods.size() == 28);
  CHECK(lengths[kOrgA] == static_cast<std::int64_t>(steps.size()) - 1);
  CHECK(lengths[kPlatform] == 1);
  CHECK(Verify(store, kOrgA) == "");
  CHECK(Verify(store, kPlatform) == "");
  const auto heads = Heads(store);
  REQUIRE(heads.size() == 2);
  CHECK(heads[0].org_id == kPlatform);
  CHECK(heads[1].org_id == kOrgA);
  CHECK(heads[1].seq == lengths[kOrgA]);
}

TEST_CASE("contract: RecordAudit appends on its own and the chain goes on",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  REQUIRE_OK(store.Audited(kOrgA, AppendingOne(WithParts(Draft(kOrgA, "created", Seconds(1)))),
                           [&] { return store.InsertOrganisation(Org(kOrgA, "acme")); }));
  const StoredAuditEvent denied = RecordOne(
      store, kOrgA,
      WithParts(Draft(kOrgA, "denied", Seconds(2), "m_bob", "organisation.delete"),
                std::pair{std::string("m_bob"), R"({"ip":"192.0.2.7","salt":"z"})"}));
  CHECK(denied.event.seq == 2);
  const auto two = Chain(store, kOrgA);
  REQUIRE(two.size() == 2);
  CHECK(denied.event.prev_hash == two[0].event.hash);
  CHECK(two[1] == denied);

  // Several events in one RecordAudit, then an audited change after them.
  const auto batch = RecordEvents(store, kOrgA,
                            {WithParts(Draft(kOrgA, "signin-1", Seconds(3))),
                             WithParts(Draft(kOrgA, "signin-2", Seconds(3)))});
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].event.seq == 3);
  CHECK(batch[1].event.seq == 4);
  CHECK(batch[1].event.prev_hash == batch[0].event.hash);
  REQUIRE_OK(store.Audited(kOrgA, AppendingOne(WithParts(Draft(kOrgA, "renamed", Seconds(4)))),
                           [&] {
                             Organisation org = Org(kOrgA, "acme");
                             org.name = N("Renamed");
                             return store.UpdateOrganisation(org);
                           }));
  CHECK(Labels(Chain(store, kOrgA)) == V{"created", "denied", "signin-1", "signin-2", "renamed"});
  CHECK(Verify(store, kOrgA) == "");

  SECTION("a failing RecordAudit appends nothing and says why") {
    auto refused =
        store.RecordAudit(kOrgA, FailingAfter(WithParts(Draft(kOrgA, "refused", Seconds(5)))));
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::kFailedPrecondition);
    CHECK(Chain(store, kOrgA).size() == 5);
  }
  SECTION("RecordAudit refuses an event of another organisation") {
    auto refused =
        store.RecordAudit(kOrgA, AppendingOne(WithParts(Draft(kOrgB, "elsewhere", Seconds(5)))));
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::kInvalidArgument);
    CHECK(Chain(store, kOrgA).size() == 5);
    CHECK(Chain(store, kOrgB).empty());
  }
  SECTION("locking alone appends nothing") {
    std::optional<AuditHead> head;
    REQUIRE_OK(store.RecordAudit(kOrgB, [&](AuditAppender& appender) -> Result<void> {
      auto locked = appender.LockAuditHead();
      if (!locked) return std::unexpected(locked.error());
      head = *locked;
      return {};
    }));
    REQUIRE(head.has_value());
    CHECK((*head == AuditHead{}));
    CHECK(Heads(store).size() == 1);
  }
  SECTION("an audited change may not nest another") {
    auto nested = store.Audited(
        kOrgA, AppendingOne(WithParts(Draft(kOrgA, "outer", Seconds(6)))), [&]() -> Result<void> {
          return store.Audited(kOrgA, AppendingOne(WithParts(Draft(kOrgA, "inner", Seconds(6)))),
                               [&] { return store.UpsertRegion(Region{S("nested"), ""}); });
        });
    REQUIRE_FALSE(nested.has_value());
    CHECK(nested.error().code == ErrorCode::kInternal);
    CHECK(Chain(store, kOrgA).size() == 5);
    CHECK_FALSE(store.GetRegion(S("nested")).has_value());
  }
}

TEST_CASE("contract: chains are separate per organisation, the platform's included",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  AccessStore& access = ut->access();
  // Interleaved: each chain counts on its own.
  REQUIRE_OK(store.Audited(kPlatform, AppendingOne(WithParts(Draft(kPlatform, "p1", Seconds(1)))),
                           [&] { return store.UpsertRegion(Region{S("eu"), ""}); }));
  REQUIRE_OK(store.Audited(kOrgB, AppendingOne(WithParts(Draft(kOrgB, "b1", Seconds(2)))),
                           [&] { return store.InsertOrganisation(Org(kOrgB, "bigco")); }));
  REQUIRE_OK(store.Audited(kOrgA, AppendingOne(WithParts(Draft(kOrgA, "a1", Seconds(3)))),
                           [&] { return store.InsertOrganisation(Org(kOrgA, "acme")); }));
  RecordOne(store, kOrgB, WithParts(Draft(kOrgB, "b2", Seconds(4))));
  REQUIRE_OK(store.Audited(kPlatform, AppendingOne(WithParts(Draft(kPlatform, "p2", Seconds(5)))),
                           [&] {
                             return access.PutFlag(FlagOf("maintenance", FlagLevel::kGlobal, "",
                                                          JsonValue::Bool(false)));
                           }));
  REQUIRE_OK(store.Audited(kOrgB, AppendingOne(WithParts(Draft(kOrgB, "b3", Seconds(6)))),
                           [&] { return access.InsertTeam(TeamOf(Key("team", 1), kOrgB, "x")); }));

  const auto a = Chain(store, kOrgA);
  const auto b = Chain(store, kOrgB);
  const auto p = Chain(store, kPlatform);
  CHECK(Labels(a) == V{"a1"});
  CHECK(Labels(b) == V{"b1", "b2", "b3"});
  CHECK(Labels(p) == V{"p1", "p2"});
  for (const auto* chain : {&a, &b, &p}) {
    REQUIRE_FALSE(chain->empty());
    CHECK(chain->front().event.seq == 1);
    CHECK(chain->front().event.prev_hash == kAuditGenesis);
  }
  CHECK(p[0].event.org_id == "");
  CHECK(Verify(store, kOrgA) == "");
  CHECK(Verify(store, kOrgB) == "");
  CHECK(Verify(store, kPlatform) == "");

  // Sorted by chain: the platform's ("") first.
  const std::vector<AuditCheckpointHead> expected = {
      {kPlatform, "", 0, 2, p.back().event.hash},
      {kOrgA, "", 0, 1, a.back().event.hash},
      {kOrgB, "", 0, 3, b.back().event.hash}};
  CHECK(Heads(store) == expected);

  // Searches stay within their chain, whatever the query's org_id says.
  CHECK(Labels(Search(store, kOrgB, {})) == V{"b3", "b2", "b1"});
  CHECK(Labels(Search(store, kOrgB, Q().Org(kOrgA))) == V{"b3", "b2", "b1"});
  CHECK(Labels(Search(store, kPlatform, {})) == V{"p2", "p1"});
  CHECK(Search(store, Key("orgc", 1), {}).empty());
  CHECK(Chain(store, Key("orgc", 1)).empty());
  CHECK(Chain(store, kOrgB, 1, 1) == std::vector{b[1]});
  CHECK(Chain(store, kOrgB, 3, 10).empty());
  CHECK(Chain(store, kOrgB, 0, 0).empty());
}

TEST_CASE("contract: platform audit events are searched by every filter, alone and combined",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  const auto stored = RecordEvents(
      store, kOrgA,
      {WithParts(Draft(kOrgA, "e1", Seconds(100), "alice", "team.create", "teams", "t1")),
       WithParts(Draft(kOrgA, "e2", Seconds(200), "bob", "team.update", "teams", "t1"),
                 std::pair{std::string("bob"), R"({"ip":"198.51.100.2","salt":"x"})"}),
       WithParts(Draft(kOrgA, "e3", Seconds(200), "alice", "member.remove", "members", "bob"),
                 std::nullopt, std::pair{std::string("bob"), R"({"email":"bob@x.io","salt":"y"})"}),
       WithParts(Draft(kOrgA, "e4", Seconds(300), "t1", "team.create", "members", "u7")),
       WithParts(Draft(kOrgA, "e5", Micros(400'000'001), "carol", "policy.change", "teams",
                       "teams")),
       WithParts(Draft(kOrgA, "e6", Seconds(500), "alice", "team.update", "teams", "t2"))});
  // Another chain with matching events: never returned.
  RecordEvents(store, kOrgB,
         {WithParts(Draft(kOrgB, "other", Seconds(250), "alice", "team.update", "teams", "t1"))});
  auto labels = [&](AuditQuery query) { return Labels(Search(store, kOrgA, query)); };

  CHECK(labels({}) == V{"e6", "e5", "e4", "e3", "e2", "e1"});
  CHECK(labels(Q().Actor("alice")) == V{"e6", "e3", "e1"});
  CHECK(labels(Q().Action("team.update")) == V{"e6", "e2"});
  CHECK(labels(Q().Collection("members")) == V{"e4", "e3"});
  CHECK(labels(Q().Target("t1")) == V{"e2", "e1"});
  CHECK(labels(Q().Subject("bob")) == V{"e3", "e2"});
  CHECK(labels(Q().Subject("t1")) == V{"e4", "e2", "e1"});
  CHECK(labels(Q().From(Seconds(200))) == V{"e6", "e5", "e4", "e3", "e2"});
  CHECK(labels(Q().To(Seconds(300))) == V{"e3", "e2", "e1"});
  CHECK(labels(Q().To(Micros(400'000'001))) == V{"e4", "e3", "e2", "e1"});
  CHECK(labels(Q().From(Micros(400'000'001))) == V{"e6", "e5"});
  CHECK(labels(Q().From(Micros(400'000'002))) == V{"e6"});
  CHECK(labels(Q().From(Seconds(200)).To(Seconds(400))) == V{"e4", "e3", "e2"});
  CHECK(labels(Q().Org(kOrgB)) == V{"e6", "e5", "e4", "e3", "e2", "e1"});

  CHECK(labels(Q().Actor("alice").Collection("teams")) == V{"e6", "e1"});
  CHECK(labels(Q().Action("team.create").Subject("t1")) == V{"e4", "e1"});
  CHECK(labels(Q().Actor("alice").From(Seconds(200)).To(Seconds(500))) == V{"e3"});
  CHECK(labels(Q().Actor("bob").Target("t1").Subject("bob")) == V{"e2"});
  CHECK(labels(Q().Actor("alice").Action("policy.change")).empty());
  CHECK(labels(Q().From(Seconds(300)).To(Seconds(300))).empty());

  SECTION("matches are exact: no prefixes, case folding or wildcards") {
    CHECK(labels(Q().Actor("ali")).empty());
    CHECK(labels(Q().Actor("ALICE")).empty());
    CHECK(labels(Q().Actor("alice%")).empty());
    CHECK(labels(Q().Actor("%")).empty());
    CHECK(labels(Q().Target("t_")).empty());
    CHECK(labels(Q().Action("team.*")).empty());
    CHECK(labels(Q().Subject("b%")).empty());
    CHECK(labels(Q().Actor("' OR '1'='1")).empty());
    CHECK(labels(Q().Collection("teams' --")).empty());
  }
  SECTION("the personal parts come with their events") {
    const auto bob = Search(store, kOrgA, Q().Subject("bob"));
    REQUIRE(bob.size() == 2);
    CHECK(bob[0] == stored[2]);
    CHECK(bob[1] == stored[1]);
    REQUIRE(bob[0].personal.size() == 1);
    CHECK(bob[0].personal[0].part == AuditPart::kTarget);
    CHECK(bob[0].personal[0].data == R"({"email":"bob@x.io","salt":"y"})");
  }
  SECTION("before starts strictly after the cursor, in the same order") {
    auto cursor = [&](std::size_t index) {
      const AuditEvent& event = stored[index].event;
      return AuditCursor{event.at, event.lane, event.seq};
    };
    CHECK(labels(Q().Before(cursor(5))) == V{"e5", "e4", "e3", "e2", "e1"});
    CHECK(labels(Q().Before(cursor(2))) == V{"e2", "e1"});
    CHECK(labels(Q().Before(cursor(1))) == V{"e1"});
    CHECK(labels(Q().Before(cursor(0))).empty());
    CHECK(labels(Q().Before(AuditCursor{Seconds(250), 0, 0})) == V{"e3", "e2", "e1"});
    // Same time, the seq decides.
    CHECK(labels(Q().Before(AuditCursor{Seconds(200), 0, 3})) == V{"e2", "e1"});
    CHECK(labels(Q().Before(AuditCursor{Seconds(200), 0, 1'000})) == V{"e3", "e2", "e1"});
    CHECK(labels(Q().Actor("alice").Before(cursor(5))) == V{"e3", "e1"});
    CHECK(labels(Q().Before(cursor(5)).Limit(2)) == V{"e5", "e4"});
  }
  SECTION("the limit is clamped to 1..1000") {
    CHECK(labels(Q().Limit(2)) == V{"e6", "e5"});
    CHECK(labels(Q().Limit(1)) == V{"e6"});
    CHECK(labels(Q().Limit(0)) == V{"e6"});
    CHECK(labels(Q().Limit(-5)) == V{"e6"});
    CHECK(labels(Q().Limit(5'000)).size() == 6);
  }
}

TEST_CASE("contract: platform audit search returns at most 1000 events per page",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  std::vector<Pending> many;
  for (int i = 0; i < 1'003; ++i) {
    many.push_back(WithParts(Draft(kPlatform, "m" + std::to_string(i), Micros(1'000'000 + i))));
  }
  RecordEvents(store, kPlatform, many);
  const auto page = Search(store, kPlatform, Q().Limit(1'000'000));
  REQUIRE(page.size() == 1'000);
  CHECK(page.front().event.request_id == "m1002");
  CHECK(page.back().event.request_id == "m3");
}

TEST_CASE("contract: keyset paging visits every platform audit event once, in order",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  // 25 events, three per second so that times tie, half of them recorded with a change.
  REQUIRE_OK(store.InsertOrganisation(Org(kOrgA, "acme")));
  std::vector<StoredAuditEvent> stored;
  for (int i = 0; i < 25; ++i) {
    const Pending pending =
        WithParts(Draft(kOrgA, "k" + std::to_string(i), Seconds(1'000 + i / 3)));
    if (i % 2 == 0) {
      stored.push_back(RecordOne(store, kOrgA, pending));
      continue;
    }
    std::vector<StoredAuditEvent> sealed;
    REQUIRE_OK(store.Audited(kOrgA, AppendingOne(pending, &sealed), [&] {
      return ut->access().PutFlag(
          FlagOf("k" + std::to_string(i), FlagLevel::kOrganisation, kOrgA, JsonValue::Bool(true)));
    }));
    REQUIRE(sealed.size() == 1);
    stored.push_back(sealed[0]);
  }
  std::vector<StoredAuditEvent> expected(stored.rbegin(), stored.rend());

  std::vector<StoredAuditEvent> visited;
  std::vector<std::size_t> page_sizes;
  AuditQuery query = Q().Limit(10);
  for (int guard = 0; guard < 10; ++guard) {
    const auto page = Search(store, kOrgA, query);
    page_sizes.push_back(page.size());
    if (page.empty()) break;
    visited.insert(visited.end(), page.begin(), page.end());
    const AuditEvent& last = page.back().event;
    query.before = AuditCursor{last.at, last.lane, last.seq};
  }
  CHECK((page_sizes == std::vector<std::size_t>{10, 10, 5, 0}));
  CHECK(visited == expected);

  SECTION("with a filter too") {
    std::vector<std::string> filtered;
    AuditQuery from = Q().From(Seconds(1'002)).Limit(4);
    for (int guard = 0; guard < 10; ++guard) {
      const auto page = Search(store, kOrgA, from);
      if (page.empty()) break;
      for (const auto& one : page) filtered.push_back(one.event.request_id);
      const AuditEvent& last = page.back().event;
      from.before = AuditCursor{last.at, last.lane, last.seq};
    }
    V want;
    for (const auto& one : expected) {
      if (one.event.at >= Seconds(1'002)) want.push_back(one.event.request_id);
    }
    CHECK(want.size() == 19);
    CHECK(filtered == want);
  }
}

TEST_CASE("contract: personal parts are erased by subject in every chain",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  const auto a = RecordEvents(
      store, kOrgA,
      {WithParts(Draft(kOrgA, "a1", Seconds(1), "alice", "member.update", "members", "u1"),
                 std::pair{std::string("alice"), R"({"ip":"192.0.2.1","salt":"1"})"},
                 std::pair{std::string("u1"), R"({"email":{"after":"n@x.io"},"salt":"2"})"}),
       WithParts(Draft(kOrgA, "a2", Seconds(2), "bob", "member.update", "members", "alice"),
                 std::nullopt,
                 std::pair{std::string("alice"), R"({"email":{"after":"a@x.io"},"salt":"3"})"})});
  const auto b = RecordEvents(
      store, kOrgB,
      {WithParts(Draft(kOrgB, "b1", Seconds(3), "alice", "team.create", "teams", "t1"),
                 std::pair{std::string("alice"), R"({"ip":"192.0.2.2","salt":"4"})"})});
  const auto p = RecordEvents(
      store, kPlatform,
      {WithParts(Draft(kPlatform, "p1", Seconds(4), "alicia", "region.update", "", "eu"),
                 std::pair{std::string("alicia"), R"({"salt":"5"})"}),
       WithParts(Draft(kPlatform, "p2", Seconds(5), "alice", "flag.put", "", "beta"),
                 std::pair{std::string("alice"), R"({"salt":"6"})"})});

  // Exact subjects only: no pattern erases anything.
  CHECK(Erase(store, "ali%") == 0);
  CHECK(Erase(store, "ALICE") == 0);
  CHECK(Erase(store, "nobody") == 0);
  CHECK(Chain(store, kOrgA) == a);

  CHECK(Erase(store, "alice") == 4);
  CHECK(Erase(store, "alice") == 0);

  auto check_erased = [&](CatalogueStore& reader) {
    const auto ca = Chain(reader, kOrgA);
    const auto cb = Chain(reader, kOrgB);
    const auto cp = Chain(reader, kPlatform);
    REQUIRE(ca.size() == 2);
    REQUIRE(cb.size() == 1);
    REQUIRE(cp.size() == 2);
    // The events themselves are untouched, hashes of the erased parts included.
    CHECK(ca[0].event == a[0].event);
    CHECK(ca[1].event == a[1].event);
    CHECK(cb[0].event == b[0].event);
    CHECK(cp[0].event == p[0].event);
    CHECK(cp[1].event == p[1].event);
    CHECK((ca[0].personal == std::vector{a[0].personal[1]}));  // u1's target part stays
    CHECK(ca[1].personal.empty());
    CHECK(cb[0].personal.empty());
    CHECK(cp[0].personal == p[0].personal);  // alicia's stays
    CHECK(cp[1].personal.empty());
    // Searches show the same.
    CHECK(Search(reader, kOrgA, Q().Subject("alice"))[0].personal.empty());
    CHECK(Verify(reader, kOrgA) == "");
    CHECK(Verify(reader, kOrgB) == "");
    CHECK(Verify(reader, kPlatform) == "");
  };
  check_erased(store);
  SECTION("seen from the second handle") {
    check_erased(dynamic_cast<CatalogueStore&>(ut->other_access()));
  }
  SECTION("another subject's parts on their own") {
    CHECK(Erase(store, "u1") == 1);
    CHECK(Chain(store, kOrgA)[0].personal.empty());
    CHECK(Chain(store, kOrgA)[0].event == a[0].event);
    CHECK(Chain(store, kPlatform)[0].personal == p[0].personal);
    CHECK(Verify(store, kOrgA) == "");
  }
}

TEST_CASE("contract: a chain outlives its organisation", "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& store = ut->catalogue();
  AccessStore& access = ut->access();
  REQUIRE_OK(store.Audited(kOrgA, AppendingOne(WithParts(Draft(kOrgA, "created", Seconds(1)))),
                           [&] { return store.InsertOrganisation(Org(kOrgA, "acme")); }));
  REQUIRE_OK(store.Audited(kOrgA, AppendingOne(WithParts(Draft(kOrgA, "project", Seconds(2)))),
                           [&] { return store.InsertProject(Proj(kShop, "shop", kOrgA)); }));
  REQUIRE_OK(store.Audited(
      kOrgA,
      AppendingOne(WithParts(Draft(kOrgA, "member", Seconds(3)),
                             std::pair{std::string("m_alice"), R"({"salt":"q"})"})),
      [&] {
        return access.InsertMembership(
            Mem(kOrgA, Key("mem", 1), "one@example.com"),
            {MemberPol(Key("pol", 1), kOrgA, Key("mem", 1), std::string(kOwnerRole))});
      }));
  const auto before = Chain(store, kOrgA);
  REQUIRE(before.size() == 3);

  std::int64_t deleted_projects = -1;
  REQUIRE_OK(store.Audited(
      kOrgA, AppendingOne(WithParts(Draft(kOrgA, "purged", Seconds(4)))), [&]() -> Result<void> {
        auto deleted = store.DeleteOrganisation(I(kOrgA), DeleteMode::kCascade);
        if (!deleted) return std::unexpected(deleted.error());
        deleted_projects = *deleted;
        return {};
      }));
  CHECK(deleted_projects == 1);
  CHECK(store.GetOrganisationById(I(kOrgA)).error().code == ErrorCode::kNotFound);
  CHECK(access.GetMembership(I(kOrgA), Key("mem", 1)).error().code == ErrorCode::kNotFound);

  const auto after = Chain(store, kOrgA);
  REQUIRE(after.size() == 4);
  CHECK(std::vector(after.begin(), after.begin() + 3) == before);
  CHECK(after[3].event.request_id == "purged");
  CHECK(after[2].personal.size() == 1);
  CHECK(Labels(Search(store, kOrgA, {})) == V{"purged", "member", "project", "created"});
  const auto heads = Heads(store);
  REQUIRE(heads.size() == 1);
  CHECK((heads[0] == AuditCheckpointHead{kOrgA, "", 0, 4, after[3].event.hash}));
  CHECK(Verify(store, kOrgA) == "");

  SECTION("and events can still be recorded about it") {
    RecordOne(store, kOrgA, WithParts(Draft(kOrgA, "late", Seconds(5))));
    CHECK(Chain(store, kOrgA).size() == 5);
    CHECK(Verify(store, kOrgA) == "");
  }
}

TEST_CASE("contract: concurrent audited changes and records extend one chain without gaps",
          "[contract][catalogue][audit]") {
  auto ut = testing::MakeAccessStoreUnderTest();
  CatalogueStore& first = ut->catalogue();
  AccessStore& first_access = ut->access();
  // The second handle (another connection pool on the SQL stores), seen through both ports.
  AccessStore& second_access = ut->other_access();
  auto* second = dynamic_cast<CatalogueStore*>(&second_access);
  REQUIRE(second != nullptr);
  REQUIRE_OK(first.InsertOrganisation(Org(kOrgA, "acme")));

  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  // Catch's assertions are not thread-safe: the threads only record what happened.
  std::atomic<int> committed{0};
  std::atomic<int> retried{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      CatalogueStore& store = t % 2 == 0 ? first : *second;
      AccessStore& access = t % 2 == 0 ? first_access : second_access;
      const std::string writer = "writer-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        const std::string label = writer + "-" + std::to_string(i);
        const Pending pending =
            WithParts(Draft(kOrgA, label, Micros(5'000'000 + t * 100 + i), writer),
                      std::pair{writer, R"({"salt":"s"})"});
        // aborted invites retrying the whole operation (a store detecting a conflict).
        for (int attempt = 0;; ++attempt) {
          Result<void> done;
          if ((t + i) % 2 == 0) {
            done = store.Audited(kOrgA, AppendingOne(pending), [&] {
              return access.PutFlag(FlagOf(label, FlagLevel::kOrganisation, kOrgA,
                                           JsonValue::Bool(true)));
            });
          } else {
            done = store.RecordAudit(kOrgA, AppendingOne(pending));
          }
          if (done) {
            ++committed;
            break;
          }
          if (done.error().code != ErrorCode::kAborted || attempt == 50) {
            failures[static_cast<std::size_t>(t)] = label + ": " + Describe(done.error());
            return;
          }
          ++retried;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  INFO(retried.load() << " operations were retried after aborted");
  for (const auto& failure : failures) CHECK(failure == "");
  CHECK(committed.load() == kThreads * kPerThread);

  std::int64_t verified = 0;
  CHECK(Verify(first, kOrgA, &verified) == "");
  CHECK(verified == kThreads * kPerThread);
  const auto chain = Chain(first, kOrgA);
  REQUIRE(chain.size() == static_cast<std::size_t>(kThreads * kPerThread));
  std::set<std::string> labels;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    CHECK(chain[i].event.seq == static_cast<std::int64_t>(i) + 1);
    CHECK(chain[i].personal.size() == 1);
    labels.insert(chain[i].event.request_id);
  }
  CHECK(labels.size() == static_cast<std::size_t>(kThreads * kPerThread));
  // Every audited change landed with its event: one flag per Audited call.
  CHECK(first_access.ListFlags(kOrgA)->size() ==
        static_cast<std::size_t>(kThreads * kPerThread / 2));
  const auto heads = Heads(first);
  REQUIRE(heads.size() == 1);
  CHECK(heads[0].seq == kThreads * kPerThread);
  CHECK(heads[0].hash == chain.back().event.hash);
}
