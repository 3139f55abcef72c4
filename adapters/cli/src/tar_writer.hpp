#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::adapters::cli {

/// Writes a POSIX ustar archive (POSIX.1-1988, as `tar --format=ustar` reads it) to a stream:
/// 512-byte headers, each followed by its content padded to a multiple of 512 bytes, and two
/// zero blocks at the end. Regular files and directories only; owner root (0/0), files 0644,
/// directories 0755, every entry with the same modification time. A name longer than 100 bytes
/// is split at a '/' into the 155-byte prefix field and the 100-byte name field; one that cannot
/// be split so is refused, as is a size beyond the 11 octal digits of the size field (8 GiB).
///
/// A header carries the file's size, so the content of an entry must be known (or its size
/// computed) before the entry is written: callers buffer small files and spool large ones.
class TarWriter final {
 public:
  static constexpr std::size_t kBlock = 512;
  /// The size field's 11 octal digits: up to 8 GiB - 1.
  static constexpr std::uint64_t kMaxSize = (std::uint64_t{1} << 33) - 1;

  /// `mtime`: seconds since the Unix epoch, for every entry.
  TarWriter(std::ostream& out, std::int64_t mtime);

  /// A directory entry; `name` without its trailing '/' (it is added).
  domain::Result<void> AddDirectory(std::string_view name);
  /// A regular file holding `content`.
  domain::Result<void> AddFile(std::string_view name, std::string_view content);
  /// A regular file of `size` bytes read from `source`, from where it stands; unavailable when
  /// `source` ends before `size` bytes.
  domain::Result<void> AddFile(std::string_view name, std::FILE* source, std::uint64_t size);
  /// The two zero blocks that end an archive. Nothing may be added afterwards.
  domain::Result<void> Finish();

  /// The header block of one entry (`type` '0' for a file, '5' for a directory), checksum
  /// filled in. invalid_argument for an empty or absolute name, a ".." component, a NUL, a
  /// name that does not fit (see above), a size too large.
  static domain::Result<std::array<char, kBlock>> Header(std::string_view name, char type,
                                                         std::uint64_t size, std::int64_t mtime);

 private:
  domain::Result<void> Written();
  domain::Result<void> Pad(std::uint64_t size);

  std::ostream& out_;
  std::int64_t mtime_;
  bool finished_ = false;
};

}  // namespace socle::adapters::cli
