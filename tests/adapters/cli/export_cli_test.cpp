// `socle org export`: the ustar writer on its own (read back by the system tar, which verifies
// every header's checksum), the CSV quoting, and the whole export against the memory stores with
// the access and data use cases for real, wired as apps/socle/main.cpp wires them: the archive
// is read back with `tar -tf` and `tar -xf`, and each file's content checked.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "access_cli_world.hpp"
#include "org_export.hpp"
#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/json/csv_field.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/application/manage_records.hpp"
#include "support/temp_dir.hpp"
#include "tar_writer.hpp"

namespace {

namespace cli = socle::adapters::cli;
namespace application = socle::application;
namespace json = socle::adapters::json;
namespace domain = socle::domain;
using cli::kExitError;
using cli::kExitOk;
using cli::kExitUsage;
using domain::JsonValue;
using socle::testing::TempDir;

using Args = std::vector<std::string>;
using socle::testing::ItemsOf;
using socle::testing::Str;

constexpr std::string_view kPassword = "velvet-otter-quarry-41";
constexpr std::string_view kAdaPassword = "lantern-meadow-copper-77";

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Runs a shell command; returns its exit status and what it printed (stdout and stderr).
struct Ran {
  int status = -1;
  std::string output;
};
Ran Shell(const std::string& command) {
  Ran ran;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer;
  std::size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    ran.output.append(buffer.data(), got);
  }
  const int status = ::pclose(pipe);
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  INFO(path.string());
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  REQUIRE(out);
}

JsonValue ParseJson(const std::string& text) {
  INFO(text);
  json::JsonLimits limits;
  limits.max_bytes = std::size_t{64} << 20;
  auto parsed = json::ParseJson(text, limits);
  REQUIRE(parsed);
  return *parsed;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// The entries `tar -tf` lists.
std::vector<std::string> TarList(const std::string& archive) {
  Ran listed = Shell("tar -tf " + Quoted(archive));
  INFO(listed.output);
  REQUIRE(listed.status == 0);
  return SplitLines(listed.output);
}

// Every file's content under `dir`, by its path relative to it.
std::map<std::string, std::string> Contents(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.emplace(std::filesystem::relative(entry.path(), dir).generic_string(),
                    ReadFile(entry.path()));
    }
  }
  return files;
}

// Tar writer ---------------------------------------------------------------------------------

