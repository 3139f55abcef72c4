#pragma once

#include <string>

#include "socle/application/ports/random_source.hpp"
#include "socle/domain/id.hpp"

namespace socle::application {

/// A fresh uniformly random Id drawn from `random`.
domain::Id NewId(RandomSource& random);

/// A fresh auth record tokenKey: 50 characters drawn uniformly from [a-zA-Z0-9], as the
/// tokenKey field's autogeneratePattern describes. Replacing it revokes the record's tokens.
std::string NewTokenKey(RandomSource& random);

}  // namespace socle::application
