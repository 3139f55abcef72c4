// The project data API end to end: the in-process server on port 0, the real use cases over the
// memory stores, one project "shop" of organisation "acme". Superusers are recognised by a test
// header; the production check (always false) is exercised separately.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "http_test_client.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/project_data_api.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/project_directory.hpp"
#include "support/test_ports.hpp"
#include "test_server.hpp"

namespace http = socle::adapters::http;
namespace application = socle::application;
using socle::adapters::http::JsonValue;
using socle::adapters::http::ParseJson;
using socle::testing::Fetch;
using socle::testing::HttpReply;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const Headers kSuperuser = {{"X-Test-Superuser", "yes"}};

bool TestSuperuserCheck(const http::Request& request) {
  return request.Header("x-test-superuser") == "yes";
}

// The wired server. Members are declared in construction order: the server references the
// catalogue, the API the use cases.
struct DataServer {
  explicit DataServer(http::SuperuserCheck check = TestSuperuserCheck)
      : api(collections, records, http::SuperusersBy(std::move(check))) {
    REQUIRE(orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}));
    REQUIRE(projects.Create({"shop", "acme", std::nullopt}));
    REQUIRE(api.Register(server.router));
    server.Start();
  }

  static application::RecordLimits Limits() {
    application::RecordLimits limits;
    limits.max_batch_requests = 3;
    return limits;
  }
  static http::HttpServerOptions Options() {
    http::HttpServerOptions options = socle::testing::TestServerOptions();
    options.max_body_bytes = std::size_t{1} << 20;
    return options;
  }

  HttpReply Send(std::string_view method, std::string_view target, std::string body = {},
                 Headers headers = {}) {
    return Fetch(server.port(), method, target, std::move(body), std::move(headers));
  }
  HttpReply AsSuperuser(std::string_view method, std::string_view target, std::string body = {},
                        Headers headers = {}) {
    headers.insert(headers.end(), kSuperuser.begin(), kSuperuser.end());
    return Send(method, target, std::move(body), std::move(headers));
  }

  socle::adapters::memory::MemoryCatalogueStore catalogue;
  socle::adapters::memory::MemoryProjectStores stores;
  socle::testing::ManualClock clock;
  socle::testing::SeededRandomSource random;
  application::ManageOrganisations orgs{catalogue, clock, random};
  application::ManageProjects projects{catalogue, clock, random};
  application::ProjectDirectory directory{catalogue, stores, clock};
  // Every change is audited, as socle-server wires it.
  static std::string Sha256Hex(std::string_view bytes) {
    return socle::adapters::crypto::ToHex(socle::adapters::crypto::Sha256(bytes));
  }
  application::AuditTrail trail{clock, random, &Sha256Hex};
  application::ManageCollections collections{directory, clock, random, &trail};
  application::ManageRecords records{directory, clock, random, Limits(), nullptr, {}, &trail};
  http::ProjectDataApi api;
  socle::testing::TestServer server{Options(), &catalogue};
};

JsonValue Json(const HttpReply& reply) {
  INFO(reply.body);
  auto parsed = ParseJson(reply.body);
  REQUIRE(parsed);
  return *parsed;
}

// The value at a path of member names (array items by index), or nullptr.
const JsonValue* At(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* current = &value;
  for (std::string_view key : path) {
    if (current->type() == JsonValue::Type::kArray) {
      const std::size_t index = std::stoul(std::string(key));
      if (index >= current->items().size()) return nullptr;
      current = &current->items()[index];
    } else {
      current = current->Find(key);
    }
    if (current == nullptr) return nullptr;
  }
  return current;
}

std::string Text(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* found = At(value, path);
  if (found == nullptr) return "<missing>";
  if (found->type() != JsonValue::Type::kString) return "<not a string>";
  return found->AsString();
}

std::int64_t Number(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* found = At(value, path);
  REQUIRE(found != nullptr);
  REQUIRE(found->AsInt64());
  return *found->AsInt64();
}

std::vector<std::string> Keys(const JsonValue& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.members()) keys.push_back(key);
  return keys;
}

constexpr std::string_view kPosts = "/p/shop/api/collections/posts/records";

// users {name, secret (hidden)}; posts {title (required), views, published, author → users,
// tags (multi select)} with list/view rules open to published posts and create open, update and
// delete open to everyone, so that the tests can exercise guests.
struct Blog : DataServer {
  Blog() {
    auto users = AsSuperuser("POST", "/p/shop/api/collections", R"({
      "name": "users", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
      "deleteRule": "",
      "fields": [{"name": "name", "type": "text"},
                 {"name": "secret", "type": "text", "hidden": true}]})");
    INFO(users.body);
    REQUIRE(users.status == 200);
    users_id = Text(Json(users), {"id"});
    auto posts = AsSuperuser("POST", "/p/shop/api/collections", R"({
      "name": "posts", "listRule": "published = true", "viewRule": "published = true",
      "createRule": "", "updateRule": "", "deleteRule": "",
      "fields": [{"name": "title", "type": "text", "required": true},
                 {"name": "views", "type": "number"},
                 {"name": "published", "type": "bool"},
                 {"name": "author", "type": "relation", "maxSelect": 1,
                  "collectionId": ")" + users_id + R"("},
                 {"name": "tags", "type": "select", "maxSelect": 3,
                  "values": ["a", "b", "c"]}]})");
    INFO(posts.body);
    REQUIRE(posts.status == 200);
  }

  // Creates a record as a superuser; returns its id.
  std::string Create(std::string_view collection, const std::string& body) {
    auto reply = AsSuperuser("POST", "/p/shop/api/collections/" + std::string(collection) +
                                         "/records",
                             body);
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    return Text(Json(reply), {"id"});
  }

  std::int64_t Count(std::string_view collection) {
    auto reply = AsSuperuser("GET", "/p/shop/api/collections/" + std::string(collection) +
                                        "/records?perPage=1");
    REQUIRE(reply.status == 200);
    return Number(Json(reply), {"totalItems"});
  }

  std::string users_id;
};

std::string Multipart(const std::vector<std::pair<std::string, std::string>>& fields,
                      std::string_view file_field = {}) {
  std::string body;
  for (const auto& [name, value] : fields) {
    body += "--B0undary\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value +
            "\r\n";
  }
  if (!file_field.empty()) {
    body += "--B0undary\r\nContent-Disposition: form-data; name=\"" + std::string(file_field) +
            "\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
  }
  return body + "--B0undary--\r\n";
}

const Headers kMultipart = {{"Content-Type", "multipart/form-data; boundary=B0undary"}};

}  // namespace

