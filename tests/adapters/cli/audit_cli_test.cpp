// `socle audit ...` and the CLI's own changes in the audit trail: parsing, and the commands run
// against the real audit trail and log (SHA-256, Ed25519 checkpoints in a file), over the
// memory project stores and, where the trail is tampered with, SQLite project files.
#include <simdjson.h>
#include <sqlite3.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "audit_commands.hpp"
#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_audit_signer.hpp"
#include "socle/adapters/files/file_audit_archive.hpp"
#include "socle/adapters/files/file_audit_checkpoints.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_trail.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"
#include "support/test_ports.hpp"

namespace {

namespace cli = socle::adapters::cli;
namespace application = socle::application;
using cli::kExitError;
using cli::kExitOk;
using cli::kExitUsage;
using cli::Verb;
using socle::testing::Must;

using Args = std::vector<std::string>;

// Two collections, the way an operator brings a schema over from PocketBase.
constexpr std::string_view kCollections = R"json([
  {"id": "pbc_authors_01", "name": "authors", "type": "base",
   "listRule": "", "viewRule": "", "createRule": null, "updateRule": null, "deleteRule": null,
   "fields": [{"id": "text_name", "name": "name", "type": "text", "required": true}]},
  {"id": "pbc_notes_0001", "name": "notes", "type": "base",
   "listRule": "", "viewRule": "", "createRule": null, "updateRule": null, "deleteRule": null,
   "fields": [{"id": "text_body", "name": "body", "type": "text"}]}
])json";

// A third collection, imported on its own after the first two.
constexpr std::string_view kTags = R"json([
  {"id": "pbc_tags_00001", "name": "tags", "type": "base",
   "listRule": "", "viewRule": "", "createRule": null, "updateRule": null, "deleteRule": null,
   "fields": [{"id": "text_label", "name": "label", "type": "text"}]}
])json";

std::string Sha256Hex(std::string_view bytes) {
  return socle::adapters::crypto::ToHex(socle::adapters::crypto::Sha256(bytes));
}

// An audit signing key made of 32 times `fill`: distinct fills, distinct keys.
std::unique_ptr<socle::adapters::crypto::Ed25519AuditSigner> Signer(std::uint8_t fill) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(fill);
  return Must(socle::adapters::crypto::Ed25519AuditSigner::FromSeed(seed), "audit signer");
}

enum class Stores { kMemory, kSqlite };
enum class Checkpoints { kSigned, kNone };

