#pragma once

// The transport-free part of the SMTP client: reading replies, reading EHLO's extensions and
// preparing the message data. Private to the mail adapter (its tests include it directly).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace socle::adapters::mail::smtp {

/// Longest reply line accepted, CRLF excluded. RFC 5321 4.5.3.1.5 allows 512; servers exceed
/// it in EHLO and error texts, so the bound is generous but still a bound.
inline constexpr std::size_t kMaxReplyLineLength = 4096;
/// Most lines in one reply (an EHLO lists a dozen extensions).
inline constexpr std::size_t kMaxReplyLines = 100;

/// One complete server reply (RFC 5321 4.2).
struct Reply {
  int code = 0;                    ///< The three-digit reply code.
  std::vector<std::string> lines;  ///< Each line's text after the code and separator.

  /// "250 first / second ..." with control characters replaced and the length bounded, for
  /// Error::internal and logs.
  std::string Describe() const;
  bool IsPositive() const noexcept { return code >= 200 && code < 400; }
  bool IsTransient() const noexcept { return code >= 400 && code < 500; }
  bool IsPermanent() const noexcept { return code >= 500 && code < 600; }
};

/// Gathers a reply line by line: "250-..." lines continue it, a "250 ..." line (or a bare
/// "250") ends it; every line must carry the same code.
class ReplyReader {
 public:
  enum class Status { kNeedMore, kComplete, kMalformed };

  /// Adds one line (without its line ending). After kComplete, Take() gives the reply; after
  /// kMalformed, error() says why and the reader must not be used again.
  Status Add(std::string_view line);
  Reply Take();
  const std::string& error() const noexcept { return error_; }

 private:
  Reply reply_;
  std::string error_;
};

/// What an EHLO reply offers that the client uses.
struct Extensions {
  bool starttls = false;
  bool auth_plain = false;
  bool auth_login = false;
  std::vector<std::string> auth_mechanisms;  ///< All mechanisms named, upper-case.
  /// SIZE's limit in bytes when advertised; 0 means advertised without a limit.
  std::optional<std::uint64_t> size;
};

/// Reads the extension lines of a 250 EHLO reply (all lines after the first). Keywords are
/// case-insensitive; the old "AUTH=..." spelling is understood.
Extensions ParseExtensions(const Reply& ehlo);

/// The DATA payload for `message` (CRLF line endings): each line that starts with '.' gets a
/// second one (RFC 5321 4.5.2), a final CRLF is added when missing, and the end-of-data line
/// ".\r\n" follows.
std::string DotStuff(std::string_view message);

}  // namespace socle::adapters::mail::smtp