// --- collections

TEST_CASE("collection routes refuse everyone with the production superuser check",
          "[http][data][collections]") {
  DataServer t([](const http::Request&) { return false; });
  for (auto [method, target] : std::initializer_list<std::pair<std::string_view, std::string_view>>{
           {"GET", "/p/shop/api/collections"},
           {"POST", "/p/shop/api/collections"},
           {"PUT", "/p/shop/api/collections/import"},
           {"GET", "/p/shop/api/collections/posts"},
           {"PATCH", "/p/shop/api/collections/posts"},
           {"DELETE", "/p/shop/api/collections/posts"}}) {
    INFO(method << " " << target);
    // The test header opens nothing here: there is no back door.
    auto reply = t.Send(method, target, method == "GET" || method == "DELETE" ? "" : "{}",
                        kSuperuser);
    CHECK(reply.status == 401);
    CHECK(reply.body ==
          R"({"status":401,"message":"The request requires valid record authorization token.",)"
          R"("data":{}})");
  }
}

TEST_CASE("superusers manage collections", "[http][data][collections]") {
  DataServer t;
  CHECK(t.Send("GET", "/p/shop/api/collections").status == 401);

  auto created = t.AsSuperuser("POST", "/p/shop/api/collections",
                               R"({"name":"notes","fields":[{"name":"body","type":"text"}]})");
  INFO(created.body);
  REQUIRE(created.status == 200);
  const JsonValue note = Json(created);
  CHECK(Text(note, {"name"}) == "notes");
  CHECK(Text(note, {"id"}).starts_with("pbc_"));
  CHECK(Text(note, {"fields", "0", "name"}) == "id");  // system fields added
  CHECK(At(note, {"listRule"})->IsNull());              // superusers only by default

  SECTION("list, in PocketBase's page shape") {
    auto list = t.AsSuperuser("GET", "/p/shop/api/collections?perPage=10");
    REQUIRE(list.status == 200);
    const JsonValue page = Json(list);
    CHECK(Keys(page) ==
          std::vector<std::string>{"page", "perPage", "totalItems", "totalPages", "items"});
    CHECK(Number(page, {"totalItems"}) == 1);
    CHECK(Text(page, {"items", "0", "name"}) == "notes");
    CHECK(Number(Json(t.AsSuperuser("GET", "/p/shop/api/collections?page=2&perPage=1")),
                 {"page"}) == 2);
    CHECK(Json(t.AsSuperuser("GET", "/p/shop/api/collections?page=2&perPage=1"))
              .Find("items")
              ->items()
              .empty());
    CHECK(Keys(*At(Json(t.AsSuperuser("GET", "/p/shop/api/collections?fields=name")),
                   {"items", "0"})) == std::vector<std::string>{"name"});
    auto filtered = t.AsSuperuser("GET", "/p/shop/api/collections?filter=name%3D%27notes%27");
    CHECK(filtered.status == 400);
    CHECK(t.AsSuperuser("GET", "/p/shop/api/collections?page=x").status == 400);
  }
  SECTION("view by name or id") {
    CHECK(t.AsSuperuser("GET", "/p/shop/api/collections/notes").status == 200);
    CHECK(t.AsSuperuser("GET", "/p/shop/api/collections/" + Text(note, {"id"})).status == 200);
    CHECK(t.AsSuperuser("GET", "/p/shop/api/collections/nope").status == 404);
    CHECK(t.AsSuperuser("GET", "/p/nope/api/collections/notes").status == 404);
  }
  SECTION("update merges the body over the stored definition") {
    auto updated = t.AsSuperuser("PATCH", "/p/shop/api/collections/notes", R"({"listRule":""})");
    INFO(updated.body);
    REQUIRE(updated.status == 200);
    const JsonValue after = Json(updated);
    CHECK(Text(after, {"listRule"}).empty());
    CHECK(Text(after, {"fields", "1", "name"}) == "body");  // fields not sent are kept
    auto renamed = t.AsSuperuser("PATCH", "/p/shop/api/collections/notes", R"({"name":"memos"})");
    REQUIRE(renamed.status == 200);
    CHECK(t.AsSuperuser("GET", "/p/shop/api/collections/memos").status == 200);
    auto invalid = t.AsSuperuser("PATCH", "/p/shop/api/collections/memos", R"({"name":"a b"})");
    CHECK(invalid.status == 400);
    CHECK(At(Json(invalid), {"data", "name", "code"}) != nullptr);
    CHECK(t.AsSuperuser("PATCH", "/p/shop/api/collections/nope", "{}").status == 404);
    CHECK(t.AsSuperuser("PATCH", "/p/shop/api/collections/memos", "{bad").status == 400);
  }
  SECTION("a second collection with the same name is PocketBase's 400, not 409") {
    auto duplicate = t.AsSuperuser("POST", "/p/shop/api/collections", R"({"name":"notes"})");
    CHECK(duplicate.status == 400);
    CHECK(!Json(duplicate).Find("data")->members().empty());
  }
  SECTION("bodies that are not collections are refused") {
    CHECK(t.AsSuperuser("POST", "/p/shop/api/collections", R"({"name":5})").status == 400);
    CHECK(t.AsSuperuser("POST", "/p/shop/api/collections", "[]").status == 400);
    CHECK(t.AsSuperuser("POST", "/p/shop/api/collections", "x=1",
                        {{"Content-Type", "text/plain"}})
              .status == 400);
  }
  SECTION("delete") {
    CHECK(t.AsSuperuser("DELETE", "/p/shop/api/collections/notes").status == 204);
    CHECK(t.AsSuperuser("GET", "/p/shop/api/collections/notes").status == 404);
    CHECK(t.AsSuperuser("DELETE", "/p/shop/api/collections/notes").status == 404);
  }
  SECTION("import") {
    auto imported = t.AsSuperuser("PUT", "/p/shop/api/collections/import",
                                  R"({"collections":[{"name":"tags","fields":[]}],
                                      "deleteMissing":true})");
    INFO(imported.body);
    CHECK(imported.status == 204);
    CHECK(t.AsSuperuser("GET", "/p/shop/api/collections/tags").status == 200);
    CHECK(t.AsSuperuser("GET", "/p/shop/api/collections/notes").status == 404);  // deleted

    auto empty = t.AsSuperuser("PUT", "/p/shop/api/collections/import", R"({"collections":[]})");
    CHECK(empty.status == 400);
    CHECK(Text(Json(empty), {"data", "collections", "code"}) == "validation_required");
    auto flag = t.AsSuperuser("PUT", "/p/shop/api/collections/import",
                              R"({"collections":[{"name":"x"}],"deleteMissing":"yes"})");
    CHECK(flag.status == 400);
    CHECK(Text(Json(flag), {"data", "deleteMissing", "code"}) == "validation_invalid_type");
    auto bad = t.AsSuperuser("PUT", "/p/shop/api/collections/import",
                             R"({"collections":[{"name":7}]})");
    CHECK(bad.status == 400);
  }
}

