#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "application/audit_world.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/purge_deleted.hpp"

using namespace socle;
using namespace socle::domain;
using application::AuditQuery;
using application::BatchOperation;
using application::Caller;
using application::StoredAuditEvent;
using testing::AuditWorld;
using testing::Body;
using testing::NewCollection;
using testing::NewField;
using testing::Str;

namespace {

// The stores must exist before AuditWorld's members use them; AuditWorld only keeps the
// reference until then, so owning them in a base constructed first is enough.
struct OwnedStores {
  adapters::memory::MemoryProjectStores stores;
};
struct World : OwnedStores, AuditWorld {
  World() : AuditWorld(OwnedStores::stores) {}
};

Collection Posts() {
  auto posts = NewCollection("posts", {NewField("title", FieldType::kText),
                                       NewField("secret", FieldType::kText),
                                       NewField("phone", FieldType::kText)});
  posts.fields[1].hidden = true;
  posts.fields[2].pii = "digits";
  return posts;
}

const StoredAuditEvent& Last(const std::vector<StoredAuditEvent>& events) {
  REQUIRE_FALSE(events.empty());
  return events.back();
}

std::vector<std::string> Actions(const std::vector<StoredAuditEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.event.action);
  return out;
}

}  // namespace

TEST_CASE("audit: each record change commits with its event, masked and chained") {
  World w;
  const Collection posts = w.MustCreate(Posts());
  const std::string id = w.MustInsert(
      "posts", Body({{"title", Str("Hello")}, {"secret", Str("s3cret")}, {"phone", Str("+32 2 1")}}));

  auto events = w.Events();
  REQUIRE(Actions(events) == std::vector<std::string>{"collection.create", "record.create"});
  const AuditEvent& created = Last(events).event;
  CHECK(created.target_kind == "record");
  CHECK(created.target_collection == posts.id);
  CHECK(created.target_id == id);
  CHECK(created.actor_kind == AuditActorKind::kSuperuser);
  CHECK(created.request_id == "req-1");
  CHECK(created.outcome == AuditOutcome::kSuccess);
  CHECK(created.changes.find(R"({"field":"title","before":null,"after":"Hello"})") !=
        std::string::npos);
  CHECK(created.changes.find(R"({"field":"secret","hidden":true})") != std::string::npos);
  CHECK(created.changes.find(R"({"field":"phone","personal":true})") != std::string::npos);
  CHECK(created.changes.find("s3cret") == std::string::npos);
  CHECK(created.changes.find("+32") == std::string::npos);
  // The personal values and the client address sit in the erasable parts, hashed in the chain.
  const auto& parts = Last(events).personal;
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].part == AuditPart::kActor);
  CHECK(parts[0].data.find("203.0.113.7") != std::string::npos);
  CHECK(parts[1].part == AuditPart::kTarget);
  CHECK(parts[1].subject == id);
  CHECK(parts[1].data.find("+32 2 1") != std::string::npos);
  CHECK(created.target_personal == testing::Sha256Hex(parts[1].data));

  Caller caller = w.Superuser();
  auto updated = w.records.Update("shop", "posts", id, {Body({{"title", Str("Bye")}}), {}, {}, {}},
                                  caller);
  REQUIRE(updated);
  REQUIRE(w.records.Delete("shop", "posts", id, caller));
  events = w.Events();
  REQUIRE(Actions(events) == std::vector<std::string>{"collection.create", "record.create",
                                                      "record.update", "record.delete"});
  CHECK(events[2].event.changes == R"([{"field":"title","before":"Hello","after":"Bye"}])");
  CHECK(events[3].event.changes.find(R"({"field":"title","before":"Bye","after":null})") !=
        std::string::npos);
  for (std::size_t i = 1; i < events.size(); ++i) {
    CHECK(events[i].event.seq == events[i - 1].event.seq + 1);
    CHECK(events[i].event.prev_hash == events[i - 1].event.hash);
  }
  CHECK(w.Verify().ok);
}