// A `socle` process minus the process, wired as apps/socle/main.cpp wires it: the collection
// use cases write the trail, the audit commands read it through the audit log. The catalogue
// is in memory; the projects' stores in memory or in SQLite files under a temporary directory
// (where a test can reach the audit table behind the store's back). The clock stands still
// until a test moves it.
class Cli {
 public:
  explicit Cli(Stores kind = Stores::kMemory, Checkpoints checkpoints = Checkpoints::kSigned)
      : project_stores_(MakeStores(kind, dir_)),
        signer_(checkpoints == Checkpoints::kSigned ? Signer(7) : nullptr),
        log_(store_, *project_stores_, clock_, &Sha256Hex, signer_.get(),
             checkpoints == Checkpoints::kSigned ? &checkpoints_ : nullptr) {
    REQUIRE(Run({"org", "create", "acme"}) == kExitOk);
    REQUIRE(Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
    REQUIRE(Run({"org", "create", "other"}) == kExitOk);
    REQUIRE(Run({"project", "create", "elsewhere", "--org", "other"}) == kExitOk);
  }

  int Run(const Args& args) {
    out_.str("");
    err_.str("");
    cli::OpsCli ops(out_, err_);
    return ops.Run(args, services_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  // Writes `text` to a file of the test's temporary directory; returns its path.
  std::string File(const std::string& name, std::string_view text) {
    std::string path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  int Import(std::string_view collections, Args extra = {}) {
    Args args = {"collection", "import", File("import.json", collections), "--project", "web"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }

  socle::testing::ManualClock& clock() { return clock_; }
  socle::adapters::memory::MemoryCatalogueStore& catalogue() { return store_; }
  application::ProjectStores& project_stores() { return *project_stores_; }
  application::AuditLog& log() { return log_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  cli::CatalogueServices& services() { return services_; }
  std::string PublicKey() const { return signer_->PublicKey(); }
  // The SQLite file of project `slug` (Stores::kSqlite only).
  std::string ProjectFile(const std::string& slug) {
    auto project = Must(store_.GetProject(Must(socle::domain::Slug::Parse(slug), "slug")),
                        "project");
    return (dir_.path() / "projects" / (project.id.str() + ".db")).string();
  }

 private:
  static std::unique_ptr<application::ProjectStores> MakeStores(
      Stores kind, const socle::testing::TempDir& dir) {
    if (kind == Stores::kMemory) {
      return std::make_unique<socle::adapters::memory::MemoryProjectStores>();
    }
    socle::adapters::sqlite::SqliteProjectStoreOptions options;
    options.data_dir = dir.path().string();
    return std::make_unique<socle::adapters::sqlite::SqliteProjectStores>(options);
  }

  socle::testing::TempDir dir_;
  socle::adapters::memory::MemoryCatalogueStore store_;
  std::unique_ptr<application::ProjectStores> project_stores_;
  socle::testing::ManualClock clock_;
  socle::testing::SeededRandomSource random_;
  application::ProjectDirectory directory_{store_, *project_stores_, clock_};
  application::AuditTrail trail_{clock_, random_, &Sha256Hex};
  std::unique_ptr<socle::adapters::crypto::Ed25519AuditSigner> signer_;
  socle::adapters::files::FileAuditCheckpoints checkpoints_{dir_.path() / "audit" /
                                                            "checkpoints.jsonl"};
  application::AuditLog log_;
  application::ManageOrganisations organisations_{store_, clock_, random_, &directory_};
  application::ManageProjects projects_{store_, clock_, random_, &directory_};
  application::ManageRegions regions_{store_};
  application::ManageCollections collections_{directory_, clock_, random_, &trail_};
  application::ManageSettings settings_{directory_, store_, clock_};
  application::ManageRecords records_{directory_, clock_, random_, {}, &settings_, {}, &trail_};
  cli::ProjectDataServices data_{directory_, collections_, records_, random_, &settings_};
  cli::CatalogueServices services_{store_,   organisations_, projects_, regions_,
                                   &data_,   nullptr,        nullptr,   &log_};
  std::ostringstream out_;
  std::ostringstream err_;
};

// Runs one statement on a SQLite file behind the store's back; `sql` may hold several.
void Sql(const std::string& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  const std::string error = message != nullptr ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  INFO(sql << ": " << error);
  REQUIRE(rc == SQLITE_OK);
}

cli::Command Parsed(const Args& args) {
  auto command = cli::ParseCommand(args);
  INFO((command ? std::string() : command.error().message));
  REQUIRE(command);
  return *command;
}

std::string UsageOf(const Args& args) {
  auto command = cli::ParseCommand(args);
  if (command) return "parsed";
  return command.error().topic + "|" + command.error().message;
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// One event of `audit list --json` or `--format jsonl`, the members the tests look at.
struct Event {
  std::string action;
  std::string actor_kind;
  std::string actor_id;
  std::string target_kind;
  std::string target_id;
  std::string request_id;
  std::string reason;
  std::string outcome;
  std::string personal;  ///< "masked", or the actor part's userAgent when shown
  std::int64_t seq = 0;
};

Event ReadEvent(simdjson::dom::element item) {
  Event event;
  std::string_view text;
  REQUIRE(item["action"].get(text) == simdjson::SUCCESS);
  event.action = text;
  REQUIRE(item["actor"]["kind"].get(text) == simdjson::SUCCESS);
  event.actor_kind = text;
  REQUIRE(item["actor"]["id"].get(text) == simdjson::SUCCESS);
  event.actor_id = text;
  REQUIRE(item["target"]["kind"].get(text) == simdjson::SUCCESS);
  event.target_kind = text;
  REQUIRE(item["target"]["id"].get(text) == simdjson::SUCCESS);
  event.target_id = text;
  REQUIRE(item["requestId"].get(text) == simdjson::SUCCESS);
  event.request_id = text;
  REQUIRE(item["reason"].get(text) == simdjson::SUCCESS);
  event.reason = text;
  REQUIRE(item["outcome"].get(text) == simdjson::SUCCESS);
  event.outcome = text;
  REQUIRE(item["seq"].get(event.seq) == simdjson::SUCCESS);
  if (item["personal"].get(text) == simdjson::SUCCESS) {
    event.personal = text;
  } else {
    REQUIRE(item["personal"]["actor"]["userAgent"].get(text) == simdjson::SUCCESS);
    event.personal = text;
  }
  return event;
}

// The events of `audit list --format jsonl`, one per line, newest first.
std::vector<Event> JsonLines(const std::string& text) {
  std::vector<Event> events;
  for (const auto& line : Lines(text)) {
    simdjson::dom::parser parser;
    simdjson::dom::element item;
    INFO(line);
    REQUIRE(parser.parse(line).get(item) == simdjson::SUCCESS);
    events.push_back(ReadEvent(item));
  }
  return events;
}

// The events of `audit list --format jsonl` with these filters.
std::vector<Event> Listed(Cli& cli, Args filters) {
  Args args = {"audit", "list", "--org", "acme", "--format", "jsonl"};
  args.insert(args.end(), filters.begin(), filters.end());
  INFO(cli.err());
  REQUIRE(cli.Run(args) == kExitOk);
  return JsonLines(cli.out());
}

std::vector<std::string> Actions(const std::vector<Event>& events) {
  std::vector<std::string> actions;
  for (const auto& event : events) actions.push_back(event.action + " " + event.target_id);
  return actions;
}

const std::regex kRequestId("cli-[0-9a-f]{16}");

// A well-formed cursor from before every event of the tests: nothing is older.
std::string OldestCursor() {
  socle::domain::AuditEvent event;
  event.at = socle::domain::Timestamp::FromUnixMicros(1'000'000);
  event.project_id = "abcdefghijklmno";
  event.seq = 1;
  return application::EncodeAuditCursor(event);
}

}  // namespace

// Parsing -------------------------------------------------------------------------------------

TEST_CASE("audit commands parse into their verb and flags", "[cli][audit]") {
  auto verify = Parsed({"audit", "verify"});
  CHECK(verify.verb == Verb::kAuditVerify);
  CHECK(verify.NeedsAudit());
  CHECK(verify.NeedsProjectStores());
  CHECK_FALSE(verify.NeedsAuth());
  CHECK_FALSE(verify.org);
  const std::string key(43, 'A');
  auto pinned = Parsed({"audit", "verify", "--org", "acme", "--public-key", key, "--json"});
  CHECK(pinned.org == "acme");
  CHECK(pinned.public_key == key);
  CHECK(pinned.json);

  CHECK(Parsed({"audit", "checkpoint"}).verb == Verb::kAuditCheckpoint);

  auto list = Parsed({"audit", "list", "--org", "acme"});
  CHECK(list.verb == Verb::kAuditList);
  CHECK(list.limit == 100);
  CHECK(list.format == cli::AuditFormat::kTable);
  CHECK_FALSE(list.personal);
  CHECK_FALSE(list.from);

  auto full = Parsed({"audit", "list", "--org", "acme", "--project", "web", "--actor", "cli",
                      "--action", "record.update", "--collection", "posts", "--target", "r1",
                      "--subject", "u1", "--from", "2026-01-01", "--to=2026-01-31 12:00:00Z",
                      "--limit", "500", "--format", "jsonl", "--personal"});
  CHECK(full.project == "web");
  CHECK(full.actor == "cli");
  CHECK(full.action == "record.update");
  CHECK(full.collection == "posts");
  CHECK(full.target == "r1");
  CHECK(full.subject == "u1");
  REQUIRE(full.from);
  CHECK(full.from->ToIso8601() == "2026-01-01T00:00:00.000000Z");
  REQUIRE(full.to);
  CHECK(full.to->ToIso8601() == "2026-01-31T12:00:00.000000Z");
  CHECK(full.limit == 500);
  CHECK(full.format == cli::AuditFormat::kJsonLines);
  CHECK(full.personal);
  CHECK(Parsed({"audit", "list", "--org", "a1", "--format", "csv"}).format ==
        cli::AuditFormat::kCsv);
  CHECK(Parsed({"audit", "list", "--org", "a1", "--json", "--personal"}).personal);

  const auto cursor = OldestCursor();
  CHECK(Parsed({"audit", "list", "--org", "a1", "--cursor", cursor}).cursor == cursor);

  auto reason = Parsed({"collection", "delete", "posts", "--project", "web", "--yes", "--reason",
                        "Retired with the old site"});
  CHECK(reason.reason == "Retired with the old site");
  CHECK(Parsed({"collection", "import", "-", "--project", "web", "--reason=why"}).reason == "why");
  CHECK_FALSE(Parsed({"collection", "import", "-", "--project", "web"}).reason);
}

TEST_CASE("malformed audit command lines are usage errors", "[cli][audit]") {
  CHECK(UsageOf({"audit"}) == "audit|missing sub-command after socle audit");
  CHECK(UsageOf({"audit", "erase"}) == "audit|unknown command: socle audit erase");
  CHECK(UsageOf({"audit", "list"}) == "audit list|missing --org ORG");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--limit", "0"}) ==
        "audit list|--limit must be a whole number from 1 to 500");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--limit", "501"}) ==
        "audit list|--limit must be a whole number from 1 to 500");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--limit", "ten"}) ==
        "audit list|--limit must be a whole number from 1 to 500");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--format", "xml"}) ==
        "audit list|--format must be table, jsonl or csv");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--from", "yesterday"}) ==
        "audit list|--from must be a day (YYYY-MM-DD) or an instant (YYYY-MM-DD HH:MM:SSZ)");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--to", "2026-13-01"}) ==
        "audit list|--to must be a day (YYYY-MM-DD) or an instant (YYYY-MM-DD HH:MM:SSZ)");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--from", "2026-02-01", "--to", "2026-01-01"}) ==
        "audit list|--from must be before --to");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--from", "2026-02-01", "--to", "2026-02-01"}) ==
        "audit list|--from must be before --to");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--cursor", "page2"}) ==
        "audit list|--cursor must be a cursor printed by a previous audit list");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--personal"}) ==
        "audit list|--personal needs --json or --format jsonl: the table and CSV never show "
        "personal data");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--format", "csv", "--personal"}) ==
        "audit list|--personal needs --json or --format jsonl: the table and CSV never show "
        "personal data");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--json", "--format", "csv"}) ==
        "audit list|give either --json (the page as one JSON document) or --format, not both");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--actor", std::string(201, 'x')}) ==
        "audit list|--actor must be at most 200 characters");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--subject", std::string(201, 'x')}) ==
        "audit list|--subject must be at most 200 characters");
  CHECK(UsageOf({"audit", "list", "--org", "a1", "--reason", "x"}) ==
        "audit list|socle audit list does not take --reason");
  CHECK(UsageOf({"audit", "verify", "--public-key", "short"}) ==
        "audit verify|--public-key must be an Ed25519 public key in base64url (43 characters), "
        "as socle audit checkpoint prints it");
  CHECK(UsageOf({"audit", "verify", "--public-key", std::string(42, 'A') + "="}) ==
        "audit verify|--public-key must be an Ed25519 public key in base64url (43 characters), "
        "as socle audit checkpoint prints it");
  CHECK(UsageOf({"audit", "verify", "--project", "web"}) ==
        "audit verify|socle audit verify does not take --project");
  CHECK(UsageOf({"audit", "checkpoint", "--org", "acme"}) ==
        "audit checkpoint|socle audit checkpoint does not take --org");
  CHECK(UsageOf({"audit", "checkpoint", "now"}) == "audit checkpoint|unexpected argument \"now\"");
  CHECK(UsageOf({"collection", "delete", "posts", "--project", "web", "--reason", ""}) ==
        "collection delete|--reason must not be empty (leave it out instead)");
  CHECK(UsageOf({"collection", "import", "-", "--project", "web", "--reason",
                 std::string(1001, 'r')}) ==
        "collection import|--reason must be at most 1000 bytes");
  CHECK(UsageOf({"collection", "import", "-", "--project", "web", "--reason",
                 std::string(1000, 'r')}) == "parsed");
  CHECK(UsageOf({"collection", "list", "--project", "web", "--reason", "x"}) ==
        "collection list|socle collection list does not take --reason");
  CHECK(UsageOf({"collection", "delete", "posts", "--project", "web", "--reason"}) ==
        "collection delete|--reason needs a value: --reason TEXT");
}

