#pragma once

#include <string>

#include "socle/adapters/http/http_metrics.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::http {

/// The endpoints operators and load balancers call:
///
///   GET /api/health  PocketBase's health check: {"code":200,"message":"API is healthy.","data":{}}
///   GET /health      liveness summary:
///                    {"status":"ok","version":…,"started":…,"uptimeSeconds":…}
///   GET /live        200 while the process runs (answered on the I/O thread, never queued)
///   GET /ready       200 when the store answers Ping(), else 503: take the instance out of
///                    rotation without restarting it
///   GET /metrics     Prometheus text exposition of HttpMetrics
///
/// Everything except /ready is Dispatch::kInline: cheap, non-blocking, and so still answered
/// when every worker is busy.
class OperationsApi final {
 public:
  /// `store`, `metrics` and `clock` must outlive the router. `version` is reported by /health.
  OperationsApi(application::CatalogueStore& store, HttpMetrics& metrics,
                application::Clock& clock, std::string version);

  /// Adds the routes above to `router`.
  domain::Result<void> Register(Router& router);

 private:
  application::CatalogueStore& store_;
  HttpMetrics& metrics_;
  application::Clock& clock_;
  std::string version_;
  domain::Timestamp started_;
};

}  // namespace socle::adapters::http
