#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "socle/adapters/http/http_metrics.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/logger.hpp"
#include "support/test_ports.hpp"

using socle::adapters::http::HttpMetrics;
using socle::adapters::http::LogFormat;
using socle::adapters::http::Logger;
using socle::adapters::http::LogLevel;
using socle::adapters::http::ParseJsonObject;
using socle::domain::Timestamp;
using std::chrono::microseconds;

namespace {

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("HttpMetrics renders counters by method, route and status", "[http][metrics]") {
  HttpMetrics metrics(Timestamp::FromUnixMicros(1'700'000'000'500'000));
  metrics.Record("GET", "/api/v1/orgs", 200, microseconds(1500));
  metrics.Record("GET", "/api/v1/orgs", 200, microseconds(700));
  metrics.Record("GET", "/api/v1/orgs", 400, microseconds(100));
  metrics.Record("POST", "/api/v1/orgs/{org}/projects", 201, microseconds(3'000'000));
  const std::string text = metrics.Render();

  CHECK(Contains(text, "# TYPE socle_http_requests_total counter\n"));
  const std::string orgs = "socle_http_requests_total{method=\"GET\",route=\"/api/v1/orgs\",";
  CHECK(Contains(text, orgs + "status=\"200\"} 2\n"));
  CHECK(Contains(text, orgs + "status=\"400\"} 1\n"));
  CHECK(Contains(text, "socle_http_requests_total{method=\"POST\",route=\"/api/v1/orgs/{org}/"
                       "projects\",status=\"201\"} 1\n"));
  CHECK(Contains(text, "process_start_time_seconds 1700000000.5\n"));
  CHECK(Contains(text, "# TYPE socle_http_connections_open gauge\n"));
}

TEST_CASE("HttpMetrics histograms are cumulative with +Inf, sum and count", "[http][metrics]") {
  HttpMetrics metrics(Timestamp::FromUnixMicros(0));
  metrics.Record("GET", "/a", 200, microseconds(500));      // <= 0.001
  metrics.Record("GET", "/a", 200, microseconds(20'000));   // <= 0.025
  metrics.Record("GET", "/a", 500, microseconds(60'000'000));  // > 10: +Inf only
  const std::string text = metrics.Render();
  const std::string series =
      "socle_http_request_duration_seconds_bucket{method=\"GET\",route=\"/a\",";
  CHECK(Contains(text, "# TYPE socle_http_request_duration_seconds histogram\n"));
  CHECK(Contains(text, series + "le=\"0.001\"} 1\n"));
  CHECK(Contains(text, series + "le=\"0.01\"} 1\n"));
  CHECK(Contains(text, series + "le=\"0.025\"} 2\n"));
  CHECK(Contains(text, series + "le=\"10\"} 2\n"));
  CHECK(Contains(text, series + "le=\"+Inf\"} 3\n"));
  CHECK(Contains(text,
                 "socle_http_request_duration_seconds_sum{method=\"GET\",route=\"/a\"} 60.0205\n"));
  CHECK(Contains(text,
                 "socle_http_request_duration_seconds_count{method=\"GET\",route=\"/a\"} 3\n"));
}

TEST_CASE("HttpMetrics output is well-formed exposition text", "[http][metrics]") {
  HttpMetrics metrics(Timestamp::FromUnixMicros(0));
  metrics.Record("GET", "we\"ird\\route\n", 200, microseconds(1));
  metrics.ConnectionOpened();
  const std::string text = metrics.Render();
  CHECK(Contains(text, "route=\"we\\\"ird\\\\route\\n\""));
  CHECK(Contains(text, "socle_http_connections_open 1\n"));
  // Every line is a comment or "name{labels} value" / "name value", and the text ends in \n.
  REQUIRE(text.back() == '\n');
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    INFO(line);
    REQUIRE_FALSE(line.empty());
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    const auto space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    const std::string value = line.substr(space + 1);
    CHECK_NOTHROW(std::stod(value));
  }
}

TEST_CASE("HttpMetrics::EscapeLabel escapes what the format requires", "[http][metrics]") {
  CHECK(HttpMetrics::EscapeLabel("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

TEST_CASE("Logger writes one JSON line per event with time, level, msg and fields",
          "[http][logger]") {
  socle::testing::ManualClock clock;
  std::vector<std::string> lines;
  Logger logger(LogLevel::kInfo, LogFormat::kJson, clock,
                [&](std::string_view line) { lines.emplace_back(line); });
  logger.Debug("hidden");
  logger.Info("request", {{"request_id", "abc"}, {"status", 200}, {"ok", true},
                          {"path", "/a\"\n"}});
  logger.Error("boom");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        "{\"time\":\"2023-11-14T22:13:20.000000Z\",\"level\":\"info\",\"msg\":\"request\","
        "\"request_id\":\"abc\",\"status\":200,\"ok\":true,\"path\":\"/a\\\"\\n\"}\n");
  CHECK(lines[1].find("\"level\":\"error\"") != std::string::npos);
  for (const auto& line : lines) {
    CHECK(ParseJsonObject(std::string_view(line).substr(0, line.size() - 1)));
  }
}

TEST_CASE("Logger's text format quotes values that need it", "[http][logger]") {
  socle::testing::ManualClock clock;
  std::vector<std::string> lines;
  Logger logger(LogLevel::kDebug, LogFormat::kText, clock,
                [&](std::string_view line) { lines.emplace_back(line); });
  logger.Warn("slow request", {{"path", "/a b"}, {"route", "/x"}, {"n", 3}, {"empty", ""}});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "2023-11-14T22:13:20.000000Z WARN \"slow request\" path=\"/a b\" route=/x n=3 "
        "empty=\"\"\n");
}

TEST_CASE("Log levels and formats parse from settings text", "[http][logger]") {
  CHECK(socle::adapters::http::ParseLogLevel("warn") == LogLevel::kWarn);
  CHECK_FALSE(socle::adapters::http::ParseLogLevel("verbose"));
  CHECK(socle::adapters::http::ParseLogFormat("text") == LogFormat::kText);
  CHECK_FALSE(socle::adapters::http::ParseLogFormat("xml"));
}