// --- records

TEST_CASE("a record by id is a point read, a list a read, a change a worker's job",
          "[http][data][records]") {
  // Where the server may run each route (HttpServerOptions::loop_reads): only a read of one
  // record has a bounded cost whatever the collection's size.
  DataServer s;
  const auto dispatch = [&](http::Method method, std::string_view path) {
    auto found = s.server.router.Find(method, path);
    REQUIRE(found.outcome == http::Router::Match::Outcome::kFound);
    return found.route->dispatch;
  };
  const std::string records = "/p/shop/api/collections/posts/records";
  CHECK(dispatch(http::Method::kGet, records + "/abc") == http::Dispatch::kPointRead);
  CHECK(dispatch(http::Method::kGet, records) == http::Dispatch::kRead);
  CHECK(dispatch(http::Method::kGet, "/p/shop/api/collections/posts") == http::Dispatch::kRead);
  CHECK(dispatch(http::Method::kPost, records) == http::Dispatch::kWorker);
  CHECK(dispatch(http::Method::kPatch, records + "/abc") == http::Dispatch::kWorker);
  CHECK(dispatch(http::Method::kDelete, records + "/abc") == http::Dispatch::kWorker);
}

TEST_CASE("records are created, read, listed, updated and deleted", "[http][data][records]") {
  Blog t;
  auto created = t.Send("POST", std::string(kPosts),
                        R"({"title":"Hello","views":3,"published":true,"tags":["a","b"]})");
  INFO(created.body);
  REQUIRE(created.status == 200);
  const JsonValue post = Json(created);
  const std::string id = Text(post, {"id"});
  CHECK(Keys(post) == std::vector<std::string>{"collectionId", "collectionName", "id", "title",
                                               "views", "published", "author", "tags", "created",
                                               "updated"});
  CHECK(Text(post, {"collectionName"}) == "posts");
  CHECK(Number(post, {"views"}) == 3);
  CHECK(Text(post, {"tags", "1"}) == "b");

  auto view = t.Send("GET", std::string(kPosts) + "/" + id);
  REQUIRE(view.status == 200);
  CHECK(Json(view) == post);
  CHECK(t.Send("GET", std::string(kPosts) + "/" + id + "?fields=id,title").body ==
        R"({"id":")" + id + R"(","title":"Hello"})");

  t.Create("posts", R"({"title":"Second","views":1,"published":true})");
  t.Create("posts", R"({"title":"Draft","views":9,"published":false})");

  auto list = t.Send("GET", std::string(kPosts) + "?sort=-views&perPage=1");
  REQUIRE(list.status == 200);
  const JsonValue page = Json(list);
  CHECK(Number(page, {"totalItems"}) == 2);  // the draft is hidden by the list rule
  CHECK(Number(page, {"totalPages"}) == 2);
  CHECK(Number(page, {"perPage"}) == 1);
  CHECK(Text(page, {"items", "0", "title"}) == "Hello");
  auto filtered = Json(t.Send("GET", std::string(kPosts) + "?filter=views%3C2&skipTotal=1"));
  CHECK(Number(filtered, {"totalItems"}) == -1);
  REQUIRE(filtered.Find("items")->items().size() == 1);
  CHECK(Text(filtered, {"items", "0", "title"}) == "Second");
  CHECK(Number(Json(t.AsSuperuser("GET", std::string(kPosts))), {"totalItems"}) == 3);

  auto updated = t.Send("PATCH", std::string(kPosts) + "/" + id, R"({"views+":2})");
  INFO(updated.body);
  REQUIRE(updated.status == 200);
  CHECK(Number(Json(updated), {"views"}) == 5);

  CHECK(t.Send("DELETE", std::string(kPosts) + "/" + id).status == 204);
  CHECK(t.Send("GET", std::string(kPosts) + "/" + id).status == 404);
  CHECK(t.Send("DELETE", std::string(kPosts) + "/" + id).status == 404);
}

TEST_CASE("form bodies are read as PocketBase reads them", "[http][data][records]") {
  Blog t;
  SECTION("multipart values are strings, @jsonPayload values typed") {
    auto created = t.Send("POST", std::string(kPosts),
                          Multipart({{"title", "From a form"},
                                     {"views", "7"},
                                     {"published", "true"},
                                     {"tags", "a"},
                                     {"tags", "c"},
                                     {"@jsonPayload", R"({"title":"From JSON"})"}}),
                          kMultipart);
    INFO(created.body);
    REQUIRE(created.status == 200);
    const JsonValue post = Json(created);
    CHECK(Text(post, {"title"}) == "From JSON");  // the payload wins
    CHECK(Number(post, {"views"}) == 7);
    CHECK(At(post, {"published"})->AsBool());
    CHECK(Text(post, {"tags", "1"}) == "c");
  }
  SECTION("a form value spelling a JSON list fills a multiple field") {
    auto created = t.Send("POST", std::string(kPosts),
                          Multipart({{"title", "Listed"}, {"tags", R"(["a","b"])"}}), kMultipart);
    INFO(created.body);
    REQUIRE(created.status == 200);
    const JsonValue post = Json(created);
    CHECK(Text(post, {"tags", "0"}) == "a");
    CHECK(Text(post, {"tags", "1"}) == "b");
  }
  SECTION("urlencoded") {
    auto created = t.Send("POST", std::string(kPosts), "title=Url+encoded&views=2",
                          {{"Content-Type", "application/x-www-form-urlencoded"}});
    INFO(created.body);
    REQUIRE(created.status == 200);
    CHECK(Text(Json(created), {"title"}) == "Url encoded");
  }
  SECTION("files are refused until file storage exists") {
    auto upload = t.Send("POST", std::string(kPosts), Multipart({{"title", "x"}}, "doc"),
                         kMultipart);
    CHECK(upload.status == 400);
    CHECK(Text(Json(upload), {"data", "doc", "code"}) == "validation_invalid_file");
    CHECK(t.Count("posts") == 0);
  }
  SECTION("malformed bodies") {
    CHECK(t.Send("POST", std::string(kPosts), "{\"title\":", {}).status == 400);
    CHECK(t.Send("POST", std::string(kPosts), "[1]").status == 400);
    auto plain = t.Send("POST", std::string(kPosts), "title", {{"Content-Type", "text/plain"}});
    CHECK(plain.status == 400);
    CHECK(Text(Json(plain), {"message"}).starts_with("Unsupported Content-Type"));
    CHECK(t.Send("POST", std::string(kPosts), "--x--", {{"Content-Type", "multipart/form-data"}})
              .status == 400);
    auto broken = t.Send("POST", std::string(kPosts), "--B0undary\r\nno end", kMultipart);
    CHECK(broken.status == 400);
    CHECK(Text(Json(broken), {"message"}).starts_with("Malformed form body"));
    auto payload = t.Send("POST", std::string(kPosts),
                          Multipart({{"@jsonPayload", "[1]"}}), kMultipart);
    CHECK(payload.status == 400);
    CHECK(Text(Json(payload), {"data", "@jsonPayload", "code"}) == "validation_invalid_json");
    CHECK(t.Count("posts") == 0);
  }
  SECTION("an empty body is an empty object") {
    auto empty = t.Send("POST", std::string(kPosts), "", {{"Content-Type", "text/plain"}});
    CHECK(empty.status == 400);  // validation: title is required, not a body error
    CHECK(Text(Json(empty), {"data", "title", "code"}) == "validation_required");
  }
}

