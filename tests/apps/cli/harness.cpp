#include "harness.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace socle::testing {

ProcessResult Socle(const std::vector<std::string>& args, const EnvVars& env) {
  return RunProcess(SOCLE_BIN, args, env, std::chrono::seconds(60));
}

HttpReply Http(const std::string& method, const std::string& url, const std::string& json_body) {
  // The status goes on a line of its own after the body, where no JSON body can fake it.
  std::vector<std::string> args{"--silent", "--show-error", "--max-time",     "20", "--request",
                                method,     "--write-out",  "\n%{http_code}", url};
  if (!json_body.empty()) {
    args.insert(args.end(),
                {"--header", "Content-Type: application/json", "--data-binary", json_body});
  }
  auto result = RunProcess(SOCLE_CURL, args, {}, std::chrono::seconds(30));
  if (result.exit_code != 0) {
    throw std::runtime_error("curl " + method + " " + url + " failed: " + result.err);
  }
  auto newline = result.out.rfind('\n');
  HttpReply reply;
  reply.status = std::stoi(result.out.substr(newline + 1));
  reply.body = result.out.substr(0, newline);
  return reply;
}

RunningServer::RunningServer(const std::vector<std::string>& args, const EnvVars& env,
                             const TempDir& logs)
    : log_file_(logs / "socle-server.log") {
  std::vector<std::string> all{"--http", "127.0.0.1:0"};
  all.insert(all.end(), args.begin(), args.end());
  process_ = std::make_unique<ChildProcess>(SOCLE_SERVER_BIN, all, env, log_file_);
  constexpr std::string_view kPrefix = "socle-server listening on ";
  // Other lines may come first (a banner, logs on stdout); the listening line is the signal.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto line = process_->ReadLine(left);
    if (!line) break;
    if (line->starts_with(kPrefix)) {
      base_url_ = line->substr(kPrefix.size());
      return;
    }
  }
  std::string log = Log();
  process_.reset();
  throw std::runtime_error("socle-server did not report that it listens; its stderr:\n" + log);
}

std::optional<int> RunningServer::Stop() { return process_->Terminate(std::chrono::seconds(15)); }

std::string RunningServer::Log() const {
  std::ifstream in(log_file_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace socle::testing

#include <simdjson.h>

namespace socle::testing {
namespace {

simdjson::dom::element Root(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) {
    throw std::runtime_error("not JSON: " + json);
  }
  return root;
}

template <typename T>
T Member(simdjson::dom::element element, const char* key, const std::string& json) {
  T value{};
  if (element[key].get(value) != simdjson::SUCCESS) {
    throw std::runtime_error(std::string("no usable \"") + key + "\" in " + json);
  }
  return value;
}

}  // namespace

std::string JsonString(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  return std::string(Member<std::string_view>(Root(parser, json), key, json));
}

std::int64_t JsonInt(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  return Member<std::int64_t>(Root(parser, json), key, json);
}

std::vector<std::string> JsonItems(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  auto items = Member<simdjson::dom::array>(Root(parser, json), "items", json);
  std::vector<std::string> out;
  for (simdjson::dom::element item : items) {
    out.emplace_back(Member<std::string_view>(item, key, json));
  }
  return out;
}

std::string JsonStringAt(const std::string& json, const char* pointer) {
  simdjson::dom::parser parser;
  std::string_view value;
  if (Root(parser, json).at_pointer(pointer).get(value) != simdjson::SUCCESS) {
    throw std::runtime_error(std::string("no string at ") + pointer + " in " + json);
  }
  return std::string(value);
}

bool JsonBoolAt(const std::string& json, const char* pointer) {
  simdjson::dom::parser parser;
  bool value = false;
  if (Root(parser, json).at_pointer(pointer).get(value) != simdjson::SUCCESS) {
    throw std::runtime_error(std::string("no boolean at ") + pointer + " in " + json);
  }
  return value;
}

bool JsonHas(const std::string& json, const char* pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element value;
  return Root(parser, json).at_pointer(pointer).get(value) == simdjson::SUCCESS;
}

}  // namespace socle::testing