TEST_CASE("a usage error prints the audit command's usage and exits 2", "[cli][audit]") {
  Cli cli;
  CHECK(cli.Run({"audit", "list", "--org", "acme", "--limit", "1000"}) == kExitUsage);
  CHECK(cli.out().empty());
  CHECK(Contains(cli.err(), "socle: --limit must be a whole number from 1 to 500\n"));
  CHECK(Contains(cli.err(), "Usage: socle audit list --org ORG [--project PROJECT]"));
  CHECK(Contains(cli.err(), "Run `socle help audit list` for more."));

  CHECK(cli.Run({"audit", "verify", "--bogus"}) == kExitUsage);
  CHECK(Contains(cli.err(), "unknown flag --bogus for socle audit verify"));
  CHECK(Contains(cli.err(), "Usage: socle audit verify [--org ORG] [--public-key KEY] [--json]"));
}

TEST_CASE("help describes the audit commands", "[cli][audit]") {
  CHECK(cli::UsageLine("audit verify") ==
        "Usage: socle audit verify [--org ORG] [--public-key KEY] [--json]");
  CHECK(cli::UsageLine("audit checkpoint") == "Usage: socle audit checkpoint [--json]");
  CHECK(cli::UsageLine("audit list") ==
        "Usage: socle audit list --org ORG [--project PROJECT] [--subject SUBJECT] [--actor ID] "
        "[--action ACTION] [--collection COLLECTION] [--target ID] [--from TIME] [--to TIME] "
        "[--limit N] [--cursor CURSOR] [--format table|jsonl|csv] [--personal] [--json]");
  auto overview = cli::HelpText("");
  for (auto command : {"socle audit verify", "socle audit checkpoint", "socle audit list"}) {
    INFO(command);
    CHECK(Contains(overview, command));
  }
  auto group = cli::HelpText("audit");
  CHECK(Contains(group, "socle audit list --org ORG"));
  CHECK_FALSE(Contains(group, "collection import"));
  CHECK(Contains(cli::HelpText("audit verify"), "Exit 1 when anything is broken"));
  CHECK(Contains(cli::HelpText("collection delete"), "--reason TEXT"));
  CHECK(Parsed({"audit", "list", "--help"}).help_topic == "audit list");
}

