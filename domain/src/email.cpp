#include "socle/domain/email.hpp"

namespace socle::domain {
namespace {

bool IsLocalChar(unsigned char c) {
  if (c >= 0x80) return true;  // internationalised local parts (RFC 6531)
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~.").find(char(c)) != std::string_view::npos;
}

bool IsLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (unsigned char c : label) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c >= 0x80;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<Email> Email::Parse(std::string_view text) {
  auto bad = [](std::string message) {
    return Fail(Error::Field("email", "validation_invalid_email", std::move(message)));
  };
  if (text.empty()) {
    return Fail(Error::Field("email", "validation_required", "Missing required value."));
  }
  if (text.size() > kMaxLength) return bad("Must be at most 254 characters.");
  auto at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == text.size()) {
    return bad("Must be a valid email address.");
  }
  std::string_view local = text.substr(0, at);
  if (local.size() > kMaxLocalLength) return bad("The part before @ must be at most 64 characters.");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return bad("Must be a valid email address.");
  }
  for (unsigned char c : local) {
    if (!IsLocalChar(c)) return bad("Must be a valid email address.");
  }
  std::string domain(text.substr(at + 1));
  for (char& c : domain) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  if (domain.find('.') == std::string::npos) return bad("Must be a valid email address.");
  std::string_view rest(domain);
  while (!rest.empty()) {
    auto dot = rest.find('.');
    if (!IsLabel(rest.substr(0, dot))) return bad("Must be a valid email address.");
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
    if (rest.empty()) return bad("Must be a valid email address.");
  }
  std::string value(local);
  value += '@';
  value += domain;
  return Email(std::move(value));
}

}  // namespace socle::domain
