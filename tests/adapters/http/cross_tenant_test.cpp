// Cross-tenant isolation, end to end: two organisations (alpha and bravo, see
// cross_tenant_world.hpp) on one server, and every credential of one of them thrown at every
// route of the other. Compiled once per store adapter (cross_tenant_<adapter>_fixture.cpp), so
// that the same sweeps hold on memory, SQLite and PostgreSQL.
//
// The data API (/p/{project}/api/...): every route ProjectDataApi registers is taken from the
// router (a route added later is swept like the others; one that takes a body fails the suite
// until it has one in DataBodies()), and called for each of the victim's collections (by name,
// and one by id) with the victim's real record ids, user ids and e-mails in the path, the
// query (filter, @collection, expand, sort, fields) and the body (batch operations, relation
// values, identities), then with ids nobody has (random 15-character ids: what a guesser
// tries) and with a collection that does not exist. For each credential of the attacker:
//   - nothing of the victim in any answer (ids, names, e-mails, values, keys, tokens), except
//     what the request itself carried;
//   - the answer for the victim's real record is the answer for a guessed id, status and body
//     (the ids of the request named by their role): existence is not revealed;
//   - the credential is worth nothing there: a key or an app user's token is refused (401) or
//     answered as an anonymous caller is; a member's token is answered as the token of a member
//     of no organisation is (docs/tenancy.md: a signed-in stranger);
//   - the anonymous caller and the member of no organisation, the baselines, learn nothing of
//     record ids either.
// A project's slug is its public address (the SDKs' base URL): anybody tells an existing
// project from a missing one, so the sweeps compare answers within the victim's project.
// A collection's name is public the same way (PocketBase answers 404 for a missing collection
// and applies the rules of an existing one), which the baselines show and the comparison with
// them allows.
//
// The platform API (/api/v1/...): every route, with the victim's organisation, project,
// members, team, role, policy, invitation, flag, key and session in the path and body, then
// the same with ghosts: the documented refusal (404 for members and organisation keys, 401
// for what is no platform credential), identical for real and ghost resources, and nothing of
// the victim in the answer.
//
// Both directions are swept (alpha's credentials on bravo, bravo's on alpha), and a project's
// own credentials (its key, its app users, a member whose only policy is on it) on the other
// project of the same organisation. Then, from inside the attacker's own project: relations,
// filters, expansions and batches naming the victim's records. After each sweep the victim's
// data and access are exactly as before.
//
// What the sweeps found is fixed, and each finding has a test of its own (see "the findings"
// at the end): three existence oracles of record writes (a relation to a hidden record, a create
// naming a hidden record's id, a batch upsert of a hidden record), and a platform member's token
// passing `@request.auth.id != ""` on every organisation's projects.
//
// Realtime (/api/realtime) does not exist yet: when it does, its subscriptions need the same
// sweep (a subscription to another project's collection or record must receive nothing).
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cross_tenant_stores.hpp"
#include "cross_tenant_world.hpp"
#include "socle/adapters/http/router.hpp"

namespace http = socle::adapters::http;
using socle::domain::JsonValue;
using socle::testing::Credential;
using socle::testing::CrossTenant;
using socle::testing::CrossTenantProject;
using socle::testing::CrossTenantWorld;
using socle::testing::HttpReply;
using socle::testing::JsonBody;
using socle::testing::QueryEncode;

namespace {

constexpr std::string_view kDataBase = "/p/{project}/api";
constexpr std::string_view kGhostCollection = "ghosts";
const std::string kPassword(socle::testing::kCrossTenantPassword);

// ---- what a request names --------------------------------------------------------------------

// The values a request template's placeholders stand for.
struct Values {
  std::map<std::string, std::string> named;  // "{id}" → "abc..."
};

std::string Fill(std::string text, const Values& values) {
  for (const auto& [placeholder, value] : values.named) {
    for (auto at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + value.size())) {
      text.replace(at, placeholder.size(), value);
    }
  }
  return text;
}

// The answer as compared: its status and body, with the values the request carried and the
// caller's own ids named by their role.
std::string Shape(const HttpReply& reply, const Values& values, const Credential& who) {
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& [placeholder, value] : values.named) names.emplace_back(value, placeholder);
  for (const auto& own : who.own) names.emplace_back(own, "{caller}");
  return std::to_string(reply.status) + " " + socle::testing::Normalised(reply.body, names);
}

// What the sweeps found, reported together (a failing sweep would otherwise print thousands of
// assertions).
class Findings {
 public:
  void Add(std::string finding) {
    ++count_;
    if (shown_.size() < 40) shown_.push_back(std::move(finding));
  }
  std::size_t count() const { return count_; }
  std::string Report() const {
    std::ostringstream out;
    out << count_ << " finding(s)";
    for (const auto& line : shown_) out << "\n  - " << line;
    return out.str();
  }

 private:
  std::size_t count_ = 0;
  std::vector<std::string> shown_;
};

void CheckNoFindings(const Findings& findings) {
  INFO(findings.Report());
  CHECK(findings.count() == 0);
}

// ---- the data API ----------------------------------------------------------------------------

// One request of a sweep: a route with a target, a body and what they name, as templates.
struct Probe {
  std::string route;  // "GET /p/{project}/api/..." as registered
  std::string method;
  std::string target;
  std::string body;
};

