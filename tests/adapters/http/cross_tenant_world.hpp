#pragma once

// The world of the cross-tenant suite: the server socle-server would run (ServerRoutes over the
// stores of one adapter, served on 127.0.0.1:0), and two organisations built in it through the
// API exactly as their owners would build them, so that what the sweeps attack is what the API
// itself wrote. Each organisation (alpha, bravo) has:
//   - an owner, a project editor (of its main project only) and a viewer (of the organisation),
//     each a platform member signed in over HTTP;
//   - a team holding the viewer, a custom role bound to the team by a policy, a pending
//     invitation, an organisation flag, an organisation API key (role developer) and a project
//     API key of its main project (every scope);
//   - two projects, each with an auth collection `users` (each user sees only their own record),
//     `posts` (author → users: each user's own) and `notes` (superusers only, with a hidden
//     field), and app users with posts and notes in them.
// Every name, e-mail and value of an organisation carries its slug, so that nothing of one can
// be mistaken for the other's, and every one of them is listed in its `secrets`.

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cross_tenant_stores.hpp"
#include "http_test_client.hpp"
#include "platform_world.hpp"
#include "server_routes.hpp"
#include "socle/adapters/http/http_metrics.hpp"
#include "socle/adapters/http/http_server.hpp"
#include "socle/adapters/http/logger.hpp"
#include "socle/domain/json_value.hpp"
#include "support/temp_dir.hpp"
#include "support/test_ports.hpp"

namespace socle::testing {

/// A platform member as the world signed them in over HTTP.
struct CrossTenantMember {
  std::string email, id, access, refresh;
};

/// A record of a project's `users` collection, and the token it signed in with there.
struct CrossTenantAppUser {
  std::string email, id, token;
};

/// One project of an organisation, as the API made it.
struct CrossTenantProject {
  std::string slug, id, name;
  std::map<std::string, std::string> collection_ids;              ///< name → id
  std::map<std::string, std::vector<std::string>> record_ids;     ///< collection → its records
  std::vector<CrossTenantAppUser> users;
};

/// One organisation, with everything of it a stranger must never learn.
struct CrossTenant {
  std::string slug, name, org_id;
  CrossTenantProject main, second;
  CrossTenantMember owner, editor, viewer;
  std::string team, role, policy, invitation, invitation_token, flag, org_key_id, org_key,
      project_key_id, project_key, session;
  /// Ids, names, e-mails, record values, keys and tokens of the organisation: no answer to a
  /// caller of another organisation may contain one (unless the request itself named it).
  std::vector<std::string> secrets;
};

/// What a request presents to prove who makes it.
struct Credential {
  enum class Kind {
    kAnonymous,  ///< nothing
    kMember,     ///< a platform member's access token: a signed-in stranger on foreign projects
    kBound,      ///< a key or an app user's token: bound to an organisation or a project
  };
  std::string label;
  Kind kind = Kind::kAnonymous;
  std::string header;  ///< "Authorization" or "X-API-Key"; "" for none
  std::string value;
  /// The holder's own ids and e-mail: an answer that echoes them tells nothing of another
  /// organisation, and they differ from one holder to the next.
  std::vector<std::string> own;
  /// How the platform API refuses it another organisation's resources: 404 for members and
  /// organisation keys (a stranger is told it does not exist), 401 for what is no platform
  /// credential at all (a project's key, an app user's token).
  int platform_refusal = 401;
};

/// The server and the two organisations. Members in construction order; `stores` must outlive
/// the world. Building it makes about a hundred requests; a failing one throws, naming it.
class CrossTenantWorld {
 public:
  explicit CrossTenantWorld(CrossTenantStores& stores);
  ~CrossTenantWorld();
  CrossTenantWorld(const CrossTenantWorld&) = delete;
  CrossTenantWorld& operator=(const CrossTenantWorld&) = delete;

