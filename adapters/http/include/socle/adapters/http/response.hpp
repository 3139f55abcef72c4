#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "socle/adapters/http/request.hpp"

namespace socle::adapters::http {

/// What a handler answers. The server adds framing headers (Content-Length, Connection,
/// X-Request-Id) itself.
struct Response {
  int status = 200;
  Request::Pairs headers;
  std::string body;
  /// Internal detail (driver messages, bug descriptions) for the request's log line only; never
  /// sent to the client.
  std::string log_detail;

  /// A response with a JSON body (Content-Type: application/json).
  static Response Json(int status, std::string body);
  /// A response with a text body of the given content type.
  static Response Text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  /// A response without a body (204, or framing errors written before routing).
  static Response Empty(int status);

  /// Adds a header field (names as spelled; the server writes them as given).
  Response& SetHeader(std::string name, std::string value);
  /// The first header field named `name`, compared case-insensitively.
  std::optional<std::string_view> Header(std::string_view name) const noexcept;
};

}  // namespace socle::adapters::http
