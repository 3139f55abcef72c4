#include "shared_collections_scenario.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace socle::testing {
namespace {

// authors ← posts.author; secrets has every rule null (superusers only: the records calls are
// anonymous).
constexpr std::string_view kCollections = R"json([
  {"id": "pbc_e2e_authors", "name": "authors", "type": "base",
   "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
   "fields": [{"id": "text_e2e_name", "name": "name", "type": "text", "required": true}]},
  {"id": "pbc_e2e_posts", "name": "posts", "type": "base",
   "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
   "fields": [
     {"id": "text_e2e_title", "name": "title", "type": "text", "required": true},
     {"id": "number_e2e_views", "name": "views", "type": "number"},
     {"id": "relation_e2e_author", "name": "author", "type": "relation",
      "collectionId": "pbc_e2e_authors", "maxSelect": 1}]},
  {"id": "pbc_e2e_secrets", "name": "secrets", "type": "base",
   "listRule": null, "viewRule": null, "createRule": null, "updateRule": null, "deleteRule": null,
   "fields": [{"id": "text_e2e_value", "name": "value", "type": "text"}]}
])json";

// The same posts with one more field, for a schema change made while the server runs.
constexpr std::string_view kPostsWithSummary = R"json([
  {"id": "pbc_e2e_posts", "name": "posts", "type": "base",
   "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
   "fields": [
     {"id": "text_e2e_title", "name": "title", "type": "text", "required": true},
     {"id": "number_e2e_views", "name": "views", "type": "number"},
     {"id": "relation_e2e_author", "name": "author", "type": "relation",
      "collectionId": "pbc_e2e_authors", "maxSelect": 1},
     {"id": "text_e2e_summary", "name": "summary", "type": "text"}]}
])json";

ProcessResult Cli(const StoreLocation& store, std::vector<std::string> args) {
  args.insert(args.end(), store.args.begin(), store.args.end());
  auto result = Socle(args, store.env);
  std::string line = "socle";
  for (const auto& arg : args) line += " " + arg;
  UNSCOPED_INFO(line << " -> " << result.exit_code << "\nstdout: " << result.out
                     << "\nstderr: " << result.err);
  return result;
}

std::string WriteFile(const TempDir& dir, const std::string& name, std::string_view text) {
  std::string path = dir / name;
  std::ofstream(path) << text;
  return path;
}

// Creates org acme, project web, and imports kCollections into it with the CLI.
void ImportCollections(const StoreLocation& store, const TempDir& dir) {
  REQUIRE(Cli(store, {"org", "create", "acme"}).exit_code == 0);
  REQUIRE(Cli(store, {"project", "create", "web", "--org", "acme"}).exit_code == 0);
  auto imported =
      Cli(store, {"collection", "import", WriteFile(dir, "collections.json", kCollections),
                  "--project", "web", "--json"});
  REQUIRE(imported.exit_code == 0);
  CHECK(imported.out ==
        "{\"created\":[\"authors\",\"posts\",\"secrets\"],\"updated\":[],"
        "\"deleted\":[]}\n");
}

constexpr std::string_view kRootEmail = "root@example.com";
constexpr std::string_view kRootPassword = "basalt-heron-lantern-72";

// One HTTP exchange with curl, as Http() makes it, carrying `token` as a Bearer credential:
// the platform API answers signed-in callers only.
HttpReply HttpAs(const std::string& token, const std::string& method, const std::string& url) {
  const std::vector<std::string> args{"--silent",    "--show-error",  "--max-time",
                                      "20",          "--request",     method,
                                      "--write-out", "\n%{http_code}", "--header",
                                      "Authorization: Bearer " + token, url};
  auto result = RunProcess(SOCLE_CURL, args, {}, std::chrono::seconds(30));
  if (result.exit_code != 0) {
    throw std::runtime_error("curl " + method + " " + url + " failed: " + result.err);
  }
  const auto newline = result.out.rfind('\n');
  HttpReply reply;
  reply.status = std::stoi(result.out.substr(newline + 1));
  reply.body = result.out.substr(0, newline);
  return reply;
}

// The platform token of the superuser the CLI made, signed in over the API.
std::string SuperuserToken(const std::string& base_url) {
  auto signed_in = Http("POST", base_url + "/api/v1/auth/superusers/login",
                        R"({"email":")" + std::string(kRootEmail) + R"(","password":")" +
                            std::string(kRootPassword) + R"("})");
  UNSCOPED_INFO("superuser sign-in: " << signed_in.body);
  REQUIRE(signed_in.status == 200);
  return JsonString(signed_in.body, "token");
}

}  // namespace

