// The real `socle` binary and the audit trail: its changes recorded as the CLI's, the trail
// listed, checkpointed into the data directory and verified, and a tampered project file
// caught with exit status 1.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using socle::testing::JsonString;
using socle::testing::ProcessResult;
using socle::testing::Socle;
using socle::testing::TempDir;

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Runs socle with --data-dir pointing into `dir`, and reports what it printed on failure.
ProcessResult InDir(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"--data-dir", dir / "data"});
  auto result = Socle(args);
  std::string line = "socle";
  for (const auto& arg : args) line += " " + arg;
  UNSCOPED_INFO(line << " -> " << result.exit_code << "\nstdout: " << result.out
                     << "\nstderr: " << result.err);
  return result;
}

// Runs `sql` on a SQLite file the way someone holding the file could, behind socle's back.
void Tamper(const std::string& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  const std::string error = message != nullptr ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  INFO(error);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("socle audit: the CLI's changes in the trail, checkpointed, verified, tampering caught",
          "[cli][binary][audit]") {
  TempDir dir;
  REQUIRE(InDir(dir, {"org", "create", "acme"}).exit_code == 0);
  REQUIRE(InDir(dir, {"project", "create", "web", "--org", "acme"}).exit_code == 0);
  const std::string project_id =
      JsonString(InDir(dir, {"project", "get", "web", "--json"}).out, "id");
  const std::string file = dir / "collections.json";
  std::ofstream(file) << R"([{"name": "notes", "type": "base", "listRule": "",
      "fields": [{"name": "body", "type": "text"}]}])";
  REQUIRE(InDir(dir, {"collection", "import", file, "--project", "web", "--reason",
                      "Initial schema"})
              .exit_code == 0);
  REQUIRE(InDir(dir, {"collection", "delete", "notes", "--project", "web", "--yes", "--reason",
                      "Replaced by the wiki"})
              .exit_code == 0);

  auto listed = InDir(dir, {"audit", "list", "--org", "acme", "--format", "jsonl"});
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.err.empty());
  const std::regex event(
      "\\{\"org\":\"[a-z0-9]{15}\",\"project\":\"" + project_id +
      "\",\"lane\":0,\"seq\":(\\d),\"at\":\"[^\"]+\",\"actor\":\\{\"kind\":\"system\",\"id\":"
      "\"cli\"\\},\"action\":\"collection\\.(create|delete)\",.*\"requestId\":\"cli-[0-9a-f]{16}\","
      "\"reason\":\"(Initial schema|Replaced by the wiki)\",.*\"personal\":\"masked\",.*");
  std::vector<std::string> lines;
  std::istringstream in(listed.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  // Newest first: the two schema changes in the project's trail, then the project's and the
  // organisation's creation on the organisation's chain, all by the CLI.
  REQUIRE(lines.size() == 4);
  CHECK(Contains(lines[2], "\"action\":\"project.create\""));
  CHECK(Contains(lines[3], "\"action\":\"organisation.create\""));
  for (const auto& line : {lines[2], lines[3]}) {
    CHECK(Contains(line, "\"project\":\"" + (line == lines[2] ? project_id : "") + "\""));
    CHECK(Contains(line, "\"actor\":{\"kind\":\"system\",\"id\":\"cli\"}"));
  }
  lines.resize(2);
  std::smatch match;
  REQUIRE(std::regex_match(lines[0], match, event));
  CHECK(match[1] == "2");
  CHECK(match[2] == "delete");
  CHECK(match[3] == "Replaced by the wiki");
  REQUIRE(std::regex_match(lines[1], match, event));
  CHECK(match[1] == "1");
  CHECK(match[3] == "Initial schema");

  // A checkpoint goes to the data directory, apart from the project's file.
  auto checkpoint = InDir(dir, {"audit", "checkpoint"});
  REQUIRE(checkpoint.exit_code == 0);
  CHECK(Contains(checkpoint.out, "heads:"));
  CHECK(std::filesystem::file_size(dir.path() / "data" / "audit" / "checkpoints.jsonl") > 0);

  auto verified = InDir(dir, {"audit", "verify"});
  REQUIRE(verified.exit_code == 0);
  CHECK(Contains(verified.out, "signature valid"));
  CHECK(Contains(verified.out, "The audit trail is intact: 2 chains, 4 events."));

  // Someone with the project's file drops the guard and rewrites the first event's reason.
  Tamper((dir.path() / "data" / "projects" / (project_id + ".db")).string(),
         "DROP TRIGGER \"_audit_no_update\";"
         "UPDATE \"_audit\" SET reason = 'Approved' WHERE seq = 1;");
  auto broken = InDir(dir, {"audit", "verify"});
  CHECK(broken.exit_code == 1);
  CHECK(Contains(broken.out, "BROKEN (edited) at event 1: event 1 does not match its hash"));
  CHECK(Contains(broken.err, "socle: the audit trail does not verify: 1 of 2 chains broken"));
  auto as_json = InDir(dir, {"audit", "verify", "--json"});
  CHECK(as_json.exit_code == 1);
  CHECK(Contains(as_json.out, "\"ok\":false"));

  // Bad flags are usage errors, before any store is opened.
  auto usage = InDir(dir, {"audit", "list", "--org", "acme", "--limit", "0"});
  CHECK(usage.exit_code == 2);
  CHECK(Contains(usage.err, "Usage: socle audit list"));
}

