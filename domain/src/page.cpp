#include "socle/domain/page.hpp"

namespace socle::domain {

Result<PageRequest> PageRequest::Make(std::int64_t page, std::int64_t per_page) {
  if (page < 1 || page > kMaxPage) {
    return Fail(Error::Field("page", "validation_out_of_range",
                             "Must be a whole number between 1 and 1000000."));
  }
  if (per_page < 1 || per_page > kMaxPerPage) {
    return Fail(Error::Field("perPage", "validation_out_of_range",
                             "Must be a whole number between 1 and 1000."));
  }
  return PageRequest{page, per_page};
}

}  // namespace socle::domain
