#pragma once

#include <filesystem>

#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/mailer.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::mail {

/// "Sends" mail by writing each message to a directory, for development and for operators
/// without an SMTP server: `<dir>/<UTC time>-<random>.eml` ("20231114T221320.123456Z-
/// 9f86d081884c7d65.eml"), the exact RFC 5322 text an SMTP server would receive, which any mail
/// client opens. Names sort by time.
///
/// Each file appears whole or not at all: it is written as a hidden temporary file in the same
/// directory, flushed to disk, then renamed. Files are created 0600 and a missing directory
/// (with its missing parents) 0700, since messages carry password-reset links and the like.
/// The envelope is not kept: Bcc recipients, which never appear in a message, are not
/// recorded. Thread-safe (each Send writes a file of its own).
class FileMailer final : public application::Mailer {
 public:
  /// `clock` dates and names the messages and `random` names them; both must outlive the
  /// mailer. The directory is created on the first Send, not here.
  FileMailer(std::filesystem::path directory, application::Clock& clock,
             application::RandomSource& random);

  /// Errors as the Mailer port; unavailable (with the system's diagnosis in Error::internal)
  /// when the directory or the file cannot be written.
  domain::Result<void> Send(const application::MailMessage& message) override;

  const std::filesystem::path& directory() const noexcept { return directory_; }

 private:
  std::filesystem::path directory_;
  application::Clock& clock_;
  application::RandomSource& random_;
};

}  // namespace socle::adapters::mail
