#include "socle/application/manage_projects.hpp"

#include "socle/application/new_id.hpp"
#include "socle/application/validation.hpp"

namespace socle::application {

using domain::DisplayName;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Project;
using domain::Result;
using domain::Slug;

Result<Project> ManageProjects::Create(const CreateProjectInput& input) {
  FieldErrors errors;
  auto slug = errors.Take(Slug::Parse(input.slug));
  auto name = errors.Take(DisplayName::Parse(input.name.value_or(input.slug)));
  auto org_slug = Slug::Parse(input.org);
  if (!org_slug) {
    errors.Add(Error::Field("org", "validation_invalid_org", "Must be an organisation slug."));
  }
  if (!errors.empty()) return Fail(errors.Release());

  auto org = store_.GetOrganisation(*org_slug);
  if (!org) return Fail(org.error());

  auto now = clock_.Now();
  Project project{NewId(random_), *slug, *name, org->id, org->slug, now, now};
  auto stored = store_.InsertProject(project);
  if (!stored) return Fail(stored.error());
  return project;
}

Result<domain::PageOf<Project>> ManageProjects::List(const std::optional<std::string>& org,
                                                     const domain::PageRequest& page) {
  if (!org) return store_.ListProjects(std::nullopt, page);
  auto org_slug = Slug::Parse(*org);
  if (!org_slug) return Fail(org_slug.error());
  auto found = store_.GetOrganisation(*org_slug);
  if (!found) return Fail(found.error());
  return store_.ListProjects(found->id, page);
}

Result<Project> ManageProjects::Get(std::string_view slug) {
  auto parsed = Slug::Parse(slug);
  if (!parsed) return Fail(parsed.error());
  return store_.GetProject(*parsed);
}

Result<Project> ManageProjects::Rename(std::string_view slug, std::string_view new_name) {
  auto name = DisplayName::Parse(new_name);
  if (!name) return Fail(name.error());
  auto project = Get(slug);
  if (!project) return project;
  project->name = *name;
  project->updated = clock_.Now();
  auto stored = store_.UpdateProject(*project);
  if (!stored) return Fail(stored.error());
  return project;
}

Result<void> ManageProjects::Delete(std::string_view slug) {
  auto project = Get(slug);
  if (!project) return Fail(project.error());
  if (auto deleted = store_.DeleteProject(project->id); !deleted) return deleted;
  if (directory_ != nullptr) directory_->Forget(*project);
  return {};
}

}  // namespace socle::application
