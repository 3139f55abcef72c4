// The only translation unit that instantiates Boost.Beast and Asio: everything else in the
// adapter deals in Request and Response, which keeps build times and the blast radius small.
#include "socle/adapters/http/http_server.hpp"

#include "socle/domain/rate_limiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/request_target.hpp"
#include "socle/application/new_id.hpp"

namespace socle::adapters::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Bytes requested per socket read; also the slack the input buffer keeps beyond the header
// limit, which bounds how much pipelined input one connection can make the server hold.
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kMaxRequestIdLength = 128;
constexpr auto kLingerTime = std::chrono::milliseconds(500);
constexpr std::size_t kLingerBytes = 1 << 20;
constexpr std::string_view kRouteUnmatched = "unmatched";
constexpr std::string_view kRouteInvalid = "invalid";

using RawRequest = bhttp::request<bhttp::string_body>;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view LoopReadsName(LoopReads reads) {
  switch (reads) {
    case LoopReads::kNone: return "none";
    case LoopReads::kPoint: return "point";
    case LoopReads::kAll: return "all";
  }
  return "none";
}

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

// RFC 9110 7.2: Host = uri-host [ ":" port ]; reg-name, IPv4 and IP-literal characters only.
bool IsValidHost(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-._~!$&'()*+,;=:[]%").find(c) != std::string_view::npos;
  });
}

// The method as logs and metrics label it: one of the routed methods or "OTHER", so that a
// client inventing methods cannot grow the number of metric series.
std::string MethodLabel(std::string_view method) {
  return ParseMethod(method) ? std::string(method) : std::string("OTHER");
}

bool IsWellFormedRequestId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxRequestIdLength &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
         });
}

// Why a request's framing is refused. Every rejection closes the connection: after a framing
// error the server cannot know where the next request would start.
struct Rejection {
  int status;
  std::string_view message;
  std::string_view detail;
};

int StatusForReadError(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  return 400;
}

// Checks what Beast's parser leaves to the application (RFC 9112 3.2, 6.1, 6.3; RFC 6455 4.2.1).
std::optional<Rejection> CheckFraming(const RawRequest& req) {
  if (req.version() != 10 && req.version() != 11) {
    return Rejection{505, DefaultMessage(505), "unsupported HTTP version"};
  }
  const auto hosts = req.count(bhttp::field::host);
  if (req.version() == 11 && hosts == 0) {
    return Rejection{400, "Missing Host header.", "missing Host"};
  }
  if (hosts > 1) return Rejection{400, "Duplicate Host header.", "duplicate Host"};
  if (hosts == 1 && !IsValidHost(TrimOws(req[bhttp::field::host]))) {
    return Rejection{400, "Invalid Host header.", "invalid Host"};
  }

  const auto encodings = req.count(bhttp::field::transfer_encoding);
  if (encodings > 0) {
    if (req.version() == 10) {
      return Rejection{400, "Transfer-Encoding is not allowed in HTTP/1.0.", "TE in HTTP/1.0"};
    }
    if (encodings > 1) return Rejection{400, "Repeated Transfer-Encoding.", "TE repeated"};
    if (req.count(bhttp::field::content_length) > 0) {
      return Rejection{400, "Both Content-Length and Transfer-Encoding.", "CL and TE"};
    }
    // Only "chunked", alone, is supported: anything else would make Beast guess the body's
    // length differently from a proxy in front of us (request smuggling).
    std::string_view list = req[bhttp::field::transfer_encoding];
    std::vector<std::string_view> codings;
    while (true) {
      const std::size_t comma = list.find(',');
      std::string_view element = TrimOws(list.substr(0, comma));
      if (!IsToken(element)) {
        return Rejection{400, "Malformed Transfer-Encoding.", "TE element not a token"};
      }
      codings.push_back(element);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    const auto chunked = std::count_if(codings.begin(), codings.end(),
                                       [](std::string_view c) { return IEquals(c, "chunked"); });
    if (chunked != 1 || !IEquals(codings.back(), "chunked")) {
      if (chunked == 0 && !codings.empty()) {
        return Rejection{501, "Unsupported Transfer-Encoding.", "TE without chunked"};
      }
      return Rejection{400, "Malformed Transfer-Encoding.", "chunked repeated or not last"};
    }
    if (codings.size() > 1) {
      return Rejection{501, "Unsupported Transfer-Encoding.", "TE coding other than chunked"};
    }
  }

  // Socle does not speak WebSocket yet, but a malformed handshake is still refused as the RFC
  // asks rather than routed as a plain GET.
  if (req.count(bhttp::field::upgrade) > 0 &&
      IEquals(TrimOws(req[bhttp::field::upgrade]), "websocket")) {
    if (req.count(bhttp::field::sec_websocket_key) != 1) {
      return Rejection{400, "Missing Sec-WebSocket-Key.", "websocket without key"};
    }
    if (TrimOws(req[bhttp::field::sec_websocket_version]) != "13") {
      return Rejection{426, "Unsupported WebSocket version.", "websocket version"};
    }
  }
  return std::nullopt;
}

}  // namespace

