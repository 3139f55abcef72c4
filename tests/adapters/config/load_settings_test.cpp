#include "socle/adapters/config/load_settings.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "scratch_dir.hpp"

namespace {

using socle::adapters::config::DescribeSettings;
using socle::adapters::config::LoadSettings;
using socle::adapters::config::Settings;
using socle::adapters::config::SettingsHelp;
using socle::domain::ErrorCode;
using socle::testing::FakeEnvironment;
using socle::testing::ScratchDir;

using Args = std::vector<std::string>;
using Env = std::map<std::string, std::string>;

auto Load(const Args& args, const Env& env = {}) {
  return LoadSettings(args, FakeEnvironment(env));
}

// The field names of a failed load, for checks that the right setting is blamed.
std::vector<std::string> Fields(const socle::domain::Error& error) {
  std::vector<std::string> out;
  for (const auto& f : error.fields) out.push_back(f.field);
  return out;
}

bool Mentions(const socle::domain::Error& error, std::string_view text) {
  return error.message.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("no flags, no environment and no file give the defaults", "[config]") {
  ScratchDir dir;
  auto loaded = Load({});
  REQUIRE(loaded);
  const Settings& s = loaded->settings;
  Settings defaults;
  CHECK(s.http_address == "127.0.0.1");
  CHECK(s.http_port == 8090);
  CHECK(s.data_dir == defaults.data_dir);
  CHECK(s.database_url.empty());
  CHECK(s.public_url.empty());
  CHECK(s.database_pool_size == defaults.database_pool_size);
  CHECK(s.max_body_bytes == defaults.max_body_bytes);
  CHECK(s.log_level == "info");
  CHECK(s.config_file.empty());
  CHECK(loaded->rest.empty());
}

TEST_CASE("flags take a value after a space or after '='", "[config]") {
  ScratchDir dir;
  auto loaded = Load({"--data-dir", "/srv/a", "--http=0.0.0.0:0", "--database-pool-size=3",
                      "--log-level", "debug"});
  REQUIRE(loaded);
  CHECK(loaded->settings.data_dir == "/srv/a");
  CHECK(loaded->settings.http_address == "0.0.0.0");
  CHECK(loaded->settings.http_port == 0);
  CHECK(loaded->settings.database_pool_size == 3);
  CHECK(loaded->settings.log_level == "debug");
}

TEST_CASE("unknown flags, positionals and everything after -- are left in order", "[config]") {
  ScratchDir dir;
  auto loaded = Load({"org", "create", "--data-dir", "d", "acme", "--name", "Acme", "--json",
                      "--region=eu", "--", "--data-dir", "x"});
  REQUIRE(loaded);
  CHECK(loaded->settings.data_dir == "d");
  CHECK(loaded->rest == Args{"org", "create", "acme", "--name", "Acme", "--json", "--region=eu",
                             "--", "--data-dir", "x"});
}

TEST_CASE("a flag repeated takes its last value", "[config]") {
  ScratchDir dir;
  auto loaded = Load({"--data-dir", "a", "--data-dir=b"});
  REQUIRE(loaded);
  CHECK(loaded->settings.data_dir == "b");
}

TEST_CASE("a settings flag at the end without its value is an error naming it", "[config]") {
  ScratchDir dir;
  auto loaded = Load({"org", "list", "--database-url"});
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().code == ErrorCode::kInvalidArgument);
  CHECK(Fields(loaded.error()) == std::vector<std::string>{"--database-url"});
  CHECK(Mentions(loaded.error(), "--database-url needs a value"));
}

TEST_CASE("precedence is flags over environment over file over defaults", "[config]") {
  ScratchDir dir;
  dir.Write("socle.toml",
            "data_dir = \"from-file\"\n"
            "[database]\npool_size = 2\ntimeout_ms = 100\n"
            "[log]\nlevel = \"warn\"\n");
  Env env{{"SOCLE_DATA_DIR", "from-env"}, {"SOCLE_DATABASE_POOL_SIZE", "4"}};

  auto file_only = Load({});
  REQUIRE(file_only);
  CHECK(file_only->settings.data_dir == "from-file");
  CHECK(file_only->settings.database_pool_size == 2);
  CHECK(file_only->settings.config_file == "socle.toml");

  auto with_env = Load({}, env);
  REQUIRE(with_env);
  CHECK(with_env->settings.data_dir == "from-env");
  CHECK(with_env->settings.database_pool_size == 4);
  CHECK(with_env->settings.database_timeout_ms == 100);  // only the file sets it
  CHECK(with_env->settings.log_level == "warn");

  auto with_flag = Load({"--data-dir", "from-flag"}, env);
  REQUIRE(with_flag);
  CHECK(with_flag->settings.data_dir == "from-flag");
  CHECK(with_flag->settings.database_pool_size == 4);
  CHECK(with_flag->settings.http_port == 8090);  // nobody sets it: the default
}

TEST_CASE("the config file is chosen by --config, then SOCLE_CONFIG, then ./socle.toml",
          "[config]") {
  ScratchDir dir;
  dir.Write("socle.toml", "data_dir = \"default-file\"\n");
  auto env_file = dir.Write("env.toml", "data_dir = \"env-file\"\n");
  auto flag_file = dir.Write("flag.toml", "data_dir = \"flag-file\"\n");

  auto by_flag = Load({"--config", flag_file}, {{"SOCLE_CONFIG", env_file}});
  REQUIRE(by_flag);
  CHECK(by_flag->settings.data_dir == "flag-file");
  CHECK(by_flag->settings.config_file == flag_file);

  auto by_env = Load({}, {{"SOCLE_CONFIG", env_file}});
  REQUIRE(by_env);
  CHECK(by_env->settings.data_dir == "env-file");
  CHECK(by_env->settings.config_file == env_file);
}

TEST_CASE("a config file named explicitly must exist", "[config]") {
  ScratchDir dir;
  auto loaded = Load({"--config=missing.toml"});
  REQUIRE_FALSE(loaded);
  CHECK(Fields(loaded.error()) == std::vector<std::string>{"config"});
  CHECK(Mentions(loaded.error(), "missing.toml"));
}

TEST_CASE("every key of the config file is read", "[config]") {
  ScratchDir dir;
  auto file = dir.Write("all.toml", R"(
data_dir = "/var/lib/socle"
[database]
url = "postgres://socle:pw@db:5432/socle"
pool_size = 16
timeout_ms = 2500
[http]
address = "[::1]:9000"
public_url = "https://socle.example.org/"
threads = 2
reads = "worker"
workers = 12
max_body_bytes = "2MiB"
max_header_bytes = 8192
read_timeout_ms = 1000
idle_timeout_ms = 2000
shutdown_timeout_ms = 0
max_connections = 50
[log]
level = "error"
format = "text"
)");
  auto loaded = Load({"--config", file});
  REQUIRE(loaded);
  const Settings& s = loaded->settings;
  CHECK(s.data_dir == "/var/lib/socle");
  CHECK(s.database_url == "postgres://socle:pw@db:5432/socle");
  CHECK(s.database_pool_size == 16);
  CHECK(s.database_timeout_ms == 2500);
  CHECK(s.http_address == "::1");
  CHECK(s.http_port == 9000);
  CHECK(s.public_url == "https://socle.example.org");
  CHECK(s.http_threads == 2);
  CHECK(s.http_reads == "worker");
  CHECK(s.worker_threads == 12);
  CHECK(s.max_body_bytes == 2u << 20);
  CHECK(s.max_header_bytes == 8192);
  CHECK(s.read_timeout_ms == 1000);
  CHECK(s.idle_timeout_ms == 2000);
  CHECK(s.shutdown_timeout_ms == 0);
  CHECK(s.max_connections == 50);
  CHECK(s.log_level == "error");
  CHECK(s.log_format == "text");
}

TEST_CASE("unknown keys in the config file are errors naming every one of them", "[config]") {
  ScratchDir dir;
  dir.Write("socle.toml",
            "data_dir = \"d\"\ndatadir = \"x\"\n[http]\nadress = \"x\"\n[smtp]\nhost = \"h\"\n");
  auto loaded = Load({});
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().code == ErrorCode::kInvalidArgument);
  auto fields = Fields(loaded.error());
  std::sort(fields.begin(), fields.end());
  CHECK(fields == std::vector<std::string>{"datadir", "http.adress", "smtp"});
  CHECK(Mentions(loaded.error(), "socle.toml:2: unknown key datadir"));
  CHECK(Mentions(loaded.error(), "unknown key http.adress"));
}

