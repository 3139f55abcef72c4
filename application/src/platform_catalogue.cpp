#include "socle/application/platform_catalogue.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "socle/application/new_id.hpp"
#include "socle/application/record_fields.hpp"
#include "socle/domain/slug.hpp"

namespace socle::application {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

constexpr std::string_view kOrgNotFound = "The organisation was not found.";
constexpr std::string_view kProjectNotFound = "The project was not found.";

domain::Error Unauthenticated() {
  return domain::Error::Make(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
}

template <typename T>
domain::PageOf<T> Slice(std::vector<T> all, const domain::PageRequest& page) {
  domain::PageOf<T> out{page.page, page.per_page, static_cast<std::int64_t>(all.size()), {}};
  const auto begin = std::min<std::int64_t>(page.Offset(), out.total_items);
  const auto end = std::min<std::int64_t>(begin + page.per_page, out.total_items);
  for (auto i = begin; i < end; ++i) out.items.push_back(std::move(all[static_cast<std::size_t>(i)]));
  return out;
}

}  // namespace

domain::Error PlatformCatalogue::Refused(const Principal& by, const std::string& org_id,
                                         const std::string& project_id, std::string_view attempt,
                                         std::string_view target_kind,
                                         const std::string& target_id, domain::Error error) {
  if (attempt.empty()) return error;
  auto entry = PlatformEntry(by.Audit(), org_id, std::string(attempt), std::string(target_kind),
                             target_id);
  entry.project_id = project_id;
  return RecordRefusal(trail_, std::move(entry), std::move(error));
}

Result<std::pair<domain::Organisation, AccessDecision>> PlatformCatalogue::RequireOrganisation(
    const Principal& by, std::string_view slug, std::string_view permission,
    std::string_view attempt) {
  if (!by.authenticated()) return Fail(Unauthenticated());
  auto parsed = domain::Slug::Parse(slug);
  if (!parsed) return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  auto org = catalogue_.GetOrganisation(*parsed);
  if (!org) {
    if (org.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
    }
    return Fail(org.error());
  }
  auto decision = access_.Require(by, org->id, std::nullopt, permission, kOrgNotFound);
  if (!decision) {
    return Fail(
        Refused(by, org->id.str(), "", attempt, "organisation", org->id.str(), decision.error()));
  }
  return std::pair{std::move(*org), std::move(*decision)};
}

Result<std::pair<domain::Project, AccessDecision>> PlatformCatalogue::RequireProject(
    const Principal& by, std::string_view slug, std::string_view permission,
    std::string_view attempt) {
  if (!by.authenticated()) return Fail(Unauthenticated());
  auto parsed = domain::Slug::Parse(slug);
  if (!parsed) return Fail(ErrorCode::kNotFound, std::string(kProjectNotFound));
  auto project = catalogue_.GetProject(*parsed);
  if (!project) {
    if (project.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, std::string(kProjectNotFound));
    }
    return Fail(project.error());
  }
  auto decision = access_.Require(by, project->org_id, project->id, permission, kProjectNotFound);
  if (!decision) {
    return Fail(Refused(by, project->org_id.str(), project->id.str(), attempt, "project",
                        project->id.str(), decision.error()));
  }
  return std::pair{std::move(*project), std::move(*decision)};
}

Result<domain::PageOf<domain::Organisation>> PlatformCatalogue::ListOrganisations(
    const Principal& by, const domain::PageRequest& page) {
  switch (by.kind) {
    case Principal::Kind::kAnonymous: return Fail(Unauthenticated());
    case Principal::Kind::kSuperuser: return organisations_.List(page);
    case Principal::Kind::kApiKey: {
      std::vector<domain::Organisation> mine;
      if (auto id = domain::Id::Parse(by.org_id)) {
        auto org = catalogue_.GetOrganisationById(*id);
        if (org) {
          mine.push_back(std::move(*org));
        } else if (org.error().code != ErrorCode::kNotFound) {
          return Fail(org.error());
        }
      }
      return Slice(std::move(mine), page);
    }
    case Principal::Kind::kMember: break;
  }
  auto memberships = store_.MemberOrganisations(by.id);
  if (!memberships) return Fail(memberships.error());
  std::vector<domain::Organisation> mine;
  for (const auto& membership : *memberships) {
    auto org = catalogue_.GetOrganisationById(membership.org_id);
    if (!org) {
      if (org.error().code == ErrorCode::kNotFound) continue;  // deleted meanwhile
      return Fail(org.error());
    }
    mine.push_back(std::move(*org));
  }
  std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
    return a.slug.str() < b.slug.str();
  });
  return Slice(std::move(mine), page);
}