// A syntactically valid body for every data route that takes one, by route below
// /p/{project}/api. The values only ever name the victim (or ghosts).
std::map<std::string, std::vector<std::string>> DataBodies() {
  const std::string wrong = "wrong-Password-1234567";
  const std::string batch_url = "/api/collections/{collection}/records";
  auto batch = [](const std::string& operation) {
    return R"({"requests":[)" + operation + "]}";
  };
  return {
      {"POST /collections",
       {R"({"name":"{collection}","fields":[{"name":"stolen","type":"text"}]})"}},
      {"PUT /collections/import",
       {R"({"collections":[{"name":"{collection}","fields":[]}],"deleteMissing":true})"}},
      {"PATCH /collections/{collection}", {R"({"listRule":"","viewRule":""})"}},
      {"POST /collections/{collection}/records",
       {R"({"title":"intruder","text":"intruder","author":"{user}","email":"{email}",)"
        R"("password":")" + kPassword + R"(","passwordConfirm":")" + kPassword + R"("})",
        R"({"id":"{id}","title":"overwrite","author":"{user}"})"}},
      {"PATCH /collections/{collection}/records/{id}",
       {R"({"title":"taken over","text":"taken over","author":"{user}","name":"taken over"})",
        R"({"email":"{email}","password":")" + kPassword + R"(","passwordConfirm":")" + kPassword +
            R"(","oldPassword":")" + wrong + R"("})"}},
      {"POST /batch",
       {batch(R"({"method":"PATCH","url":")" + batch_url + R"(/{id}","body":{"title":"x"}})"),
        batch(R"({"method":"DELETE","url":")" + batch_url + R"(/{id}"})"),
        batch(R"({"method":"PUT","url":")" + batch_url + R"(","body":{"id":"{id}","title":"x"}})"),
        batch(R"({"method":"POST","url":")" + batch_url +
              R"(?expand=author","body":{"title":"x","author":"{user}"}})")}},
      {"PATCH /settings", {R"({"meta":{"appName":"taken over"}})"}},
      {"POST /collections/{collection}/auth-with-password",
       {JsonBody({{"identity", "{email}"}, {"password", wrong}})}},
      {"POST /collections/{collection}/auth-refresh", {"", R"({"role":""})"}},
      {"POST /collections/{collection}/request-password-reset", {JsonBody({{"email", "{email}"}})}},
      {"POST /collections/{collection}/confirm-password-reset",
       {JsonBody({{"token", "eyJhbGciOiJFZERTQSJ9.e30.c2ln"},
                  {"password", kPassword},
                  {"passwordConfirm", kPassword}})}},
      {"POST /collections/{collection}/request-verification", {JsonBody({{"email", "{email}"}})}},
      {"POST /collections/{collection}/confirm-verification",
       {JsonBody({{"token", "eyJhbGciOiJFZERTQSJ9.e30.c2ln"}})}},
      {"POST /collections/{collection}/request-email-change",
       {JsonBody({{"newEmail", "{email}"}})}},
      {"POST /collections/{collection}/confirm-email-change",
       {JsonBody({{"token", "eyJhbGciOiJFZERTQSJ9.e30.c2ln"}, {"password", kPassword}})}},
  };
}

// `text` percent-encoded for a query value, but for its placeholders ("{id}"), which Fill
// replaces with values that need no encoding (ids, names, e-mails).
std::string EncodeTemplate(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const std::size_t open = text.find('{');
    const std::size_t close = open == std::string_view::npos ? open : text.find('}', open);
    if (close == std::string_view::npos) {
      out += QueryEncode(text);
      break;
    }
    out += QueryEncode(text.substr(0, open));
    out += text.substr(open, close - open + 1);
    text.remove_prefix(close + 1);
  }
  return out;
}

// The queries each reading route is tried with: plain, and with the victim's ids in a filter,
// in an @collection reference (PocketBase refuses those to non-superusers anyway), through an
// expansion of the relation, and in sort and field selections.
std::map<std::string, std::vector<std::string>> DataQueries() {
  return {
      {"GET /collections/{collection}/records",
       {"",
        "?filter=" + EncodeTemplate(R"(id="{id}")"),
        "?filter=" + EncodeTemplate(R"(@collection.{collection}.id="{id}")"),
        "?expand=author&filter=" + EncodeTemplate(R"(author="{user}" || email="{email}")"),
        "?sort=-id&fields=" + QueryEncode("id,email,title,text,secret,expand")}},
      {"GET /collections/{collection}/records/{id}",
       {"", "?expand=author", "?fields=" + QueryEncode("*,secret,email")}},
      {"GET /collections", {"", "?fields=id,name"}},
  };
}

std::string RouteName(const http::Router::Route& route) {
  return std::string(http::ToString(route.method)) + " " + route.pattern;
}

bool TakesBody(http::Method method) {
  return method == http::Method::kPost || method == http::Method::kPut ||
         method == http::Method::kPatch;
}

