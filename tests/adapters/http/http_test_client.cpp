#include "http_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace socle::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

HttpReply ToReply(bhttp::response<bhttp::string_body>& message) {
  HttpReply reply;
  reply.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    reply.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
  }
  reply.body = std::move(message.body());
  reply.keep_alive = message.keep_alive();
  return reply;
}

// A plain POSIX socket for raw exchanges: tests must be able to send bytes no client library
// would produce.
int ConnectRaw(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string HttpReply::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

bool HttpReply::HasHeader(std::string_view lower_name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return h.first == lower_name; });
}

struct HttpTestClient::State {
  asio::io_context io;
  tcp::socket socket{io};
  beast::flat_buffer buffer;
  std::uint16_t port = 0;
  std::string last_method;
};

HttpTestClient::HttpTestClient(std::uint16_t port) : state_(std::make_unique<State>()) {
  state_->port = port;
  state_->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
}

HttpTestClient::~HttpTestClient() {
  beast::error_code ec;
  state_->socket.shutdown(tcp::socket::shutdown_both, ec);
  state_->socket.close(ec);
}

HttpReply HttpTestClient::Send(std::string_view method, std::string_view target,
                               std::string body,
                               std::vector<std::pair<std::string, std::string>> headers) {
  bhttp::request<bhttp::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(bhttp::field::host, "127.0.0.1:" + std::to_string(state_->port));
  bool has_content_type = false;
  for (auto& [name, value] : headers) {
    if (Lower(name) == "content-type") has_content_type = true;
    request.set(name, value);
  }
  if (!body.empty() && !has_content_type) {
    request.set(bhttp::field::content_type, "application/json");
  }
  request.body() = std::move(body);
  if (!request.body().empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    request.prepare_payload();
  }
  bhttp::write(state_->socket, request);
  state_->last_method = std::string(method);
  return Receive();
}

void HttpTestClient::SendOnly(std::string_view method, std::string_view target) {
  bhttp::request<bhttp::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(state_->socket, request);
  state_->last_method = std::string(method);
}

HttpReply HttpTestClient::Receive() {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (state_->last_method == "HEAD") parser.skip(true);
  bhttp::read(state_->socket, state_->buffer, parser);
  return ToReply(parser.get());
}

bool HttpTestClient::ClosedByServer(std::chrono::milliseconds wait) {
  if (state_->buffer.size() > 0) return false;
  const int fd = state_->socket.native_handle();
  pollfd poll_fd{fd, POLLIN, 0};
  if (::poll(&poll_fd, 1, static_cast<int>(wait.count())) <= 0) return false;
  char byte = 0;
  const auto n = ::recv(fd, &byte, 1, MSG_PEEK);
  return n <= 0;  // end of stream, or reset
}

HttpReply Fetch(std::uint16_t port, std::string_view method, std::string_view target,
                std::string body, std::vector<std::pair<std::string, std::string>> headers) {
  HttpTestClient client(port);
  return client.Send(method, target, std::move(body), std::move(headers));
}

RawExchangeResult RawExchange(std::uint16_t port, std::string_view bytes,
                              std::chrono::milliseconds wait) {
  RawExchangeResult result;
  const int fd = ConnectRaw(port);
  if (fd < 0) throw std::runtime_error("cannot connect");
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  char chunk[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd poll_fd{fd, POLLIN, 0};
    const int ready = ::poll(&poll_fd, 1, static_cast<int>(left.count()));
    if (ready <= 0) break;
    const auto n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n == 0) {
      result.closed = true;
      break;
    }
    if (n < 0) {
      result.closed = true;  // reset by peer counts as closed
      break;
    }
    result.received.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return result;
}

bool CanConnect(std::uint16_t port) {
  const int fd = ConnectRaw(port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

std::vector<HttpReply> ParseResponses(std::string_view raw) {
  std::vector<HttpReply> replies;
  while (!raw.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    beast::error_code ec;
    const std::size_t used = parser.put(asio::buffer(raw.data(), raw.size()), ec);
    if (ec || !parser.is_done()) {
      // A response framed by connection close: let the parser see end of input.
      if (!ec && parser.is_header_done() && parser.need_eof()) {
        parser.put_eof(ec);
        if (!ec) replies.push_back(ToReply(parser.get()));
      }
      break;
    }
    replies.push_back(ToReply(parser.get()));
    raw.remove_prefix(used);
  }
  return replies;
}

}  // namespace socle::testing