TEST_CASE("config file values of the wrong type are errors", "[config]") {
  ScratchDir dir;
  SECTION("a number where text is expected") {
    dir.Write("socle.toml", "data_dir = 5\n");
    auto loaded = Load({});
    REQUIRE_FALSE(loaded);
    CHECK(Fields(loaded.error()) == std::vector<std::string>{"data_dir"});
    CHECK(Mentions(loaded.error(), "must be a string"));
  }
  SECTION("a float where an integer is expected") {
    dir.Write("socle.toml", "[database]\npool_size = 1.5\n");
    auto loaded = Load({});
    REQUIRE_FALSE(loaded);
    CHECK(Fields(loaded.error()) == std::vector<std::string>{"database.pool_size"});
    CHECK(Mentions(loaded.error(), "must be an integer"));
  }
  SECTION("a value where a table is expected") {
    dir.Write("socle.toml", "http = \"127.0.0.1:1\"\n");
    auto loaded = Load({});
    REQUIRE_FALSE(loaded);
    CHECK(Fields(loaded.error()) == std::vector<std::string>{"http"});
    CHECK(Mentions(loaded.error(), "must be a table"));
  }
  SECTION("a negative integer") {
    dir.Write("socle.toml", "[http]\nthreads = -1\n");
    auto loaded = Load({});
    REQUIRE_FALSE(loaded);
    CHECK(Fields(loaded.error()) == std::vector<std::string>{"http.threads"});
  }
}

