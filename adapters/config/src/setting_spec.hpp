#pragma once

#include <span>
#include <string>
#include <string_view>

#include "socle/adapters/config/settings.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::config {

/// What a config-file value may be: text settings take TOML strings only; numeric settings
/// take integers, or strings so that sizes can carry a unit ("1MiB").
enum class ValueKind { kText, kNumber };

/// One setting, described once: every way to spell it, its help line and how to read and show
/// it. The table of these drives flag parsing, the environment, the config file, --help and
/// the .env.example check, so the spellings cannot drift apart.
struct SettingSpec {
  std::string_view flag;
  std::string_view value_name;
  std::string_view env;
  std::string_view toml_key;  ///< Dotted path in the config file; empty when not allowed there.
  std::string_view help;
  ValueKind kind;
  bool secret;  ///< Never echoed in error messages.
  /// Validates `text` and stores it in `settings`. The error's message says what is wrong
  /// without naming the setting or echoing the value; the caller adds both as appropriate.
  domain::Result<void> (*apply)(std::string_view text, Settings& settings);
  /// The current value, written as it would be given in the environment.
  std::string (*show)(const Settings& settings);
};

/// The table, in help order.
std::span<const SettingSpec> SettingSpecs();

/// The row of the config-file setting (--config / SOCLE_CONFIG), which is resolved first.
const SettingSpec& ConfigFileSpec();

}  // namespace socle::adapters::config
