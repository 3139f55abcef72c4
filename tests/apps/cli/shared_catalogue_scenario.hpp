#pragma once

#include <string>
#include <vector>

#include "harness.hpp"

namespace socle::testing {

/// Where `socle` and `socle-server` find the same catalogue: arguments and environment given
/// to both.
struct StoreLocation {
  std::vector<std::string> args;
  EnvVars env;
};

/// The end-to-end promise of the ops CLI: what it creates a running socle-server serves over
/// the HTTP API, and what is created over the API the CLI sees, on the same store. Catch
/// assertions; `dir` holds the server's log.
void CheckCliAndServerShareTheCatalogue(const StoreLocation& store, const TempDir& dir);

}  // namespace socle::testing