class HttpServer::Impl final {
 public:
  class Session;

  Impl(HttpServerOptions options, const Router& router, Logger& logger, HttpMetrics& metrics,
       application::RandomSource& random)
      : options_(std::move(options)),
        router_(router),
        logger_(logger),
        metrics_(metrics),
        random_(random),
        control_(asio::make_strand(io_)),
        acceptor_(control_),
        drain_timer_(control_),
        signals_(control_),
        pool_(std::max<std::size_t>(1, options_.worker_threads)) {
    std::size_t loops = options_.io_threads;
    if (loops == 0) loops = std::max<std::size_t>(1, std::thread::hardware_concurrency());
    for (std::size_t i = 0; i < loops; ++i) loops_.push_back(std::make_unique<Loop>());
  }

  ~Impl() {
    if (started_.load()) {
      Shutdown();
      Wait();
    } else {
      pool_.join();
    }
  }

  domain::Result<void> Start();
  std::uint16_t port() const noexcept { return port_.load(); }

  void Shutdown() {
    asio::post(control_, [this] { BeginShutdown(); });
  }

  void ShutdownOnSignals() {
    // Before Start() nothing else touches the signal set, so it is armed right here: a signal
    // arriving between Start() and the first I/O thread picking up work is not lost.
    auto arm = [this] {
      beast::error_code ec;
      signals_.add(SIGINT, ec);
      signals_.add(SIGTERM, ec);
      WaitForSignal();
    };
    if (started_.load()) {
      asio::post(control_, arm);
    } else {
      arm();
    }
  }

  void Wait() {
    std::call_once(wait_once_, [this] {
      // Not started (or Start failed): there is no thread to wait for.
      if (control_thread_.joinable()) control_thread_.join();
      for (auto& loop : loops_) {
        if (loop->thread.joinable()) loop->thread.join();
      }
      pool_.join();
    });
  }

  // --- used by sessions
  const HttpServerOptions& options() const noexcept { return options_; }

