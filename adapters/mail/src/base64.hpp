#pragma once

// Base64 for the mail adapter (MIME bodies, encoded-words, SMTP AUTH). Private to the adapter.

#include <string>
#include <string_view>

namespace socle::adapters::mail {

/// Standard base64 with padding (RFC 4648 section 4), on one line.
std::string Base64(std::string_view bytes);

}  // namespace socle::adapters::mail
