#include "smtp_protocol.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace socle::adapters::mail::smtp {
namespace {

constexpr std::size_t kMaxDescriptionLength = 600;

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  }
  return out;
}

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = text.find_first_not_of(' ', i);
    if (start == std::string_view::npos) break;
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    words.push_back(text.substr(start, end - start));
    i = end;
  }
  return words;
}

}  // namespace

std::string Reply::Describe() const {
  std::string out = std::to_string(code);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += i == 0 ? " " : " / ";
    out += lines[i];
  }
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7F) c = '?';
  }
  if (out.size() > kMaxDescriptionLength) {
    out.resize(kMaxDescriptionLength);
    out += "...";
  }
  return out;
}

ReplyReader::Status ReplyReader::Add(std::string_view line) {
  auto malformed = [this](std::string why) {
    error_ = std::move(why);
    return Status::kMalformed;
  };
  if (line.size() > kMaxReplyLineLength) return malformed("a reply line is too long");
  if (line.size() < 3) return malformed("a reply line has no code");
  int code = 0;
  auto [end, error] = std::from_chars(line.data(), line.data() + 3, code);
  if (error != std::errc() || end != line.data() + 3 || code < 100 || code > 599) {
    return malformed("a reply line does not start with a reply code");
  }
  if (!reply_.lines.empty() && code != reply_.code) {
    return malformed("the lines of a reply carry different codes");
  }
  reply_.code = code;
  bool last = true;
  if (line.size() > 3) {
    if (line[3] == '-') {
      last = false;
    } else if (line[3] != ' ') {
      return malformed("a reply code is not followed by a space or a hyphen");
    }
  }
  reply_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
  if (last) return Status::kComplete;
  if (reply_.lines.size() >= kMaxReplyLines) return malformed("a reply has too many lines");
  return Status::kNeedMore;
}

Reply ReplyReader::Take() {
  Reply reply = std::move(reply_);
  reply_ = Reply{};
  return reply;
}

Extensions ParseExtensions(const Reply& ehlo) {
  Extensions extensions;
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
    const std::string line = Upper(ehlo.lines[i]);
    std::vector<std::string_view> words = Words(line);
    if (words.empty()) continue;
    std::string_view keyword = words.front();
    std::vector<std::string_view> parameters(words.begin() + 1, words.end());
    if (keyword.starts_with("AUTH=")) {
      // Pre-RFC 4954 servers advertise "AUTH=LOGIN PLAIN".
      parameters.insert(parameters.begin(), keyword.substr(5));
      keyword = "AUTH";
    }
    if (keyword == "STARTTLS") {
      extensions.starttls = true;
    } else if (keyword == "AUTH") {
      for (std::string_view mechanism : parameters) {
        if (mechanism.empty()) continue;
        if (mechanism == "PLAIN") extensions.auth_plain = true;
        if (mechanism == "LOGIN") extensions.auth_login = true;
        bool known = false;
        for (const std::string& seen : extensions.auth_mechanisms) known = known || seen == mechanism;
        if (!known) extensions.auth_mechanisms.emplace_back(mechanism);
      }
    } else if (keyword == "SIZE") {
      std::uint64_t limit = 0;
      if (!parameters.empty()) {
        std::string_view text = parameters.front();
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
        if (error != std::errc() || end != text.data() + text.size()) limit = 0;
      }
      extensions.size = limit;
    }
  }
  return extensions;
}

std::string DotStuff(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 64 + 8);
  bool line_start = true;
  for (char c : message) {
    if (line_start && c == '.') out.push_back('.');
    out.push_back(c);
    line_start = c == '\n';
  }
  if (!out.empty() && !out.ends_with("\r\n")) out.append("\r\n");
  out.append(".\r\n");
  return out;
}

}  // namespace socle::adapters::mail::smtp