  // Whether the server-wide limit lets `request` through; the seconds to wait when it does not.
  std::optional<std::int64_t> Limited(const Request& request) {
    if (options_.rate_limit_per_second == 0) return std::nullopt;
    domain::BucketSpec spec;
    spec.max_requests = static_cast<std::int64_t>(options_.rate_limit_per_second);
    spec.duration = std::chrono::seconds(1);
    const auto now = domain::Timestamp::FromUnixMicros(
        std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    std::int64_t retry = 0;
    auto take = [&](std::string key) {
      const domain::RateLimitDecision decision = limiter_.Take(key, spec, now);
      if (!decision.allowed) retry = std::max<std::int64_t>(retry, decision.retry_after.count());
      return decision.allowed;
    };
    bool allowed = take("ip:" + request.client_address);
    std::string_view credential = request.Header("authorization").value_or(std::string_view{});
    if (credential.empty()) credential = request.Header("x-api-key").value_or(std::string_view{});
    if (!credential.empty()) allowed = take("credential:" + std::string(credential)) && allowed;
    if (allowed) return std::nullopt;
    return std::max<std::int64_t>(retry, 1);
  }
  const Router& router() const noexcept { return router_; }
  Logger& logger() noexcept { return logger_; }
  HttpMetrics& metrics() noexcept { return metrics_; }
  bool stopping() const noexcept { return stopping_flag_.load(std::memory_order_acquire); }

  std::string NewRequestId() { return application::NewId(random_).str(); }

  // Runs a handler on the worker pool and resumes the calling coroutine on its loop.
  asio::awaitable<Response> RunOnWorkers(const Router::Handler& handler, const Request& request) {
    if (queued_.fetch_add(1) >= options_.max_queued_requests) {
      queued_.fetch_sub(1);
      co_return ErrorResponse(503, "The server is busy; retry shortly.");
    }
    Response response = co_await asio::co_spawn(
        pool_, [&]() -> asio::awaitable<Response> { co_return Invoke(handler, request); },
        asio::use_awaitable);
    queued_.fetch_sub(1);
    co_return response;
  }

  static Response Invoke(const Router::Handler& handler, const Request& request) {
    try {
      return handler(request);
    } catch (const std::exception& e) {
      Response response = ErrorResponse(domain::Error::Internal(e.what()));
      response.log_detail = std::string("handler threw: ") + e.what();
      return response;
    } catch (...) {
      Response response = ErrorResponse(domain::Error::Internal("unknown exception"));
      response.log_detail = "handler threw a non-standard exception";
      return response;
    }
  }

  void Register(Session* session, std::weak_ptr<Session> weak) {
    std::lock_guard lock(sessions_mutex_);
    sessions_.emplace(session, std::move(weak));
  }

  void Unregister(Session* session) {
    bool drained = false;
    {
      std::lock_guard lock(sessions_mutex_);
      sessions_.erase(session);
      drained = sessions_.empty();
    }
    metrics_.ConnectionClosed();
    active_connections_.fetch_sub(1);
    if (drained && stopping()) asio::post(control_, [this] { CheckDrained(); });
  }

 private:
  asio::awaitable<void> Listen();
  void BeginShutdown();
  void ForceClose();
  void CheckDrained();
  void WaitForSignal();
  void RejectConnection(tcp::socket socket);
  std::vector<std::weak_ptr<Session>> SnapshotSessions() {
    std::lock_guard lock(sessions_mutex_);
    std::vector<std::weak_ptr<Session>> out;
    out.reserve(sessions_.size());
    for (const auto& [ptr, weak] : sessions_) out.push_back(weak);
    return out;
  }
  bool NoSessions() {
    std::lock_guard lock(sessions_mutex_);
    return sessions_.empty();
  }

  HttpServerOptions options_;
  const Router& router_;
  Logger& logger_;
  HttpMetrics& metrics_;
  application::RandomSource& random_;

  // Connections live on event loops, one thread each, assigned in turn as they are accepted: a
  // connection's reads, handler (unless it goes to the workers) and writes run on one thread,
  // with no hand-off between threads and no lock shared by the loops. A loop's work guard keeps
  // it running while it has no connection; shutdown releases the guards once drained.
  struct Loop {
    asio::io_context context{1};
    asio::executor_work_guard<asio::io_context::executor_type> guard{context.get_executor()};
    std::thread thread;
  };
  std::vector<std::unique_ptr<Loop>> loops_;
  std::size_t next_loop_ = 0;  // control strand only

  // The listener, the shutdown sequence and signal handling run on this strand, on a thread of
  // their own so that a busy loop never delays an accept or a signal. Its guard keeps it
  // running until drained: the last connection to close posts the drain check here, after the
  // listener and the timers may all have finished.
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> control_guard_{io_.get_executor()};
  asio::strand<asio::io_context::executor_type> control_;
  tcp::acceptor acceptor_;
  asio::steady_timer drain_timer_;
  asio::signal_set signals_;
  asio::thread_pool pool_;
  domain::RateLimiter limiter_;
  std::thread control_thread_;
  std::once_flag wait_once_;

  std::atomic<std::uint16_t> port_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_flag_{false};
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> active_connections_{0};
  bool stopping_ = false;  // control strand only
  bool drained_ = false;   // control strand only
  int signals_received_ = 0;

  std::mutex sessions_mutex_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

// One connection: a coroutine on its event loop that reads, answers and loops.
class HttpServer::Impl::Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Impl& server)
      : stream_(std::move(socket)),
        buffer_(server.options().max_header_bytes + kReadChunk),
        server_(server) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ = endpoint.address().to_string();
  }

  ~Session() { server_.Unregister(this); }

  auto executor() { return stream_.get_executor(); }

  asio::awaitable<void> Run();

  // Phase one of shutdown (on its loop): an idle connection closes now; a busy one finishes
  // its request and closes after the response.
  void Stop() {
    stopping_ = true;
    if (idle_) Close();
  }

  // Phase two (on its loop): close whatever the connection is doing.
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  struct Outcome {
    Response response;
    std::string route;
    std::string method;
    std::string path;
  };

  asio::awaitable<bool> WaitForRequest();
  asio::awaitable<void> Linger();
  asio::awaitable<Outcome> Dispatch(RawRequest& raw, const std::string& request_id);
  asio::awaitable<bool> Write(Response response, const std::string& request_id, unsigned version,
                              bool head, bool keep_alive);
  void Finish(const Outcome& outcome, const std::string& request_id, Clock::time_point start);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  Impl& server_;
  std::string client_;
  bool idle_ = false;
  bool stopping_ = false;
  std::size_t pipelined_ = 0;
};

