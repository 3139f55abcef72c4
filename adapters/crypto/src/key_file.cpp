#include "key_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <string>
#include <system_error>
#include <utility>

#include "base64.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/posix_file.hpp"
#include "wipe_on_exit.hpp"

namespace socle::adapters::crypto {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;
using posix::ErrnoText;
using posix::Quoted;
using posix::UniqueFd;

namespace {

// A key file holds a line of base64 (44 characters for 32 bytes); a much larger file is not a
// key file, and reading it whole would let a wrong path make start-up read without bound.
constexpr std::size_t kMaxKeyFileBytes = 4096;
// Rounds of "read, else try to create" (and of temporary names tried): more than one is needed
// only when another process removes the file between our failed link and our read.
constexpr int kMaxAttempts = 3;

std::string OctalMode(mode_t mode) {
  std::array<char, 8> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(),
                                       static_cast<unsigned>(mode & 07777U), 8);
  std::string text(digits.data(), ec == std::errc{} ? end : digits.data());
  while (text.size() < 4) text.insert(text.begin(), '0');
  return text;
}

// "<what the file is> '<path>'", as every message names the file.
std::string Named(const KeyFileWording& wording, const std::filesystem::path& path) {
  return std::string(wording.file) + " " + Quoted(path);
}

// "Cannot <action> the <file> '<path>': <errno text>."
std::unexpected<domain::Error> SystemFailure(ErrorCode code, std::string_view action,
                                             const KeyFileWording& wording,
                                             const std::filesystem::path& path, int error) {
  return Fail(code, "Cannot " + std::string(action) + " the " + Named(wording, path) + ": " +
                        ErrnoText(error) + ".");
}

// The advice names the command that makes a key file by hand, for the size this one holds.
std::unexpected<domain::Error> CannotCreate(const KeyFileWording& wording,
                                            const std::filesystem::path& path,
                                            std::size_t secret_size, int error) {
  return Fail(ErrorCode::kFailedPrecondition,
              "Cannot create the " + Named(wording, path) + ": " + ErrnoText(error) +
                  ". Create it yourself (openssl rand -base64 " + std::to_string(secret_size) +
                  " > " + Quoted(path) + " && chmod 600 " + Quoted(path) + ")" +
                  std::string(wording.alternative) + ".");
}

// The file's content: standard base64 with "=" padding and a newline, as `openssl rand -base64`
// writes a key. Built in one buffer sized up front, so that no reallocation leaves an unwiped
// copy of the key behind; the caller wipes the result.
std::string KeyFileText(std::span<const std::uint8_t> secret) {
  std::string encoded = EncodeBase64(secret, Base64Alphabet::kStandard);
  std::string text;
  text.reserve(encoded.size() + 4);
  text += encoded;
  OPENSSL_cleanse(encoded.data(), encoded.size());
  while (text.size() % 4 != 0) text += '=';
  text += '\n';
  return text;
}

// Fills `secret` from the file at `path`: true when it did, false when there is no such file.
Result<bool> ReadKeyFile(const std::filesystem::path& path, const KeyFileWording& wording,
                         std::span<std::uint8_t> secret) {
  // O_NONBLOCK keeps a FIFO planted at the path from blocking start-up; it changes nothing for
  // a regular file.
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    const int error = errno;
    if (error == ENOENT) return false;
    return SystemFailure(ErrorCode::kFailedPrecondition, "open", wording, path, error);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    return SystemFailure(ErrorCode::kUnavailable, "read", wording, path, errno);
  }
  if (!S_ISREG(info.st_mode)) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The " + Named(wording, path) + " is not a regular file.");
  }
  // Like ssh with private keys: a key others can read is no longer secret, and one others can
  // write could be swapped for theirs; refusing is safer than using it.
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The " + Named(wording, path) + " is accessible to group or others (mode " +
                    OctalMode(info.st_mode) + "); run: chmod 600 " + Quoted(path));
  }
  // One byte more than a key file may hold, so that a larger file is seen to be one.
  std::string content(kMaxKeyFileBytes + 1, '\0');
  const WipeOnExit wipe(content);
  std::size_t size = 0;
  while (size < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + size, content.size() - size);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      return SystemFailure(ErrorCode::kUnavailable, "read", wording, path, error);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxKeyFileBytes ||
      !DecodeKeyText(std::string_view(content).substr(0, size), secret)) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The " + Named(wording, path) + " does not hold a " +
                    std::string(wording.content) + " (base64 of " +
                    std::to_string(secret.size()) + " bytes on one line).");
  }
  return true;
}

