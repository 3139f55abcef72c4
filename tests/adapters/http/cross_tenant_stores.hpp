#pragma once

// The stores the cross-tenant suite runs its server over, one implementation per store adapter
// (cross_tenant_<adapter>_fixture.cpp), each linked into an executable of its own as the
// contract suites are (tests/contracts): the same sweeps then prove isolation on every adapter.

#include <memory>
#include <string>
#include <string_view>

#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/project_store.hpp"

namespace socle::testing {

/// Fresh, empty and migrated stores for one test case, removed with the object.
class CrossTenantStores {
 public:
  virtual ~CrossTenantStores() = default;

  /// "memory", "sqlite" or "postgres", for messages.
  virtual std::string_view adapter() const = 0;
  /// Organisations and projects.
  virtual application::CatalogueStore& catalogue() = 0;
  /// Their access data (memberships, teams, roles, policies, flags); the same object as
  /// catalogue() in every adapter, as socle-server requires.
  virtual application::AccessStore& access() = 0;
  /// The projects' records, and the platform's own store (members, sessions, API keys), which
  /// socle-server keeps in the same ProjectStores under a reserved project.
  virtual application::ProjectStores& projects() = 0;
  /// The PostgreSQL database the stores live in, for raw sessions; "" for other adapters.
  virtual std::string database_url() const { return {}; }
};

/// Each cross-tenant executable links exactly one implementation.
std::unique_ptr<CrossTenantStores> MakeCrossTenantStores();

}  // namespace socle::testing
