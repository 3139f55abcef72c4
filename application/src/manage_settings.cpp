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
                                               ProjectSettings settings,
                                               const AuditContext& context) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  if (auto valid = domain::ValidateProjectSettings(settings); !valid) {
    return std::unexpected(std::move(valid.error()));
  }
  ProjectSettings before;
  if (trail_ != nullptr) {
    auto stored = catalogue_.GetProjectSettings(entry->project.id);
    if (!stored) return std::unexpected(std::move(stored.error()));
    if (*stored) before = std::move(**stored);
  }
  auto audit = PlatformEntry(context, entry->project.org_id.str(), "project.settings",
                             "project", entry->project.id.str(), AuditChange(&before, &settings));
  audit.project_id = entry->project.id.str();
  auto stored = WritePlatform(trail_, audit, [&] {
    return catalogue_.PutProjectSettings(entry->project.id, settings, clock_.Now());
  });
  if (!stored) return std::unexpected(std::move(stored.error()));
  return settings;
}

}  // namespace socle::application
