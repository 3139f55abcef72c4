// What the audit trail costs a durable write: N threads create records through ManageRecords
// (the use case the data API calls) over a real store for a fixed time, with the audit trail
// wired as socle-server wires it and without it, and report creates per second and latency
// percentiles of each. No HTTP: the figure is the store and the use case's alone.
//
//   audit_write_bench sqlite DIR [threads] [seconds]
//   audit_write_bench postgres URL [threads] [seconds]
//
// SQLite runs with the server's durability; PostgreSQL with whatever the cluster says (keep fsync
// and synchronous_commit on to measure durable writes). BENCH_NO_ORIGIN=1 writes without a
// client address and user agent (no personal part per event), to see what that part costs.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/openssl_random_source.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "socle/adapters/system/system_clock.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/project_directory.hpp"

namespace {

using namespace socle;
using Clock = std::chrono::steady_clock;

std::string Sha256Hex(std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
}

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "audit_write_bench: " << what << "\n";
  std::exit(1);
}

template <typename T>
T Must(domain::Result<T> result, const std::string& what) {
  if (!result) Die(what + ": " + result.error().message + " " + result.error().internal);
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

struct Figures {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::size_t errors = 0;
};

// One run: a project of its own (slug `slug`), `threads` writers for `seconds`.
Figures Run(application::ProjectStores& stores, bool audited, const std::string& slug,
            int threads, int seconds) {
  adapters::system::SystemClock clock;
  adapters::crypto::OpenSslRandomSource random;
  adapters::memory::MemoryCatalogueStore catalogue;
  application::ManageOrganisations orgs(catalogue, clock, random);
  application::ManageProjects projects(catalogue, clock, random);
  application::ProjectDirectory directory(catalogue, stores, clock);
  application::AuditTrail trail(clock, random, &Sha256Hex);
  application::AuditTrail* audit = audited ? &trail : nullptr;
  application::ManageCollections collections(directory, clock, random, audit);
  application::ManageRecords records(directory, clock, random, {}, nullptr, {}, audit);
  Must(orgs.Create({"bench-" + slug, std::nullopt, std::nullopt, std::nullopt}), "organisation");
  Must(projects.Create({slug, "bench-" + slug, std::nullopt}), "project");

  domain::Collection posts;
  posts.name = "posts";
  posts.rules.list = posts.rules.view = posts.rules.create = "";
  auto field = [](std::string name, domain::FieldType type) {
    domain::Field f;
    f.name = std::move(name);
    f.type = type;
    return f;
  };
  posts.fields = {field("title", domain::FieldType::kText), field("body", domain::FieldType::kText),
                  field("views", domain::FieldType::kNumber),
                  field("published", domain::FieldType::kBool)};
  Must(collections.Create(slug, posts, "bench"), "collection");

  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<double> latencies;
  std::size_t errors = 0;
  std::vector<std::thread> writers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      application::Caller caller;
      caller.superuser = true;
      if (std::getenv("BENCH_NO_ORIGIN") == nullptr) {
        caller.origin = {"bench", "127.0.0.1", "audit_write_bench", ""};
      }
      std::vector<double> own;
      std::size_t own_errors = 0;
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto before = Clock::now();
        auto created = records.Create(
            slug, "posts",
            {domain::JsonValue::Object(
                 {{"title", domain::JsonValue::String("Post " + std::to_string(t) + "-" +
                                                      std::to_string(i))},
                  {"body", domain::JsonValue::String("Body of the post, a sentence or two.")},
                  {"views", domain::JsonValue::Integer(i)},
                  {"published", domain::JsonValue::Bool(i % 2 == 0)}}),
             {}, {}, {}},
            caller);
        own.push_back(std::chrono::duration<double, std::milli>(Clock::now() - before).count());
        if (!created) ++own_errors;
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), own.begin(), own.end());
      errors += own_errors;
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& writer : writers) writer.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) {
    if (latencies.empty()) return 0.0;
    const auto index = static_cast<std::size_t>(q * static_cast<double>(latencies.size()));
    return latencies[std::min(latencies.size() - 1, index)];
  };
  return Figures{static_cast<double>(latencies.size()) / elapsed, at(0.50), at(0.99), errors};
}

void Report(const char* what, const Figures& f) {
  std::printf("%-10s %10.0f creates/s   p50 %6.2f ms   p99 %6.2f ms   errors %zu\n", what,
              f.per_second, f.p50_ms, f.p99_ms, f.errors);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: audit_write_bench sqlite DIR [threads] [seconds]\n"
                 "       audit_write_bench postgres URL [threads] [seconds]\n";
    return 2;
  }
  const std::string kind = argv[1];
  const std::string where = argv[2];
  const int threads = argc > 3 ? std::atoi(argv[3]) : 32;
  const int seconds = argc > 4 ? std::atoi(argv[4]) : 10;
  if (threads < 1 || seconds < 1) Die("threads and seconds must be positive");

  std::unique_ptr<application::ProjectStores> stores;
  if (kind == "sqlite") {
    std::filesystem::create_directories(where);
    stores = std::make_unique<adapters::sqlite::SqliteProjectStores>(
        adapters::sqlite::SqliteProjectStoreOptions{.data_dir = where});
  } else if (kind == "postgres") {
    stores = Must(adapters::postgres::PostgresProjectStores::Connect(
                      {.url = where, .pool_size = static_cast<std::size_t>(threads)}),
                  "PostgreSQL");
  } else {
    Die("the store is sqlite or postgres");
  }
  // Slugs of this run's own: the same database can be measured again.
  std::random_device device;
  const std::string tag = std::to_string(device() % 1'000'000);
  std::printf("%s, %d writers, %d s each, durable creates through ManageRecords\n", kind.c_str(),
              threads, seconds);
  const Figures plain = Run(*stores, false, "plain" + tag, threads, seconds);
  Report("plain", plain);
  const Figures audited = Run(*stores, true, "audited" + tag, threads, seconds);
  Report("audited", audited);
  std::printf("audited / plain: %.2f\n", audited.per_second / plain.per_second);
  return 0;
}