Result<domain::Organisation> PlatformCatalogue::CreateOrganisation(
    const Principal& by, const CreateOrganisationInput& input) {
  if (!by.authenticated()) return Fail(Unauthenticated());
  if (by.kind == Principal::Kind::kApiKey) {
    return Fail(ErrorCode::kPermissionDenied, "An API key cannot create organisations.");
  }
  const AuditContext context = by.Audit();
  auto org = organisations_.Create(input, context);
  if (!org) return org;
  if (by.kind == Principal::Kind::kMember) {
    if (auto owned = AddOwner(*org, {by.id, by.email, "", ""}, by.Actor(), context); !owned) {
      // An organisation nobody owns would be out of its creator's reach: take it back, at
      // once (it was never anybody's, there is nothing to restore).
      (void)WritePlatform(
          trail_,
          PlatformEntry(context, org->id.str(), "organisation.delete", "organisation",
                        org->id.str(), AuditChange<domain::Organisation>(&*org, nullptr)),
          [&]() -> Result<void> {
            auto deleted = catalogue_.DeleteOrganisation(org->id, DeleteMode::kRefuseIfProjects);
            if (!deleted) return Fail(deleted.error());
            return {};
          });
      return Fail(owned.error());
    }
  }
  return org;
}

Result<void> PlatformCatalogue::AddOwner(const domain::Organisation& org, const MemberInfo& member,
                                         std::string_view actor, const AuditContext& context) {
  const auto now = clock_.Now();
  domain::StoredPolicy owner{
      domain::Policy{NewId(random_).str(), {domain::RbacSubject::Kind::kMember, member.id},
                     std::string(domain::kOwnerRole), org.id.str(), std::nullopt},
      now, std::string(actor)};
  const domain::Membership membership{org.id, member.id, internal::Lower(member.email), now};
  auto entry = PlatformEntry(context, org.id.str(), "member.add", "member", member.id,
                             AuditChange<domain::Membership>(nullptr, &membership));
  auto added = WritePlatform(
      trail_, entry, [&] { return store_.InsertMembership(membership, {owner}); },
      RecordFailure::kNo);
  if (!added) {
    if (added.error().code != ErrorCode::kAlreadyExists) return Fail(added.error());
    // Already a member: the owner role is granted instead.
    auto grant = PlatformEntry(context, org.id.str(), "policy.grant", "policy",
                               owner.policy.id, AuditChange<domain::Policy>(nullptr, &owner.policy));
    auto changed = WritePlatform(
        trail_, grant, [&] { return store_.ChangePolicies(org.id, PolicyChange{{}, {owner}}); },
        RecordFailure::kNo);
    if (!changed && changed.error().code != ErrorCode::kAlreadyExists) {
      return Fail(changed.error());
    }
  }
  access_.Invalidate(org.id);
  return {};
}

Result<domain::Organisation> PlatformCatalogue::GetOrganisation(const Principal& by,
                                                                std::string_view slug) {
  auto found = RequireOrganisation(by, slug, "organisation.read");
  if (!found) return Fail(found.error());
  return std::move(found->first);
}

Result<domain::Organisation> PlatformCatalogue::RenameOrganisation(const Principal& by,
                                                                   std::string_view slug,
                                                                   std::string_view name) {
  auto found = RequireOrganisation(by, slug, "organisation.update", "organisation.update");
  if (!found) return Fail(found.error());
  return organisations_.Rename(slug, name, by.Audit());
}

Result<Deletion> PlatformCatalogue::DeleteOrganisation(const Principal& by,
                                                       std::string_view slug, ForceDelete force) {
  auto found = RequireOrganisation(by, slug, "organisation.delete", "organisation.delete");
  if (!found) return Fail(found.error());
  auto deleted = organisations_.Remove(slug, force, by.Audit());
  access_.Invalidate(found->first.id);
  return deleted;
}

Result<domain::Organisation> PlatformCatalogue::RestoreOrganisation(const Principal& by,
                                                                    std::string_view slug) {
  if (!by.authenticated()) return Fail(Unauthenticated());
  auto parsed = domain::Slug::Parse(slug);
  if (!parsed) return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  auto scheduled = catalogue_.GetScheduledOrganisation(*parsed);
  if (!scheduled) {
    if (scheduled.error().code != ErrorCode::kNotFound) return Fail(scheduled.error());
    // A live one: its members who may delete it learn that it is not in the trash; anybody
    // else, that it does not exist.
    auto live = RequireOrganisation(by, slug, "organisation.delete");
    if (!live) return Fail(live.error());
    return Fail(ErrorCode::kFailedPrecondition, "The organisation is not scheduled for deletion.");
  }
  auto decision =
      access_.Require(by, scheduled->id, std::nullopt, "organisation.delete", kOrgNotFound);
  if (!decision) {
    return Fail(Refused(by, scheduled->id.str(), "", "organisation.restore", "organisation",
                        scheduled->id.str(), decision.error()));
  }
  auto restored = organisations_.Restore(slug, by.Audit());
  access_.Invalidate(scheduled->id);
  return restored;
}