// Every request of the data API sweep, from the router's routes.
std::vector<Probe> DataProbes(const http::Router& router, Findings& findings) {
  const auto bodies = DataBodies();
  const auto queries = DataQueries();
  std::vector<Probe> probes;
  for (const auto& route : router.routes()) {
    if (!route->pattern.starts_with(kDataBase)) continue;
    const std::string below = route->pattern.substr(kDataBase.size());
    const std::string key = std::string(http::ToString(route->method)) + " " + below;
    std::vector<std::string> route_bodies = {""};
    if (TakesBody(route->method)) {
      auto found = bodies.find(key);
      if (found == bodies.end()) {
        findings.Add(RouteName(*route) + ": give it a body in DataBodies()");
        continue;
      }
      route_bodies = found->second;
    }
    std::vector<std::string> route_queries = {""};
    if (auto found = queries.find(key); found != queries.end()) route_queries = found->second;
    for (const auto& query : route_queries) {
      for (const auto& body : route_bodies) {
        probes.push_back({RouteName(*route), std::string(http::ToString(route->method)),
                          route->pattern + query, body});
      }
    }
  }
  return probes;
}

// The three sets of values a probe is sent with against `project`, for its collection `ref`
// (a name or an id) whose stored name is `name`: the real ones, the same with guessed ids, and
// the same in a collection that does not exist.
struct ValueSets {
  Values real, ghost_ids, ghost_collection;
};

ValueSets ValuesFor(const CrossTenantProject& project, const std::string& ref,
                    const std::string& name) {
  ValueSets sets;
  const auto& user = project.users.front();
  sets.real.named = {{"{project}", project.slug},
                     {"{collection}", ref},
                     {"{id}", project.record_ids.at(name).front()},
                     {"{user}", user.id},
                     {"{email}", user.email}};
  sets.ghost_ids.named = sets.real.named;
  sets.ghost_ids.named["{id}"] = socle::testing::GhostId();
  sets.ghost_ids.named["{user}"] = socle::testing::GhostId();
  sets.ghost_ids.named["{email}"] = "ghost@" + project.slug + ".test";
  sets.ghost_collection.named = sets.ghost_ids.named;
  sets.ghost_collection.named["{collection}"] = std::string(kGhostCollection);
  return sets;
}

// Sends `probe` with `values` as `who`; records any leak of `victim`'s secrets.
class DataSweep {
 public:
  DataSweep(CrossTenantWorld& world, const CrossTenant& victim, Findings& findings)
      : world_(world), victim_(victim), findings_(findings) {}

  struct Answer {
    HttpReply reply;
    std::string shape;
  };

  Answer Send(const Probe& probe, const Values& values, const Credential& who) {
    const std::string target = Fill(probe.target, values);
    const std::string body = Fill(probe.body, values);
    // A placeholder left over (or encoded away) would send the same request for real and
    // guessed ids, and prove nothing.
    for (const std::string& sent : {target, body}) {
      for (std::string_view left : {"{project}", "{collection}", "{id}", "{user}", "{email}",
                                    "%7B", "%7b"}) {
        if (sent.find(left) != std::string::npos) {
          findings_.Add("the sweep sent a template unfilled: " + sent);
        }
      }
    }
    HttpReply reply = world_.Call(probe.method, target, who, body);
    ++requests_;
    const auto leaks = socle::testing::Leaks(reply, victim_.secrets, target + " " + body);
    if (!leaks.empty()) {
      findings_.Add(who.label + ": " + probe.method + " " + target + " " + body + " → " +
                    std::to_string(reply.status) + " leaked \"" + leaks.front() + "\": " +
                    reply.body.substr(0, 300));
    }
    if (reply.status >= 500) {
      findings_.Add(who.label + ": " + probe.method + " " + target + " → " +
                    std::to_string(reply.status) + " " + reply.body);
    }
    std::string shape = Shape(reply, values, who);
    return {std::move(reply), std::move(shape)};
  }

  // Every probe on `project` for every collection reference, as each of `attackers`.
  void Run(const std::vector<Probe>& probes, const CrossTenantProject& project,
           const std::vector<Credential>& attackers) {
    std::vector<std::pair<std::string, std::string>> refs;  // reference, stored name
    for (const auto& [name, id] : project.collection_ids) refs.emplace_back(name, name);
    refs.emplace_back(project.collection_ids.at("posts"), "posts");
    for (const auto& probe : probes) {
      const bool per_collection = probe.target.find("{collection}") != std::string::npos ||
                                  probe.body.find("{collection}") != std::string::npos;
      for (const auto& [ref, name] : refs) {
        if (!per_collection && ref != "posts") continue;
        RunOne(probe, ValuesFor(project, ref, name), attackers);
      }
    }
  }

  std::size_t requests() const { return requests_; }

 private:
  struct Triple {
    Answer real, ghost_ids, ghost_collection;
  };

  Triple SendAll(const Probe& probe, const ValueSets& sets, const Credential& who) {
    return {Send(probe, sets.real, who), Send(probe, sets.ghost_ids, who),
            Send(probe, sets.ghost_collection, who)};
  }

  void Differs(const Credential& who, const Probe& probe, const ValueSets& sets,
               std::string_view what, const std::string& got, const std::string& due) {
    findings_.Add(who.label + ": " + probe.method + " " + Fill(probe.target, sets.real) + " " +
                  Fill(probe.body, sets.real) + ": " + std::string(what) + "\n      got: " + got +
                  "\n      due: " + due);
  }

