#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace socle::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::runtime_error SystemError(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

// The test's environment minus SOCLE_* (and their _FILE forms), plus `extra`.
std::vector<std::string> ChildEnvironment(const EnvVars& extra) {
  std::vector<std::string> out;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view var(*entry);
    if (var.starts_with("SOCLE_")) continue;
    std::string_view name = var.substr(0, var.find('='));
    if (extra.contains(std::string(name))) continue;
    out.emplace_back(var);
  }
  for (const auto& [name, value] : extra) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Owns a pipe's two ends until they are handed over or closed.
struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw SystemError("pipe2");
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
  void CloseWrite() {
    ::close(write);
    write = -1;
  }
};

// Spawns `program` with stdin from /dev/null and stdout/stderr on the given descriptors.
pid_t Spawn(const std::string& program, const std::vector<std::string>& args, const EnvVars& env,
            int out_fd, int err_fd) {
  std::vector<std::string> argv_strings{program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = ChildEnvironment(env);
  auto argv = Pointers(argv_strings);
  auto envp = Pointers(env_strings);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  // A child in its own process group can be signalled without touching the test runner.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    errno = rc;
    throw SystemError("posix_spawn " + program);
  }
  return pid;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// waitpid without blocking past `deadline`: polls, since there is no waitpid with a timeout.
std::optional<int> WaitUntil(pid_t pid, Clock::time_point deadline) {
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return DecodeStatus(status);
    if (done < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

ProcessResult RunProcess(const std::string& program, const std::vector<std::string>& args,
                         const EnvVars& env, std::chrono::milliseconds timeout) {
  Pipe out;
  Pipe err;
  pid_t pid = Spawn(program, args, env, out.write, err.write);
  out.CloseWrite();
  err.CloseWrite();

  const auto deadline = Clock::now() + timeout;
  ProcessResult result;
  std::string* sinks[2] = {&result.out, &result.err};
  pollfd fds[2] = {{out.read, POLLIN, 0}, {err.read, POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      KillAndReap(pid);
      throw std::runtime_error(program + " did not finish in time; stderr so far: " + result.err);
    }
    int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      KillAndReap(pid);
      throw SystemError("poll");
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char chunk[4096];
      ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
      if (n > 0) {
        sinks[i]->append(chunk, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open_fds;
      }
    }
  }
  auto code = WaitUntil(pid, deadline);
  if (!code) {
    KillAndReap(pid);
    throw std::runtime_error(program + " closed its output but did not exit in time");
  }
  result.exit_code = *code;
  return result;
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const EnvVars& env, const std::string& stderr_file) {
  Pipe out;
  int err_fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (err_fd < 0) throw SystemError("open " + stderr_file);
  try {
    pid_ = Spawn(program, args, env, out.write, err_fd);
  } catch (...) {
    ::close(err_fd);
    throw;
  }
  ::close(err_fd);
  out.CloseWrite();
  int fd = out.read;
  out.read = -1;  // the reader thread owns it now
  reader_ = std::thread([this, fd] { ReadOutput(fd); });
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    if (!Terminate(std::chrono::seconds(10))) {
      // Terminate killed and reaped it already.
    }
  }
  if (reader_.joinable()) reader_.join();
}

void ChildProcess::ReadOutput(int fd) {
  char chunk[4096];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(mutex_);
    if (n <= 0) {
      eof_ = true;
      changed_.notify_all();
      break;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
  ::close(fd);
}

std::optional<std::string> ChildProcess::ReadLine(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  bool ready = changed_.wait_for(lock, timeout,
                                 [&] { return buffer_.find('\n') != std::string::npos || eof_; });
  auto newline = buffer_.find('\n');
  if (!ready || newline == std::string::npos) return std::nullopt;
  std::string line = buffer_.substr(0, newline);
  buffer_.erase(0, newline + 1);
  return line;
}

std::optional<int> ChildProcess::WaitFor(std::chrono::milliseconds timeout) {
  auto code = WaitUntil(pid_, Clock::now() + timeout);
  if (code) reaped_ = true;
  return code;
}

std::optional<int> ChildProcess::Terminate(std::chrono::milliseconds timeout) {
  if (reaped_) return std::nullopt;
  ::kill(pid_, SIGTERM);
  auto code = WaitFor(timeout);
  if (!code) {
    KillAndReap(pid_);
    reaped_ = true;
  }
  return code;
}

}  // namespace socle::testing
