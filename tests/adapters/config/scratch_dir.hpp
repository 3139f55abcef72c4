#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "socle/adapters/config/load_settings.hpp"
#include "support/temp_dir.hpp"

namespace socle::testing {

// A fresh directory that is also the working directory for the test's lifetime, because the
// loader looks for ./socle.toml: no test may depend on where ctest happens to run.
class ScratchDir final {
 public:
  ScratchDir() : previous_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir_.path());
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::current_path(previous_, ignored);  // before dir_ is removed
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  /// Writes `content` to `name` inside the directory and returns its absolute path.
  std::string Write(const std::string& name, std::string_view content) const {
    auto file = dir_.path() / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  std::filesystem::path previous_;
  TempDir dir_;
};

// An environment made of a map, so that tests never see the real one.
inline adapters::config::Environment FakeEnvironment(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace socle::testing
