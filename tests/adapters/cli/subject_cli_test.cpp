// `socle subject export|erase`: parsing, and the commands run against ManageDataSubjects with
// the real audit trail and log (OpenSSL SHA-256) over the memory stores, wired as
// apps/socle/main.cpp wires them. The export is checked member by member against what the use
// cases hold; each erasure against the trail afterwards, which must still verify.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/data_subjects.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"
#include "support/test_ports.hpp"

namespace {

namespace cli = socle::adapters::cli;
namespace application = socle::application;
using cli::kExitError;
using cli::kExitOk;
using cli::kExitUsage;
using socle::domain::JsonValue;

using Args = std::vector<std::string>;

// People with a personal field, their orders pointing at them, and patients whose changes
// need a reason (GxP).
constexpr std::string_view kCollections = R"json([
  {"id": "pbc_people_001", "name": "people", "type": "base",
   "listRule": "", "viewRule": "", "createRule": null, "updateRule": null, "deleteRule": null,
   "fields": [{"id": "text_name", "name": "name", "type": "text", "required": true},
              {"id": "text_phone", "name": "phone", "type": "text", "pii": "digits"}]},
  {"id": "pbc_orders_001", "name": "orders", "type": "base",
   "listRule": "", "viewRule": "", "createRule": null, "updateRule": null, "deleteRule": null,
   "fields": [{"id": "text_item", "name": "item", "type": "text"},
              {"id": "rel_customer", "name": "customer", "type": "relation",
               "collectionId": "pbc_people_001", "maxSelect": 1, "cascadeDelete": false}]},
  {"id": "pbc_patients01", "name": "patients", "type": "base", "auditReasonRequired": true,
   "listRule": "", "viewRule": "", "createRule": null, "updateRule": null, "deleteRule": null,
   "fields": [{"id": "text_pname", "name": "name", "type": "text", "pii": "text"}]}
])json";

