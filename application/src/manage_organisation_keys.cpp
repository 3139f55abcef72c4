#include "socle/application/manage_organisation_keys.hpp"

#include <algorithm>
#include <utility>

#include "socle/application/new_id.hpp"
#include "socle/domain/slug.hpp"

namespace socle::application {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;
using domain::RbacSubject;

namespace {

constexpr std::string_view kOrgNotFound = "The organisation was not found.";

Result<domain::Organisation> FindOrg(CatalogueStore& catalogue, std::string_view slug) {
  auto parsed = domain::Slug::Parse(slug);
  if (!parsed) return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  auto org = catalogue.GetOrganisation(*parsed);
  if (!org && org.error().code == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  }
  return org;
}

std::vector<domain::Policy> PoliciesOf(const AccessSnapshot& snapshot, const std::string& key) {
  std::vector<domain::Policy> out;
  for (const auto& policy : snapshot.policies) {
    if (policy.subject.kind == RbacSubject::Kind::kApiKey && policy.subject.id == key) {
      out.push_back(policy);
    }
  }
  return out;
}

}  // namespace

Result<NewOrganisationKey> ManageOrganisationKeys::Create(const Principal& by,
                                                          std::string_view org_slug,
                                                          std::string_view name,
                                                          std::string_view role,
                                                          std::optional<std::string_view> project_slug,
                                                          std::optional<domain::Timestamp> expires) {
  auto org = FindOrg(catalogue_, org_slug);
  if (!org) return Fail(org.error());
  // Belonging first, so that a stranger learns nothing of the organisation or its projects.
  if (!by.authenticated()) {
    return Fail(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
  }
  auto belongs = access_.Belongs(by, org->id);
  if (!belongs) return Fail(belongs.error());
  if (!*belongs) return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  std::optional<domain::Id> project_id;
  std::vector<domain::FieldError> errors;
  if (project_slug) {
    auto slug = domain::Slug::Parse(*project_slug);
    auto project = slug ? catalogue_.GetProject(*slug)
                        : Result<domain::Project>(Fail(ErrorCode::kNotFound, ""));
    if (!project && project.error().code != ErrorCode::kNotFound) return Fail(project.error());
    if (!project || project->org_id != org->id) {
      errors.push_back({"project", "validation_invalid_value", "Unknown project."});
    } else {
      project_id = project->id;
    }
  }
  auto snapshot = access_.Snapshot(org->id);
  if (!snapshot) return Fail(snapshot.error());
  if (auto bad = RoleGrantError((*snapshot)->roles, role, project_id.has_value(), "an API key")) {
    errors.push_back(std::move(*bad));
  }
  if (!errors.empty()) return Fail(domain::Error::Fields(std::move(errors)));
  auto decision = access_.Require(by, org->id, project_id, "apikey.create", kOrgNotFound);
  if (!decision) return Fail(decision.error());
  if (auto holds = RequireGrantable(*decision, (*snapshot)->roles, role); !holds) {
    return Fail(holds.error());
  }
  // The key's own event (api_key.create) goes to the platform store's trail through keys_,
  // with the caller as its actor.
  const AuditContext context = by.Audit();
  auto made = keys_.CreateForOrganisation(org->id, name, expires, context);
  if (!made) return Fail(made.error());
  std::optional<std::string> project_text;
  if (project_id) project_text = project_id->str();
  domain::StoredPolicy policy{
      domain::Policy{NewId(random_).str(), {RbacSubject::Kind::kApiKey, made->info.id},
                     std::string(role), org->id.str(), project_text},
      clock_.Now(), by.Actor()};
  auto grant = PlatformEntry(context, org->id.str(), "policy.grant", "policy", policy.policy.id,
                             AuditChange<domain::Policy>(nullptr, &policy.policy));
  if (project_text) grant.project_id = *project_text;
  auto bound = WritePlatform(trail_, grant, [&] {
    return store_.ChangePolicies(org->id, PolicyChange{{}, {policy}});
  });
  access_.Invalidate(org->id);
  if (!bound) {
    // A key without its role is useless and confusing: take it back.
    (void)keys_.RevokeForOrganisation(org->id, made->info.id, context);
    return Fail(bound.error());
  }
  return NewOrganisationKey{{made->info, {policy.policy}}, std::move(made->secret)};
}

Result<std::vector<OrganisationKeyView>> ManageOrganisationKeys::List(const Principal& by,
                                                                      std::string_view org_slug) {
  auto org = FindOrg(catalogue_, org_slug);
  if (!org) return Fail(org.error());
  auto decision = access_.Require(by, org->id, std::nullopt, "apikey.read", kOrgNotFound);
  if (!decision) return Fail(decision.error());
  auto keys = keys_.ListForOrganisation(org->id);
  if (!keys) return Fail(keys.error());
  auto snapshot = access_.Snapshot(org->id);
  if (!snapshot) return Fail(snapshot.error());
  std::vector<OrganisationKeyView> out;
  for (auto& key : *keys) {
    auto policies = PoliciesOf(**snapshot, key.id);
    out.push_back({std::move(key), std::move(policies)});
  }
  return out;
}

Result<void> ManageOrganisationKeys::Revoke(const Principal& by, std::string_view org_slug,
                                            std::string_view id) {
  auto org = FindOrg(catalogue_, org_slug);
  if (!org) return Fail(org.error());
  auto decision = access_.Require(by, org->id, std::nullopt, "apikey.delete", kOrgNotFound);
  if (!decision) return Fail(decision.error());
  if (auto revoked = keys_.RevokeForOrganisation(org->id, id, by.Audit()); !revoked) {
    return revoked;
  }
  auto snapshot = access_.Snapshot(org->id);
  if (!snapshot) return Fail(snapshot.error());
  PolicyChange change;
  for (const auto& policy : PoliciesOf(**snapshot, std::string(id))) change.remove.push_back(policy.id);
  if (change.remove.empty()) return {};
  // One event for the whole change: the key's policies, gone with it.
  std::vector<domain::JsonValue> removed_ids;
  for (const auto& policy_id : change.remove) removed_ids.push_back(domain::JsonValue::String(policy_id));
  const std::vector<domain::JsonValue::Member> before{
      {"policies", domain::JsonValue::Array(std::move(removed_ids))}};
  const std::vector<domain::JsonValue::Member> after{
      {"policies", domain::JsonValue::Array({})}};
  auto revoke = PlatformEntry(by.Audit(), org->id.str(), "policy.revoke", "api_key",
                              std::string(id), domain::DiffAspectsForAudit(&before, &after));
  auto removed = WritePlatform(trail_, revoke,
                               [&] { return store_.ChangePolicies(org->id, change); });
  access_.Invalidate(org->id);
  // Already removed by someone else meanwhile: the key is revoked all the same.
  if (!removed && removed.error().code == ErrorCode::kNotFound) return {};
  return removed;
}

}  // namespace socle::application
