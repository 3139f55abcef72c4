#include "text_table.hpp"

#include <algorithm>

#include "socle/domain/display_name.hpp"

namespace socle::adapters::cli {
namespace {

std::size_t Width(const std::string& text) {
  long length = domain::Utf8Length(text);
  return length < 0 ? text.size() : static_cast<std::size_t>(length);
}

}  // namespace

TextTable::TextTable(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }

void TextTable::AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

void TextTable::Print(std::ostream& out) const {
  std::vector<std::size_t> widths(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], Width(row[i]));
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - Width(row[i]) + 2, ' ');
    }
    // Empty cells at the end of a row would otherwise leave the padding before them behind.
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  }
}

void PrintFields(std::ostream& out,
                 const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, key.size());
  for (const auto& [key, value] : fields) {
    out << key << ':' << std::string(width - key.size() + 1, ' ') << value << '\n';
  }
}

std::string Plural(std::int64_t count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

}  // namespace socle::adapters::cli
