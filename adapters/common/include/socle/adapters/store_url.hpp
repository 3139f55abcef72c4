#pragma once

#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::adapters {

/// A parsed SOCLE_DATABASE_URL: which store, and how to reach it.
struct StoreUrl {
  enum class Kind { kSqlite, kPostgres, kMemory };
  Kind kind = Kind::kSqlite;
  /// sqlite: the catalogue database file path; postgres: the libpq connection URI, unchanged;
  /// memory: empty.
  std::string target;

  /// Accepts sqlite://PATH (sqlite:///abs/path or sqlite://relative/path), postgres://... or
  /// postgresql://..., and memory://. invalid_argument otherwise.
  static domain::Result<StoreUrl> Parse(std::string_view url);
  /// The default store under a data directory: sqlite://<dir>/catalogue.db.
  static StoreUrl DefaultFor(std::string_view data_dir);
  /// The URL with any password replaced by "***", for logs and messages; see
  /// domain::RedactUrlPassword, which it forwards to.
  static std::string Redact(std::string_view url);
};

}  // namespace socle::adapters
