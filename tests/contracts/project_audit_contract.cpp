// The ProjectStore contract, audit part: every adapter keeps a project's audit events beside its
// records with the same semantics (chains per lane, append guards, rollback with the change they
// describe, newest-first search with keyset paging, erasure of personal parts), so that the
// audit use cases and `socle audit verify` behave the same on memory, SQLite and PostgreSQL.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "contracts/project_store_fixture.hpp"
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
using application::AuditAppender;
using application::AuditCursor;
using application::AuditQuery;
using application::CollectionChange;
using application::ProjectStore;
using application::RecordTransaction;
using application::StoredAuditEvent;

namespace {


Timestamp Micros(std::int64_t micros) { return Timestamp::FromUnixMicros(micros); }
Timestamp Seconds(std::int64_t seconds) { return Micros(seconds * 1'000'000); }

std::string Describe(const Error& error) { return error.message + " / " + error.internal; }

// An unsealed event: the fields a use case fills before SealAuditEvent sets lane, seq and hashes.
// `label` goes into request_id so that results can be told apart by it.
AuditEvent Draft(std::string label, Timestamp at, std::string actor_id = "m_alice",
                 std::string action = "record.update", std::string target_collection = "pbc_posts",
                 std::string target_id = "p1") {
  AuditEvent event;
  event.at = at;
  event.org_id = "org000000000001";
  event.project_id = "proj00000000001";
  event.actor_kind = AuditActorKind::kMember;
  event.actor_id = std::move(actor_id);
  event.action = std::move(action);
  event.target_kind = "record";
  event.target_collection = std::move(target_collection);
  event.target_id = std::move(target_id);
  event.outcome = AuditOutcome::kSuccess;
  event.request_id = std::move(label);
  event.changes = R"([{"field":"title","before":"a","after":"b"}])";
  return event;
}


// Appends `events` in one Write transaction (so on one lane, in this order) and returns them as
// stored.
std::vector<StoredAuditEvent> AppendInOne(ProjectStore& store, const std::vector<Pending>& events) {
  std::vector<StoredAuditEvent> stored;
  auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
    stored.clear();
    for (const auto& pending : events) {
      auto appended = SealAndAppend(tx, pending);
      if (!appended) return std::unexpected(appended.error());
      stored.push_back(std::move(*appended));
    }
    return {};
  });
  INFO((done ? std::string() : Describe(done.error())));
  REQUIRE(done.has_value());
  return stored;
}

StoredAuditEvent AppendOne(ProjectStore& store, Pending pending) {
  return AppendInOne(store, {std::move(pending)}).front();
}

std::vector<StoredAuditEvent> Search(ProjectStore& store, const AuditQuery& query) {
  auto found = store.AuditEvents(query);
  INFO((found ? std::string() : Describe(found.error())));
  REQUIRE(found.has_value());
  return *found;
}

std::vector<StoredAuditEvent> Chain(ProjectStore& store, std::int64_t lane,
                                    std::int64_t after_seq = 0, std::int64_t limit = 10'000) {
  auto chain = store.AuditChain(lane, after_seq, limit);
  INFO((chain ? std::string() : Describe(chain.error())));
  REQUIRE(chain.has_value());
  return *chain;
}

std::vector<AuditHead> Heads(ProjectStore& store) {
  auto heads = store.AuditHeads();
  INFO((heads ? std::string() : Describe(heads.error())));
  REQUIRE(heads.has_value());
  return *heads;
}

std::int64_t Erase(ProjectStore& store, std::string_view subject) {
  auto erased = store.ErasePersonal(subject);
  INFO((erased ? std::string() : Describe(erased.error())));
  REQUIRE(erased.has_value());
  return *erased;
}

// The labels (request ids) of `events`, in their order.
std::vector<std::string> Labels(const std::vector<StoredAuditEvent>& events) {
  std::vector<std::string> labels;
  for (const auto& stored : events) labels.push_back(stored.event.request_id);
  return labels;
}

