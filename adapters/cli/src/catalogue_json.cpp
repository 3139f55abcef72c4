#include "catalogue_json.hpp"

#include "socle/adapters/json/catalogue_json.hpp"
#include "socle/adapters/json/json_writer.hpp"

namespace socle::adapters::cli {

using json::JsonWriter;

std::string OrganisationJson(const domain::Organisation& org) {
  JsonWriter w;
  json::WriteOrganisation(w, org);
  return std::move(w).Take();
}

std::string ProjectJson(const domain::Project& project) {
  JsonWriter w;
  json::WriteProject(w, project);
  return std::move(w).Take();
}

std::string OrganisationPageJson(const domain::PageOf<domain::Organisation>& page) {
  JsonWriter w;
  json::WriteOrganisationPage(w, page);
  return std::move(w).Take();
}

std::string ProjectPageJson(const domain::PageOf<domain::Project>& page) {
  JsonWriter w;
  json::WriteProjectPage(w, page);
  return std::move(w).Take();
}

std::string RegionJson(const domain::Region& region) {
  JsonWriter w;
  json::WriteRegion(w, region);
  return std::move(w).Take();
}

std::string RegionListJson(const std::vector<domain::Region>& regions) {
  JsonWriter w;
  json::WriteRegionList(w, regions);
  return std::move(w).Take();
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