// Waits, under the idle timeout, until the next request's first bytes are buffered. False when
// the connection should end (idle timeout, peer closed, shutdown).
asio::awaitable<bool> HttpServer::Impl::Session::WaitForRequest() {
  if (buffer_.size() > 0) co_return true;
  if (stopping_ || server_.stopping()) co_return false;
  idle_ = true;
  stream_.expires_after(server_.options().idle_timeout);
  auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kReadChunk), kTuple);
  idle_ = false;
  if (ec) co_return false;
  buffer_.commit(n);
  co_return true;
}

asio::awaitable<void> HttpServer::Impl::Session::Run() {
  const auto& options = server_.options();
  bool linger = false;
  while (co_await WaitForRequest()) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
    parser.body_limit(static_cast<std::uint64_t>(options.max_body_bytes));

    stream_.expires_after(options.read_timeout);
    auto [header_ec, header_bytes] =
        co_await bhttp::async_read_header(stream_, buffer_, parser, kTuple);
    const auto start = Clock::now();
    if (header_ec) {
      if (header_ec == bhttp::error::end_of_stream || header_ec == beast::error::timeout ||
          header_ec == asio::error::operation_aborted ||
          header_ec == bhttp::error::partial_message) {
        break;  // the peer left or stalled: nobody to answer
      }
      Outcome outcome{ErrorResponse(StatusForReadError(header_ec), ""), std::string(kRouteInvalid),
                      "OTHER", ""};
      outcome.response.log_detail = header_ec.message();
      const std::string request_id = server_.NewRequestId();
      Finish(outcome, request_id, start);
      linger = co_await Write(std::move(outcome.response), request_id, 11, false, false);
      break;
    }

    RawRequest& raw = parser.get();
    std::string request_id;
    if (auto incoming = raw.find("X-Request-Id");
        incoming != raw.end() && IsWellFormedRequestId(incoming->value())) {
      request_id = std::string(incoming->value());
    } else {
      request_id = server_.NewRequestId();
    }

    if (auto rejection = CheckFraming(raw)) {
      Outcome outcome{ErrorResponse(rejection->status, rejection->message),
                      std::string(kRouteInvalid), MethodLabel(raw.method_string()), ""};
      outcome.response.log_detail = std::string(rejection->detail);
      if (rejection->status == 426) outcome.response.SetHeader("Sec-WebSocket-Version", "13");
      Finish(outcome, request_id, start);
      linger = co_await Write(std::move(outcome.response), request_id, 11, false, false);
      break;
    }

    if (!parser.is_done()) {
      if (raw.version() == 11 && IEquals(TrimOws(raw[bhttp::field::expect]), "100-continue")) {
        bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
        auto [ec, n] = co_await bhttp::async_write(stream_, proceed, kTuple);
        if (ec) break;
      }
      auto [body_ec, body_bytes] = co_await bhttp::async_read(stream_, buffer_, parser, kTuple);
      if (body_ec) {
        if (body_ec == beast::error::timeout || body_ec == asio::error::operation_aborted ||
            body_ec == bhttp::error::end_of_stream || body_ec == bhttp::error::partial_message) {
          break;
        }
        Outcome outcome{ErrorResponse(StatusForReadError(body_ec), ""), std::string(kRouteInvalid),
                        MethodLabel(raw.method_string()), ""};
        outcome.response.log_detail = body_ec.message();
        Finish(outcome, request_id, start);
        linger =
            co_await Write(std::move(outcome.response), request_id, raw.version(), false, false);
        break;
      }
    }

    const unsigned version = raw.version();
    const bool head = raw.method() == bhttp::verb::head;
    bool keep_alive = raw.keep_alive();
    Outcome outcome = co_await Dispatch(raw, request_id);
    outcome.response.headers.erase(
        std::remove_if(outcome.response.headers.begin(), outcome.response.headers.end(),
                       [](const auto& h) { return IEquals(h.first, "X-Request-Id"); }),
        outcome.response.headers.end());
    Finish(outcome, request_id, start);

    // A burst of pipelined requests is served up to the cap, then the connection is closed so
    // the client reconnects and takes its turn again.
    pipelined_ = buffer_.size() > 0 ? pipelined_ + 1 : 0;
    if (pipelined_ >= options.max_pipelined_requests) keep_alive = false;
    if (stopping_ || server_.stopping()) keep_alive = false;

    if (!co_await Write(std::move(outcome.response), request_id, version, head, keep_alive)) break;
    if (!keep_alive) {
      linger = true;
      break;
    }
  }
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (linger) co_await Linger();
  stream_.socket().close(ec);
}

