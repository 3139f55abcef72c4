#pragma once

#include <cstdint>
#include <vector>

#include "socle/domain/error.hpp"

namespace socle::domain {

/// Which slice of a list to return, in PocketBase's terms (1-based page, perPage).
struct PageRequest {
  static constexpr std::int64_t kDefaultPerPage = 30;
  static constexpr std::int64_t kMaxPerPage = 1000;
  static constexpr std::int64_t kMaxPage = 1'000'000;

  std::int64_t page = 1;
  std::int64_t per_page = kDefaultPerPage;

  /// Validates the numbers; invalid_argument naming "page" or "perPage" when out of range.
  static Result<PageRequest> Make(std::int64_t page, std::int64_t per_page);
  std::int64_t Offset() const noexcept { return (page - 1) * per_page; }
};

/// One page of a list plus the total, shaped like PocketBase's list response.
template <typename T>
struct PageOf {
  std::int64_t page = 1;
  std::int64_t per_page = PageRequest::kDefaultPerPage;
  std::int64_t total_items = 0;
  std::vector<T> items;

  std::int64_t TotalPages() const noexcept {
    return per_page <= 0 ? 0 : (total_items + per_page - 1) / per_page;
  }
};

}  // namespace socle::domain
