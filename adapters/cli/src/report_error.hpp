#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::cli {

/// Prints a refusal or failure on `err` as every command does ("socle: <message>", then one
/// indented line per field error and the internal detail, which is for the operator at the
/// terminal); returns kExitError.
int ReportError(std::ostream& err, const domain::Error& error);

/// A day (YYYY-MM-DD, its first instant, UTC) or an instant (YYYY-MM-DD HH:MM:SSZ, or RFC
/// 3339, UTC); nullopt for anything else.
std::optional<domain::Timestamp> ParseDayOrInstant(std::string text);

/// An --expires value: a day (YYYY-MM-DD, its first instant, UTC) or an instant
/// (YYYY-MM-DD HH:MM:SSZ, or RFC 3339). invalid_argument with the field error "expires"
/// otherwise; whether it is in the future is the use case's business.
domain::Result<domain::Timestamp> ParseExpiry(std::string text);

}  // namespace socle::adapters::cli