// After the last response, reads (and drops) what the client is still sending, for a short
// while: closing a socket with unread input makes the kernel send a reset, which can destroy the
// response before the client has read it (a 413 sent before the body arrived, say).
asio::awaitable<void> HttpServer::Impl::Session::Linger() {
  std::array<char, 4096> scratch{};
  std::size_t total = 0;
  stream_.expires_after(kLingerTime);
  while (total < kLingerBytes) {
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(scratch), kTuple);
    if (ec) break;  // the client closed too, or the linger time is over
    total += n;
  }
}

asio::awaitable<HttpServer::Impl::Session::Outcome> HttpServer::Impl::Session::Dispatch(
    RawRequest& raw, const std::string& request_id) {
  Outcome outcome;
  outcome.method = MethodLabel(raw.method_string());
  auto method = ParseMethod(outcome.method);
  if (!method) {
    outcome.route = std::string(kRouteInvalid);
    outcome.response = ErrorResponse(501, "Unsupported method.");
    co_return outcome;
  }
  auto target = ParseRequestTarget(raw.target());
  if (!target) {
    outcome.route = std::string(kRouteInvalid);
    outcome.response = ErrorResponse(target.error());
    co_return outcome;
  }
  outcome.path = target->path;

  auto match = server_.router().Find(*method, target->path);
  if (match.outcome == Router::Match::Outcome::kNotFound) {
    outcome.route = std::string(kRouteUnmatched);
    outcome.response = ErrorResponse(404, "");
    co_return outcome;
  }
  if (match.outcome == Router::Match::Outcome::kMethodNotAllowed) {
    outcome.route = std::string(kRouteUnmatched);
    outcome.response = ErrorResponse(405, "");
    outcome.response.SetHeader("Allow", match.allow);
    co_return outcome;
  }

  Request request;
  request.method = *method;
  request.path = std::move(target->path);
  request.query = std::move(target->query);
  request.params = std::move(match.params);
  for (const auto& field : raw) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(raw.body());
  request.client_address = client_;
  request.request_id = request_id;
  outcome.route = match.route->pattern;
  // The API's routes are limited; probes, metrics, public keys and CORS preflights are not (an
  // orchestrator polling /ready from one address must never be refused).
  const std::string_view pattern = match.route->pattern;
  const bool limited_route = request.method != Method::kOptions &&
                             (pattern.starts_with("/api/v1/") || pattern.starts_with("/p/") ||
                              pattern.starts_with("/_/"));
  if (limited_route) {
    if (auto retry = server_.Limited(request)) {
      domain::Error error = domain::Error::Make(domain::ErrorCode::kResourceExhausted,
                                                "Too Many Requests.");
      error.retry_after_seconds = *retry;
      outcome.response = ErrorResponse(error);
      co_return outcome;
    }
  }
  const LoopReads loop_reads = server_.options().loop_reads;
  const http::Dispatch dispatch = match.route->dispatch;
  const bool on_loop =
      dispatch == http::Dispatch::kInline ||
      (dispatch == http::Dispatch::kPointRead && loop_reads != LoopReads::kNone) ||
      (dispatch == http::Dispatch::kRead && loop_reads == LoopReads::kAll);
  if (on_loop) {
    outcome.response = Invoke(match.route->handler, request);
  } else {
    outcome.response = co_await server_.RunOnWorkers(match.route->handler, request);
  }
  co_return outcome;
}

