// The page invitation e-mails link to (GET /_/invitations and its script), served as
// socle-server serves it (SetupApi registers it) by the in-process server over the memory
// stores. First what a browser is told: status, content type, the headers that keep the token
// in the address from travelling (no referrer, no cache, no framing, a policy that allows this
// origin's script and requests only), and that neither the page nor the script names any other
// origin. Then the script itself, run by Node.js against a small stand-in for the page's DOM
// (built from the served HTML's ids): it shows the invitation and accepts it as a new member,
// as an existing member who signs in, or declines it, and says so for a missing or unknown
// token; the server's state is checked after each.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <initializer_list>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "child_process.hpp"
#include "http_test_client.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/setup_api.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "support/temp_dir.hpp"
#include "test_server.hpp"

namespace http = socle::adapters::http;
namespace json = socle::adapters::json;
using socle::domain::JsonValue;
using socle::testing::HttpReply;

namespace {

constexpr std::string_view kPassword = "juniper-copper-meadow-47";

JsonValue Json(std::string_view text) {
  INFO(text);
  auto parsed = http::ParseJson(text);
  REQUIRE(parsed);
  return *parsed;
}

std::string Text(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* current = &value;
  for (std::string_view key : path) {
    if (current == nullptr || !current->IsObject()) return "<missing>";
    current = current->Find(key);
  }
  if (current == nullptr || current->type() != JsonValue::Type::kString) return "<missing>";
  return current->AsString();
}

bool Bool(const JsonValue& value, std::string_view key) {
  const JsonValue* found = value.Find(key);
  REQUIRE(found != nullptr);
  REQUIRE(found->type() == JsonValue::Type::kBool);
  return found->AsBool();
}

bool Flag(const JsonValue& value, std::string_view object, std::string_view key) {
  const JsonValue* inner = value.Find(object);
  REQUIRE(inner != nullptr);
  return Bool(*inner, key);
}

std::string Body(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  json::JsonWriter w;
  w.BeginObject();
  for (const auto& [key, value] : members) w.Key(key).String(value);
  w.EndObject();
  return std::move(w).Take();
}

// The in-process server with the platform, its sign-in and the built-in pages, and an
// organisation "acme" made by a superuser, who invites.
class PageWorld {
 public:
  PageWorld()
      : setup_(server_.world().superusers(), server_.clock(), "setup-token",
               server_.clock().Now()) {
    server_.ServePlatformSignIn();
    REQUIRE(setup_.Register(server_.router));
    server_.Start();
    root_ = server_.SuperuserToken();
    const HttpReply org =
        Call("POST", "/api/v1/orgs", root_, Body({{"slug", "acme"}, {"name", "Acme & Co"}}));
    INFO(org.body);
    REQUIRE(org.status == 201);
  }

  HttpReply Call(std::string_view method, std::string_view target, std::string_view token = {},
                 std::string body = {}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + std::string(token));
    return socle::testing::Fetch(server_.port(), method, target, std::move(body),
                                 std::move(headers));
  }

  // Invites `email` to acme as a developer; the invitation's token.
  std::string Invite(std::string_view email) {
    const HttpReply invited = Call("POST", "/api/v1/orgs/acme/invitations", root_,
                                   Body({{"email", email}, {"role", "developer"}}));
    INFO(invited.body);
    REQUIRE(invited.status == 201);
    return Text(Json(invited.body), {"token"});
  }

  // The invitation's state as the preview route tells it: 200 while pending, 409 after.
  int PreviewStatus(std::string_view token) {
    return Call("POST", "/api/v1/invitations/preview", {}, Body({{"token", token}})).status;
  }

  socle::testing::TestServer& server() { return server_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

 private:
  socle::testing::TestServer server_;
  http::SetupApi setup_;
  std::string root_;
};

// Every URL-valued attribute of the page points into this origin: a path, not "//host".
void CheckSameOriginAttributes(const std::string& html) {
  const std::regex attribute(R"re(\b(src|href|action|formaction|poster|data)\s*=\s*"([^"]*)")re",
                             std::regex::icase);
  int seen = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), attribute);
       it != std::sregex_iterator(); ++it) {
    const std::string value = (*it)[2].str();
    INFO((*it)[0].str());
    CHECK(value.starts_with("/"));
    CHECK_FALSE(value.starts_with("//"));
    ++seen;
  }
  CHECK(seen == 1);  // the script, and nothing else
}