TEST_CASE("a config file that is not TOML is an error with its position", "[config]") {
  ScratchDir dir;
  dir.Write("socle.toml", "data_dir = \"d\"\n[http\n");
  auto loaded = Load({});
  REQUIRE_FALSE(loaded);
  CHECK(Fields(loaded.error()) == std::vector<std::string>{"config"});
  CHECK(Mentions(loaded.error(), "socle.toml:2:"));
}

TEST_CASE("malformed values are invalid_argument naming the field", "[config]") {
  ScratchDir dir;
  struct Case {
    Args args;
    Env env;
    std::string field;
    std::string says;
  };
  std::vector<Case> cases{
      {{"--http", "127.0.0.1:70000"}, {}, "--http", "port must be a number from 0 to 65535"},
      {{"--http", "127.0.0.1"}, {}, "--http", "must be ADDR:PORT"},
      {{"--http", ":8090"}, {}, "--http", "must be ADDR:PORT"},
      {{"--http", "::1:8090"}, {}, "--http", "in brackets"},
      {{"--http", "127.0.0.1:80a"}, {}, "--http", "port"},
      {{}, {{"SOCLE_HTTP", "localhost:-1"}}, "SOCLE_HTTP", "port"},
      {{}, {{"SOCLE_HTTP_MAX_BODY_BYTES", "big"}}, "SOCLE_HTTP_MAX_BODY_BYTES", "must be a size"},
      {{}, {{"SOCLE_HTTP_MAX_BODY_BYTES", "1MB"}}, "SOCLE_HTTP_MAX_BODY_BYTES", "KiB, MiB or GiB"},
      {{}, {{"SOCLE_HTTP_MAX_BODY_BYTES", "2GiB"}}, "SOCLE_HTTP_MAX_BODY_BYTES", "to 1GiB"},
      {{"--http-max-header-bytes=12"}, {}, "--http-max-header-bytes", "from 1KiB to 1MiB"},
      {{"--database-pool-size", "1025"}, {}, "--database-pool-size", "from 0 to 1024"},
      {{"--database-pool-size", " 8"}, {}, "--database-pool-size", "whole number"},
      {{"--database-timeout-ms", "99999999999999999999999"},
       {},
       "--database-timeout-ms",
       "whole number"},
      {{"--http-threads", "+2"}, {}, "--http-threads", "whole number"},
      {{"--http-threads", "257"}, {}, "--http-threads", "from 0 to 256"},
      {{"--http-reads", "inline"}, {}, "--http-reads", "auto, loop, point, worker"},
      {{}, {{"SOCLE_HTTP_READS", "Loop"}}, "SOCLE_HTTP_READS", "auto, loop, point, worker"},
      {{"--log-level", "verbose"}, {}, "--log-level", "debug, info, warn, error"},
      {{}, {{"SOCLE_LOG_FORMAT", "xml"}}, "SOCLE_LOG_FORMAT", "json or text"},
      {{"--data-dir="}, {}, "--data-dir", "must not be empty"},
      {{"--database-url", "mysql://u:hunter2@h/db"}, {}, "--database-url", "must start with"},
      {{"--public-url", "socle.example.org"}, {}, "--public-url", "absolute http:// or https://"},
      {{}, {{"SOCLE_PUBLIC_URL", "ftp://socle.example.org"}}, "SOCLE_PUBLIC_URL", "https://"},
  };
  for (const auto& c : cases) {
    INFO(c.field << " " << (c.args.empty() ? c.env.begin()->second : c.args.back()));
    auto loaded = Load(c.args, c.env);
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == ErrorCode::kInvalidArgument);
    CHECK(Fields(loaded.error()) == std::vector<std::string>{c.field});
    CHECK(Mentions(loaded.error(), c.field + ": "));
    CHECK(Mentions(loaded.error(), c.says));
  }
}

