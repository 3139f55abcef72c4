#include "scripted_smtp_server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>
#include <utility>

namespace socle::testing {
namespace {

constexpr int kWaitMillis = 10'000;

// Reads one CRLF-terminated line from `fd`, keeping any following bytes in `buffer`.
std::optional<std::string> ReadLine(int fd, std::string& buffer) {
  while (true) {
    const std::size_t end = buffer.find("\r\n");
    if (end != std::string::npos) {
      std::string line = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      return line;
    }
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, kWaitMillis) <= 0) return std::nullopt;
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

ScriptedSmtpServer::ScriptedSmtpServer(std::vector<Step> script) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 1) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listener_);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this, script = std::move(script)]() mutable { Play(std::move(script)); });
}

ScriptedSmtpServer::~ScriptedSmtpServer() {
  if (thread_.joinable()) thread_.join();
  ::close(listener_);
}

std::vector<std::string> ScriptedSmtpServer::received() {
  std::lock_guard lock(mutex_);
  return received_;
}

std::string ScriptedSmtpServer::failure() {
  std::lock_guard lock(mutex_);
  return failure_;
}

void ScriptedSmtpServer::Play(std::vector<Step> script) {
  auto fail = [this](std::string why) {
    std::lock_guard lock(mutex_);
    failure_ = std::move(why);
  };
  pollfd incoming{listener_, POLLIN, 0};
  if (::poll(&incoming, 1, kWaitMillis) <= 0) return fail("no connection came");
  const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return fail("accept failed");
  std::string buffer;
  for (const Step& step : script) {
    if (!step.expect.empty()) {
      auto line = ReadLine(fd, buffer);
      if (!line) {
        fail("the client went away or stalled before " + step.expect);
        break;
      }
      {
        std::lock_guard lock(mutex_);
        received_.push_back(*line);
      }
      if (!line->starts_with(step.expect)) {
        fail("expected " + step.expect + ", got " + *line);
        break;
      }
    }
    if (!WriteAll(fd, step.reply)) {
      fail("cannot write the reply to " + step.expect);
      break;
    }
    if (step.then_data) {
      while (true) {
        auto line = ReadLine(fd, buffer);
        if (!line) {
          fail("the message data did not end");
          break;
        }
        if (*line == ".") break;
      }
    }
  }
  // The script is over: the client sees the end of the stream at once (as from a server that
  // hangs up), and gets until it closes its side to finish what it was writing.
  ::shutdown(fd, SHUT_WR);
  pollfd closing{fd, POLLIN, 0};
  char ignored[256];
  while (::poll(&closing, 1, kWaitMillis) > 0 && ::read(fd, ignored, sizeof ignored) > 0) {
  }
  ::close(fd);
}

}  // namespace socle::testing
