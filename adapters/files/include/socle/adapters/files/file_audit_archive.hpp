#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::files {

/// One project's audit archive, written by retention (AuditChains::ArchiveAudit) before the
/// store removes anything: `<root>/<org_id>/<project_id>/<first>_<last>.jsonl`, one ArchiveLine
/// per event in chain order, where <first> and <last> are the earliest and latest event times
/// (`YYYYMMDDTHHMMSS.ffffffZ`). The lines go to a temporary file in that directory; Commit
/// fsyncs it, links it under its final name (never replacing a file: a name taken gets
/// `.1`, `.2` ...), syncs the directory, then appends `{"file","sha256","events","first",
/// "last"}` (the SHA-256 of the whole file) to `manifest.jsonl` beside it and syncs that too.
/// A sink not committed removes its temporary file when destroyed. Used by one thread.
class FileAuditArchive final : public application::AuditArchiveSink {
 public:
  /// Where archives live by default: `<data_dir>/audit/archive`.
  static std::filesystem::path DefaultRoot(const std::filesystem::path& data_dir);

  /// An archive of one project under `root`. Nothing is touched before the first Write, which
  /// creates the directories (mode 0700) as needed.
  FileAuditArchive(std::filesystem::path root, std::string org_id, std::string project_id);
  ~FileAuditArchive() override;
  FileAuditArchive(const FileAuditArchive&) = delete;
  FileAuditArchive& operator=(const FileAuditArchive&) = delete;

  /// Appends the event's line to the temporary file. invalid_argument when the org or
  /// project id is not a plain name ([A-Za-z0-9_-], at most 64 bytes: it becomes a directory)
  /// or the event is of another project; failed_precondition after Commit; unavailable when
  /// a directory or the file cannot be created or written.
  domain::Result<void> Write(const application::StoredAuditEvent& event) override;
  /// Makes the archive durable and lists it in the manifest (see the class comment); with no
  /// event written, does nothing. unavailable when a sync, link or the manifest append failed
  /// (the events are then not to be removed from the store).
  domain::Result<void> Commit() override;
  /// The archive file's path once committed, else "".
  std::string Location() const override { return file_ ? file_->string() : std::string(); }

  /// The archive file, once committed.
  const std::optional<std::filesystem::path>& file() const noexcept { return file_; }
  /// The SHA-256 (hex) of the archive file, once committed.
  const std::string& sha256() const noexcept { return sha256_; }
  std::int64_t events() const noexcept { return events_; }

 private:
  struct Temp;

  const std::filesystem::path root_;
  const std::string org_id_;
  const std::string project_id_;
  std::unique_ptr<Temp> temp_;  // the open temporary file and its running hash
  std::optional<domain::Timestamp> first_;
  std::optional<domain::Timestamp> last_;
  std::int64_t events_ = 0;
  bool committed_ = false;
  std::optional<std::filesystem::path> file_;
  std::string sha256_;
};

/// The archives of every project under one root (`<data_dir>/audit/archive`).
class FileAuditArchives final : public application::AuditArchives {
 public:
  explicit FileAuditArchives(std::filesystem::path root) : root_(std::move(root)) {}
  /// A FileAuditArchive of the project; invalid_argument when an id is not a plain name.
  domain::Result<std::unique_ptr<application::AuditArchiveSink>> Open(
      std::string_view org_id, std::string_view project_id) override;

 private:
  const std::filesystem::path root_;
};

/// One archived event as a line, without its newline: {"event":<the canonical event, byte for
/// byte what its hash covers (domain::CanonicalAuditEvent)>,"hash":"…","actorData":"…"|null,
/// "targetData":"…"|null}, the personal parts' data as JSON strings (null when absent or
/// erased), strings escaped as the canonical form does.
std::string ArchiveLine(const application::StoredAuditEvent& stored);

/// An archive file's name part for a time: `YYYYMMDDTHHMMSS.ffffffZ` (no colons, sorts by time).
std::string ArchiveTime(domain::Timestamp at);

}  // namespace socle::adapters::files
