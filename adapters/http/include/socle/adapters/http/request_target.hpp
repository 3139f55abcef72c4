#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "socle/adapters/http/request.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// A request target split into what routing needs.
struct RequestTarget {
  /// The path, still percent-encoded (so that "%2F" inside a segment does not split it).
  std::string path;
  /// The decoded query parameters, in order.
  Request::Pairs query;
};

/// Splits an origin-form ("/a/b?x=1") or absolute-form ("http://host/a?x=1", RFC 9112 3.2.2:
/// the authority is ignored for routing) request target. invalid_argument for an empty target,
/// authority-form or asterisk-form, control characters, spaces, a fragment, or a malformed
/// percent-escape.
domain::Result<RequestTarget> ParseRequestTarget(std::string_view target);

/// Decodes %XX escapes (and '+' as a space when `plus_as_space`); nullopt when an escape is
/// malformed. Decoded bytes are not checked for UTF-8: the consumer validates its own fields.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space);

}  // namespace socle::adapters::http
