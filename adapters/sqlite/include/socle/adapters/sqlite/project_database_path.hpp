#pragma once

#include <filesystem>

#include "socle/domain/id.hpp"

namespace socle::adapters::sqlite {

/// Where a project's own SQLite database lives next to the catalogue:
/// <directory of catalogue_path>/projects/<project id>.db. The catalogue store removes this file
/// (and its -wal, -shm and -journal companions) when it deletes the project.
std::filesystem::path ProjectDatabasePath(const std::filesystem::path& catalogue_path,
                                          const domain::Id& project_id);

}  // namespace socle::adapters::sqlite