TEST_CASE("records API errors have PocketBase's statuses and shapes", "[http][data][errors]") {
  Blog t;
  const std::string id = t.Create("posts", R"({"title":"Hidden","published":false})");

  SECTION("unknown or malformed project, unknown collection") {
    CHECK(t.Send("GET", "/p/nope/api/collections/posts/records").status == 404);
    CHECK(t.Send("GET", "/p/NOT_A_SLUG!/api/collections/posts/records").status == 404);
    auto missing = t.Send("GET", "/p/shop/api/collections/nope/records");
    CHECK(missing.status == 404);
    CHECK(Text(Json(missing), {"message"}) == "Missing collection context.");
    CHECK(t.Send("POST", "/p/shop/api/collections/nope/records", "{}").status == 404);
  }
  SECTION("bad query parameters name the problem") {
    for (std::string_view query : {"filter=title%3D%3D", "filter=nope%3D1", "sort=nope",
                                   "fields=a..b", "fields=title:bogus(1)",
                                   "page=abc", "perPage=1.5", "skipTotal=maybe"}) {
      INFO(query);
      auto reply = t.Send("GET", std::string(kPosts) + "?" + std::string(query));
      CHECK(reply.status == 400);
      CHECK_FALSE(Text(Json(reply), {"message"}).empty());
    }
    CHECK(Text(Json(t.Send("GET", std::string(kPosts) + "?page=abc")), {"data", "page", "code"}) ==
          "validation_invalid_number");
    CHECK(Text(Json(t.Send("GET", std::string(kPosts) + "?perPage=abc")), {"message"}) ==
          "Invalid perPage parameter.");
    CHECK(Text(Json(t.Send("GET", std::string(kPosts) + "?skipTotal=maybe")), {"message"}) ==
          "Invalid skipTotal parameter.");
    // An unknown relation is refused once there is a record to expand (the superuser sees one).
    CHECK(t.AsSuperuser("GET", std::string(kPosts) + "?expand=nope").status == 400);
    CHECK(t.AsSuperuser("GET", std::string(kPosts) + "/" + id + "?expand=nope").status == 400);
  }
  SECTION("guests may not filter by @request or @collection") {
    auto reply = t.Send("GET", std::string(kPosts) + "?filter=%40request.method%3D%22GET%22");
    CHECK(reply.status == 403);
    CHECK(Text(Json(reply), {"message"}) == "Only superusers can filter by @request.");
    CHECK(t.Send("GET", std::string(kPosts) + "?sort=@collection.users.name").status == 403);
    CHECK(t.AsSuperuser("GET", std::string(kPosts) + "?filter=%40request.method%3D%22GET%22")
              .status == 200);
  }
  SECTION("a record the view rule hides is not found; a null rule is superusers only") {
    CHECK(t.Send("GET", std::string(kPosts) + "/" + id).status == 404);
    CHECK(t.AsSuperuser("GET", std::string(kPosts) + "/" + id).status == 200);
    REQUIRE(t.AsSuperuser("PATCH", "/p/shop/api/collections/posts", R"({"createRule":null})")
                .status == 200);
    auto forbidden = t.Send("POST", std::string(kPosts), R"({"title":"x"})");
    CHECK(forbidden.status == 403);
    CHECK(Text(Json(forbidden), {"message"}) == "Only superusers can perform this action.");
  }
  SECTION("validation errors are keyed by field") {
    auto invalid = t.Send("POST", std::string(kPosts), R"({"views":"many","tags":["zzz"]})");
    CHECK(invalid.status == 400);
    const JsonValue body = Json(invalid);
    CHECK(Text(body, {"data", "title", "code"}) == "validation_required");
    CHECK(Text(body, {"data", "tags", "code"}) == "validation_invalid_value");
    auto dangling =
        t.Send("POST", std::string(kPosts), R"({"title":"x","author":"nobody12345678"})");
    CHECK(dangling.status == 400);
    CHECK(Text(Json(dangling), {"data", "author", "code"}) == "validation_missing_rel_records");
  }
  SECTION("a taken id is PocketBase's 400") {
    auto again = t.AsSuperuser("POST", std::string(kPosts),
                               R"({"id":")" + id + R"(","title":"Twin"})");
    CHECK(again.status == 400);
    CHECK_FALSE(Json(again).Find("data")->members().empty());
  }
}

