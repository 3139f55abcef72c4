#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "socle/application/ports/password_hasher.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::crypto {

/// Argon2id cost parameters for new hashes. The defaults are OWASP's minimum
/// (Password Storage Cheat Sheet), which Socle also treats as the floor.
struct Argon2Policy {
  std::uint32_t memory_kib = 19456;  ///< m: memory per hash in KiB.
  std::uint32_t iterations = 2;      ///< t: passes over memory.
  std::uint32_t parallelism = 1;     ///< p: lanes.
  std::uint32_t hash_length = 32;    ///< Tag length in bytes.
  std::uint32_t salt_length = 16;    ///< Fresh random salt length in bytes.
};

/// Argon2id password hashing over the reference library (libargon2), emitting and reading PHC
/// strings. Stored strings are parsed strictly and their costs bounded before any work is done,
/// so a tampered row cannot make Verify allocate or loop without limit.
class Argon2PasswordHasher final : public application::PasswordHasher {
 public:
  /// Longest accepted password: beyond this the hashing cost would be the caller's to choose.
  static constexpr std::size_t kMaxPasswordBytes = 4096;
  /// Upper bounds on parameters read from stored strings (and accepted in a policy).
  static constexpr std::uint32_t kMaxMemoryKib = 4U * 1024U * 1024U;  // 4 GiB
  static constexpr std::uint32_t kMaxIterations = 1000;
  static constexpr std::uint32_t kMaxParallelism = 64;
  static constexpr std::uint32_t kMinSaltLength = 8;  // RFC 9106 §3.1
  static constexpr std::uint32_t kMaxSaltLength = 64;
  static constexpr std::uint32_t kMinHashLength = 4;  // RFC 9106 §3.1
  static constexpr std::uint32_t kMaxHashLength = 64;

  /// Returns a hasher for `policy` drawing salts from `random`, which must outlive it. Errors:
  /// invalid_argument when any field of `policy` is below the Argon2Policy{} defaults (the
  /// floor), above the bounds above, or memory is under 8 KiB per lane.
  static domain::Result<Argon2PasswordHasher> Create(Argon2Policy policy,
                                                     application::RandomSource& random);

  domain::Result<std::string> Hash(std::string_view password) override;
  domain::Result<bool> Verify(std::string_view password, std::string_view phc) override;
  bool NeedsRehash(std::string_view phc) override;

  /// The policy new hashes are made with.
  const Argon2Policy& policy() const noexcept { return policy_; }

 private:
  Argon2PasswordHasher(Argon2Policy policy, application::RandomSource& random)
      : policy_(policy), random_(&random) {}

  Argon2Policy policy_;
  application::RandomSource* random_;  // Not owned; a pointer keeps the class movable.
};

}  // namespace socle::adapters::crypto
