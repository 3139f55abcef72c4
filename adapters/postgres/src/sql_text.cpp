#include "sql_text.hpp"

#include <charconv>
#include <system_error>

namespace socle::adapters::postgres {

std::string ExpandSqlTemplate(std::string_view tmpl, std::string_view schema,
                              std::string_view role) {
  std::string out;
  out.reserve(tmpl.size() + 4 * schema.size());
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '@' && i + 1 < tmpl.size() && (tmpl[i + 1] == 's' || tmpl[i + 1] == 'r')) {
      out += tmpl[i + 1] == 's' ? schema : role;
      ++i;
    } else {
      out += tmpl[i];
    }
  }
  return out;
}

domain::Result<std::int64_t> ParseInt8(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return domain::Fail(
        domain::Error::Internal("expected an integer from PostgreSQL, got: " + std::string(text)));
  }
  return value;
}

}  // namespace socle::adapters::postgres
