#include "base64.hpp"

namespace socle::adapters::crypto {
namespace {

std::string_view Alphabet(Base64Alphabet alphabet) {
  return alphabet == Base64Alphabet::kUrl
             ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

int Value(char c, Base64Alphabet alphabet) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  const std::string_view chars = Alphabet(alphabet);
  if (c == chars[62]) return 62;
  if (c == chars[63]) return 63;
  return -1;
}

}  // namespace

std::string EncodeBase64(std::span<const std::uint8_t> bytes, Base64Alphabet alphabet) {
  const std::string_view chars = Alphabet(alphabet);
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) |
                            std::uint32_t{bytes[i + 2]};
    out += chars[(n >> 18) & 63U];
    out += chars[(n >> 12) & 63U];
    out += chars[(n >> 6) & 63U];
    out += chars[n & 63U];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) n |= std::uint32_t{bytes[i + 1]} << 8;
    out += chars[(n >> 18) & 63U];
    out += chars[(n >> 12) & 63U];
    if (rest == 2) out += chars[(n >> 6) & 63U];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> DecodeBase64(std::string_view text,
                                                      Base64Alphabet alphabet) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = Value(c, alphabet);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xFFU));
    }
  }
  if ((buffer & ((std::uint32_t{1} << bits) - 1U)) != 0) return std::nullopt;
  return out;
}

}  // namespace socle::adapters::crypto
