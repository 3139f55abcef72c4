// docs/api/openapi.yaml and the routes the server registers must describe the same API: a
// route added without documentation, or documentation for a route that does not exist, fails.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "socle/adapters/http/http_metrics.hpp"
#include "socle/adapters/http/operations_api.hpp"
#include "socle/adapters/http/platform_api.hpp"
#include "socle/adapters/http/project_data_api.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/adapters/http/platform_auth_api.hpp"
#include "socle/adapters/http/setup_api.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/mail/file_mailer.hpp"
#include "socle/application/account_emails.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/manage_regions.hpp"
#include "support/test_ports.hpp"

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
  socle::adapters::memory::MemoryCatalogueStore store;
  socle::testing::ManualClock clock;
  socle::testing::SeededRandomSource random;
  socle::application::ManageOrganisations organisations(store, clock, random);
  socle::application::ManageProjects projects(store, clock, random);
  socle::application::ManageRegions regions(store);
  http::HttpMetrics metrics(clock.Now());
  http::PlatformApi platform(organisations, projects, regions, http::JsonLimits{});
  http::OperationsApi operations(store, metrics, clock, "test");
  socle::adapters::memory::MemoryProjectStores stores;
  socle::application::ProjectDirectory directory(store, stores, clock);
  socle::application::ManageCollections collections(directory, clock, random);
  socle::application::ManageRecords records(directory, clock, random);
  http::ProjectDataApi data(collections, records,
                           http::SuperusersBy([](const http::Request&) { return false; }));
  // Authentication as socle-server wires it, so that its routes are checked too.
  socle::application::PlatformStore platform_store(stores, clock);
  auto hasher = socle::adapters::crypto::Argon2PasswordHasher::Create({}, random);
  REQUIRE(hasher);
  socle::adapters::crypto::Ed25519TokenSigner signer;
  auto throttle = socle::domain::LoginThrottle::Create({});
  REQUIRE(throttle);
  socle::application::Authenticate authenticate(directory, platform_store, signer, *hasher, clock,
                                                random, *throttle);
  socle::application::ManageSettings settings(directory, store, clock);
  socle::adapters::mail::FileMailer mailer("unused-mail-directory", clock, random);
  socle::application::AccountEmails emails(directory, platform_store, settings, signer, *hasher,
                                           mailer, clock, random);
  data.ServeAuthentication(authenticate, signer, &emails);
  socle::application::ManageSuperusers superusers(platform_store, *hasher, clock, random);
  http::SetupApi setup(superusers, clock, "token", clock.Now());
  socle::application::PlatformSessions members(platform_store, signer, *hasher, clock, random,
                                               *throttle, nullptr);
  http::PlatformAuthApi platform_auth(members);
  http::Router router;
  REQUIRE(platform.Register(router));
  REQUIRE(operations.Register(router));
  REQUIRE(data.Register(router));
  REQUIRE(setup.Register(router));
  REQUIRE(platform_auth.Register(router));

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