TEST_CASE("hidden fields and expansions", "[http][data][expand]") {
  Blog t;
  const std::string ann = t.Create("users", R"({"name":"Ann","secret":"s3"})");
  const std::string post =
      t.Create("posts", R"({"title":"Hi","published":true,"author":")" + ann + R"("})");

  auto guest = Json(t.Send("GET", "/p/shop/api/collections/users/records/" + ann));
  CHECK(guest.Find("secret") == nullptr);
  auto superuser = Json(t.AsSuperuser("GET", "/p/shop/api/collections/users/records/" + ann));
  CHECK(Text(superuser, {"secret"}) == "s3");
  CHECK(t.Send("GET", "/p/shop/api/collections/users/records?filter=secret%3D%22s3%22").status ==
        400);  // hidden fields are not filterable by guests

  auto expanded = Json(t.Send("GET", std::string(kPosts) + "/" + post + "?expand=author"));
  CHECK(Text(expanded, {"expand", "author", "name"}) == "Ann");
  CHECK(At(expanded, {"expand", "author", "secret"}) == nullptr);
  auto picked = t.Send("GET", std::string(kPosts) + "/" + post +
                                  "?expand=author&fields=title,expand.author.name");
  CHECK(picked.body == R"({"title":"Hi","expand":{"author":{"name":"Ann"}}})");
  auto listed = Json(t.Send("GET", std::string(kPosts) + "?expand=author"));
  CHECK(Text(listed, {"items", "0", "expand", "author", "id"}) == ann);
  auto back = Json(t.Send("GET", "/p/shop/api/collections/users/records/" + ann +
                                     "?expand=posts_via_author"));
  CHECK(Text(back, {"expand", "posts_via_author", "0", "title"}) == "Hi");

  auto excerpt = t.Send("GET", std::string(kPosts) + "/" + post + "?fields=title:excerpt(1,true)");
  CHECK(excerpt.body == R"({"title":"H..."})");
}

// --- batch

TEST_CASE("batches run in one transaction", "[http][data][batch]") {
  Blog t;
  const std::string existing = t.Create("posts", R"({"title":"Old","published":true})");

  SECTION("success: one result per request, in order") {
    auto reply = t.Send("POST", "/p/shop/api/batch", R"({"requests":[
      {"method":"POST","url":"/api/collections/posts/records?fields=title","body":{"title":"New"}},
      {"method":"PATCH","url":"/api/collections/posts/records/)" + existing + R"(",
       "body":{"title":"Renamed","published":true}},
      {"method":"DELETE","url":"/api/collections/posts/records/)" + existing + R"("}]})");
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    const JsonValue results = Json(reply);
    REQUIRE(results.items().size() == 3);
    CHECK(Keys(results.items()[0]) == std::vector<std::string>{"body", "status"});
    CHECK(Number(results, {"0", "status"}) == 200);
    CHECK(Keys(*At(results, {"0", "body"})) == std::vector<std::string>{"title"});
    CHECK(Text(results, {"1", "body", "title"}) == "Renamed");
    CHECK(Number(results, {"2", "status"}) == 204);
    CHECK(At(results, {"2", "body"})->IsNull());
    CHECK(t.Count("posts") == 1);
  }
  SECTION("upsert creates or updates by body id") {
    auto reply = t.Send("POST", "/p/shop/api/batch", R"({"requests":[
      {"method":"PUT","url":"/api/collections/posts/records",
       "body":{"id":")" + existing + R"(","title":"Upserted","published":true}},
      {"method":"PUT","url":"/api/collections/posts/records","body":{"title":"Brand new"}}]})");
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    CHECK(Text(Json(reply), {"0", "body", "id"}) == existing);
    CHECK(t.Count("posts") == 2);
  }
  SECTION("failure: PocketBase's shape, and nothing written") {
    auto reply = t.Send("POST", "/p/shop/api/batch", R"({"requests":[
      {"method":"POST","url":"/api/collections/posts/records","body":{"title":"Kept?"}},
      {"method":"POST","url":"/api/collections/posts/records","body":{"views":1}}]})");
    CHECK(reply.status == 400);
    const JsonValue body = Json(reply);
    CHECK(Text(body, {"message"}) == "Batch transaction failed.");
    const JsonValue* failed = At(body, {"data", "requests", "1"});
    REQUIRE(failed != nullptr);
    CHECK(Text(*failed, {"code"}) == "batch_request_failed");
    CHECK(Text(*failed, {"message"}) == "Batch request failed.");
    CHECK(Number(*failed, {"response", "status"}) == 400);
    CHECK(Text(*failed, {"response", "data", "title", "code"}) == "validation_required");
    CHECK(t.Count("posts") == 1);  // the first create was rolled back
  }
  SECTION("an unknown collection or action fails its request") {
    auto missing = Json(t.Send("POST", "/p/shop/api/batch", R"({"requests":[
      {"method":"POST","url":"/api/collections/nope/records","body":{}}]})"));
    CHECK(Number(missing, {"data", "requests", "0", "response", "status"}) == 404);
    auto action = t.Send("POST", "/p/shop/api/batch", R"({"requests":[
      {"method":"POST","url":"/api/collections/posts/records","body":{"title":"a"}},
      {"method":"GET","url":"/api/collections/posts/records"}]})");
    CHECK(action.status == 400);
    CHECK(Text(Json(action), {"data", "requests", "1", "code"}) == "batch_request_failed");
    auto fields = Json(t.Send("POST", "/p/shop/api/batch", R"({"requests":[
      {"method":"POST","url":"/api/collections/posts/records?fields=a..b","body":{}}]})"));
    CHECK(Number(fields, {"data", "requests", "0", "response", "status"}) == 400);
    CHECK(t.Count("posts") == 1);
  }
  SECTION("the request list is validated first") {
    auto empty = t.Send("POST", "/p/shop/api/batch", R"({"requests":[]})");
    CHECK(empty.status == 400);
    CHECK(Text(Json(empty), {"data", "requests", "code"}) == "validation_required");
    CHECK(Text(Json(t.Send("POST", "/p/shop/api/batch", "{}")), {"data", "requests", "code"}) ==
          "validation_required");
    std::string four = R"({"requests":[)";
    for (int i = 0; i < 4; ++i) {
      four += std::string(i ? "," : "") +
              R"({"method":"POST","url":"/api/collections/posts/records","body":{"title":"x"}})";
    }
    auto too_many = t.Send("POST", "/p/shop/api/batch", four + "]}");
    CHECK(too_many.status == 400);
    CHECK(Text(Json(too_many), {"data", "requests", "code"}) == "validation_length_too_long");
    auto malformed = t.Send("POST", "/p/shop/api/batch",
                            R"({"requests":[{"url":"/api/collections/posts/records"},5]})");
    CHECK(malformed.status == 400);
    CHECK(Text(Json(malformed), {"data", "requests.0.method", "code"}) == "validation_required");
    CHECK(Text(Json(malformed), {"data", "requests.1", "code"}) == "validation_invalid_type");
    CHECK(t.Send("POST", "/p/shop/api/batch", R"({"requests":{}})").status == 400);
    CHECK(t.Count("posts") == 1);
  }
  SECTION("the SDK's multipart batch") {
    auto reply = t.Send(
        "POST", "/p/shop/api/batch",
        Multipart({{"@jsonPayload",
                    R"({"requests":[{"method":"POST","url":"/api/collections/posts/records",)"
                    R"("body":{"title":"Via SDK","views":2}}]})"}}),
        kMultipart);
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    CHECK(Number(Json(reply), {"0", "body", "views"}) == 2);
  }
  SECTION("an unknown project is a plain 404") {
    auto reply = t.Send("POST", "/p/nope/api/batch", R"({"requests":[
      {"method":"POST","url":"/api/collections/posts/records","body":{}}]})");
    CHECK(reply.status == 404);
    CHECK(Json(reply).Find("data")->members().empty());
  }
}

