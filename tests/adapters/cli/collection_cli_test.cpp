// `socle collection ...`: parsing, and the commands run against the memory stores.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_ports.hpp"

namespace {

namespace cli = socle::adapters::cli;
namespace application = socle::application;
using cli::kExitError;
using cli::kExitOk;
using cli::Verb;

using Args = std::vector<std::string>;

// Two collections in PocketBase's export shape (system fields as PocketBase writes them, ids
// given, a relation by id, an index), the way an operator would bring them over.
constexpr std::string_view kCollections = R"json([
  {"id": "pbc_authors_01", "name": "authors", "type": "base", "system": false,
   "listRule": "", "viewRule": "", "createRule": null, "updateRule": null, "deleteRule": null,
   "fields": [
     {"id": "text3208210256", "name": "id", "type": "text", "system": true, "primaryKey": true,
      "required": true, "min": 15, "max": 15, "pattern": "^[a-z0-9]+$",
      "autogeneratePattern": "[a-z0-9]{15}", "hidden": false, "presentable": false},
     {"id": "text_name", "name": "name", "type": "text", "required": true, "max": 100},
     {"id": "autodate2990389176", "name": "created", "type": "autodate", "onCreate": true,
      "onUpdate": false, "system": false},
     {"id": "autodate3332085495", "name": "updated", "type": "autodate", "onCreate": true,
      "onUpdate": true, "system": false}],
   "indexes": []},
  {"id": "pbc_posts_0001", "name": "posts", "type": "base", "system": false,
   "listRule": "", "viewRule": "", "createRule": "", "updateRule": null, "deleteRule": null,
   "fields": [
     {"id": "text_title", "name": "title", "type": "text", "required": true},
     {"id": "select_tags", "name": "tags", "type": "select", "values": ["news", "tech"],
      "maxSelect": 2},
     {"id": "relation_author", "name": "author", "type": "relation",
      "collectionId": "pbc_authors_01", "maxSelect": 1, "cascadeDelete": false}],
   "indexes": ["CREATE INDEX `idx_posts_title` ON `posts` (`title`)"]}
])json";

