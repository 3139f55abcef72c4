#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace socle::adapters::posix {

/// Owns a file descriptor and closes it on every path out of a scope (and with it any flock it
/// holds). Not copyable: two owners would close the descriptor twice.
class UniqueFd final {
 public:
  /// Takes `fd`, which may be negative (a failed open()): valid() tells.
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  /// Closes now and returns what close() returns (-1 with errno set on a delayed write error,
  /// which some file systems report only there); the destructor then has nothing to close.
  int Close() noexcept;

 private:
  int fd_;
};

/// The system's text for an errno value ("No such file or directory"), for messages.
std::string ErrnoText(int error);

/// `path` between single quotes, as messages name files, so that spaces stay visible.
std::string Quoted(const std::filesystem::path& path);

/// The directory that holds `path`: its parent, or "." for a bare file name.
std::filesystem::path DirectoryOf(const std::filesystem::path& path);

/// Writes all of `data` to `fd`, retrying short writes and EINTR. 0, or the errno of the
/// failure (some of `data` may have been written then).
int WriteAll(int fd, std::string_view data);

/// Syncs `directory`, so that a name just made (or linked) in it survives a crash. 0, or the
/// errno of the open() or fsync() that failed.
int SyncDirectory(const std::filesystem::path& directory);

/// Creates `directory` owner-only (mode 0700, whatever the umask) and any missing parents, each
/// made durable in its own parent, for files that are the instance's alone. An existing
/// directory is left as it is. 0, or the errno of the step that failed; ENOENT for a path
/// deeper than 64 missing levels (a wrong setting, not a tree to build).
int EnsurePrivateDirectory(const std::filesystem::path& directory);

}  // namespace socle::adapters::posix
