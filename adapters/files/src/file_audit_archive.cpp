#include "socle/adapters/files/file_audit_archive.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>
#include <string_view>
#include <utility>

#include "socle/adapters/posix_file.hpp"
#include "socle/domain/audit.hpp"

namespace socle::adapters::files {

using application::StoredAuditEvent;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;
using posix::EnsurePrivateDirectory;
using posix::ErrnoText;
using posix::Quoted;
using posix::SyncDirectory;
using posix::UniqueFd;
using posix::WriteAll;

namespace {

constexpr std::size_t kMaxIdBytes = 64;
// Names tried for a committed archive whose name is taken (a second archive of the same span,
// after a removal that failed): `name`, `name.1` ... up to this many.
constexpr int kMaxNameAttempts = 100;
constexpr std::string_view kManifest = "manifest.jsonl";

std::unexpected<domain::Error> Unavailable(std::string_view what,
                                           const std::filesystem::path& path, int error) {
  return Fail(ErrorCode::kUnavailable, "Cannot " + std::string(what) + " the audit archive " +
                                           Quoted(path) + ": " + ErrnoText(error) + ".");
}

bool IsPlainName(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void AppendNullableString(std::string& out, const std::string* text) {
  if (text == nullptr) {
    out += "null";
  } else {
    domain::AppendCanonicalJsonString(out, *text);
  }
}

std::string Hex(const unsigned char* bytes, unsigned int size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2U);
  for (unsigned int i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0x0f];
  }
  return out;
}

}  // namespace

// The temporary file and the SHA-256 of what was written to it so far (OpenSSL's incremental
// digest: an archive of any length is hashed in bounded memory).
struct FileAuditArchive::Temp {
  std::filesystem::path directory;
  std::filesystem::path path;
  std::optional<UniqueFd> fd;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> digest{EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free};
  bool linked = false;  // the final name exists: the temporary name is only to be unlinked
};

std::filesystem::path FileAuditArchive::DefaultRoot(const std::filesystem::path& data_dir) {
  return data_dir / "audit" / "archive";
}

FileAuditArchive::FileAuditArchive(std::filesystem::path root, std::string org_id,
                                   std::string project_id)
    : root_(std::move(root)), org_id_(std::move(org_id)), project_id_(std::move(project_id)) {}

FileAuditArchive::~FileAuditArchive() {
  // An archive abandoned half-way is not one: nothing of it is left under its own name.
  if (temp_ && temp_->fd && temp_->fd->valid()) ::unlink(temp_->path.c_str());
}

Result<void> FileAuditArchive::Write(const StoredAuditEvent& stored) {
  if (committed_) {
    return Fail(ErrorCode::kFailedPrecondition, "The audit archive is already committed.");
  }
  if (!IsPlainName(org_id_) || !IsPlainName(project_id_)) {
    return Fail(ErrorCode::kInvalidArgument,
                "An audit archive needs plain organisation and project ids.");
  }
  if (stored.event.org_id != org_id_ || stored.event.project_id != project_id_) {
    return Fail(ErrorCode::kInvalidArgument,
                "The audit event belongs to another project than its archive.");
  }
  if (!temp_) {
    auto temp = std::make_unique<Temp>();
    temp->directory = root_ / org_id_ / project_id_;
    if (const int error = EnsurePrivateDirectory(temp->directory); error != 0) {
      return Unavailable("create the directory of", temp->directory, error);
    }
    if (!temp->digest || EVP_DigestInit_ex(temp->digest.get(), EVP_sha256(), nullptr) != 1) {
      return Fail(domain::Error::Internal("cannot start a SHA-256 digest"));
    }
    temp->path = temp->directory / (".archive-" + std::to_string(::getpid()) + ".tmp");
    ::unlink(temp->path.c_str());  // a leftover of a process that died with this pid
    temp->fd.emplace(::open(temp->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                            S_IRUSR | S_IWUSR));
    if (!temp->fd->valid()) return Unavailable("create", temp->path, errno);
    temp_ = std::move(temp);
  }
  std::string line = ArchiveLine(stored);
  line += '\n';
  if (const int error = WriteAll(temp_->fd->get(), line); error != 0) {
    return Unavailable("write", temp_->path, error);
  }
  if (EVP_DigestUpdate(temp_->digest.get(), line.data(), line.size()) != 1) {
    return Fail(domain::Error::Internal("cannot update a SHA-256 digest"));
  }
  if (!first_ || stored.event.at < *first_) first_ = stored.event.at;
  if (!last_ || *last_ < stored.event.at) last_ = stored.event.at;
  ++events_;
  return {};
}

