#pragma once

#include <memory>

#include "socle/application/ports/project_store.hpp"

namespace socle::testing {

/// One adapter's project store, fresh and empty, for the duration of one test case.
/// Each contract executable links exactly one implementation of MakeProjectStoreUnderTest().
class ProjectStoreUnderTest {
 public:
  virtual ~ProjectStoreUnderTest() = default;
  /// The store of the project under test.
  virtual application::ProjectStore& store() = 0;
  /// A store of the same project opened afresh (another ProjectStores over the same file or
  /// database, as another process would), to check what is persisted. The memory adapter,
  /// which persists nothing, returns store().
  virtual application::ProjectStore& Reopen() = 0;
};

std::unique_ptr<ProjectStoreUnderTest> MakeProjectStoreUnderTest();

}  // namespace socle::testing
