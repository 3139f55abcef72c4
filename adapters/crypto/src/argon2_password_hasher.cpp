#include "socle/adapters/crypto/argon2_password_hasher.hpp"

#include <argon2.h>
#include <openssl/crypto.h>

#include <array>
#include <charconv>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "base64.hpp"

namespace socle::adapters::crypto {
namespace {

using domain::ErrorCode;
using domain::Fail;

struct Phc {
  argon2_type type = Argon2_id;
  std::uint32_t version = ARGON2_VERSION_13;
  std::uint32_t memory_kib = 0;
  std::uint32_t iterations = 0;
  std::uint32_t parallelism = 0;
  std::vector<std::uint8_t> salt;
  std::vector<std::uint8_t> hash;
};

// Consumes `prefix` from the front of `text`.
bool Consume(std::string_view& text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

// Consumes a PHC decimal (no sign, no leading zero) no larger than `max`.
std::optional<std::uint32_t> ConsumeDecimal(std::string_view& text, std::uint32_t max) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 10 || (digits > 1 && text[0] == '0')) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (ec != std::errc{} || end != text.data() + digits || value > max) return std::nullopt;
  text.remove_prefix(digits);
  return static_cast<std::uint32_t>(value);
}

// Parses `$<argon2id|argon2i|argon2d>$v=<16|19>$m=<m>,t=<t>,p=<p>$<salt>$<hash>`, refusing
// any cost outside the adapter's bounds before a byte of memory is asked for.
domain::Result<Phc> ParsePhc(std::string_view text) {
  auto malformed = [] { return Fail(ErrorCode::kInvalidArgument, "malformed password hash"); };
  Phc phc;
  if (Consume(text, "$argon2id$")) {
    phc.type = Argon2_id;
  } else if (Consume(text, "$argon2i$")) {
    phc.type = Argon2_i;
  } else if (Consume(text, "$argon2d$")) {
    phc.type = Argon2_d;
  } else {
    return malformed();
  }
  // A missing version means 0x10 to the reference parser; guessing is refused instead.
  if (!Consume(text, "v=")) return malformed();
  const auto version = ConsumeDecimal(text, ARGON2_VERSION_13);
  if (!version || (*version != ARGON2_VERSION_10 && *version != ARGON2_VERSION_13)) {
    return malformed();
  }
  phc.version = *version;
  if (!Consume(text, "$m=")) return malformed();
  const auto memory = ConsumeDecimal(text, Argon2PasswordHasher::kMaxMemoryKib);
  if (!memory || !Consume(text, ",t=")) return malformed();
  const auto iterations = ConsumeDecimal(text, Argon2PasswordHasher::kMaxIterations);
  if (!iterations || !Consume(text, ",p=")) return malformed();
  const auto parallelism = ConsumeDecimal(text, Argon2PasswordHasher::kMaxParallelism);
  if (!parallelism || !Consume(text, "$")) return malformed();
  phc.memory_kib = *memory;
  phc.iterations = *iterations;
  phc.parallelism = *parallelism;
  // RFC 9106 §3.1: t >= 1, p >= 1, m >= 8p.
  if (phc.iterations < 1 || phc.parallelism < 1 ||
      std::uint64_t{phc.memory_kib} < 8ULL * phc.parallelism) {
    return malformed();
  }
  const std::size_t dollar = text.find('$');
  if (dollar == std::string_view::npos) return malformed();
  auto salt = DecodeBase64(text.substr(0, dollar), Base64Alphabet::kStandard);
  auto hash = DecodeBase64(text.substr(dollar + 1), Base64Alphabet::kStandard);
  if (!salt || !hash || salt->size() < Argon2PasswordHasher::kMinSaltLength ||
      salt->size() > Argon2PasswordHasher::kMaxSaltLength ||
      hash->size() < Argon2PasswordHasher::kMinHashLength ||
      hash->size() > Argon2PasswordHasher::kMaxHashLength) {
    return malformed();
  }
  phc.salt = std::move(*salt);
  phc.hash = std::move(*hash);
  return phc;
}

domain::Result<void> CheckPassword(std::string_view password) {
  if (password.size() > Argon2PasswordHasher::kMaxPasswordBytes) {
    return Fail(ErrorCode::kInvalidArgument, "password is too long");
  }
  return {};
}

domain::Error LibraryError(int code) {
  if (code == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return domain::Error::Make(ErrorCode::kResourceExhausted, "out of memory while hashing");
  }
  return domain::Error::Internal(std::string("argon2: ") + argon2_error_message(code));
}

}  // namespace

