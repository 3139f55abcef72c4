// Runs the real socle-server binary: start-up line, requests as a superuser and as a member
// (made with the real `socle` CLI on the same data directory, signed in over the API, as the
// platform API accepts no anonymous caller), graceful stop on SIGTERM, flags, and the links the
// server prints and mails (the setup link, invitations) following --public-url.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http_test_client.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using socle::testing::TempDir;

// A socle-server (or, given `binary`, socle) process, started in `cwd` (so no stray socle.toml
// is read) with its stdout on a pipe and its stderr (the logs) in `cwd`/`log_name`.
class ServerProcess {
 public:
  ServerProcess(std::vector<std::string> args, const fs::path& cwd,
                std::string binary = SOCLE_SERVER_BINARY, std::string log_name = "server.log") {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    const std::string log_path = (cwd / log_name).string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (log >= 0) ::dup2(log, STDERR_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      // Settings must come from the flags only, whatever the test runner's environment holds.
      for (const char* name :
           {"SOCLE_HTTP", "SOCLE_DATA_DIR", "SOCLE_DATABASE_URL", "SOCLE_CONFIG",
            "SOCLE_LOG_LEVEL", "SOCLE_LOG_FORMAT", "SOCLE_PUBLIC_URL", "SOCLE_SMTP_URL"}) {
        ::unsetenv(name);
      }
      std::vector<char*> argv;
      argv.push_back(binary.data());
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_fd_ = out[0];
  }

  ~ServerProcess() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
  }

