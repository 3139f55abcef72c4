#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace socle::testing {

/// One HTTP response as a test sees it.
struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
  bool keep_alive = true;

  /// The first header named `lower_name`, or "" when absent.
  std::string Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
};

/// A small synchronous HTTP/1.1 client over one keep-alive connection to 127.0.0.1, written
/// for tests (Beast's synchronous API; no timeouts beyond the socket's own).
class HttpTestClient final {
 public:
  explicit HttpTestClient(std::uint16_t port);
  ~HttpTestClient();
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  /// Sends one request and reads its response. Headers are added as given; Host and
  /// Content-Length are set automatically (Content-Type: application/json when a body is given
  /// and no Content-Type header is).
  HttpReply Send(std::string_view method, std::string_view target, std::string body = {},
                 std::vector<std::pair<std::string, std::string>> headers = {});

  /// Sends the request without reading the response (for in-flight tests).
  void SendOnly(std::string_view method, std::string_view target);
  /// Reads one response.
  HttpReply Receive();

  /// True when the server has closed the connection (a read sees end of stream within
  /// `wait`).
  bool ClosedByServer(std::chrono::milliseconds wait = std::chrono::milliseconds(2000));

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// One request on a fresh connection.
HttpReply Fetch(std::uint16_t port, std::string_view method, std::string_view target,
                std::string body = {},
                std::vector<std::pair<std::string, std::string>> headers = {});

/// What a raw exchange produced: the bytes the server sent and whether it closed the socket.
struct RawExchangeResult {
  std::string received;
  bool closed = false;
};

/// Opens a TCP connection to 127.0.0.1:port, writes `bytes` as they are, then reads until the
/// server closes or `wait` passes without the server closing.
RawExchangeResult RawExchange(std::uint16_t port, std::string_view bytes,
                              std::chrono::milliseconds wait = std::chrono::milliseconds(2000));

/// True when a TCP connection to 127.0.0.1:port is accepted.
bool CanConnect(std::uint16_t port);

/// Parses zero or more HTTP/1.1 responses from raw bytes; parsing stops at the first byte that
/// is not a complete response.
std::vector<HttpReply> ParseResponses(std::string_view raw);

}  // namespace socle::testing
