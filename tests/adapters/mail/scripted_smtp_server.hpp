#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace socle::testing {

/// A fake SMTP server that plays a fixed script on one connection, for the server behaviours
/// that a real one cannot be made to show (no EHLO, odd replies, bytes injected after
/// STARTTLS). Listens on 127.0.0.1 and a free port; runs on a thread of its own with bounded
/// waits, so that a client that misbehaves makes the test fail, never hang.
class ScriptedSmtpServer final {
 public:
  struct Step {
    /// The start of the command line expected from the client ("EHLO "); empty for the
    /// greeting, which is sent at once.
    std::string expect;
    /// Sent as is in answer (CRLF included), in one write.
    std::string reply;
    /// After this step's reply, read message data up to the "." line, then go on.
    bool then_data = false;
  };

  explicit ScriptedSmtpServer(std::vector<Step> script);
  /// Waits (bounded) for the script's thread and closes everything.
  ~ScriptedSmtpServer();
  ScriptedSmtpServer(const ScriptedSmtpServer&) = delete;
  ScriptedSmtpServer& operator=(const ScriptedSmtpServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// The command lines received so far (data lines excluded), without CRLF.
  std::vector<std::string> received();
  /// What went wrong in the script (an unexpected command, a timeout), or "".
  std::string failure();

 private:
  void Play(std::vector<Step> script);

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  std::vector<std::string> received_;
  std::string failure_;
  std::thread thread_;
};

}  // namespace socle::testing
