#include "socle/adapters/json/catalogue_json.hpp"

#include "list_json.hpp"
#include "socle/domain/url.hpp"

namespace socle::adapters::json {

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

void WriteRegion(JsonWriter& w, const domain::Region& region) {
  w.BeginObject();
  w.Key("name").String(region.name.str());
  w.Key("storeUrl").String(domain::RedactUrlPassword(region.store_url));
  w.EndObject();
}

void WriteRegionList(JsonWriter& w, const std::vector<domain::Region>& regions) {
  WriteItems(w, regions, WriteRegion);
}

void WriteOrganisationPage(JsonWriter& w, const domain::PageOf<domain::Organisation>& page) {
  WritePage(w, page, WriteOrganisation);
}

void WriteProjectPage(JsonWriter& w, const domain::PageOf<domain::Project>& page) {
  WritePage(w, page, WriteProject);
}

}  // namespace socle::adapters::json
