#include "socle/adapters/sqlite/project_database_path.hpp"

namespace socle::adapters::sqlite {

std::filesystem::path ProjectDatabasePath(const std::filesystem::path& catalogue_path,
                                          const domain::Id& project_id) {
  return catalogue_path.parent_path() / "projects" / (project_id.str() + ".db");
}

}  // namespace socle::adapters::sqlite
