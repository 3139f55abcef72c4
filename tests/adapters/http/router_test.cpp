#include <catch2/catch.hpp>

#include "socle/adapters/http/request_target.hpp"
#include "socle/adapters/http/router.hpp"

using socle::adapters::http::Dispatch;
using socle::adapters::http::Method;
using socle::adapters::http::ParseMethod;
using socle::adapters::http::ParseRequestTarget;
using socle::adapters::http::PercentDecode;
using socle::adapters::http::Request;
using socle::adapters::http::Response;
using socle::adapters::http::Router;
using Outcome = socle::adapters::http::Router::Match::Outcome;

namespace {

Router::Handler Named(std::string name) {
  return [name](const Request&) { return Response::Text(200, name); };
}

Router MakeRouter() {
  Router router;
  REQUIRE(router.Add(Method::kGet, "/api/v1/orgs", Named("list")));
  REQUIRE(router.Add(Method::kPost, "/api/v1/orgs", Named("create")));
  REQUIRE(router.Add(Method::kGet, "/api/v1/orgs/{org}", Named("get")));
  REQUIRE(router.Add(Method::kDelete, "/api/v1/orgs/{org}", Named("delete")));
  REQUIRE(router.Add(Method::kGet, "/api/v1/orgs/{org}/projects", Named("projects")));
  REQUIRE(router.Add(Method::kGet, "/api/v1/orgs/mine", Named("mine"), Dispatch::kInline));
  REQUIRE(router.Add(Method::kGet, "/", Named("root")));
  return router;
}

std::string Run(const Router::Match& match) {
  return match.route->handler(Request{}).body;
}

}  // namespace

TEST_CASE("Router matches literal and parameter segments", "[http][router]") {
  const Router router = MakeRouter();
  auto list = router.Find(Method::kGet, "/api/v1/orgs");
  REQUIRE(list.outcome == Outcome::kFound);
  CHECK(Run(list) == "list");
  CHECK(list.route->pattern == "/api/v1/orgs");

  auto get = router.Find(Method::kGet, "/api/v1/orgs/acme");
  REQUIRE(get.outcome == Outcome::kFound);
  CHECK(Run(get) == "get");
  REQUIRE(get.params.size() == 1);
  CHECK(get.params[0] == std::pair<std::string, std::string>{"org", "acme"});
  CHECK(get.route->pattern == "/api/v1/orgs/{org}");

  auto projects = router.Find(Method::kGet, "/api/v1/orgs/acme/projects");
  REQUIRE(projects.outcome == Outcome::kFound);
  CHECK(Run(projects) == "projects");

  auto root = router.Find(Method::kGet, "/");
  REQUIRE(root.outcome == Outcome::kFound);
  CHECK(Run(root) == "root");
}

TEST_CASE("Router prefers a literal segment over a parameter", "[http][router]") {
  const Router router = MakeRouter();
  auto mine = router.Find(Method::kGet, "/api/v1/orgs/mine");
  REQUIRE(mine.outcome == Outcome::kFound);
  CHECK(Run(mine) == "mine");
  CHECK(mine.route->dispatch == Dispatch::kInline);
  CHECK(mine.params.empty());
}

TEST_CASE("Router answers 405 with an Allow list for a known path", "[http][router]") {
  const Router router = MakeRouter();
  auto put = router.Find(Method::kPut, "/api/v1/orgs");
  CHECK(put.outcome == Outcome::kMethodNotAllowed);
  CHECK(put.allow == "GET, HEAD, POST");
  auto patch = router.Find(Method::kPatch, "/api/v1/orgs/acme");
  CHECK(patch.outcome == Outcome::kMethodNotAllowed);
  CHECK(patch.allow == "GET, HEAD, DELETE");
}

TEST_CASE("Router serves HEAD with the GET handler", "[http][router]") {
  const Router router = MakeRouter();
  auto head = router.Find(Method::kHead, "/api/v1/orgs/acme");
  REQUIRE(head.outcome == Outcome::kFound);
  CHECK(Run(head) == "get");
}

