#include "socle/adapters/postgres/identifier.hpp"

namespace socle::adapters::postgres {

domain::Result<std::string> QuoteIdentifier(std::string_view name) {
  // NAMEDATALEN - 1: PostgreSQL would silently truncate a longer name.
  constexpr std::size_t kMaxLength = 63;
  bool ok = !name.empty() && name.size() <= kMaxLength;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    domain::Error error = domain::Error::Make(domain::ErrorCode::kInvalidArgument,
                                              "Not a valid database identifier.");
    error.internal = "refused identifier: " + std::string(name.substr(0, 80));
    return domain::Fail(std::move(error));
  }
  return '"' + std::string(name) + '"';
}

std::string ProjectSchemaName(const domain::Id& project_id) { return "p_" + project_id.str(); }

}  // namespace socle::adapters::postgres