  // Real and guessed ids must be answered alike.
  void SameForGhostIds(const Credential& who, const Probe& probe, const ValueSets& sets,
                       const Triple& answers) {
    if (answers.real.shape == answers.ghost_ids.shape) return;
    Differs(who, probe, sets, "tells the victim's real ids from guessed ones", answers.real.shape,
            answers.ghost_ids.shape);
  }

  void RunOne(const Probe& probe, const ValueSets& sets, const std::vector<Credential>& attackers) {
    const Triple anonymous = SendAll(probe, sets, world_.anonymous());
    const Triple nobody = SendAll(probe, sets, world_.nobody());
    SameForGhostIds(world_.anonymous(), probe, sets, anonymous);
    SameForGhostIds(world_.nobody(), probe, sets, nobody);
    for (const auto& who : attackers) {
      const Triple got = SendAll(probe, sets, who);
      SameForGhostIds(who, probe, sets, got);
      // Worth nothing here: a member is any signed-in stranger, anything else is refused or
      // is nobody at all.
      const bool member = who.kind == Credential::Kind::kMember;
      const Triple& baseline = member ? nobody : anonymous;
      const std::pair<const Answer*, const Answer*> pairs[] = {
          {&got.real, &baseline.real},
          {&got.ghost_ids, &baseline.ghost_ids},
          {&got.ghost_collection, &baseline.ghost_collection}};
      for (const auto& [mine, theirs] : pairs) {
        if (!member && mine->reply.status == 401) continue;
        if (mine->shape != theirs->shape) {
          Differs(who, probe, sets,
                  member ? "answered otherwise than a member of no organisation"
                         : "neither refused (401) nor answered as an anonymous caller",
                  mine->shape, theirs->shape);
          break;
        }
      }
    }
  }

  CrossTenantWorld& world_;
  const CrossTenant& victim_;
  Findings& findings_;
  std::size_t requests_ = 0;
};

void SweepDataApi(CrossTenantWorld& world, const CrossTenant& victim,
                  const CrossTenantProject& project, const std::vector<Credential>& attackers) {
  Findings findings;
  const auto probes = DataProbes(world.routes().router, findings);
  REQUIRE(probes.size() >= 30);  // the enumeration found the data API
  const auto before = world.Snapshot(victim);
  DataSweep sweep(world, victim, findings);
  sweep.Run(probes, project, attackers);
  INFO(world.adapter() << ": " << sweep.requests() << " requests, " << attackers.size()
                       << " attacking credentials");
  CheckNoFindings(findings);
  // Whatever was tried, the victim is as it was.
  CHECK(world.Snapshot(victim) == before);
}

// ---- the platform API ------------------------------------------------------------------------

// The routes anybody may call (platform_route_guard_test asserts that they are exactly these).
const std::set<std::string> kPublicRoutes = {
    "POST /api/v1/auth/login",         "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/logout",        "POST /api/v1/auth/superusers/login",
    "POST /api/v1/invitations/preview", "POST /api/v1/invitations/accept",
    "POST /api/v1/invitations/decline",
};

// A syntactically valid body for every platform route that takes one; the values name the
// victim's resources (or their ghosts) wherever a route takes some.
std::map<std::string, std::string> PlatformBodies() {
  const std::string guessed_refresh = "rt_" + std::string(50, 'q');
  const std::string guessed_invitation = "inv_" + std::string(50, 'q');
  return {
      {"POST /api/v1/auth/login", JsonBody({{"email", "{email}"}, {"password", "wrong-pw-1234"}})},
      {"POST /api/v1/auth/refresh", JsonBody({{"refreshToken", guessed_refresh}})},
      {"POST /api/v1/auth/logout", JsonBody({{"refreshToken", guessed_refresh}})},
      {"POST /api/v1/auth/superusers/login",
       JsonBody({{"email", "{email}"}, {"password", "wrong-pw-1234"}})},
      {"POST /api/v1/auth/role", JsonBody({{"refreshToken", guessed_refresh}, {"role", "{role}"}})},
      {"POST /api/v1/invitations/preview", JsonBody({{"token", guessed_invitation}})},
      {"POST /api/v1/invitations/accept",
       JsonBody({{"token", guessed_invitation}, {"password", kPassword}})},
      {"POST /api/v1/invitations/decline", JsonBody({{"token", guessed_invitation}})},
      // The attacker's own new organisation: slugs are global, so whether one is taken is no
      // secret of its organisation.
      {"POST /api/v1/orgs", JsonBody({{"slug", "mole-works"}, {"name", "Mole Works"}})},
      {"PATCH /api/v1/orgs/{org}", JsonBody({{"name", "Taken Over"}})},
      {"POST /api/v1/orgs/{org}/restore", ""},
      {"POST /api/v1/audit/checkpoint", ""},
      {"POST /api/v1/projects/{project}/restore", ""},
      {"POST /api/v1/orgs/{org}/projects", JsonBody({{"slug", "intruder"}})},
      {"PATCH /api/v1/projects/{project}", JsonBody({{"name", "Taken Over"}})},
      {"POST /api/v1/orgs/{org}/transfer", JsonBody({{"member", "{member}"}})},
      {"POST /api/v1/orgs/{org}/invitations",
       JsonBody({{"email", "mole@example.test"}, {"role", "viewer"}, {"project", "{project}"}})},
      {"POST /api/v1/orgs/{org}/teams", JsonBody({{"name", "Moles"}})},
      {"PATCH /api/v1/orgs/{org}/teams/{team}", JsonBody({{"name", "Moles"}})},
      {"PUT /api/v1/orgs/{org}/teams/{team}/members/{member}", ""},
      {"PUT /api/v1/orgs/{org}/roles/{role}",
       R"({"scope":"organisation","permissions":["organisation.read"]})"},
      {"POST /api/v1/orgs/{org}/policies",
       R"({"subject":{"kind":"member","id":"{member}"},"role":"{role}","project":"{project}"})"},
      {"PUT /api/v1/flags/{key}", R"({"value":true})"},
      {"POST /api/v1/orgs/{org}/apikeys",
       JsonBody({{"name", "mole"}, {"role", "viewer"}, {"project", "{project}"}})},
      {"PUT /api/v1/orgs/{org}/flags/{key}", R"({"level":"organisation","value":true})"},
  };
}

