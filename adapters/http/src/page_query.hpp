#pragma once

// The platform API's paging parameters, read the same way by every list route of the HTTP
// adapter (PlatformApi, AccessApi). Private to the adapter.

#include "socle/adapters/http/request.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/page.hpp"

namespace socle::adapters::http {

/// page and perPage, PocketBase's list parameters (defaults 1 and 30): each must be a whole
/// number in range; both problems are reported together as field errors "page", "perPage".
domain::Result<domain::PageRequest> ReadPage(const Request& request);

}  // namespace socle::adapters::http
