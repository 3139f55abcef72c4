#include "socle/domain/pii_mask.hpp"

namespace socle::domain {
namespace {

// The length in bytes of the UTF-8 character starting `text` (1 for a broken sequence).
std::size_t FirstCharacter(std::string_view text) {
  if (text.empty()) return 0;
  std::size_t n = 1;
  while (n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80 && n < 4) ++n;
  return n;
}

bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::string MaskText(std::string_view text) {
  if (text.empty()) return {};
  return std::string(text.substr(0, FirstCharacter(text))) + "***";
}

std::string MaskEmail(std::string_view email) {
  const std::size_t at = email.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return MaskText(email);
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  const std::size_t dot = domain.rfind('.');
  std::string out = MaskText(local) + "@";
  if (dot == std::string_view::npos || dot == 0) return out + MaskText(domain);
  return out + MaskText(domain.substr(0, dot)) + std::string(domain.substr(dot));
}

std::string MaskTrailing(std::string_view value) {
  std::string kept;
  for (std::size_t i = value.size(); i > 0 && kept.size() < 4; --i) {
    if (IsAlnum(value[i - 1])) kept.insert(kept.begin(), value[i - 1]);
  }
  std::size_t significant = 0;
  for (char c : value) significant += IsAlnum(c) ? 1 : 0;
  if (significant <= 4) return "****";
  return "****" + kept;
}

}  // namespace socle::domain
