#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "socle/domain/error.hpp"

namespace socle::domain {

// A project's settings: the groups of PocketBase's (≥ 0.23) application settings that mean
// something for a Socle project, with PocketBase's names and defaults. The groups that hold
// secrets (smtp, s3, backups) and the logs group are not part of them: they belong to the mail,
// file storage, backup and logging work.

/// `meta`: how the project presents itself (e-mails, links).
struct MetaSettings {
  std::string app_name = "Acme";
  std::string app_url = "http://localhost:8090";
  std::string sender_name = "Support";
  std::string sender_address = "support@example.com";
  bool hide_controls = false;

  friend bool operator==(const MetaSettings&, const MetaSettings&) = default;
};

/// `batch`: the /api/batch endpoint. Enabled by default in Socle (PocketBase ships it
/// disabled): the SDKs expose batches, and a feature they expose should work out of the box.
struct BatchSettings {
  bool enabled = true;
  std::int64_t max_requests = 50;   ///< Operations per batch.
  std::int64_t timeout = 3;         ///< Seconds the whole batch may take; 0: PocketBase's 3.
  std::int64_t max_body_size = 0;   ///< Bytes of the batch request body; 0: no own limit.

  friend bool operator==(const BatchSettings&, const BatchSettings&) = default;
};

/// One rate limit rule, PocketBase's: `label` is a tag ("users:create", "*:auth"), a path
/// ("/api/") or a method and path ("POST /api/collections/"); `audience` is "", "@guest" or
/// "@auth".
struct RateLimitRule {
  std::string label;
  std::int64_t max_requests = 0;  ///< Requests allowed per `duration`.
  std::int64_t duration = 0;      ///< Seconds.
  std::string audience;

  friend bool operator==(const RateLimitRule&, const RateLimitRule&) = default;
};

/// PocketBase's default rules (disabled until `enabled` is set).
std::vector<RateLimitRule> DefaultRateLimitRules();

/// `rateLimits`: stored and validated; enforcing them is the rate limiting work's.
struct RateLimitSettings {
  bool enabled = false;
  std::vector<RateLimitRule> rules = DefaultRateLimitRules();

  friend bool operator==(const RateLimitSettings&, const RateLimitSettings&) = default;
};

/// `trustedProxy`: which headers carry the client's address behind a proxy.
struct TrustedProxySettings {
  std::vector<std::string> headers;
  bool use_leftmost_ip = false;

  friend bool operator==(const TrustedProxySettings&, const TrustedProxySettings&) = default;
};

/// A project's settings; a default-constructed value is what a project has until they are
/// first changed.
struct ProjectSettings {
  MetaSettings meta;
  BatchSettings batch;
  RateLimitSettings rate_limits;
  TrustedProxySettings trusted_proxy;

  friend bool operator==(const ProjectSettings&, const ProjectSettings&) = default;
};

/// Checks PocketBase's rules: meta.appName and meta.senderName required, at most 255
/// characters; meta.appURL an absolute http(s) URL; meta.senderAddress an e-mail address;
/// batch.maxRequests and batch.timeout required (non-zero) when batches are enabled, never
/// negative, batch.maxBodySize never negative; rateLimits.rules required when enabled, each
/// with a label of PocketBase's shapes, maxRequests and duration at least 1, an audience of
/// "", "@guest" or "@auth", and no label (with its audience) repeating or prefixing another's.
/// invalid_argument listing every bad field, keyed as PocketBase keys them ("meta.appName",
/// "batch.maxRequests", "rateLimits.rules.0.label").
Result<void> ValidateProjectSettings(const ProjectSettings& settings);

}  // namespace socle::domain
