#pragma once

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "socle/adapters/http/http_metrics.hpp"
#include "socle/adapters/http/http_server.hpp"
#include "socle/adapters/http/logger.hpp"
#include "socle/adapters/http/operations_api.hpp"
#include "socle/adapters/http/platform_api.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_regions.hpp"
#include "support/test_ports.hpp"

namespace socle::testing {

/// Limits small enough for tests to exceed cheaply, deadlines short enough to keep them fast.
inline adapters::http::HttpServerOptions TestServerOptions() {
  adapters::http::HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.io_threads = 1;
  options.worker_threads = 2;
  options.max_body_bytes = 4096;
  options.max_header_bytes = 4096;
  options.read_timeout = std::chrono::milliseconds(1500);
  options.idle_timeout = std::chrono::milliseconds(5000);
  options.shutdown_timeout = std::chrono::milliseconds(5000);
  return options;
}

/// The in-process server over a MemoryCatalogueStore (or a given store), with the platform and
/// operations routes registered, logs captured in memory. Add routes to `router` before Start().
class TestServer {
 public:
  explicit TestServer(adapters::http::HttpServerOptions options = TestServerOptions(),
                      application::CatalogueStore* store = nullptr)
      : store_(store != nullptr ? *store : memory_),
        organisations_(store_, clock_, random_),
        projects_(store_, clock_, random_),
        regions_(store_),
        metrics_(clock_.Now()),
        logger_(adapters::http::LogLevel::kDebug, adapters::http::LogFormat::kJson, clock_,
                [this](std::string_view line) {
                  std::lock_guard lock(log_mutex_);
                  log_lines_.emplace_back(line);
                }),
        platform_(organisations_, projects_, regions_),
        operations_(store_, metrics_, clock_, "0.0.0-test"),
        options_(std::move(options)) {
    if (!platform_.Register(router) || !operations_.Register(router)) {
      throw std::logic_error("route registration failed");
    }
  }

  ~TestServer() {
    if (server_) {
      server_->Shutdown();
      server_->Wait();
    }
  }

  /// Starts listening on 127.0.0.1:0; throws when that fails.
  void Start() {
    server_ = std::make_unique<adapters::http::HttpServer>(options_, router, logger_, metrics_,
                                                           random_);
    if (!server_->Start()) throw std::runtime_error("server failed to start");
  }

  std::uint16_t port() const { return server_->port(); }
  adapters::http::HttpServer& server() { return *server_; }
  adapters::http::HttpMetrics& metrics() { return metrics_; }
  ManualClock& clock() { return clock_; }

  std::vector<std::string> LogLines() {
    std::lock_guard lock(log_mutex_);
    return log_lines_;
  }

  adapters::http::Router router;

 private:
  adapters::memory::MemoryCatalogueStore memory_;
  application::CatalogueStore& store_;
  ManualClock clock_;
  SeededRandomSource random_;
  application::ManageOrganisations organisations_;
  application::ManageProjects projects_;
  application::ManageRegions regions_;
  adapters::http::HttpMetrics metrics_;
  std::mutex log_mutex_;
  std::vector<std::string> log_lines_;
  adapters::http::Logger logger_;
  adapters::http::PlatformApi platform_;
  adapters::http::OperationsApi operations_;
  adapters::http::HttpServerOptions options_;
  std::unique_ptr<adapters::http::HttpServer> server_;
};

}  // namespace socle::testing
