#include "socle/adapters/mail/file_mailer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>

#include "socle/adapters/mail/mime.hpp"

namespace socle::adapters::mail {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;

Error WriteError(const std::string& what, int error_number) {
  Error error = Error::Make(ErrorCode::kUnavailable, "The mail could not be written.");
  error.internal = what + ": " + std::generic_category().message(error_number);
  return error;
}

// Closes a descriptor on every path out of a scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const noexcept { return fd_; }
  // Closes now and reports close's own error, which for a written file may be the write's.
  int Close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// Creates `directory` and its missing parents with mode 0700; existing ones are left alone.
Result<void> MakeDirectories(const std::filesystem::path& directory) {
  std::filesystem::path path;
  for (const auto& part : directory) {
    path /= part;
    if (path == path.root_path() || path.empty()) continue;
    if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) {
      struct stat info {};
      if (::stat(path.c_str(), &info) != 0) return Fail(WriteError("stat " + path.string(), errno));
      if (!S_ISDIR(info.st_mode)) return Fail(WriteError("mkdir " + path.string(), ENOTDIR));
      continue;
    }
    return Fail(WriteError("mkdir " + path.string(), errno));
  }
  return {};
}

// "20231114T221320.123456Z": sortable, and free of characters that file systems dislike.
std::string FileTime(domain::Timestamp time) {
  using namespace std::chrono;
  const sys_time<microseconds> instant{microseconds(time.unix_micros())};
  const sys_days day = floor<days>(instant);
  const year_month_day ymd(day);
  const hh_mm_ss clock(floor<microseconds>(instant - day));
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02d%02d%02d.%06dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()),
                static_cast<int>(clock.subseconds().count()));
  return buffer;
}

std::string RandomHex(application::RandomSource& random) {
  std::array<std::uint8_t, 8> bytes{};
  random.Fill(bytes);
  std::string out;
  for (std::uint8_t byte : bytes) {
    out.push_back("0123456789abcdef"[byte >> 4]);
    out.push_back("0123456789abcdef"[byte & 0x0F]);
  }
  return out;
}

Result<void> WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return Fail(WriteError("write " + path, errno));
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return {};
}

}  // namespace

FileMailer::FileMailer(std::filesystem::path directory, application::Clock& clock,
                       application::RandomSource& random)
    : directory_(std::move(directory)), clock_(clock), random_(random) {}

Result<void> FileMailer::Send(const application::MailMessage& message) {
  const domain::Timestamp now = clock_.Now();
  auto mail = ComposeMail(message, now, NewMailToken(random_));
  if (!mail) return Fail(mail.error());
  if (auto made = MakeDirectories(directory_); !made) return Fail(made.error());

  const std::string name = FileTime(now) + "-" + RandomHex(random_) + ".eml";
  const std::string final_path = (directory_ / name).string();
  // A leading dot keeps the partial file out of "*.eml" globs of whoever collects the mail.
  const std::string temporary_path = (directory_ / ("." + name + ".tmp")).string();

  FileDescriptor file(
      ::open(temporary_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (file.get() < 0) return Fail(WriteError("open " + temporary_path, errno));
  auto written = WriteAll(file.get(), mail->data, temporary_path);
  if (written && ::fsync(file.get()) != 0) written = Fail(WriteError("fsync " + temporary_path, errno));
  if (written && file.Close() != 0) written = Fail(WriteError("close " + temporary_path, errno));
  if (written && ::rename(temporary_path.c_str(), final_path.c_str()) != 0) {
    written = Fail(WriteError("rename " + temporary_path, errno));
  }
  if (!written) {
    ::unlink(temporary_path.c_str());
    return written;
  }
  // The rename is durable once the directory is flushed too.
  FileDescriptor directory(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() >= 0) (void)::fsync(directory.get());
  return {};
}

}  // namespace socle::adapters::mail
