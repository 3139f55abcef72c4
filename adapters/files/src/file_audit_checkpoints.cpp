#include "socle/adapters/files/file_audit_checkpoints.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/posix_file.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::files {

using domain::AuditCheckpoint;
using domain::AuditCheckpointHead;
using domain::ErrorCode;
using domain::Fail;
using domain::JsonValue;
using domain::Result;
using posix::DirectoryOf;
using posix::EnsurePrivateDirectory;
using posix::ErrnoText;
using posix::Quoted;
using posix::SyncDirectory;
using posix::UniqueFd;
using posix::WriteAll;

namespace {

constexpr std::int64_t kLineVersion = 1;
// A line is {"heads":[{...}]}: three levels of nesting, and nothing deeper is ever valid.
constexpr std::size_t kLineDepth = 3;
// How much of the file is looked at per read when searching for line ends.
constexpr std::size_t kChunkBytes = std::size_t{64} << 10;
// Rounds of "create, else open" in Append: another is needed only when someone removes the
// file between our two open() calls.
constexpr int kMaxOpenAttempts = 3;
// The damaged-file message clients may see; the path and the reason go to Error::internal.
constexpr std::string_view kDamaged = "The audit checkpoint file is damaged";

constexpr std::array<std::string_view, 6> kLineMembers = {"v",         "at",    "key",
                                                           "publicKey", "heads", "signature"};
constexpr std::array<std::string_view, 5> kHeadMembers = {"org", "project", "lane", "seq",
                                                           "hash"};

std::unexpected<domain::Error> Unavailable(std::string_view what,
                                           const std::filesystem::path& path, int error) {
  return Fail(ErrorCode::kUnavailable, "Cannot " + std::string(what) + " the audit checkpoint " +
                                           "file " + Quoted(path) + ": " + ErrnoText(error) +
                                           ".");
}

// kInternal: the file no longer holds what Append wrote. The line number is safe to show;
// the path and the reason are for the operator's log.
std::unexpected<domain::Error> Damaged(const std::filesystem::path& path, std::int64_t line,
                                       std::string_view reason) {
  domain::Error error;
  error.code = ErrorCode::kInternal;
  error.message = std::string(kDamaged) + " at line " + std::to_string(line) + ".";
  error.internal = path.string() + " line " + std::to_string(line) + ": " + std::string(reason);
  return std::unexpected(std::move(error));
}

std::unexpected<domain::Error> Invalid(std::string reason) {
  return Fail(ErrorCode::kInvalidArgument, "Not an audit checkpoint line: " + reason + ".");
}

int Lock(int fd, int operation) {
  while (::flock(fd, operation) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

// Reads exactly out.size() bytes at `offset`. 0, or the errno of the failure (EIO when the
// file ends early: it was cut behind our back).
int ReadAt(int fd, std::span<char> out, off_t offset) {
  while (!out.empty()) {
    const ssize_t n = ::pread(fd, out.data(), out.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    out = out.subspan(static_cast<std::size_t>(n));
    offset += n;
  }
  return 0;
}

// Where the last '\n' in [from, to) of the file is; nullopt when there is none. 0 or the
// errno of a failed read in `error`.
std::optional<off_t> LastNewline(int fd, off_t from, off_t to, int& error) {
  error = 0;
  std::vector<char> buffer(kChunkBytes);
  off_t end = to;
  while (end > from) {
    const off_t begin = std::max(from, end - static_cast<off_t>(buffer.size()));
    const std::span<char> chunk(buffer.data(), static_cast<std::size_t>(end - begin));
    error = ReadAt(fd, chunk, begin);
    if (error != 0) return std::nullopt;
    const void* hit = ::memrchr(chunk.data(), '\n', chunk.size());
    if (hit != nullptr) return begin + (static_cast<const char*>(hit) - chunk.data());
    end = begin;
  }
  return std::nullopt;
}

// How many '\n' the file holds before `to`: the line number of the line starting there is one
// more. Only wanted when a line is damaged, so the forward pass costs nothing otherwise.
std::optional<std::int64_t> CountNewlines(int fd, off_t to, int& error) {
  error = 0;
  std::vector<char> buffer(kChunkBytes);
  std::int64_t count = 0;
  for (off_t begin = 0; begin < to;) {
    const std::span<char> chunk(
        buffer.data(),
        static_cast<std::size_t>(std::min(to - begin, static_cast<off_t>(buffer.size()))));
    error = ReadAt(fd, chunk, begin);
    if (error != 0) return std::nullopt;
    count += std::count(chunk.begin(), chunk.end(), '\n');
    begin += static_cast<off_t>(chunk.size());
  }
  return count;
}

// Members of `object` in the order of `names`: each present exactly once, no other member.
Result<std::vector<const JsonValue*>> ExactMembers(const JsonValue& object,
                                                   std::span<const std::string_view> names,
                                                   const std::string& where) {
  if (!object.IsObject()) return Invalid(where + " is not a JSON object");
  std::vector<const JsonValue*> found(names.size(), nullptr);
  for (const auto& [key, value] : object.members()) {
    const auto it = std::ranges::find(names, key);
    if (it == names.end()) return Invalid(where + " has an unknown member \"" + key + "\"");
    const auto index = static_cast<std::size_t>(it - names.begin());
    // Two readers of a line with a repeated member could disagree on which value counts.
    if (found[index] != nullptr) return Invalid(where + " has \"" + key + "\" twice");
    found[index] = &value;
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (found[i] == nullptr) return Invalid(where + " lacks \"" + std::string(names[i]) + "\"");
  }
  return found;
}

Result<std::string> StringMember(const JsonValue* value, const std::string& where) {
  if (value->type() != JsonValue::Type::kString) return Invalid(where + " is not a string");
  return value->AsString();
}

Result<std::int64_t> IntegerMember(const JsonValue* value, const std::string& where) {
  const std::optional<std::int64_t> integer =
      value->type() == JsonValue::Type::kNumber ? value->AsInt64() : std::nullopt;
  if (!integer) return Invalid(where + " is not an integer");
  return *integer;
}

Result<AuditCheckpointHead> ReadHead(const JsonValue& value, const std::string& where) {
  auto members = ExactMembers(value, kHeadMembers, where);
  if (!members) return Fail(std::move(members.error()));
  AuditCheckpointHead head;
  auto org = StringMember((*members)[0], where + ".org");
  if (!org) return Fail(std::move(org.error()));
  head.org_id = std::move(*org);
  auto project = StringMember((*members)[1], where + ".project");
  if (!project) return Fail(std::move(project.error()));
  head.project_id = std::move(*project);
  auto lane = IntegerMember((*members)[2], where + ".lane");
  if (!lane) return Fail(std::move(lane.error()));
  head.lane = *lane;
  auto seq = IntegerMember((*members)[3], where + ".seq");
  if (!seq) return Fail(std::move(seq.error()));
  head.seq = *seq;
  auto hash = StringMember((*members)[4], where + ".hash");
  if (!hash) return Fail(std::move(hash.error()));
  head.hash = std::move(*hash);
  return head;
}

}  // namespace

std::string CheckpointLine(const AuditCheckpoint& checkpoint) {
  json::JsonWriter w;
  w.BeginObject();
  w.Key("v").Int(kLineVersion);
  w.Key("at").String(checkpoint.at.ToIso8601());
  w.Key("key").String(checkpoint.key_id);
  w.Key("publicKey").String(checkpoint.public_key);
  w.Key("heads").BeginArray();
  for (const AuditCheckpointHead& head : checkpoint.heads) {
    w.BeginObject();
    w.Key("org").String(head.org_id);
    w.Key("project").String(head.project_id);
    w.Key("lane").Int(head.lane);
    w.Key("seq").Int(head.seq);
    w.Key("hash").String(head.hash);
    w.EndObject();
  }
  w.EndArray();
  w.Key("signature").String(checkpoint.signature);
  w.EndObject();
  return std::move(w).Take();
}

Result<AuditCheckpoint> ParseCheckpointLine(std::string_view line) {
  auto parsed = json::ParseJson(
      line, json::JsonLimits{kLineDepth, FileAuditCheckpoints::kMaxLineBytes});
  if (!parsed) {
    const domain::Error& error = parsed.error();
    return Invalid("not JSON (" + (error.internal.empty() ? error.message : error.internal) +
                   ")");
  }
  auto members = ExactMembers(*parsed, kLineMembers, "the line");
  if (!members) return Fail(std::move(members.error()));

  auto version = IntegerMember((*members)[0], "v");
  if (!version) return Fail(std::move(version.error()));
  if (*version != kLineVersion) return Invalid("unknown version " + std::to_string(*version));

  AuditCheckpoint checkpoint;
  auto at_text = StringMember((*members)[1], "at");
  if (!at_text) return Fail(std::move(at_text.error()));
  auto at = domain::Timestamp::Parse(*at_text);
  if (!at) return Invalid("at is not an RFC 3339 UTC time");
  checkpoint.at = *at;
  auto key = StringMember((*members)[2], "key");
  if (!key) return Fail(std::move(key.error()));
  checkpoint.key_id = std::move(*key);
  auto public_key = StringMember((*members)[3], "publicKey");
  if (!public_key) return Fail(std::move(public_key.error()));
  checkpoint.public_key = std::move(*public_key);

  const JsonValue& heads = *(*members)[4];
  if (heads.type() != JsonValue::Type::kArray) return Invalid("heads is not an array");
  checkpoint.heads.reserve(heads.items().size());
  for (std::size_t i = 0; i < heads.items().size(); ++i) {
    auto head = ReadHead(heads.items()[i], "heads[" + std::to_string(i) + "]");
    if (!head) return Fail(std::move(head.error()));
    checkpoint.heads.push_back(std::move(*head));
  }

  auto signature = StringMember((*members)[5], "signature");
  if (!signature) return Fail(std::move(signature.error()));
  checkpoint.signature = std::move(*signature);
  // Only this adapter writes the file, always in one form: a line in any other (spaces,
  // another member order, other escapes) was written or edited by someone else.
  if (CheckpointLine(checkpoint) != line) {
    return Invalid("not in the form the checkpoint file is written in (spacing, member order "
                   "or escaping differ)");
  }
  return checkpoint;
}

std::filesystem::path FileAuditCheckpoints::DefaultPath(const std::filesystem::path& data_dir) {
  return data_dir / "audit" / "checkpoints.jsonl";
}

FileAuditCheckpoints::FileAuditCheckpoints(std::filesystem::path path) : path_(std::move(path)) {}

Result<void> FileAuditCheckpoints::Append(const AuditCheckpoint& checkpoint) {
  std::string line = CheckpointLine(checkpoint);
  if (line.size() > kMaxLineBytes) {
    return Fail(ErrorCode::kResourceExhausted,
                "The audit checkpoint is larger than a checkpoint file line may be (" +
                    std::to_string(kMaxLineBytes) + " bytes).");
  }
  // The file is evidence: a line that would read back as anything else (JsonWriter replaces
  // bytes that are not UTF-8) must not be stored as if it were the checkpoint signed.
  const auto read_back = ParseCheckpointLine(line);
  if (!read_back || *read_back != checkpoint) {
    return Fail(domain::Error::Internal(
        "an audit checkpoint would not read back identically from its line (a string that is "
        "not valid UTF-8?)"));
  }
  line += '\n';

  if (path_.empty()) {
    return Fail(ErrorCode::kUnavailable, "No audit checkpoint file is configured.");
  }
  const std::lock_guard lock(mutex_);
  const std::filesystem::path directory = DirectoryOf(path_);
  if (const int error = EnsurePrivateDirectory(directory); error != 0) {
    return Fail(ErrorCode::kUnavailable, "Cannot create the audit checkpoint directory " +
                                             Quoted(directory) + ": " + ErrnoText(error) + ".");
  }

  // O_NONBLOCK keeps a FIFO planted at the path from blocking; nothing changes for a file.
  constexpr int kFlags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  bool created = false;
  int raw_fd = -1;
  for (int attempt = 0; attempt < kMaxOpenAttempts && raw_fd < 0; ++attempt) {
    raw_fd = ::open(path_.c_str(), kFlags | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR);
    if (raw_fd >= 0) {
      created = true;
      break;
    }
    if (errno != EEXIST) return Unavailable("create", path_, errno);
    raw_fd = ::open(path_.c_str(), kFlags);
    if (raw_fd < 0 && errno != ENOENT) return Unavailable("open", path_, errno);
  }
  if (raw_fd < 0) return Unavailable("open", path_, ENOENT);
  UniqueFd fd(raw_fd);

  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return Unavailable("inspect", path_, errno);
  if (!S_ISREG(info.st_mode)) {
    return Fail(ErrorCode::kUnavailable,
                "The audit checkpoint file " + Quoted(path_) + " is not a regular file.");
  }
  // The umask may have taken the owner's write bit from a new file: later appends need it.
  if (created && ::fchmod(fd.get(), S_IRUSR | S_IWUSR) != 0) {
    return Unavailable("set the mode of", path_, errno);
  }
  if (const int error = Lock(fd.get(), LOCK_EX); error != 0) {
    return Unavailable("lock", path_, error);
  }
  // The size only means something once the lock is held: another process may have appended.
  if (::fstat(fd.get(), &info) != 0) return Unavailable("inspect", path_, errno);
  off_t size = info.st_size;

  if (size > 0) {
    char last = '\n';
    if (const int error = ReadAt(fd.get(), std::span(&last, 1), size - 1); error != 0) {
      return Unavailable("read", path_, error);
    }
    if (last != '\n') {
      // A torn line: its writer never returned success, and our line must not fuse with it.
      int error = 0;
      const std::optional<off_t> newline = LastNewline(fd.get(), 0, size, error);
      if (error != 0) return Unavailable("read", path_, error);
      const off_t keep = newline ? *newline + 1 : 0;
      if (::ftruncate(fd.get(), keep) != 0) return Unavailable("repair", path_, errno);
      size = keep;
    }
  }

  if (const int error = WriteAll(fd.get(), line); error != 0) {
    // Take back what part of the line made it, so that no torn line stays behind.
    if (::ftruncate(fd.get(), size) == 0) ::fdatasync(fd.get());
    return Unavailable("write", path_, error);
  }
  if (::fdatasync(fd.get()) != 0) {
    const int error = errno;
    if (::ftruncate(fd.get(), size) == 0) ::fdatasync(fd.get());
    return Unavailable("sync", path_, error);
  }
  // A file made by us, or left empty by a writer that died before its first line was synced:
  // its name must be durable too.
  if (created || size == 0) {
    if (const int error = SyncDirectory(directory); error != 0) {
      return Fail(ErrorCode::kUnavailable, "Cannot sync the audit checkpoint directory " +
                                               Quoted(directory) + ": " + ErrnoText(error) + ".");
    }
  }
  return {};
}

Result<std::optional<AuditCheckpoint>> FileAuditCheckpoints::Latest() {
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    const int error = errno;
    if (error == ENOENT) return std::optional<AuditCheckpoint>();
    return Unavailable("open", path_, error);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return Unavailable("inspect", path_, errno);
  if (!S_ISREG(info.st_mode)) {
    domain::Error error = domain::Error::Internal(path_.string() + " is not a regular file");
    error.message = std::string(kDamaged) + ": it is not a regular file.";
    return Fail(std::move(error));
  }
  // Shared: readers never wait for one another, only for an append (or repair) under way.
  if (const int error = Lock(fd.get(), LOCK_SH); error != 0) {
    return Unavailable("lock", path_, error);
  }
  if (::fstat(fd.get(), &info) != 0) return Unavailable("inspect", path_, errno);
  const off_t size = info.st_size;

  int error = 0;
  // The end of the last complete line; what follows it is a torn line and is ignored.
  const std::optional<off_t> end = LastNewline(fd.get(), 0, size, error);
  if (error != 0) return Unavailable("read", path_, error);
  if (!end) return std::optional<AuditCheckpoint>();
  // Its start: no further back than kMaxLineBytes, so a damaged file cannot make this read
  // (or hold) more than one line's worth.
  const off_t limit = static_cast<off_t>(kMaxLineBytes);
  const off_t search_from = *end > limit ? *end - limit - 1 : 0;
  const std::optional<off_t> previous = LastNewline(fd.get(), search_from, *end, error);
  if (error != 0) return Unavailable("read", path_, error);
  const off_t start = previous ? *previous + 1 : 0;

  // The number of the line, for the operator, when it is damaged: one more than the lines
  // ended before its own newline.
  const auto damaged = [&](std::string_view reason) -> std::unexpected<domain::Error> {
    int count_error = 0;
    const std::optional<std::int64_t> newlines = CountNewlines(fd.get(), *end, count_error);
    if (!newlines) return Unavailable("read", path_, count_error);
    return Damaged(path_, *newlines + 1, reason);
  };
  if (!previous && search_from > 0) {
    return damaged("the last line is longer than " + std::to_string(kMaxLineBytes) + " bytes");
  }
  std::string line(static_cast<std::size_t>(*end - start), '\0');
  if (const int read_error = ReadAt(fd.get(), line, start); read_error != 0) {
    return Unavailable("read", path_, read_error);
  }
  auto checkpoint = ParseCheckpointLine(line);
  if (!checkpoint) return damaged(checkpoint.error().message);
  return std::optional<AuditCheckpoint>(std::move(*checkpoint));
}

}  // namespace socle::adapters::files
