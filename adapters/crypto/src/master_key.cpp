#include "socle/adapters/crypto/master_key.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "key_file.hpp"
#include "wipe_on_exit.hpp"

namespace socle::adapters::crypto {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

constexpr std::string_view kMalformed = "The master key must be base64 of 32 bytes.";

// How the master key file is named in messages; the environment variable is the other way to
// give the key, so the advice on a failed creation mentions it.
constexpr KeyFileWording kMasterKeyFile{.file = "master key file",
                                        .content = "master key",
                                        .alternative = " or set SOCLE_MASTER_KEY"};

}  // namespace

MasterKey::MasterKey(std::span<const std::uint8_t, kSize> bytes) noexcept {
  std::ranges::copy(bytes, bytes_.begin());
}

MasterKey::~MasterKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<MasterKey> ParseMasterKey(std::string_view base64_text) {
  std::array<std::uint8_t, MasterKey::kSize> bytes{};
  const WipeOnExit wipe(bytes);
  if (!DecodeKeyText(base64_text, bytes)) {
    return Fail(ErrorCode::kInvalidArgument, std::string(kMalformed));
  }
  return MasterKey(bytes);
}

Result<MasterKey> LoadOrCreateMasterKeyFile(const std::filesystem::path& path,
                                            application::RandomSource& random) {
  std::array<std::uint8_t, MasterKey::kSize> bytes{};
  const WipeOnExit wipe(bytes);
  auto loaded = LoadOrCreateKeyFile(path, kMasterKeyFile, random, bytes);
  if (!loaded) return Fail(std::move(loaded.error()));
  return MasterKey(bytes);
}

Result<MasterKey> LoadMasterKey(const MasterKeySource& source, application::RandomSource& random) {
  if (source.environment_value) {
    if (TrimWhitespace(*source.environment_value).empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "SOCLE_MASTER_KEY is set but empty; unset it to use the key file, or give "
                  "base64 of 32 bytes.");
    }
    auto key = ParseMasterKey(*source.environment_value);
    if (!key) {
      return Fail(ErrorCode::kInvalidArgument,
                  "SOCLE_MASTER_KEY does not hold a master key (base64 of 32 bytes).");
    }
    return key;
  }
  if (source.file.empty()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "No master key is configured: set SOCLE_MASTER_KEY or a master key file.");
  }
  return LoadOrCreateMasterKeyFile(source.file, random);
}

}  // namespace socle::adapters::crypto
