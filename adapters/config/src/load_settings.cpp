#include "socle/adapters/config/load_settings.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "setting_spec.hpp"
#include "socle/adapters/store_url.hpp"

namespace socle::adapters::config {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::FieldError;
using domain::Result;

// Limits on what is read from disk: a settings file or a secret is small, and a mistake such
// as SOCLE_CONFIG=/dev/zero must fail fast instead of eating memory.
constexpr std::uintmax_t kMaxConfigFileBytes = 1 << 20;
constexpr std::uintmax_t kMaxSecretFileBytes = 64 << 10;
constexpr std::string_view kDefaultConfigFile = "socle.toml";
constexpr std::string_view kFileSuffix = "_FILE";

// Every problem found, so that one run reports all of them rather than one per attempt.
class Problems final {
 public:
  void Add(std::string field, std::string code, std::string line) {
    lines_.push_back(line);
    fields_.push_back(FieldError{std::move(field), std::move(code), std::move(line)});
  }
  bool empty() const noexcept { return fields_.empty(); }
  Error Release() {
    std::string message;
    for (const auto& line : lines_) {
      if (!message.empty()) message += '\n';
      message += line;
    }
    return Error{ErrorCode::kInvalidArgument, std::move(message), {}, std::move(fields_), 0};
  }

 private:
  std::vector<std::string> lines_;
  std::vector<FieldError> fields_;
};

// A value as one source gave it; `where` prefixes messages ("SOCLE_HTTP", "socle.toml:3").
struct Given {
  std::string value;
  std::string field;
  std::string where;
};

// One optional value per setting, indexed like SettingSpecs().
using Layer = std::vector<std::optional<Given>>;

std::size_t IndexOf(const SettingSpec& spec) {
  auto specs = SettingSpecs();
  return static_cast<std::size_t>(&spec - specs.data());
}

Result<std::string> ReadSmallFile(const std::string& path, std::uintmax_t limit) {
  auto fail = [&](const std::string& why) {
    return domain::Fail(ErrorCode::kInvalidArgument, "cannot read " + path + ": " + why);
  };
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec) return fail(ec.message());
  if (!std::filesystem::is_regular_file(status)) return fail("not a regular file");
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail(ec.message());
  if (size > limit) return fail("larger than " + std::to_string(limit) + " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot be opened");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail("read error");
  return text;
}

// Docker secrets and `echo secret > file` both end the file with a newline that is not part
// of the value; exactly one is dropped so that a value may still end in whitespace on purpose.
void StripOneNewline(std::string& text) {
  if (text.ends_with("\r\n")) {
    text.resize(text.size() - 2);
  } else if (text.ends_with('\n')) {
    text.pop_back();
  }
}

std::optional<std::string> NonEmpty(std::optional<std::string> value) {
  if (value && value->empty()) return std::nullopt;
  return value;
}

Layer ReadFlags(std::span<const std::string> args, std::vector<std::string>& rest,
                Problems& problems) {
  auto specs = SettingSpecs();
  Layer layer(specs.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    if (!arg.starts_with("--")) {
      rest.push_back(arg);
      continue;
    }
    auto equals = arg.find('=');
    std::string_view name = std::string_view(arg).substr(0, equals);
    const SettingSpec* spec = nullptr;
    for (const auto& candidate : specs) {
      if (candidate.flag == name) spec = &candidate;
    }
    if (spec == nullptr) {
      rest.push_back(arg);
      continue;
    }
    std::string value;
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      problems.Add(std::string(spec->flag), "validation_missing_value",
                   std::string(spec->flag) + " needs a value: " + std::string(spec->flag) + " " +
                       std::string(spec->value_name));
      continue;
    }
    // Repeating a flag is allowed; the last one wins, as shells users expect.
    layer[IndexOf(*spec)] =
        Given{std::move(value), std::string(spec->flag), std::string(spec->flag)};
  }
  return layer;
}

std::optional<Given> ReadVariable(const Environment& env, const SettingSpec& spec,
                                  Problems& problems) {
  std::string name(spec.env);
  std::string file_name = name + std::string(kFileSuffix);
  auto direct = NonEmpty(env(name));
  auto file = NonEmpty(env(file_name));
  if (direct && file) {
    problems.Add(name, "validation_conflict",
                 name + " and " + file_name + " are both set; set only one of them");
    return std::nullopt;
  }
  if (direct) return Given{std::move(*direct), name, name};
  if (!file) return std::nullopt;
  auto content = ReadSmallFile(*file, kMaxSecretFileBytes);
  if (!content) {
    problems.Add(file_name, "validation_unreadable_file",
                 file_name + ": " + content.error().message);
    return std::nullopt;
  }
  StripOneNewline(*content);
  return Given{std::move(*content), file_name, file_name};
}

Layer ReadEnvironment(const Environment& env, Problems& problems) {
  auto specs = SettingSpecs();
  Layer layer(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) layer[i] = ReadVariable(env, specs[i], problems);
  return layer;
}

const SettingSpec* SpecForKey(std::string_view key) {
  for (const auto& spec : SettingSpecs()) {
    if (!spec.toml_key.empty() && spec.toml_key == key) return &spec;
  }
  return nullptr;
}

bool IsSection(std::string_view path) {
  for (const auto& spec : SettingSpecs()) {
    if (spec.toml_key.size() > path.size() && spec.toml_key.starts_with(path) &&
        spec.toml_key[path.size()] == '.') {
      return true;
    }
  }
  return false;
}

std::string Where(const std::string& file, const toml::node& node) {
  const auto& begin = node.source().begin;
  if (begin.line == 0) return file;
  return file + ":" + std::to_string(begin.line);
}

