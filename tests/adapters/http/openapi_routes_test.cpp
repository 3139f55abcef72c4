// docs/api/openapi.yaml and the routes the server registers must describe the same API: a
// route added without documentation, or documentation for a route that does not exist, fails.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "server_routes.hpp"
#include "socle/adapters/http/request.hpp"
#include "socle/adapters/http/router.hpp"

namespace http = socle::adapters::http;

namespace {

// "GET /api/v1/orgs/{org}" for every operation under `paths:` in the OpenAPI document. The
// document's layout is fixed by docs/api/openapi.yaml: two-space path keys, four-space methods.
std::set<std::string> DocumentedOperations(const std::string& file) {
  std::ifstream in(file);
  REQUIRE(in.good());
  const std::regex path_line(R"(^  (/[^:]*):\s*$)");
  const std::regex method_line(R"(^    (get|put|post|patch|delete|options):\s*$)");
  std::set<std::string> out;
  std::string line;
  std::string path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (in_paths && !line.empty() && line[0] != ' ' && line[0] != '#') break;  // next section
    if (!in_paths) continue;
    std::smatch m;
    if (std::regex_match(line, m, path_line)) {
      path = m[1];
    } else if (std::regex_match(line, m, method_line)) {
      std::string method = m[1];
      std::transform(method.begin(), method.end(), method.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      out.insert(method + " " + path);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("openapi.yaml documents exactly the routes the server registers", "[http][openapi]") {
  socle::testing::PlainTestHasher hasher;
  socle::testing::ServerRoutes server(hasher);
  const http::Router& router = server.router;

  std::set<std::string> registered;
  for (const auto& route : router.routes()) {
    registered.insert(std::string(http::ToString(route->method)) + " " + route->pattern);
  }
  const auto documented = DocumentedOperations(SOCLE_OPENAPI_FILE);
  REQUIRE(documented.size() >= 10);  // the parser found the document's operations

  for (const auto& op : registered) {
    INFO("registered but not documented: " << op);
    CHECK(documented.contains(op));
  }
  for (const auto& op : documented) {
    INFO("documented but not registered: " << op);
    CHECK(registered.contains(op));
  }
}