// Creates the file at `path` holding new bytes from `random`, which are left in `secret`: true
// when it did, false when another process created the file first (then its key is the one to
// read, and `secret` holds bytes nobody uses).
Result<bool> CreateKeyFile(const std::filesystem::path& path, const KeyFileWording& wording,
                           application::RandomSource& random, std::span<std::uint8_t> secret) {
  random.Fill(secret);
  std::string text = KeyFileText(secret);
  const WipeOnExit wipe_text(text);

  // A name of our own beside the target: same directory, hence same file system for link().
  std::array<std::uint8_t, 8> nonce{};
  std::filesystem::path temporary;
  int raw_fd = -1;
  for (int attempt = 0; attempt < kMaxAttempts && raw_fd < 0; ++attempt) {
    random.Fill(nonce);
    temporary = path;
    temporary += ".tmp." + std::to_string(::getpid()) + "." + ToHex(nonce);
    raw_fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (raw_fd < 0 && errno != EEXIST) return CannotCreate(wording, path, secret.size(), errno);
  }
  if (raw_fd < 0) return CannotCreate(wording, path, secret.size(), EEXIST);
  UniqueFd fd(raw_fd);

  // The temporary name goes away on every path out, published or not.
  struct TemporaryName {
    const std::filesystem::path& name;
    bool removed = false;
    void Remove() {
      if (!removed) ::unlink(name.c_str());
      removed = true;
    }
    ~TemporaryName() { Remove(); }
  } temporary_name{temporary};

  // The umask may have taken bits away from 0600; the owner must keep read and write.
  if (::fchmod(fd.get(), S_IRUSR | S_IWUSR) != 0) {
    return CannotCreate(wording, path, secret.size(), errno);
  }
  int error = posix::WriteAll(fd.get(), text);
  if (error == 0 && ::fsync(fd.get()) != 0) error = errno;
  if (error == 0 && fd.Close() != 0) error = errno;
  if (error != 0) return SystemFailure(ErrorCode::kUnavailable, "write", wording, path, error);
  // link() never replaces an existing name: exactly one racing process wins, and the file it
  // publishes is already complete and on disk.
  if (::link(temporary.c_str(), path.c_str()) != 0) {
    error = errno;
    if (error == EEXIST) return false;
    return CannotCreate(wording, path, secret.size(), error);
  }
  temporary_name.Remove();
  // The new name must survive a crash too.
  error = posix::SyncDirectory(posix::DirectoryOf(path));
  if (error != 0) {
    return SystemFailure(ErrorCode::kUnavailable, "sync the directory of", wording, path, error);
  }
  return true;
}

}  // namespace

std::string_view TrimWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

bool DecodeKeyText(std::string_view text, std::span<std::uint8_t> out) {
  text = TrimWhitespace(text);
  // Padding is optional, but when present it must be exactly what completes the last quantum.
  if (text.ends_with('=')) {
    if (text.size() % 4 != 0) return false;
    text.remove_suffix(text.ends_with("==") ? 2 : 1);
  }
  auto decoded = DecodeBase64(text, Base64Alphabet::kStandard);
  if (!decoded) decoded = DecodeBase64(text, Base64Alphabet::kUrl);
  if (!decoded) return false;
  const WipeOnExit wipe(*decoded);
  if (decoded->size() != out.size()) return false;
  std::ranges::copy(*decoded, out.begin());
  return true;
}

Result<void> LoadOrCreateKeyFile(const std::filesystem::path& path, const KeyFileWording& wording,
                                 application::RandomSource& random,
                                 std::span<std::uint8_t> secret) {
  if (path.empty()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The " + std::string(wording.file) + " path is empty.");
  }
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Result<bool> loaded = ReadKeyFile(path, wording, secret);
    if (loaded && !*loaded) loaded = CreateKeyFile(path, wording, random, secret);
    if (!loaded) return Fail(std::move(loaded.error()));
    if (*loaded) return {};
    // Another process linked its file first: read that one on the next round.
  }
  return Fail(ErrorCode::kFailedPrecondition,
              "The " + Named(wording, path) +
                  " exists but cannot be opened (a dangling symbolic link?).");
}

}  // namespace socle::adapters::crypto
