#include "socle/application/new_id.hpp"

#include <array>

namespace socle::application {

domain::Id NewId(RandomSource& random) {
  // 24 bytes cover 15 draws with room for rejections; more are fetched only when needed.
  std::array<std::uint8_t, 24> buffer{};
  std::size_t used = buffer.size();
  return domain::Id::FromRandom([&]() -> std::uint8_t {
    if (used == buffer.size()) {
      random.Fill(buffer);
      used = 0;
    }
    return buffer[used++];
  });
}

}  // namespace socle::application
