// Fuzzes request-target parsing and routing: any bytes must give a target or invalid_argument,
// and routing the path must find, refuse (405) or miss without crashing; captured parameters
// must decode from the path's own segments.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "socle/adapters/http/request_target.hpp"
#include "socle/adapters/http/router.hpp"

namespace {

namespace http = socle::adapters::http;

const http::Router& TheRouter() {
  static const http::Router router = [] {
    http::Router r;
    auto ok = [](const http::Request&) { return http::Response::Empty(204); };
    for (const char* pattern :
         {"/api/health", "/api/v1/orgs", "/api/v1/orgs/{org}", "/api/v1/orgs/{org}/projects",
          "/api/v1/projects/{project}", "/api/v1/orgs/mine", "/"}) {
      (void)r.Add(http::Method::kGet, pattern, ok);
    }
    (void)r.Add(http::Method::kPost, "/api/v1/orgs", ok);
    (void)r.Add(http::Method::kDelete, "/api/v1/orgs/{org}", ok);
    return r;
  }();
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)http::PercentDecode(text, true);
  auto target = http::ParseRequestTarget(text);
  if (!target) {
    if (target.error().code != socle::domain::ErrorCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  if (target->path.empty() || target->path.front() != '/') __builtin_trap();
  for (auto method : {http::Method::kGet, http::Method::kHead, http::Method::kPost,
                      http::Method::kPatch, http::Method::kDelete}) {
    auto match = TheRouter().Find(method, target->path);
    using Outcome = http::Router::Match::Outcome;
    if (match.outcome == Outcome::kFound && match.route == nullptr) __builtin_trap();
    if (match.outcome == Outcome::kMethodNotAllowed && match.allow.empty()) __builtin_trap();
  }
  return 0;
}
