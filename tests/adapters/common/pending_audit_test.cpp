// RunAudited and PendingAuditFor on their own, with a stand-in write helper: what every store
// whose writes take the pending audit (SQLite, PostgreSQL) relies on.
#include "socle/adapters/pending_audit.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <thread>

using socle::adapters::PendingAudit;
using socle::adapters::PendingAuditFor;
using socle::adapters::RunAudited;
using socle::application::AuditAppender;
using socle::application::AuditWrite;
using socle::domain::Error;
using socle::domain::ErrorCode;
using socle::domain::Fail;
using socle::domain::Result;

namespace {

const int kStore = 0;
const int kOtherStore = 1;

// What a store's write helper does: takes the pending audit, "writes", and runs the audit
// before its commit, recording the audit's failure.
Result<void> Write(const void* store, bool audit_fails = false) {
  auto found = PendingAuditFor(store);
  if (!found) return Fail(found.error());
  PendingAudit* pending = *found;
  if (pending == nullptr) return {};
  pending->taken = true;
  if (audit_fails) {
    pending->failed = Error::Internal("the audit failed");
    return Fail(Error::Internal("reworded by the method"));
  }
  return {};
}

const AuditWrite kAudit = [](AuditAppender&) -> Result<void> { return {}; };

}  // namespace

TEST_CASE("pending audit: taken by the store's one write, else recorded on its own",
          "[audit][pending]") {
  int records = 0;
  auto record = [&]() -> Result<void> {
    ++records;
    return {};
  };
  SECTION("a change that writes once takes it; nothing is recorded apart") {
    REQUIRE(RunAudited(&kStore, "org", kAudit, [] { return Write(&kStore); }, record));
    CHECK(records == 0);
  }
  SECTION("a change that writes nothing: the attempt is recorded") {
    REQUIRE(RunAudited(&kStore, "org", kAudit, [] { return Result<void>(); }, record));
    CHECK(records == 1);
  }
  SECTION("another store's write does not take it") {
    REQUIRE(RunAudited(&kStore, "org", kAudit, [] { return Write(&kOtherStore); }, record));
    CHECK(records == 1);
  }
  SECTION("a second write is refused: it would commit unaudited") {
    auto twice = RunAudited(
        &kStore, "org", kAudit,
        [] {
          if (auto first = Write(&kStore); !first) return first;
          return Write(&kStore);
        },
        record);
    REQUIRE_FALSE(twice);
    CHECK(twice.error().internal == "an audited change wrote more than once");
    CHECK(records == 0);
  }
  SECTION("the audit's own failure is the answer, whatever the change made of it") {
    auto failed = RunAudited(&kStore, "org", kAudit, [] { return Write(&kStore, true); }, record);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().internal == "the audit failed");
    CHECK(records == 0);
  }
  SECTION("a change's own failure is returned and nothing is recorded") {
    auto failed = RunAudited(
        &kStore, "org", kAudit,
        [] { return Result<void>(Fail(ErrorCode::kNotFound, "No such thing.")); }, record);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == ErrorCode::kNotFound);
    CHECK(records == 0);
  }
}

TEST_CASE("pending audit: refused nested, missing parts, and outside a change",
          "[audit][pending]") {
  auto record = []() -> Result<void> { return {}; };
  auto nested = RunAudited(
      &kStore, "org", kAudit,
      [&] { return RunAudited(&kStore, "org", kAudit, [] { return Result<void>(); }, record); },
      record);
  REQUIRE_FALSE(nested);
  CHECK(nested.error().internal == "Audited calls cannot be nested");
  CHECK_FALSE(RunAudited(&kStore, "org", AuditWrite(), [] { return Result<void>(); }, record));
  CHECK_FALSE(RunAudited(&kStore, "org", kAudit, {}, record));
  // Outside RunAudited, and after it, a write finds nothing pending.
  auto none = PendingAuditFor(&kStore);
  REQUIRE(none);
  CHECK(*none == nullptr);
  // Each thread has its own: a change running on one thread is not another thread's.
  REQUIRE(RunAudited(&kStore, "org", kAudit,
                     [] {
                       Result<PendingAudit*> elsewhere = nullptr;
                       std::thread([&] { elsewhere = PendingAuditFor(&kStore); }).join();
                       if (!elsewhere || *elsewhere != nullptr) {
                         return Result<void>(Fail(Error::Internal("seen from another thread")));
                       }
                       return Write(&kStore);
                     },
                     record));
}
