#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/audit_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"

namespace socle::adapters::memory {

/// A complete in-process CatalogueStore and AccessStore: for embedding Socle::core and for fast
/// tests. Data lives as long as the object. All methods of both ports take one mutex, which
/// makes each of them atomic and keeps the access rows consistent with the catalogue (deleting
/// an organisation or a project removes the access rows that go with it). Audited holds that
/// mutex across its change and audit, saving the data first and putting it back when the audit
/// fails; it costs a copy of the catalogue and access data per audited change.
class MemoryCatalogueStore final : public application::CatalogueStore,
                                   public application::AccessStore {
 public:
  /// Starts with the default region, as the SQL stores do after their first migration.
  MemoryCatalogueStore();

  domain::Result<application::MigrationReport> Migrate() override;
  domain::Result<void> Ping() override;
  domain::Result<void> UpsertRegion(const domain::Region& region) override;
  domain::Result<domain::Region> GetRegion(const domain::Slug& name) override;
  domain::Result<std::vector<domain::Region>> ListRegions() override;
  domain::Result<void> InsertOrganisation(const domain::Organisation& org) override;
  domain::Result<domain::Organisation> GetOrganisation(const domain::Slug& slug) override;
  domain::Result<domain::Organisation> GetOrganisationById(const domain::Id& id) override;
  domain::Result<domain::PageOf<domain::Organisation>> ListOrganisations(
      const domain::PageRequest& page) override;
  domain::Result<void> UpdateOrganisation(const domain::Organisation& org) override;
  domain::Result<std::int64_t> DeleteOrganisation(const domain::Id& org_id,
                                                  application::DeleteMode mode) override;
  domain::Result<void> InsertProject(const domain::Project& project) override;
  domain::Result<domain::Project> GetProject(const domain::Slug& slug) override;
  domain::Result<domain::Project> GetProjectById(const domain::Id& id) override;
  domain::Result<domain::PageOf<domain::Project>> ListProjects(
      const std::optional<domain::Id>& org_id, const domain::PageRequest& page) override;
  domain::Result<void> UpdateProject(const domain::Project& project) override;
  domain::Result<void> DeleteProject(const domain::Id& project_id) override;
  domain::Result<std::int64_t> ScheduleOrganisationDeletion(const domain::Id& org_id,
                                                            domain::Timestamp at,
                                                            application::DeleteMode mode) override;
  domain::Result<void> ScheduleProjectDeletion(const domain::Id& project_id,
                                               domain::Timestamp at) override;
  domain::Result<void> RestoreOrganisation(const domain::Id& org_id) override;
  domain::Result<void> RestoreProject(const domain::Id& project_id) override;
  domain::Result<application::ScheduledDeletions> ListScheduledDeletions() override;
  domain::Result<domain::Organisation> GetScheduledOrganisation(const domain::Slug& slug) override;
  domain::Result<domain::Project> GetScheduledProject(const domain::Slug& slug) override;
  domain::Result<std::optional<domain::ProjectSettings>> GetProjectSettings(
      const domain::Id& project_id) override;
  domain::Result<void> PutProjectSettings(const domain::Id& project_id,
                                          const domain::ProjectSettings& settings,
                                          domain::Timestamp at) override;
  domain::Result<void> Audited(const std::string& chain, const application::AuditWrite& audit,
                               const std::function<domain::Result<void>()>& change) override;
  domain::Result<void> RecordAudit(const std::string& chain,
                                   const application::AuditWrite& audit) override;
  domain::Result<std::vector<application::StoredAuditEvent>> PlatformAuditEvents(
      const std::string& chain, const application::AuditQuery& query) override;
  domain::Result<std::vector<domain::AuditCheckpointHead>> PlatformAuditHeads() override;
  domain::Result<std::vector<application::StoredAuditEvent>> PlatformAuditChain(
      const std::string& chain, std::int64_t after_seq, std::int64_t limit) override;
  domain::Result<std::int64_t> ErasePlatformPersonal(std::string_view subject) override;

  // AccessStore (memory_access_store.cpp) ---------------------------------------------------

  domain::Result<void> InsertMembership(const domain::Membership& membership,
                                        const std::vector<domain::StoredPolicy>& policies) override;
  domain::Result<domain::Membership> GetMembership(const domain::Id& org_id,
                                                   const std::string& member_id) override;
  domain::Result<domain::PageOf<domain::Membership>> ListMemberships(
      const domain::Id& org_id, const domain::PageRequest& page) override;
  domain::Result<std::vector<domain::Membership>> MemberOrganisations(
      const std::string& member_id) override;
  domain::Result<void> DeleteMembership(const domain::Id& org_id,
                                        const std::string& member_id) override;
  domain::Result<void> InsertInvitation(const domain::Invitation& invitation) override;
  domain::Result<domain::Invitation> GetInvitation(const domain::Id& org_id,
                                                   const domain::Id& id) override;
  domain::Result<domain::Invitation> FindInvitation(const std::string& token_binding) override;
  domain::Result<domain::PageOf<domain::Invitation>> ListInvitations(
      const domain::Id& org_id, const domain::PageRequest& page) override;
  domain::Result<void> CloseInvitation(const domain::Id& org_id, const domain::Id& id,
                                       domain::InvitationState state,
                                       domain::Timestamp at) override;
  domain::Result<void> AcceptInvitation(const domain::Id& org_id, const domain::Id& id,
                                        const domain::Membership& membership,
                                        const domain::StoredPolicy& policy,
                                        domain::Timestamp at) override;
  domain::Result<std::int64_t> PurgeInvitations(domain::Timestamp before) override;
  domain::Result<void> InsertTeam(const domain::Team& team) override;
  domain::Result<domain::Team> GetTeam(const domain::Id& org_id, const domain::Id& id) override;
  domain::Result<std::vector<domain::Team>> ListTeams(const domain::Id& org_id) override;
  domain::Result<void> UpdateTeam(const domain::Team& team) override;
  domain::Result<void> DeleteTeam(const domain::Id& org_id, const domain::Id& id) override;
  domain::Result<void> AddTeamMember(const domain::Id& org_id, const domain::Id& team_id,
                                     const std::string& member_id) override;
  domain::Result<void> RemoveTeamMember(const domain::Id& org_id, const domain::Id& team_id,
                                        const std::string& member_id) override;
  domain::Result<std::vector<domain::Membership>> TeamMembers(const domain::Id& org_id,
                                                              const domain::Id& team_id) override;
  domain::Result<std::vector<std::string>> MemberTeams(const domain::Id& org_id,
                                                       const std::string& member_id) override;
  domain::Result<void> PutRole(const domain::CustomRole& role) override;
  domain::Result<std::vector<domain::CustomRole>> ListRoles(const domain::Id& org_id) override;
  domain::Result<void> DeleteRole(const domain::Id& org_id, const std::string& role_id) override;
  domain::Result<std::vector<domain::StoredPolicy>> ListPolicies(
      const domain::Id& org_id) override;
  domain::Result<void> ChangePolicies(const domain::Id& org_id,
                                      const application::PolicyChange& change) override;
  domain::Result<void> PutFlag(const domain::FeatureFlag& flag) override;
  domain::Result<void> DeleteFlag(const std::string& org_id, const std::string& key,
                                  domain::FlagLevel level, const std::string& subject) override;
  domain::Result<std::vector<domain::FeatureFlag>> ListFlags(const std::string& org_id) override;

 private:
  // Policies by id: ListPolicies' order, and ids are unique across organisations.
  using PolicyMap = std::map<std::string, domain::StoredPolicy>;

  // Whether an organisation with this id exists. Precondition: mutex_ held.
  bool HasOrganisation(const domain::Id& org_id) const;
  // Whether the project exists and belongs to the organisation. Precondition: mutex_ held.
  bool HasProjectOf(const std::string& org_id, const std::string& project_id) const;
  // Adds `policy` to `policies` as the SQL stores would (shape, organisation, project, unique
  // id and binding). Precondition: mutex_ held.
  domain::Result<void> AddPolicy(PolicyMap& policies, const domain::Id& org_id,
                                 const domain::StoredPolicy& policy) const;
  // Removes every access row of the organisation, or of the project. Precondition: mutex_ held.
  void EraseAccessOfOrganisation(const domain::Id& org_id);
  void EraseAccessOfProject(const domain::Id& project_id);

  // Scheduled deletions hide rows: an organisation with `deleted` set, and a project with its
  // own `deleted` set or whose organisation has one. Preconditions: mutex_ held.
  // The organisation with this id, hidden or not; nullptr when there is none.
  domain::Organisation* FindOrganisation(const domain::Id& org_id);
  // The project with this id, hidden or not; nullptr when there is none.
  domain::Project* FindProject(const domain::Id& project_id);
  // Whether a live (not hidden) project has this id.
  bool HasLiveProject(const domain::Id& project_id);
  // The scheduled organisations' ids, each with when its deletion was asked.
  std::map<domain::Id, domain::Timestamp> ScheduledOrganisations() const;
  // The project as the port returns it: `deleted` the earlier of its own and its
  // organisation's (in `scheduled`, from ScheduledOrganisations), nullopt for a live project.
  static domain::Project Shown(const domain::Project& project,
                               const std::map<domain::Id, domain::Timestamp>& scheduled);

  // Everything the two ports store besides the audit trail: what Audited saves before a change
  // and puts back when the change's audit fails.
  struct Data {
    std::map<domain::Slug, domain::Region> regions;
    std::map<domain::Slug, domain::Organisation> orgs;   // by slug: list order
    std::map<domain::Slug, domain::Project> projects;    // by slug: list order
    // Settings of the projects that have some; erased with their project.
    std::map<domain::Id, domain::ProjectSettings> settings;

    // Access rows, each keyed for the order its listing needs.
    std::map<std::pair<std::string, std::string>, domain::Membership> memberships;  // org, member
    std::map<std::string, domain::Invitation> invitations;                          // by id
    std::map<std::string, domain::Team> teams;                                      // by id
    std::set<std::pair<std::string, std::string>> team_members;                // team, member
    std::map<std::pair<std::string, std::string>, domain::CustomRole> roles;   // org, role id
    PolicyMap policies;
    // (key, level, org_id, subject): the flag's identity, in ListFlags' order.
    std::map<std::tuple<std::string, domain::FlagLevel, std::string, std::string>,
             domain::FeatureFlag>
        flags;
  };

  // One chain of the platform's audit trail, in sequence order: seq n sits at index n - 1.
  using AuditChain = std::vector<application::StoredAuditEvent>;

  // Runs `audit` with an appender on `chain` and, when it succeeds, adds what it appended to
  // the chain. Precondition: mutex_ held.
  domain::Result<void> RunAudit(const std::string& chain, const application::AuditWrite& audit);

  // Recursive: Audited holds it across the change it runs, whose method takes it again. Holding
  // it across the whole call is what makes a change and its events one atomic step.
  std::recursive_mutex mutex_;
  Data data_;
  // The chains by name ("" the platform's own, else an organisation's id). Apart from data_:
  // the trail is not part of what a failed audit puts back, and outlives organisations.
  std::map<std::string, AuditChain> audit_;
  // Set while Audited runs, and while an audit callback runs (by the thread holding mutex_):
  // a nested Audited, and an audit recording another, are refused.
  bool auditing_ = false;
  bool recording_ = false;
};

}  // namespace socle::adapters::memory
