#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// Finds a project by slug together with its open store. Every data API request names its
/// project, and a catalogue query per request would cost more than the request itself, so
/// lookups are cached for `ttl` (a project deleted by another process is noticed within it).
/// Thread-safe.
class ProjectDirectory final {
 public:
  struct Entry {
    domain::Project project;
    std::shared_ptr<ProjectStore> store;
  };

  ProjectDirectory(CatalogueStore& catalogue, ProjectStores& stores, Clock& clock,
                   std::chrono::milliseconds ttl = std::chrono::seconds(5))
      : catalogue_(catalogue), stores_(stores), clock_(clock), ttl_(ttl) {}

  /// The project named `slug` and its store. not_found for an unknown or malformed slug;
  /// unavailable when the catalogue or the project's storage cannot be reached.
  domain::Result<Entry> Find(std::string_view slug);
  /// Drops the cached entry of this project and closes its store (after a delete).
  void Forget(const domain::Project& project);
  /// Forgets the project and removes its storage where the catalogue's own deletion does not
  /// reach it (ProjectStores::Remove): a project placed in another database or cluster.
  /// Idempotent; called when the project is purged.
  domain::Result<void> Remove(const domain::Project& project);
  /// Removes what a purged organisation had of its own (a dedicated database), after its
  /// projects' Remove. Idempotent.
  domain::Result<void> RemoveOrganisation(const domain::Organisation& org);
  /// Drops the cached entry of the project named `slug` without closing its store, so that the
  /// next Find looks the project up again: for a project scheduled for deletion, which must stop
  /// being served at once while keeping its data (and store) for a restore.
  void Evict(std::string_view slug);

 private:
  struct Cached {
    Entry entry;
    domain::Timestamp fetched;
  };
  CatalogueStore& catalogue_;
  ProjectStores& stores_;
  Clock& clock_;
  std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  // Looked up by string_view on every request: a transparent hash spares a string per lookup.
  struct SlugHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view slug) const noexcept {
      return std::hash<std::string_view>{}(slug);
    }
  };
  std::unordered_map<std::string, Cached, SlugHash, std::equal_to<>> cache_;
};

}  // namespace socle::application
