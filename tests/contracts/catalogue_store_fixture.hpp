#pragma once

#include <memory>

#include "socle/application/ports/catalogue_store.hpp"

namespace socle::testing {

/// One adapter's store, fresh, empty and migrated, for the duration of one test case.
/// Each contract executable links exactly one implementation of MakeCatalogueStoreUnderTest().
class CatalogueStoreUnderTest {
 public:
  virtual ~CatalogueStoreUnderTest() = default;
  virtual application::CatalogueStore& store() = 0;
  /// A second, independent handle on the same data (another connection / another object over
  /// the same file or database), for concurrency tests. The memory adapter returns store().
  virtual application::CatalogueStore& other() = 0;
};

std::unique_ptr<CatalogueStoreUnderTest> MakeCatalogueStoreUnderTest();

}  // namespace socle::testing