TEST_CASE("a rejected value is echoed, except a secret one", "[config]") {
  ScratchDir dir;
  auto port = Load({"--http", "127.0.0.1:70000"});
  REQUIRE_FALSE(port);
  CHECK(Mentions(port.error(), "(got \"127.0.0.1:70000\")"));

  auto url = Load({}, {{"SOCLE_DATABASE_URL", "mysql://root:hunter2@db/x"}});
  REQUIRE_FALSE(url);
  CHECK_FALSE(Mentions(url.error(), "hunter2"));
  for (const auto& f : url.error().fields) CHECK(f.message.find("hunter2") == std::string::npos);
}

TEST_CASE("sizes accept bytes and binary units", "[config]") {
  ScratchDir dir;
  auto loaded = Load({"--http-max-body-bytes", "512KiB", "--http-max-header-bytes=1MiB"});
  REQUIRE(loaded);
  CHECK(loaded->settings.max_body_bytes == 512u * 1024);
  CHECK(loaded->settings.max_header_bytes == 1u << 20);
  auto plain = Load({"--http-max-body-bytes", "1234"});
  REQUIRE(plain);
  CHECK(plain->settings.max_body_bytes == 1234);
}

TEST_CASE("listen addresses may be IPv4, names or bracketed IPv6", "[config]") {
  ScratchDir dir;
  auto v6 = Load({"--http", "[::]:0"});
  REQUIRE(v6);
  CHECK(v6->settings.http_address == "::");
  CHECK(v6->settings.http_port == 0);
  auto name = Load({}, {{"SOCLE_HTTP", "localhost:65535"}});
  REQUIRE(name);
  CHECK(name->settings.http_address == "localhost");
  CHECK(name->settings.http_port == 65535);
}

TEST_CASE("every problem is reported at once", "[config]") {
  ScratchDir dir;
  auto loaded = Load({"--log-level=loud"}, {{"SOCLE_HTTP", "x"}, {"SOCLE_HTTP_THREADS", "999"}});
  REQUIRE_FALSE(loaded);
  auto fields = Fields(loaded.error());
  std::sort(fields.begin(), fields.end());
  CHECK(fields == std::vector<std::string>{"--log-level", "SOCLE_HTTP", "SOCLE_HTTP_THREADS"});
  CHECK(std::count(loaded.error().message.begin(), loaded.error().message.end(), '\n') == 2);
}

TEST_CASE("a bad value is an error even where a higher source overrides it", "[config]") {
  ScratchDir dir;
  auto loaded = Load({"--http", "127.0.0.1:1"}, {{"SOCLE_HTTP", "127.0.0.1:99999"}});
  REQUIRE_FALSE(loaded);
  CHECK(Fields(loaded.error()) == std::vector<std::string>{"SOCLE_HTTP"});
}

TEST_CASE("an empty environment variable counts as unset", "[config]") {
  ScratchDir dir;
  auto loaded =
      Load({}, {{"SOCLE_DATA_DIR", ""}, {"SOCLE_HTTP_THREADS", ""}, {"SOCLE_CONFIG", ""}});
  REQUIRE(loaded);
  CHECK(loaded->settings.data_dir == Settings{}.data_dir);
}

