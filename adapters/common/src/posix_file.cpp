#include "socle/adapters/posix_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <system_error>

namespace socle::adapters::posix {

namespace {

// Missing directory levels EnsurePrivateDirectory creates at most.
constexpr int kMaxDirectoryDepth = 64;

int EnsurePrivateDirectoryAt(const std::filesystem::path& directory, int depth) {
  if (::mkdir(directory.c_str(), S_IRWXU) != 0) {
    const int error = errno;
    if (error == EEXIST) return 0;
    if (error != ENOENT || depth >= kMaxDirectoryDepth || !directory.has_parent_path() ||
        directory.parent_path() == directory) {
      return error;
    }
    if (const int parent = EnsurePrivateDirectoryAt(directory.parent_path(), depth + 1);
        parent != 0) {
      return parent;
    }
    // Another process may have made it since the first attempt: that is as good.
    if (::mkdir(directory.c_str(), S_IRWXU) != 0) return errno == EEXIST ? 0 : errno;
  }
  // The umask may have taken bits away from 0700; the owner must keep them all.
  if (::chmod(directory.c_str(), S_IRWXU) != 0) return errno;
  return SyncDirectory(DirectoryOf(directory));
}

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::Close() noexcept {
  const int rc = ::close(fd_);
  fd_ = -1;
  return rc;
}

std::string ErrnoText(int error) { return std::generic_category().message(error); }

std::string Quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

std::filesystem::path DirectoryOf(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

int SyncDirectory(const std::filesystem::path& directory) {
  const UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return errno;
  if (::fsync(dir.get()) != 0) return errno;
  return 0;
}

int EnsurePrivateDirectory(const std::filesystem::path& directory) {
  return EnsurePrivateDirectoryAt(directory, 0);
}

}  // namespace socle::adapters::posix