// --- CORS

TEST_CASE("the data API answers CORS as PocketBase does by default", "[http][data][cors]") {
  Blog t;
  auto preflight = t.Send("OPTIONS", std::string(kPosts), {},
                          {{"Origin", "https://app.example"},
                           {"Access-Control-Request-Method", "POST"},
                           {"Access-Control-Request-Headers", "content-type,authorization"}});
  CHECK(preflight.status == 204);
  CHECK(preflight.Header("access-control-allow-origin") == "*");
  CHECK(preflight.Header("access-control-allow-methods") == "GET,HEAD,PUT,PATCH,POST,DELETE");
  CHECK(preflight.Header("access-control-allow-headers") == "content-type,authorization");
  CHECK(preflight.Header("vary").starts_with("Origin"));

  auto bare = t.Send("OPTIONS", "/p/shop/api/batch");
  CHECK(bare.status == 204);
  CHECK_FALSE(bare.HasHeader("access-control-allow-origin"));

  auto simple = t.Send("GET", std::string(kPosts), {}, {{"Origin", "https://app.example"}});
  CHECK(simple.status == 200);
  CHECK(simple.Header("access-control-allow-origin") == "*");
  CHECK(simple.Header("vary") == "Origin");
  auto error = t.Send("GET", "/p/shop/api/collections/nope/records", {}, {{"Origin", "x://y"}});
  CHECK(error.status == 404);
  CHECK(error.Header("access-control-allow-origin") == "*");  // errors are readable too
  CHECK_FALSE(t.Send("GET", std::string(kPosts)).HasHeader("access-control-allow-origin"));
  for (std::string_view path : {"/p/shop/api/collections", "/p/shop/api/collections/import",
                                "/p/shop/api/collections/posts"}) {
    CHECK(t.Send("OPTIONS", path, {}, {{"Origin", "https://app.example"}}).status == 204);
  }
}

// --- documentation

// The /p/ operations of docs/api/openapi.yaml and the routes the data API registers must match
// (OPTIONS preflights included), so an undocumented route or a stale document fails here.
TEST_CASE("openapi.yaml documents exactly the data API's routes", "[http][data][openapi]") {
  socle::adapters::memory::MemoryCatalogueStore catalogue;
  socle::adapters::memory::MemoryProjectStores stores;
  socle::testing::ManualClock clock;
  socle::testing::SeededRandomSource random;
  application::ProjectDirectory directory(catalogue, stores, clock);
  application::ManageCollections collections(directory, clock, random);
  application::ManageRecords records(directory, clock, random);
  http::ProjectDataApi api(collections, records, http::SuperusersBy(TestSuperuserCheck));
  http::Router router;
  REQUIRE(api.Register(router));
  std::set<std::string> registered;
  for (const auto& route : router.routes()) {
    registered.insert(std::string(http::ToString(route->method)) + " " + route->pattern);
  }

  std::ifstream in(SOCLE_OPENAPI_FILE);
  REQUIRE(in.good());
  const std::regex path_line(R"(^  (/p/[^:]*):\s*$)");
  const std::regex other_path(R"(^  /.*:\s*$)");
  const std::regex method_line(R"(^    (get|put|post|patch|delete|options):\s*$)");
  std::set<std::string> documented;
  std::string path;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, path_line)) {
      path = m[1];
    } else if (std::regex_match(line, other_path)) {
      path.clear();
    } else if (!path.empty() && std::regex_match(line, m, method_line)) {
      std::string method = m[1];
      std::transform(method.begin(), method.end(), method.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      documented.insert(method + " " + path);
    }
  }
  // This API is registered without authentication: its routes (auth-*, request-*, confirm-*)
  // are checked with authentication wired by openapi_routes_test.cpp.
  std::erase_if(documented, [](const std::string& op) {
    return op.find("/auth-") != std::string::npos || op.find("/request-") != std::string::npos ||
           op.find("/confirm-") != std::string::npos;
  });
  CHECK(registered.size() == 20);
  CHECK(documented == registered);
}

// --- settings

namespace {

// The data API wired with the settings use case, as socle-server wires it.
struct SettingsServer {
  explicit SettingsServer(http::SuperuserCheck check = TestSuperuserCheck)
      : api(collections, records, settings, http::SuperusersBy(std::move(check))) {
    REQUIRE(orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}));
    REQUIRE(projects.Create({"shop", "acme", std::nullopt}));
    REQUIRE(api.Register(server.router));
    server.Start();
  }

  HttpReply Send(std::string_view method, std::string_view target, std::string body = {},
                 Headers headers = {}) {
    return Fetch(server.port(), method, target, std::move(body), std::move(headers));
  }
  HttpReply AsSuperuser(std::string_view method, std::string_view target, std::string body = {}) {
    return Send(method, target, std::move(body), kSuperuser);
  }
  // A batch of `count` creates in the notes collection.
  HttpReply BatchOf(int count) {
    std::string body = R"({"requests":[)";
    for (int i = 0; i < count; ++i) {
      body += std::string(i ? "," : "") +
              R"({"method":"POST","url":"/api/collections/notes/records","body":{"text":"n"}})";
    }
    return Send("POST", "/p/shop/api/batch", body + "]}");
  }

  socle::adapters::memory::MemoryCatalogueStore catalogue;
  socle::adapters::memory::MemoryProjectStores stores;
  socle::testing::ManualClock clock;
  socle::testing::SeededRandomSource random;
  application::ManageOrganisations orgs{catalogue, clock, random};
  application::ManageProjects projects{catalogue, clock, random};
  application::ProjectDirectory directory{catalogue, stores, clock};
  application::ManageCollections collections{directory, clock, random};
  application::ManageSettings settings{directory, catalogue, clock};
  application::ManageRecords records{directory, clock, random, {}, &settings};
  http::ProjectDataApi api;
  socle::testing::TestServer server{socle::testing::TestServerOptions(), &catalogue};
};

}  // namespace

