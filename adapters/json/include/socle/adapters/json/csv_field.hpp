#pragma once

#include <string>
#include <string_view>

namespace socle::adapters::json {

/// One CSV field as RFC 4180 writes it: quoted (inner quotes doubled) when it holds a comma, a
/// quote, CR or LF; else as it is. Exports (records, audit events) write their tables with it.
std::string CsvField(std::string_view text);

}  // namespace socle::adapters::json
