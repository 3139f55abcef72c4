#include "socle/application/project_directory.hpp"

#include <utility>

#include "socle/domain/slug.hpp"

namespace socle::application {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

Result<ProjectDirectory::Entry> ProjectDirectory::Find(std::string_view slug) {
  const domain::Timestamp now = clock_.Now();
  const auto ttl_micros = std::chrono::duration_cast<std::chrono::microseconds>(ttl_).count();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(slug);
    if (it != cache_.end()) {
      if (now.unix_micros() - it->second.fetched.unix_micros() < ttl_micros) return it->second.entry;
      cache_.erase(it);
    }
  }
  auto parsed = domain::Slug::Parse(slug);
  if (!parsed) return Fail(ErrorCode::kNotFound, "The project was not found.");
  auto project = catalogue_.GetProject(*parsed);
  if (!project) return std::unexpected(std::move(project.error()));
  auto store = stores_.Open(*project);
  if (!store) return std::unexpected(std::move(store.error()));
  Entry entry{std::move(*project), std::move(*store)};
  std::lock_guard lock(mutex_);
  cache_.insert_or_assign(std::string(slug), Cached{entry, now});
  return entry;
}

void ProjectDirectory::Evict(std::string_view slug) {
  std::lock_guard lock(mutex_);
  if (auto it = cache_.find(slug); it != cache_.end()) cache_.erase(it);
}

void ProjectDirectory::Forget(const domain::Project& project) {
  {
    std::lock_guard lock(mutex_);
    cache_.erase(project.slug.str());
  }
  stores_.Close(project.id);
}

domain::Result<void> ProjectDirectory::Remove(const domain::Project& project) {
  Forget(project);
  return stores_.Remove(project);
}

domain::Result<void> ProjectDirectory::RemoveOrganisation(const domain::Organisation& org) {
  return stores_.RemoveOrganisation(org);
}

}  // namespace socle::application