void ReadTable(const toml::table& table, const std::string& prefix, const std::string& file,
               Layer& layer, Problems& problems) {
  for (auto&& [key, node] : table) {
    std::string path =
        prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    std::string where = Where(file, node);
    if (const SettingSpec* spec = SpecForKey(path)) {
      std::optional<std::string> text;
      if (auto s = node.as_string()) {
        text = s->get();
      } else if (auto i = node.as_integer(); i && spec->kind == ValueKind::kNumber) {
        text = std::to_string(i->get());
      }
      if (!text) {
        problems.Add(path, "validation_invalid_type",
                     where + ": " + path + " must be " +
                         (spec->kind == ValueKind::kNumber ? "an integer" : "a string"));
        continue;
      }
      layer[IndexOf(*spec)] = Given{std::move(*text), path, where + ": " + path};
      continue;
    }
    if (IsSection(path)) {
      if (auto sub = node.as_table()) {
        ReadTable(*sub, path, file, layer, problems);
      } else {
        problems.Add(path, "validation_invalid_type", where + ": " + path + " must be a table");
      }
      continue;
    }
    problems.Add(path, "validation_unknown_key", where + ": unknown key " + path);
  }
}

Layer ReadConfigFile(const std::string& path, Problems& problems) {
  Layer layer(SettingSpecs().size());
  auto text = ReadSmallFile(path, kMaxConfigFileBytes);
  if (!text) {
    problems.Add("config", "validation_unreadable_file", text.error().message);
    return layer;
  }
  try {
    toml::table table = toml::parse(*text, path);
    ReadTable(table, "", path, layer, problems);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    problems.Add("config", "validation_invalid_toml",
                 path + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) +
                     ": " + std::string(e.description()));
  }
  return layer;
}

// Applies every value a layer holds, so that a bad value is reported even when a higher
// source overrides it: a configuration that only works by accident is still broken.
void Apply(const Layer& layer, Settings& settings, Problems& problems) {
  auto specs = SettingSpecs();
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (!layer[i]) continue;
    const Given& given = *layer[i];
    auto applied = specs[i].apply(given.value, settings);
    if (applied) continue;
    std::string line = given.where + ": " + applied.error().message;
    if (!specs[i].secret) line += " (got \"" + given.value + "\")";
    problems.Add(given.field, "validation_invalid_value", std::move(line));
  }
}

}  // namespace

namespace {

// The threads that may hold a database connection at once: the workers, and the event loops
// when reads run on them.
std::size_t ConnectionHolders(const Settings& settings) {
  const bool loops_read = settings.http_reads != "worker";
  return settings.worker_threads + (loops_read ? settings.http_threads : 0);
}

}  // namespace

bool NetworkedStore(const Settings& settings) {
  if (settings.database_url.empty()) return false;  // SQLite in the data directory
  auto url = StoreUrl::Parse(settings.database_url);
  return url && url->kind == StoreUrl::Kind::kPostgres;
}

Settings ResolveAuto(Settings settings, unsigned cores) {
  const std::size_t n = std::max(1u, cores);
  const bool networked = NetworkedStore(settings);
  if (settings.http_reads == "auto") settings.http_reads = networked ? "point" : "loop";
  if (settings.http_threads == 0) {
    settings.http_threads = networked && settings.http_reads != "worker" ? 2 * n : n;
  }
  if (settings.database_pool_size == 0) settings.database_pool_size = ConnectionHolders(settings);
  return settings;
}

std::size_t PoolShortfall(const Settings& settings) {
  const std::size_t holders = ConnectionHolders(settings);
  return holders > settings.database_pool_size ? holders - settings.database_pool_size : 0;
}

Environment SystemEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<LoadedSettings> LoadSettings(std::span<const std::string> args, const Environment& env) {
  Problems problems;
  LoadedSettings loaded;
  Layer flags = ReadFlags(args, loaded.rest, problems);
  Layer environment = ReadEnvironment(env, problems);

  std::size_t config_index = IndexOf(ConfigFileSpec());
  // An explicitly named file must exist; the default one is optional.
  std::optional<std::string> config_path;
  if (const auto& given = flags[config_index] ? flags[config_index] : environment[config_index]) {
    config_path = given->value;
  } else {
    std::error_code ec;
    if (std::filesystem::is_regular_file(kDefaultConfigFile, ec)) {
      config_path = std::string(kDefaultConfigFile);
    }
  }

  Layer file(SettingSpecs().size());
  if (config_path && !config_path->empty()) file = ReadConfigFile(*config_path, problems);

  Apply(file, loaded.settings, problems);
  Apply(environment, loaded.settings, problems);
  Apply(flags, loaded.settings, problems);
  if (!problems.empty()) return domain::Fail(problems.Release());
  loaded.settings.config_file = config_path.value_or("");
  return loaded;
}

std::vector<SettingInfo> DescribeSettings() {
  Settings defaults;
  std::vector<SettingInfo> out;
  for (const auto& spec : SettingSpecs()) {
    out.push_back(SettingInfo{spec.flag, spec.value_name, spec.env, spec.toml_key, spec.help,
                              spec.show(defaults)});
  }
  return out;
}

std::string SettingsHelp() {
  auto settings = DescribeSettings();
  std::size_t width = 0;
  for (const auto& s : settings) width = std::max(width, s.flag.size() + 1 + s.value_name.size());
  std::string out;
  for (const auto& s : settings) {
    std::string left = std::string(s.flag) + " " + std::string(s.value_name);
    out += "  " + left + std::string(width - left.size() + 2, ' ') + std::string(s.help);
    out += " [" + std::string(s.env);
    if (!s.toml_key.empty()) out += ", " + std::string(s.toml_key);
    if (!s.default_value.empty()) out += "; default " + s.default_value;
    out += "]\n";
  }
  return out;
}

}  // namespace socle::adapters::config
