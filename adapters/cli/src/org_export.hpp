#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::cli {

/// What an export wrote, for the message `socle org export` prints.
struct ExportSummary {
  std::int64_t projects = 0;
  std::int64_t collections = 0;
  std::int64_t records = 0;
  std::int64_t files = 0;
};

/// The format version written as "version" in socle-export.json; a reader refuses a version it
/// does not know.
inline constexpr int kExportFormatVersion = 1;

/// Writes everything of organisation `org` (a slug) to `archive` as one ustar archive, the data
/// portability export (GDPR art. 20) `socle org export` makes:
///
///   socle-export.json                  metadata: format, version, generated, socleVersion,
///                                      organisation, what records hold, projects, files
///   organisation/members.json          {items: [member]}        the platform API's shapes
///   organisation/invitations.json      {items: [invitation]}    (never a token)
///   organisation/teams.json            {items: [team with members]}
///   organisation/roles.json            {items: [role]}          custom roles only
///   organisation/policies.json         {items: [policy]}
///   organisation/flags.json            {items: [flag]}          the organisation's own levels
///   organisation/apikeys.json          {items: [apikey]}        never a secret
///   projects/<slug>/project.json       the project
///   projects/<slug>/collections.json   as `socle collection export` writes it
///   projects/<slug>/settings.json      the project's settings
///   projects/<slug>/records/<c>.jsonl  one record per line, every field as stored
///   projects/<slug>/records/<c>.csv    RFC 4180, the same fields
///
/// Records are read as a superuser, page by page, so they are in clear and hidden fields are
/// included; password fields (hashes) and auth collections' tokenKey are left out. Each records
/// file is spooled to an anonymous temporary file while its pages are read, then copied into
/// the archive: a tar header needs the size first, and this keeps memory to one page whatever
/// the collection's size, and reads the store once (computing sizes first would read every
/// page twice, and a record written between the two reads would corrupt the archive).
///
/// `services` must have data and access services. `now` dates the export; `version` is Socle's.
/// `context` is who reads the records, for the collections whose reads are audited.
/// Errors: not_found for an unknown organisation, those of the use cases and the store,
/// unavailable when the archive or a temporary file cannot be written. On error the archive is
/// incomplete; the caller discards it.
domain::Result<ExportSummary> ExportOrganisation(CatalogueServices& services, std::string_view org,
                                                 std::ostream& archive, domain::Timestamp now,
                                                 std::string_view version,
                                                 const application::AuditContext& context);

}  // namespace socle::adapters::cli
