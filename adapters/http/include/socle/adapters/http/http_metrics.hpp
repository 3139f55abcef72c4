#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "socle/domain/timestamp.hpp"

namespace socle::adapters::http {

/// Request counters and latency histograms, rendered in the Prometheus text exposition format
/// (version 0.0.4) for GET /metrics.
///
/// Labels are bounded by construction: `route` is a route *pattern* (or "unmatched" / "invalid"),
/// never a raw path, and `method` comes from the fixed set the server routes. Thread-safety:
/// every method may be called from any thread. Recording takes a shared lock only to find the
/// series (an exclusive one the first time a series appears), then updates atomics, so request
/// threads do not contend with each other.
class HttpMetrics final {
 public:
  /// Upper bounds of the latency buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 12> kBucketBounds = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0};

  /// `process_start` is exported as process_start_time_seconds.
  explicit HttpMetrics(domain::Timestamp process_start);
  ~HttpMetrics();
  HttpMetrics(const HttpMetrics&) = delete;
  HttpMetrics& operator=(const HttpMetrics&) = delete;

  /// Counts one answered request.
  void Record(std::string_view method, std::string_view route, int status,
              std::chrono::microseconds duration);
  /// Tracks open connections (a gauge).
  void ConnectionOpened() noexcept { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() noexcept { connections_.fetch_sub(1, std::memory_order_relaxed); }

  /// The exposition text: counters, histograms, gauges, series sorted by labels.
  std::string Render() const;

  /// Escapes a label value (backslash, double quote, newline) as the format requires.
  static std::string EscapeLabel(std::string_view value);

 private:
  struct Counter;
  struct Histogram;

  domain::Timestamp process_start_;
  std::atomic<std::int64_t> connections_{0};
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters_;
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> histograms_;
};

}  // namespace socle::adapters::http
