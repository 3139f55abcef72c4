// Runs the real socle-server binary: start-up line, a request, graceful stop on SIGTERM, flags.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "http_test_client.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using socle::testing::TempDir;

// The socle-server process, started in `cwd` (so no stray socle.toml is read) with its stdout
// on a pipe and its stderr (the logs) in a file.
class ServerProcess {
 public:
  ServerProcess(std::vector<std::string> args, const fs::path& cwd) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    const std::string log_path = (cwd / "server.log").string();
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
      for (const char* name : {"SOCLE_HTTP", "SOCLE_DATA_DIR", "SOCLE_DATABASE_URL",
                               "SOCLE_CONFIG", "SOCLE_LOG_LEVEL", "SOCLE_LOG_FORMAT"}) {
        ::unsetenv(name);
      }
      std::vector<char*> argv;
      std::string binary = SOCLE_SERVER_BINARY;
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

}  // namespace

TEST_CASE("socle-server starts, serves, and exits 0 on SIGTERM", "[apps][server]") {
  TempDir dir;
  const auto data = dir.path() / "data";
  ServerProcess server({"--http", "127.0.0.1:0", "--data-dir", data.string()}, dir.path());
  auto line = server.ReadLine(30s);
  REQUIRE(line.has_value());
  const std::uint16_t port = PortFromListeningLine(*line);
  REQUIRE(port != 0);

  auto health = socle::testing::Fetch(port, "GET", "/api/health");
  CHECK(health.status == 200);
  CHECK(health.body == R"({"code":200,"message":"API is healthy.","data":{}})");
  auto created = socle::testing::Fetch(port, "POST", "/api/v1/orgs", R"({"slug":"acme"})");
  CHECK(created.status == 201);
  CHECK(socle::testing::Fetch(port, "GET", "/api/v1/orgs/acme").status == 200);
  CHECK(socle::testing::Fetch(port, "GET", "/ready").status == 200);

  // A second server on the same port cannot start: exit 1 with a message.
  {
    ServerProcess clash({"--http", "127.0.0.1:" + std::to_string(port), "--data-dir",
                         data.string()},
                        dir.path());
    CHECK(clash.WaitForExit(30s) == 1);
  }

  server.Signal(SIGTERM);
  CHECK(server.WaitForExit(30s) == 0);
  CHECK(server.ReadRest().empty());  // exactly one line on stdout
  CHECK(fs::exists(data));
}

TEST_CASE("socle-server keeps its data across restarts", "[apps][server]") {
  TempDir dir;
  const auto data = (dir.path() / "data").string();
  for (int run = 0; run < 2; ++run) {
    ServerProcess server({"--http", "127.0.0.1:0", "--data-dir", data}, dir.path());
    auto line = server.ReadLine(30s);
    REQUIRE(line.has_value());
    const auto port = PortFromListeningLine(*line);
    if (run == 0) {
      REQUIRE(socle::testing::Fetch(port, "POST", "/api/v1/orgs", R"({"slug":"kept"})").status ==
              201);
    } else {
      CHECK(socle::testing::Fetch(port, "GET", "/api/v1/orgs/kept").status == 200);
    }
    server.Signal(SIGINT);
    CHECK(server.WaitForExit(30s) == 0);
  }
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
  {
    ServerProcess unusable({"--http", "256.1.2.3:0", "--data-dir",
                            (dir.path() / "data").string()},
                           dir.path());
    CHECK(unusable.WaitForExit(30s) == 1);
  }
}
