#include "socle/adapters/store_url.hpp"

namespace socle::adapters {

using domain::Error;
using domain::Fail;

domain::Result<StoreUrl> StoreUrl::Parse(std::string_view url) {
  auto starts = [&](std::string_view p) { return url.substr(0, p.size()) == p; };
  if (starts("sqlite://")) {
    std::string path(url.substr(9));
    if (path.empty()) {
      return Fail(Error::Field("SOCLE_DATABASE_URL", "validation_invalid_url",
                               "sqlite:// needs a file path, e.g. sqlite://socle_data/catalogue.db"));
    }
    return StoreUrl{Kind::kSqlite, std::move(path)};
  }
  if (starts("postgres://") || starts("postgresql://")) {
    return StoreUrl{Kind::kPostgres, std::string(url)};
  }
  if (url == "memory://") return StoreUrl{Kind::kMemory, {}};
  return Fail(Error::Field("SOCLE_DATABASE_URL", "validation_invalid_url",
                           "Must start with sqlite://, postgres://, postgresql:// or memory://."));
}

StoreUrl StoreUrl::DefaultFor(std::string_view data_dir) {
  std::string path(data_dir);
  if (path.empty()) path = ".";
  if (path.back() != '/') path += '/';
  path += "catalogue.db";
  return StoreUrl{Kind::kSqlite, std::move(path)};
}

std::string StoreUrl::Redact(std::string_view url) {
  std::string out(url);
  // password=... in the query string
  auto pw = out.find("password=");
  if (pw != std::string::npos) {
    auto end = out.find('&', pw);
    out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "***");
  }
  // user:password@ in the authority
  auto scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  auto authority_end = out.find_first_of("/?", scheme + 3);
  auto at = out.rfind('@', authority_end);
  if (at == std::string::npos || at < scheme + 3) return out;
  auto colon = out.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  return out;
}

}  // namespace socle::adapters
