// Embeds Socle's use cases with the in-memory store and the caller's own clock and randomness.
#include <chrono>
#include <cstdio>
#include <random>

#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"

namespace {

class StdClock final : public socle::application::Clock {
 public:
  socle::domain::Timestamp Now() override {
    auto now = std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
    return socle::domain::Timestamp::FromUnixMicros(now.time_since_epoch().count());
  }
};

class StdRandom final : public socle::application::RandomSource {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = static_cast<std::uint8_t>(engine_() & 0xFF);
  }

 private:
  std::mt19937_64 engine_{std::random_device{}()};
};

}  // namespace

int main() {
  socle::adapters::memory::MemoryCatalogueStore store;
  StdClock clock;
  StdRandom random;
  socle::application::ManageOrganisations orgs(store, clock, random);
  socle::application::ManageProjects projects(store, clock, random);
  auto org = orgs.Create({"acme", std::string("Acme"), std::nullopt, std::nullopt});
  if (!org) return 1;
  if (!projects.Create({"shop", "acme", std::nullopt})) return 1;
  auto list = projects.List(std::string("acme"), socle::domain::PageRequest{});
  if (!list) return 1;
  std::printf("created %s with %lld project\n", org->slug.str().c_str(),
              static_cast<long long>(list->total_items));
  return 0;
}