TEST_CASE("NAME_FILE gives a variable's value from a file, minus one trailing newline",
          "[config]") {
  ScratchDir dir;
  SECTION("a secret") {
    auto secret = dir.Write("url", "postgres://socle:s3cret@db/socle\n");
    auto loaded = Load({}, {{"SOCLE_DATABASE_URL_FILE", secret}});
    REQUIRE(loaded);
    CHECK(loaded->settings.database_url == "postgres://socle:s3cret@db/socle");
  }
  SECTION("the master key and the SMTP URL, secrets both") {
    auto key = dir.Write("key", "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE=\n");
    auto loaded = Load({"--smtp-url", "smtps://mailer:pw@mail.example.com"},
                       {{"SOCLE_MASTER_KEY_FILE", key}});
    REQUIRE(loaded);
    CHECK(loaded->settings.master_key == "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE=");
    CHECK(loaded->settings.smtp_url == "smtps://mailer:pw@mail.example.com");
  }
  SECTION("only one newline goes, CRLF counting as one") {
    auto file = dir.Write("dir", "/data\r\n\n");
    auto loaded = Load({}, {{"SOCLE_DATA_DIR_FILE", file}});
    REQUIRE(loaded);
    CHECK(loaded->settings.data_dir == "/data\r\n");
  }
  SECTION("no trailing newline") {
    auto file = dir.Write("level", "warn");
    auto loaded = Load({}, {{"SOCLE_LOG_LEVEL_FILE", file}});
    REQUIRE(loaded);
    CHECK(loaded->settings.log_level == "warn");
  }
  SECTION("a flag still wins over it") {
    auto file = dir.Write("dir", "/from-file\n");
    auto loaded = Load({"--data-dir", "/from-flag"}, {{"SOCLE_DATA_DIR_FILE", file}});
    REQUIRE(loaded);
    CHECK(loaded->settings.data_dir == "/from-flag");
  }
  SECTION("a bad value read from the file names NAME_FILE") {
    auto file = dir.Write("threads", "many\n");
    auto loaded = Load({}, {{"SOCLE_HTTP_THREADS_FILE", file}});
    REQUIRE_FALSE(loaded);
    CHECK(Fields(loaded.error()) == std::vector<std::string>{"SOCLE_HTTP_THREADS_FILE"});
  }
  SECTION("the config file's path can come from a file too") {
    auto config = dir.Write("c.toml", "data_dir = \"via-config-file\"\n");
    auto pointer = dir.Write("config-path", config + "\n");
    auto loaded = Load({}, {{"SOCLE_CONFIG_FILE", pointer}});
    REQUIRE(loaded);
    CHECK(loaded->settings.data_dir == "via-config-file");
  }
}

TEST_CASE("NAME and NAME_FILE together are an error", "[config]") {
  ScratchDir dir;
  auto file = dir.Write("url", "memory://\n");
  auto loaded = Load({}, {{"SOCLE_DATABASE_URL", "memory://"}, {"SOCLE_DATABASE_URL_FILE", file}});
  REQUIRE_FALSE(loaded);
  CHECK(Fields(loaded.error()) == std::vector<std::string>{"SOCLE_DATABASE_URL"});
  CHECK(Mentions(loaded.error(), "SOCLE_DATABASE_URL_FILE"));
}

TEST_CASE("an unreadable NAME_FILE is an error naming it", "[config]") {
  ScratchDir dir;
  auto loaded = Load({}, {{"SOCLE_DATABASE_URL_FILE", (dir.path() / "nope").string()}});
  REQUIRE_FALSE(loaded);
  CHECK(Fields(loaded.error()) == std::vector<std::string>{"SOCLE_DATABASE_URL_FILE"});
  CHECK(Mentions(loaded.error(), "nope"));

  auto directory = Load({}, {{"SOCLE_DATA_DIR_FILE", dir.path().string()}});
  REQUIRE_FALSE(directory);
  CHECK(Mentions(directory.error(), "not a regular file"));
}

TEST_CASE("the settings table has one unique spelling per setting", "[config]") {
  std::set<std::string_view> flags, envs, keys;
  for (const auto& s : DescribeSettings()) {
    CHECK(s.flag.starts_with("--"));
    CHECK(s.env.starts_with("SOCLE_"));
    CHECK_FALSE(s.help.empty());
    CHECK(flags.insert(s.flag).second);
    CHECK(envs.insert(s.env).second);
    if (!s.toml_key.empty()) CHECK(keys.insert(s.toml_key).second);
  }
  CHECK(flags.size() == 24);
}

