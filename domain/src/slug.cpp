#include "socle/domain/slug.hpp"

namespace socle::domain {

Result<Slug> Slug::Parse(std::string_view text) {
  auto fail = [](std::string code, std::string message) {
    return Fail(Error::Field("slug", std::move(code), std::move(message)));
  };
  if (text.empty()) return fail("validation_required", "Missing required value.");
  if (text.size() < kMinLength || text.size() > kMaxLength) {
    return fail("validation_length_out_of_range", "Must be between 2 and 63 characters.");
  }
  if (text.front() < 'a' || text.front() > 'z') {
    return fail("validation_invalid_slug", "Must start with a lowercase letter.");
  }
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) {
      return fail("validation_invalid_slug",
                  "Only lowercase letters, digits and hyphens are allowed.");
    }
  }
  if (text.back() == '-') return fail("validation_invalid_slug", "Must not end with a hyphen.");
  if (text.find("--") != std::string_view::npos) {
    return fail("validation_invalid_slug", "Must not contain consecutive hyphens.");
  }
  return Slug(std::string(text));
}

}  // namespace socle::domain
