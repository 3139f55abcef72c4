#include "socle/adapters/http/request_target.hpp"

#include <algorithm>
#include <cctype>

namespace socle::adapters::http {

namespace {

domain::Result<RequestTarget> Invalid(std::string internal) {
  domain::Error error =
      domain::Error::Make(domain::ErrorCode::kInvalidArgument, "Malformed request target.");
  error.internal = std::move(internal);
  return domain::Fail(std::move(error));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_as_space) {
      out += ' ';
      continue;
    }
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexDigit(text[i + 1]);
    const int low = HexDigit(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

domain::Result<RequestTarget> ParseRequestTarget(std::string_view target) {
  if (target.empty()) return Invalid("empty target");
  for (char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) return Invalid("control character or space in target");
    if (c == '#') return Invalid("fragment in target");
  }

  std::string_view rest = target;
  if (rest.front() != '/') {
    // absolute-form: scheme "://" authority path-abempty [ "?" query ]
    std::string_view scheme;
    if (StartsWithIgnoreCase(rest, "http://")) {
      scheme = rest.substr(0, 7);
    } else if (StartsWithIgnoreCase(rest, "https://")) {
      scheme = rest.substr(0, 8);
    } else {
      return Invalid("neither origin-form nor absolute-form");
    }
    rest.remove_prefix(scheme.size());
    const std::size_t path_start = rest.find_first_of("/?");
    if (path_start == 0) return Invalid("absolute-form without authority");
    rest = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  }

  RequestTarget out;
  const std::size_t question = rest.find('?');
  const std::string_view path = rest.substr(0, question);
  out.path = path.empty() ? std::string(1, '/') : std::string(path);
  if (!PercentDecode(out.path, false)) return Invalid("malformed percent-escape in path");
  if (question == std::string_view::npos) return out;

  std::string_view query = rest.substr(question + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view{}
                                                            : pair.substr(eq + 1),
                               true);
    if (!key || !value) return Invalid("malformed percent-escape in query");
    out.query.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

}  // namespace socle::adapters::http