std::string Sha256Hex(std::string_view bytes) {
  return socle::adapters::crypto::ToHex(socle::adapters::crypto::Sha256(bytes));
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A `socle` process minus the process: an organisation "acme" with a project "web" holding the
// collections above, and records made through the use cases by a superuser (so their events
// carry personal parts). The clock stands still.
class World {
 public:
  World() {
    REQUIRE(Run({"org", "create", "acme"}) == kExitOk);
    REQUIRE(Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
    const std::string file = (dir_.path() / "collections.json").string();
    std::ofstream(file) << kCollections;
    REQUIRE(Run({"collection", "import", file, "--project", "web"}) == kExitOk);
    for (const char* who : {"Ann", "Bob"}) {
      people_.push_back(Create("people", JsonValue::Object(
                                             {{"name", JsonValue::String(who)},
                                              {"phone", JsonValue::String(std::string("+32 ") +
                                                                          who)}})));
    }
    // Ann renames herself: a second event whose target part holds her values.
    application::RecordWriteInput rename;
    rename.body = JsonValue::Object({{"name", JsonValue::String("Anne")}});
    REQUIRE(records_.Update("web", "people", people_[0], std::move(rename), Operator()));
    for (const auto& customer : people_) {
      orders_.push_back(Create("orders", JsonValue::Object(
                                             {{"item", JsonValue::String("Teapot")},
                                              {"customer", JsonValue::String(customer)}})));
    }
    patient_ = Create("patients", JsonValue::Object({{"name", JsonValue::String("Dora")}}));
  }

  int Run(const Args& args) {
    out_.str("");
    err_.str("");
    cli::OpsCli ops(out_, err_);
    return ops.Run(args, services_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  const std::string& ann() const { return people_[0]; }
  const std::string& bob() const { return people_[1]; }
  const std::string& patient() const { return patient_; }
  const std::vector<std::string>& orders() const { return orders_; }
  std::string Path(const std::string& name) const { return (dir_.path() / name).string(); }
  cli::CatalogueServices& services() { return services_; }

  // Whether the record is still there, read as a superuser would.
  bool Exists(const std::string& collection, const std::string& id) {
    return static_cast<bool>(records_.View("web", collection, id, {}, Operator()));
  }

 private:
  static application::Caller Operator() {
    application::Caller caller;
    caller.superuser = true;
    caller.origin = {"req-load-1", "192.0.2.10", "loader/1", "initial load"};
    return caller;
  }
  std::string Create(const std::string& collection, JsonValue body) {
    application::RecordWriteInput input;
    input.body = std::move(body);
    auto created = records_.Create("web", collection, std::move(input), Operator());
    INFO((created ? std::string() : created.error().message));
    REQUIRE(created);
    return created->record.record.Id(*created->record.collection);
  }

  socle::testing::TempDir dir_;
  socle::adapters::memory::MemoryCatalogueStore store_;
  socle::adapters::memory::MemoryProjectStores project_stores_;
  socle::testing::ManualClock clock_;
  socle::testing::SeededRandomSource random_;
  application::ProjectDirectory directory_{store_, project_stores_, clock_};
  application::AuditTrail trail_{clock_, random_, &Sha256Hex};
  application::AuditLog log_{store_, project_stores_, clock_, &Sha256Hex, nullptr, nullptr};
  application::ManageOrganisations organisations_{store_, clock_, random_, &directory_};
  application::ManageProjects projects_{store_, clock_, random_, &directory_};
  application::ManageRegions regions_{store_};
  application::ManageCollections collections_{directory_, clock_, random_, &trail_};
  application::ManageSettings settings_{directory_, store_, clock_};
  application::ManageRecords records_{directory_, clock_, random_, {}, &settings_, {}, &trail_};
  // No platform store here: sign-in attempts are neither exported nor erased.
  application::ManageDataSubjects subjects_{directory_, records_, &trail_, nullptr};
  cli::ProjectDataServices data_{directory_, collections_, records_, random_, &settings_};
  cli::CatalogueServices services_{store_, organisations_, projects_, regions_, &data_,
                                   nullptr, nullptr,       &log_,     &subjects_};
  std::vector<std::string> people_;
  std::vector<std::string> orders_;
  std::string patient_;
  std::ostringstream out_;
  std::ostringstream err_;
};

std::string UsageOf(const Args& args) {
  auto command = cli::ParseCommand(args);
  if (command) return "parsed";
  return command.error().topic + "|" + command.error().message;
}

// A document parsed with simdjson, independent of Socle's own JSON code.
struct Document {
  explicit Document(const std::string& text) : json(text) {
    auto error = parser.parse(json).get(root);
    INFO(text);
    REQUIRE(!error);
  }
  simdjson::padded_string json;
  simdjson::dom::parser parser;
  simdjson::dom::element root;

  simdjson::dom::array Array(const char* key) const {
    simdjson::dom::array array;
    REQUIRE(!root[key].get(array));
    return array;
  }
};

std::string Str(simdjson::dom::element element, const char* key) {
  std::string_view value;
  if (element[key].get(value)) return "<missing>";
  return std::string(value);
}

// The whole trail of organisation acme, personal parts in clear.
std::string Trail(World& w) {
  REQUIRE(w.Run({"audit", "list", "--org", "acme", "--json", "--personal", "--limit", "500"}) ==
          kExitOk);
  return w.out();
}

void RequireVerifies(World& w) {
  const int status = w.Run({"audit", "verify"});
  INFO(w.out() << w.err());
  REQUIRE(status == kExitOk);
  CHECK(Contains(w.out(), "The audit trail is intact"));
}

}  // namespace

TEST_CASE("subject commands: parsing", "[cli][subject]") {
  auto command = cli::ParseCommand(Args{"subject", "erase", "web", "people", "abc", "--mode",
                                        "pseudonymise", "--reason", "Art. 17 request", "--yes"});
  REQUIRE(command);
  CHECK(command->verb == cli::Verb::kSubjectErase);
  CHECK(command->arguments == Args{"web", "people", "abc"});
  CHECK(command->mode == "pseudonymise");
  CHECK(command->reason == "Art. 17 request");
  CHECK(command->yes);
  CHECK(command->NeedsSubjects());
  CHECK(command->NeedsAuth());
  CHECK(command->NeedsProjectStores());
  CHECK_FALSE(command->NeedsAccess());

  auto exported = cli::ParseCommand(Args{"subject", "export", "web", "people", "abc", "--out",
                                         "ann.json"});
  REQUIRE(exported);
  CHECK(exported->verb == cli::Verb::kSubjectExport);
  CHECK(exported->out_file == "ann.json");

  CHECK(UsageOf({"subject", "erase", "web", "people", "abc"}) ==
        "subject erase|missing --mode delete|pseudonymise");
  CHECK(UsageOf({"subject", "erase", "web", "people", "abc", "--mode", "shred"}) ==
        "subject erase|--mode must be delete or pseudonymise");
  CHECK(UsageOf({"subject", "erase", "web", "people", "abc", "--mode", "delete", "--reason", ""}) ==
        "subject erase|--reason must not be empty (leave it out instead)");
  CHECK(UsageOf({"subject", "export", "web", "people"}) == "subject export|missing ID");
  CHECK(UsageOf({"subject", "export", "web", "people", "abc", "def"}) ==
        "subject export|unexpected argument \"def\"");
  CHECK(UsageOf({"subject", "export", "web", "people", "abc", "--mode", "delete"}) ==
        "subject export|socle subject export does not take --mode");
  CHECK(UsageOf({"subject", "export", "web", "people", "abc", "--yes"}) ==
        "subject export|socle subject export does not take --yes");
  CHECK(UsageOf({"subject", "forget", "web"}) == "subject|unknown command: socle subject forget");
  CHECK(UsageOf({"subject"}) == "subject|missing sub-command after socle subject");

  CHECK(Contains(cli::HelpText(""), "socle subject erase PROJECT COLLECTION ID"));
  const std::string help = cli::HelpText("subject erase");
  CHECK(Contains(help, "Usage: socle subject erase PROJECT COLLECTION ID "));
  CHECK(Contains(help, " --mode delete|pseudonymise"));
  CHECK_FALSE(Contains(help, "[--mode"));  // required
  CHECK(Contains(help, "auditReasonRequired"));
  CHECK(Contains(cli::HelpText("subject"), "socle subject export PROJECT COLLECTION ID"));
}

TEST_CASE("subject export: the audit API's document, on stdout or in a file", "[cli][subject]") {
  World w;
  REQUIRE(w.Run({"subject", "export", "web", "people", w.ann()}) == kExitOk);
  CHECK(w.err().empty());
  const std::string printed = w.out();
  Document doc(printed);
  auto records = doc.Array("records");
  REQUIRE(records.size() == 2);  // her record, then her order pointing at it
  CHECK(Str(records.at(0), "collectionName") == "people");
  CHECK(Str(records.at(0), "id") == w.ann());
  CHECK(Str(records.at(0), "name") == "Anne");
  CHECK(Str(records.at(0), "phone") == "+32 Ann");
  CHECK(Str(records.at(1), "collectionName") == "orders");
  CHECK(Str(records.at(1), "id") == w.orders()[0]);
  CHECK(Str(records.at(1), "customer") == w.ann());
  auto events = doc.Array("events");
  // Newest first: her rename, her creation (those whose actor or target she is).
  REQUIRE(events.size() == 2);
  CHECK(Str(events.at(0), "action") == "record.update");
  CHECK(Str(events.at(1), "action") == "record.create");
  CHECK(Contains(printed, "\"+32 Ann\""));
  CHECK_FALSE(Contains(printed, "+32 Bob"));  // nothing of anyone else
  CHECK_FALSE(Contains(printed, "\"masked\""));
  CHECK(doc.Array("signIns").size() == 0);
  bool truncated = true;
  REQUIRE(!doc.root["truncated"].get(truncated));
  CHECK_FALSE(truncated);

  // The collection by id is the same collection; --out writes the same document, stdout empty.
  const std::string file = w.Path("ann.json");
  REQUIRE(w.Run({"subject", "export", "web", "pbc_people_001", w.ann(), "--out", file}) ==
          kExitOk);
  CHECK(w.out().empty());
  CHECK(Contains(w.err(), "Exported subject " + w.ann() + " of collection pbc_people_001 in "
                          "project web to " + file + "."));
  std::ifstream in(file);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(written == printed);

  // A file that cannot be written is an error, and nothing is left behind.
  CHECK(w.Run({"subject", "export", "web", "people", w.ann(), "--out",
               w.Path("missing/ann.json")}) == kExitError);
  CHECK(Contains(w.err(), "socle: Cannot write"));
  CHECK(w.out().empty());
}

TEST_CASE("subject erase: delete, after --yes, audited as the CLI", "[cli][subject]") {
  World w;
  // Without --yes nothing goes, and the operator reads what would.
  REQUIRE(w.Run({"subject", "erase", "web", "people", w.ann(), "--mode", "delete"}) ==
          kExitError);
  CHECK(w.out().empty());
  CHECK(Contains(w.err(), "socle: nothing was erased. For subject " + w.ann() +
                              " of collection people in project web the project holds their "
                              "record (it would be deleted), 1 record pointing at it, 2 audit "
                              "events about them"));
  CHECK(Contains(w.err(), "pass --yes to erase them."));
  CHECK(w.Exists("people", w.ann()));
  CHECK(Contains(Trail(w), "+32 Ann"));

  REQUIRE(w.Run({"subject", "erase", "web", "people", w.ann(), "--mode", "delete", "--yes",
                 "--reason", "Art. 17 request 2026-014"}) == kExitOk);
  CHECK(w.err().empty());
  CHECK(Contains(w.out(), "Erased subject " + w.ann() + " of collection people in project web."));
  CHECK(Contains(w.out(), "record:"));
  CHECK(Contains(w.out(), "deleted"));
  CHECK(Contains(w.out(), "personal parts:"));
  CHECK_FALSE(w.Exists("people", w.ann()));
  CHECK(w.Exists("orders", w.orders()[0]));  // the relation is not required: it is cleared

  // Her values are gone from the trail, Bob's are not; the erasure is there, by the CLI, with
  // the reason; every chain still verifies.
  const std::string trail = Trail(w);
  // Her personal values (the phone: pii) are gone; what the collection does not mark
  // personal (her name) stays in the chained diffs, by design.
  CHECK_FALSE(Contains(trail, "+32 Ann"));
  CHECK(Contains(trail, "+32 Bob"));
  REQUIRE(w.Run({"audit", "list", "--org", "acme", "--action", "subject.erase", "--format",
                 "jsonl"}) == kExitOk);
  CHECK(Contains(w.out(), "\"actor\":{\"kind\":\"system\",\"id\":\"cli\"}"));
  CHECK(Contains(w.out(), "\"id\":\"" + w.ann() + "\""));
  CHECK(Contains(w.out(), "\"reason\":\"Art. 17 request 2026-014\""));
  CHECK(Contains(w.out(), "\"after\":\"delete\""));
  RequireVerifies(w);

  // Again: idempotent, the record is already gone and nothing personal is left.
  REQUIRE(w.Run({"subject", "erase", "web", "people", w.ann(), "--mode", "delete", "--yes",
                 "--json"}) == kExitOk);
  CHECK(w.out() ==
        "{\"recordDeleted\":false,\"recordPseudonymised\":false,\"personalParts\":0,"
        "\"signIns\":0}\n");
  RequireVerifies(w);
}

TEST_CASE("subject erase: pseudonymise keeps the record, blanks what is personal",
          "[cli][subject]") {
  World w;
  REQUIRE(w.Run({"subject", "erase", "web", "people", w.bob(), "--mode", "pseudonymise"}) ==
          kExitError);
  CHECK(Contains(w.err(), "their record (it would be pseudonymised)"));

  REQUIRE(w.Run({"subject", "erase", "web", "people", w.bob(), "--mode", "pseudonymise",
                 "--yes", "--json"}) == kExitOk);
  Document report(w.out());
  bool deleted = true;
  bool pseudonymised = false;
  std::int64_t parts = 0;
  REQUIRE(!report.root["recordDeleted"].get(deleted));
  REQUIRE(!report.root["recordPseudonymised"].get(pseudonymised));
  REQUIRE(!report.root["personalParts"].get(parts));
  CHECK_FALSE(deleted);
  CHECK(pseudonymised);
  CHECK(parts >= 1);

  // The record and the order pointing at it stay; his phone is blank, his name (not personal
  // data in this schema) is kept.
  REQUIRE(w.Run({"subject", "export", "web", "people", w.bob()}) == kExitOk);
  Document after(w.out());
  auto records = after.Array("records");
  REQUIRE(records.size() == 2);
  CHECK(Str(records.at(0), "name") == "Bob");
  CHECK(Str(records.at(0), "phone") == "");
  CHECK(Str(records.at(1), "id") == w.orders()[1]);
  CHECK_FALSE(Contains(Trail(w), "+32 Bob"));
  CHECK(Contains(Trail(w), "+32 Ann"));
  RequireVerifies(w);
}

TEST_CASE("subject commands: bad input", "[cli][subject]") {
  World w;
  // Unknown project, unknown collection: not found, whichever command, and nothing erased.
  for (const std::string verb : {"export", "erase"}) {
    Args base = {"subject", verb, "nowhere", "people", w.ann()};
    if (verb == "erase") base.insert(base.end(), {"--mode", "delete", "--yes"});
    CHECK(w.Run(base) == kExitError);
    CHECK(Contains(w.err(), "socle: "));
    CHECK(w.out().empty());
    base[2] = "web";
    base[3] = "invoices";
    CHECK(w.Run(base) == kExitError);
    CHECK(Contains(w.err(), "socle: Missing collection context."));
    CHECK(w.out().empty());
    // A malformed id is refused before anything is looked up.
    base[3] = "people";
    base[4] = "../etc/passwd";
    CHECK(w.Run(base) == kExitError);
    CHECK(Contains(w.err(), "id: Must be a record id."));
  }
  CHECK(w.Exists("people", w.ann()));

  // An id the project never held: an empty export (said on stderr), and nothing to erase.
  const std::string stranger = "abcdefghij12345";
  REQUIRE(w.Run({"subject", "export", "web", "people", stranger}) == kExitOk);
  CHECK(w.out() == "{\"records\":[],\"events\":[],\"signIns\":[],\"truncated\":false}\n");
  CHECK(Contains(w.err(), "The project holds nothing about subject " + stranger));
  CHECK(w.Run({"subject", "erase", "web", "people", stranger, "--mode", "delete"}) == kExitError);
  CHECK(Contains(w.err(), "no record any more, 0 records pointing at it, 0 audit events"));

  // A bad mode is a usage error.
  CHECK(w.Run({"subject", "erase", "web", "people", w.ann(), "--mode", "forget", "--yes"}) ==
        kExitUsage);
  CHECK(Contains(w.err(), "Usage: socle subject erase"));

  // Patients need a reason for every change: without one the erasure is refused as a whole.
  REQUIRE(w.Run({"subject", "erase", "web", "patients", w.patient(), "--mode", "delete"}) ==
          kExitError);
  CHECK(Contains(w.err(), "Collection patients requires a reason for every change: give "
                          "--reason too."));
  CHECK(w.Run({"subject", "erase", "web", "patients", w.patient(), "--mode", "delete", "--yes"}) ==
        kExitError);
  CHECK(Contains(w.err(), "socle: "));
  CHECK(w.Exists("patients", w.patient()));
  CHECK(Contains(Trail(w), "Dora"));
  REQUIRE(w.Run({"subject", "erase", "web", "patients", w.patient(), "--mode", "delete", "--yes",
                 "--reason", "Withdrawn consent"}) == kExitOk);
  CHECK_FALSE(w.Exists("patients", w.patient()));
  CHECK_FALSE(Contains(Trail(w), "Dora"));
  RequireVerifies(w);

  // Without the use case (the stores or the trail could not be set up), the commands fail.
  w.services().subjects = nullptr;
  CHECK(w.Run({"subject", "export", "web", "people", w.ann()}) == kExitError);
  CHECK(Contains(w.err(), "socle: Data subjects are not available to this command."));
}
