#include "page_query.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "socle/application/validation.hpp"

namespace socle::adapters::http {

namespace {

// Digits only: from_chars alone would take "+1" or "1.5" in part.
domain::Result<std::int64_t> ParseWholeNumber(std::string_view text, std::string field) {
  std::int64_t value = 0;
  const bool digits_only =
      !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return c >= '0' && c <= '9';
      });
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!digits_only || ec != std::errc() || end != text.data() + text.size()) {
    return domain::Fail(domain::Error::Field(std::move(field), "validation_invalid_number",
                                             "Must be a whole number."));
  }
  return value;
}

}  // namespace

domain::Result<domain::PageRequest> ReadPage(const Request& request) {
  application::FieldErrors errors;
  std::optional<std::int64_t> page = domain::PageRequest{}.page;
  std::optional<std::int64_t> per_page = domain::PageRequest{}.per_page;
  if (auto text = request.Query("page")) page = errors.Take(ParseWholeNumber(*text, "page"));
  if (auto text = request.Query("perPage")) {
    per_page = errors.Take(ParseWholeNumber(*text, "perPage"));
  }
  if (!errors.empty()) return domain::Fail(errors.Release());
  return domain::PageRequest::Make(*page, *per_page);
}

}  // namespace socle::adapters::http