// Whether `text` names one of the victim's resources (a placeholder of PlatformValues).
bool NamesPlaceholder(std::string_view text) {
  for (std::string_view placeholder :
       {"{org}", "{project}", "{member}", "{team}", "{role}", "{key}", "{id}", "{email}"}) {
    if (text.find(placeholder) != std::string_view::npos) return true;
  }
  return false;
}

Values PlatformValues(const CrossTenant& victim, const std::string& pattern, bool ghost) {
  std::string id = victim.invitation;
  if (pattern.find("/policies/") != std::string::npos) id = victim.policy;
  if (pattern.find("/auth/sessions/") != std::string::npos) id = victim.session;
  if (pattern.find("/apikeys/") != std::string::npos) id = victim.org_key_id;
  Values values;
  if (!ghost) {
    values.named = {{"{org}", victim.slug},       {"{project}", victim.main.slug},
                    {"{member}", victim.owner.id}, {"{team}", victim.team},
                    {"{role}", victim.role},       {"{key}", victim.flag},
                    {"{id}", id},                  {"{email}", victim.owner.email}};
  } else {
    values.named = {{"{org}", "ghost-org"},
                    {"{project}", "ghost-shop"},
                    {"{member}", socle::testing::GhostId()},
                    {"{team}", socle::testing::GhostId()},
                    {"{role}", "ghost-role"},
                    {"{key}", "ghost-flag"},
                    {"{id}", socle::testing::GhostId()},
                    {"{email}", "ghost@" + victim.slug + ".test"}};
  }
  return values;
}

void SweepPlatformApi(CrossTenantWorld& world, const CrossTenant& victim,
                      const std::vector<Credential>& attackers) {
  Findings findings;
  const auto bodies = PlatformBodies();
  std::vector<Probe> probes;
  for (const auto& route : world.routes().router.routes()) {
    if (!route->pattern.starts_with("/api/v1/")) continue;
    const std::string name = RouteName(*route);
    std::string body;
    if (TakesBody(route->method)) {
      auto found = bodies.find(name);
      if (found == bodies.end()) {
        findings.Add(name + ": give it a body in PlatformBodies()");
        continue;
      }
      body = found->second;
    }
    probes.push_back({name, std::string(http::ToString(route->method)), route->pattern, body});
  }
  REQUIRE(probes.size() >= 40);  // the enumeration found the platform API
  // Routes that name nothing of an organisation in their path but do in their query.
  probes.push_back({"GET /api/v1/flags/evaluate", "GET",
                    "/api/v1/flags/evaluate?org={org}&key={key}&member={member}", ""});
  probes.push_back({"GET /api/v1/orgs/{org}/explain", "GET",
                    "/api/v1/orgs/{org}/explain?subject=member:{member}&project={project}"
                    "&permission=records.read",
                    ""});

  const auto before = world.Snapshot(victim);
  int swept = 0;
  for (const auto& who : attackers) {
    for (const auto& probe : probes) {
      const bool scoped = probe.target.find("{org}") != std::string::npos ||
                          probe.target.find("{project}") != std::string::npos;
      const bool names_victim = scoped || NamesPlaceholder(probe.target) ||
                                NamesPlaceholder(probe.body);
      std::string shapes[2];
      int statuses[2] = {0, 0};
      for (int ghost = 0; ghost < 2; ++ghost) {
        const Values values = PlatformValues(victim, probe.target, ghost == 1);
        const std::string target = Fill(probe.target, values);
        const std::string body = Fill(probe.body, values);
        const HttpReply reply = world.Call(probe.method, target, who, body);
        statuses[ghost] = reply.status;
        shapes[ghost] = Shape(reply, values, who);
        const auto leaks = socle::testing::Leaks(reply, victim.secrets, target + " " + body);
        if (!leaks.empty()) {
          findings.Add(who.label + ": " + probe.method + " " + target + " → " +
                       std::to_string(reply.status) + " leaked \"" + leaks.front() +
                       "\": " + reply.body.substr(0, 300));
        }
        if (reply.status >= 500) {
          findings.Add(who.label + ": " + probe.method + " " + target + " → " + reply.body);
        }
        if (!names_victim) break;  // the same request twice would only see its own effects
      }
      if (scoped && !kPublicRoutes.contains(probe.route) &&
          (statuses[0] != who.platform_refusal || statuses[1] != who.platform_refusal)) {
        findings.Add(who.label + ": " + probe.route + " answered " + std::to_string(statuses[0]) +
                     " (ghost: " + std::to_string(statuses[1]) + "), not " +
                     std::to_string(who.platform_refusal) + ": " + shapes[0]);
      }
      if (names_victim && shapes[0] != shapes[1]) {
        findings.Add(who.label + ": " + probe.route +
                     " tells the victim's resources from ghosts\n      real: " + shapes[0] +
                     "\n      ghost: " + shapes[1]);
      }
      ++swept;
    }
  }
  INFO(world.adapter() << ": " << swept << " route calls");
  CheckNoFindings(findings);
  CHECK(world.Snapshot(victim) == before);
}

