#include "socle/application/platform_trail.hpp"

#include "socle/domain/url.hpp"

namespace socle::application {

using domain::JsonValue;
using domain::Result;
using Aspects = std::vector<JsonValue::Member>;

Result<void> PlatformTrail::Write(const AuditEntry& entry,
                                  const std::function<Result<void>()>& change,
                                  RecordFailure on_failure) {
  bool changed = false;
  auto written = catalogue_.Audited(
      entry.org_id, [&](AuditAppender& appender) { return trail_.Append(appender, entry); },
      [&]() -> Result<void> {
        auto done = change();
        changed = done.has_value();
        return done;
      });
  if (written || changed || on_failure == RecordFailure::kNo) return written;  // changed yet failed: the event could not be written
  // The change itself failed: the attempt is recorded on its own. Should that fail too, the
  // caller hears of the change's error, the one that explains what happened.
  AuditEntry attempt = entry;
  attempt.outcome = OutcomeOf(written.error());
  attempt.diff = {};
  (void)Record(attempt);
  return written;
}

Result<void> PlatformTrail::Record(const AuditEntry& entry) {
  return catalogue_.RecordAudit(
      entry.org_id, [&](AuditAppender& appender) { return trail_.Append(appender, entry); });
}

AuditEntry PlatformEntry(const AuditContext& context, std::string org_id, std::string action,
                         std::string target_kind, std::string target_id, domain::AuditDiff diff) {
  AuditEntry entry;
  entry.org_id = std::move(org_id);
  entry.actor = context.actor;
  entry.origin = context.origin;
  entry.action = std::move(action);
  entry.target_kind = std::move(target_kind);
  entry.target_id = std::move(target_id);
  entry.diff = std::move(diff);
  return entry;
}

Result<void> WritePlatform(PlatformTrail* trail, const AuditEntry& entry,
                           const std::function<Result<void>()>& change,
                           RecordFailure on_failure) {
  return trail != nullptr ? trail->Write(entry, change, on_failure) : change();
}

domain::Error RecordRefusal(PlatformTrail* trail, AuditEntry entry, domain::Error error) {
  if (trail != nullptr && OutcomeOf(error) == domain::AuditOutcome::kDenied) {
    entry.outcome = domain::AuditOutcome::kDenied;
    entry.diff = {};
    (void)trail->Record(entry);  // the refusal is what the caller must hear of
  }
  return error;
}

namespace {

JsonValue Str(std::string text) { return JsonValue::String(std::move(text)); }
JsonValue OptionalStr(const std::optional<std::string>& text) {
  return text ? JsonValue::String(*text) : JsonValue::Null();
}
JsonValue Strings(const std::vector<std::string>& items) {
  std::vector<JsonValue> values;
  values.reserve(items.size());
  for (const auto& item : items) values.push_back(JsonValue::String(item));
  return JsonValue::Array(std::move(values));
}

std::string_view SubjectKind(domain::RbacSubject::Kind kind) {
  switch (kind) {
    case domain::RbacSubject::Kind::kMember: return "member";
    case domain::RbacSubject::Kind::kTeam: return "team";
    case domain::RbacSubject::Kind::kApiKey: return "apikey";
  }
  return "member";
}

}  // namespace

Aspects AuditAspects(const domain::Region& region) {
  return {{"name", Str(region.name.str())},
          {"storeUrl", Str(domain::RedactUrlPassword(region.store_url))}};
}

Aspects AuditAspects(const domain::Organisation& org) {
  return {{"slug", Str(org.slug.str())},
          {"name", Str(org.name.str())},
          {"region", Str(org.region.str())},
          {"tier", Str(std::string(domain::ToString(org.tier)))}};
}

Aspects AuditAspects(const domain::Project& project) {
  return {{"slug", Str(project.slug.str())}, {"name", Str(project.name.str())}};
}

Aspects AuditAspects(const domain::ProjectSettings& s) {
  std::vector<JsonValue> rules;
  for (const auto& rule : s.rate_limits.rules) {
    rules.push_back(JsonValue::Object({{"audience", Str(rule.audience)},
                                       {"duration", JsonValue::Integer(rule.duration)},
                                       {"label", Str(rule.label)},
                                       {"maxRequests", JsonValue::Integer(rule.max_requests)}}));
  }
  return {{"meta.appName", Str(s.meta.app_name)},
          {"meta.appURL", Str(s.meta.app_url)},
          {"meta.senderName", Str(s.meta.sender_name)},
          {"meta.senderAddress", Str(s.meta.sender_address)},
          {"meta.hideControls", JsonValue::Bool(s.meta.hide_controls)},
          {"batch.enabled", JsonValue::Bool(s.batch.enabled)},
          {"batch.maxRequests", JsonValue::Integer(s.batch.max_requests)},
          {"batch.timeout", JsonValue::Integer(s.batch.timeout)},
          {"batch.maxBodySize", JsonValue::Integer(s.batch.max_body_size)},
          {"rateLimits.enabled", JsonValue::Bool(s.rate_limits.enabled)},
          {"rateLimits.rules", JsonValue::Array(std::move(rules))},
          {"trustedProxy.headers", Strings(s.trusted_proxy.headers)},
          {"trustedProxy.useLeftmostIP", JsonValue::Bool(s.trusted_proxy.use_leftmost_ip)}};
}

Aspects AuditAspects(const domain::Membership& membership) {
  return {{"member", Str(membership.member_id)}, {"email", Str(membership.email)}};
}

Aspects AuditAspects(const domain::Invitation& invitation) {
  return {{"email", Str(invitation.email)},
          {"role", Str(invitation.role)},
          {"project", OptionalStr(invitation.project)},
          {"state", Str(std::string(domain::ToString(invitation.state)))},
          {"expires", Str(invitation.expires.ToIso8601())}};
}

Aspects AuditAspects(const domain::Team& team) {
  return {{"name", Str(team.name)}, {"description", Str(team.description)}};
}

Aspects AuditAspects(const domain::Role& role) {
  return {{"name", Str(role.name)},
          {"scope", Str(std::string(domain::ToString(role.scope)))},
          {"parents", Strings(role.parents)},
          {"permissions", Strings(role.permissions)}};
}

Aspects AuditAspects(const domain::Policy& policy) {
  return {{"subject", Str(std::string(SubjectKind(policy.subject.kind)) + ":" + policy.subject.id)},
          {"role", Str(policy.role)},
          {"project", OptionalStr(policy.project)}};
}

Aspects AuditAspects(const domain::FeatureFlag& flag) {
  return {{"key", Str(flag.key)},
          {"level", Str(std::string(domain::ToString(flag.level)))},
          {"subject", Str(flag.subject)},
          {"value", flag.value},
          {"description", Str(flag.description)}};
}

}  // namespace socle::application
