#pragma once

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "socle/application/ports/audit_checkpoints.hpp"
#include "socle/domain/audit.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::files {

/// Signed audit checkpoints kept in a JSON Lines file outside every store, one checkpoint per
/// line (see CheckpointLine), so that whoever can rewrite the audit tables still cannot
/// rewrite what was signed, and an auditor can take the file alone.
///
/// The file is only ever appended to. The one exception is a torn last line (no newline: a
/// writer died or the disk filled mid-append, so its Append never returned success): the next
/// Append cuts it off before writing, else the two would fuse into one damaged line.
///
/// Thread-safe, and safe across processes (the server and the CLI): appends are serialised by
/// a mutex and an exclusive flock(2) on the file, reads take a shared flock.
class FileAuditCheckpoints final : public application::AuditCheckpoints {
 public:
  /// The longest line written or read. Far beyond any real checkpoint (about 400,000 chain
  /// heads), it bounds what Latest holds in memory whatever the file contains.
  static constexpr std::size_t kMaxLineBytes = std::size_t{64} << 20;

  /// Where checkpoints live by default: `<data_dir>/audit/checkpoints.jsonl`.
  static std::filesystem::path DefaultPath(const std::filesystem::path& data_dir);

  /// Keeps checkpoints in the file at `path`. Nothing is touched until the first call: the
  /// file, and its directory (mode 0700, with any missing parents) when missing, are created
  /// by the first Append, so that a failure is reported as a Result.
  explicit FileAuditCheckpoints(std::filesystem::path path);

  /// Appends `checkpoint` as one line (file mode 0600 when created) with a single O_APPEND
  /// write, then fdatasync, and a directory fsync when the line is the file's first.
  /// unavailable when the directory or file cannot be created, opened, locked, written or
  /// synced (nothing of the line is left behind then, as far as the system allows);
  /// resource_exhausted when the line would exceed kMaxLineBytes; internal when the checkpoint
  /// would not read back identically (a string that is not valid UTF-8).
  domain::Result<void> Append(const domain::AuditCheckpoint& checkpoint) override;

  /// The checkpoint on the last complete line, found by reading backwards from the end of the
  /// file (memory bounded by kMaxLineBytes, whatever the file's length). nullopt when the file
  /// or its directory does not exist, or holds no complete line. A torn last line (no
  /// newline) is ignored. internal, naming the line number, when the last complete line does
  /// not parse as a checkpoint or is too long, or when the path is not a regular file;
  /// unavailable when the file cannot be opened, locked or read.
  domain::Result<std::optional<domain::AuditCheckpoint>> Latest() override;

  /// The file this keeps checkpoints in.
  const std::filesystem::path& file() const noexcept { return path_; }

 private:
  const std::filesystem::path path_;
  std::mutex mutex_;  // one appender of this process at a time; flock covers the others
};

/// One checkpoint as a line of the file, without its newline: {"v":1,"at":RFC 3339 with
/// microseconds,"key":key id,"publicKey":..,"heads":[{"org","project","lane","seq","hash"},
/// ...],"signature":..}, compact, members in this order, heads in the checkpoint's order.
std::string CheckpointLine(const domain::AuditCheckpoint& checkpoint);

/// Reads a line written by CheckpointLine (without its newline). Strict, since the file is
/// evidence: exactly those members, each once and of its type, "v" 1, "at" a valid UTC time,
/// lane and seq integers, and the very bytes CheckpointLine writes for the result (no other
/// spacing, member order or escaping). invalid_argument naming what is wrong otherwise.
domain::Result<domain::AuditCheckpoint> ParseCheckpointLine(std::string_view line);

}  // namespace socle::adapters::files
