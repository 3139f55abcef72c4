#include <catch2/catch.hpp>

#include "socle/domain/timestamp.hpp"

using socle::domain::Timestamp;

TEST_CASE("Timestamp formats in PocketBase and RFC 3339 shapes", "[domain][timestamp]") {
  auto t = Timestamp::FromUnixMicros(1'714'555'800'123'456);  // 2024-05-01 09:30:00.123456 UTC
  CHECK(t.ToApiString() == "2024-05-01 09:30:00.123Z");
  CHECK(t.ToIso8601() == "2024-05-01T09:30:00.123456Z");
  CHECK(Timestamp::FromUnixMicros(0).ToApiString() == "1970-01-01 00:00:00.000Z");
  // before the epoch
  CHECK(Timestamp::FromUnixMicros(-1).ToIso8601() == "1969-12-31T23:59:59.999999Z");
}

TEST_CASE("Timestamp parses both shapes and round-trips", "[domain][timestamp]") {
  auto t = Timestamp::FromUnixMicros(1'714'555'800'123'456);
  CHECK(Timestamp::Parse(t.ToIso8601()).value() == t);
  CHECK(Timestamp::Parse("2024-05-01 09:30:00.123Z")->unix_micros() == 1'714'555'800'123'000);
  CHECK(Timestamp::Parse("2024-05-01T09:30:00Z")->unix_micros() == 1'714'555'800'000'000);
  CHECK(Timestamp::Parse("2024-02-29 00:00:00Z"));  // leap day
  CHECK(Timestamp::Parse("2024-05-01 09:30:00.123456789Z")->unix_micros() == 1'714'555'800'123'456);
}

TEST_CASE("Timestamp rejects malformed or impossible dates", "[domain][timestamp]") {
  for (const char* bad : {"", "2024-05-01", "2024-05-01 09:30:00", "2024-05-01 09:30:00+02:00",
                          "2023-02-29 00:00:00Z", "2024-13-01 00:00:00Z", "2024-05-01 24:00:00Z",
                          "2024-05-01 09:60:00Z", "2024-05-01 09:30:00.Z", "2024/05/01 09:30:00Z",
                          "2024-05-01 09:30:00.1234567890Z", "2024-05-01 09:30:00Zjunk"}) {
    INFO(bad);
    CHECK_FALSE(Timestamp::Parse(bad));
  }
}
