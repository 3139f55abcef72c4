#include "socle/application/manage_settings.hpp"

#include <catch2/catch.hpp>

#include <atomic>

#include "application/data_world.hpp"

using namespace socle;
using namespace socle::domain;
using application::BatchOperation;
using application::Caller;
using application::ManageRecords;
using application::ManageSettings;
using testing::Body;
using testing::DataWorld;
using testing::NewCollection;
using testing::NewField;
using testing::Str;

namespace {

// A clock that moves on by `step` every time it is read, so that a batch sees time pass
// between its operations.
class SteppingClock final : public application::Clock {
 public:
  explicit SteppingClock(std::int64_t step_micros) : step_(step_micros) {}
  Timestamp Now() override { return Timestamp::FromUnixMicros(now_ += step_); }

 private:
  std::int64_t step_;
  std::atomic<std::int64_t> now_{1'700'000'000'000'000};
};

// The data world with settings wired into the records use case, as the composition roots do.
struct SettingsWorld : DataWorld {
  SettingsWorld() { MustCreate(NewCollection("notes", {NewField("text", FieldType::kText)})); }

  std::vector<BatchOperation> Creates(std::size_t count) {
    std::vector<BatchOperation> operations;
    for (std::size_t i = 0; i < count; ++i) {
      BatchOperation op;
      op.kind = BatchOperation::Kind::kCreate;
      op.collection = "notes";
      op.input.body = Body({{"text", Str("n" + std::to_string(i))}});
      operations.push_back(std::move(op));
    }
    return operations;
  }
  std::int64_t Notes() {
    application::ListRecordsInput input;
    Caller superuser;
    superuser.superuser = true;
    return records.List("shop", "notes", input, superuser)->total_items;
  }
  void Store(ProjectSettings changed) { REQUIRE(settings.Update("shop", std::move(changed))); }

  static application::RecordLimits Limits() {
    application::RecordLimits limits;
    limits.max_batch_requests = 4;
    return limits;
  }

  ManageSettings settings{directory, catalogue, clock};
  application::RecordLimits limits = Limits();
  ManageRecords batches{directory, clock, random, limits, &settings};
};

}  // namespace

TEST_CASE("settings: the defaults until changed, then what was stored",
          "[application][settings]") {
  SettingsWorld w;
  auto initial = w.settings.Get("shop");
  REQUIRE(initial);
  CHECK(*initial == ProjectSettings{});

  ProjectSettings changed;
  changed.meta.app_name = "Shop";
  changed.batch.max_requests = 10;
  auto updated = w.settings.Update("shop", changed);
  REQUIRE(updated);
  CHECK(*updated == changed);
  CHECK(w.settings.Get("shop").value() == changed);

  CHECK(w.settings.Get("nope").error().code == ErrorCode::kNotFound);
  CHECK(w.settings.Update("nope", changed).error().code == ErrorCode::kNotFound);
}

TEST_CASE("settings: an update is validated whole and refused whole",
          "[application][settings]") {
  SettingsWorld w;
  ProjectSettings bad;
  bad.meta.app_name = "";
  bad.batch.timeout = -1;
  auto refused = w.settings.Update("shop", bad);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  REQUIRE(refused.error().fields.size() == 2);
  CHECK(refused.error().fields[0].field == "meta.appName");
  CHECK(refused.error().fields[1].field == "batch.timeout");
  CHECK(w.settings.Get("shop").value() == ProjectSettings{});  // nothing stored
}

TEST_CASE("settings: batches follow the project's batch settings", "[application][settings]") {
  SettingsWorld w;
  Caller guest;

  SECTION("enabled by default, bounded by maxRequests") {
    CHECK(w.batches.Batch("shop", w.Creates(5), guest));  // 5 ≤ 50: the setting, not limits
    ProjectSettings s;
    s.batch.max_requests = 2;
    w.Store(s);
    auto refused = w.batches.Batch("shop", w.Creates(3), guest);
    REQUIRE_FALSE(refused);
    CHECK_FALSE(refused.error().index);
    CHECK(refused.error().error.fields.at(0).field == "requests");
    CHECK(w.batches.Batch("shop", w.Creates(2), guest));
    CHECK(w.Notes() == 7);
  }
  SECTION("disabled: refused as a whole, before anything else") {
    ProjectSettings s;
    s.batch.enabled = false;
    w.Store(s);
    auto refused = w.batches.Batch("shop", w.Creates(1), guest);
    REQUIRE_FALSE(refused);
    CHECK_FALSE(refused.error().index);
    CHECK(refused.error().error.code == ErrorCode::kPermissionDenied);
    CHECK(refused.error().error.message == "Batch requests are not allowed.");
    CHECK(w.batches.Batch("shop", {}, guest).error().error.code ==
          ErrorCode::kPermissionDenied);
    CHECK(w.Notes() == 0);
  }
  SECTION("a stored maxRequests of 0 falls back to the use case's own limit") {
    // Validation never stores 0 for an enabled batch; a row written otherwise still works.
    ProjectSettings s;
    s.batch.max_requests = 0;
    REQUIRE(w.catalogue.PutProjectSettings(w.directory.Find("shop")->project.id, s,
                                           Timestamp::FromUnixMicros(1)));
    CHECK(w.batches.Batch("shop", w.Creates(4), guest));
    CHECK_FALSE(w.batches.Batch("shop", w.Creates(5), guest));
  }
  SECTION("without settings wired, the defaults and the use case's limit apply") {
    ManageRecords plain(w.directory, w.clock, w.random, w.limits);
    ProjectSettings s;
    s.batch.enabled = false;
    w.Store(s);  // not consulted
    CHECK(plain.Batch("shop", w.Creates(4), guest));
    CHECK_FALSE(plain.Batch("shop", w.Creates(5), guest));
  }
  SECTION("an unknown project is not_found") {
    auto refused = w.batches.Batch("nope", w.Creates(1), guest);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().error.code == ErrorCode::kNotFound);
  }
}

TEST_CASE("settings: a batch that outlives its timeout is rolled back",
          "[application][settings]") {
  SettingsWorld w;
  Caller guest;
  SteppingClock slow(2'000'000);  // every reading of the clock costs two seconds
  ManageRecords batches(w.directory, slow, w.random, w.limits, &w.settings);

  auto timed_out = batches.Batch("shop", w.Creates(2), guest);  // timeout: 3 s by default
  REQUIRE_FALSE(timed_out);
  CHECK_FALSE(timed_out.error().index);
  CHECK(timed_out.error().error.code == ErrorCode::kDeadlineExceeded);
  CHECK(w.Notes() == 0);

  ProjectSettings s;
  s.batch.timeout = 60;
  w.Store(s);
  CHECK(batches.Batch("shop", w.Creates(2), guest));
  CHECK(w.Notes() == 2);
}
