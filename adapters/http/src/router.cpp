#include "socle/adapters/http/router.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "socle/adapters/http/request_target.hpp"

namespace socle::adapters::http {

namespace {

bool IsParameter(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Splits "/a/b/c" into {"a","b","c"}; "/" gives {} and an empty segment ("//", trailing "/")
// gives nullopt: such paths never match, so "/api/v1/orgs/" is a 404, not an alias.
std::optional<std::vector<std::string_view>> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') return std::nullopt;
  if (path == "/") return segments;
  path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (segment.empty()) return std::nullopt;
    segments.push_back(segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

// Specificity of a matching route, compared lexicographically: literal segments earlier in the
// path win over parameters.
std::vector<int> Specificity(const Router::Route& route) {
  std::vector<int> score;
  score.reserve(route.segments.size());
  for (const auto& segment : route.segments) score.push_back(IsParameter(segment) ? 0 : 1);
  return score;
}

bool Matches(const Router::Route& route, const std::vector<std::string_view>& segments) {
  if (route.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (!IsParameter(route.segments[i]) && route.segments[i] != segments[i]) return false;
  }
  return true;
}

domain::Result<void> BadPattern(std::string_view pattern, std::string_view why) {
  return domain::Fail(domain::ErrorCode::kInvalidArgument,
                      "Bad route pattern \"" + std::string(pattern) + "\": " + std::string(why));
}

}  // namespace

domain::Result<void> Router::Add(Method method, std::string_view pattern, Handler handler,
                                 Dispatch dispatch) {
  auto segments = SplitPath(pattern);
  if (!segments) return BadPattern(pattern, "must start with '/' and have no empty segment");
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::string(pattern);
  route->handler = std::move(handler);
  route->dispatch = dispatch;
  std::set<std::string_view> names;
  for (std::string_view segment : *segments) {
    const bool has_brace = segment.find_first_of("{}") != std::string_view::npos;
    if (IsParameter(segment)) {
      std::string_view name = segment.substr(1, segment.size() - 2);
      if (name.empty() || name.find_first_of("{}") != std::string_view::npos) {
        return BadPattern(pattern, "malformed parameter");
      }
      if (!names.insert(name).second) return BadPattern(pattern, "repeated parameter name");
    } else if (has_brace) {
      return BadPattern(pattern, "braces must enclose a whole segment");
    }
    route->segments.emplace_back(segment);
  }
  for (const auto& existing : routes_) {
    if (existing->method == method && existing->segments == route->segments) {
      return BadPattern(pattern, "registered twice for this method");
    }
  }
  routes_.push_back(std::move(route));
  return {};
}

Router::Match Router::Find(Method method, std::string_view path) const {
  Match match;
  auto segments = SplitPath(path);
  if (!segments) return match;

  const Route* best = nullptr;
  std::vector<int> best_score;
  const Route* best_get = nullptr;  // HEAD falls back to GET
  std::vector<int> best_get_score;
  std::array<bool, 7> allowed{};
  bool any = false;
  for (const auto& route : routes_) {
    if (!Matches(*route, *segments)) continue;
    any = true;
    allowed[static_cast<std::size_t>(route->method)] = true;
    auto score = Specificity(*route);
    if (route->method == method && (best == nullptr || score > best_score)) {
      best = route.get();
      best_score = std::move(score);
    } else if (method == Method::kHead && route->method == Method::kGet &&
               (best_get == nullptr || score > best_get_score)) {
      best_get = route.get();
      best_get_score = std::move(score);
    }
  }
  if (best == nullptr) best = best_get;
  if (best == nullptr) {
    if (!any) return match;
    if (allowed[static_cast<std::size_t>(Method::kGet)]) {
      allowed[static_cast<std::size_t>(Method::kHead)] = true;
    }
    match.outcome = Match::Outcome::kMethodNotAllowed;
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      if (!allowed[i]) continue;
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += ToString(static_cast<Method>(i));
    }
    return match;
  }

  for (std::size_t i = 0; i < segments->size(); ++i) {
    if (!IsParameter(best->segments[i])) continue;
    auto decoded = PercentDecode((*segments)[i], false);
    if (!decoded) return Match{};  // a malformed escape names nothing: 404
    const std::string& name = best->segments[i];
    match.params.emplace_back(name.substr(1, name.size() - 2), std::move(*decoded));
  }
  match.outcome = Match::Outcome::kFound;
  match.route = best;
  return match;
}

}  // namespace socle::adapters::http
