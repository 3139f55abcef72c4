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
#include "platform_world.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/application/ports/access_store.hpp"
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

/// The in-process server over a MemoryCatalogueStore (or a given store), with the platform
/// (catalogue and access management, not sign-in: suites register their own) and operations
/// routes registered, logs captured in memory. Platform routes need a signed-in caller:
/// SuperuserToken() and world().MemberToken() give one. Add routes to `router` before Start().
class TestServer {
 public:
  /// A given `store` keeps the access data too when it is also an AccessStore; otherwise the
  /// server's own memory store does.
  explicit TestServer(adapters::http::HttpServerOptions options = TestServerOptions(),
                      application::CatalogueStore* store = nullptr)
      : store_(store != nullptr ? *store : memory_),
        access_store_(AccessStoreOf(store, memory_)),
        world_(store_, access_store_, clock_, random_, hasher_),
        metrics_(clock_.Now()),
        logger_(adapters::http::LogLevel::kDebug, adapters::http::LogFormat::kJson, clock_,
                [this](std::string_view line) {
                  std::lock_guard lock(log_mutex_);
                  log_lines_.emplace_back(line);
                }),
        operations_(store_, metrics_, clock_, "0.0.0-test"),
        options_(std::move(options)) {
    world_.Register(router, /*auth=*/false);
    if (!operations_.Register(router)) throw std::logic_error("route registration failed");
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
  adapters::http::Logger& logger() { return logger_; }
  ManualClock& clock() { return clock_; }
  application::RandomSource& random() { return random_; }
  PlatformWorld& world() { return world_; }

  /// Serves the world's sign-in routes (/api/v1/auth/...) too; before Start().
  void ServePlatformSignIn() { world_.RegisterSignIn(router); }
  /// A superuser's platform token ("Authorization: Bearer …" opens every platform route).
  std::string SuperuserToken() { return world_.SuperuserToken(); }

  std::vector<std::string> LogLines() {
    std::lock_guard lock(log_mutex_);
    return log_lines_;
  }

  adapters::http::Router router;

 private:
  static application::AccessStore& AccessStoreOf(application::CatalogueStore* store,
                                                 application::AccessStore& fallback) {
    auto* access = dynamic_cast<application::AccessStore*>(store);
    return access != nullptr ? *access : fallback;
  }

  adapters::memory::MemoryCatalogueStore memory_;
  application::CatalogueStore& store_;
  application::AccessStore& access_store_;
  ManualClock clock_;
  SeededRandomSource random_;
  PlainTestHasher hasher_;
  PlatformWorld world_;
  adapters::http::HttpMetrics metrics_;
  std::mutex log_mutex_;
  std::vector<std::string> log_lines_;
  adapters::http::Logger logger_;
  adapters::http::OperationsApi operations_;
  adapters::http::HttpServerOptions options_;
  std::unique_ptr<adapters::http::HttpServer> server_;
};

}  // namespace socle::testing
