#include "socle/adapters/http/http_metrics.hpp"

#include <charconv>
#include <mutex>

namespace socle::adapters::http {

struct HttpMetrics::Counter {
  std::atomic<std::uint64_t> value{0};
};

struct HttpMetrics::Histogram {
  // Per-bucket (non-cumulative) counts; the last slot is +Inf. Cumulated when rendering.
  std::array<std::atomic<std::uint64_t>, kBucketBounds.size() + 1> buckets{};
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> sum_micros{0};
};

namespace {

std::string FormatDouble(double value) {
  std::array<char, 32> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), end);
}

// Finds a series under the shared lock, creating it under the exclusive lock the first time.
template <typename T, typename Map>
T& FindOrCreate(std::shared_mutex& mutex, Map& map, const std::string& key) {
  {
    std::shared_lock lock(mutex);
    auto it = map.find(key);
    if (it != map.end()) return *it->second;
  }
  std::unique_lock lock(mutex);
  auto [it, inserted] = map.try_emplace(key, nullptr);
  if (inserted) it->second = std::make_unique<T>();
  return *it->second;
}

}  // namespace

HttpMetrics::HttpMetrics(domain::Timestamp process_start) : process_start_(process_start) {}
HttpMetrics::~HttpMetrics() = default;

std::string HttpMetrics::EscapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void HttpMetrics::Record(std::string_view method, std::string_view route, int status,
                         std::chrono::microseconds duration) {
  std::string series =
      "method=\"" + EscapeLabel(method) + "\",route=\"" + EscapeLabel(route) + "\"";
  std::string counter_key = series + ",status=\"" + std::to_string(status) + "\"";
  FindOrCreate<Counter>(mutex_, counters_, counter_key)
      .value.fetch_add(1, std::memory_order_relaxed);

  Histogram& histogram = FindOrCreate<Histogram>(mutex_, histograms_, series);
  const auto micros = static_cast<std::uint64_t>(std::max<std::int64_t>(0, duration.count()));
  const double seconds = static_cast<double>(micros) / 1e6;
  std::size_t bucket = kBucketBounds.size();
  for (std::size_t i = 0; i < kBucketBounds.size(); ++i) {
    if (seconds <= kBucketBounds[i]) {
      bucket = i;
      break;
    }
  }
  histogram.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  histogram.sum_micros.fetch_add(micros, std::memory_order_relaxed);
  histogram.count.fetch_add(1, std::memory_order_relaxed);
}

std::string HttpMetrics::Render() const {
  std::string out;
  std::shared_lock lock(mutex_);

  out += "# HELP socle_http_requests_total HTTP requests answered, by method, route and status.\n";
  out += "# TYPE socle_http_requests_total counter\n";
  for (const auto& [labels, counter] : counters_) {
    out += "socle_http_requests_total{" + labels + "} " +
           std::to_string(counter->value.load(std::memory_order_relaxed)) + "\n";
  }

  out += "# HELP socle_http_request_duration_seconds Time from a request's last byte read to its "
         "response being ready, by method and route.\n";
  out += "# TYPE socle_http_request_duration_seconds histogram\n";
  for (const auto& [labels, histogram] : histograms_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= kBucketBounds.size(); ++i) {
      cumulative += histogram->buckets[i].load(std::memory_order_relaxed);
      const std::string le = i < kBucketBounds.size() ? FormatDouble(kBucketBounds[i]) : "+Inf";
      out += "socle_http_request_duration_seconds_bucket{" + labels + ",le=\"" + le + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    const double sum =
        static_cast<double>(histogram->sum_micros.load(std::memory_order_relaxed)) / 1e6;
    out += "socle_http_request_duration_seconds_sum{" + labels + "} " + FormatDouble(sum) + "\n";
    out += "socle_http_request_duration_seconds_count{" + labels + "} " +
           std::to_string(histogram->count.load(std::memory_order_relaxed)) + "\n";
  }

  out += "# HELP socle_http_connections_open HTTP connections currently open.\n";
  out += "# TYPE socle_http_connections_open gauge\n";
  out += "socle_http_connections_open " +
         std::to_string(connections_.load(std::memory_order_relaxed)) + "\n";

  out += "# HELP process_start_time_seconds Start time of the process since the Unix epoch in "
         "seconds.\n";
  out += "# TYPE process_start_time_seconds gauge\n";
  out += "process_start_time_seconds " +
         FormatDouble(static_cast<double>(process_start_.unix_micros()) / 1e6) + "\n";
  return out;
}

}  // namespace socle::adapters::http
