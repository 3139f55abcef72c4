#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "socle/adapters/http/http_metrics.hpp"
#include "socle/adapters/http/logger.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// Which Dispatch::kRead and kPointRead routes run on the connection's event loop.
enum class LoopReads {
  kNone,   ///< every read on the worker pool
  kPoint,  ///< kPointRead on the loop, kRead on the workers
  kAll,    ///< kPointRead and kRead on the loop
};

/// How the server listens and the limits it enforces on every connection and request. Plain
/// data: the composition root fills it from the settings.
struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0 picks a free port; HttpServer::port() tells which
  /// Event loops, one thread each; a connection stays on the loop that accepted it. 0: one
  /// per core.
  std::size_t io_threads = 1;
  /// Which reads run on the connection's loop rather than on the worker pool (no hand-off
  /// between threads: about a third of a point read's CPU time). kAll suits a store whose reads
  /// are local and short (SQLite). With a networked store (PostgreSQL) a loop waits through
  /// each read's round trip with the other connections of that loop behind it: kPoint keeps
  /// there only the reads whose cost is bounded (one record by id), with more loops than cores
  /// so that a core has another loop to run while one waits; lists go to the workers.
  LoopReads loop_reads = LoopReads::kNone;
  /// Threads running handlers. Ports are synchronous, so this bounds the number of store calls
  /// in flight; size it with the database connection pool.
  std::size_t worker_threads = 8;
  /// Requests waiting for or running on a worker beyond this are answered 503 at once instead
  /// of queueing without bound.
  std::size_t max_queued_requests = 1024;
  std::size_t max_body_bytes = std::size_t{1} << 20;     ///< larger bodies: 413
  std::size_t max_header_bytes = std::size_t{16} << 10;  ///< larger request line + headers: 431
  /// A request, once its first byte arrived, must be complete within this; a response must be
  /// written within it too.
  std::chrono::milliseconds read_timeout{15000};
  /// A keep-alive connection with no request starting within this is closed.
  std::chrono::milliseconds idle_timeout{60000};
  /// On shutdown, in-flight requests get this long before connections are closed.
  std::chrono::milliseconds shutdown_timeout{10000};
  /// Connections beyond this are answered 503 and closed.
  std::size_t max_connections = 10000;
  /// Requests answered back to back from bytes that were already buffered (a pipelined burst)
  /// before the server closes the connection after the next response, so that one connection
  /// cannot hold its I/O thread and the workers for an unbounded pipeline.
  std::size_t max_pipelined_requests = 64;
  /// Requests per second a client address may make on any route (token bucket, bursts up to
  /// this many), and, when a request presents a token or key in Authorization or X-API-Key,
  /// that credential as well; beyond it 429 with Retry-After. Only the API's routes (/api/v1/,
  /// /p/, /_/) count: probes, metrics, public keys and CORS preflights never do. 0: no such
  /// limit (projects keep their own rateLimits).
  std::size_t rate_limit_per_second = 0;
};

/// The HTTP/1.1 server: Boost.Beast and Asio, with C++20 coroutines. A listener accepts
/// connections; each connection is one coroutine on its own strand that reads a request under a
/// deadline and size limits, answers it and loops (keep-alive, with an idle timeout). Framing is
/// validated beyond Beast's parser (Host, Transfer-Encoding / Content-Length conflicts, HTTP
/// versions, WebSocket handshakes) and rejected per RFC 9112 with the connection closed.
/// Connections are spread over event loops, one thread each. Handlers run on a bounded worker
/// pool, or on the connection's loop for Dispatch::kInline routes (and the reads that
/// HttpServerOptions::loop_reads names), and see only Request and Response; this is the one translation unit
/// that instantiates Beast.
///
/// Every response carries X-Request-Id: the client's when well formed (1-128 characters of
/// [A-Za-z0-9._-]), a fresh one otherwise. Every request is logged in one line and counted in
/// the metrics under its route pattern.
///
/// Shutdown is two-phase: Shutdown() stops accepting and closes idle connections; requests in
/// flight finish (their responses carry Connection: close) until shutdown_timeout, after which
/// the remaining connections are closed.
class HttpServer final {
 public:
  /// The router, logger, metrics and random source must outlive the server.
  HttpServer(HttpServerOptions options, const Router& router, Logger& logger,
             HttpMetrics& metrics, application::RandomSource& random);
  /// Shuts down (gracefully, bounded by shutdown_timeout) and waits, if still running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds, listens and starts the I/O and worker threads. invalid_argument for an unparsable
  /// address; unavailable when the address cannot be bound. Call once.
  domain::Result<void> Start();
  /// The bound port (the real one when options.port was 0); 0 before a successful Start().
  std::uint16_t port() const noexcept;
  /// Begins a graceful shutdown. Thread-safe and idempotent; returns at once.
  void Shutdown();
  /// Makes SIGINT and SIGTERM begin a graceful shutdown; a second signal closes every connection
  /// at once. Call before Start() so that no signal can arrive unhandled in between.
  void ShutdownOnSignals();
  /// Blocks until the server has stopped: no connection left and every handler finished.
  void Wait();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace socle::adapters::http
