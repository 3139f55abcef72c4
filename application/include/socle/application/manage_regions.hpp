#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "socle/application/audit_context.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// Use cases on regions, the placement targets organisations are created in: list and define.
/// Returned regions carry their store URL as given (it may hold a password); adapters show it
/// only through domain::RedactUrlPassword.
class ManageRegions final {
 public:
  /// Longest store URL accepted, in bytes.
  static constexpr std::size_t kMaxStoreUrlLength = 2048;

  /// With `trail`, every change is recorded in the platform's own chain.
  explicit ManageRegions(CatalogueStore& store, PlatformTrail* trail = nullptr)
      : store_(store), trail_(trail) {}

  /// Every region, ordered by name.
  domain::Result<std::vector<domain::Region>> List();
  /// Creates or replaces the region `name`. invalid_argument, with every bad field at once:
  /// "name" when it is not a slug; "storeUrl" when it is not a postgres:// or postgresql:// URL
  /// of at most kMaxStoreUrlLength bytes without control characters (empty is allowed for the
  /// default region only, where it means this instance's own store).
  domain::Result<domain::Region> Set(std::string_view name, std::string_view store_url,
                                     const AuditContext& context = {});

 private:
  CatalogueStore& store_;
  PlatformTrail* trail_;
};

}  // namespace socle::application