TEST_CASE("the documented defaults read back as the defaults", "[config]") {
  // Feeding every default through its own environment variable must change nothing: the help
  // text and .env.example show what the code really uses.
  ScratchDir dir;
  Env env;
  for (const auto& s : DescribeSettings()) env[std::string(s.env)] = s.default_value;
  auto loaded = Load({}, env);
  REQUIRE(loaded);
  const Settings& s = loaded->settings;
  Settings d;
  CHECK(s.http_address == d.http_address);
  CHECK(s.http_port == d.http_port);
  CHECK(s.public_url == d.public_url);
  CHECK(s.data_dir == d.data_dir);
  CHECK(s.deletion_grace_days == d.deletion_grace_days);
  CHECK(s.database_url == d.database_url);
  CHECK(s.database_pool_size == d.database_pool_size);
  CHECK(s.database_timeout_ms == d.database_timeout_ms);
  CHECK(s.http_threads == d.http_threads);
  CHECK(s.http_reads == d.http_reads);
  CHECK(s.worker_threads == d.worker_threads);
  CHECK(s.max_body_bytes == d.max_body_bytes);
  CHECK(s.max_header_bytes == d.max_header_bytes);
  CHECK(s.read_timeout_ms == d.read_timeout_ms);
  CHECK(s.idle_timeout_ms == d.idle_timeout_ms);
  CHECK(s.shutdown_timeout_ms == d.shutdown_timeout_ms);
  CHECK(s.max_connections == d.max_connections);
  CHECK(s.log_level == d.log_level);
  CHECK(s.log_format == d.log_format);
}

TEST_CASE("automatic sizing follows the store and the cores, and leaves set values alone",
          "[config]") {
  using socle::adapters::config::NetworkedStore;
  using socle::adapters::config::ResolveAuto;
  Settings embedded;
  Settings postgres;
  postgres.database_url = "postgres://socle@db/socle";
  Settings postgresql;
  postgresql.database_url = "postgresql://socle@db/socle";
  Settings sqlite;
  sqlite.database_url = "sqlite:///var/lib/socle/catalogue.db";
  Settings memory;
  memory.database_url = "memory://";
  CHECK_FALSE(NetworkedStore(embedded));
  CHECK_FALSE(NetworkedStore(sqlite));
  CHECK_FALSE(NetworkedStore(memory));
  CHECK(NetworkedStore(postgres));
  CHECK(NetworkedStore(postgresql));

  // Embedded: every read on the loops, one loop per core, a connection per worker and loop.
  for (const Settings& local : {embedded, sqlite, memory}) {
    const Settings r = ResolveAuto(local, 4);
    CHECK(r.http_reads == "loop");
    CHECK(r.http_threads == 4);
    CHECK(r.database_pool_size == local.worker_threads + 4);
  }
  // PostgreSQL: point reads on the loops, two loops per core.
  for (const Settings& networked : {postgres, postgresql}) {
    const Settings r = ResolveAuto(networked, 2);
    CHECK(r.http_reads == "point");
    CHECK(r.http_threads == 4);
    CHECK(r.database_pool_size == networked.worker_threads + 4);
  }
  // Reads on the workers: the loops hold no connection and need no second loop per core.
  Settings workers = postgres;
  workers.http_reads = "worker";
  const Settings w = ResolveAuto(workers, 2);
  CHECK(w.http_reads == "worker");
  CHECK(w.http_threads == 2);
  CHECK(w.database_pool_size == workers.worker_threads);
  // No core count known (hardware_concurrency() may answer 0): one.
  CHECK(ResolveAuto(embedded, 0).http_threads == 1);
  // Values set by the operator stay as they are.
  Settings set = postgres;
  set.http_reads = "loop";
  set.http_threads = 3;
  set.database_pool_size = 5;
  set.worker_threads = 6;
  const Settings kept = ResolveAuto(set, 8);
  CHECK(kept.http_reads == "loop");
  CHECK(kept.http_threads == 3);
  CHECK(kept.database_pool_size == 5);
  CHECK(kept.worker_threads == 6);
  // Set loops decide the pool: 6 workers + 3 loops.
  set.database_pool_size = 0;
  CHECK(ResolveAuto(set, 8).database_pool_size == 9);
}

