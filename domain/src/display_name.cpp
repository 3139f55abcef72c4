#include "socle/domain/display_name.hpp"

#include <cstdint>

namespace socle::domain {

long Utf8Length(std::string_view text) noexcept {
  long count = 0;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return -1;
    }
    if (i + len > n) return -1;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return -1;
    }
    i += len;
    ++count;
  }
  return count;
}

Result<DisplayName> DisplayName::Parse(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) {
    return Fail(Error::Field("name", "validation_required", "Missing required value."));
  }
  long length = Utf8Length(text);
  if (length < 0) {
    return Fail(Error::Field("name", "validation_invalid_utf8", "Must be valid UTF-8 text."));
  }
  if (static_cast<std::size_t>(length) > kMaxCodePoints) {
    return Fail(Error::Field("name", "validation_length_out_of_range",
                             "Must be at most 200 characters."));
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) {
      return Fail(Error::Field("name", "validation_invalid_characters",
                               "Must not contain control characters."));
    }
  }
  return DisplayName(std::string(text));
}

}  // namespace socle::domain
