#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/domain/page.hpp"

namespace socle::adapters::cli {

/// Human output: columns aligned on the widest cell, counted in code points so that accented
/// names line up; the last column is not padded (no trailing spaces).
class TextTable final {
 public:
  explicit TextTable(std::vector<std::string> headers);
  /// Precondition: as many cells as headers.
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // the headers first
};

/// Prints "key:   value" lines with the values aligned.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

/// "1 project", "3 projects": `noun` with an English plural s.
std::string Plural(std::int64_t count, std::string_view noun);

/// A note on stderr when a list is cut to one page, so that a human does not take the page for
/// everything; scripts read totalItems from --json instead.
template <typename T>
void NoteMorePages(std::ostream& err, const domain::PageOf<T>& page, std::string_view noun) {
  if (page.total_items <= static_cast<std::int64_t>(page.items.size())) return;
  if (page.items.empty()) {
    err << "Page " << page.page << " is past the end: " << Plural(page.total_items, noun) << " in "
        << page.TotalPages() << " pages of " << page.per_page << ".\n";
    return;
  }
  std::int64_t first = (page.page - 1) * page.per_page + 1;
  std::int64_t last = first + static_cast<std::int64_t>(page.items.size()) - 1;
  err << "Showing " << first << "-" << last << " of " << Plural(page.total_items, noun);
  if (page.page < page.TotalPages()) err << "; next: --page " << (page.page + 1);
  err << ".\n";
}

}  // namespace socle::adapters::cli
