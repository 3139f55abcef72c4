// Fuzzes what clients hand the server as credentials: any bytes given as a bearer token must be
// refused by the Ed25519 signer with unauthenticated (never a crash, never another code), and a
// token it accepts must be one it signed: its claims re-signed verify to the same claims. The
// same bytes also go through the SMTP URL reader, whose redacted form must not depend on the
// password.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/mail/smtp_options.hpp"

namespace {

socle::adapters::crypto::Ed25519TokenSigner& Signer() {
  static socle::adapters::crypto::Ed25519TokenSigner signer;
  static const bool ready = [] {
    std::array<std::uint8_t, 32> seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return signer.AddKey("fuzz-key", seed).has_value();
  }();
  if (!ready) std::abort();
  return signer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto claims = Signer().Verify(input);
  if (!claims) {
    if (claims.error().code != socle::domain::ErrorCode::kUnauthenticated) std::abort();
  } else {
    auto again = Signer().Sign(*claims);
    if (!again) std::abort();
    auto reread = Signer().Verify(*again);
    if (!reread || !(*reread == *claims)) std::abort();
  }
  (void)Signer().Bind(input);

  // The redacted form must not depend on the password at all (a substring test would be
  // fooled by a password that also appears, legitimately, in another parameter).
  auto smtp = socle::adapters::mail::ParseSmtpUrl(input);
  if (smtp && !smtp->password.empty()) {
    auto other = *smtp;
    other.password = "other-" + smtp->password;
    if (socle::adapters::mail::RedactedSmtpUrl(*smtp) !=
        socle::adapters::mail::RedactedSmtpUrl(other)) {
      std::abort();
    }
  }
  return 0;
}
