#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

// Small helpers shared by the statements of the project stores' internal tables.
namespace socle::adapters::postgres {

/// `tmpl` with "@s" replaced by `schema` and "@r" by `role`, both already quoted: the internal
/// tables' statements are templates whose one varying part, the project's schema (and for
/// grants its role), is substituted once when a store opens. Values are bound, never
/// substituted.
std::string ExpandSqlTemplate(std::string_view tmpl, std::string_view schema,
                              std::string_view role = {});

/// Parses a decimal int8 as PostgreSQL prints it; internal error otherwise.
domain::Result<std::int64_t> ParseInt8(std::string_view text);

}  // namespace socle::adapters::postgres
