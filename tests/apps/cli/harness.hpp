#pragma once

#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "support/temp_dir.hpp"

namespace socle::testing {

/// Runs the `socle` binary under test.
ProcessResult Socle(const std::vector<std::string>& args, const EnvVars& env = {});

/// One HTTP exchange, made with curl (a Socle build dependency) so that the test does not
/// depend on the server's own client code.
struct HttpReply {
  int status = 0;
  std::string body;
};
HttpReply Http(const std::string& method, const std::string& url,
               const std::string& json_body = "");

/// A `socle-server` running on 127.0.0.1 on a free port, stopped and reaped on destruction.
class RunningServer final {
 public:
  /// Starts it with `args` (after --http 127.0.0.1:0) and `env`, and waits (bounded) for its
  /// "socle-server listening on http://ADDR:PORT" line; throws when it does not come.
  RunningServer(const std::vector<std::string>& args, const EnvVars& env, const TempDir& logs);
  /// "http://127.0.0.1:PORT"
  const std::string& base_url() const noexcept { return base_url_; }
  /// SIGTERM; the exit code, or nullopt when it had to be killed.
  std::optional<int> Stop();
  /// What the server wrote on stderr so far, for failure messages.
  std::string Log() const;

 private:
  std::string log_file_;
  std::unique_ptr<ChildProcess> process_;
  std::string base_url_;
};

}  // namespace socle::testing

namespace socle::testing {

/// JSON checks on a whole document (parsed with simdjson, independent of Socle's own JSON
/// code). Each throws std::runtime_error when `json` does not parse or lacks the member.
std::string JsonString(const std::string& json, const char* key);
std::int64_t JsonInt(const std::string& json, const char* key);
/// The `key` member of every element of the "items" array of a page document.
std::vector<std::string> JsonItems(const std::string& json, const char* key);
/// The string at a JSON Pointer (RFC 6901), e.g. "/items/0/expand/author/name".
std::string JsonStringAt(const std::string& json, const char* pointer);
/// The boolean at a JSON Pointer, e.g. "/items/0/allowed".
bool JsonBoolAt(const std::string& json, const char* pointer);
/// Whether the document has a value at the JSON Pointer.
bool JsonHas(const std::string& json, const char* pointer);

}  // namespace socle::testing