// A `socle` process minus the process: memory catalogue and project stores, a clock that stands
// still (so that the project directory's cache never expires by itself) and seeded ids.
class Cli {
 public:
  Cli() {
    REQUIRE(Run({"org", "create", "acme"}) == kExitOk);
    REQUIRE(Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
  }

  int Run(const Args& args, const std::string& stdin_text = "") {
    out_.str("");
    err_.str("");
    std::istringstream in(stdin_text);
    cli::OpsCli ops(out_, err_, "", &in);
    return ops.Run(args, services_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }
  cli::CatalogueServices& services() { return services_; }
  application::ManageRecords& records() { return records_; }

  // Writes `text` to a file of the test's temporary directory; returns its path.
  std::string File(const std::string& name, std::string_view text) {
    std::string path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  const socle::testing::TempDir& dir() const { return dir_; }

 private:
  socle::testing::TempDir dir_;
  socle::adapters::memory::MemoryCatalogueStore store_;
  socle::adapters::memory::MemoryProjectStores project_stores_;
  socle::testing::ManualClock clock_;
  socle::testing::SeededRandomSource random_;
  application::ProjectDirectory directory_{store_, project_stores_, clock_};
  application::ManageOrganisations organisations_{store_, clock_, random_, &directory_};
  application::ManageProjects projects_{store_, clock_, random_, &directory_};
  application::ManageRegions regions_{store_};
  application::ManageCollections collections_{directory_, clock_, random_};
  application::ManageRecords records_{directory_, clock_, random_};
  cli::ProjectDataServices data_{directory_, collections_, records_, random_};
  cli::CatalogueServices services_{store_, organisations_, projects_, regions_, &data_};
  std::ostringstream out_;
  std::ostringstream err_;
};

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

simdjson::dom::element ParseJson(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element doc;
  INFO(text);
  REQUIRE(parser.parse(text).get(doc) == simdjson::SUCCESS);
  return doc;
}

std::vector<std::string> Strings(simdjson::dom::element array) {
  std::vector<std::string> out;
  simdjson::dom::array items;
  REQUIRE(array.get(items) == simdjson::SUCCESS);
  for (auto item : items) {
    std::string_view text;
    REQUIRE(item.get(text) == simdjson::SUCCESS);
    out.emplace_back(text);
  }
  return out;
}

// The "name" of every element of an array of collections.
std::vector<std::string> Names(simdjson::dom::element array) {
  std::vector<std::string> out;
  simdjson::dom::array items;
  REQUIRE(array.get(items) == simdjson::SUCCESS);
  for (auto item : items) {
    std::string_view name;
    REQUIRE(item["name"].get(name) == simdjson::SUCCESS);
    out.emplace_back(name);
  }
  return out;
}

}  // namespace

TEST_CASE("collection commands parse into their verb, project and flags", "[cli][collection]") {
  auto list = Parsed({"collection", "list", "--project", "web", "--json"});
  CHECK(list.verb == Verb::kCollectionList);
  CHECK(list.project == "web");
  CHECK(list.json);

  auto get = Parsed({"collection", "get", "posts", "--project=web"});
  CHECK(get.verb == Verb::kCollectionGet);
  CHECK(get.slug == "posts");

  auto import = Parsed({"collection", "import", "-", "--project", "web", "--delete-missing"});
  CHECK(import.verb == Verb::kCollectionImport);
  CHECK(import.slug == "-");
  CHECK(import.delete_missing);
  CHECK_FALSE(Parsed({"collection", "import", "a.json", "--project", "web"}).delete_missing);

  auto export_to = Parsed({"collection", "export", "--project", "web", "--out", "schema.json"});
  CHECK(export_to.verb == Verb::kCollectionExport);
  CHECK(export_to.out_file == "schema.json");
  CHECK_FALSE(Parsed({"collection", "export", "--project", "web"}).out_file);

  auto remove = Parsed({"collection", "delete", "posts", "--project", "web", "--yes"});
  CHECK(remove.verb == Verb::kCollectionDelete);
  CHECK(remove.yes);
  CHECK_FALSE(Parsed({"collection", "delete", "posts", "--project", "web"}).yes);

  CHECK(Parsed({"collection", "history", "--project", "web"}).verb == Verb::kCollectionHistory);
}

TEST_CASE("malformed collection command lines are usage errors", "[cli][collection]") {
  CHECK(UsageOf({"collection", "list"}) == "collection list|missing --project PROJECT");
  CHECK(UsageOf({"collection", "get", "--project", "web"}) == "collection get|missing NAME");
  CHECK(UsageOf({"collection", "import", "--project", "web"}) == "collection import|missing FILE");
  CHECK(UsageOf({"collection", "delete", "posts", "--project", "web", "--force"}) ==
        "collection delete|socle collection delete does not take --force");
  CHECK(UsageOf({"collection", "list", "--project", "web", "--yes"}) ==
        "collection list|socle collection list does not take --yes");
  CHECK(UsageOf({"collection", "export", "--project", "web", "extra"}) ==
        "collection export|unexpected argument \"extra\"");
  CHECK(UsageOf({"collection", "import", "a.json", "--project", "web", "--delete-missing=yes"}) ==
        "collection import|--delete-missing takes no value");
  CHECK(UsageOf({"collection", "drop"}) == "collection|unknown command: socle collection drop");
  CHECK(UsageOf({"collection"}) == "collection|missing sub-command after socle collection");
  // The org and project commands do not take the new flags.
  CHECK(UsageOf({"project", "delete", "web", "--yes"}) ==
        "project delete|socle project delete does not take --yes");
}

TEST_CASE("help describes the collection commands", "[cli][collection]") {
  CHECK(cli::UsageLine("collection import") ==
        "Usage: socle collection import FILE --project PROJECT [--delete-missing] "
        "[--reason TEXT] [--json]");
  CHECK(cli::UsageLine("collection delete") ==
        "Usage: socle collection delete NAME --project PROJECT [--yes] [--reason TEXT] [--json]");
  CHECK(cli::UsageLine("collection export") ==
        "Usage: socle collection export --project PROJECT [--out FILE] [--json]");
  auto overview = cli::HelpText("");
  for (auto command : {"collection list", "collection get NAME", "collection import FILE",
                       "collection export", "collection delete NAME", "collection history"}) {
    INFO(command);
    CHECK(Contains(overview, std::string("socle ") + command));
  }
  CHECK(Contains(cli::HelpText("collection"), "socle collection history --project PROJECT"));
  CHECK(Contains(cli::HelpText("collection import"), "- reads stdin"));
  CHECK(Parsed({"collection", "import", "--help"}).help_topic == "collection import");
}

TEST_CASE("collection import creates the collections and list, get show them",
          "[cli][collection]") {
  Cli cli;
  auto file = cli.File("collections.json", kCollections);
  REQUIRE(cli.Run({"collection", "import", file, "--project", "web"}) == kExitOk);
  INFO(cli.err());
  CHECK(cli.out() == "Imported " + file +
                         " into project web: 2 created, 0 updated, 0 deleted.\n"
                         "CHANGE   COLLECTION\n"
                         "created  authors\n"
                         "created  posts\n");

  REQUIRE(cli.Run({"collection", "list", "--project", "web"}) == kExitOk);
  CHECK(cli.out().starts_with("NAME     TYPE  FIELDS  ID              UPDATED\n"));
  CHECK(Contains(cli.out(), "\nauthors  base  4       pbc_authors_01  "));
  // The system fields were completed: id, title, tags, author, created, updated.
  CHECK(Contains(cli.out(), "\nposts    base  6       pbc_posts_0001  "));

  REQUIRE(cli.Run({"collection", "get", "posts", "--project", "web"}) == kExitOk);
  const std::string shown = cli.out();
  CHECK(Contains(shown, "id:         pbc_posts_0001\n"));
  CHECK(Contains(shown, "listRule:   (everyone)\n"));
  CHECK(Contains(shown, "updateRule: (superusers only)\n"));
  CHECK(Contains(shown, "\nFIELD    TYPE      REQUIRED  OPTIONS\n"));
  CHECK(Contains(shown, "\ntitle    text      yes\n"));
  CHECK(Contains(shown, "\ntags     select    no        values news, tech; up to 2\n"));
  // A relation names its target collection, not only its id.
  CHECK(Contains(shown, "\nauthor   relation  no        -> authors; single\n"));
  CHECK(Contains(shown, "\nINDEX            UNIQUE  COLUMNS\nidx_posts_title  no      title\n"));

  // By name case-insensitively, or by id; --json is PocketBase's collection shape.
  REQUIRE(cli.Run({"collection", "get", "POSTS", "--project", "web"}) == kExitOk);
  CHECK(cli.out() == shown);
  REQUIRE(cli.Run({"collection", "get", "pbc_posts_0001", "--project", "web", "--json"}) ==
          kExitOk);
  simdjson::dom::parser parser;
  auto posts = ParseJson(parser, cli.out());
  std::string_view name;
  REQUIRE(posts["name"].get(name) == simdjson::SUCCESS);
  CHECK(name == "posts");
  CHECK(Names(posts["fields"]) ==
        std::vector<std::string>{"id", "title", "tags", "author", "created", "updated"});
  CHECK(posts["updateRule"].is_null());

  REQUIRE(cli.Run({"collection", "list", "--project", "web", "--json"}) == kExitOk);
  auto listed = ParseJson(parser, cli.out());
  CHECK(Names(listed["items"]) == std::vector<std::string>{"authors", "posts"});
}

TEST_CASE("collection export prints an array that imports back unchanged", "[cli][collection]") {
  Cli cli;
  REQUIRE(cli.Run({"collection", "import", cli.File("in.json", kCollections), "--project",
                   "web"}) == kExitOk);

  REQUIRE(cli.Run({"collection", "export", "--project", "web"}) == kExitOk);
  const std::string exported = cli.out();
  CHECK(exported.starts_with("[\n{"));
  CHECK(exported.ends_with("}\n]\n"));
  simdjson::dom::parser parser;
  CHECK(Names(ParseJson(parser, exported)) == std::vector<std::string>{"authors", "posts"});

  // To a file: the same document; stdout stays empty and stderr says where it went.
  const std::string out_file = cli.dir() / "schema.json";
  REQUIRE(cli.Run({"collection", "export", "--project", "web", "--out", out_file}) == kExitOk);
  CHECK(cli.out().empty());
  CHECK(cli.err() == "Exported 2 collections of project web to " + out_file + ".\n");
  std::ifstream written(out_file);
  std::stringstream text;
  text << written.rdbuf();
  CHECK(text.str() == exported);

  REQUIRE(cli.Run({"collection", "import", out_file, "--project", "web", "--json"}) == kExitOk);
  auto report = ParseJson(parser, cli.out());
  CHECK(Strings(report["created"]).empty());
  CHECK(Strings(report["updated"]).empty());
  CHECK(Strings(report["deleted"]).empty());
  REQUIRE(cli.Run({"collection", "import", out_file, "--project", "web"}) == kExitOk);
  CHECK(cli.out() ==
        "Nothing to change: the collections of project web already match " + out_file + ".\n");

  // A project without collections exports an empty array.
  REQUIRE(cli.Run({"project", "create", "empty", "--org", "acme"}) == kExitOk);
  REQUIRE(cli.Run({"collection", "export", "--project", "empty"}) == kExitOk);
  CHECK(cli.out() == "[]\n");
}

TEST_CASE("collection import reads stdin and PocketBase's import body", "[cli][collection]") {
  Cli cli;
  const std::string body =
      "{\"deleteMissing\": true, \"collections\": " + std::string(kCollections) + "}";
  REQUIRE(cli.Run({"collection", "import", "-", "--project", "web", "--json"}, body) == kExitOk);
  simdjson::dom::parser parser;
  auto report = ParseJson(parser, cli.out());
  CHECK(Strings(report["created"]) == std::vector<std::string>{"authors", "posts"});
  // The file cannot delete collections by itself: only the flag does, and the CLI says so.
  CHECK(cli.err() ==
        "socle: note: stdin sets deleteMissing; only --delete-missing deletes collections, so "
        "none will be.\n");
}

TEST_CASE("collection import --delete-missing removes what the file does not name",
          "[cli][collection]") {
  Cli cli;
  REQUIRE(cli.Run({"collection", "import", cli.File("in.json", kCollections), "--project",
                   "web"}) == kExitOk);
  const std::string only_notes = R"json([{"name": "notes", "type": "base",
      "fields": [{"name": "body", "type": "text"}]}])json";
  auto notes = cli.File("notes.json", only_notes);

  // Without the flag the others stay.
  REQUIRE(cli.Run({"collection", "import", notes, "--project", "web", "--json"}) == kExitOk);
  REQUIRE(cli.Run({"collection", "list", "--project", "web", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  CHECK(Names(ParseJson(parser, cli.out())["items"]) ==
        std::vector<std::string>{"authors", "posts", "notes"});

  REQUIRE(cli.Run({"collection", "import", notes, "--project", "web", "--delete-missing"}) ==
          kExitOk);
  CHECK(Contains(cli.out(), ": 0 created, 0 updated, 2 deleted.\n"));
  CHECK(Contains(cli.out(), "\ndeleted  authors\n"));
  REQUIRE(cli.Run({"collection", "list", "--project", "web", "--json"}) == kExitOk);
  CHECK(Names(ParseJson(parser, cli.out())["items"]) == std::vector<std::string>{"notes"});
}

TEST_CASE("collection import refuses bad files whole and changes nothing", "[cli][collection]") {
  Cli cli;
  SECTION("not JSON") {
    CHECK(cli.Run({"collection", "import", cli.File("bad.json", "[{"), "--project", "web"}) ==
          kExitError);
    CHECK(Contains(cli.err(), "bad.json is not valid JSON"));
  }
  SECTION("not an array") {
    CHECK(cli.Run({"collection", "import", cli.File("obj.json", R"json({"name": "posts"})json"),
                   "--project", "web"}) == kExitError);
    CHECK(Contains(cli.err(), "must hold a JSON array of collections"));
  }
  SECTION("a field of the wrong type, keyed as PocketBase keys it") {
    const std::string bad = R"json([{"name": "ok", "type": "base", "fields": []},
        {"name": "posts", "type": "base", "fields": [{"name": "title", "type": "text",
         "required": "yes"}]}])json";
    CHECK(cli.Run({"collection", "import", cli.File("bad.json", bad), "--project", "web"}) ==
          kExitError);
    CHECK(Contains(cli.err(), "  collections.1.fields.0.required: "));
  }
  SECTION("an invalid definition") {
    const std::string bad = R"json([{"name": "ok", "type": "base", "fields": []},
        {"name": "posts", "type": "base", "listRule": "nope = 1", "fields": []}])json";
    CHECK(cli.Run({"collection", "import", cli.File("bad.json", bad), "--project", "web"}) ==
          kExitError);
    CHECK(Contains(cli.err(), "  collections.1.listRule: "));
  }
  SECTION("a file that is not there") {
    CHECK(cli.Run({"collection", "import", cli.dir() / "missing.json", "--project", "web"}) ==
          kExitError);
    CHECK(Contains(cli.err(), "missing.json: No such file or directory."));
  }
  SECTION("a directory") {
    CHECK(cli.Run({"collection", "import", cli.dir().path().string(), "--project", "web"}) ==
          kExitError);
    CHECK(Contains(cli.err(), "it is a directory"));
  }
  SECTION("an unknown project") {
    CHECK(cli.Run({"collection", "import", cli.File("in.json", kCollections), "--project",
                   "ghost"}) == kExitError);
    CHECK(cli.err() == "socle: Project not found.\n");
  }
  CHECK(cli.out().empty());
  REQUIRE(cli.Run({"collection", "list", "--project", "web"}) == kExitOk);
  CHECK(cli.out() == "No collections.\n");
}

