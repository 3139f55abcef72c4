#include <catch2/catch.hpp>

#include <set>

#include "socle/application/new_id.hpp"
#include "support/test_ports.hpp"

using namespace socle;

TEST_CASE("NewId draws well-formed, distinct ids", "[application][id]") {
  testing::SeededRandomSource random(7);
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    auto id = application::NewId(random);
    REQUIRE(domain::Id::Parse(id.str()));
    seen.insert(id.str());
  }
  CHECK(seen.size() == 2000);
}

TEST_CASE("NewId is deterministic for a seeded source", "[application][id]") {
  testing::SeededRandomSource a(99);
  testing::SeededRandomSource b(99);
  CHECK(application::NewId(a) == application::NewId(b));
}

namespace {
// Hands out only bytes that must be rejected for a while, then acceptable ones: NewId must
// refill its buffer rather than read past it.
class StubbornSource final : public application::RandomSource {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    ++fills;
    for (auto& b : out) b = fills < 3 ? 255 : 1;
  }
  int fills = 0;
};
}  // namespace

TEST_CASE("NewId refills when bytes are rejected", "[application][id]") {
  StubbornSource source;
  auto id = application::NewId(source);
  CHECK(id.str() == std::string(15, 'b'));
  CHECK(source.fills == 3);
}
