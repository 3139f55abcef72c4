#include "socle/adapters/cli/command.hpp"

#include <array>
#include <charconv>
#include <vector>

#include "socle/domain/page.hpp"

namespace socle::adapters::cli {
namespace {

// Command-specific flags, as bits so that a command's table row can list the ones it takes.
enum FlagBit : unsigned {
  kNoFlags = 0,
  kName = 1u << 0,
  kRegion = 1u << 1,
  kTier = 1u << 2,
  kOrg = 1u << 3,
  kForce = 1u << 4,
  kPage = 1u << 5,
  kPerPage = 1u << 6,
  kStoreUrl = 1u << 7,
  kProject = 1u << 8,
  kOut = 1u << 9,
  kYes = 1u << 10,
  kDeleteMissing = 1u << 11,
  kScope = 1u << 12,
  kExpires = 1u << 13,
};

struct FlagSpec {
  FlagBit bit;
  std::string_view name;
  std::string_view value_name;  ///< Empty for a switch.
};

constexpr std::array kFlags = {
    FlagSpec{kName, "--name", "NAME"},
    FlagSpec{kRegion, "--region", "REGION"},
    FlagSpec{kTier, "--tier", "shared|dedicated"},
    FlagSpec{kOrg, "--org", "ORG"},
    FlagSpec{kForce, "--force", ""},
    FlagSpec{kPage, "--page", "N"},
    FlagSpec{kPerPage, "--per-page", "N"},
    FlagSpec{kStoreUrl, "--store-url", "URL"},
    FlagSpec{kProject, "--project", "PROJECT"},
    FlagSpec{kOut, "--out", "FILE"},
    FlagSpec{kYes, "--yes", ""},
    FlagSpec{kDeleteMissing, "--delete-missing", ""},
    FlagSpec{kScope, "--scope", "SCOPE"},
    FlagSpec{kExpires, "--expires", "DATE"},
};

// One row per command: the single description that drives parsing, usage lines and help.
struct CommandSpec {
  std::string_view path;  ///< "org create"
  Verb verb;
  std::string_view arguments;  ///< Positional arguments as shown in usage: "SLUG NAME".
  std::size_t positionals;     ///< How many there must be.
  unsigned flags;              ///< Command-specific flags it accepts.
  unsigned required;           ///< Those of them that must be given.
  std::string_view summary;
  std::string_view details;  ///< Help for its arguments and flags, one line each.
};

constexpr std::string_view kPagingHelp =
    "  --page N           Page to show, from 1 (default 1).\n"
    "  --per-page N       Items per page, 1 to 1000 (default 100).\n";

constexpr std::string_view kProjectHelp =
    "  --project PROJECT  The project's slug (required).\n";

constexpr std::array kCommands = {
    CommandSpec{"migrate", Verb::kMigrate, "", 0, kNoFlags, kNoFlags,
                "Bring the catalogue store's schema up to this version of Socle.",
                "Every other command does this first as well; run it on its own to see what "
                "was applied.\n"},
    CommandSpec{"org create", Verb::kOrgCreate, "SLUG", 1, kName | kRegion | kTier, kNoFlags,
                "Create an organisation (a tenant).",
                "  SLUG               2-63 of a-z, 0-9 and '-', starting with a letter.\n"
                "  --name NAME        Display name (default: the slug).\n"
                "  --region REGION    Home region (default: local).\n"
                "  --tier TIER        Isolation tier: shared (default) or dedicated.\n"},
    CommandSpec{"org list", Verb::kOrgList, "", 0, kPage | kPerPage, kNoFlags,
                "List organisations, by slug.", kPagingHelp},
    CommandSpec{"org get", Verb::kOrgGet, "SLUG", 1, kNoFlags, kNoFlags, "Show one organisation.",
                ""},
    CommandSpec{"org rename", Verb::kOrgRename, "SLUG NAME", 2, kNoFlags, kNoFlags,
                "Change an organisation's display name (its slug never changes).", ""},
    CommandSpec{"org delete", Verb::kOrgDelete, "SLUG", 1, kForce, kNoFlags,
                "Delete an organisation.",
                "  --force            Also delete its projects and their data; without it an\n"
                "                     organisation that has projects is not deleted.\n"},
    CommandSpec{"project create", Verb::kProjectCreate, "SLUG", 1, kOrg | kName, kOrg,
                "Create a project in an organisation.",
                "  SLUG               Unique across the platform; names /p/SLUG.\n"
                "  --org ORG          The owning organisation's slug (required).\n"
                "  --name NAME        Display name (default: the slug).\n"},
    CommandSpec{"project list", Verb::kProjectList, "", 0, kOrg | kPage | kPerPage, kNoFlags,
                "List projects, by slug.",
                "  --org ORG          Only the projects of this organisation.\n"
                "  --page N           Page to show, from 1 (default 1).\n"
                "  --per-page N       Items per page, 1 to 1000 (default 100).\n"},
    CommandSpec{"project get", Verb::kProjectGet, "SLUG", 1, kNoFlags, kNoFlags,
                "Show one project.", ""},
    CommandSpec{"project rename", Verb::kProjectRename, "SLUG NAME", 2, kNoFlags, kNoFlags,
                "Change a project's display name (its slug never changes).", ""},
    CommandSpec{"project delete", Verb::kProjectDelete, "SLUG", 1, kNoFlags, kNoFlags,
                "Delete a project and its data.", ""},
    CommandSpec{"region list", Verb::kRegionList, "", 0, kNoFlags, kNoFlags,
                "List regions, by name, with their store URLs (passwords hidden).", ""},
    CommandSpec{"region set", Verb::kRegionSet, "NAME", 1, kStoreUrl, kStoreUrl,
                "Define a region, or change its store URL.",
                "  NAME               2-63 of a-z, 0-9 and '-', starting with a letter.\n"
                "  --store-url URL    The PostgreSQL cluster to place its organisations in:\n"
                "                     postgres://... or postgresql://... (empty only for\n"
                "                     local, meaning this instance's own store).\n"},
    CommandSpec{"collection list", Verb::kCollectionList, "", 0, kProject, kProject,
                "List a project's collections, in creation order.", kProjectHelp},
    CommandSpec{"collection get", Verb::kCollectionGet, "NAME", 1, kProject, kProject,
                "Show one collection: its rules, fields and indexes.",
                "  NAME               The collection's name or id.\n"
                "  --project PROJECT  The project's slug (required).\n"},
    CommandSpec{"collection import", Verb::kCollectionImport, "FILE", 1,
                kProject | kDeleteMissing, kProject,
                "Create or update collections from a PocketBase collections export.",
                "  FILE               A JSON array of collections, or {\"collections\": [...]}\n"
                "                     (PocketBase's export format); - reads stdin. Collections\n"
                "                     are matched by id, else by name; all are applied in one\n"
                "                     schema change, or none when one is invalid.\n"
                "  --project PROJECT  The project's slug (required).\n"
                "  --delete-missing   Also delete the project's collections the file does not\n"
                "                     name, with their records.\n"},
    CommandSpec{"collection export", Verb::kCollectionExport, "", 0, kProject | kOut, kProject,
                "Print a project's collections as PocketBase's JSON export (importable back).",
                "  --project PROJECT  The project's slug (required).\n"
                "  --out FILE         Write to FILE instead of stdout (replaced whole, or left\n"
                "                     as it was when the export fails).\n"},
    CommandSpec{"collection delete", Verb::kCollectionDelete, "NAME", 1, kProject | kYes,
                kProject, "Delete a collection and its records.",
                "  NAME               The collection's name or id.\n"
                "  --project PROJECT  The project's slug (required).\n"
                "  --yes              Confirm: without it nothing is deleted and the command\n"
                "                     says how many records would go (exit 1).\n"},
    CommandSpec{"collection history", Verb::kCollectionHistory, "", 0, kProject, kProject,
                "List the changes made to a project's collections, oldest first.", kProjectHelp},
    CommandSpec{"settings get", Verb::kSettingsGet, "", 0, kProject, kProject,
                "Show a project's settings (PocketBase's /api/settings).",
                "  --project PROJECT  The project's slug (required).\n"
                "With --json: PocketBase's settings document, which settings set reads back.\n"},
    CommandSpec{"settings set", Verb::kSettingsSet, "FILE", 1, kProject, kProject,
                "Change a project's settings from a JSON patch.",
                "  FILE               A JSON object in PocketBase's settings shape; - reads\n"
                "                     stdin. Its members are merged over the current settings\n"
                "                     as PATCH /api/settings merges them:\n"
                "                     {\"batch\": {\"maxRequests\": 20}} changes that value only;\n"
                "                     a list is replaced whole. The result is validated whole\n"
                "                     and stored, or nothing changes.\n"
                "  --project PROJECT  The project's slug (required).\n"},
    CommandSpec{"superuser upsert", Verb::kSuperuserUpsert, "EMAIL PASSWORD", 2, kNoFlags,
                kNoFlags, "Create a superuser, or give an existing one a new password.",
                "  EMAIL              The superuser's e-mail address (their sign-in identity).\n"
                "  PASSWORD           At least 8 characters, not a common password; - reads it\n"
                "                     from the first line of stdin (keeps it out of the shell's\n"
                "                     history and the process list). A new password signs the\n"
                "                     superuser out everywhere.\n"},
    CommandSpec{"keys list", Verb::kKeysList, "", 0, kNoFlags, kNoFlags,
                "List the token signing keys, newest (signing) first.",
                "Retired keys keep verifying the tokens they signed for 30 days.\n"},
    CommandSpec{"keys rotate", Verb::kKeysRotate, "", 0, kNoFlags, kNoFlags,
                "Add a new token signing key, which signs from now on.",
                "Older keys keep verifying for 30 days; running servers pick the new key up\n"
                "within a minute. Public keys: GET /.well-known/jwks.json.\n"},
    CommandSpec{"apikey create", Verb::kApiKeyCreate, "NAME", 1, kProject | kScope | kExpires,
                kProject | kScope, "Create an API key for a project's data API; shown once.",
                "  NAME               What the key is for (1-100 characters).\n"
                "  --project PROJECT  The project's slug (required).\n"
                "  --scope SCOPE      COLLECTION:ACTION, repeatable (at least one): ACTION is\n"
                "                     list, view, create, update, delete, read (list and view),\n"
                "                     write (create, update, delete) or all; COLLECTION a name\n"
                "                     or * for every collection. Within its scopes the key acts\n"
                "                     as a superuser; it never manages collections or settings.\n"
                "  --expires DATE     When the key stops working (YYYY-MM-DD or an instant).\n"
                "Send it as 'Authorization: Bearer sk_...' or 'X-API-Key: sk_...'.\n"},
    CommandSpec{"apikey list", Verb::kApiKeyList, "", 0, kProject, kProject,
                "List a project's API keys (never their secrets).", kProjectHelp},
    CommandSpec{"apikey revoke", Verb::kApiKeyRevoke, "ID", 1, kProject, kProject,
                "Revoke an API key: it stops working at once.",
                "  ID                 The key's id (see apikey list).\n"
                "  --project PROJECT  The project's slug (required).\n"},
    CommandSpec{"member upsert", Verb::kMemberUpsert, "EMAIL PASSWORD", 2, kName, kNoFlags,
                "Create a platform member, or give an existing one a new password.",
                "  EMAIL              The member's e-mail address (their sign-in identity).\n"
                "  PASSWORD           At least 8 characters, not a common password; - reads it\n"
                "                     from the first line of stdin. A new password ends all the\n"
                "                     member's sessions.\n"
                "  --name NAME        The member's display name (up to 255 characters; kept\n"
                "                     when not given).\n"},
    CommandSpec{"maintenance run", Verb::kMaintenanceRun, "", 0, kNoFlags, kNoFlags,
                "Run the periodic clean-up now: spent member sessions, old sign-in attempts.",
                "Deletes expired refresh tokens, those revoked or exchanged more than a day ago,\n"
                "and sign-in attempts older than 90 days (socle-server also does this hourly).\n"},
};

constexpr std::array<std::string_view, 10> kGroups = {
    "org",       "project", "region", "collection", "settings",
    "superuser", "keys",    "apikey", "member",     "maintenance"};

constexpr std::string_view kCommonOptions =
    "  --json             Print the result as JSON, in the HTTP API's shapes.\n"
    "  -h, --help         Show this help.\n";
constexpr std::string_view kVersionOption = "  --version          Print socle's version.\n";
constexpr std::string_view kSettingsPointer =
    "  --data-dir DIR, --database-url URL, --config FILE and the other settings: see "
    "`socle help`.\n";

const CommandSpec* FindCommand(std::string_view path) {
  for (const auto& spec : kCommands) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

bool IsGroup(std::string_view word) {
  for (auto group : kGroups) {
    if (group == word) return true;
  }
  return false;
}

const FlagSpec* FindFlag(std::string_view name) {
  for (const auto& flag : kFlags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

std::string Usage(const CommandSpec& spec) {
  std::string out = "socle " + std::string(spec.path);
  if (!spec.arguments.empty()) out += " " + std::string(spec.arguments);
  for (const auto& flag : kFlags) {
    if ((spec.flags & flag.bit) == 0) continue;
    std::string text = std::string(flag.name);
    if (!flag.value_name.empty()) text += " " + std::string(flag.value_name);
    out += (spec.required & flag.bit) != 0 ? " " + text : " [" + text + "]";
  }
  return out;
}

// The words and flags of a command line, before they are matched against a command.
struct Tokens {
  std::vector<std::string> positionals;
  std::vector<std::pair<const FlagSpec*, std::string>> flags;  // in the order given
  std::vector<std::string> unknown_flags;
  std::optional<std::string> problem;  // a flag's missing value, a switch given a value
  bool help = false;
  bool version = false;
  bool json = false;
};

Tokens Tokenize(std::span<const std::string> args) {
  Tokens tokens;
  bool only_positionals = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positionals || arg == "-" || !arg.starts_with('-')) {
      tokens.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    auto equals = arg.find('=');
    std::string_view name = std::string_view(arg).substr(0, equals);
    bool has_value = equals != std::string::npos;
    if (name == "--help" || name == "-h" || name == "--version" || name == "--json") {
      if (has_value && !tokens.problem) tokens.problem = std::string(name) + " takes no value";
      if (name == "--json")
        tokens.json = true;
      else if (name == "--version")
        tokens.version = true;
      else
        tokens.help = true;
      continue;
    }
    const FlagSpec* flag = FindFlag(name);
    if (flag == nullptr) {
      tokens.unknown_flags.emplace_back(name);
      continue;
    }
    if (flag->value_name.empty()) {
      if (has_value && !tokens.problem) tokens.problem = std::string(name) + " takes no value";
      tokens.flags.emplace_back(flag, "");
      continue;
    }
    if (has_value) {
      tokens.flags.emplace_back(flag, arg.substr(equals + 1));
    } else if (i + 1 < args.size()) {
      tokens.flags.emplace_back(flag, args[++i]);
    } else if (!tokens.problem) {
      tokens.problem = std::string(name) + " needs a value: " + std::string(name) + " " +
                       std::string(flag->value_name);
    }
  }
  return tokens;
}

// The most specific command or group the words name, for --help: "org create", "org", "".
std::string TopicOf(const std::vector<std::string>& words) {
  if (words.empty()) return "";
  if (IsGroup(words[0])) {
    if (words.size() > 1 && FindCommand(words[0] + " " + words[1])) {
      return words[0] + " " + words[1];
    }
    return words[0];
  }
  if (FindCommand(words[0])) return words[0];
  return "";
}

std::optional<std::int64_t> ParseCount(std::string_view text, std::int64_t max) {
  std::int64_t value = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > max) {
    return std::nullopt;
  }
  return value;
}

std::unexpected<UsageError> Usage(std::string message, std::string_view topic) {
  return std::unexpected(UsageError{std::move(message), std::string(topic)});
}

// The names of the positional arguments, as the usage line spells them ("SLUG", "NAME").
std::vector<std::string> ArgumentNames(std::string_view arguments) {
  std::vector<std::string> names;
  while (!arguments.empty()) {
    auto space = arguments.find(' ');
    names.emplace_back(arguments.substr(0, space));
    if (space == std::string_view::npos) break;
    arguments.remove_prefix(space + 1);
  }
  return names;
}

}  // namespace

std::expected<Command, UsageError> ParseCommand(std::span<const std::string> args) {
  Tokens tokens = Tokenize(args);
  Command command;
  command.json = tokens.json;
  // Help and version answer even a command line that is otherwise wrong: that is when they are
  // needed.
  if (tokens.help) {
    command.verb = Verb::kHelp;
    command.help_topic = TopicOf(tokens.positionals);
    return command;
  }
  if (tokens.version) {
    command.verb = Verb::kVersion;
    return command;
  }

  const auto& words = tokens.positionals;
  if (words.empty()) return Usage("missing command", "");
  std::size_t consumed = 1;
  const CommandSpec* spec = nullptr;
  if (words[0] == "help") {
    std::string topic;
    for (std::size_t i = 1; i < words.size(); ++i) topic += (i > 1 ? " " : "") + words[i];
    if (!topic.empty() && !IsGroup(topic) && !FindCommand(topic)) {
      return Usage("no such command: socle " + topic, "");
    }
    command.verb = Verb::kHelp;
    command.help_topic = topic;
    return command;
  }
  if (IsGroup(words[0])) {
    if (words.size() < 2) return Usage("missing sub-command after socle " + words[0], words[0]);
    spec = FindCommand(words[0] + " " + words[1]);
    if (spec == nullptr) {
      return Usage("unknown command: socle " + words[0] + " " + words[1], words[0]);
    }
    consumed = 2;
  } else {
    spec = FindCommand(words[0]);
    if (spec == nullptr) return Usage("unknown command: " + words[0], "");
  }

  const std::string_view topic = spec->path;
  if (tokens.problem) return Usage(*tokens.problem, topic);
  if (!tokens.unknown_flags.empty()) {
    return Usage(
        "unknown flag " + tokens.unknown_flags.front() + " for socle " + std::string(topic), topic);
  }
  for (const auto& [flag, value] : tokens.flags) {
    if ((spec->flags & flag->bit) == 0) {
      return Usage("socle " + std::string(topic) + " does not take " + std::string(flag->name),
                   topic);
    }
  }
  std::span<const std::string> arguments(words.begin() + static_cast<std::ptrdiff_t>(consumed),
                                         words.end());
  auto names = ArgumentNames(spec->arguments);
  if (arguments.size() < spec->positionals) {
    return Usage("missing " + names[arguments.size()], topic);
  }
  if (arguments.size() > spec->positionals) {
    return Usage("unexpected argument \"" + arguments[spec->positionals] + "\"", topic);
  }
  for (const auto& flag : kFlags) {
    if ((spec->required & flag.bit) == 0) continue;
    bool given = false;
    for (const auto& [seen, value] : tokens.flags) given = given || seen == &flag;
    if (!given) {
      return Usage("missing " + std::string(flag.name) + " " + std::string(flag.value_name), topic);
    }
  }

  command.verb = spec->verb;
  if (!arguments.empty()) command.slug = arguments[0];
  if (arguments.size() > 1) {
    // member upsert's PASSWORD is not a name: --name, applied below, names the member.
    if (spec->verb == Verb::kMemberUpsert) {
      command.password = arguments[1];
    } else {
      command.name = arguments[1];
    }
  }
  // A repeated flag takes its last value, as with the settings flags.
  for (const auto& [flag, value] : tokens.flags) {
    switch (flag->bit) {
      case kName:
        command.name = value;
        break;
      case kRegion:
        command.region = value;
        break;
      case kTier:
        command.tier = value;
        break;
      case kOrg:
        command.org = value;
        break;
      case kStoreUrl:
        command.store_url = value;
        break;
      case kProject:
        command.project = value;
        break;
      case kScope:
        command.scopes.push_back(value);  // repeatable: every one counts
        break;
      case kExpires:
        command.expires = value;
        break;
      case kOut:
        command.out_file = value;
        break;
      case kForce:
        command.force = true;
        break;
      case kYes:
        command.yes = true;
        break;
      case kDeleteMissing:
        command.delete_missing = true;
        break;
      case kPage: {
        auto page = ParseCount(value, domain::PageRequest::kMaxPage);
        if (!page) {
          return Usage("--page must be a whole number from 1 to " +
                           std::to_string(domain::PageRequest::kMaxPage),
                       topic);
        }
        command.page = *page;
        break;
      }
      case kPerPage: {
        auto per_page = ParseCount(value, domain::PageRequest::kMaxPerPage);
        if (!per_page) {
          return Usage("--per-page must be a whole number from 1 to " +
                           std::to_string(domain::PageRequest::kMaxPerPage),
                       topic);
        }
        command.per_page = *per_page;
        break;
      }
      case kNoFlags:
        break;
    }
  }
  return command;
}

std::string UsageLine(std::string_view topic) {
  if (const CommandSpec* spec = FindCommand(topic)) {
    return "Usage: " + Usage(*spec) + " [--json]";
  }
  if (IsGroup(topic))
    return "Usage: socle " + std::string(topic) + " COMMAND [ARGUMENTS] [OPTIONS]";
  return "Usage: socle COMMAND [ARGUMENTS] [OPTIONS]";
}

std::string HelpText(std::string_view topic) {
  if (const CommandSpec* spec = FindCommand(topic)) {
    std::string out = UsageLine(topic) + "\n\n" + std::string(spec->summary) + "\n";
    if (!spec->details.empty()) out += "\n" + std::string(spec->details);
    out += "\nOptions of every command:\n" + std::string(kCommonOptions) +
           std::string(kSettingsPointer);
    return out;
  }
  const bool group = IsGroup(topic);
  if (!topic.empty() && !group) return "";

  std::string out;
  if (!group) {
    out +=
        "socle: operate a Socle platform from the command line: migrate the catalogue store,\n"
        "manage regions, organisations, projects, their collections and settings.\n\n";
  }
  out += UsageLine(topic) + "\n\nCommands:\n";
  for (const auto& spec : kCommands) {
    if (group && !spec.path.starts_with(std::string(topic) + " ")) continue;
    out += "  " + Usage(spec) + "\n      " + std::string(spec.summary) + "\n";
  }
  if (!group) out += "  socle help [COMMAND]\n      Show help for every command, or for one.\n";
  out += "\nOptions of every command:\n" + std::string(kCommonOptions) +
         std::string(kVersionOption) + std::string(kSettingsPointer);
  out +=
      "\nExit status: 0 success; 1 error (refused by the platform, store unreachable); "
      "2 usage error.\n";
  return out;
}

}  // namespace socle::adapters::cli
