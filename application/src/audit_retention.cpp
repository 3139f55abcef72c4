#include "socle/application/audit_retention.hpp"

#include <chrono>
#include <string>
#include <utility>

#include "socle/application/audit_log.hpp"

namespace socle::application {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;
using domain::Timestamp;

namespace {

// A hundred years: beyond it a count is a typing error, not a policy.
constexpr std::int64_t kMaxRetentionMonths = 1200;

}  // namespace

std::optional<Timestamp> AuditRetention::CutFor(Timestamp now, std::int64_t months) {
  using namespace std::chrono;
  if (months <= 0) return std::nullopt;
  const sys_days today = floor<days>(sys_time<microseconds>(microseconds(now.unix_micros())));
  const year_month_day date{today};
  const year_month start = year_month{date.year(), date.month()} - std::chrono::months{months};
  const sys_days first{start / day{1}};
  return Timestamp::FromUnixMicros(
      duration_cast<microseconds>(first.time_since_epoch()).count());
}

Result<AuditRetentionReport> AuditRetention::ArchiveOlderThan(std::int64_t months) {
  if (months < 0 || months > kMaxRetentionMonths) {
    return Fail(ErrorCode::kInvalidArgument,
                "The retention must be between 0 (keep forever) and " +
                    std::to_string(kMaxRetentionMonths) + " months.");
  }
  const Timestamp now = clock_.Now();
  const auto cut = CutFor(now, months);
  if (!cut) {
    AuditRetentionReport report;
    report.before = Timestamp::FromUnixMicros(0);
    return report;
  }
  return Archive(*cut);
}

Result<AuditRetentionReport> AuditRetention::Archive(Timestamp before) {
  if (clock_.Now() < before) {
    return Fail(ErrorCode::kInvalidArgument,
                "The archive cut " + before.ToIso8601() +
                    " is in the future: events still being written would be cut.");
  }
  auto projects = ProjectsWithTrails(catalogue_, nullptr);
  if (!projects) return Fail(projects.error());
  AuditRetentionReport report;
  report.before = before;
  for (const domain::Project& project : *projects) {
    AuditRetentionProject entry;
    entry.org_id = project.org_id.str();
    entry.project_id = project.id.str();
    entry.project_slug = project.slug.str();
    auto archived = [&]() -> Result<void> {
      auto store = stores_.Open(project);
      if (!store) return Fail(store.error());
      auto sink = archives_.Open(entry.org_id, entry.project_id);
      if (!sink) return Fail(sink.error());
      auto moved = (*store)->ArchiveAudit(before, **sink);
      if (!moved) return Fail(moved.error());
      entry.archived = std::move(*moved);
      if (entry.archived.events > 0) entry.archive = (*sink)->Location();
      return {};
    }();
    if (!archived) {
      entry.error = archived.error();
      report.ok = false;
    }
    report.events += entry.archived.events;
    report.projects.push_back(std::move(entry));
  }
  return report;
}

}  // namespace socle::application
