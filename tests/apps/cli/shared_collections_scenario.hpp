#pragma once

#include "harness.hpp"
#include "shared_catalogue_scenario.hpp"

namespace socle::testing {

/// The end-to-end promise of `socle collection`: collections imported with the CLI are served
/// by a running socle-server's PocketBase-compatible records API, under their rules; the
/// export imports back unchanged; deleting the project over the platform API takes its data
/// API down at once. Catch assertions; `dir` holds the collections file and the server's log.
void CheckCliCollectionsServedOverHttp(const StoreLocation& store, const TempDir& dir);

/// Schema changes the CLI makes while a server has the project open (a field added, a
/// collection deleted) are what the server's very next requests see.
void CheckCliSchemaChangesReachRunningServer(const StoreLocation& store, const TempDir& dir);

}  // namespace socle::testing