// What the CLI's changes leave in the trail ----------------------------------------------------

TEST_CASE("collection import is recorded as the CLI's, with the reason given",
          "[cli][audit]") {
  Cli cli;
  REQUIRE(cli.Import(kCollections, {"--reason", "Schema from the pilot"}) == kExitOk);

  auto events = Listed(cli, {});
  REQUIRE(events.size() == 2);
  for (const auto& event : events) {
    CHECK(event.action == "collection.create");
    CHECK(event.actor_kind == "system");
    CHECK(event.actor_id == "cli");
    CHECK(event.target_kind == "collection");
    CHECK(event.outcome == "success");
    CHECK(event.reason == "Schema from the pilot");
    CHECK(std::regex_match(event.request_id, kRequestId));
    CHECK(event.personal == "masked");
  }
  // One invocation, one request id; newest first, so the second collection comes first.
  CHECK(events[0].request_id == events[1].request_id);
  CHECK(Actions(events) ==
        std::vector<std::string>{"collection.create pbc_notes_0001",
                                 "collection.create pbc_authors_01"});

  // The table, for a person: time, project (across the organisation), who, what, on what, how
  // it ended and why.
  REQUIRE(cli.Run({"audit", "list", "--org", "acme"}) == kExitOk);
  const auto table = Lines(cli.out());
  REQUIRE(table.size() == 3);
  CHECK(std::regex_match(table[0],
                         std::regex("TIME +PROJECT +ACTOR +ACTION +TARGET +OUTCOME +REASON")));
  CHECK(std::regex_match(table[1],
                         std::regex("2023-11-14 22:13:20\\.000Z +web +system:cli +"
                                    "collection\\.create +collection pbc_notes_0001 +success +"
                                    "Schema from the pilot")));
  CHECK(Contains(table[2], "collection pbc_authors_01"));
  CHECK(cli.err().empty());  // one page: no cursor to carry on with

  // Within one project the project column goes.
  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--project", "web"}) == kExitOk);
  CHECK(std::regex_match(Lines(cli.out())[0],
                         std::regex("TIME +ACTOR +ACTION +TARGET +OUTCOME +REASON")));

  // The next invocation is another request; without --reason the reason is empty.
  REQUIRE(cli.Import(kTags) == kExitOk);
  auto after = Listed(cli, {});
  REQUIRE(after.size() == 3);
  CHECK(after[0].action == "collection.create");
  CHECK(after[0].target_id == "pbc_tags_00001");
  CHECK(after[0].reason.empty());
  CHECK(std::regex_match(after[0].request_id, kRequestId));
  CHECK(after[0].request_id != after[1].request_id);
}

TEST_CASE("collection delete is recorded with its reason, the refused one not at all",
          "[cli][audit]") {
  Cli cli;
  REQUIRE(cli.Import(kCollections) == kExitOk);
  // Without --yes nothing is deleted, so nothing is recorded as deleted.
  REQUIRE(cli.Run({"collection", "delete", "notes", "--project", "web", "--reason", "x"}) ==
          kExitError);
  CHECK(Listed(cli, {"--action", "collection.delete"}).empty());

  REQUIRE(cli.Run({"collection", "delete", "notes", "--project", "web", "--yes", "--reason",
                   "Notes moved to the wiki"}) == kExitOk);
  auto deleted = Listed(cli, {"--action", "collection.delete"});
  REQUIRE(deleted.size() == 1);
  CHECK(deleted[0].target_id == "pbc_notes_0001");
  CHECK(deleted[0].actor_kind == "system");
  CHECK(deleted[0].actor_id == "cli");
  CHECK(deleted[0].reason == "Notes moved to the wiki");
  CHECK(std::regex_match(deleted[0].request_id, kRequestId));
}

TEST_CASE("the CLI's reads of a collection whose reads are audited are recorded as its own",
          "[cli][audit]") {
  Cli cli;
  REQUIRE(cli.Import(R"json([{"id": "pbc_patients01", "name": "patients", "type": "base",
      "auditReads": true,
      "fields": [{"id": "text_name", "name": "name", "type": "text"}]}])json") == kExitOk);
  // Without --yes, delete counts the records to say what would go: a read of the collection.
  REQUIRE(cli.Run({"collection", "delete", "patients", "--project", "web", "--reason",
                   "Checking before the clean-up"}) == kExitError);
  auto reads = Listed(cli, {"--action", "record.list"});
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].actor_kind == "system");
  CHECK(reads[0].actor_id == "cli");
  CHECK(reads[0].reason == "Checking before the clean-up");
  CHECK(std::regex_match(reads[0].request_id, kRequestId));
  CHECK(Listed(cli, {"--action", "collection.delete"}).empty());
}

