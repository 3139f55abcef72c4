#pragma once

// The platform's audit trail of PostgresCatalogueStore (socle.platform_audit, see
// migrations/postgres/0005_audit.sql), and the one write transaction through which every
// mutating method of the catalogue and of access runs, so that an Audited call's events commit
// with its change. Private to the adapter: shared by postgres_catalogue_store.cpp,
// postgres_access_store.cpp and postgres_catalogue_audit.cpp.

#include <optional>
#include <string>
#include <utility>

#include "connection.hpp"
#include "socle/adapters/pending_audit.hpp"
#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::postgres {

/// Every catalogue write transaction is READ COMMITTED, whatever the server's default: an
/// appender reads its chain's head after taking the chain's lock, in a statement whose
/// snapshot must see what the lock's previous holder committed (see 0005_audit.sql).
inline constexpr char kBeginCatalogueWrite[] = "BEGIN ISOLATION LEVEL READ COMMITTED";

/// Runs `audit` with an appender of the chain `chain` inside the transaction open on `conn`,
/// as the login role (an access transaction runs as socle_tenant, which has no privilege on
/// the trail); the role switch lasts until the transaction ends, so this is the transaction's
/// last work.
domain::Result<void> RunAudit(Connection& conn, const std::string& chain,
                              const application::AuditWrite& audit);

/// The one write transaction of every mutating method of both ports: `body()` between
/// kBeginCatalogueWrite and COMMIT, rolled back when it fails. When the calling thread is inside
/// Audited on `store`, the pending audit runs after `body` succeeded, just before COMMIT, so
/// that the change and its events commit together or not at all; its failure rolls the change
/// back. An audited change gets one write transaction (a second would commit unaudited, so it
/// is refused); the pending audit is taken only once BEGIN succeeded, so that a retry of a
/// transaction whose connection was lost before it began (PostgresCatalogueStore::Impl::Run)
/// still carries it.
template <typename Body>
auto CatalogueWrite(Connection& conn, const void* store, Body&& body) -> decltype(body()) {
  auto found = PendingAuditFor(store);
  if (!found) return domain::Fail(std::move(found.error()));
  PendingAudit* pending = *found;
  // InTransaction's BEGIN, COMMIT and rollbacks; the audit runs inside its body, after the
  // change, so that its failure rolls the change back like any failure of the body.
  return InTransaction(conn, kBeginCatalogueWrite, [&]() -> decltype(body()) {
    if (pending != nullptr) pending->taken = true;
    auto result = body();
    if (result && pending != nullptr) {
      if (auto audited = RunAudit(conn, pending->chain, pending->audit); !audited) {
        pending->failed = audited.error();
        result = domain::Fail(std::move(audited.error()));
      }
    }
    return result;
  });
}

}  // namespace socle::adapters::postgres
