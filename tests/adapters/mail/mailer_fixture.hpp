#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "socle/application/ports/mailer.hpp"
#include "socle/domain/json_value.hpp"

namespace socle::testing {

/// One message as it reached its destination (the SMTP receiver, or a file).
struct DeliveredMail {
  std::string raw;           ///< The message's bytes (RFC 5322).
  domain::JsonValue parsed;  ///< mailparser's reading (tests/support/smtp/parse_mail.mjs).
  /// The envelope recipients, when the adapter has an envelope (SMTP); nullopt otherwise.
  std::optional<std::vector<std::string>> envelope_to;
};

/// One adapter's mailer and its destination, fresh for one test case, with a clock that starts
/// at 2023-11-14T22:13:20Z and moves by at most a millisecond per message.
/// Each contract executable links exactly one implementation of MakeMailerUnderTest().
class MailerUnderTest {
 public:
  virtual ~MailerUnderTest() = default;
  virtual application::Mailer& mailer() = 0;
  /// Every message delivered so far, in the order sent, once there are `count` of them (the
  /// adapter may deliver asynchronously; this waits a bounded time). Throws when there are
  /// fewer, or more.
  virtual std::vector<DeliveredMail> Delivered(std::size_t count) = 0;
};

std::unique_ptr<MailerUnderTest> MakeMailerUnderTest();

}  // namespace socle::testing