TEST_CASE("collection delete refuses without --yes, saying what would go", "[cli][collection]") {
  Cli cli;
  REQUIRE(cli.Run({"collection", "import", cli.File("in.json", kCollections), "--project",
                   "web"}) == kExitOk);
  application::RecordWriteInput input;
  input.body =
      socle::domain::JsonValue::Object({{"title", socle::domain::JsonValue::String("Hello")}});
  application::Caller superuser;
  superuser.superuser = true;
  auto created = cli.records().Create("web", "posts", input, superuser);
  INFO((created ? std::string() : created.error().message));
  REQUIRE(created);

  CHECK(cli.Run({"collection", "delete", "posts", "--project", "web"}) == kExitError);
  CHECK(cli.out().empty());
  CHECK(cli.err() ==
        "socle: collection posts of project web holds 1 record; pass --yes to delete it with "
        "them.\n");
  REQUIRE(cli.Run({"collection", "get", "posts", "--project", "web"}) == kExitOk);

  CHECK(cli.Run({"collection", "delete", "authors", "--project", "web"}) == kExitError);
  CHECK(cli.err() ==
        "socle: collection authors of project web holds 0 records; pass --yes to delete it.\n");

  // posts.author points at authors: the use case refuses, whatever --yes says.
  CHECK(cli.Run({"collection", "delete", "authors", "--project", "web", "--yes"}) == kExitError);
  REQUIRE(cli.Run({"collection", "get", "authors", "--project", "web"}) == kExitOk);

  REQUIRE(cli.Run({"collection", "delete", "posts", "--project", "web", "--yes"}) == kExitOk);
  CHECK(cli.out() == "Deleted collection posts of project web.\n");
  REQUIRE(cli.Run({"collection", "delete", "authors", "--project", "web", "--yes", "--json"}) ==
          kExitOk);
  simdjson::dom::parser parser;
  auto deleted = ParseJson(parser, cli.out());
  std::string_view name;
  REQUIRE(deleted["name"].get(name) == simdjson::SUCCESS);
  CHECK(name == "authors");
  bool flag = false;
  REQUIRE(deleted["deleted"].get(flag) == simdjson::SUCCESS);
  CHECK(flag);

  CHECK(cli.Run({"collection", "get", "posts", "--project", "web"}) == kExitError);
  CHECK(cli.Run({"collection", "delete", "posts", "--project", "web", "--yes"}) == kExitError);
  CHECK(cli.out().empty());
}