TEST_CASE("audit: cascades and cleared references are recorded with the delete") {
  World w;
  const Collection authors = w.MustCreate(NewCollection("authors", {NewField("name", FieldType::kText)}));
  auto books = NewCollection("books", {NewField("title", FieldType::kText),
                                       NewField("author", FieldType::kRelation)});
  books.fields[1].collection_id = authors.id;
  books.fields[1].cascade_delete = true;
  w.MustCreate(books);
  auto reviews = NewCollection("reviews", {NewField("author", FieldType::kRelation)});
  reviews.fields[0].collection_id = authors.id;
  w.MustCreate(reviews);
  const std::string ann = w.MustInsert("authors", Body({{"name", Str("Ann")}}));
  const std::string book = w.MustInsert("books", Body({{"title", Str("B")}, {"author", Str(ann)}}));
  const std::string review = w.MustInsert("reviews", Body({{"author", Str(ann)}}));

  REQUIRE(w.records.Delete("shop", "authors", ann, w.Superuser()));
  auto events = w.Events();
  std::set<std::pair<std::string, std::string>> tail;
  for (std::size_t i = events.size() - 3; i < events.size(); ++i) {
    tail.emplace(events[i].event.action, events[i].event.target_id);
  }
  CHECK(tail == std::set<std::pair<std::string, std::string>>{
                    {"record.delete", book}, {"record.update", review}, {"record.delete", ann}});
  CHECK(w.Verify().ok);
}

TEST_CASE("audit: a batch's events commit with it, and a failed batch leaves only its failure") {
  World w;
  w.MustCreate(Posts());
  const std::size_t before = w.Events().size();
  std::vector<BatchOperation> ops(2);
  ops[0].collection = "posts";
  ops[0].input.body = Body({{"title", Str("one")}});
  ops[1].collection = "posts";
  ops[1].input.body = Body({{"title", Str("two")}});
  REQUIRE(w.records.Batch("shop", ops, w.Superuser()));
  auto events = w.Events();
  REQUIRE(events.size() == before + 2);
  CHECK(events[before].event.lane == events[before + 1].event.lane);
  CHECK(events[before + 1].event.seq == events[before].event.seq + 1);

  // The second operation fails: the first one's record and event roll back together.
  ops[1].kind = BatchOperation::Kind::kUpdate;
  ops[1].id = "missing00000000";
  auto failed = w.records.Batch("shop", ops, w.Superuser());
  REQUIRE_FALSE(failed);
  events = w.Events();
  REQUIRE(events.size() == before + 3);
  CHECK(events.back().event.action == "record.batch");
  CHECK(events.back().event.outcome == AuditOutcome::kError);
  auto listed = w.records.List("shop", "posts", {}, w.Superuser());
  REQUIRE(listed);
  CHECK(listed->items.size() == 2);
  CHECK(w.Verify().ok);
}

TEST_CASE("audit: refused and failed writes are recorded on their own, changing nothing") {
  World w;
  auto locked = NewCollection("locked", {NewField("title", FieldType::kText)});
  locked.rules.create = std::nullopt;  // superusers only
  w.MustCreate(locked);
  Caller guest;
  guest.origin = {"req-guest", "198.51.100.1", "curl/8", ""};
  REQUIRE_FALSE(w.records.Create("shop", "locked", {Body({{"title", Str("x")}}), {}, {}, {}}, guest));
  const AuditEvent denied = Last(w.Events()).event;
  CHECK(denied.action == "record.create");
  CHECK(denied.outcome == AuditOutcome::kDenied);
  CHECK(denied.actor_kind == AuditActorKind::kGuest);
  CHECK(denied.request_id == "req-guest");
  CHECK(denied.changes == "[]");

  auto bad = w.records.Create("shop", "locked", {Body({{"nope", Str("x")}}), {}, {}, {}},
                              w.Superuser());
  if (!bad) {
    CHECK(Last(w.Events()).event.outcome == AuditOutcome::kError);
  }
  auto listed = w.records.List("shop", "locked", {}, w.Superuser());
  REQUIRE(listed);
  CHECK(listed->items.size() == static_cast<std::size_t>(bad ? 1 : 0));
  CHECK(w.Verify().ok);
}

