#include "socle/domain/token_claims.hpp"

#include <cstdint>
#include <limits>
#include <utility>

namespace socle::domain {

namespace {

// Timestamps that came from a token can sit anywhere in int64's range: the bounds saturate
// rather than overflow, so a hostile exp near the limit cannot wrap around into the past.
std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

std::int64_t SkewMicros(std::chrono::seconds skew) noexcept {
  if (skew.count() <= 0) return 0;
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1'000'000;
  const std::int64_t seconds = skew.count() > kMaxSeconds ? kMaxSeconds : skew.count();
  return seconds * 1'000'000;
}

std::unexpected<Error> Unauthenticated(std::string message, std::string internal) {
  Error error = Error::Make(ErrorCode::kUnauthenticated, std::move(message));
  error.internal = std::move(internal);
  return std::unexpected(std::move(error));
}

}  // namespace

Result<void> CheckClaims(const TokenClaims& claims, const VerifyPolicy& policy, Timestamp now) {
  if (claims.aud != policy.expected_aud) {
    return Unauthenticated("The token is not meant for this service.",
                           "token aud '" + claims.aud + "' differs from the expected audience");
  }
  if (claims.iss != policy.expected_iss) {
    return Unauthenticated("The token was not issued by this service.",
                           "token iss '" + claims.iss + "' differs from the expected issuer");
  }
  const std::int64_t skew = SkewMicros(policy.max_skew);
  const std::int64_t at = now.unix_micros();
  if (SaturatingAdd(claims.exp.unix_micros(), skew) < at) {
    return Unauthenticated("The token has expired.", "exp " + claims.exp.ToIso8601() +
                                                         " is before now " + now.ToIso8601());
  }
  if (claims.nbf && SaturatingAdd(claims.nbf->unix_micros(), -skew) > at) {
    return Unauthenticated("The token is not valid yet.", "nbf " + claims.nbf->ToIso8601() +
                                                              " is after now " + now.ToIso8601());
  }
  if (SaturatingAdd(claims.iat.unix_micros(), -skew) > at) {
    return Unauthenticated("The token is not valid yet.", "iat " + claims.iat.ToIso8601() +
                                                              " is in the future of " +
                                                              now.ToIso8601());
  }
  return {};
}

}  // namespace socle::domain