  /// Reads stdout until a full line arrives or `wait` passes; nullopt on timeout or EOF.
  std::optional<std::string> ReadLine(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      const auto newline = buffered_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffered_.substr(0, newline);
        buffered_.erase(0, newline + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd poll_fd{stdout_fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char chunk[512];
      const auto n = ::read(stdout_fd_, chunk, sizeof(chunk));
      if (n <= 0) return std::nullopt;
      buffered_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  /// Everything left on stdout until the process closes it.
  std::string ReadRest() {
    std::string out = buffered_;
    char chunk[512];
    while (true) {
      const auto n = ::read(stdout_fd_, chunk, sizeof(chunk));
      if (n <= 0) break;
      out.append(chunk, static_cast<std::size_t>(n));
    }
    return out;
  }

  void Signal(int signal_number) { ::kill(pid_, signal_number); }

  /// The exit code, waiting up to `wait`; nullopt if still running or killed by a signal.
  std::optional<int> WaitForExit(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
  std::optional<int> exit_code_;
};

std::uint16_t PortFromListeningLine(const std::string& line) {
  static const std::regex kLine(R"(^socle-server listening on http://127\.0\.0\.1:(\d+)$)");
  std::smatch match;
  REQUIRE(std::regex_match(line, match, kLine));
  return static_cast<std::uint16_t>(std::stoi(match[1].str()));
}

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kRootEmail = "root@example.com";
constexpr std::string_view kRootPassword = "granite-lantern-orbit-58";
constexpr std::string_view kMemberPassword = "meadow-sparrow-copper-31";

// `socle ARGS --data-dir DATA` run to completion in `cwd`; its exit code (stderr in cli.log).
int RunCli(std::vector<std::string> args, const std::string& data, const fs::path& cwd) {
  args.insert(args.end(), {"--data-dir", data});
  ServerProcess cli(std::move(args), cwd, SOCLE_CLI_BINARY, "cli.log");
  const auto code = cli.WaitForExit(60s);
  std::ifstream log(cwd / "cli.log");
  INFO("socle stderr: " << std::string(std::istreambuf_iterator<char>(log), {}));
  REQUIRE(code.has_value());
  return *code;
}

// The string member `key` of a flat JSON answer (tokens, ids: no escapes in them).
std::string JsonText(const std::string& body, const std::string& key) {
  const std::regex member("\"" + key + "\":\"([^\"\\\\]*)\"");
  std::smatch match;
  INFO(body);
  REQUIRE(std::regex_search(body, match, member));
  return match[1].str();
}

Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::string Credentials(std::string_view email, std::string_view password) {
  return R"({"email":")" + std::string(email) + R"(","password":")" + std::string(password) +
         R"("})";
}

// A superuser's platform token, signed in over the API (POST /api/v1/auth/superusers/login).
std::string SuperuserToken(std::uint16_t port, std::string_view email = kRootEmail,
                           std::string_view password = kRootPassword) {
  auto reply = socle::testing::Fetch(port, "POST", "/api/v1/auth/superusers/login",
                                     Credentials(email, password));
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  return JsonText(reply.body, "token");
}

// A member's access token (POST /api/v1/auth/login).
std::string MemberToken(std::uint16_t port, std::string_view email,
                        std::string_view password = kMemberPassword) {
  auto reply =
      socle::testing::Fetch(port, "POST", "/api/v1/auth/login", Credentials(email, password));
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  return JsonText(reply.body, "accessToken");
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A message body as written, quoted-printable undone (soft line breaks and =XX escapes).
std::string DecodeQuotedPrintable(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
    } else if (text.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;
    } else if (i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The messages the server's file mailer wrote under `data`/mail within `wait` (it sends from
// a queue, so a message arrives shortly after the request that caused it).
std::vector<std::string> MailWithin(const fs::path& data, std::size_t count,
                                    std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::vector<std::string> messages;
  while (true) {
    messages.clear();
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(data / "mail", ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".eml") {
        messages.push_back(DecodeQuotedPrintable(ReadFile(entry.path())));
      }
    }
    if (messages.size() >= count || std::chrono::steady_clock::now() >= deadline) {
      return messages;
    }
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace

TEST_CASE("socle-server starts, serves, and exits 0 on SIGTERM", "[apps][server]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  // The first superuser, made with the CLI on the data directory the server will use.
  REQUIRE(RunCli({"superuser", "upsert", std::string(kRootEmail), std::string(kRootPassword)},
                 data.string(), dir.path()) == 0);
  ServerProcess server({"--http", "127.0.0.1:0", "--data-dir", data.string()}, dir.path());
  auto line = server.ReadLine(30s);
  REQUIRE(line.has_value());
  const std::uint16_t port = PortFromListeningLine(*line);
  REQUIRE(port != 0);

  auto health = socle::testing::Fetch(port, "GET", "/api/health");
  CHECK(health.status == 200);
  CHECK(health.body == R"({"code":200,"message":"API is healthy.","data":{}})");
  // The platform API answers signed-in callers only.
  CHECK(socle::testing::Fetch(port, "GET", "/api/v1/orgs").status == 401);
  CHECK(socle::testing::Fetch(port, "POST", "/api/v1/orgs", R"({"slug":"acme"})").status == 401);
  CHECK(socle::testing::Fetch(port, "GET", "/api/v1/orgs", {}, Bearer("not-a-token")).status ==
        401);
  const std::string root = SuperuserToken(port);
  auto created =
      socle::testing::Fetch(port, "POST", "/api/v1/orgs", R"({"slug":"acme"})", Bearer(root));
  CHECK(created.status == 201);
  CHECK(socle::testing::Fetch(port, "GET", "/api/v1/orgs/acme", {}, Bearer(root)).status == 200);
  CHECK(socle::testing::Fetch(port, "GET", "/ready").status == 200);
  // The invitation page is served as a page.
  auto page = socle::testing::Fetch(port, "GET", "/_/invitations?token=inv_x");
  CHECK(page.status == 200);
  CHECK(page.Header("content-type") == "text/html; charset=utf-8");
  CHECK(page.Header("referrer-policy") == "no-referrer");

  // A second server on the same port cannot start: exit 1 with a message.
  {
    ServerProcess clash({"--http", "127.0.0.1:" + std::to_string(port), "--data-dir",
                         data.string()},
                        dir.path(), SOCLE_SERVER_BINARY, "clash.log");
    CHECK(clash.WaitForExit(30s) == 1);
  }

  server.Signal(SIGTERM);
  CHECK(server.WaitForExit(30s) == 0);
  CHECK(server.ReadRest().empty());  // exactly one line on stdout
  CHECK(fs::exists(data));
  // A superuser existed: no setup link was printed.
  CHECK(ReadFile(dir.path() / "server.log").find("/_/setup?token=") == std::string::npos);
}

TEST_CASE("socle-server keeps its data across restarts", "[apps][server]") {
  TempDir dir;
  const auto data = (dir.path() / "data").string();
  REQUIRE(RunCli({"superuser", "upsert", std::string(kRootEmail), std::string(kRootPassword)},
                 data, dir.path()) == 0);
  for (int run = 0; run < 2; ++run) {
    ServerProcess server({"--http", "127.0.0.1:0", "--data-dir", data}, dir.path());
    auto line = server.ReadLine(30s);
    REQUIRE(line.has_value());
    const auto port = PortFromListeningLine(*line);
    const std::string root = SuperuserToken(port);
    if (run == 0) {
      REQUIRE(socle::testing::Fetch(port, "POST", "/api/v1/orgs", R"({"slug":"kept"})",
                                    Bearer(root))
                  .status == 201);
    } else {
      CHECK(socle::testing::Fetch(port, "GET", "/api/v1/orgs/kept", {}, Bearer(root)).status ==
            200);
    }
    server.Signal(SIGINT);
    CHECK(server.WaitForExit(30s) == 0);
  }
}

TEST_CASE("members made with the CLI sign in and see only their own organisations",
          "[apps][server]") {
  TempDir dir;
  const auto data = (dir.path() / "data").string();
  REQUIRE(RunCli({"member", "upsert", "ada@example.com", std::string(kMemberPassword), "--name",
                  "Ada"},
                 data, dir.path()) == 0);
  REQUIRE(RunCli({"member", "upsert", "bob@example.com", std::string(kMemberPassword)}, data,
                 dir.path()) == 0);
  ServerProcess server({"--http", "127.0.0.1:0", "--data-dir", data}, dir.path());
  auto line = server.ReadLine(30s);
  REQUIRE(line.has_value());
  const auto port = PortFromListeningLine(*line);

  CHECK(socle::testing::Fetch(port, "GET", "/api/v1/orgs").status == 401);
  // A wrong password signs nobody in.
  CHECK(socle::testing::Fetch(port, "POST", "/api/v1/auth/login",
                              Credentials("ada@example.com", "not-her-password"))
            .status != 200);

  const std::string ada = MemberToken(port, "ada@example.com");
  auto created = socle::testing::Fetch(port, "POST", "/api/v1/orgs",
                                       R"({"slug":"ada-labs","name":"Ada Labs"})", Bearer(ada));
  INFO(created.body);
  REQUIRE(created.status == 201);
  auto listed = socle::testing::Fetch(port, "GET", "/api/v1/orgs", {}, Bearer(ada));
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find("\"slug\":\"ada-labs\"") != std::string::npos);
  auto got = socle::testing::Fetch(port, "GET", "/api/v1/orgs/ada-labs", {}, Bearer(ada));
  CHECK(got.status == 200);
  CHECK(JsonText(got.body, "name") == "Ada Labs");

  // Another member has no standing in it: it does not exist for them.
  const std::string bob = MemberToken(port, "bob@example.com");
  CHECK(socle::testing::Fetch(port, "GET", "/api/v1/orgs/ada-labs", {}, Bearer(bob)).status ==
        404);
  auto bobs = socle::testing::Fetch(port, "GET", "/api/v1/orgs", {}, Bearer(bob));
  REQUIRE(bobs.status == 200);
  CHECK(bobs.body.find("ada-labs") == std::string::npos);

  server.Signal(SIGTERM);
  CHECK(server.WaitForExit(30s) == 0);
}

TEST_CASE("socle-server links follow --public-url: the setup link and mailed invitations",
          "[apps][server]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  // No superuser yet: the setup link is printed, on the public URL (trailing slash dropped).
  ServerProcess server({"--http", "127.0.0.1:0", "--data-dir", data.string(), "--public-url",
                        "https://socle.example.org/base/"},
                       dir.path());
  auto line = server.ReadLine(30s);
  REQUIRE(line.has_value());
  const auto port = PortFromListeningLine(*line);  // stdout still names the bound address

  std::smatch match;
  std::string log;
  const std::regex setup_link(
      R"(https://socle\.example\.org/base/_/setup\?token=([0-9a-f]{64}))");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (true) {
    log = ReadFile(dir.path() / "server.log");
    if (std::regex_search(log, match, setup_link) ||
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  INFO(log);
  REQUIRE(!match.empty());
  const std::string setup_token = match[1].str();

  // The link's token creates the first superuser on the server itself.
  auto wrong = socle::testing::Fetch(
      port, "POST", "/_/setup",
      R"({"token":"0000","email":"root@example.com","password":")" + std::string(kRootPassword) +
          R"("})");
  CHECK(wrong.status == 403);
  auto setup = socle::testing::Fetch(
      port, "POST", "/_/setup",
      R"({"token":")" + setup_token + R"(","email":")" + std::string(kRootEmail) +
          R"(","password":")" + std::string(kRootPassword) + R"("})");
  INFO(setup.body);
  REQUIRE(setup.status == 200);
  const std::string root = SuperuserToken(port);

  // An invitation is mailed (to files, with no SMTP URL) with a link on the public URL.
  REQUIRE(socle::testing::Fetch(port, "POST", "/api/v1/orgs", R"({"slug":"acme"})", Bearer(root))
              .status == 201);
  auto invited = socle::testing::Fetch(port, "POST", "/api/v1/orgs/acme/invitations",
                                       R"({"email":"guest@example.com","role":"developer"})",
                                       Bearer(root));
  INFO(invited.body);
  REQUIRE(invited.status == 201);
  const std::string invitation = JsonText(invited.body, "token");
  const auto mail = MailWithin(data, 1, 10s);
  REQUIRE(mail.size() == 1);
  CHECK(mail[0].find("https://socle.example.org/base/_/invitations?token=" + invitation) !=
        std::string::npos);
  CHECK(mail[0].find("127.0.0.1") == std::string::npos);
  CHECK(mail[0].find("To: guest@example.com") != std::string::npos);
  // Sent from the public URL's domain.
  CHECK(mail[0].find("no-reply@socle.example.org") != std::string::npos);

  server.Signal(SIGTERM);
  CHECK(server.WaitForExit(30s) == 0);
}

TEST_CASE("a public URL on an IP address gets invitation mail from a local sender",
          "[apps][server]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  REQUIRE(RunCli({"superuser", "upsert", std::string(kRootEmail), std::string(kRootPassword)},
                 data.string(), dir.path()) == 0);
  ServerProcess server({"--http", "127.0.0.1:0", "--data-dir", data.string(), "--public-url",
                        "http://192.0.2.7:8443"},
                       dir.path());
  auto line = server.ReadLine(30s);
  REQUIRE(line.has_value());
  const auto port = PortFromListeningLine(*line);
  const std::string root = SuperuserToken(port);
  REQUIRE(socle::testing::Fetch(port, "POST", "/api/v1/orgs", R"({"slug":"acme"})", Bearer(root))
              .status == 201);
  auto invited = socle::testing::Fetch(port, "POST", "/api/v1/orgs/acme/invitations",
                                       R"({"email":"guest@example.com","role":"developer"})",
                                       Bearer(root));
  REQUIRE(invited.status == 201);
  const auto mail = MailWithin(data, 1, 10s);
  INFO(ReadFile(dir.path() / "server.log"));
  REQUIRE(mail.size() == 1);
  CHECK(mail[0].find("http://192.0.2.7:8443/_/invitations?token=" +
                     JsonText(invited.body, "token")) != std::string::npos);
  // No domain to send from: a local one that mail adapters accept (bare "localhost" is not).
  CHECK(mail[0].find("no-reply@socle.localhost") != std::string::npos);
  server.Signal(SIGTERM);
  CHECK(server.WaitForExit(30s) == 0);
}

