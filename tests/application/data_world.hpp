#pragma once

// A project with the use cases of the data API wired over the memory adapters, for the
// application tests of collections and records.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/project_directory.hpp"
#include "support/test_ports.hpp"

namespace socle::testing {

inline domain::Field NewField(std::string name, domain::FieldType type) {
  domain::Field field;
  field.name = std::move(name);
  field.type = type;
  return field;
}

inline domain::Collection NewCollection(std::string name, std::vector<domain::Field> fields) {
  domain::Collection collection;
  collection.name = std::move(name);
  collection.fields = std::move(fields);
  collection.rules.list = "";
  collection.rules.view = "";
  collection.rules.create = "";
  collection.rules.update = "";
  collection.rules.del = "";
  return collection;
}

inline domain::JsonValue Body(std::vector<domain::JsonValue::Member> members) {
  return domain::JsonValue::Object(std::move(members));
}

inline domain::JsonValue Str(std::string text) { return domain::JsonValue::String(std::move(text)); }

struct DataWorld {
  DataWorld() {
    REQUIRE(orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}));
    REQUIRE(projects.Create({"shop", "acme", std::nullopt}));
  }

  /// Creates a collection; fails the test on error.
  domain::Collection MustCreate(domain::Collection draft) {
    auto created = collections.Create("shop", std::move(draft), "test");
    if (!created) {
      std::string detail = created.error().message;
      for (const auto& f : created.error().fields) detail += " | " + f.field + ": " + f.message;
      FAIL(detail);
    }
    return *created;
  }

  /// Creates a record as a superuser; returns its id.
  std::string MustInsert(std::string_view collection, domain::JsonValue body) {
    application::Caller caller;
    caller.superuser = true;
    auto created = records.Create("shop", collection, {std::move(body), {}, {}, {}}, caller);
    if (!created) {
      std::string detail = created.error().message;
      for (const auto& f : created.error().fields) detail += " | " + f.field + ": " + f.message;
      FAIL(detail);
    }
    return created->record.record.Id(*created->record.collection);
  }

  adapters::memory::MemoryCatalogueStore catalogue;
  adapters::memory::MemoryProjectStores stores;
  ManualClock clock;
  SeededRandomSource random;
  application::ManageOrganisations orgs{catalogue, clock, random};
  application::ManageProjects projects{catalogue, clock, random};
  application::ProjectDirectory directory{catalogue, stores, clock};
  application::ManageCollections collections{directory, clock, random};
  application::ManageRecords records{directory, clock, random};
};

}  // namespace socle::testing
