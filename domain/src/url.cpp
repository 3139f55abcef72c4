#include "socle/domain/url.hpp"

namespace socle::domain {
namespace {

constexpr std::string_view kMask = "***";

// Masks the value of every password= query parameter.
void RedactQueryPasswords(std::string& url) {
  constexpr std::string_view kKey = "password=";
  std::size_t from = url.find('?');
  while (from != std::string::npos) {
    auto key = url.find(kKey, from);
    if (key == std::string::npos) return;
    auto value = key + kKey.size();
    auto end = url.find('&', value);
    url.replace(value, (end == std::string::npos ? url.size() : end) - value, kMask);
    from = value + kMask.size();
  }
}

// Masks the password of user:password@ in the authority. The credentials end at the last '@'
// before the path: a password with an unescaped '?' or '@' is still hidden whole.
void RedactAuthorityPassword(std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return;
  auto authority = scheme + 3;
  auto path = url.find('/', authority);
  auto at = url.rfind('@', path == std::string::npos ? std::string::npos : path);
  if (at == std::string::npos || at < authority) return;
  auto colon = url.find(':', authority);
  if (colon == std::string::npos || colon > at) return;
  url.replace(colon + 1, at - colon - 1, kMask);
}

}  // namespace

std::string RedactUrlPassword(std::string_view url) {
  std::string out(url);
  RedactAuthorityPassword(out);
  RedactQueryPasswords(out);
  return out;
}

}  // namespace socle::domain
