#include "socle/application/new_id.hpp"

#include <array>
#include <string_view>

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

std::string NewTokenKey(RandomSource& random) {
  static constexpr std::string_view kAlphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string key;
  std::array<std::uint8_t, 64> bytes{};
  while (key.size() < 50) {
    random.Fill(bytes);
    for (std::uint8_t b : bytes) {
      // 248 = 62 * 4: rejecting the bytes above keeps every character equally likely.
      if (b >= 248 || key.size() == 50) continue;
      key.push_back(kAlphabet[b % kAlphabet.size()]);
    }
  }
  return key;
}

}  // namespace socle::application
