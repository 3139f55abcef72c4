#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/config/settings.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::config {

/// Reads one environment variable; nullopt when unset. Injected so tests need no real env.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (getenv).
Environment SystemEnvironment();

/// Settings plus the arguments LoadSettings did not consume (sub-commands, positionals and
/// command-specific flags), in their original order.
struct LoadedSettings {
  Settings settings;
  std::vector<std::string> rest;
};

/// Resolves Settings with the precedence flags > environment (SOCLE_*) > config file > defaults.
/// The config file is --config FILE / SOCLE_CONFIG, else ./socle.toml when it exists.
/// A variable NAME can instead be given as NAME_FILE (a path whose contents, trimmed of one
/// trailing newline, are the value) for secrets. Unknown --flags are left in `rest`; unknown
/// keys in the config file, malformed values and unreadable files are invalid_argument
/// errors whose field names the setting.
domain::Result<LoadedSettings> LoadSettings(std::span<const std::string> args,
                                            const Environment& env);

/// One line per common option for --help output.
std::string SettingsHelp();

}  // namespace socle::adapters::config
