#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

#include "socle/application/ports/clock.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kJson, kText };

/// Parses "debug" | "info" | "warn" | "error"; invalid_argument with field "log_level".
domain::Result<LogLevel> ParseLogLevel(std::string_view text);
/// Parses "json" | "text"; invalid_argument with field "log_format".
domain::Result<LogFormat> ParseLogFormat(std::string_view text);
/// "debug", "info" ...
std::string_view ToString(LogLevel level) noexcept;

/// One key/value of a structured log line. Values are borrowed: a field lives only for the
/// Log() call that receives it.
struct LogField {
  using Value = std::variant<std::string_view, std::int64_t, bool>;

  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  LogField(std::string_view k, T v) : key(k), value(static_cast<std::int64_t>(v)) {}

  std::string_view key;
  Value value;
};

/// Structured logs, one line per event: `time`, `level`, `msg`, then the fields. JSON lines
/// (through JsonWriter, so any bytes are escaped safely) or `key=value` text for humans.
/// Callers must never pass secrets: the server logs a request's path, never its query string or
/// headers. Thread-safe: a line is written by one sink call under a mutex, so lines never
/// interleave.
class Logger final {
 public:
  /// Receives one complete line, newline included.
  using Sink = std::function<void(std::string_view line)>;

  Logger(LogLevel level, LogFormat format, application::Clock& clock, Sink sink);

  /// A sink that writes each line to stderr with one write and flushes.
  static Sink StderrSink();

  bool Enabled(LogLevel level) const noexcept { return level >= level_; }
  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

  void Debug(std::string_view msg, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kDebug, msg, fields);
  }
  void Info(std::string_view msg, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kWarn, msg, fields);
  }
  void Error(std::string_view msg, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kError, msg, fields);
  }

 private:
  LogLevel level_;
  LogFormat format_;
  application::Clock& clock_;
  Sink sink_;
  std::mutex mutex_;
};

}  // namespace socle::adapters::http