domain::Result<Argon2PasswordHasher> Argon2PasswordHasher::Create(
    Argon2Policy policy, application::RandomSource& random) {
  const Argon2Policy floor;
  if (policy.memory_kib < floor.memory_kib || policy.iterations < floor.iterations ||
      policy.parallelism < floor.parallelism || policy.hash_length < floor.hash_length ||
      policy.salt_length < floor.salt_length) {
    return Fail(ErrorCode::kInvalidArgument, "argon2 policy is below the OWASP minimum");
  }
  // Hashes made above the parsing bounds could never be verified.
  if (policy.memory_kib > kMaxMemoryKib || policy.iterations > kMaxIterations ||
      policy.parallelism > kMaxParallelism || policy.hash_length > kMaxHashLength ||
      policy.salt_length > kMaxSaltLength ||
      std::uint64_t{policy.memory_kib} < 8ULL * policy.parallelism) {
    return Fail(ErrorCode::kInvalidArgument, "argon2 policy is outside the supported bounds");
  }
  return Argon2PasswordHasher(policy, random);
}

domain::Result<std::string> Argon2PasswordHasher::Hash(std::string_view password) {
  if (auto ok = CheckPassword(password); !ok) return Fail(std::move(ok.error()));
  std::vector<std::uint8_t> salt(policy_.salt_length);
  random_->Fill(salt);
  std::vector<std::uint8_t> tag(policy_.hash_length);
  const int rc = argon2_hash(policy_.iterations, policy_.memory_kib, policy_.parallelism,
                             password.data(), password.size(), salt.data(), salt.size(),
                             tag.data(), tag.size(), nullptr, 0, Argon2_id, ARGON2_VERSION_13);
  if (rc != ARGON2_OK) return Fail(LibraryError(rc));
  std::string phc = "$argon2id$v=19$m=" + std::to_string(policy_.memory_kib) +
                    ",t=" + std::to_string(policy_.iterations) +
                    ",p=" + std::to_string(policy_.parallelism) + "$" + EncodeBase64(salt, Base64Alphabet::kStandard) + "$" +
                    EncodeBase64(tag, Base64Alphabet::kStandard);
  OPENSSL_cleanse(tag.data(), tag.size());
  return phc;
}

domain::Result<bool> Argon2PasswordHasher::Verify(std::string_view password,
                                                  std::string_view phc) {
  if (auto ok = CheckPassword(password); !ok) return Fail(std::move(ok.error()));
  auto parsed = ParsePhc(phc);
  if (!parsed) return Fail(std::move(parsed.error()));
  // Only Argon2id is issued; the data-dependent variants are refused rather than verified.
  if (parsed->type != Argon2_id) {
    return Fail(ErrorCode::kInvalidArgument, "unsupported password hash algorithm");
  }
  std::vector<std::uint8_t> tag(parsed->hash.size());
  const int rc = argon2_hash(parsed->iterations, parsed->memory_kib, parsed->parallelism,
                             password.data(), password.size(), parsed->salt.data(),
                             parsed->salt.size(), tag.data(), tag.size(), nullptr, 0, Argon2_id,
                             static_cast<argon2_version>(parsed->version));
  if (rc != ARGON2_OK) return Fail(LibraryError(rc));
  const bool match = CRYPTO_memcmp(tag.data(), parsed->hash.data(), tag.size()) == 0;
  OPENSSL_cleanse(tag.data(), tag.size());
  return match;
}

bool Argon2PasswordHasher::NeedsRehash(std::string_view phc) {
  const auto parsed = ParsePhc(phc);
  if (!parsed) return true;
  return parsed->type != Argon2_id || parsed->version != ARGON2_VERSION_13 ||
         parsed->memory_kib < policy_.memory_kib || parsed->iterations < policy_.iterations ||
         parsed->parallelism < policy_.parallelism ||
         parsed->hash.size() < policy_.hash_length || parsed->salt.size() < policy_.salt_length;
}

}  // namespace socle::adapters::crypto