TEST_CASE("audit: a collection can require a reason for updates and deletes") {
  World w;
  auto trials = NewCollection("trials", {NewField("dose", FieldType::kNumber)});
  trials.audit_reason_required = true;
  w.MustCreate(trials);
  const std::string id = w.MustInsert("trials", Body({{"dose", JsonValue::Integer(5)}}));

  Caller caller = w.Superuser();
  auto refused = w.records.Update("shop", "trials", id,
                                  {Body({{"dose", JsonValue::Integer(6)}}), {}, {}, {}}, caller);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  CHECK(refused.error().message.find("X-Audit-Reason") != std::string::npos);
  CHECK(Last(w.Events()).event.outcome == AuditOutcome::kError);
  REQUIRE_FALSE(w.records.Delete("shop", "trials", id, caller));

  caller.origin.reason = "Protocol amendment 3: dose corrected";
  REQUIRE(w.records.Update("shop", "trials", id,
                           {Body({{"dose", JsonValue::Integer(6)}}), {}, {}, {}}, caller));
  const AuditEvent done = Last(w.Events()).event;
  CHECK(done.action == "record.update");
  CHECK(done.reason == "Protocol amendment 3: dose corrected");
  CHECK(done.changes == R"([{"field":"dose","before":5,"after":6}])");

  caller.origin.reason = std::string(1001, 'x');
  auto too_long = w.records.Delete("shop", "trials", id, caller);
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("audit: reads are recorded for collections that ask for it, and only those") {
  World w;
  auto charts = NewCollection("charts", {NewField("note", FieldType::kText)});
  charts.audit_reads = true;
  w.MustCreate(charts);
  w.MustCreate(Posts());
  const std::string chart = w.MustInsert("charts", Body({{"note", Str("n")}}));
  const std::string post = w.MustInsert("posts", Body({{"title", Str("t")}}));
  const std::size_t before = w.Events().size();

  REQUIRE(w.records.View("shop", "charts", chart, "", w.Superuser()));
  REQUIRE(w.records.List("shop", "charts", {}, w.Superuser()));
  REQUIRE(w.records.View("shop", "posts", post, "", w.Superuser()));
  REQUIRE(w.records.List("shop", "posts", {}, w.Superuser()));
  auto events = w.Events();
  REQUIRE(events.size() == before + 2);
  CHECK(events[before].event.action == "record.read");
  CHECK(events[before].event.target_id == chart);
  CHECK(events[before + 1].event.action == "record.list");
  CHECK(events[before + 1].event.target_kind == "collection");

  Caller guest;
  auto hidden = w.records.View("shop", "charts", "missing00000000", "", guest);
  REQUIRE_FALSE(hidden);
  CHECK(Last(w.Events()).event.action == "record.read");
  CHECK(Last(w.Events()).event.outcome == AuditOutcome::kError);
}

TEST_CASE("audit: schema changes record what a security review needs") {
  World w;
  Collection posts = w.MustCreate(Posts());
  posts.rules.list = "@request.auth.id != ''";
  auto updated = w.collections.Update("shop", "posts", posts, "test", w.context);
  REQUIRE(updated);
  const AuditEvent change = Last(w.Events()).event;
  CHECK(change.action == "collection.update");
  CHECK(change.target_id == posts.id);
  CHECK(change.changes == R"([{"field":"listRule","before":"","after":"@request.auth.id != ''"}])");
  CHECK(change.actor_id == "su0000000000001");
  REQUIRE(w.collections.Delete("shop", "posts", "test", w.context));
  CHECK(Last(w.Events()).event.action == "collection.delete");
  CHECK(w.Verify().ok);
}

TEST_CASE("audit: checkpoints are signed, and a checkpoint from another key is not trusted") {
  World w;
  w.MustCreate(Posts());
  w.MustInsert("posts", Body({{"title", Str("a")}}));
  auto checkpoint = w.log.Checkpoint(false);
  REQUIRE(checkpoint);
  REQUIRE(checkpoint->heads.size() == 1);
  CHECK(checkpoint->heads[0].seq == 2);
  CHECK(checkpoint->public_key == w.signer->PublicKey());
  auto report = w.Verify();
  CHECK(report.ok);
  CHECK(report.checkpoint_problem.empty());
  REQUIRE(report.chains.size() == 1);
  CHECK(report.chains[0].signed_seq == 2);

  // Unchanged heads: no new checkpoint when asked only if something moved.
  auto again = w.log.Checkpoint(true);
  REQUIRE(again);
  CHECK(again->at == checkpoint->at);
  CHECK(again->signature == checkpoint->signature);

  // Pinned to another key: the checkpoint is not the one trusted.
  auto other = testing::AuditSigner(9);
  auto pinned = w.Verify(other->PublicKey());
  CHECK_FALSE(pinned.ok);
  CHECK(pinned.checkpoint_problem.find("another key") != std::string::npos);

  // A forged checkpoint (content changed after signing) fails its signature.
  domain::AuditCheckpoint forged = *checkpoint;
  forged.heads[0].seq = 1;
  REQUIRE(w.checkpoints.Append(forged));
  auto broken = w.Verify();
  CHECK_FALSE(broken.ok);
  CHECK(broken.checkpoint_problem.find("signature") != std::string::npos);
}

TEST_CASE("audit: search pages newest first across an organisation's projects, with filters") {
  World w;
  REQUIRE(w.projects.Create({"blog", "acme", std::nullopt}));
  w.MustCreate(Posts());
  REQUIRE(w.collections.Create("blog", Posts(), "test", w.context));
  std::set<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    w.clock.Advance(1000);
    const bool blog = i % 2 == 1;
    auto created = w.records.Create(blog ? "blog" : "shop", "posts",
                                    {Body({{"title", Str("p" + std::to_string(i))}}), {}, {}, {}},
                                    w.Superuser());
    REQUIRE(created);
    expected.insert(created->record.record.Id(*created->record.collection));
  }
  auto org = w.catalogue.GetOrganisation(*Slug::Parse("acme"));
  REQUIRE(org);
  AuditQuery query;
  query.action = "record.create";
  query.limit = 3;
  std::vector<std::string> seen;
  std::string cursor;
  std::vector<Timestamp> times;
  do {
    auto page = w.log.Search(org->id, nullptr, query, cursor);
    REQUIRE(page);
    CHECK(page->items.size() <= 3);
    for (const auto& item : page->items) {
      seen.push_back(item.event.target_id);
      times.push_back(item.event.at);
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  CHECK(seen.size() == 7);
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == expected);
  CHECK(std::is_sorted(times.rbegin(), times.rend()));

  auto malformed = w.log.Search(org->id, nullptr, query, "not-a-cursor");
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("audit: erasing a data subject removes their personal values and keeps the chain valid") {
  World w;
  auto people = NewCollection("people", {NewField("name", FieldType::kText),
                                         NewField("phone", FieldType::kText)});
  people.fields[1].pii = "digits";
  const Collection collection = w.MustCreate(people);
  const std::string ann = w.MustInsert("people", Body({{"name", Str("Ann")}, {"phone", Str("+32 2 555 0101")}}));
  const std::string bob = w.MustInsert("people", Body({{"name", Str("Bob")}, {"phone", Str("+32 2 555 0202")}}));
  REQUIRE(w.records.Update("shop", "people", ann, {Body({{"phone", Str("+32 2 555 0199")}}), {}, {}, {}},
                           w.Superuser()));
  REQUIRE(w.log.Checkpoint(false));

  auto exported = w.subjects.Export("shop", "people", ann);
  REQUIRE(exported);
  REQUIRE_FALSE(exported->records.empty());
  CHECK(exported->records[0].record.Id(collection) == ann);
  CHECK(exported->events.size() >= 2);

  auto erased = w.subjects.Erase("shop", "people", ann, application::ErasureMode::kDelete, w.context);
  REQUIRE(erased);
  CHECK(erased->record_deleted);
  CHECK(erased->personal_parts >= 3);  // create and update targets, the delete's target

  // Gone from the records and from every personal part; Bob's stay.
  auto all = w.Events();
  for (const auto& stored : all) {
    for (const auto& part : stored.personal) {
      CHECK(part.data.find("555 0101") == std::string::npos);
      CHECK(part.data.find("555 0199") == std::string::npos);
      CHECK(part.subject != ann);
    }
    CHECK(stored.event.changes.find("555") == std::string::npos);
  }
  bool bob_kept = false;
  for (const auto& stored : all) {
    for (const auto& part : stored.personal) bob_kept = bob_kept || part.data.find("555 0202") != std::string::npos;
  }
  CHECK(bob_kept);
  auto gone = w.records.View("shop", "people", ann, "", w.Superuser());
  REQUIRE_FALSE(gone);
  CHECK(Last(all).event.action == "subject.erase");

  // The chain still verifies, against the checkpoint signed before the erasure too.
  auto report = w.Verify();
  CHECK(report.ok);
  // Erasing again completes nothing new and fails nothing.
  auto again = w.subjects.Erase("shop", "people", ann, application::ErasureMode::kDelete, w.context);
  REQUIRE(again);
  CHECK_FALSE(again->record_deleted);
  CHECK(again->personal_parts == 0);
}

TEST_CASE("audit: pseudonymising keeps the record and blanks its personal fields") {
  World w;
  auto people = NewCollection("people", {NewField("name", FieldType::kText),
                                         NewField("phone", FieldType::kText)});
  people.fields[1].pii = "digits";
  const Collection collection = w.MustCreate(people);
  const std::string ann = w.MustInsert("people", Body({{"name", Str("Ann")}, {"phone", Str("+32 2 555 0101")}}));
  auto erased =
      w.subjects.Erase("shop", "people", ann, application::ErasureMode::kPseudonymise, w.context);
  REQUIRE(erased);
  CHECK(erased->record_pseudonymised);
  auto kept = w.records.View("shop", "people", ann, "", w.Superuser());
  REQUIRE(kept);
  CHECK(*kept->record.record.Get(collection, "phone") == Str(""));
  CHECK(*kept->record.record.Get(collection, "name") == Str("Ann"));
  for (const auto& stored : w.Events()) {
    for (const auto& part : stored.personal) CHECK(part.data.find("555") == std::string::npos);
  }
  CHECK(w.Verify().ok);

  auto bad = w.subjects.Erase("shop", "people", "../etc", application::ErasureMode::kDelete, w.context);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  application::AuditContext wordy = w.context;
  wordy.origin.reason = std::string(1001, 'r');
  auto too_long = w.subjects.Erase("shop", "people", ann, application::ErasureMode::kDelete, wordy);
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().code == ErrorCode::kInvalidArgument);
  CHECK(w.records.View("shop", "people", ann, "", w.Superuser()));  // nothing erased
}

TEST_CASE("audit: a purge followed by a fresh checkpoint leaves nothing expected of the purged "
          "project",
          "[audit]") {
  World w;
  REQUIRE(w.projects.Create({"blog", "acme", std::nullopt}));
  w.MustCreate(Posts());
  REQUIRE(w.collections.Create("blog", Posts(), "test", w.context));
  REQUIRE(w.log.Checkpoint(false));
  auto blog = w.directory.Find("blog");
  REQUIRE(blog);
  const Project purged = blog->project;
  REQUIRE(w.catalogue.ScheduleProjectDeletion(purged.id, w.clock.Now()));
  application::PurgeDeleted deletion(w.catalogue, &w.directory, nullptr, std::chrono::seconds(0));

  SECTION("without a new checkpoint, the purged chains are reported missing") {
    REQUIRE(deletion.PurgeProject(purged));
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    bool reported = false;
    for (const auto& chain : report.chains) {
      reported = reported || (chain.project_id == purged.id.str() &&
                              chain.broken == AuditBreak::kTruncated);
    }
    CHECK(reported);
  }
  SECTION("the purge's hook signs a checkpoint without them") {
    int hooked = 0;
    deletion.AfterPurge([&] {
      ++hooked;
      REQUIRE(w.log.Checkpoint(true));
    });
    REQUIRE(deletion.PurgeProject(purged));
    CHECK(hooked == 1);
    const auto report = w.Verify();
    CHECK(report.ok);
    REQUIRE(report.checkpoint);
    for (const auto& head : report.checkpoint->heads) CHECK(head.project_id != purged.id.str());
  }
}