// Neither an absolute URL (even in a comment) nor a data, blob or javascript address in a
// string or attribute, nor a protocol-relative one, nor a CSS import.
void CheckNamesNoOtherOrigin(const std::string& text) {
  const std::regex absolute(
      R"re(\b(https?|wss?|ftp)\s*:|["'`(=]\s*(data|blob|javascript)\s*:|url\(|@import)re",
      std::regex::icase);
  std::smatch match;
  INFO("found: " << (std::regex_search(text, match, absolute) ? match.str() : ""));
  CHECK_FALSE(std::regex_search(text, absolute));
  // A string literal opening with "//" would be a protocol-relative address.
  CHECK(text.find("'//") == std::string::npos);
  CHECK(text.find("\"//") == std::string::npos);
  CHECK(text.find("`//") == std::string::npos);
}

// Runs the page's script under Node.js as the browser would, against `base_url`: the page's
// elements are stand-ins made from the served HTML (its ids, which start hidden, its buttons),
// fetch() takes this origin's paths only and records every call. With an `action` (join,
// sign-in, decline) the form is filled with `fields` and submitted once the invitation shows.
// Prints what the page shows as JSON.
constexpr std::string_view kDriver = R"js(
const [base, token, action, fieldsJson] = process.argv.slice(2);
const fields = JSON.parse(fieldsJson || '{}');
setTimeout(() => { console.error('the page did not settle'); process.exit(3); }, 20000).unref();

class Element {
  constructor(tag) {
    this.tag = tag; this.textContent = ''; this.hidden = false; this.disabled = false;
    this.children = []; this.listeners = {}; this.values = {};
  }
  replaceChildren() { this.children = []; }
  appendChild(child) { this.children.push(child); }
  get childElementCount() { return this.children.length; }
  addEventListener(type, listener) { this.listeners[type] = listener; }
  get elements() {
    const values = this.values;
    return { namedItem: (name) => ({
      get value() { return values[name]; }, set value(v) { values[name] = v; } }) };
  }
}

const realFetch = globalThis.fetch;
const html = await (await realFetch(base + '/_/invitations')).text();
const script = await (await realFetch(base + '/_/invitations.js')).text();
const elements = new Map();
for (const tag of html.matchAll(/<(\w+)([^>]*)>/g)) {
  const id = /\bid="([^"]+)"/.exec(tag[2]);
  if (!id) continue;
  const element = new Element(tag[1]);
  element.hidden = /\shidden(\s|$|=)/.test(tag[2]);
  elements.set(id[1], element);
}
const buttons = [...html.matchAll(/<button/g)].map(() => new Element('button'));
const calls = [];
globalThis.document = {
  getElementById: (id) => elements.get(id) || null,
  createElement: (tag) => new Element(tag),
  querySelectorAll: (selector) => (selector === 'button' ? buttons : []),
};
globalThis.window = {
  location: { search: token ? '?token=' + encodeURIComponent(token) : '' },
  confirm: () => true,
};
globalThis.FormData = class {
  constructor(form) { this.values = form.values; }
  get(name) { return name in this.values ? this.values[name] : null; }
};
globalThis.fetch = (path, init) => {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
    throw new Error('a request outside this origin: ' + path);
  }
  calls.push({ path, bearer: Boolean(init.headers && init.headers.Authorization),
               referrerPolicy: init.referrerPolicy, credentials: init.credentials });
  return realFetch(base + path, init);
};

// The stand-ins start without text; the script's first word settles the page (it may come
// before the script returns, when there is no token).
const status = elements.get('status');
(0, eval)(script);
while (status.textContent === '') await new Promise((r) => setTimeout(r, 10));

