#pragma once

#include <string>
#include <string_view>

#include "socle/domain/error.hpp"
#include "socle/domain/id.hpp"

namespace socle::adapters::postgres {

/// The one way an identifier enters SQL text: `name` double-quoted, after checking that it is
/// 1-63 characters of [a-z0-9_] (so it can hold no quote, and means the same quoted or not).
/// invalid_argument otherwise. Values are never quoted: they are bound as parameters.
domain::Result<std::string> QuoteIdentifier(std::string_view name);

/// The name of the schema holding a project's data: p_<project id>.
std::string ProjectSchemaName(const domain::Id& project_id);

}  // namespace socle::adapters::postgres
