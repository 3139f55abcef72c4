#pragma once

// Every route socle-server registers, wired as apps/socle-server/main.cpp wires them over the
// memory stores (or over stores given from outside): the platform (PlatformWorld), operations,
// each project's data API with its authentication routes, and the first-superuser setup link.
// For the suites that must see the whole API at once (openapi_routes_test,
// platform_route_guard_test, cross_tenant_test); a route added to the server and not here is
// missed by them, so keep the two in step.

#include <filesystem>
#include <string>
#include <utility>

#include "platform_world.hpp"
#include "socle/adapters/http/http_metrics.hpp"
#include "socle/adapters/http/operations_api.hpp"
#include "socle/adapters/http/project_data_api.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/adapters/http/setup_api.hpp"
#include "socle/adapters/mail/file_mailer.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/application/account_emails.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/project_store.hpp"
#include "support/test_ports.hpp"

namespace socle::testing {

/// The server's routes on `router`. Members in construction order; `hasher` must outlive it.
class ServerRoutes {
 public:
  /// Over the memory stores.
  explicit ServerRoutes(application::PasswordHasher& hasher,
                        std::filesystem::path mail_directory = "unused-mail-directory")
      : ServerRoutes(hasher, nullptr, nullptr, nullptr, std::move(mail_directory)) {}
  /// Over stores given from outside, as socle-server runs over the stores its settings name:
  /// `catalogue` keeps the organisations and projects, `access` their access data (the same
  /// object in every adapter), `projects` the projects' records and the platform store. They
  /// must outlive the routes.
  ServerRoutes(application::PasswordHasher& hasher, application::CatalogueStore& catalogue,
               application::AccessStore& access, application::ProjectStores& projects,
               std::filesystem::path mail_directory = "unused-mail-directory")
      : ServerRoutes(hasher, &catalogue, &access, &projects, std::move(mail_directory)) {}

  PlatformWorld& world() { return world_; }
  adapters::memory::MemoryCatalogueStore& store() { return store_; }
  /// The catalogue the routes run over: the given one, or store().
  application::CatalogueStore& catalogue_store() { return catalogue_; }
  ManualClock& clock() { return clock_; }
  application::ManageApiKeys& api_keys() { return world_.api_keys(); }
  application::ManageRecords& records() { return records_; }
  application::ManageCollections& collections() { return collections_; }

  adapters::http::Router router;

 private:
  ServerRoutes(application::PasswordHasher& hasher, application::CatalogueStore* catalogue,
               application::AccessStore* access, application::ProjectStores* projects,
               std::filesystem::path mail_directory)
      : catalogue_(catalogue != nullptr ? *catalogue : store_),
        access_(access != nullptr ? *access : store_),
        world_(catalogue_, access_, clock_, random_, hasher, nullptr, {}, projects),
        metrics_(clock_.Now()),
        operations_(catalogue_, metrics_, clock_, "test"),
        collections_(world_.directory(), clock_, random_),
        settings_(world_.directory(), catalogue_, clock_),
        records_(world_.directory(), clock_, random_, {}, &settings_, Passwords(hasher)),
        data_(collections_, records_, settings_,
              adapters::http::TokenIdentifier(world_.authenticate(), &world_.api_keys(),
                                              &world_.callers())),
        mailer_(std::move(mail_directory), clock_, random_),
        emails_(world_.directory(), world_.platform_store(), settings_, world_.signer(), hasher,
                mailer_, clock_, random_),
        setup_(world_.superusers(), clock_, "setup-token", clock_.Now()) {
    data_.ServeAuthentication(world_.authenticate(), world_.signer(), &emails_);
    world_.Register(router);
    MustSucceed(operations_.Register(router), "operations routes");
    MustSucceed(data_.Register(router), "data routes");
    MustSucceed(setup_.Register(router), "setup routes");
  }

  static application::PasswordSettings Passwords(application::PasswordHasher& hasher) {
    application::PasswordSettings passwords;
    passwords.hasher = &hasher;
    return passwords;
  }

  adapters::memory::MemoryCatalogueStore store_;
  application::CatalogueStore& catalogue_;
  application::AccessStore& access_;
  ManualClock clock_;
  SeededRandomSource random_;
  PlatformWorld world_;
  adapters::http::HttpMetrics metrics_;
  adapters::http::OperationsApi operations_;
  application::ManageCollections collections_;
  application::ManageSettings settings_;
  application::ManageRecords records_;
  adapters::http::ProjectDataApi data_;
  adapters::mail::FileMailer mailer_;
  application::AccountEmails emails_;
  adapters::http::SetupApi setup_;
};

}  // namespace socle::testing