TEST_CASE("the tar writer's archives read back with tar, checksums and long names included",
          "[cli][export][tar]") {
  TempDir dir;
  const std::string archive = dir / "test.tar";
  // 120 bytes: longer than the name field, so it goes through the prefix field.
  const std::string deep = std::string(60, 'd') + "/" + std::string(59, 'e');
  const std::string long_name = deep + "/" + std::string(90, 'f') + ".txt";
  REQUIRE(long_name.size() > 100);
  {
    std::ofstream out(archive, std::ios::binary);
    cli::TarWriter tar(out, 1'700'000'000);
    REQUIRE(tar.AddDirectory("top"));
    REQUIRE(tar.AddFile("top/hello.txt", "hello, tar\n"));
    REQUIRE(tar.AddFile("top/empty", ""));
    REQUIRE(tar.AddFile("top/block", std::string(512, 'x')));  // exactly one block, no padding
    REQUIRE(tar.AddDirectory(deep));
    REQUIRE(tar.AddFile(long_name, "deep content"));
    std::FILE* spooled = std::tmpfile();
    REQUIRE(spooled != nullptr);
    const std::string big(70'000, 'z');  // more than the copy buffer
    REQUIRE(std::fwrite(big.data(), 1, big.size(), spooled) == big.size());
    std::rewind(spooled);
    REQUIRE(tar.AddFile("top/spooled", spooled, big.size()));
    std::fclose(spooled);
    REQUIRE(tar.Finish());
    REQUIRE(out);
  }
  CHECK(std::filesystem::file_size(archive) % 512 == 0);

  // -v prints each header's mode, owner, size and time: tar reads every header, and stops at
  // a checksum that does not add up.
  Ran verbose = Shell("tar -tvf " + Quoted(archive));
  INFO(verbose.output);
  REQUIRE(verbose.status == 0);
  CHECK(Contains(verbose.output, "-rw-r--r-- root/root        11 "));
  CHECK(Contains(verbose.output, "drwxr-xr-x root/root"));
  CHECK(Contains(verbose.output, " 70000 "));
  CHECK(TarList(archive) == std::vector<std::string>{"top/", "top/hello.txt", "top/empty",
                                                     "top/block", deep + "/", long_name,
                                                     "top/spooled"});

  TempDir extracted;
  REQUIRE(Shell("tar -xf " + Quoted(archive) + " -C " + Quoted(extracted.path().string())).status ==
          0);
  CHECK(ReadFile(extracted.path() / "top/hello.txt") == "hello, tar\n");
  CHECK(ReadFile(extracted.path() / "top/empty").empty());
  CHECK(ReadFile(extracted.path() / "top/block") == std::string(512, 'x'));
  CHECK(ReadFile(extracted.path() / long_name) == "deep content");
  CHECK(ReadFile(extracted.path() / "top/spooled") == std::string(70'000, 'z'));

  // A header whose checksum is wrong is refused by tar: the check above can fail.
  std::string bytes = ReadFile(archive);
  bytes[0] = 'T';  // "top/" becomes "Top/", the stored checksum no longer matches
  const std::string broken = dir / "broken.tar";
  WriteFile(broken, bytes);
  Ran refused = Shell("tar -tf " + Quoted(broken));
  CHECK(refused.status != 0);
}

TEST_CASE("tar headers: fields, and names that cannot be archived", "[cli][export][tar]") {
  auto header = cli::TarWriter::Header("a/b.txt", '0', 1234, 0);
  REQUIRE(header);
  const std::string block(header->begin(), header->end());
  CHECK(block.substr(0, 8) == std::string("a/b.txt\0", 8));
  CHECK(block.substr(124, 12) == std::string("00000002322\0", 12));  // 1234 in octal
  CHECK(block.substr(257, 8) == std::string("ustar\0" "00", 8));
  CHECK(block[156] == '0');
  // The checksum: the bytes' sum with the field itself as spaces, six octal digits, NUL, space.
  std::string spaced = block;
  std::fill(spaced.begin() + 148, spaced.begin() + 156, ' ');
  unsigned sum = 0;
  for (char c : spaced) sum += static_cast<unsigned char>(c);
  char expected[8];
  std::snprintf(expected, sizeof expected, "%06o", sum);
  CHECK(block.substr(148, 8) == std::string(expected, 6) + std::string("\0 ", 2));

  // No '/' leaves a name of at most 100 bytes: not archivable.
  auto flat = cli::TarWriter::Header(std::string(101, 'n'), '0', 0, 0);
  REQUIRE_FALSE(flat);
  CHECK(flat.error().code == domain::ErrorCode::kInvalidArgument);
  CHECK(Contains(flat.error().message, "too long"));
  // The part after the last usable '/' is longer than 100 bytes.
  CHECK_FALSE(cli::TarWriter::Header("dir/" + std::string(101, 'n'), '0', 0, 0));
  // The part before any usable '/' is longer than 155 bytes.
  CHECK_FALSE(cli::TarWriter::Header(std::string(156, 'p') + "/name", '0', 0, 0));
  CHECK(cli::TarWriter::Header(std::string(155, 'p') + "/name", '0', 0, 0));
  CHECK(cli::TarWriter::Header(std::string(100, 'n'), '0', 0, 0));
  CHECK_FALSE(cli::TarWriter::Header("", '0', 0, 0));
  CHECK_FALSE(cli::TarWriter::Header("/etc/passwd", '0', 0, 0));
  CHECK_FALSE(cli::TarWriter::Header("a/../../b", '0', 0, 0));
  CHECK_FALSE(cli::TarWriter::Header(std::string("a\0b", 3), '0', 0, 0));
  CHECK_FALSE(cli::TarWriter::Header("big", '0', cli::TarWriter::kMaxSize + 1, 0));
  CHECK(cli::TarWriter::Header("big", '0', cli::TarWriter::kMaxSize, 0));

  // A spooled source shorter than announced would make a corrupt archive: refused.
  std::ostringstream out;
  cli::TarWriter tar(out, 0);
  std::FILE* empty = std::tmpfile();
  REQUIRE(empty != nullptr);
  CHECK_FALSE(tar.AddFile("short", empty, 10));
  std::fclose(empty);
}

TEST_CASE("CSV fields are quoted as RFC 4180 says", "[cli][export]") {
  CHECK(socle::adapters::json::CsvField("plain") == "plain");
  CHECK(socle::adapters::json::CsvField("") == "");
  CHECK(socle::adapters::json::CsvField("ünïcødé — ok") == "ünïcødé — ok");
  CHECK(socle::adapters::json::CsvField("a,b") == "\"a,b\"");
  CHECK(socle::adapters::json::CsvField("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(socle::adapters::json::CsvField("two\nlines") == "\"two\nlines\"");
  CHECK(socle::adapters::json::CsvField("cr\rhere") == "\"cr\rhere\"");
}

// The command ----------------------------------------------------------------------------------

domain::Field NewField(std::string name, domain::FieldType type) {
  domain::Field field;
  field.name = std::move(name);
  field.type = type;
  return field;
}

domain::Collection NewCollection(std::string name, std::vector<domain::Field> fields) {
  domain::Collection collection;
  collection.name = std::move(name);
  collection.fields = std::move(fields);
  return collection;
}

// A `socle` process minus the process, wired as apps/socle/main.cpp wires it, with a records
// use case that can hash passwords beside it (to make auth records). Organisation acme with
// projects web and shop; organisation globex with project depot.
class Cli : public socle::testing::AccessCliWorld {
 public:
  Cli() {
    Must({"org", "create", "acme", "--name", "Acme Corp"});
    Must({"project", "create", "web", "--org", "acme"});
    Must({"project", "create", "shop", "--org", "acme"});
    Must({"org", "create", "globex"});
    Must({"project", "create", "depot", "--org", "globex"});
  }

  std::string NewMember(const std::string& email) {
    auto made = sessions_.UpsertMember(email, kPassword, "");
    REQUIRE(made);
    return made->id;
  }
  // `email` joins `org` with `role` through an accepted invitation; returns their member id.
  std::string Join(const std::string& org, const std::string& email, const std::string& role) {
    const std::string id = NewMember(email);
    const JsonValue invitation =
        ParseJson(Must({"member", "invite", org, email, role, "--json"}));
    application::Principal invitee;
    invitee.kind = application::Principal::Kind::kMember;
    invitee.id = id;
    invitee.email = email;
    auto joined = access_.AcceptInvitation(invitee, Str(invitation, "token"), "", "");
    INFO((joined ? std::string() : joined.error().message));
    REQUIRE(joined);
    return id;
  }

  domain::Collection MustCreate(const std::string& project, domain::Collection draft) {
    auto created = collections_.Create(project, std::move(draft), "test");
    INFO((created ? std::string() : created.error().message));
    REQUIRE(created);
    return *created;
  }
  std::string MustInsert(const std::string& project, const std::string& collection,
                         std::vector<JsonValue::Member> body) {
    application::Caller caller;
    caller.superuser = true;
    application::RecordWriteInput input;
    input.body = JsonValue::Object(std::move(body));
    auto created = auth_records_.Create(project, collection, std::move(input), caller);
    INFO((created ? std::string() : created.error().message));
    REQUIRE(created);
    return created->record.record.Id(*created->record.collection);
  }

 private:
  // A records use case that hashes passwords, beside the CLI's own, to make auth records.
  application::ManageRecords auth_records_{directory_, clock_,     random_,
                                           {},         &settings_, {&hasher_, {}}};
};

TEST_CASE("org export parses, and needs an organisation and --out", "[cli][export]") {
  auto command = cli::ParseCommand(Args{"org", "export", "acme", "--out", "acme.tar"});
  REQUIRE(command);
  CHECK(command->verb == cli::Verb::kOrgExport);
  CHECK(command->arguments == Args{"acme"});
  CHECK(command->out_file == "acme.tar");
  CHECK(command->NeedsAccess());
  CHECK(command->NeedsProjectStores());

  auto missing_out = cli::ParseCommand(Args{"org", "export", "acme"});
  REQUIRE_FALSE(missing_out);
  CHECK(missing_out.error().message == "missing --out FILE");
  auto missing_org = cli::ParseCommand(Args{"org", "export", "--out", "x.tar"});
  REQUIRE_FALSE(missing_org);
  CHECK(missing_org.error().message == "missing ORG");
  CHECK_FALSE(cli::ParseCommand(Args{"org", "export", "acme", "extra", "--out", "x.tar"}));

  Cli cli;
  CHECK(cli.Run({"org", "export", "acme"}) == kExitUsage);
  CHECK(cli.out().empty());
  CHECK(Contains(cli.err(), "Usage: socle org export ORG --out FILE"));
  REQUIRE(cli.Run({"help"}) == kExitOk);
  CHECK(Contains(cli.out(), "socle org export ORG --out FILE"));
  REQUIRE(cli.Run({"help", "org", "export"}) == kExitOk);
  CHECK(Contains(cli.out(), "tokenKey"));
}

TEST_CASE("org export refuses an unknown organisation and an --out it cannot write",
          "[cli][export]") {
  Cli cli;
  TempDir dir;
  const std::string file = dir / "ghost.tar";
  CHECK(cli.Run({"org", "export", "ghost", "--out", file}) == kExitError);
  CHECK(cli.err() == "socle: Organisation not found.\n");
  CHECK(cli.out().empty());
  CHECK(std::filesystem::is_empty(dir.path()));  // neither the archive nor its .partial

  CHECK(cli.Run({"org", "export", "acme", "--out", dir / "no/such/dir/acme.tar"}) == kExitError);
  CHECK(cli.err() == "socle: Cannot write " + (dir / "no/such/dir/acme.tar") +
                         ": No such file or directory.\n");
  CHECK(cli.out().empty());

  CHECK(cli.Run({"org", "export", "acme", "--out", dir.path().string()}) == kExitError);
  CHECK(cli.err() == "socle: Cannot write " + dir.path().string() + ": it is a directory.\n");
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("org export writes everything of one organisation, and nothing of another",
          "[cli][export]") {
  Cli cli;
  // Access: an owner, a member in a team, a pending invitation, a custom role granted to the
  // team, a flag, an API key; and in globex, data that must stay out.
  const std::string olga = cli.NewMember("olga@example.com");
  cli.Must({"org", "owner", "acme", "olga@example.com"});
  const std::string ann = cli.Join("acme", "ann@example.com", "viewer");
  const JsonValue pending =
      ParseJson(cli.Must({"member", "invite", "acme", "carl@example.com", "viewer", "--json"}));
  const std::string invitation_token = Str(pending, "token");
  const JsonValue team = ParseJson(cli.Must({"team", "create", "acme", "Ops", "--json"}));
  const std::string team_id = Str(team, "id");
  cli.Must({"team", "add", "acme", team_id, ann});
  cli.Must({"role", "put", "acme", "auditor", "--name", "Auditor", "--scope", "organisation",
            "--parent", "viewer"});
  cli.Must({"policy", "grant", "acme", "auditor", "--team", team_id});
  cli.Must({"flag", "set", "acme", "beta", "true", "--description", "Beta UI"});
  cli.Must({"flag", "set", "platform_wide", "7"});  // global: the platform's, not acme's
  const std::string key_secret = cli.Must({"orgkey", "create", "acme", "ci", "viewer"});
  REQUIRE(key_secret.size() > 10);
  cli.Join("globex", "gus@example.com", "viewer");
  cli.Must({"team", "create", "globex", "GlobexTeam"});

  // Data: web has an auth collection (with a hidden field) and one relating to it; shop has
  // more records than one page holds.
  domain::Field hidden = NewField("secret_note", domain::FieldType::kText);
  hidden.hidden = true;
  domain::Collection users_draft =
      NewCollection("users", {NewField("name", domain::FieldType::kText), hidden});
  users_draft.type = domain::CollectionType::kAuth;
  const domain::Collection users = cli.MustCreate("web", users_draft);
  domain::Field author = NewField("author", domain::FieldType::kRelation);
  author.collection_id = users.id;
  author.max_select = 1;
  domain::Field tags = NewField("tags", domain::FieldType::kSelect);
  tags.values = {"news", "tech"};
  tags.max_select = 2;
  cli.MustCreate("web", NewCollection("posts", {NewField("title", domain::FieldType::kText),
                                                author, tags,
                                                NewField("meta", domain::FieldType::kJson),
                                                NewField("score", domain::FieldType::kNumber)}));
  cli.MustCreate("shop", NewCollection("notes", {NewField("text", domain::FieldType::kText)}));
  cli.MustCreate("depot", NewCollection("crates", {NewField("label", domain::FieldType::kText)}));

  const std::string ada_name = "Ada, \"the\" Countess\nof Lovelace — ünïcødé";
  const std::string ada = cli.MustInsert(
      "web", "users",
      {{"email", JsonValue::String("ada@example.com")},
       {"password", JsonValue::String(std::string(kAdaPassword))},
       {"passwordConfirm", JsonValue::String(std::string(kAdaPassword))},
       {"name", JsonValue::String(ada_name)},
       {"secret_note", JsonValue::String("hidden-value")}});
  cli.MustInsert("web", "posts",
                 {{"title", JsonValue::String("Hello, world")},
                  {"author", JsonValue::String(ada)},
                  {"tags", JsonValue::Array({JsonValue::String("news"),
                                             JsonValue::String("tech")})},
                  {"meta", JsonValue::Object({{"k", JsonValue::Array({JsonValue::Integer(1),
                                                                      JsonValue::Integer(2)})}})},
                  {"score", JsonValue::Integer(42)}});
  constexpr int kNotes = 1003;  // more than one page of 1000
  for (int i = 0; i < kNotes; ++i) {
    cli.MustInsert("shop", "notes", {{"text", JsonValue::String("note " + std::to_string(i))}});
  }
  cli.MustInsert("depot", "crates", {{"label", JsonValue::String("globex-crate")}});

  TempDir dir;
  const std::string archive = dir / "acme.tar";
  REQUIRE(cli.Must({"org", "export", "acme", "--out", archive}).empty());
  CHECK(cli.err() == "Exported organisation acme to " + archive +
                         ": 2 projects, 3 collections, 1005 records (26 archive entries).\n");
  CHECK_FALSE(std::filesystem::exists(archive + ".partial"));

  const std::vector<std::string> listed = TarList(archive);
  std::set<std::string> files;
  for (const auto& name : listed) {
    if (!name.ends_with("/")) files.insert(name);
  }
  CHECK(listed.size() == 26);  // 20 files, 6 directories
  CHECK(listed.front() == "socle-export.json");

  TempDir extracted;
  Ran untar = Shell("tar -xf " + Quoted(archive) + " -C " + Quoted(extracted.path().string()));
  INFO(untar.output);
  REQUIRE(untar.status == 0);
  const auto contents = Contents(extracted.path());
  auto file = [&](const std::string& name) -> const std::string& {
    auto found = contents.find(name);
    INFO(name);
    REQUIRE(found != contents.end());
    return found->second;
  };

  // Nothing secret and nothing of globex, in any file.
  for (const auto& [name, text] : contents) {
    INFO(name);
    CHECK_FALSE(Contains(text, invitation_token));
    CHECK_FALSE(Contains(text, key_secret.substr(0, key_secret.size() - 1)));
    CHECK_FALSE(Contains(text, "$argon2id$"));
    CHECK_FALSE(Contains(text, "tokenKey\":"));
    CHECK_FALSE(Contains(text, "GlobexTeam"));
    CHECK_FALSE(Contains(text, "gus@example.com"));
    CHECK_FALSE(Contains(text, "globex-crate"));
    CHECK_FALSE(Contains(text, "platform_wide"));
  }

  // The metadata lists exactly the archive's files.
  const JsonValue meta = ParseJson(file("socle-export.json"));
  CHECK(meta.Find("version")->AsInt64() == 1);
  CHECK(Str(meta, "format") == "socle-organisation-export");
  CHECK(Str(meta, "socleVersion") == SOCLE_TEST_VERSION);
  CHECK_FALSE(Str(meta, "generated").empty());
  const JsonValue& org = *meta.Find("organisation");
  CHECK(Str(org, "slug") == "acme");
  CHECK(Str(org, "name") == "Acme Corp");
  CHECK(Str(org, "region") == "local");
  CHECK(Str(org, "tier") == "shared");
  CHECK_FALSE(Str(org, "id").empty());
  CHECK(Contains(Str(*meta.Find("records"), "note"), "password hashes"));
  std::set<std::string> meta_files;
  for (const auto& item : meta.Find("files")->items()) meta_files.insert(item.AsString());
  CHECK(meta_files == files);
  CHECK(files.size() == 20);  // 1 + 7 + 2 projects × 3 + 3 collections × 2

  // Members: the owner and the member who joined, not the invitee.
  std::set<std::string> emails;
  // (Each document is held by a variable: a range-for does not keep a temporary alive that
  // ItemsOf's argument would be.)
  const JsonValue members = ParseJson(file("organisation/members.json"));
  for (const auto& member : ItemsOf(members)) {
    emails.insert(Str(member, "email"));
  }
  CHECK(emails == std::set<std::string>{"olga@example.com", "ann@example.com"});
  (void)olga;

  // Invitations: ann's (accepted) and carl's (pending), never a token.
  std::set<std::string> invited;
  const JsonValue invitations = ParseJson(file("organisation/invitations.json"));
  for (const auto& invitation : ItemsOf(invitations)) {
    invited.insert(Str(invitation, "email") + ":" + Str(invitation, "state"));
    CHECK(invitation.Find("token") == nullptr);
  }
  CHECK(invited.contains("carl@example.com:pending"));
  CHECK(invited.size() == 2);

  const JsonValue teams_document = ParseJson(file("organisation/teams.json"));
  const auto& teams = ItemsOf(teams_document);
  REQUIRE(teams.size() == 1);
  CHECK(Str(teams[0], "name") == "Ops");
  const JsonValue* team_members = teams[0].Find("members");
  REQUIRE(team_members != nullptr);
  REQUIRE(team_members->items().size() == 1);
  CHECK(Str(team_members->items()[0], "memberId") == ann);

  const JsonValue roles_document = ParseJson(file("organisation/roles.json"));
  const auto& roles = ItemsOf(roles_document);
  REQUIRE(roles.size() == 1);  // the custom role only, not the built-in ones
  CHECK(Str(roles[0], "id") == "auditor");
  CHECK_FALSE(roles[0].Find("builtin")->AsBool());

  bool team_policy = false;
  const JsonValue policies = ParseJson(file("organisation/policies.json"));
  for (const auto& policy : ItemsOf(policies)) {
    if (Str(policy, "role") == "auditor") {
      team_policy = Str(*policy.Find("subject"), "kind") == "team" &&
                    Str(*policy.Find("subject"), "id") == team_id;
    }
  }
  CHECK(team_policy);

  const JsonValue flags_document = ParseJson(file("organisation/flags.json"));
  const auto& flags = ItemsOf(flags_document);
  REQUIRE(flags.size() == 1);
  CHECK(Str(flags[0], "key") == "beta");
  CHECK(Str(flags[0], "level") == "organisation");

  const JsonValue keys_document = ParseJson(file("organisation/apikeys.json"));
  const auto& keys = ItemsOf(keys_document);
  REQUIRE(keys.size() == 1);
  CHECK(Str(keys[0], "name") == "ci");
  CHECK(keys[0].Find("key") == nullptr);
  CHECK_FALSE(Str(keys[0], "prefix").empty());

  // Projects.
  CHECK(Str(ParseJson(file("projects/web/project.json")), "slug") == "web");
  const JsonValue web_collections = ParseJson(file("projects/web/collections.json"));
  REQUIRE(web_collections.type() == JsonValue::Type::kArray);
  std::set<std::string> names;
  for (const auto& collection : web_collections.items()) names.insert(Str(collection, "name"));
  CHECK(names == std::set<std::string>{"users", "posts"});
  CHECK(ParseJson(file("projects/shop/settings.json")).Find("meta") != nullptr);

  // Records, JSON lines: every stored value, hidden fields too; no password hash, no tokenKey.
  const auto user_lines = SplitLines(file("projects/web/records/users.jsonl"));
  REQUIRE(user_lines.size() == 1);
  const JsonValue user = ParseJson(user_lines[0]);
  CHECK(Str(user, "id") == ada);
  CHECK(Str(user, "email") == "ada@example.com");
  CHECK(Str(user, "name") == ada_name);
  CHECK(Str(user, "secret_note") == "hidden-value");
  CHECK(user.Find("password") == nullptr);
  CHECK(user.Find("tokenKey") == nullptr);

  const JsonValue post = ParseJson(SplitLines(file("projects/web/records/posts.jsonl")).at(0));
  CHECK(Str(post, "author") == ada);
  CHECK(post.Find("score")->AsInt64() == 42);

  const auto note_lines = SplitLines(file("projects/shop/records/notes.jsonl"));
  REQUIRE(note_lines.size() == kNotes);
  std::set<std::string> note_ids;
  std::string previous;
  for (const auto& line : note_lines) {
    const std::string id = Str(ParseJson(line), "id");
    CHECK(id > previous);  // sorted by id, none twice across the page boundary
    previous = id;
    note_ids.insert(id);
  }
  CHECK(note_ids.size() == static_cast<std::size_t>(kNotes));

  // Records, CSV: a header of field names, quoting, CRLF line ends.
  const std::string& users_csv = file("projects/web/records/users.csv");
  const std::string users_header = users_csv.substr(0, users_csv.find("\r\n"));
  CHECK(Contains(users_header, "id,"));
  CHECK(Contains(users_header, ",email,"));
  CHECK(Contains(users_header, ",name,secret_note"));
  CHECK_FALSE(Contains(users_header, "password"));
  CHECK_FALSE(Contains(users_header, "tokenKey"));
  CHECK(Contains(users_csv,
                 ",\"Ada, \"\"the\"\" Countess\nof Lovelace — ünïcødé\",hidden-value,"));
  CHECK(users_csv.ends_with("\r\n"));

  const std::string& posts_csv = file("projects/web/records/posts.csv");
  CHECK(posts_csv.starts_with("id,title,author,tags,meta,score"));
  CHECK(Contains(posts_csv, ",\"Hello, world\"," + ada +
                                ",\"[\"\"news\"\",\"\"tech\"\"]\",\"{\"\"k\"\":[1,2]}\",42,"));
  CHECK(posts_csv.ends_with("\r\n"));
  // Every line ends with CRLF: no bare LF outside a quoted field here.
  CHECK(std::count(posts_csv.begin(), posts_csv.end(), '\n') ==
        std::count(posts_csv.begin(), posts_csv.end(), '\r'));

  const std::string& notes_csv = file("projects/shop/records/notes.csv");
  CHECK(std::count(notes_csv.begin(), notes_csv.end(), '\n') == kNotes + 1);
}

TEST_CASE("org export - writes the archive to stdout", "[cli][export]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "export", "globex", "--out", "-"}) == kExitOk);
  const std::string archive = cli.out();
  CHECK(archive.size() % 512 == 0);
  TempDir dir;
  WriteFile(dir / "globex.tar", archive);
  const auto listed = TarList(dir / "globex.tar");
  CHECK(std::find(listed.begin(), listed.end(), "projects/depot/settings.json") != listed.end());
  CHECK(std::find(listed.begin(), listed.end(), "organisation/members.json") != listed.end());
}

}  // namespace