TEST_CASE("a pool smaller than the threads that may hold a connection is reported",
          "[config]") {
  using socle::adapters::config::PoolShortfall;
  using socle::adapters::config::ResolveAuto;
  Settings postgres;
  postgres.database_url = "postgres://socle@db/socle";
  CHECK(PoolShortfall(ResolveAuto(postgres, 2)) == 0);  // automatic: never short
  Settings set = postgres;
  set.worker_threads = 16;
  set.database_pool_size = 16;
  // 16 workers and 4 reading loops (two per core) for 16 connections.
  CHECK(PoolShortfall(ResolveAuto(set, 2)) == 4);
  set.http_reads = "worker";  // the loops hold none
  CHECK(PoolShortfall(ResolveAuto(set, 2)) == 0);
  set.database_pool_size = 10;
  CHECK(PoolShortfall(ResolveAuto(set, 2)) == 6);
  set.database_pool_size = 30;
  CHECK(PoolShortfall(ResolveAuto(set, 2)) == 0);
}

TEST_CASE("the help has one line per setting with its variable and default", "[config]") {
  auto help = SettingsHelp();
  auto settings = DescribeSettings();
  CHECK(static_cast<std::size_t>(std::count(help.begin(), help.end(), '\n')) == settings.size());
  for (const auto& s : settings) {
    CHECK(help.find(std::string(s.flag) + " " + std::string(s.value_name)) != std::string::npos);
    CHECK(help.find(std::string(s.env)) != std::string::npos);
  }
  CHECK(help.find("default 127.0.0.1:8090") != std::string::npos);
  CHECK(help.find("default 1MiB") != std::string::npos);
}

TEST_CASE("the public URL is an absolute http(s) URL, kept without its trailing slash",
          "[config]") {
  ScratchDir dir;
  struct Good {
    std::string given;
    std::string kept;
  };
  const std::vector<Good> good{
      {"https://socle.example.org", "https://socle.example.org"},
      {"https://socle.example.org/", "https://socle.example.org"},
      {"http://127.0.0.1:8090", "http://127.0.0.1:8090"},
      {"HTTPS://Socle.Example.org:8443/", "https://Socle.Example.org:8443"},
      {"https://example.org/socle/", "https://example.org/socle"},
      {"https://example.org/tenants//", "https://example.org/tenants"},
      {"https://example.org/a%20b", "https://example.org/a%20b"},
      {"http://[::1]:8090", "http://[::1]:8090"},
      {"http://[2001:db8::7]/", "http://[2001:db8::7]"},
  };
  for (const auto& c : good) {
    INFO(c.given);
    auto loaded = Load({"--public-url", c.given});
    REQUIRE(loaded);
    CHECK(loaded->settings.public_url == c.kept);
  }
  auto from_env = Load({}, {{"SOCLE_PUBLIC_URL", "https://env.example.org/"}});
  REQUIRE(from_env);
  CHECK(from_env->settings.public_url == "https://env.example.org");
  dir.Write("socle.toml", "[http]\npublic_url = \"https://file.example.org\"\n");
  auto from_file = Load({});
  REQUIRE(from_file);
  CHECK(from_file->settings.public_url == "https://file.example.org");

  struct Bad {
    std::string given;
    std::string says;
  };
  const std::vector<Bad> bad{
      {"socle.example.org", "absolute http:// or https:// URL"},
      {"/_/invitations", "absolute http:// or https:// URL"},
      {"ftp://socle.example.org", "absolute http:// or https:// URL"},
      {"javascript://socle.example.org", "absolute http:// or https:// URL"},
      {"https://", "must name a host"},
      {"https:///path", "must name a host"},
      {"https://socle.example.org?x=1", "must not have a query"},
      {"https://socle.example.org/?x=1", "must not have a query"},
      {"https://socle.example.org/#top", "must not have a fragment"},
      {"https://admin:pw@socle.example.org", "user name or password"},
      {"https://socle.example.org:0", "port must be a number from 1 to 65535"},
      {"https://socle.example.org:65536", "port must be a number from 1 to 65535"},
      {"https://socle.example.org:", "port must be a number from 1 to 65535"},
      {"https://socle.example.org:80a", "port must be a number from 1 to 65535"},
      {"https://socle example.org", "must name a host"},
      {"https://-socle.example.org", "must name a host"},
      {"https://socle.example.org/a b", "cannot hold"},
      {"https://socle.example.org/%zz", "cannot hold"},
      {"https://socle.example.org/50%", "cannot hold"},
      {"https://socle.example.org/<script>", "cannot hold"},
      {"http://[::1", "unclosed"},
      {"http://[]:8090", "IPv6 address"},
      {"http://[::1]8090", "after its bracketed host"},
  };
  for (const auto& c : bad) {
    INFO(c.given);
    auto loaded = Load({"--public-url=" + c.given});
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == ErrorCode::kInvalidArgument);
    CHECK(Fields(loaded.error()) == std::vector<std::string>{"--public-url"});
    CHECK(Mentions(loaded.error(), c.says));
  }
}