TEST_CASE("without --public-url, links use the listening address when it is a concrete one",
          "[apps][server]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  // Port 0: no address to put in a mailed link, so invitations are not mailed; the printed
  // setup link names the port actually bound.
  ServerProcess server({"--http", "127.0.0.1:0", "--data-dir", data.string()}, dir.path());
  auto line = server.ReadLine(30s);
  REQUIRE(line.has_value());
  const auto port = PortFromListeningLine(*line);
  const std::regex setup_link("http://127\\.0\\.0\\.1:" + std::to_string(port) +
                              "/_/setup\\?token=[0-9a-f]{64}");
  std::string log;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!std::regex_search(log = ReadFile(dir.path() / "server.log"), setup_link) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  INFO(log);
  CHECK(std::regex_search(log, setup_link));
  CHECK(log.find("invitations are not mailed") != std::string::npos);

  REQUIRE(RunCli({"superuser", "upsert", std::string(kRootEmail), std::string(kRootPassword)},
                 data.string(), dir.path()) == 0);
  const std::string root = SuperuserToken(port);
  REQUIRE(socle::testing::Fetch(port, "POST", "/api/v1/orgs", R"({"slug":"acme"})", Bearer(root))
              .status == 201);
  REQUIRE(socle::testing::Fetch(port, "POST", "/api/v1/orgs/acme/invitations",
                                R"({"email":"guest@example.com","role":"developer"})",
                                Bearer(root))
              .status == 201);
  server.Signal(SIGTERM);
  CHECK(server.WaitForExit(30s) == 0);  // the mail queue is drained on the way out
  CHECK(MailWithin(data, 1, 0ms).empty());
}

