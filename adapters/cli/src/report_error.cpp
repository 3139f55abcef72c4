#include "report_error.hpp"

#include "socle/adapters/cli/ops_cli.hpp"

namespace socle::adapters::cli {

int ReportError(std::ostream& err, const domain::Error& error) {
  err << "socle: " << error.message << "\n";
  for (const auto& field : error.fields)
    err << "  " << field.field << ": " << field.message << "\n";
  // The operator running the CLI is the person the internal detail is for (the HTTP adapter
  // logs it instead); it never holds a password, adapters redact URLs.
  if (!error.internal.empty()) err << "  detail: " << error.internal << "\n";
  return kExitError;
}

std::optional<domain::Timestamp> ParseDayOrInstant(std::string text) {
  if (text.size() == 10) text += " 00:00:00Z";  // a day: its first instant, UTC
  auto parsed = domain::Timestamp::Parse(text);
  if (!parsed) return std::nullopt;
  return *parsed;
}

domain::Result<domain::Timestamp> ParseExpiry(std::string text) {
  auto parsed = ParseDayOrInstant(std::move(text));
  if (!parsed) {
    return domain::Fail(domain::Error::Field(
        "expires", "validation_invalid_date",
        "Give a date (YYYY-MM-DD) or an instant (YYYY-MM-DD HH:MM:SSZ)."));
  }
  return *parsed;
}

}  // namespace socle::adapters::cli
