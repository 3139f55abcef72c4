#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

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

}  // namespace socle::adapters::cli