TEST_CASE("socle subject: export and erasure through the binary, audited, the trail intact",
          "[cli][binary][audit][subject]") {
  TempDir dir;
  REQUIRE(InDir(dir, {"org", "create", "acme"}).exit_code == 0);
  REQUIRE(InDir(dir, {"project", "create", "web", "--org", "acme"}).exit_code == 0);
  const std::string file = dir / "collections.json";
  std::ofstream(file) << R"([{"id": "pbc_people_001", "name": "people", "type": "base",
      "fields": [{"name": "phone", "type": "text", "pii": "digits"}]}])";
  REQUIRE(InDir(dir, {"collection", "import", file, "--project", "web"}).exit_code == 0);

  // A person the project holds nothing about (no record was ever made through the CLI).
  const std::string id = "abcdefghij12345";
  auto exported = InDir(dir, {"subject", "export", "web", "people", id});
  REQUIRE(exported.exit_code == 0);
  CHECK(exported.out == "{\"records\":[],\"events\":[],\"signIns\":[],\"truncated\":false}\n");
  CHECK(Contains(exported.err, "The project holds nothing about subject " + id));

  auto refused = InDir(dir, {"subject", "erase", "web", "people", id, "--mode", "delete"});
  CHECK(refused.exit_code == 1);
  CHECK(Contains(refused.err, "socle: nothing was erased."));
  auto erased = InDir(dir, {"subject", "erase", "web", "people", id, "--mode", "pseudonymise",
                            "--yes", "--reason", "Art. 17 request", "--json"});
  REQUIRE(erased.exit_code == 0);
  CHECK(erased.out ==
        "{\"recordDeleted\":false,\"recordPseudonymised\":false,\"personalParts\":0,"
        "\"signIns\":0}\n");

  // The erasure is in the trail, by the CLI with its reason, and the trail verifies.
  auto listed = InDir(dir, {"audit", "list", "--org", "acme", "--action", "subject.erase",
                            "--format", "jsonl"});
  REQUIRE(listed.exit_code == 0);
  CHECK(Contains(listed.out, "\"actor\":{\"kind\":\"system\",\"id\":\"cli\"}"));
  CHECK(Contains(listed.out, "\"reason\":\"Art. 17 request\""));
  auto verified = InDir(dir, {"audit", "verify"});
  CHECK(verified.exit_code == 0);
  CHECK(Contains(verified.out, "The audit trail is intact"));

  // Bad input: an unknown project (exit 1), a bad mode (exit 2, before any store is opened).
  CHECK(InDir(dir, {"subject", "export", "nowhere", "people", id}).exit_code == 1);
  auto usage = InDir(dir, {"subject", "erase", "web", "people", id, "--mode", "shred"});
  CHECK(usage.exit_code == 2);
  CHECK(Contains(usage.err, "Usage: socle subject erase"));
}