TEST_CASE("settings routes refuse everyone with the production superuser check",
          "[http][data][settings]") {
  SettingsServer t([](const http::Request&) { return false; });
  for (auto method : {"GET", "PATCH"}) {
    auto reply = t.Send(method, "/p/shop/api/settings",
                        std::string_view(method) == "PATCH" ? R"({"meta":{"appName":"X"}})" : "",
                        kSuperuser);
    INFO(method);
    CHECK(reply.status == 401);
    CHECK(Text(Json(reply), {"message"}) ==
          "The request requires valid record authorization token.");
  }
  CHECK(t.settings.Get("shop").value().meta.app_name == "Acme");  // nothing changed
  CHECK(t.Send("OPTIONS", "/p/shop/api/settings", {}, {{"Origin", "https://app.example"}})
            .status == 204);
}

TEST_CASE("superusers read and patch the project's settings", "[http][data][settings]") {
  SettingsServer t;

  auto initial = t.AsSuperuser("GET", "/p/shop/api/settings");
  INFO(initial.body);
  REQUIRE(initial.status == 200);
  const JsonValue defaults = Json(initial);
  CHECK(Keys(defaults) == std::vector<std::string>{"meta", "rateLimits", "trustedProxy", "batch"});
  CHECK(Text(defaults, {"meta", "appName"}) == "Acme");
  CHECK(At(defaults, {"batch", "enabled"})->AsBool());
  CHECK(Number(defaults, {"batch", "maxRequests"}) == 50);
  CHECK(At(defaults, {"rateLimits", "rules"})->items().size() == 4);
  CHECK(At(defaults, {"trustedProxy", "headers"})->items().empty());

  SECTION("members sent replace, the others stay, unknown groups are ignored") {
    auto patched = t.AsSuperuser("PATCH", "/p/shop/api/settings", R"({
      "meta": {"appName": "Shop", "appURL": "https://shop.example.com"},
      "batch": {"maxRequests": 2},
      "trustedProxy": {"headers": ["X-Forwarded-For"]},
      "smtp": {"enabled": true, "password": "secret"}})");
    INFO(patched.body);
    REQUIRE(patched.status == 200);
    const JsonValue body = Json(patched);
    CHECK(Text(body, {"meta", "appName"}) == "Shop");
    CHECK(Text(body, {"meta", "senderName"}) == "Support");
    CHECK(Number(body, {"batch", "maxRequests"}) == 2);
    CHECK(At(body, {"batch", "enabled"})->AsBool());
    CHECK(body.Find("smtp") == nullptr);
    CHECK(Json(t.AsSuperuser("GET", "/p/shop/api/settings")) == body);
    CHECK(patched.body.find("secret") == std::string::npos);
  }
  SECTION("fields selects, as on every PocketBase answer") {
    auto reply = t.AsSuperuser("GET", "/p/shop/api/settings?fields=batch.enabled,meta.appName");
    REQUIRE(reply.status == 200);
    CHECK(reply.body == R"({"meta":{"appName":"Acme"},"batch":{"enabled":true}})");
  }
  SECTION("invalid settings: PocketBase's message, every bad field, nothing stored") {
    auto refused = t.AsSuperuser("PATCH", "/p/shop/api/settings", R"({
      "meta": {"appName": "", "appURL": "nope"},
      "rateLimits": {"rules": [{"label": "bad label!", "maxRequests": 0, "duration": 1}]}})");
    CHECK(refused.status == 400);
    const JsonValue body = Json(refused);
    CHECK(Text(body, {"message"}) == "An error occurred while saving the new settings.");
    CHECK(Text(body, {"data", "meta.appName", "code"}) == "validation_required");
    CHECK(Text(body, {"data", "meta.appURL", "code"}) == "validation_is_url");
    CHECK(Text(body, {"data", "rateLimits.rules.0.label", "code"}) == "validation_match_invalid");
    CHECK(Text(body, {"data", "rateLimits.rules.0.maxRequests", "code"}) ==
          "validation_required");
    CHECK(Json(t.AsSuperuser("GET", "/p/shop/api/settings")) == defaults);

    auto mistyped = t.AsSuperuser("PATCH", "/p/shop/api/settings",
                                  R"({"batch": {"maxRequests": "ten"}})");
    CHECK(mistyped.status == 400);
    CHECK(Text(Json(mistyped), {"message"}) ==
          "An error occurred while loading the submitted data.");
    CHECK(Text(Json(mistyped), {"data", "batch.maxRequests", "code"}) ==
          "validation_invalid_type");
    CHECK(t.AsSuperuser("PATCH", "/p/shop/api/settings", "[1]").status == 400);
  }
  SECTION("an unknown project is 404") {
    CHECK(t.AsSuperuser("GET", "/p/nope/api/settings").status == 404);
    CHECK(t.AsSuperuser("PATCH", "/p/nope/api/settings", "{}").status == 404);
  }
}

TEST_CASE("batches follow the project's settings", "[http][data][settings][batch]") {
  SettingsServer t;
  REQUIRE(t.AsSuperuser("POST", "/p/shop/api/collections",
                        R"({"name":"notes","createRule":"","listRule":"",)"
                        R"("fields":[{"name":"text","type":"text"}]})")
              .status == 200);
  auto patch = [&](std::string body) {
    auto reply = t.AsSuperuser("PATCH", "/p/shop/api/settings", std::move(body));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
  };

  CHECK(t.BatchOf(4).status == 200);  // enabled by default
  patch(R"({"batch": {"maxRequests": 2}})");
  auto too_many = t.BatchOf(3);
  CHECK(too_many.status == 400);
  CHECK(Text(Json(too_many), {"data", "requests", "message"}) ==
        "The length must be no more than 2.");
  CHECK(t.BatchOf(2).status == 200);

  patch(R"({"batch": {"maxBodySize": 150}})");
  CHECK(t.BatchOf(1).status == 200);
  auto large = t.BatchOf(2);
  CHECK(large.status == 413);

  patch(R"({"batch": {"enabled": false}})");
  for (std::string body : {std::string(R"({"requests":[]})"), std::string("not even JSON")}) {
    auto refused = t.Send("POST", "/p/shop/api/batch", body);
    CHECK(refused.status == 403);
    CHECK(Text(Json(refused), {"message"}) == "Batch requests are not allowed.");
  }
  auto list = t.Send("GET", "/p/shop/api/collections/notes/records?perPage=1");
  CHECK(Number(Json(list), {"totalItems"}) == 7);  // 4 + 2 + 1
}

