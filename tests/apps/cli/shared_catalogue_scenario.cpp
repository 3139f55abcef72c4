#include "shared_catalogue_scenario.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace socle::testing {
namespace {

ProcessResult Cli(const StoreLocation& store, std::vector<std::string> args) {
  args.insert(args.end(), store.args.begin(), store.args.end());
  auto result = Socle(args, store.env);
  std::string line = "socle";
  for (const auto& arg : args) line += " " + arg;
  UNSCOPED_INFO(line << " -> " << result.exit_code << "\nstdout: " << result.out
                     << "\nstderr: " << result.err);
  return result;
}

constexpr std::string_view kRootEmail = "root@example.com";
constexpr std::string_view kRootPassword = "basalt-heron-lantern-72";

// One HTTP exchange with curl, as Http() makes it, carrying `token` as a Bearer credential:
// the platform API answers signed-in callers only.
HttpReply HttpAs(const std::string& token, const std::string& method, const std::string& url,
                 const std::string& json_body = "") {
  std::vector<std::string> args{"--silent",    "--show-error",  "--max-time",
                                "20",          "--request",     method,
                                "--write-out", "\n%{http_code}", "--header",
                                "Authorization: Bearer " + token, url};
  if (!json_body.empty()) {
    args.insert(args.end(),
                {"--header", "Content-Type: application/json", "--data-binary", json_body});
  }
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
std::string SuperuserToken(const std::string& api) {
  auto signed_in = Http("POST", api + "/auth/superusers/login",
                        R"({"email":")" + std::string(kRootEmail) + R"(","password":")" +
                            std::string(kRootPassword) + R"("})");
  UNSCOPED_INFO("superuser sign-in: " << signed_in.body);
  REQUIRE(signed_in.status == 200);
  return JsonString(signed_in.body, "token");
}

}  // namespace

void CheckCliAndServerShareTheCatalogue(const StoreLocation& store, const TempDir& dir) {
  // 1. Created with the CLI before the server starts (the CLI migrates a fresh store itself).
  auto org = Cli(store, {"org", "create", "cli-org", "--name", "Made by the CLI", "--json"});
  REQUIRE(org.exit_code == 0);
  auto project = Cli(store, {"project", "create", "cli-web", "--org", "cli-org", "--json"});
  REQUIRE(project.exit_code == 0);

  // The API's caller: a superuser, made with the CLI on the same store.
  REQUIRE(Cli(store, {"superuser", "upsert", std::string(kRootEmail), std::string(kRootPassword)})
              .exit_code == 0);

  RunningServer server(store.args, store.env, dir);
  INFO("socle-server at " << server.base_url() << "; its log:\n" << server.Log());
  const std::string api = server.base_url() + "/api/v1";
  CHECK(Http("GET", api + "/orgs/cli-org").status == 401);  // nobody signed in
  const std::string root = SuperuserToken(api);
  auto as_root = [&root](const std::string& method, const std::string& url,
                         const std::string& json_body = "") {
    return HttpAs(root, method, url, json_body);
  };

  // 2. ... is served by the HTTP API, with the same ids.
  auto got_org = as_root("GET", api + "/orgs/cli-org");
  REQUIRE(got_org.status == 200);
  CHECK(JsonString(got_org.body, "id") == JsonString(org.out, "id"));
  CHECK(JsonString(got_org.body, "name") == "Made by the CLI");
  auto got_project = as_root("GET", api + "/projects/cli-web");
  REQUIRE(got_project.status == 200);
  CHECK(JsonString(got_project.body, "id") == JsonString(project.out, "id"));
  CHECK(JsonString(got_project.body, "org") == "cli-org");
  auto org_projects = as_root("GET", api + "/orgs/cli-org/projects");
  REQUIRE(org_projects.status == 200);
  CHECK(JsonItems(org_projects.body, "slug") == std::vector<std::string>{"cli-web"});

  // 3. Created over the API while the server runs ...
  auto api_org = as_root("POST", api + "/orgs", R"({"slug":"api-org","name":"Made over HTTP"})");
  REQUIRE(api_org.status == 201);
  auto api_project = as_root("POST", api + "/orgs/api-org/projects", R"({"slug":"api-web"})");
  REQUIRE(api_project.status == 201);

  // 4. ... is seen by the CLI, in the same JSON shapes.
  auto cli_org = Cli(store, {"org", "get", "api-org", "--json"});
  REQUIRE(cli_org.exit_code == 0);
  CHECK(JsonString(cli_org.out, "id") == JsonString(api_org.body, "id"));
  CHECK(JsonString(cli_org.out, "name") == "Made over HTTP");
  CHECK(cli_org.out == api_org.body + "\n");
  auto cli_projects = Cli(store, {"project", "list", "--org", "api-org", "--json"});
  REQUIRE(cli_projects.exit_code == 0);
  CHECK(JsonItems(cli_projects.out, "id") ==
        std::vector<std::string>{JsonString(api_project.body, "id")});
  auto all_orgs = Cli(store, {"org", "list", "--json"});
  REQUIRE(all_orgs.exit_code == 0);
  CHECK(JsonItems(all_orgs.out, "slug") == std::vector<std::string>{"api-org", "cli-org"});
  auto api_list = as_root("GET", api + "/orgs");
  REQUIRE(api_list.status == 200);
  CHECK(JsonItems(api_list.body, "id") == JsonItems(all_orgs.out, "id"));

  // 5. Changes travel both ways while both run.
  REQUIRE(Cli(store, {"org", "rename", "api-org", "Renamed by the CLI"}).exit_code == 0);
  auto renamed = as_root("GET", api + "/orgs/api-org");
  REQUIRE(renamed.status == 200);
  CHECK(JsonString(renamed.body, "name") == "Renamed by the CLI");

  // 202 while a grace period keeps it restorable, 204 when purged at once: gone either way.
  const int deleted = as_root("DELETE", api + "/projects/cli-web").status;
  REQUIRE((deleted == 202 || deleted == 204));
  CHECK(Cli(store, {"project", "get", "cli-web"}).exit_code == 1);

  auto refused = Cli(store, {"org", "delete", "api-org"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("pass --force") != std::string::npos);
  REQUIRE(Cli(store, {"org", "delete", "api-org", "--force"}).exit_code == 0);
  CHECK(as_root("GET", api + "/orgs/api-org").status == 404);
  CHECK(as_root("GET", api + "/projects/api-web").status == 404);

  // 6. The server stops cleanly on SIGTERM.
  CHECK(server.Stop() == std::optional<int>(0));
}

}  // namespace socle::testing