let prevented = false;
if (action) {
  const form = elements.get(action);
  Object.assign(form.values, fields);
  await form.listeners.submit({ preventDefault() { prevented = true; } });
}
const shown = {};
for (const id of ['status', 'organisation', 'project', 'role', 'email', 'expires']) {
  shown[id] = elements.get(id).textContent;
}
const visible = {};
for (const id of ['invitation', 'join', 'sign-in', 'decline', 'project-row', 'problems']) {
  visible[id] = !elements.get(id).hidden;
}
console.log(JSON.stringify({
  shown, visible, calls, prevented,
  problems: elements.get('problems').children.map((item) => item.textContent),
  signInEmail: elements.get('sign-in').values.email || '',
  buttonsEnabled: buttons.every((button) => !button.disabled),
}));
)js";

// What the page showed after the script ran (and submitted `action`, when given).
JsonValue RunPage(const PageWorld& world, std::string_view token, std::string_view action = {},
                  std::string fields = "{}") {
  const std::string node = SOCLE_NODE_BIN;
  INFO("Node.js runs the page's script: install the Debian package nodejs");
  REQUIRE_FALSE(node.empty());
  socle::testing::TempDir dir;
  const std::string driver = dir / "page_driver.mjs";
  std::ofstream(driver) << kDriver;
  const auto run = socle::testing::RunProcess(
      node,
      {driver, world.base_url(), std::string(token), std::string(action), std::move(fields)},
      {}, std::chrono::seconds(30));
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  REQUIRE(run.exit_code == 0);
  return Json(run.out);
}

// The API paths the script called, in order.
std::vector<std::string> Paths(const JsonValue& page) {
  std::vector<std::string> out;
  const JsonValue* calls = page.Find("calls");
  REQUIRE(calls != nullptr);
  for (const JsonValue& call : calls->items()) out.push_back(Text(call, {"path"}));
  return out;
}

// Every request left without a referrer or credentials, as the page promises.
void CheckCallsKeepTheTokenHere(const JsonValue& page) {
  const JsonValue* calls = page.Find("calls");
  REQUIRE(calls != nullptr);
  for (const JsonValue& call : calls->items()) {
    INFO(Text(call, {"path"}));
    CHECK(Text(call, {"referrerPolicy"}) == "no-referrer");
    CHECK(Text(call, {"credentials"}) == "omit");
  }
}

}  // namespace

TEST_CASE("the invitation page is served self-contained, with headers that keep its token",
          "[http][invitations]") {
  PageWorld world;
  // The token in the address is the browser's business: the answer is the same without it.
  const HttpReply page = world.Call("GET", "/_/invitations?token=inv_secret-in-the-address");
  REQUIRE(page.status == 200);
  CHECK(page.Header("content-type") == "text/html; charset=utf-8");
  CHECK(page.Header("referrer-policy") == "no-referrer");
  CHECK(page.Header("cache-control") == "no-store");
  CHECK(page.Header("x-frame-options") == "DENY");
  CHECK(page.Header("x-content-type-options") == "nosniff");
  const std::string policy = page.Header("content-security-policy");
  CHECK(policy.find("default-src 'none'") != std::string::npos);
  CHECK(policy.find("script-src 'self'") != std::string::npos);
  CHECK(policy.find("connect-src 'self'") != std::string::npos);
  CHECK(policy.find("form-action 'none'") != std::string::npos);
  CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(policy.find("unsafe") == std::string::npos);
  CHECK(page.body.find("inv_secret") == std::string::npos);
  CHECK(page.body == world.Call("GET", "/_/invitations").body);

  CHECK(page.body.starts_with("<!doctype html>"));
  CHECK(page.body.find(R"(<meta name="referrer" content="no-referrer">)") != std::string::npos);
  // One script, from this origin, and no inline script or style the policy would have to allow.
  CHECK(page.body.find(R"(<script src="/_/invitations.js" defer></script>)") !=
        std::string::npos);
  const std::regex script_tag(R"(<script\b[^>]*>)", std::regex::icase);
  const auto scripts = std::distance(
      std::sregex_iterator(page.body.begin(), page.body.end(), script_tag), std::sregex_iterator());
  CHECK(scripts == 1);
  CHECK(page.body.find("<style") == std::string::npos);
  CHECK(page.body.find("style=") == std::string::npos);
  CHECK(std::regex_search(page.body, std::regex(R"(\bon[a-z]+\s*=)", std::regex::icase)) ==
        false);  // no inline event handlers
  CheckSameOriginAttributes(page.body);
  CheckNamesNoOtherOrigin(page.body);

  const HttpReply script = world.Call("GET", "/_/invitations.js");
  REQUIRE(script.status == 200);
  CHECK(script.Header("content-type") == "text/javascript; charset=utf-8");
  CHECK(script.Header("referrer-policy") == "no-referrer");
  CHECK(script.Header("x-content-type-options") == "nosniff");
  CheckNamesNoOtherOrigin(script.body);
  // It talks to the public invitation and sign-in routes only, and never builds markup.
  std::set<std::string> called;
  const std::regex post_call(R"(post\('([^']*)')");
  for (auto it = std::sregex_iterator(script.body.begin(), script.body.end(), post_call);
       it != std::sregex_iterator(); ++it) {
    called.insert((*it)[1].str());
  }
  CHECK(called == std::set<std::string>{"/api/v1/invitations/preview",
                                        "/api/v1/invitations/accept",
                                        "/api/v1/invitations/decline", "/api/v1/auth/login",
                                        "/api/v1/auth/logout"});
  CHECK(script.body.find("innerHTML") == std::string::npos);
  CHECK(script.body.find("outerHTML") == std::string::npos);
  CHECK(script.body.find("insertAdjacentHTML") == std::string::npos);
  CHECK(script.body.find("document.write") == std::string::npos);
  CHECK(script.body.find("eval(") == std::string::npos);

  // HEAD is answered like GET; nothing is accepted by a native form submission.
  CHECK(world.Call("HEAD", "/_/invitations").status == 200);
  CHECK(world.Call("POST", "/_/invitations", {}, "token=inv_x").status == 405);
  CHECK(world.Call("GET", "/_/invitations/extra").status == 404);
}