Result<void> FileAuditArchive::Commit() {
  if (committed_) return {};
  if (!temp_) {
    committed_ = true;
    return {};
  }
  if (::fsync(temp_->fd->get()) != 0) return Unavailable("sync", temp_->path, errno);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(temp_->digest.get(), digest.data(), &size) != 1) {
    return Fail(domain::Error::Internal("cannot finish a SHA-256 digest"));
  }
  sha256_ = Hex(digest.data(), size);
  // link(2) refuses a name taken, where rename(2) would replace an earlier archive.
  const std::string base = ArchiveTime(*first_) + "_" + ArchiveTime(*last_);
  std::filesystem::path final_path;
  for (int attempt = 0; attempt < kMaxNameAttempts; ++attempt) {
    final_path = temp_->directory /
                 (base + (attempt == 0 ? "" : "." + std::to_string(attempt)) + ".jsonl");
    if (::link(temp_->path.c_str(), final_path.c_str()) == 0) {
      temp_->linked = true;
      break;
    }
    if (errno != EEXIST) return Unavailable("name", final_path, errno);
  }
  if (!temp_->linked) return Unavailable("name", final_path, EEXIST);
  ::unlink(temp_->path.c_str());
  if (const int error = SyncDirectory(temp_->directory); error != 0) {
    return Unavailable("sync the directory of", final_path, error);
  }
  if (temp_->fd->Close() != 0) return Unavailable("close", final_path, errno);

  std::string entry = "{\"file\":";
  domain::AppendCanonicalJsonString(entry, final_path.filename().string());
  entry += ",\"sha256\":\"" + sha256_ + "\",\"events\":" + std::to_string(events_) +
           ",\"first\":\"" + first_->ToIso8601() + "\",\"last\":\"" + last_->ToIso8601() +
           "\"}\n";
  const std::filesystem::path manifest = temp_->directory / std::string(kManifest);
  UniqueFd fd(::open(manifest.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                     S_IRUSR | S_IWUSR));
  if (!fd.valid()) return Unavailable("open", manifest, errno);
  if (const int error = WriteAll(fd.get(), entry); error != 0) {
    return Unavailable("append to", manifest, error);
  }
  if (::fsync(fd.get()) != 0) return Unavailable("sync", manifest, errno);
  if (const int error = SyncDirectory(temp_->directory); error != 0) {
    return Unavailable("sync the directory of", manifest, error);
  }
  file_ = final_path;
  committed_ = true;
  return {};
}

Result<std::unique_ptr<application::AuditArchiveSink>> FileAuditArchives::Open(
    std::string_view org_id, std::string_view project_id) {
  if (!IsPlainName(org_id) || !IsPlainName(project_id)) {
    return Fail(ErrorCode::kInvalidArgument,
                "An audit archive needs plain organisation and project ids.");
  }
  return std::unique_ptr<application::AuditArchiveSink>(
      std::make_unique<FileAuditArchive>(root_, std::string(org_id), std::string(project_id)));
}

std::string ArchiveLine(const StoredAuditEvent& stored) {
  const std::string* actor = nullptr;
  const std::string* target = nullptr;
  for (const auto& part : stored.personal) {
    (part.part == domain::AuditPart::kActor ? actor : target) = &part.data;
  }
  std::string line = "{\"event\":";
  line += domain::CanonicalAuditEvent(stored.event);
  line += ",\"hash\":";
  domain::AppendCanonicalJsonString(line, stored.event.hash);
  line += ",\"actorData\":";
  AppendNullableString(line, actor);
  line += ",\"targetData\":";
  AppendNullableString(line, target);
  line += '}';
  return line;
}

std::string ArchiveTime(domain::Timestamp at) {
  // ToIso8601 gives YYYY-MM-DDTHH:MM:SS.ffffffZ; the separators go.
  std::string out;
  for (const char c : at.ToIso8601()) {
    if (c != '-' && c != ':') out += c;
  }
  return out;
}

}  // namespace socle::adapters::files