TEST_CASE("Router treats unknown, trailing-slash and empty-segment paths as not found",
          "[http][router]") {
  const Router router = MakeRouter();
  for (std::string_view path : {"/api/v1/orgs/", "/api/v1//orgs", "/api/v1/nothing", "/api",
                                "", "api/v1/orgs", "/api/v1/orgs/acme/projects/x",
                                "/api/v1/orgs/%zz"}) {
    INFO(path);
    CHECK(router.Find(Method::kGet, path).outcome == Outcome::kNotFound);
  }
}

TEST_CASE("Router decodes parameters but does not split on an encoded slash", "[http][router]") {
  const Router router = MakeRouter();
  auto match = router.Find(Method::kGet, "/api/v1/orgs/a%2Fb");
  REQUIRE(match.outcome == Outcome::kFound);
  CHECK(match.params[0].second == "a/b");
}

TEST_CASE("Router refuses malformed and duplicate patterns", "[http][router]") {
  Router router;
  CHECK_FALSE(router.Add(Method::kGet, "no-slash", Named("x")));
  CHECK_FALSE(router.Add(Method::kGet, "/a//b", Named("x")));
  CHECK_FALSE(router.Add(Method::kGet, "/a/{}", Named("x")));
  CHECK_FALSE(router.Add(Method::kGet, "/a/x{id}", Named("x")));
  CHECK_FALSE(router.Add(Method::kGet, "/a/{id}/{id}", Named("x")));
  CHECK(router.Add(Method::kGet, "/a/{id}", Named("x")));
  CHECK_FALSE(router.Add(Method::kGet, "/a/{id}", Named("y")));
  CHECK(router.Add(Method::kPost, "/a/{id}", Named("y")));
}

TEST_CASE("ParseMethod is case-sensitive", "[http][router]") {
  CHECK(ParseMethod("GET") == Method::kGet);
  CHECK(ParseMethod("PATCH") == Method::kPatch);
  CHECK_FALSE(ParseMethod("get"));
  CHECK_FALSE(ParseMethod("BREW"));
}

TEST_CASE("ParseRequestTarget splits origin-form targets and decodes the query",
          "[http][target]") {
  auto target = ParseRequestTarget("/api/v1/orgs?page=2&perPage=10&q=a+b%20c&flag&=x&&e=");
  REQUIRE(target);
  CHECK(target->path == "/api/v1/orgs");
  REQUIRE(target->query.size() == 6);
  CHECK(target->query[0] == std::pair<std::string, std::string>{"page", "2"});
  CHECK(target->query[1] == std::pair<std::string, std::string>{"perPage", "10"});
  CHECK(target->query[2] == std::pair<std::string, std::string>{"q", "a b c"});
  CHECK(target->query[3] == std::pair<std::string, std::string>{"flag", ""});
  CHECK(target->query[4] == std::pair<std::string, std::string>{"", "x"});
  CHECK(target->query[5] == std::pair<std::string, std::string>{"e", ""});  // "&&" is skipped
}

TEST_CASE("ParseRequestTarget accepts absolute-form and ignores its authority", "[http][target]") {
  auto target = ParseRequestTarget("http://t.example/a/b?x=1");
  REQUIRE(target);
  CHECK(target->path == "/a/b");
  CHECK(target->query.size() == 1);
  auto bare = ParseRequestTarget("HTTPS://t.example");
  REQUIRE(bare);
  CHECK(bare->path == "/");
}

TEST_CASE("ParseRequestTarget refuses malformed targets", "[http][target]") {
  for (std::string_view bad : {"", "*", "t.example:443", "/a b", "/a\x01", "/a#frag",
                               "/a%2", "/a%zz", "/?q=%", "ftp://x/", "http:///path"}) {
    INFO(bad);
    auto target = ParseRequestTarget(bad);
    REQUIRE_FALSE(target);
    CHECK(target.error().code == socle::domain::ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("PercentDecode handles escapes and plus signs", "[http][target]") {
  CHECK(PercentDecode("a%41%62+c", false) == "aAb+c");
  CHECK(PercentDecode("a%41%62+c", true) == "aAb c");
  CHECK(PercentDecode("%00", false) == std::string(1, '\0'));
  CHECK_FALSE(PercentDecode("%4", false));
  CHECK_FALSE(PercentDecode("%", false));
  CHECK_FALSE(PercentDecode("%g1", false));
}