// An attacker's view of a list: the ids it holds.
std::vector<std::string> ItemIds(const HttpReply& reply) {
  std::vector<std::string> ids;
  const JsonValue body = socle::testing::ReplyJson(reply);
  const JsonValue* items = body.Find("items");
  if (items == nullptr) return {"<not a list: " + reply.body + ">"};
  for (const auto& item : items->items()) ids.push_back(socle::testing::JsonText(item, {"id"}));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

TEST_CASE("cross-tenant: alpha's credentials get nothing of bravo's project data",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  SweepDataApi(world, world.bravo, world.bravo.main, world.CredentialsOf(world.alpha));
}

TEST_CASE("cross-tenant: bravo's credentials get nothing of alpha's project data",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  SweepDataApi(world, world.alpha, world.alpha.main, world.CredentialsOf(world.bravo));
}

TEST_CASE("cross-tenant: a project's own credentials get nothing of the organisation's other "
          "project",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  SweepDataApi(world, world.alpha, world.alpha.second,
               world.MainProjectCredentialsOf(world.alpha));
}

TEST_CASE("cross-tenant: alpha's credentials get nothing of bravo's organisation",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  SweepPlatformApi(world, world.bravo, world.CredentialsOf(world.alpha));
}

TEST_CASE("cross-tenant: bravo's credentials get nothing of alpha's organisation",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  SweepPlatformApi(world, world.alpha, world.CredentialsOf(world.bravo));
}

// The platform routes of alpha's own organisation that name a project in their body or query:
// bravo's project (by slug or by id) must be answered as a project that does not exist, and
// nothing bound to it (a key, a policy, an invitation of alpha reaching into bravo).
TEST_CASE("cross-tenant: alpha's organisation cannot bind, invite to or explain bravo's projects",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  const CrossTenant& a = world.alpha;
  const CrossTenant& b = world.bravo;
  const std::string org = "/api/v1/orgs/" + a.slug;
  struct Attempt {
    std::string method, target, body;
  };
  const std::vector<Attempt> attempts = {
      {"POST", org + "/apikeys",
       JsonBody({{"name", "reaching key"}, {"role", "project.admin"}, {"project", "{project}"}})},
      {"POST", org + "/policies",
       R"({"subject":{"kind":"member","id":")" + a.viewer.id +
           R"("},"role":"project.editor","project":"{project}"})"},
      {"POST", org + "/invitations",
       JsonBody({{"email", "reach@example.test"}, {"role", "project.editor"},
                 {"project", "{project}"}})},
      {"GET", org + "/explain?subject=member:" + a.viewer.id +
                  "&project={project}&permission=records.read",
       ""},
  };
  const auto before = world.Snapshot(b);
  const auto alpha_before = world.Snapshot(a);
  const std::vector<Credential> callers = {world.CredentialsOf(a).at(0),
                                           world.CredentialsOf(a).at(3)};
  for (const auto& who : callers) {
    for (const auto& attempt : attempts) {
      for (const auto& [real, ghost] : {std::pair{b.main.slug, std::string("ghost-shop")},
                                        std::pair{b.main.id, socle::testing::GhostId()}}) {
        std::string shapes[2];
        for (int i = 0; i < 2; ++i) {
          Values values;
          values.named = {{"{project}", i == 0 ? real : ghost}};
          const std::string target = Fill(attempt.target, values);
          const std::string body = Fill(attempt.body, values);
          const HttpReply reply = world.Call(attempt.method, target, who, body);
          INFO(who.label << ": " << attempt.method << " " << target << " " << body << " → "
                         << reply.status << " " << reply.body);
          CHECK((reply.status < 200 || reply.status >= 300));
          CHECK(reply.status < 500);
          CHECK(socle::testing::Leaks(reply, b.secrets, target + " " + body).empty());
          shapes[i] = Shape(reply, values, who);
        }
        INFO(who.label << ": " << attempt.method << " " << attempt.target);
        CHECK(shapes[0] == shapes[1]);
      }
    }
  }
  CHECK(world.Snapshot(b) == before);
  CHECK(world.Snapshot(a) == alpha_before);
}

