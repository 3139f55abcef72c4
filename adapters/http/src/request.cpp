#include "socle/adapters/http/request.hpp"

#include <algorithm>
#include <array>

namespace socle::adapters::http {

namespace {

constexpr std::array<std::pair<Method, std::string_view>, 7> kMethods{{
    {Method::kGet, "GET"},
    {Method::kHead, "HEAD"},
    {Method::kPost, "POST"},
    {Method::kPut, "PUT"},
    {Method::kPatch, "PATCH"},
    {Method::kDelete, "DELETE"},
    {Method::kOptions, "OPTIONS"},
}};

std::optional<std::string_view> FindFirst(const Request::Pairs& pairs, std::string_view name) {
  for (const auto& [key, value] : pairs) {
    if (key == name) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(Method method) noexcept {
  for (const auto& [m, name] : kMethods) {
    if (m == method) return name;
  }
  return "GET";
}

std::optional<Method> ParseMethod(std::string_view text) noexcept {
  for (const auto& [m, name] : kMethods) {
    if (name == text) return m;
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::Query(std::string_view name) const noexcept {
  return FindFirst(query, name);
}

std::optional<std::string_view> Request::Header(std::string_view lower_name) const noexcept {
  return FindFirst(headers, lower_name);
}

std::string_view Request::Param(std::string_view name) const noexcept {
  return FindFirst(params, name).value_or(std::string_view{});
}

}  // namespace socle::adapters::http
