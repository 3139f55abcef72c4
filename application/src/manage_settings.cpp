#include "socle/application/manage_settings.hpp"

#include <utility>

namespace socle::application {

using domain::ProjectSettings;
using domain::Result;

Result<ProjectSettings> ManageSettings::Get(std::string_view project) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  auto stored = catalogue_.GetProjectSettings(entry->project.id);
  if (!stored) return std::unexpected(std::move(stored.error()));
  if (!*stored) return ProjectSettings{};
  return std::move(**stored);
}

Result<ProjectSettings> ManageSettings::Update(std::string_view project,
                                               ProjectSettings settings) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  if (auto valid = domain::ValidateProjectSettings(settings); !valid) {
    return std::unexpected(std::move(valid.error()));
  }
  auto stored = catalogue_.PutProjectSettings(entry->project.id, settings, clock_.Now());
  if (!stored) return std::unexpected(std::move(stored.error()));
  return settings;
}

}  // namespace socle::application