Result<domain::PageOf<domain::Project>> PlatformCatalogue::ListProjects(
    const Principal& by, std::string_view org_slug, const domain::PageRequest& page) {
  if (!by.authenticated()) return Fail(Unauthenticated());
  auto parsed = domain::Slug::Parse(org_slug);
  if (!parsed) return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  auto org = catalogue_.GetOrganisation(*parsed);
  if (!org) {
    if (org.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
    }
    return Fail(org.error());
  }
  auto belongs = access_.Belongs(by, org->id);
  if (!belongs) return Fail(belongs.error());
  if (!*belongs) return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  auto decision = access_.Decide(by, org->id, std::nullopt);
  if (!decision) return Fail(decision.error());
  if (decision->Allows("project.read")) return projects_.List(org->slug.str(), page);
  // Without organisation-wide reach, only the projects a project policy opens. The caller may
  // hold no organisation permission at all and still work on one project: that is standing.
  std::vector<domain::Project> visible;
  domain::PageRequest request{1, domain::PageRequest::kMaxPerPage};
  for (;;) {
    auto listed = catalogue_.ListProjects(org->id, request);
    if (!listed) return Fail(listed.error());
    for (auto& project : listed->items) {
      auto at = access_.Decide(by, org->id, project.id);
      if (!at) return Fail(at.error());
      if (at->Allows("project.read")) visible.push_back(std::move(project));
    }
    if (listed->items.empty() || request.page >= listed->TotalPages()) break;
    ++request.page;
  }
  return Slice(std::move(visible), page);
}

Result<domain::Project> PlatformCatalogue::CreateProject(const Principal& by,
                                                         const CreateProjectInput& input) {
  auto found = RequireOrganisation(by, input.org, "project.create", "project.create");
  if (!found) return Fail(found.error());
  return projects_.Create(input, by.Audit());
}

Result<domain::Project> PlatformCatalogue::GetProject(const Principal& by, std::string_view slug) {
  auto found = RequireProject(by, slug, "project.read");
  if (!found) return Fail(found.error());
  return std::move(found->first);
}

Result<domain::Project> PlatformCatalogue::RenameProject(const Principal& by,
                                                         std::string_view slug,
                                                         std::string_view name) {
  auto found = RequireProject(by, slug, "project.update", "project.update");
  if (!found) return Fail(found.error());
  return projects_.Rename(slug, name, by.Audit());
}

Result<Deletion> PlatformCatalogue::DeleteProject(const Principal& by, std::string_view slug) {
  auto found = RequireProject(by, slug, "project.delete", "project.delete");
  if (!found) return Fail(found.error());
  auto deleted = projects_.Remove(slug, by.Audit());
  access_.Invalidate(found->first.org_id);
  return deleted;
}

Result<domain::Project> PlatformCatalogue::RestoreProject(const Principal& by,
                                                          std::string_view slug) {
  if (!by.authenticated()) return Fail(Unauthenticated());
  auto parsed = domain::Slug::Parse(slug);
  if (!parsed) return Fail(ErrorCode::kNotFound, std::string(kProjectNotFound));
  auto scheduled = catalogue_.GetScheduledProject(*parsed);
  if (!scheduled) {
    if (scheduled.error().code != ErrorCode::kNotFound) return Fail(scheduled.error());
    auto live = RequireProject(by, slug, "project.delete");
    if (!live) return Fail(live.error());
    return Fail(ErrorCode::kFailedPrecondition, "The project is not scheduled for deletion.");
  }
  auto decision = access_.Require(by, scheduled->org_id, scheduled->id, "project.delete",
                                  kProjectNotFound);
  if (!decision) {
    return Fail(Refused(by, scheduled->org_id.str(), scheduled->id.str(), "project.restore",
                        "project", scheduled->id.str(), decision.error()));
  }
  auto restored = projects_.Restore(slug, by.Audit());
  access_.Invalidate(scheduled->org_id);
  return restored;
}

Result<std::vector<DeletedItem>> PlatformCatalogue::ListDeleted(const Principal& by) {
  if (!by.authenticated()) return Fail(Unauthenticated());
  auto scheduled = catalogue_.ListScheduledDeletions();
  if (!scheduled) return Fail(scheduled.error());
  std::vector<DeletedItem> out;
  std::set<domain::Id> scheduled_orgs;
  for (const auto& org : scheduled->organisations) {
    scheduled_orgs.insert(org.id);
    if (!org.deleted) continue;
    auto decision = access_.Decide(by, org.id, std::nullopt);
    if (!decision) return Fail(decision.error());
    if (!decision->Allows("organisation.delete")) continue;
    out.push_back({DeletedItem::Kind::kOrganisation, org.slug, org.name, *org.deleted,
                   organisations_.PurgeAfter(*org.deleted)});
  }
  for (const auto& project : scheduled->projects) {
    if (!project.deleted || scheduled_orgs.contains(project.org_id)) continue;
    auto decision = access_.Decide(by, project.org_id, project.id);
    if (!decision) return Fail(decision.error());
    if (!decision->Allows("project.delete")) continue;
    out.push_back({DeletedItem::Kind::kProject, project.slug, project.name, *project.deleted,
                   projects_.PurgeAfter(*project.deleted)});
  }
  std::sort(out.begin(), out.end(), [](const DeletedItem& a, const DeletedItem& b) {
    if (a.deleted != b.deleted) return b.deleted < a.deleted;
    return a.slug.str() < b.slug.str();
  });
  return out;
}

}  // namespace socle::application
