#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/domain/audit.hpp"
#include "socle/domain/collection.hpp"

namespace {

using socle::domain::AuditActorKind;
using socle::domain::AuditBreak;
using socle::domain::AuditChainVerifier;
using socle::domain::AuditCheckpointHead;
using socle::domain::AuditEvent;
using socle::domain::AuditHead;
using socle::domain::AuditOutcome;
using socle::domain::AuditPart;
using socle::domain::AuditPersonal;
using socle::domain::Collection;
using socle::domain::Field;
using socle::domain::FieldType;
using socle::domain::JsonValue;
using socle::domain::Record;
using socle::domain::Timestamp;

std::string Sha(std::string_view bytes) {
  return socle::adapters::crypto::ToHex(socle::adapters::crypto::Sha256(bytes));
}

AuditEvent Draft(int n) {
  AuditEvent event;
  event.at = Timestamp::FromUnixMicros(1'700'000'000'000'000 + n);
  event.org_id = "org000000000001";
  event.project_id = "prj000000000001";
  event.actor_kind = AuditActorKind::kAppUser;
  event.actor_id = "usr00000000000" + std::to_string(n % 10);
  event.action = "record.update";
  event.target_kind = "record";
  event.target_collection = "pbc_1";
  event.target_id = "rec" + std::to_string(n);
  event.request_id = "req-" + std::to_string(n);
  event.changes = R"([{"field":"title","before":"a","after":"b"}])";
  return event;
}

// A chain of `count` sealed events on `lane`.
std::vector<AuditEvent> Chain(int count, std::int64_t lane = 0) {
  std::vector<AuditEvent> chain;
  AuditHead head;
  head.lane = lane;
  for (int i = 0; i < count; ++i) {
    chain.push_back(socle::domain::SealAuditEvent(Draft(i), head, Sha));
    head.seq = chain.back().seq;
    head.hash = chain.back().hash;
  }
  return chain;
}

struct Verdict {
  std::optional<AuditBreak> broken;
  std::int64_t at = 0;
  std::string detail;
};

Verdict Verify(const std::vector<AuditEvent>& events,
               std::optional<AuditCheckpointHead> signed_head = std::nullopt) {
  AuditChainVerifier verifier(0, Sha, std::move(signed_head));
  for (const auto& event : events) {
    if (!verifier.Next(event)) break;
  }
  Verdict verdict;
  verdict.broken = verifier.Finish();
  verdict.at = verifier.broken_at();
  verdict.detail = verifier.detail();
  return verdict;
}

AuditCheckpointHead SignedAt(const AuditEvent& event) {
  return AuditCheckpointHead{event.org_id, event.project_id, event.lane, event.seq, event.hash};
}

}  // namespace

TEST_CASE("audit: the canonical form is the one docs/audit.md specifies, byte for byte") {
  AuditEvent event;
  event.lane = 3;
  event.seq = 42;
  event.at = Timestamp::FromUnixMicros(1'700'000'000'123'456);
  event.org_id = "o1";
  event.project_id = "p1";
  event.actor_kind = AuditActorKind::kMember;
  event.actor_id = "m1";
  event.action = "record.delete";
  event.target_kind = "record";
  event.target_collection = "pbc_9";
  event.target_id = "r1";
  event.outcome = AuditOutcome::kDenied;
  event.request_id = "abc";
  event.reason = "line\nbreak \"quoted\" \\ tab\t\x01 caf\xc3\xa9 \x7f";
  event.changes = "[]";
  event.actor_personal = "aa";
  event.target_personal = "";
  event.prev_hash = std::string(socle::domain::kAuditGenesis);
  const std::string expected =
      R"({"v":1,"lane":3,"seq":42,"at":"2023-11-14T22:13:20.123456Z","org":"o1","project":"p1",)"
      R"("actor":{"kind":"member","id":"m1"},"action":"record.delete",)"
      R"("target":{"kind":"record","collection":"pbc_9","id":"r1"},"outcome":"denied",)"
      R"("requestId":"abc","reason":"line\nbreak \"quoted\" \\ tab\t\u0001 café \u007f",)"
      R"("changes":[],"actorPersonal":"aa","targetPersonal":"",)"
      R"("prev":"0000000000000000000000000000000000000000000000000000000000000000"})";
  CHECK(socle::domain::CanonicalAuditEvent(event) == expected);
  // The hash an auditor gets from the same bytes with any SHA-256 tool (here Python's
  // hashlib.sha256(canonical.encode()).hexdigest()).
  CHECK(Sha(expected) == "2a9c710295006dad23a16bb0ccc17029dc227be0d2a078d11cb03b5e21ac4695");
}

TEST_CASE("audit: canonical JSON sorts members and writes numbers exactly") {
  std::string out;
  socle::domain::AppendCanonicalJson(
      out, JsonValue::Object({{"b", JsonValue::Integer(-7)},
                              {"a", JsonValue::Array({JsonValue::Number(0.1), JsonValue::Null(),
                                                      JsonValue::Bool(true)})},
                              {"B", JsonValue::Number(1e21)},
                              {"é", JsonValue::String("x")}}));
  CHECK(out == R"({"B":1e+21,"a":[0.1,null,true],"b":-7,"é":"x"})");
}

TEST_CASE("audit: sealing links each event to the previous one") {
  const auto chain = Chain(3, 5);
  CHECK(chain[0].seq == 1);
  CHECK(chain[0].lane == 5);
  CHECK(chain[0].prev_hash == socle::domain::kAuditGenesis);
  CHECK(chain[1].prev_hash == chain[0].hash);
  CHECK(chain[2].prev_hash == chain[1].hash);
  CHECK(chain[2].hash == Sha(socle::domain::CanonicalAuditEvent(chain[2])));
  CHECK(chain[1].hash != chain[2].hash);
}

TEST_CASE("audit: a record diff masks hidden values and sets personal ones aside") {
  Collection users;
  users.id = "pbc_u";
  users.fields = socle::domain::SystemFields();
  Field name;
  name.name = "name";
  name.type = FieldType::kText;
  Field phone;
  phone.name = "phone";
  phone.type = FieldType::kText;
  phone.pii = "digits";
  Field secret;
  secret.name = "secret";
  secret.type = FieldType::kText;
  secret.hidden = true;
  Field password;
  password.name = "password";
  password.type = FieldType::kPassword;
  users.fields.push_back(name);
  users.fields.push_back(phone);
  users.fields.push_back(secret);
  users.fields.push_back(password);
  Record before = socle::domain::EmptyRecord(users);
  before.values[0] = JsonValue::String("abc");
  before.values[1] = JsonValue::String("2024-01-01 00:00:00.000Z");  // created
  before.values[3] = JsonValue::String("Ann");
  before.values[4] = JsonValue::String("+32 2 123");
  before.values[5] = JsonValue::String("s1");
  before.values[6] = JsonValue::String("$argon2id$old");
  Record after = before;
  after.values[2] = JsonValue::String("2024-02-02 00:00:00.000Z");  // updated: left out
  after.values[4] = JsonValue::String("+32 2 456");
  after.values[5] = JsonValue::String("s2");
  after.values[6] = JsonValue::String("$argon2id$new");

  SECTION("update") {
    const auto diff = socle::domain::DiffForAudit(users, &before, &after);
    CHECK(diff.changes ==
          R"([{"field":"phone","personal":true},{"field":"secret","hidden":true},)"
          R"({"field":"password","hidden":true}])");
    CHECK(diff.changes.find("s2") == std::string::npos);
    CHECK(diff.changes.find("argon2") == std::string::npos);
    REQUIRE(diff.personal.size() == 1);
    CHECK(diff.personal[0].first == "phone");
    CHECK(*diff.personal[0].second.Find("before") == JsonValue::String("+32 2 123"));
    CHECK(*diff.personal[0].second.Find("after") == JsonValue::String("+32 2 456"));
  }
  SECTION("create lists the values set") {
    const auto diff = socle::domain::DiffForAudit(users, nullptr, &before);
    CHECK(diff.changes.starts_with(
        R"([{"field":"id","before":null,"after":"abc"},{"field":"name","before":null,"after":"Ann"},)"));
    CHECK(diff.changes.find("created") == std::string::npos);
  }
  SECTION("delete lists the values gone") {
    const auto diff = socle::domain::DiffForAudit(users, &before, nullptr);
    CHECK(diff.changes.find(R"({"field":"name","before":"Ann","after":null})") != std::string::npos);
    CHECK(diff.changes.find("s1") == std::string::npos);
  }
  SECTION("no change, no entry") {
    CHECK(socle::domain::DiffForAudit(users, &before, &before).changes == "[]");
  }
}

TEST_CASE("audit: an intact chain verifies, up to and past its checkpoint") {
  const auto chain = Chain(10);
  CHECK_FALSE(Verify(chain).broken);
  CHECK_FALSE(Verify(chain, SignedAt(chain[6])).broken);
  CHECK_FALSE(Verify(chain, SignedAt(chain[9])).broken);
  CHECK_FALSE(Verify({}).broken);
}

TEST_CASE("audit: every kind of tampering is caught at the first broken link") {
  auto chain = Chain(10);

  SECTION("an edited diff") {
    chain[4].changes = R"([{"field":"title","before":"a","after":"c"}])";
    const auto verdict = Verify(chain);
    CHECK(verdict.broken == AuditBreak::kEdited);
    CHECK(verdict.at == 5);
  }
  SECTION("an edited outcome") {
    chain[2].outcome = AuditOutcome::kSuccess == chain[2].outcome ? AuditOutcome::kDenied
                                                                   : AuditOutcome::kSuccess;
    CHECK(Verify(chain).broken == AuditBreak::kEdited);
  }
  SECTION("an edit whose hash was recomputed breaks the next link") {
    chain[4].reason = "covered up";
    chain[4].hash = Sha(socle::domain::CanonicalAuditEvent(chain[4]));
    const auto verdict = Verify(chain);
    CHECK(verdict.broken == AuditBreak::kInserted);
    CHECK(verdict.at == 6);
  }
  SECTION("a deleted event") {
    chain.erase(chain.begin() + 3);
    const auto verdict = Verify(chain);
    CHECK(verdict.broken == AuditBreak::kDeleted);
    CHECK(verdict.at == 4);
  }
  SECTION("a deleted event with the rest renumbered") {
    chain.erase(chain.begin() + 3);
    for (std::size_t i = 3; i < chain.size(); ++i) chain[i].seq -= 1;
    const auto verdict = Verify(chain);
    CHECK(verdict.broken == AuditBreak::kDeleted);
    CHECK(verdict.at == 4);
  }
  SECTION("two events swapped") {
    std::swap(chain[5], chain[6]);
    std::swap(chain[5].seq, chain[6].seq);  // each takes the other's place in the sequence
    const auto verdict = Verify(chain);
    CHECK(verdict.broken == AuditBreak::kReordered);
    CHECK(verdict.at == 6);
  }
  SECTION("an event inserted, the rest renumbered") {
    AuditEvent forged = Draft(99);
    forged.lane = 0;
    forged.seq = 4;
    forged.prev_hash = chain[2].hash;
    forged.hash = Sha(socle::domain::CanonicalAuditEvent(forged));
    chain.insert(chain.begin() + 3, forged);
    for (std::size_t i = 4; i < chain.size(); ++i) chain[i].seq += 1;
    const auto verdict = Verify(chain);
    CHECK(verdict.broken == AuditBreak::kInserted);
    CHECK(verdict.at == 5);
  }
  SECTION("the tail truncated behind a checkpoint") {
    const auto signed_head = SignedAt(chain[8]);
    chain.resize(6);
    const auto verdict = Verify(chain, signed_head);
    CHECK(verdict.broken == AuditBreak::kTruncated);
    CHECK(verdict.at == 7);
  }
  SECTION("a chain emptied behind a checkpoint") {
    const auto signed_head = SignedAt(chain[0]);
    CHECK(Verify({}, signed_head).broken == AuditBreak::kTruncated);
  }
  SECTION("the whole chain rebuilt with valid hashes is caught by the checkpoint") {
    const auto signed_head = SignedAt(chain[7]);
    std::vector<AuditEvent> rebuilt;
    AuditHead head;
    for (int i = 0; i < 10; ++i) {
      AuditEvent event = Draft(i);
      if (i == 2) event.reason = "rewritten history";
      rebuilt.push_back(socle::domain::SealAuditEvent(event, head, Sha));
      head.seq = rebuilt.back().seq;
      head.hash = rebuilt.back().hash;
    }
    const auto verdict = Verify(rebuilt, signed_head);
    CHECK(verdict.broken == AuditBreak::kRewritten);
    CHECK(verdict.at == 8);
  }
}

TEST_CASE("audit: personal parts are checked against their hash, and may be gone") {
  AuditEvent event = Draft(1);
  AuditPersonal part;
  part.part = AuditPart::kTarget;
  part.subject = "rec1";
  part.data = socle::domain::CanonicalPersonal(
      "00112233445566778899aabbccddeeff", {{"phone", JsonValue::String("+32 2 123")}});
  CHECK(part.data == R"({"phone":"+32 2 123","salt":"00112233445566778899aabbccddeeff"})");
  event.target_personal = Sha(part.data);
  const AuditEvent sealed = socle::domain::SealAuditEvent(event, AuditHead{}, Sha);

  AuditChainVerifier verifier(0, Sha, std::nullopt);
  REQUIRE(verifier.Next(sealed));
  CHECK(verifier.Personal(sealed, part));
  part.data = R"({"phone":"+32 2 999","salt":"00112233445566778899aabbccddeeff"})";
  CHECK_FALSE(verifier.Personal(sealed, part));
  CHECK(verifier.Finish() == AuditBreak::kPersonal);

  // An erased part is simply absent: the chain itself still verifies.
  AuditChainVerifier erased(0, Sha, std::nullopt);
  CHECK(erased.Next(sealed));
  CHECK_FALSE(erased.Finish());
}

TEST_CASE("audit: names of kinds and outcomes read back") {
  for (auto kind : {AuditActorKind::kMember, AuditActorKind::kAppUser, AuditActorKind::kSuperuser,
                    AuditActorKind::kApiKey, AuditActorKind::kGuest, AuditActorKind::kSystem}) {
    CHECK(socle::domain::ParseAuditActorKind(socle::domain::ToString(kind)) == kind);
  }
  for (auto outcome : {AuditOutcome::kSuccess, AuditOutcome::kDenied, AuditOutcome::kError}) {
    CHECK(socle::domain::ParseAuditOutcome(socle::domain::ToString(outcome)) == outcome);
  }
  CHECK_FALSE(socle::domain::ParseAuditActorKind("root"));
  CHECK_FALSE(socle::domain::ParseAuditOutcome(""));
}