// Runs the domain verifier over one lane as the store gives it back, personal parts included;
// the first break's description, or "" when the chain is intact. Pages through AuditChain in
// small steps so that after_seq and limit are exercised too.
std::string Verify(ProjectStore& store, std::int64_t lane, std::int64_t* events = nullptr) {
  AuditChainVerifier verifier(lane, kSha256, std::nullopt);
  std::int64_t after = 0;
  for (;;) {
    auto page = store.AuditChain(lane, after, 7);
    if (!page) return "AuditChain failed: " + Describe(page.error());
    if (page->empty()) break;
    if (page->size() > 7) return "AuditChain returned more than its limit";
    for (const auto& stored : *page) {
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

Field TextField(std::string id, std::string name) {
  Field field;
  field.id = std::move(id);
  field.name = std::move(name);
  field.type = FieldType::kText;
  return field;
}

Collection Notes() {
  Collection collection;
  collection.id = "pbc_notes";
  collection.name = "notes";
  collection.fields = SystemFields();
  collection.fields.push_back(TextField("f_text", "text"));
  collection.rules.list = "";
  collection.rules.view = "";
  collection.created = Seconds(1'700'000'000);
  collection.updated = Seconds(1'700'000'000);
  return collection;
}

Record Note(const Collection& collection, std::string id, std::string text) {
  Record record = EmptyRecord(collection);
  record.values[*collection.FieldIndex("id")] = JsonValue::String(std::move(id));
  record.values[*collection.FieldIndex("text")] = JsonValue::String(std::move(text));
  return record;
}

using V = std::vector<std::string>;


}  // namespace

TEST_CASE("contract: a project without audit events has no heads and starts at genesis",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  CHECK(Heads(store).empty());
  CHECK(Search(store, {}).empty());
  CHECK(Chain(store, 0).empty());

  std::optional<AuditHead> head;
  auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
    auto locked = tx.LockAuditHead();
    if (!locked) return std::unexpected(locked.error());
    head = *locked;
    return {};
  });
  REQUIRE(done.has_value());
  REQUIRE(head.has_value());
  CHECK(head->seq == 0);
  CHECK(head->hash == kAuditGenesis);
  CHECK(head->lane >= 0);
  // Locking alone appends nothing.
  CHECK(Heads(store).empty());
}

TEST_CASE("contract: sealed audit events round-trip field for field",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();

  // Every member set, with awkward text, every actor kind and outcome, and times that need
  // all six fraction digits.
  AuditEvent first = Draft("req-1", Micros(1'717'171'717'123'456), "m_" + kAwkward);
  first.actor_kind = AuditActorKind::kAppUser;
  first.target_kind = "record " + kAwkward;
  first.target_collection = "pbc_" + kAwkward;
  first.target_id = "id " + kAwkward;
  first.reason = "reason: " + kAwkward;
  first.action = "record.create";
  // The changes text is stored verbatim, not re-serialised: spacing and escapes kept.
  first.changes =
      "[ {\"field\": \"title\", \"before\": null, \"after\": \"\\u00e9\\n"
      "\xC3\xA9\"} ]";
  AuditEvent second = Draft("req-2 " + kAwkward, Micros(1'717'171'717'123'457));
  second.actor_kind = AuditActorKind::kApiKey;
  second.outcome = AuditOutcome::kDenied;
  second.changes = "[]";
  AuditEvent third = Draft("req-3", Micros(1'717'171'718'000'001));
  third.actor_kind = AuditActorKind::kSystem;
  third.actor_id = "cli";
  third.outcome = AuditOutcome::kError;
  AuditEvent fourth = Draft("req-4", Micros(1'717'171'719'999'999));
  fourth.actor_kind = AuditActorKind::kSuperuser;
  AuditEvent fifth = Draft("req-5", Micros(1'717'171'720'000'000));

  std::vector<StoredAuditEvent> stored;
  const std::string actor_data = R"({"ip":"203.0.113.9","salt":"s1","ua":")" + kAwkward + "\"}";
  stored.push_back(AppendOne(
      store, WithParts(first, std::pair{std::string("m_") + kAwkward, actor_data},
                       std::pair{std::string("id ") + kAwkward, R"({"salt":"s2"})"})));
  stored.push_back(AppendOne(store, WithParts(second, std::nullopt,
                                              std::pair{std::string("p1"), R"({"salt":"s3"})"})));
  stored.push_back(AppendOne(store, WithParts(third, std::nullopt, std::nullopt)));
  stored.push_back(AppendOne(store, WithParts(fourth, std::nullopt, std::nullopt)));
  stored.push_back(AppendOne(store, WithParts(fifth, std::nullopt, std::nullopt)));

  auto check_all = [&](ProjectStore& reader) {
    // Separate transactions may take different lanes on a store with several: look at each
    // event's own lane, and at the set of heads.
    std::map<std::int64_t, std::vector<StoredAuditEvent>> by_lane;
    for (const auto& one : stored) by_lane[one.event.lane].push_back(one);

    const auto heads = Heads(reader);
    REQUIRE(heads.size() == by_lane.size());
    std::size_t i = 0;
    for (const auto& [lane, events] : by_lane) {
      INFO("lane " << lane);
      CHECK((heads[i] == AuditHead{lane, events.back().event.seq, events.back().event.hash}));
      ++i;
      CHECK(Chain(reader, lane) == events);
      CHECK(Verify(reader, lane) == "");
    }
    CHECK(std::is_sorted(heads.begin(), heads.end(),
                         [](const AuditHead& a, const AuditHead& b) { return a.lane < b.lane; }));

    // Newest first, each with its parts, actor part first.
    const auto newest_first = Search(reader, {});
    REQUIRE(newest_first.size() == stored.size());
    for (std::size_t k = 0; k < stored.size(); ++k) {
      INFO("event " << k);
      CHECK(newest_first[stored.size() - 1 - k] == stored[k]);
    }
    REQUIRE(newest_first.back().personal.size() == 2);
    CHECK(newest_first.back().personal[0].part == AuditPart::kActor);
    CHECK(newest_first.back().personal[1].part == AuditPart::kTarget);
    CHECK(newest_first.back().event.at.unix_micros() == 1'717'171'717'123'456);
    CHECK(newest_first.back().event.changes == first.changes);
  };
  check_all(store);
  SECTION("and are persisted") { check_all(ut->Reopen()); }
}

TEST_CASE("contract: several audit events in one transaction extend one chain",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  const StoredAuditEvent before = AppendOne(store, WithParts(Draft("before", Seconds(10)), {}, {}));

  std::vector<AuditHead> seen;
  std::vector<StoredAuditEvent> batch;
  auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
    for (int i = 0; i < 3; ++i) {
      auto head = tx.LockAuditHead();
      if (!head) return std::unexpected(head.error());
      seen.push_back(*head);
      AuditEvent sealed =
          SealAuditEvent(Draft("batch-" + std::to_string(i), Seconds(20)), *head, kSha256);
      if (auto appended = tx.AppendAudit(sealed, {}); !appended) return appended;
      batch.push_back(StoredAuditEvent{sealed, {}});
    }
    // Locking again after the last append still names the same lane, now at its end.
    auto last = tx.LockAuditHead();
    if (!last) return std::unexpected(last.error());
    seen.push_back(*last);
    return {};
  });
  INFO((done ? std::string() : Describe(done.error())));
  REQUIRE(done.has_value());
  REQUIRE(seen.size() == 4);
  const std::int64_t lane = seen[0].lane;
  for (std::size_t i = 1; i < seen.size(); ++i) {
    CHECK(seen[i].lane == lane);
    CHECK(seen[i].seq == seen[0].seq + static_cast<std::int64_t>(i));
    CHECK(seen[i].hash == batch[i - 1].event.hash);
  }
  CHECK(Chain(store, lane, seen[0].seq) == batch);
  CHECK(Verify(store, lane) == "");
  if (lane == before.event.lane) CHECK((seen[0] == AuditHead{lane, 1, before.event.hash}));

  SECTION("AuditChain honours after_seq and limit") {
    const std::int64_t start = seen[0].seq;
    CHECK((Chain(store, lane, start, 1) == std::vector{batch[0]}));
    CHECK((Chain(store, lane, start + 1, 10) == std::vector{batch[1], batch[2]}));
    CHECK(Chain(store, lane, start + 3, 10).empty());
    CHECK(Chain(store, lane + 1000, 0, 10).empty());
  }
}

TEST_CASE("contract: a rolled-back write leaves no audit event", "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  auto schema = store.ApplySchema({CollectionChange{std::nullopt, Notes()}}, 0, "test", Seconds(1));
  REQUIRE(schema.has_value());
  const Collection& notes = *(*schema)->Find("notes");

  auto failed = store.Write([&](RecordTransaction& tx) -> Result<void> {
    if (auto inserted = tx.Insert(notes, Note(notes, "n1", "hello")); !inserted) return inserted;
    auto appended = SealAndAppend(
        tx, WithParts(Draft("doomed", Seconds(5)), std::pair{std::string("m_alice"), "{}"}, {}));
    if (!appended) return std::unexpected(appended.error());
    return Fail(ErrorCode::kInvalidArgument, "changed my mind");
  });
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().message == "changed my mind");
  CHECK(Heads(store).empty());
  CHECK(Search(store, {}).empty());
  CHECK_FALSE(store.Get(notes, "n1", nullptr)->has_value());

  // The next transaction starts the chain afresh, and its record and event commit together.
  const StoredAuditEvent kept = AppendOne(store, WithParts(Draft("kept", Seconds(6)), {}, {}));
  CHECK(kept.event.seq == 1);
  CHECK(kept.event.prev_hash == kAuditGenesis);
  auto committed = store.Write([&](RecordTransaction& tx) -> Result<void> {
    if (auto inserted = tx.Insert(notes, Note(notes, "n2", "hi")); !inserted) return inserted;
    auto appended = SealAndAppend(tx, WithParts(Draft("with-record", Seconds(7)), {}, {}));
    if (!appended) return std::unexpected(appended.error());
    return {};
  });
  REQUIRE(committed.has_value());
  CHECK(store.Get(notes, "n2", nullptr)->has_value());
  CHECK(Labels(Search(store, {})) == V{"with-record", "kept"});
}

TEST_CASE("contract: a transaction that announces its audit event behaves as one that does not",
          "[contract][project][audit]") {
  // WillAppendAudit is a hint (a store may lock the chain with the first statement): the
  // events, the chain and the records come out as without it.
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  auto schema = store.ApplySchema({CollectionChange{std::nullopt, Notes()}}, 0, "test", Seconds(1));
  REQUIRE(schema.has_value());
  const Collection& notes = *(*schema)->Find("notes");
  const StoredAuditEvent first = AppendOne(store, WithParts(Draft("first", Seconds(2)), {}, {}));

  // Announced, then a record and its event: one chain, extended where it was.
  auto announced = store.Write([&](RecordTransaction& tx) -> Result<void> {
    tx.WillAppendAudit();
    tx.WillAppendAudit();  // said twice: still one lane
    if (auto inserted = tx.Insert(notes, Note(notes, "n1", "hello")); !inserted) return inserted;
    auto appended = SealAndAppend(tx, WithParts(Draft("announced", Seconds(3)), {}, {}));
    if (!appended) return std::unexpected(appended.error());
    return {};
  });
  INFO((announced ? std::string() : Describe(announced.error())));
  REQUIRE(announced.has_value());
  CHECK(store.Get(notes, "n1", nullptr)->has_value());
  // Announced, then committed without an event: nothing is appended and the lane is free.
  auto silent = store.Write([&](RecordTransaction& tx) -> Result<void> {
    tx.WillAppendAudit();
    return tx.Insert(notes, Note(notes, "n2", "quiet"));
  });
  REQUIRE(silent.has_value());
  CHECK(store.Get(notes, "n2", nullptr)->has_value());
  // Announced, then failed after appending: neither the record nor the event remains.
  auto undone = store.Write([&](RecordTransaction& tx) -> Result<void> {
    tx.WillAppendAudit();
    if (auto inserted = tx.Insert(notes, Note(notes, "n3", "doomed")); !inserted) return inserted;
    auto appended = SealAndAppend(tx, WithParts(Draft("undone", Seconds(4)), {}, {}));
    if (!appended) return std::unexpected(appended.error());
    return Fail(ErrorCode::kInvalidArgument, "changed my mind");
  });
  REQUIRE_FALSE(undone.has_value());
  CHECK(undone.error().message == "changed my mind");
  CHECK_FALSE(store.Get(notes, "n3", nullptr)->has_value());
  // Announced with nothing else in the transaction: the lock and head come on their own.
  auto alone = store.Write([&](RecordTransaction& tx) -> Result<void> {
    tx.WillAppendAudit();
    auto appended = SealAndAppend(tx, WithParts(Draft("alone", Seconds(5)), {}, {}));
    if (!appended) return std::unexpected(appended.error());
    return {};
  });
  REQUIRE(alone.has_value());

  CHECK(Labels(Search(store, {})) == V{"alone", "announced", "first"});
  const std::int64_t lane = first.event.lane;
  REQUIRE(Heads(store).size() == 1);  // one writer at a time: one lane
  CHECK(Heads(store)[0].lane == lane);
  CHECK(Heads(store)[0].seq == 3);
  CHECK(Verify(store, lane) == "");
}

TEST_CASE("contract: a schema change and its audit event commit together or not at all",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  auto record_change = [&](std::string label, std::optional<AuditHead>* head_seen = nullptr) {
    return application::AuditWrite([label, head_seen](AuditAppender& appender) -> Result<void> {
      if (head_seen != nullptr) {
        auto head = appender.LockAuditHead();
        if (!head) return std::unexpected(head.error());
        *head_seen = *head;
      }
      auto appended = SealAndAppend(
          appender, WithParts(Draft(label, Seconds(100), "m_alice", "collection.create",
                                    "pbc_notes", "pbc_notes"),
                              {}, {}));
      if (!appended) return std::unexpected(appended.error());
      return {};
    });
  };

  auto applied = store.ApplySchema({CollectionChange{std::nullopt, Notes()}}, 0, "test",
                                   Seconds(100), record_change("created"));
  INFO((applied ? std::string() : Describe(applied.error())));
  REQUIRE(applied.has_value());
  CHECK((*applied)->version == 1);
  auto events = Search(store, {});
  REQUIRE(Labels(events) == V{"created"});
  CHECK(events[0].event.action == "collection.create");
  CHECK(events[0].event.seq == 1);
  CHECK(Verify(store, events[0].event.lane) == "");

  Collection renamed = Notes();
  renamed.name = "memos";

  SECTION("a change planned against an old version stores neither") {
    auto stale = store.ApplySchema({CollectionChange{Notes(), renamed}}, 0, "test", Seconds(101),
                                   record_change("stale"));
    REQUIRE_FALSE(stale.has_value());
    CHECK(stale.error().code == ErrorCode::kAborted);
    CHECK((*store.Schema())->version == 1);
    CHECK(Labels(Search(store, {})) == V{"created"});
    CHECK(Labels(Search(ut->Reopen(), {})) == V{"created"});
  }
  SECTION("a failing audit callback stores neither, and its error is returned") {
    auto refused = store.ApplySchema(
        {CollectionChange{Notes(), renamed}}, 1, "test", Seconds(101),
        [&](AuditAppender& appender) -> Result<void> {
          auto appended =
              SealAndAppend(appender, WithParts(Draft("refused", Seconds(101)), {}, {}));
          if (!appended) return std::unexpected(appended.error());
          return Fail(ErrorCode::kFailedPrecondition, "A reason is required.");
        });
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::kFailedPrecondition);
    CHECK(refused.error().message == "A reason is required.");
    CHECK((*store.Schema())->version == 1);
    CHECK((*store.Schema())->Find("memos") == nullptr);
    CHECK(store.History()->size() == 1);
    CHECK(Labels(Search(store, {})) == V{"created"});
    ProjectStore& reopened = ut->Reopen();
    CHECK((*reopened.Schema())->version == 1);
    CHECK(Labels(Search(reopened, {})) == V{"created"});
  }
  SECTION("the callback sees the chain so far and the next change extends it") {
    std::optional<AuditHead> head;
    auto next = store.ApplySchema({CollectionChange{Notes(), renamed}}, 1, "test", Seconds(102),
                                  record_change("renamed", &head));
    INFO((next ? std::string() : Describe(next.error())));
    REQUIRE(next.has_value());
    CHECK((*next)->version == 2);
    REQUIRE(head.has_value());
    if (head->lane == events[0].event.lane) {
      CHECK((*head == AuditHead{head->lane, 1, events[0].event.hash}));
    } else {
      CHECK(head->seq == 0);
    }
    CHECK(Labels(Search(store, {})) == V{"renamed", "created"});
    CHECK(Labels(Search(ut->Reopen(), {})) == V{"renamed", "created"});
  }
  SECTION("no callback, no event") {
    auto plain = store.ApplySchema({CollectionChange{Notes(), renamed}}, 1, "test", Seconds(103));
    REQUIRE(plain.has_value());
    CHECK(Labels(Search(store, {})) == V{"created"});
  }
}

TEST_CASE("contract: the store refuses an event that does not extend the locked chain",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  const StoredAuditEvent first = AppendOne(store, WithParts(Draft("first", Seconds(1)), {}, {}));

  // Appends `mutate`d sealed events; each must be refused, and nothing may be written. The work
  // ignores the refusal and commits, so that a refused event written anyway would show.
  auto attempt = [&](auto mutate) {
    std::optional<Error> refusal;
    auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
      auto head = tx.LockAuditHead();
      if (!head) return std::unexpected(head.error());
      AuditEvent event = SealAuditEvent(Draft("wrong", Seconds(2)), *head, kSha256);
      mutate(event, *head);
      auto appended = tx.AppendAudit(event, {});
      if (!appended) refusal = appended.error();
      return {};
    });
    INFO((done ? std::string() : Describe(done.error())));
    CHECK(done.has_value());
    REQUIRE(refusal.has_value());
    CHECK((refusal->code == ErrorCode::kInternal || refusal->code == ErrorCode::kAborted));
    CHECK(Labels(Search(store, {})) == V{"first"});
  };
  SECTION("a gap in the sequence") {
    attempt([](AuditEvent& event, const AuditHead& head) {
      event = SealAuditEvent(event, AuditHead{head.lane, head.seq + 1, head.hash}, kSha256);
    });
  }
  SECTION("a sequence number already taken") {
    attempt([](AuditEvent& event, const AuditHead& head) {
      event = SealAuditEvent(event, AuditHead{head.lane, head.seq - 1, head.hash}, kSha256);
    });
  }
  SECTION("a lane other than the locked one") {
    attempt([](AuditEvent& event, const AuditHead& head) {
      event = SealAuditEvent(event, AuditHead{head.lane + 1, 0, std::string(kAuditGenesis)},
                             kSha256);
    });
  }
  SECTION("no lane locked at all") {
    std::optional<Error> refusal;
    auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
      AuditEvent event = first.event;
      event.seq = 2;
      event.prev_hash = first.event.hash;
      event.request_id = "unlocked";
      event.hash = HexSha256(CanonicalAuditEvent(event));
      if (auto appended = tx.AppendAudit(event, {}); !appended) refusal = appended.error();
      return {};
    });
    CHECK(done.has_value());
    REQUIRE(refusal.has_value());
    CHECK((refusal->code == ErrorCode::kInternal || refusal->code == ErrorCode::kAborted));
    CHECK(Labels(Search(store, {})) == V{"first"});
  }
  SECTION("after a refusal the transaction can still append the right event") {
    auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
      auto head = tx.LockAuditHead();
      if (!head) return std::unexpected(head.error());
      const AuditHead gap{head->lane, head->seq + 5, head->hash};
      AuditEvent wrong = SealAuditEvent(Draft("wrong", Seconds(2)), gap, kSha256);
      if (tx.AppendAudit(wrong, {})) return Fail(ErrorCode::kInternal, "a gap was accepted");
      auto right = SealAndAppend(tx, WithParts(Draft("right", Seconds(3)), {}, {}));
      if (!right) return std::unexpected(right.error());
      return {};
    });
    INFO((done ? std::string() : Describe(done.error())));
    REQUIRE(done.has_value());
    CHECK(Labels(Search(store, {})) == V{"right", "first"});
    for (const auto& head : Heads(store)) CHECK(Verify(store, head.lane) == "");
  }
}

TEST_CASE("contract: audit events are searched by every filter, alone and combined",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  // One transaction, so one lane: ties in time are broken by seq, deterministically.
  const auto stored = AppendInOne(
      store,
      {WithParts(Draft("e1", Seconds(100), "alice", "record.create", "pbc_posts", "p1"), {}, {}),
       WithParts(Draft("e2", Seconds(200), "bob", "record.update", "pbc_posts", "p1"),
                 std::pair{std::string("bob"), R"({"ip":"198.51.100.2","salt":"x"})"}, {}),
       WithParts(Draft("e3", Seconds(200), "alice", "record.delete", "pbc_users", "bob"), {},
                 std::pair{std::string("bob"), R"({"email":"bob@x.io","salt":"y"})"}),
       WithParts(Draft("e4", Seconds(300), "p1", "record.create", "pbc_users", "u7"), {}, {}),
       WithParts(Draft("e5", Micros(400'000'001), "carol", "collection.update", "pbc_posts",
                       "pbc_posts"),
                 {}, {}),
       WithParts(Draft("e6", Seconds(500), "alice", "record.update", "pbc_posts", "p2"), {}, {})});
  const std::int64_t lane = stored[0].event.lane;
  auto labels = [&](AuditQuery query) { return Labels(Search(store, query)); };

  CHECK(labels({}) == V{"e6", "e5", "e4", "e3", "e2", "e1"});
  CHECK(labels(Q().Actor("alice")) == V{"e6", "e3", "e1"});
  CHECK(labels(Q().Action("record.update")) == V{"e6", "e2"});
  CHECK(labels(Q().Collection("pbc_users")) == V{"e4", "e3"});
  CHECK(labels(Q().Target("p1")) == V{"e2", "e1"});
  CHECK(labels(Q().Subject("bob")) == V{"e3", "e2"});
  CHECK(labels(Q().Subject("p1")) == V{"e4", "e2", "e1"});
  CHECK(labels(Q().From(Seconds(200))) == V{"e6", "e5", "e4", "e3", "e2"});
  CHECK(labels(Q().To(Seconds(300))) == V{"e3", "e2", "e1"});
  CHECK(labels(Q().To(Micros(400'000'001))) == V{"e4", "e3", "e2", "e1"});
  CHECK(labels(Q().From(Micros(400'000'001))) == V{"e6", "e5"});
  CHECK(labels(Q().From(Micros(400'000'002))) == V{"e6"});
  CHECK(labels(Q().From(Seconds(200)).To(Seconds(400))) == V{"e4", "e3", "e2"});

  CHECK(labels(Q().Actor("alice").Collection("pbc_posts")) == V{"e6", "e1"});
  CHECK(labels(Q().Action("record.create").Subject("p1")) == V{"e4", "e1"});
  CHECK(labels(Q().Actor("alice").From(Seconds(200)).To(Seconds(500))) == V{"e3"});
  CHECK(labels(Q().Actor("bob").Target("p1").Subject("bob")) == V{"e2"});
  CHECK(labels(Q().Actor("alice").Action("collection.update")).empty());
  CHECK(labels(Q().From(Seconds(300)).To(Seconds(300))).empty());

  SECTION("matches are exact: no prefixes, case folding or wildcards") {
    CHECK(labels(Q().Actor("ali")).empty());
    CHECK(labels(Q().Actor("ALICE")).empty());
    CHECK(labels(Q().Actor("alice%")).empty());
    CHECK(labels(Q().Actor("%")).empty());
    CHECK(labels(Q().Target("p_")).empty());
    CHECK(labels(Q().Action("record.*")).empty());
    CHECK(labels(Q().Subject("b%")).empty());
    CHECK(labels(Q().Actor("' OR '1'='1")).empty());
    CHECK(labels(Q().Collection("pbc_posts' --")).empty());
  }
  SECTION("the personal parts come with their events") {
    const auto bob = Search(store, Q().Subject("bob"));
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
    CHECK(labels(Q().Before(AuditCursor{Seconds(250), lane, 0})) == V{"e3", "e2", "e1"});
    // Same time, the lane and seq decide.
    CHECK(labels(Q().Before(AuditCursor{Seconds(200), lane, 3})) == V{"e2", "e1"});
    CHECK(labels(Q().Before(AuditCursor{Seconds(200), lane + 1, 0})) == V{"e3", "e2", "e1"});
    CHECK(labels(Q().Before(AuditCursor{Seconds(200), lane, 1'000})) == V{"e3", "e2", "e1"});
    CHECK(labels(Q().Actor("alice").Before(cursor(5))) == V{"e3", "e1"});
    CHECK(labels(Q().Before(cursor(5)).Limit(2)) == V{"e5", "e4"});
  }
  SECTION("the limit is clamped to at least one") {
    CHECK(labels(Q().Limit(2)) == V{"e6", "e5"});
    CHECK(labels(Q().Limit(1)) == V{"e6"});
    CHECK(labels(Q().Limit(0)) == V{"e6"});
    CHECK(labels(Q().Limit(-5)) == V{"e6"});
    CHECK(labels(Q().Limit(5'000)).size() == 6);
  }
}

TEST_CASE("contract: audit search returns at most 1000 events per page",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  std::vector<Pending> many;
  for (int i = 0; i < 1'003; ++i) {
    many.push_back(WithParts(Draft("m" + std::to_string(i), Micros(1'000'000 + i)), {}, {}));
  }
  AppendInOne(store, many);
  const auto page = Search(store, Q().Limit(1'000'000));
  REQUIRE(page.size() == 1'000);
  CHECK(page.front().event.request_id == "m1002");
  CHECK(page.back().event.request_id == "m3");
}

TEST_CASE("contract: keyset paging visits every audit event once, in order",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  // 25 events in 25 transactions, three per second so that times tie.
  std::vector<StoredAuditEvent> stored;
  for (int i = 0; i < 25; ++i) {
    stored.push_back(AppendOne(
        store, WithParts(Draft("k" + std::to_string(i), Seconds(1'000 + i / 3)), {}, {})));
  }
  std::vector<StoredAuditEvent> expected = stored;
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
    return std::tuple(a.event.at, a.event.lane, a.event.seq) >
           std::tuple(b.event.at, b.event.lane, b.event.seq);
  });

  std::vector<StoredAuditEvent> visited;
  std::vector<std::size_t> page_sizes;
  AuditQuery query = Q().Limit(10);
  for (int guard = 0; guard < 10; ++guard) {
    const auto page = Search(store, query);
    page_sizes.push_back(page.size());
    if (page.empty()) break;
    visited.insert(visited.end(), page.begin(), page.end());
    const AuditEvent& last = page.back().event;
    query.before = AuditCursor{last.at, last.lane, last.seq};
  }
  CHECK((page_sizes == std::vector<std::size_t>{10, 10, 5, 0}));
  CHECK(Labels(visited) == Labels(expected));
  CHECK(visited == expected);
  std::set<std::string> unique;
  for (const auto& label : Labels(visited)) unique.insert(label);
  CHECK(unique.size() == 25);

  SECTION("with a filter too") {
    std::vector<std::string> filtered;
    AuditQuery from = Q().From(Seconds(1'002)).Limit(4);
    for (int guard = 0; guard < 10; ++guard) {
      const auto page = Search(store, from);
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

TEST_CASE("contract: personal parts are returned and erased by subject",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  const auto stored = AppendInOne(
      store,
      {WithParts(Draft("a", Seconds(1), "alice", "record.update", "pbc_users", "u1"),
                 std::pair{std::string("alice"), R"({"ip":"192.0.2.1","salt":"1"})"},
                 std::pair{std::string("u1"),
                           R"({"email":{"after":"n@x.io","before":"o@x.io"},"salt":"2"})"}),
       WithParts(Draft("b", Seconds(2), "alice", "record.view", "pbc_users", "u2"),
                 std::pair{std::string("alice"), R"({"ip":"192.0.2.1","salt":"3"})"}, {}),
       WithParts(Draft("c", Seconds(3), "bob", "record.update", "pbc_users", "u2"), {},
                 std::pair{std::string("u2"),
                           R"({"phone":{"after":"1","before":"2"},"salt":"4"})"}),
       WithParts(Draft("d", Seconds(4), "alicia", "record.update", "pbc_users", "u3"),
                 std::pair{std::string("alicia"), R"({"salt":"5"})"}, {})});
  const std::int64_t lane = stored[0].event.lane;

  auto found = Search(store, {});
  REQUIRE(Labels(found) == V{"d", "c", "b", "a"});
  CHECK(found[3] == stored[0]);
  CHECK(found[3].personal.size() == 2);

  // Exact subjects only: no pattern erases anything.
  CHECK(Erase(store, "ali%") == 0);
  CHECK(Erase(store, "ALICE") == 0);
  CHECK(Erase(store, "nobody") == 0);
  CHECK(Search(store, {}) == found);

  CHECK(Erase(store, "alice") == 2);
  CHECK(Erase(store, "alice") == 0);

  auto check_erased = [&](ProjectStore& reader) {
    const auto after = Search(reader, {});
    REQUIRE(Labels(after) == V{"d", "c", "b", "a"});
    // The events themselves are untouched, hashes of the erased parts included.
    for (std::size_t i = 0; i < after.size(); ++i) CHECK(after[i].event == stored[3 - i].event);
    CHECK(after[0].personal == stored[3].personal);  // alicia's stays
    CHECK(after[1].personal == stored[2].personal);  // u2's stays
    CHECK(after[2].personal.empty());
    REQUIRE(after[3].personal.size() == 1);
    CHECK(after[3].personal[0] == stored[0].personal[1]);  // u1's target part stays
    const auto chain = Chain(reader, lane);
    REQUIRE(chain.size() == 4);
    CHECK(chain[0].personal.size() == 1);
    CHECK(chain[1].personal.empty());
    CHECK(Verify(reader, lane) == "");
  };
  check_erased(store);
  SECTION("persisted") { check_erased(ut->Reopen()); }
  SECTION("a subject's target parts too") {
    CHECK(Erase(store, "u2") == 1);
    const auto after = Search(store, {});
    CHECK(after[1].personal.empty());
    CHECK(after[1].event == stored[2].event);
    CHECK(Verify(store, lane) == "");
  }
}

TEST_CASE("contract: concurrent writers each extend a chain without gaps or forks",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  // Catch's assertions are not thread-safe: the threads only record what happened.
  std::atomic<int> committed{0};
  std::atomic<int> retried{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string writer = "writer-" + std::to_string(t);
        const Pending pending = WithParts(
            Draft(writer + "-" + std::to_string(i), Micros(5'000'000 + t * 100 + i), writer),
            std::pair{writer, R"({"salt":"s"})"}, std::nullopt);
        // Now and then a write appends its event and then fails: nothing of it may remain, and
        // the next event (of this writer or a concurrent one) extends the chain where it was.
        if (i % 5 == 2) {
          const Pending undone = WithParts(
              Draft(writer + "-undone-" + std::to_string(i), Micros(6'000'000 + i), writer),
              std::pair{writer, R"({"salt":"u"})"}, std::nullopt);
          auto failed = store.Write([&](RecordTransaction& tx) -> Result<void> {
            tx.WillAppendAudit();
            auto appended = SealAndAppend(tx, undone);
            if (!appended) return std::unexpected(appended.error());
            return Fail(ErrorCode::kInvalidArgument, "changed my mind");
          });
          if (failed || (failed.error().code != ErrorCode::kInvalidArgument &&
                         failed.error().code != ErrorCode::kAborted)) {
            failures[static_cast<std::size_t>(t)] = "an undone write did not fail as it should";
            return;
          }
        }
        // aborted invites retrying the whole operation (a store detecting a conflict).
        for (int attempt = 0;; ++attempt) {
          auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
            if (i % 2 == 1) tx.WillAppendAudit();  // announced or not, the chains are the same
            auto appended = SealAndAppend(tx, pending);
            if (!appended) return std::unexpected(appended.error());
            return {};
          });
          if (done) {
            ++committed;
            break;
          }
          if (done.error().code != ErrorCode::kAborted || attempt == 50) {
            failures[static_cast<std::size_t>(t)] = Describe(done.error());
            return;
          }
          ++retried;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  INFO(retried.load() << " transactions were retried after aborted");
  for (const auto& failure : failures) CHECK(failure == "");
  CHECK(committed.load() == kThreads * kPerThread);

  const auto heads = Heads(store);
  REQUIRE_FALSE(heads.empty());
  std::int64_t total = 0;
  std::set<std::string> labels;
  for (const auto& head : heads) {
    INFO("lane " << head.lane);
    std::int64_t verified = 0;
    CHECK(Verify(store, head.lane, &verified) == "");
    CHECK(verified == head.seq);
    const auto chain = Chain(store, head.lane);
    REQUIRE(static_cast<std::int64_t>(chain.size()) == head.seq);
    for (std::size_t i = 0; i < chain.size(); ++i) {
      CHECK(chain[i].event.seq == static_cast<std::int64_t>(i) + 1);
      labels.insert(chain[i].event.request_id);
      CHECK(chain[i].personal.size() == 1);
    }
    CHECK(chain.back().event.hash == head.hash);
    total += head.seq;
  }
  CHECK(total == kThreads * kPerThread);
  CHECK(labels.size() == static_cast<std::size_t>(kThreads * kPerThread));
  CHECK(Search(store, Q().Limit(1'000)).size() == static_cast<std::size_t>(kThreads * kPerThread));
}

// ---- retention -------------------------------------------------------------------------------

namespace {

// The first instant (UTC) of the month `offset` months from the current one: PostgreSQL keeps
// monthly partitions for the current month and the next two, and archives whole months, so
// the retention cases place their events there and cut at a month's start.
Timestamp MonthStart(int offset) {
  using namespace std::chrono;
  const year_month_day today{floor<days>(system_clock::now())};
  const year_month month = year_month{today.year(), today.month()} + months{offset};
  const sys_days start{month / day{1}};
  return Timestamp::FromUnixMicros(duration_cast<microseconds>(start.time_since_epoch()).count());
}

Timestamp After(Timestamp at, std::int64_t seconds) {
  return Timestamp::FromUnixMicros(at.unix_micros() + seconds * 1'000'000);
}

// An archive in memory, which can be told to fail at its n-th event or at its commit.
class CollectingSink final : public application::AuditArchiveSink {
 public:
  Result<void> Write(const StoredAuditEvent& event) override {
    if (fail_write_at && written.size() == *fail_write_at) {
      return Fail(ErrorCode::kUnavailable, "The archive's disk is full.");
    }
    written.push_back(event);
    return {};
  }
  Result<void> Commit() override {
    if (fail_commit) return Fail(ErrorCode::kUnavailable, "The archive could not be synced.");
    ++commits;
    return {};
  }

  std::vector<StoredAuditEvent> written;
  int commits = 0;
  std::optional<std::size_t> fail_write_at;
  bool fail_commit = false;
};

application::AuditArchived Archive(ProjectStore& store, Timestamp before,
                                   application::AuditArchiveSink& sink) {
  auto archived = store.ArchiveAudit(before, sink);
  INFO((archived ? std::string() : Describe(archived.error())));
  REQUIRE(archived.has_value());
  return *archived;
}

std::vector<AuditHead> Anchors(ProjectStore& store) {
  auto anchors = store.AuditAnchors();
  INFO((anchors ? std::string() : Describe(anchors.error())));
  REQUIRE(anchors.has_value());
  return *anchors;
}

// Verify, from where the stored chain begins (its anchor) rather than from genesis.
std::string VerifyFrom(ProjectStore& store, std::int64_t lane, std::optional<AuditHead> start) {
  AuditChainVerifier verifier(lane, kSha256, std::nullopt, start);
  auto chain = store.AuditChain(lane, start ? start->seq : 0, 10'000);
  if (!chain) return "AuditChain failed: " + Describe(chain.error());
  for (const auto& stored : *chain) {
    if (!verifier.Next(stored.event)) break;
    for (const auto& part : stored.personal) verifier.Personal(stored.event, part);
  }
  if (auto broken = verifier.Finish()) {
    return std::string(ToString(*broken)) + ": " + verifier.detail();
  }
  return "";
}

// Verify over what an archive received, from genesis: it must be an intact chain's beginning.
std::string VerifyArchive(const std::vector<StoredAuditEvent>& archive, std::int64_t lane,
                          AuditHead* end = nullptr) {
  AuditChainVerifier verifier(lane, kSha256, std::nullopt);
  for (const auto& stored : archive) {
    if (stored.event.lane != lane) continue;
    if (!verifier.Next(stored.event)) break;
    for (const auto& part : stored.personal) verifier.Personal(stored.event, part);
  }
  if (auto broken = verifier.Finish()) {
    return std::string(ToString(*broken)) + ": " + verifier.detail();
  }
  if (end != nullptr) *end = verifier.head();
  return "";
}

// Appends each event in a transaction of its own, one after another (so all on one lane).
std::vector<StoredAuditEvent> AppendEach(ProjectStore& store, const std::vector<Pending>& events) {
  std::vector<StoredAuditEvent> stored;
  for (const auto& pending : events) stored.push_back(AppendOne(store, pending));
  return stored;
}

}  // namespace

TEST_CASE("contract: archiving moves a chain's beginning out and the rest verifies from its anchor",
          "[contract][project][audit][retention]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  const Timestamp old_month = MonthStart(0);
  const Timestamp cut = MonthStart(1);
  const auto stored = AppendEach(
      store,
      {WithParts(Draft("a", After(old_month, 1), "alice", "record.update", "pbc_users", "u1"),
                 std::pair{std::string("alice"), R"({"ip":"192.0.2.1","salt":"1"})"},
                 std::pair{std::string("u1"), R"({"email":{"after":"n@x.io"},"salt":"2"})"}),
       WithParts(Draft("b", After(old_month, 2)), {}, {}),
       WithParts(Draft("c", After(old_month, 3)), {}, {}),
       WithParts(Draft("d", After(cut, 1), "alice", "record.update", "pbc_users", "u2"),
                 std::pair{std::string("alice"), R"({"ip":"192.0.2.9","salt":"3"})"}, {}),
       WithParts(Draft("e", After(cut, 2)), {}, {})});
  const std::int64_t lane = stored[0].event.lane;
  for (const auto& event : stored) REQUIRE(event.event.lane == lane);
  const AuditHead anchor{lane, 3, stored[2].event.hash};
  CHECK(Anchors(store).empty());

  CollectingSink sink;
  const auto archived = Archive(store, cut, sink);
  CHECK(archived.events == 3);
  CHECK(archived.anchors == std::vector<AuditHead>{anchor});
  CHECK(sink.commits == 1);
  // Exactly the removed events, in chain order, with their personal parts, and they verify
  // from genesis up to the anchor.
  REQUIRE(Labels(sink.written) == V{"a", "b", "c"});
  CHECK(sink.written[0] == stored[0]);
  AuditHead archive_end;
  CHECK(VerifyArchive(sink.written, lane, &archive_end) == "");
  CHECK(archive_end == anchor);

  auto check_rest = [&](ProjectStore& reader) {
    CHECK(Anchors(reader) == std::vector<AuditHead>{anchor});
    CHECK(Labels(Chain(reader, lane)) == V{"d", "e"});
    CHECK(Labels(Search(reader, {})) == V{"e", "d"});
    CHECK(Heads(reader) == std::vector<AuditHead>{AuditHead{lane, 5, stored[4].event.hash}});
    CHECK(VerifyFrom(reader, lane, anchor) == "");
    // From genesis the stored chain now starts with a gap: that is why anchors exist.
    CHECK(VerifyFrom(reader, lane, std::nullopt) != "");
  };
  check_rest(store);
  SECTION("persisted") { check_rest(ut->Reopen()); }

  SECTION("archiving again at the same cut moves nothing") {
    CollectingSink again;
    const auto none = Archive(store, cut, again);
    CHECK(none.events == 0);
    CHECK(none.anchors.empty());
    CHECK(again.written.empty());
    CHECK(Anchors(store) == std::vector<AuditHead>{anchor});
  }
  SECTION("the chain goes on, and erasure still works") {
    const auto next = AppendOne(store, WithParts(Draft("f", After(cut, 3)), {}, {}));
    CHECK(next.event.seq == 6);
    CHECK(next.event.prev_hash == stored[4].event.hash);
    CHECK(Erase(store, "alice") == 1);  // d's actor part; a's went with the archive
    const auto chain = Chain(store, lane);
    REQUIRE(Labels(chain) == V{"d", "e", "f"});
    CHECK(chain[0].personal.empty());
    CHECK(chain[0].event == stored[3].event);
    CHECK(VerifyFrom(store, lane, anchor) == "");
  }
}

TEST_CASE("contract: a chain archived whole continues from its anchor",
          "[contract][project][audit][retention]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  const Timestamp cut = MonthStart(1);
  const auto stored = AppendEach(store, {WithParts(Draft("a", After(MonthStart(0), 1)), {}, {}),
                                         WithParts(Draft("b", After(MonthStart(0), 2)), {}, {})});
  const std::int64_t lane = stored[0].event.lane;
  const AuditHead anchor{lane, 2, stored[1].event.hash};
  CollectingSink sink;
  CHECK(Archive(store, cut, sink).events == 2);
  CHECK(Chain(store, lane).empty());
  CHECK(Search(store, {}).empty());
  // The head is where the archive ends, so that the next event links to it.
  CHECK(Heads(store) == std::vector<AuditHead>{anchor});
  CHECK(VerifyFrom(store, lane, anchor) == "");
  const auto next = AppendOne(store, WithParts(Draft("c", After(cut, 1)), {}, {}));
  CHECK(next.event.lane == lane);
  CHECK(next.event.seq == 3);
  CHECK(next.event.prev_hash == anchor.hash);
  CHECK(VerifyFrom(ut->Reopen(), lane, anchor) == "");
  // Archive plus live trail: one chain from genesis.
  std::vector<StoredAuditEvent> whole = sink.written;
  whole.push_back(next);
  CHECK(VerifyArchive(whole, lane) == "");
}

TEST_CASE("contract: a failing archive sink removes nothing",
          "[contract][project][audit][retention]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  const Timestamp cut = MonthStart(1);
  const auto stored = AppendEach(store, {WithParts(Draft("a", After(MonthStart(0), 1)), {}, {}),
                                         WithParts(Draft("b", After(MonthStart(0), 2)), {}, {}),
                                         WithParts(Draft("c", After(cut, 1)), {}, {})});
  const std::int64_t lane = stored[0].event.lane;
  CollectingSink sink;
  SECTION("while writing") { sink.fail_write_at = 1; }
  SECTION("at its commit") { sink.fail_commit = true; }
  auto archived = store.ArchiveAudit(cut, sink);
  REQUIRE_FALSE(archived.has_value());
  CHECK(archived.error().code == ErrorCode::kUnavailable);
  CHECK(sink.commits == 0);
  CHECK(Anchors(store).empty());
  CHECK(Labels(Chain(store, lane)) == V{"a", "b", "c"});
  CHECK(Verify(store, lane) == "");
  // And a working sink then archives them.
  CollectingSink working;
  CHECK(Archive(store, cut, working).events == 2);
  CHECK(Labels(working.written) == V{"a", "b"});
}

TEST_CASE("contract: a cut that would not leave each chain a clean prefix is refused",
          "[contract][project][audit][retention]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  const Timestamp cut = MonthStart(1);
  // A clock that went back: the second event is older than the first.
  const auto stored = AppendEach(store, {WithParts(Draft("a", After(cut, 5)), {}, {}),
                                         WithParts(Draft("b", After(MonthStart(0), 1)), {}, {})});
  const std::int64_t lane = stored[0].event.lane;
  CollectingSink sink;
  auto archived = store.ArchiveAudit(cut, sink);
  REQUIRE_FALSE(archived.has_value());
  CHECK(archived.error().code == ErrorCode::kFailedPrecondition);
  CHECK(sink.written.empty());
  CHECK(Anchors(store).empty());
  CHECK(Labels(Chain(store, lane)) == V{"a", "b"});
  // A cut before both moves nothing and is fine.
  CollectingSink none;
  CHECK(Archive(store, MonthStart(0), none).events == 0);
}

TEST_CASE("contract: audit events are searched by organisation",
          "[contract][project][audit]") {
  auto ut = testing::MakeProjectStoreUnderTest();
  ProjectStore& store = ut->store();
  AuditEvent other = Draft("b", Seconds(2));
  other.org_id = "org000000000002";
  AuditEvent prefix = Draft("c", Seconds(3));
  prefix.org_id = "org00000000000";
  AppendInOne(store, {WithParts(Draft("a", Seconds(1)), {}, {}), WithParts(other, {}, {}),
                      WithParts(prefix, {}, {})});
  AuditQuery query;
  query.org_id = "org000000000001";
  CHECK(Labels(Search(store, query)) == V{"a"});
  query.org_id = "org000000000002";
  CHECK(Labels(Search(store, query)) == V{"b"});
  query.action = "record.delete";
  CHECK(Search(store, query).empty());
  query = AuditQuery{};
  query.org_id = "ORG000000000001";
  CHECK(Search(store, query).empty());
  query.org_id = std::string("org\0", 4);
  CHECK(Search(store, query).empty());
  CHECK(Labels(Search(store, {})) == V{"c", "b", "a"});
}
