#include "socle/adapters/http/operations_api.hpp"

#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/json/json_writer.hpp"

namespace socle::adapters::http {

using json::JsonWriter;

OperationsApi::OperationsApi(application::CatalogueStore& store, HttpMetrics& metrics,
                             application::Clock& clock, std::string version)
    : store_(store),
      metrics_(metrics),
      clock_(clock),
      version_(std::move(version)),
      started_(clock.Now()) {}

domain::Result<void> OperationsApi::Register(Router& router) {
  auto api_health = [](const Request&) {
    JsonWriter w;
    w.BeginObject().Key("code").Int(200).Key("message").String("API is healthy.");
    w.Key("data").BeginObject().EndObject().EndObject();
    return Response::Json(200, std::move(w).Take());
  };
  auto health = [this](const Request&) {
    const auto now = clock_.Now();
    JsonWriter w;
    w.BeginObject();
    w.Key("status").String("ok");
    w.Key("version").String(version_);
    w.Key("started").String(started_.ToApiString());
    w.Key("uptimeSeconds").Int((now.unix_micros() - started_.unix_micros()) / 1'000'000);
    w.EndObject();
    return Response::Json(200, std::move(w).Take());
  };
  auto live = [](const Request&) {
    JsonWriter w;
    w.BeginObject().Key("status").String("live").EndObject();
    return Response::Json(200, std::move(w).Take());
  };
  auto ready = [this](const Request&) {
    auto ping = store_.Ping();
    if (!ping) {
      domain::Error error =
          domain::Error::Make(domain::ErrorCode::kUnavailable, "The store is unavailable.");
      error.internal = ping.error().internal.empty() ? ping.error().message : ping.error().internal;
      return ErrorResponse(error);
    }
    JsonWriter w;
    w.BeginObject().Key("status").String("ready").EndObject();
    return Response::Json(200, std::move(w).Take());
  };
  auto metrics = [this](const Request&) {
    return Response::Text(200, metrics_.Render(), "text/plain; version=0.0.4; charset=utf-8");
  };

  for (auto added : {router.Add(Method::kGet, "/api/health", api_health, Dispatch::kInline),
                     router.Add(Method::kGet, "/health", health, Dispatch::kInline),
                     router.Add(Method::kGet, "/live", live, Dispatch::kInline),
                     router.Add(Method::kGet, "/ready", ready, Dispatch::kWorker),
                     router.Add(Method::kGet, "/metrics", metrics, Dispatch::kInline)}) {
    if (!added) return added;
  }
  return {};
}

}  // namespace socle::adapters::http