TEST_CASE("the invitation page's script lets a newcomer accept with a name and password",
          "[http][invitations][node]") {
  PageWorld world;
  const std::string token = world.Invite("newcomer@example.com");

  // Shown, not yet answered: the page only previews.
  const JsonValue shown = RunPage(world, token);
  CHECK(Text(shown, {"shown", "organisation"}) == "Acme & Co (acme)");
  CHECK(Text(shown, {"shown", "role"}) == "developer");
  CHECK(Text(shown, {"shown", "email"}) == "newcomer@example.com");
  CHECK_FALSE(Text(shown, {"shown", "expires"}).empty());
  CHECK(Text(shown, {"shown", "status"}).find("Acme & Co") != std::string::npos);
  CHECK(Flag(shown, "visible", "invitation"));
  CHECK(Flag(shown, "visible", "join"));
  CHECK_FALSE(Flag(shown, "visible", "sign-in"));
  CHECK_FALSE(Flag(shown, "visible", "project-row"));
  CHECK(Paths(shown) == std::vector<std::string>{"/api/v1/invitations/preview"});
  CheckCallsKeepTheTokenHere(shown);
  CHECK(world.PreviewStatus(token) == 200);

  // A password the server refuses is shown with its field, and the invitation stays open.
  const JsonValue weak =
      RunPage(world, token, "join", R"({"name":"New Comer","password":"short"})");
  CHECK(Flag(weak, "visible", "invitation"));
  CHECK(Flag(weak, "visible", "problems"));
  CHECK(Flag(weak, "visible", "join"));
  CHECK(Bool(weak, "buttonsEnabled"));
  REQUIRE(weak.Find("problems") != nullptr);
  CHECK_FALSE(weak.Find("problems")->items().empty());
  CHECK(world.PreviewStatus(token) == 200);

  const std::string fields =
      R"({"name":"New Comer","password":")" + std::string(kPassword) + R"("})";
  const JsonValue joined = RunPage(world, token, "join", fields);
  CHECK(Bool(joined, "prevented"));
  CHECK(Paths(joined) == std::vector<std::string>{"/api/v1/invitations/preview",
                                                  "/api/v1/invitations/accept"});
  CheckCallsKeepTheTokenHere(joined);
  CHECK(Text(joined, {"shown", "status"}).starts_with("You are now a member of Acme & Co."));
  CHECK_FALSE(Flag(joined, "visible", "invitation"));
  CHECK(Bool(joined, "buttonsEnabled"));
  // The newcomer exists, signs in with the chosen password and sees the organisation.
  const HttpReply login =
      world.Call("POST", "/api/v1/auth/login", {},
                 Body({{"email", "newcomer@example.com"}, {"password", kPassword}}));
  INFO(login.body);
  REQUIRE(login.status == 200);
  const JsonValue tokens = Json(login.body);
  CHECK(Text(tokens, {"member", "name"}) == "New Comer");
  CHECK(world.Call("GET", "/api/v1/orgs/acme", Text(tokens, {"accessToken"})).status == 200);
  CHECK(world.PreviewStatus(token) == 409);

  // The used link says why it no longer works.
  const JsonValue used = RunPage(world, token);
  CHECK_FALSE(Flag(used, "visible", "invitation"));
  CHECK_FALSE(Text(used, {"shown", "status"}).empty());
  CHECK(Text(used, {"shown", "status"}).find("Acme") == std::string::npos);
}