  /// One request on a fresh connection, presenting `who`'s credential.
  HttpReply Call(std::string_view method, std::string_view target, const Credential& who,
                 std::string body = {});
  /// One request with `Authorization: Bearer <token>` ("" for none).
  HttpReply Bearer(std::string_view method, std::string_view target, std::string_view token,
                   std::string body = {});

  /// Every credential of `tenant`: its members' access tokens, its organisation key (as a
  /// bearer token and as X-API-Key), its main project's key, and its app users' tokens in both
  /// of its projects. None of them is a superuser's.
  std::vector<Credential> CredentialsOf(const CrossTenant& tenant) const;
  /// The credentials of `tenant` that are bound to its main project: the project key, the
  /// main project's app users, and the member whose only policy is on the main project.
  std::vector<Credential> MainProjectCredentialsOf(const CrossTenant& tenant) const;
  /// No credential at all.
  const Credential& anonymous() const { return anonymous_; }
  /// A signed-in platform member of no organisation: what any member is on a project of an
  /// organisation that gives them nothing.
  const Credential& nobody() const { return nobody_; }

  /// Answers `who` gets from every read of `tenant`'s data and access, made as its owner: the
  /// same before and after a sweep shows that the sweep changed nothing.
  std::vector<std::string> Snapshot(const CrossTenant& tenant);

  std::string_view adapter() const { return adapter_; }
  ServerRoutes& routes() { return routes_; }

  CrossTenant alpha, bravo;

 private:
  // The organisation, its members and access, its keys and its two projects, through the API
  // as its owner.
  void SeedTenant(CrossTenant& tenant, std::string_view slug, std::string_view name);
  // The project's collections, `users` app users each with a post, and a note; `suffix`
  // ("main", "second") tells the projects' values apart.
  void SeedProject(CrossTenant& tenant, CrossTenantProject& project, std::string_view suffix,
                   int users);
  CrossTenantMember SignIn(std::string_view email);
  CrossTenantMember Invited(const CrossTenant& tenant, std::string_view email,
                            std::string body);
  // Makes a resource over HTTP as `token`; throws unless the answer is `status`; returns it.
  domain::JsonValue Must(std::string_view method, std::string_view target,
                         std::string_view token, std::string body, int status = 200);

  std::string adapter_;
  TempDir mail_;
  PlainTestHasher hasher_;
  SeededRandomSource random_;
  ServerRoutes routes_;
  adapters::http::Logger logger_;
  adapters::http::HttpMetrics metrics_;
  adapters::http::HttpServer server_;
  Credential anonymous_;
  Credential nobody_;
};

// ---- helpers shared by the sweeps -------------------------------------------------------------

/// The password of every member and app user of the world.
inline constexpr std::string_view kCrossTenantPassword = "saffron-glacier-tunnel-64";

/// The answer's body as JSON; throws when it is not JSON.
domain::JsonValue ReplyJson(const HttpReply& reply);
/// The string at `path` of `value` (array indexes as numbers), or "<missing>".
std::string JsonText(const domain::JsonValue& value, std::initializer_list<std::string_view> path);
/// A JSON object of string members.
std::string JsonBody(std::initializer_list<std::pair<std::string_view, std::string_view>> members);
/// `text` percent-encoded for a query value.
std::string QueryEncode(std::string_view text);

/// A fresh record id nobody has: 15 random characters of [a-z0-9], what a guesser tries.
std::string GhostId();

/// The secrets of `secrets` that `reply` (body or any header but the request id) contains,
/// leaving out those the request itself carried (`request`: its target and body), which an
/// answer may echo back.
std::vector<std::string> Leaks(const HttpReply& reply, const std::vector<std::string>& secrets,
                               std::string_view request);

/// `text` with each first of `replacements` replaced by its second, longest first: an answer
/// with the values its request carried (and its caller's own ids) named by their role, so that
/// answers to different requests compare.
std::string Normalised(std::string text,
                       std::vector<std::pair<std::string, std::string>> replacements);

}  // namespace socle::testing
