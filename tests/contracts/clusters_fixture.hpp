#pragma once

#include <memory>
#include <string>

#include "socle/application/ports/clusters.hpp"

namespace socle::testing {

/// One adapter's Clusters for the duration of one test case, with the URL of a second cluster
/// (a region) beside the instance's own. Each clusters contract executable links exactly one
/// implementation of MakeClustersUnderTest().
class ClustersUnderTest {
 public:
  virtual ~ClustersUnderTest() = default;
  virtual application::Clusters& clusters() = 0;
  /// A cluster URL other than the instance's own, for a region's placements.
  virtual std::string region_url() = 0;
};

std::unique_ptr<ClustersUnderTest> MakeClustersUnderTest();

}  // namespace socle::testing