TEST_CASE("the project's rate limit rules are enforced, per address and per token",
          "[http][data][settings][ratelimit]") {
  SettingsServer t;
  REQUIRE(t.AsSuperuser("POST", "/p/shop/api/collections",
                        R"({"name":"notes","createRule":"","listRule":"",)"
                        R"("fields":[{"name":"text","type":"text"}]})")
              .status == 200);
  auto create = [&](Headers headers = {}) {
    return t.Send("POST", "/p/shop/api/collections/notes/records", R"({"text":"n"})",
                  std::move(headers));
  };
  // Disabled (the default): nothing is limited.
  for (int i = 0; i < 5; ++i) CHECK(create().status == 200);

  auto patched = t.AsSuperuser("PATCH", "/p/shop/api/settings", R"({"rateLimits": {
      "enabled": true,
      "rules": [{"label": "notes:create", "maxRequests": 2, "duration": 60},
                {"label": "/api/", "maxRequests": 1000, "duration": 1}]}})");
  INFO(patched.body);
  REQUIRE(patched.status == 200);

  CHECK(create().status == 200);
  CHECK(create().status == 200);
  auto limited = create();
  CHECK(limited.status == 429);
  CHECK(Text(Json(limited), {"message"}) == "Too Many Requests.");
  auto retry = std::find_if(limited.headers.begin(), limited.headers.end(),
                            [](const auto& h) { return h.first == "retry-after"; });
  REQUIRE(retry != limited.headers.end());
  CHECK(std::stoi(retry->second) >= 1);
  CHECK(std::stoi(retry->second) <= 60);
  // Other routes fall under their own rule: listing is not limited by the create rule.
  CHECK(t.Send("GET", "/p/shop/api/collections/notes/records").status == 200);
  // A request with a token has a bucket of its own per token, and still the address's: the
  // address is spent, so it is limited too.
  CHECK(create({{"Authorization", "some-token"}}).status == 429);

  // Turned off again: no limit.
  REQUIRE(t.AsSuperuser("PATCH", "/p/shop/api/settings", R"({"rateLimits": {"enabled": false}})")
              .status == 200);
  CHECK(create().status == 200);
}

TEST_CASE("behind a trusted proxy, limits count the address the proxy reports",
          "[http][data][settings][ratelimit]") {
  SettingsServer t;
  REQUIRE(t.AsSuperuser("POST", "/p/shop/api/collections",
                        R"({"name":"notes","createRule":"","listRule":"",)"
                        R"("fields":[{"name":"text","type":"text"}]})")
              .status == 200);
  auto patched = t.AsSuperuser("PATCH", "/p/shop/api/settings", R"({
      "trustedProxy": {"headers": ["X-Forwarded-For"], "useLeftmostIP": false},
      "rateLimits": {"enabled": true,
                     "rules": [{"label": "notes:create", "maxRequests": 1, "duration": 60}]}})");
  INFO(patched.body);
  REQUIRE(patched.status == 200);
  auto create = [&](std::string forwarded) {
    return t.Send("POST", "/p/shop/api/collections/notes/records", R"({"text":"n"})",
                  {{"X-Forwarded-For", std::move(forwarded)}});
  };
  // The rightmost entry is the one the proxy added: what the client claims on its left
  // changes nothing.
  CHECK(create("6.6.6.6, 203.0.113.7").status == 200);
  CHECK(create("9.9.9.9, 203.0.113.7").status == 429);
  CHECK(create("203.0.113.8").status == 200);  // another client behind the proxy
  // A value that is not an address falls back to the connection's address, which has not
  // been counted yet.
  CHECK(create("not-an-address").status == 200);
  CHECK(create("also-not").status == 429);
}

TEST_CASE("writes carry who, from where and why into the audit trail; a collection may demand why",
          "[http][data][audit]") {
  Blog blog;
  const HttpReply created = blog.Send("POST", kPosts, R"({"title": "Hello", "published": true})",
                                      {{"Content-Type", "application/json"},
                                       {"User-Agent", "audit-client/2.0"},
                                       {"X-Audit-Reason", "first post"}});
  INFO(created.body);
  REQUIRE(created.status == 200);
  const std::string id = Text(Json(created), {"id"});
  auto entry = blog.directory.Find("shop");
  REQUIRE(entry);
  application::AuditQuery query;
  query.target_id = id;
  auto events = entry->store->AuditEvents(query);
  REQUIRE(events);
  REQUIRE(events->size() == 1);
  const auto& event = events->front().event;
  CHECK(event.action == "record.create");
  CHECK(event.actor_kind == socle::domain::AuditActorKind::kGuest);
  CHECK(event.reason == "first post");
  CHECK(event.request_id == created.Header("x-request-id"));
  REQUIRE(events->front().personal.size() == 1);
  CHECK(events->front().personal[0].data.find("audit-client/2.0") != std::string::npos);
  CHECK(events->front().personal[0].data.find("127.0.0.1") != std::string::npos);

  // A collection that demands a reason for changes.
  auto demanding = blog.AsSuperuser("PATCH", "/p/shop/api/collections/posts",
                                    R"({"auditReasonRequired": true})");
  INFO(demanding.body);
  REQUIRE(demanding.status == 200);
  CHECK(Json(demanding).Find("auditReasonRequired")->AsBool());
  const std::string target = std::string(kPosts) + "/" + id;
  const HttpReply refused = blog.Send("PATCH", target, R"({"views": 1})",
                                      {{"Content-Type", "application/json"}});
  CHECK(refused.status == 400);
  CHECK(Json(refused).Find("message")->AsString().find("X-Audit-Reason") != std::string::npos);
  const HttpReply too_long = blog.Send("PATCH", target, R"({"views": 1})",
                                       {{"Content-Type", "application/json"},
                                        {"X-Audit-Reason", std::string(1001, 'r')}});
  CHECK(too_long.status == 400);
  const HttpReply given = blog.Send("PATCH", target, R"({"views": 2})",
                                    {{"Content-Type", "application/json"},
                                     {"X-Audit-Reason", "views recounted"}});
  CHECK(given.status == 200);
  events = entry->store->AuditEvents(query);
  REQUIRE(events);
  // Newest first: the update, the refusal for want of a reason, the creation (a reason too
  // long is a malformed request, refused before anything is looked at).
  REQUIRE(events->size() == 3);
  CHECK(events->at(0).event.reason == "views recounted");
  CHECK(events->at(0).event.changes == R"([{"field":"views","before":0,"after":2}])");
  CHECK(events->at(1).event.outcome == socle::domain::AuditOutcome::kError);
  CHECK(events->at(2).event.action == "record.create");
}
