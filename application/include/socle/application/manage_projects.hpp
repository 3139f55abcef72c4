#pragma once

#include <optional>
#include <string>

#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// Unvalidated input for creating a project.
struct CreateProjectInput {
  std::string slug;
  std::string org;                  ///< The owning organisation's slug.
  std::optional<std::string> name;  ///< Defaults to the slug.
};

/// Use cases on projects: create, list, get, rename, delete.
class ManageProjects final {
 public:
  /// With a directory, a deleted project's store is released at once (ProjectDirectory::Forget),
  /// so the data API stops serving it.
  ManageProjects(CatalogueStore& store, Clock& clock, RandomSource& random,
                 ProjectDirectory* directory = nullptr)
      : store_(store), clock_(clock), random_(random), directory_(directory) {}

  /// Validates every field, resolves the organisation (not_found) and stores the project
  /// (already_exists when the slug is taken anywhere on the platform).
  domain::Result<domain::Project> Create(const CreateProjectInput& input);
  /// One page of projects ordered by slug; of one organisation when `org` is set (not_found
  /// when that organisation does not exist).
  domain::Result<domain::PageOf<domain::Project>> List(const std::optional<std::string>& org,
                                                       const domain::PageRequest& page);
  /// The project named by `slug`; invalid_argument, not_found.
  domain::Result<domain::Project> Get(std::string_view slug);
  /// Changes the display name; invalid_argument, not_found.
  domain::Result<domain::Project> Rename(std::string_view slug, std::string_view new_name);
  /// Deletes the project and its data; not_found.
  domain::Result<void> Delete(std::string_view slug);

 private:
  CatalogueStore& store_;
  Clock& clock_;
  RandomSource& random_;
  ProjectDirectory* directory_;
};

}  // namespace socle::application
