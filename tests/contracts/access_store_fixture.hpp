#pragma once

#include <memory>

#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"

namespace socle::testing {

/// One adapter's store, fresh, empty and migrated, for the duration of one test case, seen
/// through both of the ports it implements: the access data needs the catalogue's
/// organisations and projects, and goes with them. Each access contract executable links
/// exactly one implementation of MakeAccessStoreUnderTest().
class AccessStoreUnderTest {
 public:
  virtual ~AccessStoreUnderTest() = default;
  virtual application::AccessStore& access() = 0;
  /// The same store as access(), as a CatalogueStore.
  virtual application::CatalogueStore& catalogue() = 0;
  /// A second, independent handle on the same data (another connection pool over the same
  /// file or database), for concurrency tests. The memory adapter returns access().
  virtual application::AccessStore& other_access() = 0;
};

std::unique_ptr<AccessStoreUnderTest> MakeAccessStoreUnderTest();

}  // namespace socle::testing
