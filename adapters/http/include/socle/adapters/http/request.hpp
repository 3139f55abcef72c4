#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace socle::adapters::http {

/// The request methods Socle routes. Anything else is answered 501 before routing.
enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions };

/// "GET", "HEAD" ...
std::string_view ToString(Method method) noexcept;
/// The method spelled exactly (methods are case-sensitive, RFC 9110 9.1); nullopt otherwise.
std::optional<Method> ParseMethod(std::string_view text) noexcept;

/// One HTTP request as handlers see it: no Beast types, already framed, size-limited and
/// decoded. Handlers receive it by const reference on a worker thread.
struct Request {
  using Pairs = std::vector<std::pair<std::string, std::string>>;

  Method method = Method::kGet;
  /// The path as sent (still percent-encoded), without the query: what routes and logs use.
  std::string path;
  /// Query parameters, percent-decoded ('+' as space), in order, repeats kept.
  Pairs query;
  /// Header fields with lower-case names, in order.
  Pairs headers;
  /// Path parameters captured by the router ({org} ...), percent-decoded.
  Pairs params;
  std::string body;
  /// The id echoed in X-Request-Id and written to every log line about this request.
  std::string request_id;
  /// The peer's IP address.
  std::string client_address;

  /// The first query parameter named `name`.
  std::optional<std::string_view> Query(std::string_view name) const noexcept;
  /// The first header named `lower_name` (lower-case).
  std::optional<std::string_view> Header(std::string_view lower_name) const noexcept;
  /// The path parameter `name`; empty when the route has none of that name.
  std::string_view Param(std::string_view name) const noexcept;
};

}  // namespace socle::adapters::http