// Records and logs one answered request (before writing, so the line exists even when the
// client has gone away).
void HttpServer::Impl::Session::Finish(const Outcome& outcome, const std::string& request_id,
                                       Clock::time_point start) {
  const auto duration =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  const int status = outcome.response.status;
  server_.metrics().Record(outcome.method, outcome.route, status, duration);
  const LogLevel level = status >= 500 ? LogLevel::kError : LogLevel::kInfo;
  Logger& logger = server_.logger();
  if (!logger.Enabled(level)) return;
  if (outcome.response.log_detail.empty()) {
    logger.Log(level, "request",
               {{"request_id", request_id}, {"method", outcome.method}, {"route", outcome.route},
                {"path", outcome.path}, {"status", status}, {"duration_us", duration.count()},
                {"client", client_}});
  } else {
    logger.Log(level, "request",
               {{"request_id", request_id}, {"method", outcome.method}, {"route", outcome.route},
                {"path", outcome.path}, {"status", status}, {"duration_us", duration.count()},
                {"client", client_}, {"error", outcome.response.log_detail}});
  }
}

asio::awaitable<bool> HttpServer::Impl::Session::Write(Response response,
                                                       const std::string& request_id,
                                                       unsigned version, bool head,
                                                       bool keep_alive) {
  bhttp::response<bhttp::string_body> message{static_cast<bhttp::status>(response.status),
                                              version};
  for (auto& [name, value] : response.headers) message.set(name, value);
  message.set("X-Request-Id", request_id);
  message.set("X-Content-Type-Options", "nosniff");
  const bool bodiless = response.status == 204 || response.status == 304 || response.status < 200;
  if (head) {
    message.content_length(response.body.size());
  } else if (!bodiless) {
    message.body() = std::move(response.body);
    message.prepare_payload();
  }
  message.keep_alive(keep_alive);
  stream_.expires_after(server_.options().read_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream_, message, kTuple);
  co_return !ec;
}

asio::awaitable<void> HttpServer::Impl::Listen() {
  asio::steady_timer backoff(control_);
  while (true) {
    Loop& loop = *loops_[next_loop_];
    next_loop_ = (next_loop_ + 1) % loops_.size();
    auto [ec, socket] = co_await acceptor_.async_accept(loop.context.get_executor(), kTuple);
    if (stopping_ || ec == asio::error::operation_aborted) break;
    if (ec) {
      // Typically EMFILE: back off briefly instead of spinning on the error.
      logger_.Warn("accept failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    if (active_connections_.load() >= options_.max_connections) {
      RejectConnection(std::move(socket));
      continue;
    }
    active_connections_.fetch_add(1);
    metrics_.ConnectionOpened();
    auto session = std::make_shared<Session>(std::move(socket), *this);
    Register(session.get(), session);
    auto executor = session->executor();
    asio::co_spawn(
        executor, [session]() -> asio::awaitable<void> { co_await session->Run(); },
        [this](std::exception_ptr error) {
          if (!error) return;
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            logger_.Error("connection failed", {{"error", e.what()}});
          } catch (...) {
            logger_.Error("connection failed", {{"error", "unknown exception"}});
          }
        });
  }
}

