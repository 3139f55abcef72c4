#include "socle/adapters/store_url.hpp"

#include "socle/domain/url.hpp"

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
  // Built from a string_view rather than assigned "." afterwards: GCC 12's -Wrestrict reports a
  // false positive on that assignment once this file's inlining changes.
  std::string path(data_dir.empty() ? std::string_view(".") : data_dir);
  if (!path.ends_with('/')) path += '/';
  path += "catalogue.db";
  return StoreUrl{Kind::kSqlite, std::move(path)};
}

std::string StoreUrl::Redact(std::string_view url) { return domain::RedactUrlPassword(url); }

}  // namespace socle::adapters