TEST_CASE("cross-tenant: alpha's own project cannot point at, filter on or expand bravo's "
          "records",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  const CrossTenant& a = world.alpha;
  const CrossTenant& b = world.bravo;
  const std::string posts = "/p/" + a.main.slug + "/api/collections/posts/records";
  const std::string users = "/p/" + a.main.slug + "/api/collections/users/records";
  const auto& amy = a.main.users.front();
  const auto& bea = b.main.users.front();  // bravo's app user, whose id alpha has learnt
  const std::string amy_post = a.main.record_ids.at("posts").front();
  const auto before = world.Snapshot(b);

  // Alpha's own callers in alpha's own project: the app user (by the rules), the owner
  // (records.* there), the project key (every scope) and the organisation key (developer).
  const std::vector<std::pair<std::string, std::string>> callers = {
      {"alpha app user", amy.token},
      {"alpha owner", a.owner.access},
      {"alpha main project key", a.project_key},
      {"alpha organisation key", a.org_key},
  };
  // Sends `make(value)` once with bravo's real `value` and once with a ghost; the two answers
  // must be the same (the project knows nothing of bravo's ids) and hold nothing of bravo.
  auto alike = [&](const std::string& label, const std::string& token, const std::string& method,
                   const std::function<std::pair<std::string, std::string>(const std::string&)>&
                       make,
                   const std::string& real, const std::string& ghost) {
    std::string shapes[2];
    for (int i = 0; i < 2; ++i) {
      const std::string& value = i == 0 ? real : ghost;
      const auto [target, body] = make(value);
      const HttpReply reply = world.Bearer(method, target, token, body);
      INFO(label << ": " << method << " " << target << " " << body << " → " << reply.status
                 << " " << reply.body);
      CHECK(socle::testing::Leaks(reply, b.secrets, target + " " + body).empty());
      CHECK(reply.status < 500);
      shapes[i] = std::to_string(reply.status) + " " +
                  socle::testing::Normalised(reply.body, {{value, "{value}"}});
    }
    INFO(label << ": " << method);
    CHECK(shapes[0] == shapes[1]);
    return shapes[0];
  };

  const std::string ghost_user = socle::testing::GhostId();
  for (const auto& [label, token] : callers) {
    // A relation naming bravo's record: refused as a relation to a record that does not exist.
    const std::string created = alike(
        label, token, "POST",
        [&](const std::string& id) {
          return std::pair{posts + "?expand=author",
                           JsonBody({{"title", "pointing at bravo"}, {"author", id}})};
        },
        bea.id, ghost_user);
    CHECK(!created.starts_with("200"));
    const std::string updated = alike(
        label, token, "PATCH",
        [&](const std::string& id) {
          return std::pair{posts + "/" + amy_post + "?expand=author",
                           JsonBody({{"author", id}})};
        },
        bea.id, ghost_user);
    CHECK(!updated.starts_with("200"));
    // In a batch: the operation is refused the same way, and nothing is written.
    alike(
        label, token, "POST",
        [&](const std::string& id) {
          return std::pair{"/p/" + a.main.slug + "/api/batch",
                           R"({"requests":[{"method":"POST","url":"/api/collections/posts/records?expand=author",)"
                           R"("body":{"title":"batched","author":")" +
                               id + R"("}},{"method":"PATCH","url":"/api/collections/posts/records/)" +
                               amy_post + R"(","body":{"author":")" + id + R"("}}]})"};
        },
        bea.id, ghost_user);
    // Filters naming bravo's ids and e-mails find nothing, as ghosts do.
    for (const std::string& filter :
         {std::string(R"(author="{v}")"), std::string(R"(author.id="{v}" || id="{v}")"),
          std::string(R"(author.email="{v}")")}) {
      const bool email = filter.find("email") != std::string::npos;
      alike(
          label, token, "GET",
          [&](const std::string& value) {
            std::string text = filter;
            for (auto at = text.find("{v}"); at != std::string::npos; at = text.find("{v}")) {
              text.replace(at, 3, value);
            }
            return std::pair{posts + "?expand=author&filter=" + QueryEncode(text), std::string()};
          },
          email ? bea.email : bea.id, email ? "ghost@" + b.main.slug + ".test" : ghost_user);
    }
  }
  // The project key may name @collection (it acts as a superuser within its scopes): the
  // collection it reaches is alpha's, whatever bravo holds under the same name.
  alike(
      "alpha main project key", a.project_key, "GET",
      [&](const std::string& email) {
        return std::pair{posts + "?filter=" +
                             QueryEncode(R"(@collection.users.email=")" + email + R"(")"),
                         std::string()};
      },
      bea.email, "ghost@" + b.main.slug + ".test");
  alike(
      "alpha main project key", a.project_key, "GET",
      [&](const std::string& id) {
        return std::pair{users + "?filter=" + QueryEncode(R"(id=")" + id + R"(")"), std::string()};
      },
      bea.id, ghost_user);

  // Alpha's posts still point at alpha's users, and expand to them only.
  const HttpReply listed =
      world.Bearer("GET", posts + "?expand=author&perPage=100", a.project_key);
  REQUIRE(listed.status == 200);
  CHECK(ItemIds(listed) == Sorted(a.main.record_ids.at("posts")));
  CHECK(socle::testing::Leaks(listed, b.secrets, "").empty());
  CHECK(listed.body.find(amy.email) != std::string::npos);  // the expansion happened
  CHECK(world.Snapshot(b) == before);
}

