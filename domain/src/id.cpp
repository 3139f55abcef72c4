#include "socle/domain/id.hpp"

namespace socle::domain {

Result<Id> Id::Parse(std::string_view text) {
  if (text.size() != kLength) {
    return Fail(Error::Field("id", "validation_invalid_id", "Must be exactly 15 characters."));
  }
  for (char c : text) {
    if (kAlphabet.find(c) == std::string_view::npos) {
      return Fail(Error::Field("id", "validation_invalid_id",
                               "Only lowercase letters and digits are allowed."));
    }
  }
  return Id(std::string(text));
}

Id Id::FromRandom(const std::function<std::uint8_t()>& next_byte) {
  // 252 = 7 * 36: bytes at or above it would bias the first 4 letters, so they are redrawn.
  constexpr std::uint8_t kLimit = 252;
  std::string out;
  out.reserve(kLength);
  while (out.size() < kLength) {
    std::uint8_t b = next_byte();
    if (b >= kLimit) continue;
    out.push_back(kAlphabet[b % kAlphabet.size()]);
  }
  return Id(std::move(out));
}

}  // namespace socle::domain