TEST_CASE("socle-server --version and --help exit 0", "[apps][server]") {
  TempDir dir;
  {
    ServerProcess version({"--version"}, dir.path());
    CHECK(version.WaitForExit(10s) == 0);
    CHECK(version.ReadRest() == std::string("socle-server ") + SOCLE_EXPECTED_VERSION + "\n");
  }
  {
    ServerProcess help({"--help"}, dir.path());
    CHECK(help.WaitForExit(10s) == 0);
    const std::string text = help.ReadRest();
    CHECK(text.starts_with("Usage: socle-server"));
    CHECK(text.find("--http") != std::string::npos);
    CHECK(text.find("--data-dir") != std::string::npos);
  }
}

TEST_CASE("socle-server refuses bad flags with exit 2 and a bad address with exit 1",
          "[apps][server]") {
  TempDir dir;
  {
    ServerProcess unknown({"--no-such-flag"}, dir.path());
    CHECK(unknown.WaitForExit(10s) == 2);
    CHECK(unknown.ReadRest().empty());
  }
  {
    ServerProcess positional({"serve"}, dir.path());
    CHECK(positional.WaitForExit(10s) == 2);
  }
  {
    ServerProcess malformed({"--http", "nonsense"}, dir.path());
    CHECK(malformed.WaitForExit(10s) == 2);
  }
  for (const char* url : {"socle.example.org", "https://socle.example.org/?next=1",
                          "ftp://socle.example.org", "https://user:pw@socle.example.org"}) {
    INFO(url);
    ServerProcess bad_url({"--public-url", url, "--data-dir", (dir.path() / "data").string()},
                          dir.path());
    CHECK(bad_url.WaitForExit(10s) == 2);
    CHECK(ReadFile(dir.path() / "server.log").find("--public-url") != std::string::npos);
  }
  {
    ServerProcess unusable({"--http", "256.1.2.3:0", "--data-dir",
                            (dir.path() / "data").string()},
                           dir.path());
    CHECK(unusable.WaitForExit(30s) == 1);
  }
}
