#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "socle/application/ports/project_store.hpp"

namespace socle::adapters::memory {

/// Complete in-process ProjectStores: every project's collections and records live in memory as
/// long as this object. Filters are evaluated with the domain's in-memory evaluator, with the
/// same semantics the SQL stores compile to; schema changes convert values as the SQL stores do.
/// Writes of one project are serialised; a transaction works on a copy that replaces the
/// project's data on commit, so a failed transaction leaves no trace.
class MemoryProjectStores final : public application::ProjectStores {
 public:
  MemoryProjectStores();
  ~MemoryProjectStores() override;

  domain::Result<std::shared_ptr<application::ProjectStore>> Open(
      const domain::Project& project) override;
  void Close(const domain::Id& project_id) override;
  /// Forgets the project's data (as Close does).
  domain::Result<void> Remove(const domain::Project& project) override;

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<application::ProjectStore>> projects_;
};

}  // namespace socle::adapters::memory