// Over the connection cap: a short 503 written synchronously (a fresh socket's send buffer
// always takes it) and the connection closed, without a session.
void HttpServer::Impl::RejectConnection(tcp::socket socket) {
  Response busy = ErrorResponse(503, "Too many connections; retry shortly.");
  bhttp::response<bhttp::string_body> message{bhttp::status::service_unavailable, 11};
  for (auto& [name, value] : busy.headers) message.set(name, value);
  message.set("X-Request-Id", NewRequestId());
  message.body() = std::move(busy.body);
  message.prepare_payload();
  message.keep_alive(false);
  beast::error_code ec;
  bhttp::write(socket, message, ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  metrics_.Record("OTHER", kRouteInvalid, 503, std::chrono::microseconds(0));
  logger_.Warn("connection refused: too many connections",
               {{"max_connections", options_.max_connections}});
}

domain::Result<void> HttpServer::Impl::Start() {
  beast::error_code ec;
  // An IP address, or "localhost" (RFC 6761: always loopback). Other host names are refused
  // rather than resolved: a listen address must not depend on DNS at start-up.
  const std::string host = options_.address == "localhost" ? "127.0.0.1" : options_.address;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return domain::Fail(domain::Error::Field(
        "http", "validation_invalid_address",
        "Invalid listen address \"" + options_.address + "\": not an IP address."));
  }
  const tcp::endpoint endpoint{address, options_.port};
  auto failed = [&](std::string_view step) {
    domain::Error error = domain::Error::Make(
        domain::ErrorCode::kUnavailable, "Cannot listen on " + options_.address + ":" +
                                             std::to_string(options_.port) + ": " + ec.message());
    error.internal = std::string(step) + ": " + ec.message();
    return domain::Fail(std::move(error));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return failed("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return failed("reuse_address");
  acceptor_.bind(endpoint, ec);
  if (ec) return failed("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return failed("listen");
  port_.store(acceptor_.local_endpoint(ec).port());

  asio::co_spawn(control_, Listen(), [this](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      logger_.Error("listener failed", {{"error", e.what()}});
    } catch (...) {
      logger_.Error("listener failed", {{"error", "unknown exception"}});
    }
  });
  started_.store(true);
  const std::size_t threads = loops_.size();
  control_thread_ = std::thread([this] { io_.run(); });
  for (auto& loop : loops_) loop->thread = std::thread([&context = loop->context] { context.run(); });
  logger_.Info("http server started",
               {{"address", options_.address}, {"port", port_.load()},
                {"io_threads", threads}, {"worker_threads", options_.worker_threads},
                {"loop_reads", LoopReadsName(options_.loop_reads)}});
  return {};
}

void HttpServer::Impl::BeginShutdown() {
  if (stopping_) return;
  stopping_ = true;
  stopping_flag_.store(true, std::memory_order_release);
  beast::error_code ec;
  acceptor_.close(ec);
  auto sessions = SnapshotSessions();
  logger_.Info("shutdown started", {{"open_connections", sessions.size()},
                                    {"timeout_ms", options_.shutdown_timeout.count()}});
  for (auto& weak : sessions) {
    if (auto session = weak.lock()) {
      asio::post(session->executor(), [session] { session->Stop(); });
    }
  }
  drain_timer_.expires_after(options_.shutdown_timeout);
  drain_timer_.async_wait([this](const beast::error_code& error) {
    if (!error) ForceClose();
  });
  CheckDrained();
}

void HttpServer::Impl::ForceClose() {
  auto sessions = SnapshotSessions();
  if (!sessions.empty()) {
    logger_.Warn("shutdown timeout: closing connections", {{"open_connections", sessions.size()}});
  }
  for (auto& weak : sessions) {
    if (auto session = weak.lock()) {
      asio::post(session->executor(), [session] { session->Close(); });
    }
  }
}

void HttpServer::Impl::CheckDrained() {
  if (!stopping_ || drained_ || !NoSessions()) return;
  drained_ = true;
  drain_timer_.cancel();
  for (auto& loop : loops_) loop->guard.reset();
  control_guard_.reset();
  beast::error_code ec;
  signals_.cancel(ec);
  logger_.Info("http server stopped");
}

void HttpServer::Impl::WaitForSignal() {
  signals_.async_wait([this](const beast::error_code& ec, int signal_number) {
    if (ec) return;  // cancelled once drained
    ++signals_received_;
    logger_.Info("signal received", {{"signal", signal_number}});
    if (signals_received_ == 1) {
      BeginShutdown();
    } else {
      ForceClose();
    }
    if (!drained_) WaitForSignal();
  });
}

HttpServer::HttpServer(HttpServerOptions options, const Router& router, Logger& logger,
                       HttpMetrics& metrics, application::RandomSource& random)
    : impl_(std::make_unique<Impl>(std::move(options), router, logger, metrics, random)) {}

HttpServer::~HttpServer() = default;

domain::Result<void> HttpServer::Start() { return impl_->Start(); }
std::uint16_t HttpServer::port() const noexcept { return impl_->port(); }
void HttpServer::Shutdown() { impl_->Shutdown(); }
void HttpServer::ShutdownOnSignals() { impl_->ShutdownOnSignals(); }
void HttpServer::Wait() { impl_->Wait(); }

}  // namespace socle::adapters::http