TEST_CASE("the operator sees personal parts only when asking for them", "[cli][audit]") {
  Cli cli;
  REQUIRE(cli.Import(kCollections) == kExitOk);
  // The CLI's actor part holds its user agent, as an HTTP client's holds the browser's.
  auto shown = Listed(cli, {"--personal"});
  REQUIRE(shown.size() == 2);
  CHECK(shown[0].personal == "socle-cli/" SOCLE_TEST_VERSION);

  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--json", "--personal"}) == kExitOk);
  CHECK(Contains(cli.out(), "\"userAgent\":\"socle-cli/" SOCLE_TEST_VERSION "\""));
  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--json"}) == kExitOk);
  CHECK_FALSE(Contains(cli.out(), "userAgent"));
  CHECK(Contains(cli.out(), "\"personal\":\"masked\""));
  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--format", "csv"}) == kExitOk);
  CHECK_FALSE(Contains(cli.out(), "socle-cli"));
}

// audit list ----------------------------------------------------------------------------------

TEST_CASE("audit list filters the organisation's events", "[cli][audit]") {
  Cli cli;
  REQUIRE(cli.Import(kCollections) == kExitOk);
  cli.clock().Advance(60'000'000);  // a minute later (2023-11-14 22:14:20Z)
  REQUIRE(cli.Import(kTags) == kExitOk);
  cli.clock().Advance(60'000'000);
  REQUIRE(cli.Run({"collection", "delete", "authors", "--project", "web", "--yes"}) == kExitOk);

  CHECK(Actions(Listed(cli, {})) ==
        std::vector<std::string>{"collection.delete pbc_authors_01",
                                 "collection.create pbc_tags_00001",
                                 "collection.create pbc_notes_0001",
                                 "collection.create pbc_authors_01"});
  CHECK(Actions(Listed(cli, {"--action", "collection.delete"})) ==
        std::vector<std::string>{"collection.delete pbc_authors_01"});
  CHECK(Actions(Listed(cli, {"--target", "pbc_authors_01"})) ==
        std::vector<std::string>{"collection.delete pbc_authors_01",
                                 "collection.create pbc_authors_01"});
  // A collection by id, or within a project by name (the deleted one keeps its id).
  CHECK(Listed(cli, {"--collection", "pbc_notes_0001"}).size() == 1);
  CHECK(Listed(cli, {"--project", "web", "--collection", "tags"}).size() == 1);
  CHECK(Listed(cli, {"--actor", "cli"}).size() == 4);
  CHECK(Listed(cli, {"--actor", "someone-else"}).empty());
  CHECK(Listed(cli, {"--subject", "pbc_tags_00001"}).size() == 1);
  CHECK(Listed(cli, {"--subject", "cli"}).size() == 4);
  CHECK(Actions(Listed(cli, {"--from", "2023-11-14 22:14:20Z"})) ==
        std::vector<std::string>{"collection.delete pbc_authors_01",
                                 "collection.create pbc_tags_00001"});
  CHECK(Actions(Listed(cli, {"--from", "2023-11-14T22:14:20Z", "--to", "2023-11-14T22:15:20Z"})) ==
        std::vector<std::string>{"collection.create pbc_tags_00001"});
  CHECK(Listed(cli, {"--to", "2023-11-14"}).empty());

  // Nothing matching is said so; an empty export is empty.
  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--actor", "nobody"}) == kExitOk);
  CHECK(cli.out() == "No audit events.\n");
  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--actor", "nobody", "--format", "jsonl"}) ==
          kExitOk);
  CHECK(cli.out().empty());

  // The other organisation's trail is its own.
  REQUIRE(cli.Run({"audit", "list", "--org", "other"}) == kExitOk);
  CHECK(cli.out() == "No audit events.\n");
}

TEST_CASE("audit list pages with a cursor printed on stderr", "[cli][audit]") {
  Cli cli;
  REQUIRE(cli.Import(kCollections) == kExitOk);
  REQUIRE(cli.Import(kTags) == kExitOk);

  std::vector<std::string> seen;
  std::vector<std::string> cursor;
  for (int page = 0; page < 4; ++page) {
    Args args = {"audit", "list", "--org", "acme", "--limit", "2", "--format", "jsonl"};
    args.insert(args.end(), cursor.begin(), cursor.end());
    REQUIRE(cli.Run(args) == kExitOk);
    for (const auto& action : Actions(JsonLines(cli.out()))) seen.push_back(action);
    std::smatch match;
    const std::string err = cli.err();
    if (!std::regex_search(err, match, std::regex("--cursor (\\S+)\n"))) break;
    cursor = {"--cursor", match[1]};
  }
  // Every event once, newest first, and no cursor after the last page.
  CHECK(seen == std::vector<std::string>{"collection.create pbc_tags_00001",
                                         "collection.create pbc_notes_0001",
                                         "collection.create pbc_authors_01"});
  CHECK(cli.err().empty());

  // --json carries the cursor in the document instead.
  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--limit", "1", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(cli.out()).get(doc) == simdjson::SUCCESS);
  simdjson::dom::array items;
  REQUIRE(doc["items"].get(items) == simdjson::SUCCESS);
  CHECK(items.size() == 1);
  simdjson::dom::element first;
  REQUIRE(items.at(0).get(first) == simdjson::SUCCESS);
  CHECK(ReadEvent(first).target_id == "pbc_tags_00001");
  std::string_view next;
  REQUIRE(doc["nextCursor"].get(next) == simdjson::SUCCESS);
  CHECK(cli.err().empty());
  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--json", "--cursor", std::string(next)}) ==
          kExitOk);
  REQUIRE(parser.parse(cli.out()).get(doc) == simdjson::SUCCESS);
  REQUIRE(doc["items"].get(items) == simdjson::SUCCESS);
  CHECK(items.size() == 2);
  CHECK(doc["nextCursor"].is_null());

  // Past the end, the table says so.
  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--cursor", OldestCursor()}) == kExitOk);
  CHECK(cli.out() == "No more audit events.\n");
  CHECK(cli.err().empty());
}

