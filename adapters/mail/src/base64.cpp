#include "base64.hpp"

#include <algorithm>
#include <cstdint>

namespace socle::adapters::mail {

std::string Base64(std::string_view bytes) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t count = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (count > 1) group |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    if (count > 2) group |= std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(kAlphabet[(group >> 18) & 0x3F]);
    out.push_back(kAlphabet[(group >> 12) & 0x3F]);
    out.push_back(count > 1 ? kAlphabet[(group >> 6) & 0x3F] : '=');
    out.push_back(count > 2 ? kAlphabet[group & 0x3F] : '=');
  }
  return out;
}

}  // namespace socle::adapters::mail