TEST_CASE("the deletion grace period is read from every source, in days from 0 to 3650",
          "[config]") {
  ScratchDir dir;
  auto defaults = Load({});
  REQUIRE(defaults);
  CHECK(defaults->settings.deletion_grace_days == 30);

  dir.Write("socle.toml", "data_dir = \"d\"\n[data]\ndeletion_grace_days = 7\n");
  auto from_file = Load({});
  REQUIRE(from_file);
  CHECK(from_file->settings.deletion_grace_days == 7);
  auto from_env = Load({}, {{"SOCLE_DELETION_GRACE_DAYS", "0"}});
  REQUIRE(from_env);
  CHECK(from_env->settings.deletion_grace_days == 0);  // purge at once
  auto from_flag = Load({"--deletion-grace-days", "3650"}, {{"SOCLE_DELETION_GRACE_DAYS", "1"}});
  REQUIRE(from_flag);
  CHECK(from_flag->settings.deletion_grace_days == 3650);

  for (const char* bad : {"3651", "-1", "30d", " 7", "1e3"}) {
    INFO(bad);
    auto refused = Load({std::string("--deletion-grace-days=") + bad});
    REQUIRE_FALSE(refused);
    CHECK(Fields(refused.error()) == std::vector<std::string>{"--deletion-grace-days"});
    CHECK(Mentions(refused.error(), "from 0 to 3650"));
  }
}

TEST_CASE("the audit checkpoint interval is read from every source, in minutes from 0 to 1440",
          "[config]") {
  ScratchDir dir;
  auto defaults = Load({});
  REQUIRE(defaults);
  CHECK(defaults->settings.audit_checkpoint_minutes == 10);

  dir.Write("socle.toml", "[audit]\ncheckpoint_minutes = 60\n");
  auto from_file = Load({});
  REQUIRE(from_file);
  CHECK(from_file->settings.audit_checkpoint_minutes == 60);
  auto from_env = Load({}, {{"SOCLE_AUDIT_CHECKPOINT_MINUTES", "0"}});
  REQUIRE(from_env);
  CHECK(from_env->settings.audit_checkpoint_minutes == 0);  // left to the CLI
  auto from_flag =
      Load({"--audit-checkpoint-minutes", "1440"}, {{"SOCLE_AUDIT_CHECKPOINT_MINUTES", "5"}});
  REQUIRE(from_flag);
  CHECK(from_flag->settings.audit_checkpoint_minutes == 1440);

  for (const char* bad : {"1441", "-1", "10m", ""}) {
    INFO(bad);
    auto refused = Load({std::string("--audit-checkpoint-minutes=") + bad});
    REQUIRE_FALSE(refused);
    CHECK(Fields(refused.error()) == std::vector<std::string>{"--audit-checkpoint-minutes"});
  }
}

TEST_CASE("the audit retention is read from every source, in months from 0 to 1200",
          "[config]") {
  ScratchDir dir;
  auto defaults = Load({});
  REQUIRE(defaults);
  CHECK(defaults->settings.audit_retention_months == 0);  // kept forever unless asked

  dir.Write("socle.toml", "[audit]\nretention_months = 24\n");
  auto from_file = Load({});
  REQUIRE(from_file);
  CHECK(from_file->settings.audit_retention_months == 24);
  auto from_env = Load({}, {{"SOCLE_AUDIT_RETENTION_MONTHS", "6"}});
  REQUIRE(from_env);
  CHECK(from_env->settings.audit_retention_months == 6);
  auto from_flag =
      Load({"--audit-retention-months", "1200"}, {{"SOCLE_AUDIT_RETENTION_MONTHS", "5"}});
  REQUIRE(from_flag);
  CHECK(from_flag->settings.audit_retention_months == 1200);

  for (const char* bad : {"1201", "-1", "12mo", ""}) {
    INFO(bad);
    auto refused = Load({std::string("--audit-retention-months=") + bad});
    REQUIRE_FALSE(refused);
    CHECK(Fields(refused.error()) == std::vector<std::string>{"--audit-retention-months"});
  }
}