TEST_CASE("audit list exports CSV in the audit API's shape", "[cli][audit]") {
  Cli cli;
  REQUIRE(cli.Import(kCollections, {"--reason", "Pilot, phase \"one\""}) == kExitOk);
  REQUIRE(cli.Run({"audit", "list", "--org", "acme", "--format", "csv"}) == kExitOk);
  const std::string csv = cli.out();
  CHECK(csv.starts_with("at,org,project,lane,seq,actorKind,actorId,action,targetKind,"
                        "targetCollection,targetId,outcome,requestId,reason,changes,hash,"
                        "prevHash\r\n"));
  // A header and one CRLF-terminated row per event; the reason quoted as RFC 4180 says.
  std::size_t rows = 0;
  for (std::size_t at = 0; (at = csv.find("\r\n", at)) != std::string::npos; at += 2) ++rows;
  CHECK(rows == 3);
  CHECK(Contains(csv, ",system,cli,collection.create,collection,pbc_notes_0001,pbc_notes_0001,"
                      "success,cli-"));
  CHECK(Contains(csv, ",\"Pilot, phase \"\"one\"\"\","));
}

TEST_CASE("audit list finds the organisation and project by slug", "[cli][audit]") {
  Cli cli;
  REQUIRE(cli.Import(kCollections) == kExitOk);
  CHECK(cli.Run({"audit", "list", "--org", "nope"}) == kExitError);
  CHECK(cli.out().empty());
  CHECK(cli.err().starts_with("socle: "));
  CHECK(cli.Run({"audit", "list", "--org", "acme", "--project", "nope"}) == kExitError);
  // A project of another organisation is not reached through this one.
  CHECK(cli.Run({"audit", "list", "--org", "acme", "--project", "elsewhere"}) == kExitError);
  CHECK(cli.err() == "socle: Project elsewhere is not a project of organisation acme.\n");
  CHECK(cli.out().empty());
  CHECK(cli.Run({"audit", "list", "--org", "other", "--project", "web"}) == kExitError);
}

// audit verify and checkpoint -----------------------------------------------------------------