TEST_CASE("the invitation page's script signs an existing member in to accept, then out",
          "[http][invitations][node]") {
  PageWorld world;
  const std::string member_id = world.server().world().AddMember("known@example.com", kPassword);
  const std::string token = world.Invite("known@example.com");

  const JsonValue shown = RunPage(world, token);
  CHECK(Flag(shown, "visible", "sign-in"));
  CHECK_FALSE(Flag(shown, "visible", "join"));
  CHECK(Text(shown, {"signInEmail"}) == "known@example.com");

  const JsonValue wrong = RunPage(world, token, "sign-in", R"({"password":"not-the-password"})");
  CHECK(Paths(wrong) == std::vector<std::string>{"/api/v1/invitations/preview",
                                                 "/api/v1/auth/login"});
  CHECK(Flag(wrong, "visible", "invitation"));
  CHECK(world.PreviewStatus(token) == 200);

  const JsonValue joined =
      RunPage(world, token, "sign-in", R"({"password":")" + std::string(kPassword) + R"("})");
  CHECK(Paths(joined) ==
        std::vector<std::string>{"/api/v1/invitations/preview", "/api/v1/auth/login",
                                 "/api/v1/invitations/accept", "/api/v1/auth/logout"});
  // Only the accept carries the member's token.
  const auto& calls = joined.Find("calls")->items();
  REQUIRE(calls.size() == 4);
  CHECK_FALSE(Bool(calls[1], "bearer"));
  CHECK(Bool(calls[2], "bearer"));
  CHECK_FALSE(Bool(calls[3], "bearer"));
  CheckCallsKeepTheTokenHere(joined);
  CHECK(Text(joined, {"shown", "status"}) == "You are now a member of Acme & Co.");
  CHECK(world.PreviewStatus(token) == 409);
  // The session opened for the answer is over; the membership stays.
  auto sessions = world.server().world().sessions().Sessions(member_id);
  REQUIRE(sessions);
  CHECK(sessions->empty());
  const std::string access =
      world.server().world().SignIn("known@example.com", kPassword).access_token;
  CHECK(world.Call("GET", "/api/v1/orgs/acme", access).status == 200);
}

TEST_CASE("the invitation page's script declines, and explains links that hold nothing",
          "[http][invitations][node]") {
  PageWorld world;
  const std::string token = world.Invite("unsure@example.com");
  const JsonValue declined = RunPage(world, token, "decline");
  CHECK(Paths(declined) == std::vector<std::string>{"/api/v1/invitations/preview",
                                                    "/api/v1/invitations/decline"});
  CHECK(Text(declined, {"shown", "status"}) ==
        "You declined the invitation to Acme & Co. The link no longer works.");
  CHECK_FALSE(Flag(declined, "visible", "invitation"));
  CHECK(world.PreviewStatus(token) == 409);

  const JsonValue unknown = RunPage(world, "inv_no-such-invitation");
  CHECK(Text(unknown, {"shown", "status"}).starts_with("This invitation link is not valid"));
  CHECK_FALSE(Flag(unknown, "visible", "invitation"));

  const JsonValue empty = RunPage(world, "");
  CHECK(Text(empty, {"shown", "status"}).starts_with("This link holds no invitation"));
  CHECK(Paths(empty).empty());
  CHECK_FALSE(Flag(empty, "visible", "invitation"));
}
