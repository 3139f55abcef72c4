#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/ports/random_source.hpp"

namespace socle::adapters::crypto {

/// A SHA-256 digest or HMAC-SHA-256 tag.
using Sha256Digest = std::array<std::uint8_t, 32>;

/// The bytes of `text`, for the functions below that take bytes.
std::span<const std::uint8_t> AsBytes(std::string_view text) noexcept;

/// SHA-256 (FIPS 180-4) of `data`. Never fails: the process aborts if OpenSSL cannot compute a
/// digest, which only a broken installation causes. Thread-safe.
Sha256Digest Sha256(std::span<const std::uint8_t> data);
/// SHA-256 of the bytes of `text`.
Sha256Digest Sha256(std::string_view text);

/// HMAC-SHA-256 (RFC 2104) of `message` under `key`, of any length (a key longer than the
/// 64-byte block is hashed first, as RFC 2104 says). Never fails, as Sha256. Thread-safe.
Sha256Digest HmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message);
/// HMAC-SHA-256 of the bytes of `message`.
Sha256Digest HmacSha256(std::span<const std::uint8_t> key, std::string_view message);

/// Lower-case hexadecimal, two digits per byte.
std::string ToHex(std::span<const std::uint8_t> bytes);
/// Decodes hexadecimal of either case; nullopt for an odd length or any other character.
std::optional<std::vector<std::uint8_t>> FromHex(std::string_view hex);

/// Unpadded base64url (RFC 4648 section 5), as tokens and sealed values spell bytes.
std::string ToBase64Url(std::span<const std::uint8_t> bytes);
/// Strict unpadded base64url: the URL alphabet only, no padding or whitespace, and zero unused
/// bits in the last character, so each byte string has one accepted spelling. nullopt otherwise.
std::optional<std::vector<std::uint8_t>> FromBase64Url(std::string_view text);

/// Whether `a` and `b` hold the same bytes, in time that depends on their lengths only (not
/// on where they differ), for comparing secrets such as token hashes and MACs. Different
/// lengths return false at once: the length of a hash or MAC is public.
bool ConstantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;
/// ConstantTimeEqual over the bytes of two strings.
bool ConstantTimeEqual(std::string_view a, std::string_view b) noexcept;

/// Fewest random bytes NewOpaqueToken puts in a token (128 bits: beyond guessing).
inline constexpr std::size_t kMinOpaqueTokenBytes = 16;

/// A new bearer secret: `prefix` followed by base64url of `bytes` fresh bytes from `random`
/// (e.g. "sk_" and 32 bytes, 256 bits, for an API key; also refresh tokens and one-time
/// links). `bytes` below kMinOpaqueTokenBytes is raised to it, so that no caller can make a
/// guessable token. The prefix is not secret; it tells tokens apart in logs and scanners.
std::string NewOpaqueToken(application::RandomSource& random, std::string_view prefix,
                           std::size_t bytes = 32);

}  // namespace socle::adapters::crypto
