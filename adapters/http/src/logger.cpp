#include "socle/adapters/http/logger.hpp"

#include <cstdio>

#include "socle/adapters/json/json_writer.hpp"

namespace socle::adapters::http {

using json::JsonWriter;

domain::Result<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return domain::Fail(domain::Error::Field("log_level", "validation_invalid_value",
                                           "Must be one of debug, info, warn, error."));
}

domain::Result<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "json") return LogFormat::kJson;
  if (text == "text") return LogFormat::kText;
  return domain::Fail(domain::Error::Field("log_format", "validation_invalid_value",
                                           "Must be json or text."));
}

std::string_view ToString(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

namespace {

// Text values are bare when unambiguous, otherwise quoted with JSON escaping so that a hostile
// path cannot forge a second line or a fake key.
void AppendTextValue(std::string& out, std::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F || c == '"' || c == '=' || c == '\\') {
      bare = false;
      break;
    }
  }
  if (bare) {
    out += value;
  } else {
    JsonWriter::AppendQuoted(out, value);
  }
}

}  // namespace

Logger::Logger(LogLevel level, LogFormat format, application::Clock& clock, Sink sink)
    : level_(level), format_(format), clock_(clock), sink_(std::move(sink)) {}

Logger::Sink Logger::StderrSink() {
  return [](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  };
}

void Logger::Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!Enabled(level)) return;
  const std::string time = clock_.Now().ToIso8601();
  std::string line;
  if (format_ == LogFormat::kJson) {
    JsonWriter writer;
    writer.BeginObject();
    writer.Key("time").String(time).Key("level").String(ToString(level)).Key("msg").String(msg);
    for (const auto& field : fields) {
      writer.Key(field.key);
      std::visit(
          [&](const auto& value) {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::string_view>) {
              writer.String(value);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
              writer.Int(value);
            } else {
              writer.Bool(value);
            }
          },
          field.value);
    }
    writer.EndObject();
    line = std::move(writer).Take();
  } else {
    line = time;
    line += ' ';
    for (char c : ToString(level)) line += static_cast<char>(c - 'a' + 'A');
    line += ' ';
    AppendTextValue(line, msg);
    for (const auto& field : fields) {
      line += ' ';
      line += field.key;
      line += '=';
      std::visit(
          [&](const auto& value) {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::string_view>) {
              AppendTextValue(line, value);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
              line += std::to_string(value);
            } else {
              line += value ? "true" : "false";
            }
          },
          field.value);
    }
  }
  line += '\n';
  std::lock_guard lock(mutex_);
  sink_(line);
}

}  // namespace socle::adapters::http
