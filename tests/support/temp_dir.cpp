#include "support/temp_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace socle::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "socle-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    const int error = errno;
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::generic_category().message(error));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  try {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  } catch (...) {  // remove_all may still run out of memory; a destructor must not throw
  }
}

}  // namespace socle::testing
