#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::crypto {

/// How one kind of key file is named in its messages, so that each keeps its own wording
/// (operators and tests read them). Every field is a literal that outlives the call.
struct KeyFileWording {
  /// What the file is, after "the": "master key file", "audit signing key file".
  std::string_view file;
  /// What it must hold, after "does not hold a": "master key", "key".
  std::string_view content;
  /// Said after the "Create it yourself (...)" advice, before its final period: another way to
  /// provide the key (" or set SOCLE_MASTER_KEY"), or nothing.
  std::string_view alternative;
};

/// `text` without the spaces, tabs and line ends around it (a key file ends with a newline,
/// and an environment value may carry one).
std::string_view TrimWhitespace(std::string_view text);

/// Decodes key text into `out` when it is base64 of exactly out.size() bytes: the standard or
/// the URL-safe alphabet, "=" padding optional but exact when present (so `openssl rand
/// -base64 N` output and a base64url key both work), surrounding whitespace ignored. False
/// otherwise, and `out` is left untouched. Every intermediate copy is wiped.
bool DecodeKeyText(std::string_view text, std::span<std::uint8_t> out);

/// Fills `secret` with the key held in the small secret file at `path`, creating the file
/// first when it does not exist: standard base64 of secret.size() bytes from `random` and a
/// newline (the shape `openssl rand -base64 N` writes), mode 0600, file and directory fsync'd
/// before use. The content is written under a temporary name beside `path` (O_CREAT|O_EXCL)
/// and hard-linked to `path`, which fails when `path` exists, so processes racing to create
/// the file all end with the winner's complete key. An existing file is read as
/// DecodeKeyText reads it, at most 4096 bytes. The directory is never created: it is the
/// operator's, and a missing one means a wrong setting.
///
/// Errors, each naming the file as `wording` says and never containing key bytes:
/// failed_precondition when the path is empty, the file is readable or writable by group or
/// others (with the chmod command that fixes it), is not a regular file, does not hold a key,
/// or cannot be opened or created; unavailable when reading, writing or syncing fails. On an
/// error `secret` may hold random bytes: the caller wipes it in every case.
domain::Result<void> LoadOrCreateKeyFile(const std::filesystem::path& path,
                                         const KeyFileWording& wording,
                                         application::RandomSource& random,
                                         std::span<std::uint8_t> secret);

}  // namespace socle::adapters::crypto
