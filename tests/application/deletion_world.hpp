#pragma once

// Deleting organisations and projects, wired as socle-server wires it over any catalogue and
// project stores: ManageOrganisations and ManageProjects scheduling through PurgeDeleted, the
// directory the data API finds projects through, API keys, and the permission-checked
// PlatformCatalogue with its access control. For the application tests of deletion on every
// store (deletion_test.cpp, deletion_pg_test.cpp).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/purge_deleted.hpp"
#include "socle/domain/access.hpp"
#include "support/must.hpp"
#include "support/test_ports.hpp"

namespace socle::testing {

inline constexpr std::int64_t kDayMicros = 24LL * 3600 * 1'000'000;

class DeletionWorld {
 public:
  /// `grace`: the deletion grace period; `seed` makes the ids (and so PostgreSQL role names,
  /// which are cluster-wide) differ between worlds that need them to.
  DeletionWorld(application::CatalogueStore& catalogue_store,
                application::AccessStore& access_rows, application::ProjectStores& stores,
                std::chrono::seconds grace, std::uint64_t seed = 42)
      : catalogue(catalogue_store),
        access_store(access_rows),
        random(seed),
        platform(stores, clock),
        directory(catalogue, stores, clock),
        api_keys(directory, platform, signer, clock, random),
        deletion(catalogue, &directory, &api_keys, grace),
        orgs(catalogue, clock, random, &directory, &deletion),
        projects(catalogue, clock, random, &directory, &deletion),
        collections(directory, clock, random),
        records(directory, clock, random),
        access(access_store, clock),
        platform_catalogue(orgs, projects, catalogue, access_store, access, clock, random) {}

  /// A platform member.
  static application::Principal Member(std::string id, std::string email) {
    application::Principal p;
    p.kind = application::Principal::Kind::kMember;
    p.id = std::move(id);
    p.email = std::move(email);
    return p;
  }
  static application::Principal Superuser() {
    application::Principal p;
    p.kind = application::Principal::Kind::kSuperuser;
    p.id = "su0000000000001";
    p.email = "root@example.com";
    return p;
  }

  /// Binds `role` to `member` in `org` (a membership with that one policy).
  void Join(const domain::Organisation& org, const application::Principal& member,
            std::string role) {
    domain::StoredPolicy policy{
        domain::Policy{"pol" + member.id.substr(3), {domain::RbacSubject::Kind::kMember, member.id},
                       std::move(role), org.id.str(), std::nullopt},
        clock.Now(), "system"};
    Must(access_store.InsertMembership({org.id, member.id, member.email, clock.Now()}, {policy}),
         "membership");
    access.Invalidate(org.id);
  }

  /// A collection "posts" {title} in `project`, open to everyone, with `n` records.
  void AddPosts(std::string_view project, int n) {
    domain::Collection draft;
    draft.name = "posts";
    domain::Field title;
    title.name = "title";
    title.type = domain::FieldType::kText;
    draft.fields = {title};
    draft.rules.list = draft.rules.view = draft.rules.create = "";
    Must(collections.Create(project, draft, "test"), "collection");
    application::Caller root;
    root.superuser = true;
    for (int i = 0; i < n; ++i) {
      auto body = domain::JsonValue::Object(
          {{"title", domain::JsonValue::String("post " + std::to_string(i))}});
      Must(records.Create(project, "posts", {std::move(body), {}, {}, {}}, root), "record");
    }
  }

  /// How many posts the data API's use case lists in `project`; -1 when it cannot be reached.
  std::int64_t Posts(std::string_view project) {
    application::Caller root;
    root.superuser = true;
    auto list = records.List(project, "posts", {}, root);
    return list ? list->total_items : -1;
  }

  application::CatalogueStore& catalogue;
  application::AccessStore& access_store;
  ManualClock clock;
  SeededRandomSource random;
  adapters::crypto::Ed25519TokenSigner signer;
  application::PlatformStore platform;
  application::ProjectDirectory directory;
  application::ManageApiKeys api_keys;
  application::PurgeDeleted deletion;
  application::ManageOrganisations orgs;
  application::ManageProjects projects;
  application::ManageCollections collections;
  application::ManageRecords records;
  application::AccessControl access;
  application::PlatformCatalogue platform_catalogue;
};

}  // namespace socle::testing
