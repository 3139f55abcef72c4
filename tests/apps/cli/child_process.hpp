#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace socle::testing {

/// Variables to set in a child's environment, on top of the test's own minus every SOCLE_*
/// variable (so that a developer's shell settings cannot change what a test sees).
using EnvVars = std::map<std::string, std::string>;

/// What a finished process left behind.
struct ProcessResult {
  int exit_code = -1;  ///< The exit status, or 128 + signal when a signal ended it.
  std::string out;
  std::string err;
};

/// Runs `program` with `args` to completion, capturing stdout and stderr. Kills it and throws
/// std::runtime_error when it is not done within `timeout`: a test never waits unboundedly.
ProcessResult RunProcess(const std::string& program, const std::vector<std::string>& args,
                         const EnvVars& env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// A long-running child (a server): stdout is read line by line on a thread of its own (so
/// the child never blocks on a full pipe), stderr goes to a file. The destructor stops it
/// (SIGTERM, then SIGKILL after a grace period) and reaps it, whatever the test did.
class ChildProcess final {
 public:
  /// Starts the child; throws std::runtime_error when it cannot be spawned.
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const EnvVars& env,
               const std::string& stderr_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// The next whole line of stdout, without its newline; nullopt at the deadline or when the
  /// child closed stdout first.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);

  /// Sends SIGTERM and waits up to `timeout` for the exit; returns the exit code (as in
  /// ProcessResult), or nullopt when it did not exit in time (it is then killed and reaped).
  std::optional<int> Terminate(std::chrono::milliseconds timeout);

  pid_t pid() const noexcept { return pid_; }

 private:
  void ReadOutput(int fd);
  std::optional<int> WaitFor(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  bool reaped_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string buffer_;
  bool eof_ = false;
  std::thread reader_;
};

}  // namespace socle::testing
