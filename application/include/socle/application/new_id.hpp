#pragma once

#include "socle/application/ports/random_source.hpp"
#include "socle/domain/id.hpp"

namespace socle::application {

/// A fresh uniformly random Id drawn from `random`.
domain::Id NewId(RandomSource& random);

}  // namespace socle::application
