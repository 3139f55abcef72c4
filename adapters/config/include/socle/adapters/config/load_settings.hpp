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
/// `args` are the command-line arguments without the program name. Both `--flag value` and
/// `--flag=value` are accepted; a `--` ends option parsing and it and everything after it go
/// to `rest` untouched.
/// The config file is --config FILE / SOCLE_CONFIG, else ./socle.toml when it exists.
/// A variable NAME can instead be given as NAME_FILE (a path whose contents, trimmed of one
/// trailing newline, are the value) for secrets; setting both is an error. An environment
/// variable set to the empty string counts as unset, so that a copied .env.example changes
/// nothing. Every value from every source is validated, even one a higher source overrides.
/// Unknown --flags are left in `rest`; unknown keys in the config file, malformed values and
/// unreadable files are invalid_argument errors: `message` says what is wrong in one line per
/// problem (never echoing a secret) and `fields` names each setting as the user spelled it
/// ("--http", "SOCLE_HTTP", "http.address").
domain::Result<LoadedSettings> LoadSettings(std::span<const std::string> args,
                                            const Environment& env);

/// One line per common option for --help output.
std::string SettingsHelp();

/// How one setting can be given, for documentation and for checks that keep files such as
/// .env.example in step with the code.
struct SettingInfo {
  std::string_view flag;        ///< "--data-dir"
  std::string_view value_name;  ///< "DIR", shown in help
  std::string_view env;         ///< "SOCLE_DATA_DIR" (NAME_FILE is accepted as well)
  std::string_view toml_key;    ///< "data_dir", "database.url"; empty when not in the file
  std::string_view help;        ///< One sentence.
  std::string default_value;    ///< As it would be written in the environment; may be empty.
};

/// Every setting, in help order: the single table that drives parsing and help.
std::vector<SettingInfo> DescribeSettings();

}  // namespace socle::adapters::config