// ---- the findings ----------------------------------------------------------------------------
// What the sweeps once found, each closed and guarded here. The first three were existence
// oracles of record writes: the create rule was decided after checks that look at other records
// (a relation's target, the chosen id), and a batch upsert picked update or create by the id's
// existence, whatever the caller could see.

namespace {

// The answers, compared, to `body` sent to bravo's main project's `path` as `who`, with
// bravo's real `value` and with a guess in its place ("{v}" in the body).
void CheckAlike(CrossTenantWorld& world, const Credential& who, const std::string& path,
                const std::string& body, const std::string& real, const std::string& guess) {
  const std::string target = "/p/" + world.bravo.main.slug + "/api" + path;
  std::string shapes[2];
  for (int i = 0; i < 2; ++i) {
    Values values;
    values.named = {{"{v}", i == 0 ? real : guess}};
    shapes[i] = Shape(world.Call("POST", target, who, Fill(body, values)), values, who);
  }
  INFO(who.label << ": POST " << target << " " << body << "\n  real:  " << shapes[0]
                 << "\n  guess: " << shapes[1]);
  CHECK(shapes[0] == shapes[1]);
}

}  // namespace

TEST_CASE("cross-tenant: a relation to a hidden record is answered as one to a missing record",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  const std::string bea = world.bravo.main.users.front().id;
  for (const Credential& who : {world.anonymous(), world.CredentialsOf(world.alpha).front()}) {
    CheckAlike(world, who, "/collections/posts/records", R"({"title":"probe","author":"{v}"})",
               bea, socle::testing::GhostId());
  }
}

TEST_CASE("cross-tenant: a create naming a hidden record's id is answered as one naming a free "
          "id",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  const std::string post = world.bravo.main.record_ids.at("posts").front();
  for (const Credential& who : {world.anonymous(), world.CredentialsOf(world.alpha).front()}) {
    CheckAlike(world, who, "/collections/posts/records", R"({"id":"{v}","title":"probe"})", post,
               socle::testing::GhostId());
  }
}

TEST_CASE("cross-tenant: a batch upsert of a hidden record is answered as one of a missing "
          "record",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  const std::string post = world.bravo.main.record_ids.at("posts").front();
  for (const Credential& who : {world.anonymous(), world.CredentialsOf(world.alpha).front()}) {
    CheckAlike(world, who, "/batch",
               R"({"requests":[{"method":"PUT","url":"/api/collections/posts/records",)"
               R"("body":{"id":"{v}","title":"probe"}}]})",
               post, socle::testing::GhostId());
  }
}

// A platform member's access token on a project where they hold nothing must not make them a
// signed-in caller there: PocketBase's most common rule, `@request.auth.id != ""` ("any
// signed-in user of the app"), would then let every member of every other organisation, and
// members of none, list, view and create bravo's records. (Found by this suite; fixed in
// PlatformCallers::Member, where such a member is a guest.)
TEST_CASE("cross-tenant: a rule admitting any signed-in caller admits no member of another "
          "organisation",
          "[http][tenancy][cross-tenant]") {
  auto stores = socle::testing::MakeCrossTenantStores();
  CrossTenantWorld world(*stores);
  const CrossTenant& b = world.bravo;
  // PocketBase's most common rule: "any signed-in user of the app".
  const std::string signed_in = R"(@request.auth.id != \"\")";
  const std::string base = "/p/" + b.main.slug + "/api/collections";
  const HttpReply board = world.Bearer(
      "POST", base, b.owner.access,
      R"({"name":"board","listRule":")" + signed_in + R"(","viewRule":")" + signed_in +
          R"(","createRule":")" + signed_in + R"(","fields":[{"name":"message","type":"text"}]})");
  INFO(board.body);
  REQUIRE(board.status == 200);
  const auto& bea = b.main.users.front();
  const HttpReply posted = world.Bearer("POST", base + "/board/records", bea.token,
                                        JsonBody({{"message", "Bravo board message"}}));
  INFO(posted.body);
  REQUIRE(posted.status == 200);
  const std::string message = socle::testing::JsonText(socle::testing::ReplyJson(posted), {"id"});
  // The control: bravo's app users read the board.
  const HttpReply own = world.Bearer("GET", base + "/board/records", bea.token);
  REQUIRE(own.status == 200);
  CHECK(own.body.find("Bravo board message") != std::string::npos);

  std::vector<Credential> strangers = world.CredentialsOf(world.alpha);
  strangers.push_back(world.nobody());
  for (const auto& who : strangers) {
    const HttpReply listed = world.Call("GET", base + "/board/records", who);
    const HttpReply viewed = world.Call("GET", base + "/board/records/" + message, who);
    const HttpReply wrote = world.Call("POST", base + "/board/records", who,
                                       JsonBody({{"message", "written by a stranger"}}));
    INFO(who.label << "\n  list: " << listed.status << " " << listed.body << "\n  view: "
                   << viewed.status << " " << viewed.body << "\n  create: " << wrote.status << " "
                   << wrote.body);
    CHECK(listed.body.find("Bravo board message") == std::string::npos);
    CHECK(viewed.body.find("Bravo board message") == std::string::npos);
    CHECK(wrote.status != 200);
  }
}
