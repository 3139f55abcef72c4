#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"

namespace socle::adapters::sqlite {

/// How to open the embedded catalogue.
struct SqliteOptions {
  std::string path;                   ///< The catalogue database file; its directory is created.
  std::size_t pool_size = 8;          ///< Connections kept open (readers run in parallel in WAL).
  std::uint32_t busy_timeout_ms = 5000;  ///< How long a writer waits for the lock.
};

/// The CatalogueStore and the AccessStore on SQLite (the embedded default): one database file in
/// WAL mode, a small pool of connections with cached prepared statements, writes in BEGIN
/// IMMEDIATE transactions (which is also what keeps the last-owner invariant: its check and the
/// change it guards run under the one write lock of the file). The platform's audit trail sits
/// in the same file: an audited change and its events commit in one transaction.
class SqliteCatalogueStore final : public application::CatalogueStore,
                                   public application::AccessStore {
 public:
  /// Opens (creating if needed) the database. Does not migrate: call Migrate().
  /// unavailable when the file cannot be opened or created.
  static domain::Result<std::unique_ptr<SqliteCatalogueStore>> Open(const SqliteOptions& options);
  ~SqliteCatalogueStore() override;

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

  // The platform's audit trail (sqlite_catalogue_audit.cpp). Each chain is held by the file's
  // write lock: its appender reads the head inside a BEGIN IMMEDIATE transaction.
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

  // AccessStore (sqlite_access_store.cpp) ---------------------------------------------------

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
  struct Impl;
  explicit SqliteCatalogueStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace socle::adapters::sqlite
