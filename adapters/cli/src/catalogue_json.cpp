#include "catalogue_json.hpp"

#include "socle/adapters/http/json_writer.hpp"

namespace socle::adapters::cli {
namespace {

using http::JsonWriter;

void WriteOrganisation(JsonWriter& w, const domain::Organisation& org) {
  w.BeginObject();
  w.Key("id").String(org.id.str());
  w.Key("slug").String(org.slug.str());
  w.Key("name").String(org.name.str());
  w.Key("region").String(org.region.str());
  w.Key("tier").String(domain::ToString(org.tier));
  w.Key("created").String(org.created.ToApiString());
  w.Key("updated").String(org.updated.ToApiString());
  w.EndObject();
}

void WriteProject(JsonWriter& w, const domain::Project& project) {
  w.BeginObject();
  w.Key("id").String(project.id.str());
  w.Key("slug").String(project.slug.str());
  w.Key("name").String(project.name.str());
  w.Key("org").String(project.org_slug.str());
  w.Key("created").String(project.created.ToApiString());
  w.Key("updated").String(project.updated.ToApiString());
  w.EndObject();
}

template <typename T, typename WriteItem>
std::string PageJson(const domain::PageOf<T>& page, WriteItem write_item) {
  JsonWriter w;
  w.BeginObject();
  w.Key("page").Int(page.page);
  w.Key("perPage").Int(page.per_page);
  w.Key("totalItems").Int(page.total_items);
  w.Key("totalPages").Int(page.TotalPages());
  w.Key("items").BeginArray();
  for (const auto& item : page.items) write_item(w, item);
  w.EndArray();
  w.EndObject();
  return std::move(w).Take();
}

}  // namespace

std::string OrganisationJson(const domain::Organisation& org) {
  JsonWriter w;
  WriteOrganisation(w, org);
  return std::move(w).Take();
}

std::string ProjectJson(const domain::Project& project) {
  JsonWriter w;
  WriteProject(w, project);
  return std::move(w).Take();
}

std::string OrganisationPageJson(const domain::PageOf<domain::Organisation>& page) {
  return PageJson(page, WriteOrganisation);
}

std::string ProjectPageJson(const domain::PageOf<domain::Project>& page) {
  return PageJson(page, WriteProject);
}

std::string MigrationJson(const application::MigrationReport& report) {
  JsonWriter w;
  w.BeginObject();
  w.Key("fromVersion").Int(report.from_version);
  w.Key("toVersion").Int(report.to_version);
  w.Key("applied").BeginArray();
  for (const auto& name : report.applied) w.String(name);
  w.EndArray();
  w.EndObject();
  return std::move(w).Take();
}

std::string DeletedJson(const std::string& slug, std::optional<std::int64_t> projects_deleted) {
  JsonWriter w;
  w.BeginObject();
  w.Key("slug").String(slug);
  w.Key("deleted").Bool(true);
  if (projects_deleted) w.Key("projectsDeleted").Int(*projects_deleted);
  w.EndObject();
  return std::move(w).Take();
}

}  // namespace socle::adapters::cli
