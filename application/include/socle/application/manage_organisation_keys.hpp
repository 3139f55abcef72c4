#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/access_control.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// An organisation's API key as listed, with the policies that give it its rights.
struct OrganisationKeyView {
  ApiKeyInfo key;
  std::vector<domain::Policy> policies;
};

/// An organisation's key just made: the secret is shown this once.
struct NewOrganisationKey {
  OrganisationKeyView view;
  std::string secret;
};

/// API keys with roles: keys of an organisation whose rights are the roles bound to them, on
/// the whole organisation or on one project, through policies like a member's. They act on the
/// platform API and on the data API of the organisation's projects (PlatformCallers), never
/// beyond their organisation. Making one needs apikey.create at the scope of its role and every
/// permission of that role (nobody grants more than they hold); listing apikey.read; revoking
/// apikey.delete, which also removes its policies. Thread-safe.
class ManageOrganisationKeys final {
 public:
  /// With `trail`, the policies binding keys to their roles are recorded on the organisation's
  /// chain (policy.grant, policy.revoke); the keys' own events go to the platform store's trail
  /// through `keys`.
  ManageOrganisationKeys(CatalogueStore& catalogue, AccessStore& store, AccessControl& access,
                         ManageApiKeys& keys, Clock& clock, RandomSource& random,
                         PlatformTrail* trail = nullptr)
      : catalogue_(catalogue), store_(store), access_(access), keys_(keys), clock_(clock),
        random_(random), trail_(trail) {}

  /// invalid_argument for the name, the expiry, an unknown role, owner, an organisation role on
  /// one project, or an unknown project.
  domain::Result<NewOrganisationKey> Create(const Principal& by, std::string_view org,
                                            std::string_view name, std::string_view role,
                                            std::optional<std::string_view> project,
                                            std::optional<domain::Timestamp> expires);
  domain::Result<std::vector<OrganisationKeyView>> List(const Principal& by, std::string_view org);
  /// not_found for a key of another organisation.
  domain::Result<void> Revoke(const Principal& by, std::string_view org, std::string_view id);

 private:
  CatalogueStore& catalogue_;
  AccessStore& store_;
  AccessControl& access_;
  ManageApiKeys& keys_;
  Clock& clock_;
  RandomSource& random_;
  PlatformTrail* trail_;
};

}  // namespace socle::application
