#pragma once

#include <openssl/crypto.h>

namespace socle::adapters::crypto {

// Wipes a buffer that held key material when it goes out of scope, whichever way it leaves.
// Internal to the crypto adapter: its header names OpenSSL, which stays out of public headers.
template <typename Buffer>
class WipeOnExit final {
 public:
  explicit WipeOnExit(Buffer& buffer) noexcept : buffer_(buffer) {}
  ~WipeOnExit() {
    // An empty vector may have no storage at all, and OPENSSL_cleanse wants a real address.
    if (!buffer_.empty()) OPENSSL_cleanse(buffer_.data(), buffer_.size());
  }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  Buffer& buffer_;
};

}  // namespace socle::adapters::crypto
