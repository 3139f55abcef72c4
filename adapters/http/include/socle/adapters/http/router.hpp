#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/http/request.hpp"
#include "socle/adapters/http/response.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// Where the server runs a route's handler.
enum class Dispatch {
  /// On the bounded worker pool: the default, for anything that writes, waits on a lock or a
  /// disk flush, or may run long (password hashing, audit verification, exports).
  kWorker,
  /// A short read of the store (a page of records, a collection, an organisation): on the
  /// connection's event loop when the server runs all reads there (LoopReads::kAll, for an
  /// embedded store whose reads take microseconds and never wait on a network), else on the
  /// worker pool like kWorker.
  kRead,
  /// A read of one item by its key (a record by id): its cost is bounded whatever the data's
  /// size. On the connection's event loop when the server runs point reads or all reads there
  /// (LoopReads::kPoint, kAll), else on the worker pool.
  kPointRead,
  /// Directly on the connection's event loop: only for handlers that never block and finish in
  /// microseconds (liveness, metrics), so that they answer even when every worker is busy.
  kInline,
};

/// kRead for GET, kWorker otherwise: how an API whose GET handlers are all short reads of the
/// store registers its routes.
constexpr Dispatch ReadsOnGet(Method method) noexcept {
  return method == Method::kGet ? Dispatch::kRead : Dispatch::kWorker;
}

/// Maps a method and a path to a handler. Patterns are absolute paths whose segments are
/// literals or `{name}` parameters ("/api/v1/orgs/{org}/projects"); a literal segment beats a
/// parameter at the same position. A path that matches some pattern but not with this method
/// is "method not allowed" (the caller answers 405 with the Allow list); otherwise "not found".
/// HEAD is served by the GET handler when no HEAD route exists.
///
/// Thread-safety: Add() during set-up only; Find() is const and safe from any thread after.
class Router final {
 public:
  using Handler = std::function<Response(const Request&)>;

  /// A registered route. `pattern` doubles as the route's name in logs and metrics.
  struct Route {
    Method method;
    std::string pattern;
    Handler handler;
    Dispatch dispatch;
    std::vector<std::string> segments;  ///< "{name}" for parameters
  };

  struct Match {
    enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
    Outcome outcome = Outcome::kNotFound;
    const Route* route = nullptr;  ///< set when kFound
    Request::Pairs params;         ///< decoded path parameters, when kFound
    std::string allow;             ///< "GET, HEAD, POST" when kMethodNotAllowed
  };

  /// Registers a route. invalid_argument for a malformed pattern (not starting with '/', empty
  /// segment, unbalanced braces, repeated parameter name) or a duplicate method + pattern.
  domain::Result<void> Add(Method method, std::string_view pattern, Handler handler,
                           Dispatch dispatch = Dispatch::kWorker);

  /// Finds the route for `method` and `path` (percent-encoded, without query).
  Match Find(Method method, std::string_view path) const;

  /// Every route in registration order.
  const std::vector<std::unique_ptr<Route>>& routes() const noexcept { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace socle::adapters::http
