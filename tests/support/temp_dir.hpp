#pragma once

#include <filesystem>
#include <string>

namespace socle::testing {

/// A fresh directory of its own under the system temp directory (made by mkdtemp, so private to
/// the user and never shared with another test), removed with everything in it on destruction.
class TempDir final {
 public:
  /// Throws std::runtime_error when the directory cannot be made.
  TempDir();
  /// Removes the directory recursively; a failure is ignored, never thrown.
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  /// path() / name, as a string.
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace socle::testing