TEST_CASE("audit verify passes an intact trail", "[cli][audit]") {
  Cli cli;
  // Before anything happened there is nothing to check, which is not a failure.
  REQUIRE(cli.Run({"audit", "verify"}) == kExitOk);
  CHECK(Contains(cli.out(), "No audit events.\n"));
  CHECK(Contains(cli.out(), "Checkpoint: none yet"));

  REQUIRE(cli.Import(kCollections) == kExitOk);
  REQUIRE(cli.Run({"collection", "delete", "notes", "--project", "web", "--yes"}) == kExitOk);
  REQUIRE(cli.Run({"audit", "verify"}) == kExitOk);
  INFO(cli.out());
  const auto lines = Lines(cli.out());
  REQUIRE(lines.size() == 4);
  CHECK(std::regex_match(lines[0], std::regex("ORG +PROJECT +LANE +EVENTS +SIGNED +STATUS")));
  CHECK(std::regex_match(lines[1], std::regex("acme +web +0 +3 +- +ok")));
  CHECK(Contains(lines[2], "Checkpoint: none yet"));
  CHECK(lines[3] == "The audit trail is intact: 1 chain, 3 events.");
  CHECK(cli.err().empty());

  REQUIRE(cli.Run({"audit", "verify", "--org", "acme", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(cli.out()).get(doc) == simdjson::SUCCESS);
  bool ok = false;
  REQUIRE(doc["ok"].get(ok) == simdjson::SUCCESS);
  CHECK(ok);
  std::int64_t events = 0;
  REQUIRE(doc.at_pointer("/chains/0/events").get(events) == simdjson::SUCCESS);
  CHECK(events == 3);
  CHECK(doc["checkpoint"].is_null());

  // Another organisation's verification covers its own chains only.
  REQUIRE(cli.Run({"audit", "verify", "--org", "other"}) == kExitOk);
  CHECK(Contains(cli.out(), "No audit events in organisation other.\n"));
  CHECK(cli.Run({"audit", "verify", "--org", "nope"}) == kExitError);
}

TEST_CASE("audit checkpoint signs the heads, and verify checks them", "[cli][audit]") {
  Cli cli;
  REQUIRE(cli.Import(kCollections) == kExitOk);
  REQUIRE(cli.Run({"audit", "checkpoint"}) == kExitOk);
  INFO(cli.out());
  CHECK(std::regex_search(cli.out(), std::regex("at: +2023-11-14T22:13:20\\.000000Z\n")));
  CHECK(std::regex_search(cli.out(), std::regex("key: +[0-9a-f]{16}\n")));
  CHECK(Contains(cli.out(), cli.PublicKey()));
  CHECK(std::regex_search(cli.out(), std::regex("heads: +1\n")));

  REQUIRE(cli.Run({"audit", "verify"}) == kExitOk);
  CHECK(std::regex_search(cli.out(), std::regex("acme +web +0 +2 +2 +ok\n")));
  CHECK(std::regex_search(cli.out(),
                          std::regex("Checkpoint: 2023-11-14T22:13:20\\.000000Z, key [0-9a-f]{16}, "
                                     "1 chain head: signature valid\n")));
  // The key the auditor pins is the one that signed: intact.
  REQUIRE(cli.Run({"audit", "verify", "--public-key", cli.PublicKey()}) == kExitOk);
  // Another key is not trusted: the checkpoint could have been written by anyone holding it.
  CHECK(cli.Run({"audit", "verify", "--public-key", Signer(9)->PublicKey()}) == kExitError);
  CHECK(Contains(cli.out(), "NOT TRUSTED: "));
  CHECK(Contains(cli.err(), "socle: the audit trail does not verify: "));

  // Events after the checkpoint are fine; a new checkpoint signs them.
  REQUIRE(cli.Import(kTags) == kExitOk);
  REQUIRE(cli.Run({"audit", "verify"}) == kExitOk);
  CHECK(std::regex_search(cli.out(), std::regex("acme +web +0 +3 +2 +ok\n")));
  REQUIRE(cli.Run({"audit", "checkpoint", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(cli.out()).get(doc) == simdjson::SUCCESS);
  std::int64_t seq = 0;
  REQUIRE(doc.at_pointer("/heads/0/seq").get(seq) == simdjson::SUCCESS);
  CHECK(seq == 3);
  std::string_view public_key;
  REQUIRE(doc["publicKey"].get(public_key) == simdjson::SUCCESS);
  CHECK(public_key == cli.PublicKey());
}

TEST_CASE("without a signing key, checkpoints fail and verify checks the chains alone",
          "[cli][audit]") {
  Cli cli(Stores::kMemory, Checkpoints::kNone);
  REQUIRE(cli.Import(kCollections) == kExitOk);
  CHECK(cli.Run({"audit", "checkpoint"}) == kExitError);
  CHECK(cli.err() == "socle: Audit checkpoints are not configured.\n");
  REQUIRE(cli.Run({"audit", "verify"}) == kExitOk);
  CHECK(Contains(cli.out(), "The audit trail is intact: 1 chain, 2 events."));
}

TEST_CASE("without an audit log the audit commands fail, the others work", "[cli][audit]") {
  Cli cli;
  cli.services().audit = nullptr;
  for (const Args& args : {Args{"audit", "verify"}, Args{"audit", "checkpoint"},
                           Args{"audit", "list", "--org", "acme"}}) {
    CHECK(cli.Run(args) == kExitError);
    CHECK(cli.err() == "socle: The audit trail is not available to this command.\n");
    CHECK(cli.out().empty());
  }
  CHECK(cli.Import(kCollections) == kExitOk);
}

TEST_CASE("audit verify names the first broken event of a tampered chain, exit 1",
          "[cli][audit][sqlite]") {
  Cli cli(Stores::kSqlite);
  REQUIRE(cli.Import(kCollections, {"--reason", "Pilot"}) == kExitOk);
  REQUIRE(cli.Import(kTags) == kExitOk);
  REQUIRE(cli.Run({"audit", "verify"}) == kExitOk);
  const std::string file = cli.ProjectFile("web");

  SECTION("an edited event") {
    // The store refuses to change an event: someone with the file drops the guard first.
    Sql(file, "DROP TRIGGER \"_audit_no_update\";"
              "UPDATE \"_audit\" SET reason = 'Approved by QA' WHERE seq = 2;");
    CHECK(cli.Run({"audit", "verify"}) == kExitError);
    INFO(cli.out());
    CHECK(std::regex_search(cli.out(),
                            std::regex("acme +web +0 +1 +- +BROKEN \\(edited\\) at event 2: "
                                       "event 2 does not match its hash\n")));
    CHECK_FALSE(Contains(cli.out(), "intact"));
    CHECK(cli.err() == "socle: the audit trail does not verify: 1 of 1 chain broken\n");

    REQUIRE(cli.Run({"audit", "verify", "--json"}) == kExitError);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(cli.out()).get(doc) == simdjson::SUCCESS);
    bool ok = true;
    REQUIRE(doc["ok"].get(ok) == simdjson::SUCCESS);
    CHECK_FALSE(ok);
    std::string_view problem;
    REQUIRE(doc.at_pointer("/chains/0/problem").get(problem) == simdjson::SUCCESS);
    CHECK(problem == "edited");
    std::int64_t broken_at = 0;
    REQUIRE(doc.at_pointer("/chains/0/brokenAt").get(broken_at) == simdjson::SUCCESS);
    CHECK(broken_at == 2);
    // The trail still reads: the listing shows what is stored, forged reason and all.
    REQUIRE(cli.Run({"audit", "list", "--org", "acme"}) == kExitOk);
    CHECK(Contains(cli.out(), "Approved by QA"));
  }

  SECTION("a deleted event") {
    Sql(file, "DROP TRIGGER \"_audit_delete_archived_only\";"
              "DELETE FROM \"_audit\" WHERE seq = 2;");
    CHECK(cli.Run({"audit", "verify"}) == kExitError);
    INFO(cli.out());
    CHECK(std::regex_search(cli.out(),
                            std::regex("BROKEN \\(deleted\\) at event 2: event 2 is missing\n")));
  }

  SECTION("the last events removed after a checkpoint signed them") {
    REQUIRE(cli.Run({"audit", "checkpoint"}) == kExitOk);
    // Without the checkpoint, a chain cut at its end would look whole.
    Sql(file, "DROP TRIGGER \"_audit_delete_archived_only\";"
              "DELETE FROM \"_audit\" WHERE seq = 3;");
    CHECK(cli.Run({"audit", "verify"}) == kExitError);
    INFO(cli.out());
    CHECK(std::regex_search(cli.out(),
                            std::regex("acme +web +0 +2 +3 +BROKEN \\(truncated\\) at event 3: "
                                       "the chain ends at event 2 but a checkpoint signed "
                                       "event 3\n")));
    CHECK(Contains(cli.out(), "signature valid"));
  }
}

// audit archive -------------------------------------------------------------------------------

namespace {

// `socle audit archive` as its dispatch runs it: the audit commands over AuditRetention, the
// archives in files under the test's data directory.
struct Archiver {
  explicit Archiver(Cli& cli)
      : archives(socle::adapters::files::FileAuditArchive::DefaultRoot(cli.dir())),
        retention(cli.catalogue(), cli.project_stores(), archives, cli.clock()),
        commands(out, err, cli.services(), cli.log()) {}

  int Run(const std::optional<std::string>& before, std::optional<std::int64_t> months,
          bool json = false) {
    out.str("");
    err.str("");
    return commands.Archive(retention, before, months, json);
  }

  socle::adapters::files::FileAuditArchives archives;
  application::AuditRetention retention;
  std::ostringstream out;
  std::ostringstream err;
  cli::AuditCommands commands;
};

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("audit archive moves old events to a verified archive file, per project",
          "[cli][audit][retention]") {
  Cli cli;
  REQUIRE(cli.Import(kCollections) == kExitOk);  // 2023-11-14: two collection.create events
  auto web = Must(cli.catalogue().GetProject(Must(socle::domain::Slug::Parse("web"), "slug")),
                  "project");
  auto store = Must(cli.project_stores().Open(web), "store");
  const auto before = Must(store->AuditChain(0, 0, 100), "chain");
  REQUIRE(before.size() == 2);
  cli.clock().Advance(200LL * 86'400'000'000);  // 2024-06-01
  REQUIRE(cli.Import(kTags) == kExitOk);         // kept: newer than the cut

  Archiver archiver(cli);
  SECTION("with --older-than-months") {
    REQUIRE(archiver.Run(std::nullopt, 3) == kExitOk);
    INFO(archiver.out.str());
    CHECK(Contains(archiver.out.str(), "Cut: 2024-03-01T00:00:00.000000Z"));
    CHECK(Contains(archiver.out.str(), "2 events archived."));
    CHECK(Contains(archiver.out.str(), "web"));
    CHECK(Contains(archiver.out.str(), "0:2"));  // web's anchor: lane 0, seq 2

    // The live trail holds the newer event only, linked to the anchor.
    const auto rest = Must(store->AuditChain(0, 0, 100), "rest");
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].event.seq == 3);
    CHECK(Must(store->AuditAnchors(), "anchors") ==
          std::vector<socle::domain::AuditHead>{{0, 2, before[1].event.hash}});

    // The archive: one line per event, each hash that of its canonical event, the file's
    // SHA-256 in the manifest.
    const auto directory = cli.dir() / "audit" / "archive" / web.org_id.str() / web.id.str();
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
      files.push_back(entry.path().filename());
    }
    std::sort(files.begin(), files.end());
    REQUIRE(files == std::vector<std::filesystem::path>{
                         "20231114T221320.000000Z_20231114T221320.000000Z.jsonl",
                         "manifest.jsonl"});
    const std::string archive = ReadAll(directory / files[0]);
    const auto lines = Lines(archive);
    REQUIRE(lines.size() == 2);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      CHECK(lines[i] == socle::adapters::files::ArchiveLine(before[i]));
      const std::string canonical = socle::domain::CanonicalAuditEvent(before[i].event);
      CHECK(Sha256Hex(canonical) == before[i].event.hash);
      CHECK(Contains(lines[i], "{\"event\":" + canonical + ",\"hash\":\"" +
                                   before[i].event.hash + "\""));
    }
    const auto manifest = Lines(ReadAll(directory / "manifest.jsonl"));
    REQUIRE(manifest.size() == 1);
    CHECK(manifest[0] == "{\"file\":\"" + files[0].string() + "\",\"sha256\":\"" +
                             Sha256Hex(archive) +
                             "\",\"events\":2,\"first\":\"2023-11-14T22:13:20.000000Z\","
                             "\"last\":\"2023-11-14T22:13:20.000000Z\"}");

    // Again: nothing left to move.
    REQUIRE(archiver.Run(std::nullopt, 3) == kExitOk);
    CHECK(Contains(archiver.out.str(), "0 events archived."));
  }
  SECTION("with --before, as JSON") {
    REQUIRE(archiver.Run(std::string("2024-01-01"), std::nullopt, true) == kExitOk);
    simdjson::dom::parser parser;
    simdjson::dom::element report;
    INFO(archiver.out.str());
    REQUIRE(parser.parse(archiver.out.str()).get(report) == simdjson::SUCCESS);
    std::string_view text;
    REQUIRE(report["before"].get(text) == simdjson::SUCCESS);
    CHECK(text == "2024-01-01T00:00:00.000000Z");
    std::int64_t events = 0;
    REQUIRE(report["events"].get(events) == simdjson::SUCCESS);
    CHECK(events == 2);
    bool ok = false;
    REQUIRE(report["ok"].get(ok) == simdjson::SUCCESS);
    CHECK(ok);
    simdjson::dom::array projects;
    REQUIRE(report["projects"].get(projects) == simdjson::SUCCESS);
    CHECK(projects.size() == 2);  // web and elsewhere, each reported
  }
  SECTION("a cut not given once, malformed or in the future is refused, and nothing moves") {
    CHECK(archiver.Run(std::nullopt, std::nullopt) == kExitUsage);
    CHECK(archiver.Run(std::string("2024-01-01"), 3) == kExitUsage);
    CHECK(archiver.Run(std::string("January"), std::nullopt) == kExitUsage);
    CHECK(archiver.Run(std::string("2024-13-01"), std::nullopt) == kExitUsage);
    CHECK(archiver.Run(std::nullopt, 0) == kExitUsage);
    CHECK(archiver.Run(std::nullopt, -2) == kExitUsage);
    CHECK(archiver.Run(std::string("2030-01-01"), std::nullopt) == kExitError);
    CHECK(Contains(archiver.err.str(), "future"));
    CHECK(archiver.Run(std::nullopt, 5000) == kExitError);
    CHECK(Must(store->AuditChain(0, 0, 100), "chain").size() == 3);
    CHECK(Must(store->AuditAnchors(), "anchors").empty());
  }
}