TEST_CASE("collection history lists every schema change, oldest first", "[cli][collection]") {
  Cli cli;
  REQUIRE(cli.Run({"collection", "history", "--project", "web"}) == kExitOk);
  CHECK(cli.out() == "No changes.\n");

  REQUIRE(cli.Run({"collection", "import", cli.File("in.json", kCollections), "--project",
                   "web"}) == kExitOk);
  REQUIRE(cli.Run({"collection", "delete", "posts", "--project", "web", "--yes"}) == kExitOk);

  REQUIRE(cli.Run({"collection", "history", "--project", "web"}) == kExitOk);
  const std::string table = cli.out();
  CHECK(table.starts_with("VERSION  AT                        ACTOR  CHANGE   COLLECTION\n"));
  CHECK(Contains(table, "  cli    created  authors\n"));
  CHECK(Contains(table, "  cli    created  posts\n"));
  CHECK(Contains(table, "  cli    deleted  posts\n"));

  REQUIRE(cli.Run({"collection", "history", "--project", "web", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  auto history = ParseJson(parser, cli.out());
  simdjson::dom::array items;
  REQUIRE(history["items"].get(items) == simdjson::SUCCESS);
  REQUIRE(items.size() == 3);
  std::vector<std::string> actions;
  for (auto item : items) {
    std::string_view action;
    REQUIRE(item["action"].get(action) == simdjson::SUCCESS);
    actions.emplace_back(action);
  }
  CHECK(actions == std::vector<std::string>{"create", "create", "delete"});
  auto last = items.at(2);
  CHECK(last["after"].is_null());
  std::string_view before_name;
  REQUIRE(last["before"]["name"].get(before_name) == simdjson::SUCCESS);
  CHECK(before_name == "posts");
}

TEST_CASE("deleting a project or an organisation releases the project's store",
          "[cli][collection]") {
  Cli cli;
  auto file = cli.File("in.json", kCollections);
  REQUIRE(cli.Run({"collection", "import", file, "--project", "web"}) == kExitOk);
  // The clock stands still, so only the delete itself can make the directory forget the cached
  // project: without it the deleted project would still answer here.
  REQUIRE(cli.Run({"project", "delete", "web"}) == kExitOk);
  CHECK(cli.Run({"collection", "list", "--project", "web"}) == kExitError);
  CHECK(cli.err() == "socle: Project not found.\n");

  // A new project of the same slug starts empty.
  REQUIRE(cli.Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
  REQUIRE(cli.Run({"collection", "list", "--project", "web"}) == kExitOk);
  CHECK(cli.out() == "No collections.\n");

  REQUIRE(cli.Run({"collection", "import", file, "--project", "web"}) == kExitOk);
  REQUIRE(cli.Run({"org", "delete", "acme", "--force"}) == kExitOk);
  CHECK(cli.Run({"collection", "list", "--project", "web"}) == kExitError);
  CHECK(cli.err() == "socle: Project not found.\n");
}

TEST_CASE("collection commands fail cleanly without the projects' stores", "[cli][collection]") {
  Cli cli;
  cli::CatalogueServices without = cli.services();
  without.data = nullptr;
  std::ostringstream out, err;
  cli::OpsCli ops(out, err);
  CHECK(ops.Run(Args{"collection", "list", "--project", "web"}, without) == kExitError);
  CHECK(out.str().empty());
  CHECK(Contains(err.str(), "the projects' stores are not available"));
  // stdin is only read when the caller provided it.
  CHECK(cli.Run({"collection", "import", "-", "--project", "web"}) == kExitError);
  std::ostringstream out2, err2;
  cli::OpsCli no_stdin(out2, err2);
  CHECK(no_stdin.Run(Args{"collection", "import", "-", "--project", "web"}, cli.services()) ==
        kExitError);
  CHECK(Contains(err2.str(), "Cannot read stdin here."));
}
