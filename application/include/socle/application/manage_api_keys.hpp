#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "socle/application/audit_context.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/ports/token_signer.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// An API key as listed: never its secret.
struct ApiKeyInfo {
  std::string id;
  std::string name;
  std::string prefix;  ///< the key's first 12 characters, to tell keys apart ("sk_3kq9…")
  std::vector<ApiKeyScope> scopes;
  std::optional<domain::Timestamp> expires;
  std::optional<domain::Timestamp> revoked;
  std::optional<domain::Timestamp> last_used;
  std::int64_t uses = 0;
  domain::Timestamp created;
  /// An organisation's key: its organisation's id ("" for a project's key, which has scopes).
  std::string org;
};

/// A key just made: its description and the secret, shown this once.
struct NewApiKey {
  ApiKeyInfo info;
  std::string secret;
};

/// Machine-to-machine keys of a project's data API: `sk_` and 50 random characters of
/// [A-Za-z0-9] (about 297 bits),
/// given once at creation and stored as a one-way binding (TokenSigner::Bind) with the first
/// 12 characters as a prefix to find and show it. A key acts as a superuser within its scopes
/// (see ApiKeyScope; "posts:read" is list and view, "posts:write" create, update and delete,
/// "*:…" every collection); it never manages collections or settings. Keys expire when told
/// to and can be revoked; last use and use count are kept in memory and written by Flush (the
/// server calls it every minute), never with a write per request. Keys live in the platform
/// store (`_apiKeys`), out of reach of the records API.
///
/// With a trail, every creation, revocation and deletion commits with its event in the platform
/// store's trail (api_key.create, api_key.revoke, api_key.delete; the organisation and project
/// the key belongs to, the actor and origin of `context`); the key's binding shows only as
/// changed, never its value. Flush's counters are not recorded: they are no one's action, and
/// an event per flushed key would grow the trail with every minute of use. Thread-safe.
class ManageApiKeys final {
 public:
  ManageApiKeys(ProjectDirectory& projects, PlatformStore& platform, TokenSigner& signer,
                Clock& clock, RandomSource& random, AuditTrail* trail = nullptr)
      : projects_(projects), platform_(platform), signer_(signer), clock_(clock), random_(random),
        trail_(trail) {}

  /// Parses "collection:action" scopes (action list, view, create, update, delete, read =
  /// list + view, write = create + update + delete, all). invalid_argument with a field error
  /// "scopes.N" for a malformed one, or "scopes" when there is none.
  static domain::Result<std::vector<ApiKeyScope>> ParseScopes(const std::vector<std::string>& text);
  /// The scopes written back, one "collection:action" per action (ParseScopes reads them back).
  static std::vector<std::string> ScopeText(const std::vector<ApiKeyScope>& scopes);

  /// invalid_argument for an empty name or one over 100 characters ("name"), bad scopes, or an expiry in the
  /// past ("expires"); not_found for an unknown project.
  domain::Result<NewApiKey> Create(std::string_view project, std::string_view name,
                                   const std::vector<std::string>& scopes,
                                   std::optional<domain::Timestamp> expires,
                                   const AuditContext& context = {});
  domain::Result<std::vector<ApiKeyInfo>> List(std::string_view project);
  /// not_found for a key of another project or none; revoking twice is fine.
  domain::Result<void> Revoke(std::string_view project, std::string_view id,
                              const AuditContext& context = {});

  /// The caller a key proves for `project`. unauthenticated, with one client-safe message, for
  /// a malformed, unknown, revoked or expired key, or one of another project.
  domain::Result<Caller> Identify(std::string_view project, std::string_view key);

  // Organisation keys: what they may do is said by the policies bound to them (RBAC), on the
  // platform API and on the data API of the organisation's projects. ManageOrganisationKeys
  // makes them with their policies; these are its storage.

  /// Makes an organisation's key, with no rights of its own. invalid_argument for the name or
  /// the expiry, as Create.
  domain::Result<NewApiKey> CreateForOrganisation(const domain::Id& org, std::string_view name,
                                                  std::optional<domain::Timestamp> expires,
                                                  const AuditContext& context = {});
  /// The organisation's keys, oldest first.
  domain::Result<std::vector<ApiKeyInfo>> ListForOrganisation(const domain::Id& org);
  /// not_found for a key of another organisation or none; revoking twice is fine.
  domain::Result<void> RevokeForOrganisation(const domain::Id& org, std::string_view id,
                                             const AuditContext& context = {});
  /// The key `key` is, when it is a valid (not revoked, not expired) organisation key: its
  /// info, org set. unauthenticated otherwise, as Identify.
  domain::Result<ApiKeyInfo> IdentifyOrganisationKey(std::string_view key);

  /// Writes the uses counted since the last Flush. Best effort: counts are kept for the next
  /// try when the store cannot be written.
  domain::Result<void> Flush();

  // For the purge of a deleted project or organisation (PurgeDeleted): its keys go with it,
  // revoked or not, rather than lingering as records of something that no longer exists.

  /// Deletes every key of the project with this id; returns how many went. Its events name the
  /// project only: the project, being purged, may no longer say which organisation it was in.
  domain::Result<std::int64_t> DeleteForProject(const domain::Id& project,
                                                const AuditContext& context = {});
  /// Deletes every key of the organisation with this id; returns how many went.
  domain::Result<std::int64_t> DeleteForOrganisation(const domain::Id& org,
                                                     const AuditContext& context = {});

 private:
  struct Usage {
    std::int64_t uses = 0;
    domain::Timestamp last_used;
  };
  domain::Result<const domain::Collection*> Keys(std::shared_ptr<ProjectStore>& store,
                                                 domain::SchemaPtr& schema);
  // The stored key `key` is, checked: well formed, known, the right secret, neither revoked nor
  // expired; its use counted.
  domain::Result<ApiKeyInfo> Verify(std::string_view key, std::string& project_id);
  domain::Result<NewApiKey> Insert(std::string_view name, std::optional<domain::Timestamp> expires,
                                   const std::vector<ApiKeyScope>& scopes,
                                   const std::string& project_id, const std::string& org_id,
                                   const AuditEntry& base);
  domain::Result<std::vector<ApiKeyInfo>> ListWhere(std::string_view field, const std::string& value);
  // `base`: the event of the revocation (its organisation, project, actor and origin).
  domain::Result<void> RevokeWhere(std::string_view field, const std::string& value,
                                   std::string_view id, const AuditEntry& base);
  domain::Result<std::int64_t> DeleteWhere(std::string_view field, const std::string& value,
                                           const AuditEntry& base);

  ProjectDirectory& projects_;
  PlatformStore& platform_;
  TokenSigner& signer_;
  Clock& clock_;
  RandomSource& random_;
  AuditTrail* trail_;
  std::mutex usage_mutex_;
  std::unordered_map<std::string, Usage> usage_;
};

}  // namespace socle::application
