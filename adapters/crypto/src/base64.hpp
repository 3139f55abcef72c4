#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace socle::adapters::crypto {

/// RFC 4648's two alphabets: standard ("+/", PHC strings) and URL-safe ("-_", JWS).
enum class Base64Alphabet { kStandard, kUrl };

/// Base64 without padding, as PHC strings and JWS both write it.
std::string EncodeBase64(std::span<const std::uint8_t> bytes, Base64Alphabet alphabet);

/// Strict decoding of unpadded base64: the alphabet's characters only (no padding, no
/// whitespace), and the unused low bits of the last character zero, so that each byte string
/// has exactly one accepted spelling. nullopt otherwise.
std::optional<std::vector<std::uint8_t>> DecodeBase64(std::string_view text,
                                                      Base64Alphabet alphabet);

}  // namespace socle::adapters::crypto