void CheckCliCollectionsServedOverHttp(const StoreLocation& store, const TempDir& dir) {
  // 1. A project and its collections, made with the CLI before the server starts.
  ImportCollections(store, dir);
  auto listed = Cli(store, {"collection", "list", "--project", "web", "--json"});
  REQUIRE(listed.exit_code == 0);
  CHECK(JsonItems(listed.out, "name") == std::vector<std::string>{"authors", "posts", "secrets"});

  // The platform API's caller below: a superuser made with the CLI on the same store. The
  //    records API is called anonymously throughout.
  REQUIRE(Cli(store, {"superuser", "upsert", std::string(kRootEmail), std::string(kRootPassword)})
              .exit_code == 0);

  RunningServer server(store.args, store.env, dir);
  INFO("socle-server at " << server.base_url() << "; its log:\n" << server.Log());
  const std::string records = server.base_url() + "/p/web/api/collections";
  const std::string root = SuperuserToken(server.base_url());

  // 2. Records over the PocketBase API, in the collections the CLI imported.
  auto author = Http("POST", records + "/authors/records", R"({"name":"Ada"})");
  REQUIRE(author.status == 200);
  const std::string author_id = JsonString(author.body, "id");
  CHECK(JsonString(author.body, "collectionName") == "authors");
  auto post = Http("POST", records + "/posts/records",
                   R"({"title":"Hello","views":3,"author":")" + author_id + R"("})");
  REQUIRE(post.status == 200);
  CHECK(JsonInt(post.body, "views") == 3);
  CHECK(Http("POST", records + "/posts/records", R"({"views":1})").status == 400);
  auto patched =
      Http("PATCH", records + "/posts/records/" + JsonString(post.body, "id"), R"({"views+":2})");
  REQUIRE(patched.status == 200);
  CHECK(JsonInt(patched.body, "views") == 5);

  auto page = Http(
      "GET", records + "/posts/records?expand=author&filter=" + "views%20%3E%3D%203&sort=-created");
  REQUIRE(page.status == 200);
  CHECK(JsonInt(page.body, "totalItems") == 1);
  CHECK(JsonItems(page.body, "title") == std::vector<std::string>{"Hello"});
  CHECK(JsonStringAt(page.body, "/items/0/expand/author/name") == "Ada");

  // 3. Rules hold for callers who are not signed in: the collections API and null rules
  //    refuse.
  CHECK(Http("GET", records + "/secrets/records").status == 403);
  CHECK(Http("GET", records).status == 401);
  CHECK(Http("GET", server.base_url() + "/p/nosuchproject/api/collections/posts/records").status ==
        404);

  // 4. The export the CLI writes imports back unchanged.
  const std::string exported = dir / "export.json";
  REQUIRE(Cli(store, {"collection", "export", "--project", "web", "--out", exported}).exit_code ==
          0);
  auto again = Cli(store, {"collection", "import", exported, "--project", "web", "--json"});
  REQUIRE(again.exit_code == 0);
  CHECK(again.out == "{\"created\":[],\"updated\":[],\"deleted\":[]}\n");

  // 5. Deleting the project over the platform API takes its data API down at once (the
  //    directory caches projects for seconds; the delete must not wait for that).
  CHECK(Http("DELETE", server.base_url() + "/api/v1/projects/web").status == 401);
  // 202 while a grace period keeps it restorable, 204 when purged at once: gone either way.
  const int deleted = HttpAs(root, "DELETE", server.base_url() + "/api/v1/projects/web").status;
  REQUIRE((deleted == 202 || deleted == 204));
  CHECK(Http("GET", records + "/posts/records").status == 404);
  CHECK(Cli(store, {"collection", "list", "--project", "web"}).exit_code == 1);
  // So does deleting its organisation with its projects.
  REQUIRE(Cli(store, {"project", "create", "shop", "--org", "acme"}).exit_code == 0);
  REQUIRE(
      Cli(store, {"collection", "import", dir / "export.json", "--project", "shop"}).exit_code ==
      0);
  const std::string shop = server.base_url() + "/p/shop/api/collections/authors/records";
  REQUIRE(Http("POST", shop, R"({"name":"Shopkeeper"})").status == 200);
  const int org_deleted =
      HttpAs(root, "DELETE", server.base_url() + "/api/v1/orgs/acme?force=true").status;
  REQUIRE((org_deleted == 202 || org_deleted == 204));
  CHECK(Http("GET", shop).status == 404);

  // 6. The server stops cleanly on SIGTERM.
  CHECK(server.Stop() == std::optional<int>(0));
}

void CheckCliSchemaChangesReachRunningServer(const StoreLocation& store, const TempDir& dir) {
  ImportCollections(store, dir);
  RunningServer server(store.args, store.env, dir);
  INFO("socle-server at " << server.base_url() << "; its log:\n" << server.Log());
  const std::string records = server.base_url() + "/p/web/api/collections";
  // The server has the project open, with its schema in memory.
  auto post = Http("POST", records + "/posts/records", R"({"title":"Hello","views":3})");
  REQUIRE(post.status == 200);
  CHECK(Http("GET", records + "/secrets/records").status == 403);

  // 1. A field added with the CLI is accepted by the very next request.
  auto migrated = Cli(store, {"collection", "import",
                              WriteFile(dir, "posts.json", kPostsWithSummary), "--project", "web"});
  REQUIRE(migrated.exit_code == 0);
  CHECK(migrated.out.find("0 created, 1 updated, 0 deleted") != std::string::npos);
  auto summarised =
      Http("POST", records + "/posts/records", R"({"title":"Second","summary":"Short"})");
  CHECK(summarised.status == 200);
  if (summarised.status == 200) {
    CHECK(JsonHas(summarised.body, "/summary"));
    if (JsonHas(summarised.body, "/summary"))
      CHECK(JsonString(summarised.body, "summary") == "Short");
  }
  // The earlier post kept its data through the migration, and has the new field.
  auto kept = Http("GET", records + "/posts/records/" + JsonString(post.body, "id"));
  REQUIRE(kept.status == 200);
  CHECK(JsonInt(kept.body, "views") == 3);
  CHECK(JsonHas(kept.body, "/summary"));

  // 2. A collection deleted with the CLI is gone from the API at once.
  REQUIRE(Cli(store, {"collection", "delete", "secrets", "--project", "web", "--yes"}).exit_code ==
          0);
  CHECK(Http("GET", records + "/secrets/records").status == 404);

  CHECK(server.Stop() == std::optional<int>(0));
}

}  // namespace socle::testing
