#pragma once

// Internal to the application library (as record_fields.hpp): how the use cases that schedule
// a deletion make the data API stop serving a project at once while keeping its store.

#include "socle/application/new_id.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application::internal {

// Drops the directory's cached entry for `project` (so the next request looks it up, hidden,
// and is told it does not exist) without closing its store: a scheduled project keeps its data
// for a restore, and closing a memory store would drop it. ProjectDirectory::Forget does both,
// finding the entry by slug and the store by id; handed the slug with a fresh id that no
// project has, it drops the entry alone. (ProjectDirectory has no eviction of its own yet.)
inline void StopServing(ProjectDirectory& directory, domain::Project project,
                        RandomSource& random) {
  project.id = NewId(random);
  directory.Forget(project);
}

}  // namespace socle::application::internal
