#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::crypto {

/// The 32-byte key that seals secrets at rest (see SecretBox). Its bytes are wiped when the
/// object is destroyed; copies wipe their own.
class MasterKey final {
 public:
  static constexpr std::size_t kSize = 32;

  /// Copies `bytes`, which must be kSize long.
  explicit MasterKey(std::span<const std::uint8_t, kSize> bytes) noexcept;
  MasterKey(const MasterKey&) = default;
  MasterKey& operator=(const MasterKey&) = default;
  ~MasterKey();

  std::span<const std::uint8_t, kSize> bytes() const noexcept { return bytes_; }

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

/// Decodes a master key written as base64 of exactly 32 bytes: the standard or the URL-safe
/// alphabet, padded or not (so `openssl rand -base64 32` output works), surrounding whitespace
/// ignored. invalid_argument otherwise; the message never contains the value.
domain::Result<MasterKey> ParseMasterKey(std::string_view base64_text);

/// Returns the key held in the file at `path`, creating the file first when it does not exist:
/// base64 of 32 bytes from `random` and a newline, mode 0600, made durable (file and directory
/// fsync) before use. Creation is atomic: the content is written to a fresh temporary file
/// beside `path` (O_CREAT|O_EXCL) and then hard-linked to `path`, which fails if `path` exists,
/// so processes racing to create the file all end with the winner's complete key.
/// Errors: failed_precondition, naming the path, when the file is readable or writable by group
/// or others (with the chmod command that fixes it), is not a regular file, does not hold a
/// key as ParseMasterKey reads it, or cannot be opened or created (e.g. a missing directory
/// or no permission); unavailable when reading, writing or syncing fails.
domain::Result<MasterKey> LoadOrCreateMasterKeyFile(const std::filesystem::path& path,
                                                    application::RandomSource& random);

/// Where the master key comes from, as the composition root read it from settings.
struct MasterKeySource {
  /// The base64 key given in the environment (SOCLE_MASTER_KEY), when the variable is set.
  /// When present it is used, and the file is neither read nor created.
  std::optional<std::string> environment_value;
  /// The key file used when no environment value is given (e.g. <data dir>/master.key).
  std::filesystem::path file;
};

/// The master key from `source`: the environment value when present (an empty or malformed
/// value is invalid_argument, never a silent fallback to the file, since values sealed under
/// the intended key would stop opening), else LoadOrCreateMasterKeyFile(source.file, random).
/// failed_precondition when neither is given; otherwise the errors of the function used.
domain::Result<MasterKey> LoadMasterKey(const MasterKeySource& source,
                                        application::RandomSource& random);

}  // namespace socle::adapters::crypto
