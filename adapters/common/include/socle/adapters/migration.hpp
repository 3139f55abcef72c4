#pragma once

#include <span>
#include <string_view>

namespace socle::adapters {

/// One schema migration compiled into the binary from migrations/<dialect>/NNNN_name.sql.
struct Migration {
  int version;            ///< NNNN: applied in ascending order, recorded in schema_migrations.
  std::string_view name;  ///< The file name without number and extension.
  std::string_view sql;   ///< One or more statements, run in one transaction.
};

}  // namespace socle::adapters

namespace socle::migrations {
/// The SQLite catalogue migrations, ascending by version (generated at build time).
std::span<const adapters::Migration> sqlite();
/// The PostgreSQL catalogue migrations, ascending by version (generated at build time).
std::span<const adapters::Migration> postgres();
}  // namespace socle::migrations
