#include "socle/adapters/crypto/master_key.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <system_error>
#include <utility>
#include <vector>

#include "base64.hpp"
#include "socle/adapters/crypto/digest.hpp"

namespace socle::adapters::crypto {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

// A key file holds 44 characters and a newline; anything much larger is not a key file, and
// reading it whole would let a wrong path make start-up read without bound.
constexpr std::size_t kMaxKeyFileBytes = 4096;
// Rounds of "read, else try to create" before giving up: more than one is needed only when
// another process removes the file between our failed link and our read.
constexpr int kMaxAttempts = 3;
constexpr std::string_view kMalformed = "The master key must be base64 of 32 bytes.";

std::string ErrnoText(int error) { return std::generic_category().message(error); }

std::string Quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

std::string OctalMode(mode_t mode) {
  std::array<char, 8> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(),
                                       static_cast<unsigned>(mode & 07777U), 8);
  std::string text(digits.data(), ec == std::errc{} ? end : digits.data());
  while (text.size() < 4) text.insert(text.begin(), '0');
  return text;
}

// Closes a descriptor on every path out of a scope.
class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  /// Closes now, reporting the error close() gives (a delayed write error on some systems).
  int Close() noexcept {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Wipes a buffer that held key material when it goes out of scope.
template <typename Buffer>
class WipeOnExit {
 public:
  explicit WipeOnExit(Buffer& buffer) noexcept : buffer_(buffer) {}
  ~WipeOnExit() { OPENSSL_cleanse(buffer_.data(), buffer_.size()); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  Buffer& buffer_;
};

std::string_view TrimWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

// Standard base64 with "=" padding, as `openssl rand -base64 32` writes a key.
std::string EncodeKey(std::span<const std::uint8_t> key) {
  std::string text = EncodeBase64(key, Base64Alphabet::kStandard);
  while (text.size() % 4 != 0) text += '=';
  return text;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::unexpected<domain::Error> CannotCreate(const std::filesystem::path& path, int error) {
  return Fail(ErrorCode::kFailedPrecondition,
              "Cannot create the master key file " + Quoted(path) + ": " + ErrnoText(error) +
                  ". Create it yourself (openssl rand -base64 32 > " + Quoted(path) +
                  " && chmod 600 " + Quoted(path) + ") or set SOCLE_MASTER_KEY.");
}

// The key in the file at `path`, or nullopt when there is no such file.
Result<std::optional<MasterKey>> ReadKeyFile(const std::filesystem::path& path) {
  // O_NONBLOCK keeps a FIFO planted at the path from blocking start-up; it changes nothing
  // for a regular file.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    const int error = errno;
    if (error == ENOENT) return std::optional<MasterKey>();
    return Fail(ErrorCode::kFailedPrecondition,
                "Cannot open the master key file " + Quoted(path) + ": " + ErrnoText(error) + ".");
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    const int error = errno;
    return Fail(ErrorCode::kUnavailable,
                "Cannot read the master key file " + Quoted(path) + ": " + ErrnoText(error) + ".");
  }
  if (!S_ISREG(info.st_mode)) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The master key file " + Quoted(path) + " is not a regular file.");
  }
  // Like ssh with private keys: a key others can read is no longer secret, and one others can
  // write could be swapped for theirs; refusing is safer than using it.
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The master key file " + Quoted(path) + " is accessible to group or others (mode " +
                    OctalMode(info.st_mode) + "); run: chmod 600 " + Quoted(path));
  }
  std::string content(kMaxKeyFileBytes + 1, '\0');
  WipeOnExit wipe(content);
  std::size_t size = 0;
  while (size < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + size, content.size() - size);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      return Fail(ErrorCode::kUnavailable, "Cannot read the master key file " + Quoted(path) +
                                               ": " + ErrnoText(error) + ".");
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  auto key = ParseMasterKey(std::string_view(content).substr(0, size));
  if (size > kMaxKeyFileBytes || !key) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The master key file " + Quoted(path) +
                    " does not hold a master key (base64 of 32 bytes on one line).");
  }
  return std::optional<MasterKey>(std::move(*key));
}

// Creates the key file at `path` with a new key. nullopt when another process created it
// first (then its key is the one to read).
Result<std::optional<MasterKey>> CreateKeyFile(const std::filesystem::path& path,
                                               application::RandomSource& random) {
  std::array<std::uint8_t, MasterKey::kSize> bytes{};
  WipeOnExit wipe_bytes(bytes);
  random.Fill(bytes);
  std::string text = EncodeKey(bytes) + "\n";
  WipeOnExit wipe_text(text);

  // A name of our own beside the target: same directory, hence same file system for link().
  std::array<std::uint8_t, 8> nonce{};
  std::filesystem::path temporary;
  int raw_fd = -1;
  for (int attempt = 0; attempt < kMaxAttempts && raw_fd < 0; ++attempt) {
    random.Fill(nonce);
    temporary = path;
    temporary += ".tmp." + std::to_string(::getpid()) + "." + ToHex(nonce);
    raw_fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (raw_fd < 0 && errno != EEXIST) return CannotCreate(path, errno);
  }
  if (raw_fd < 0) return CannotCreate(path, EEXIST);
  Fd fd(raw_fd);

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
  if (::fchmod(fd.get(), S_IRUSR | S_IWUSR) != 0) return CannotCreate(path, errno);
  if (!WriteAll(fd.get(), text) || ::fsync(fd.get()) != 0 || fd.Close() != 0) {
    const int error = errno;
    return Fail(ErrorCode::kUnavailable,
                "Cannot write the master key file " + Quoted(path) + ": " + ErrnoText(error) + ".");
  }
  // link() never replaces an existing name: exactly one racing process wins, and the file
  // it publishes is already complete and on disk.
  if (::link(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    if (error == EEXIST) return std::optional<MasterKey>();
    return CannotCreate(path, error);
  }
  temporary_name.Remove();
  // The new name must survive a crash too: sync the directory that holds it.
  const std::filesystem::path directory =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  Fd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::fsync(dir.get()) != 0) {
    const int error = errno;
    return Fail(ErrorCode::kUnavailable, "Cannot sync the directory of the master key file " +
                                             Quoted(path) + ": " + ErrnoText(error) + ".");
  }
  return std::optional<MasterKey>(MasterKey(bytes));
}

}  // namespace

MasterKey::MasterKey(std::span<const std::uint8_t, kSize> bytes) noexcept {
  std::ranges::copy(bytes, bytes_.begin());
}

MasterKey::~MasterKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<MasterKey> ParseMasterKey(std::string_view base64_text) {
  std::string_view text = TrimWhitespace(base64_text);
  // Padding is optional, but when present it must be exactly what completes the last quantum.
  if (text.ends_with('=')) {
    if (text.size() % 4 != 0) return Fail(ErrorCode::kInvalidArgument, std::string(kMalformed));
    text.remove_suffix(text.ends_with("==") ? 2 : 1);
  }
  auto decoded = DecodeBase64(text, Base64Alphabet::kStandard);
  if (!decoded) decoded = DecodeBase64(text, Base64Alphabet::kUrl);
  if (!decoded) return Fail(ErrorCode::kInvalidArgument, std::string(kMalformed));
  WipeOnExit wipe(*decoded);
  if (decoded->size() != MasterKey::kSize) {
    return Fail(ErrorCode::kInvalidArgument, std::string(kMalformed));
  }
  return MasterKey(
      std::span<const std::uint8_t, MasterKey::kSize>(decoded->data(), MasterKey::kSize));
}

Result<MasterKey> LoadOrCreateMasterKeyFile(const std::filesystem::path& path,
                                            application::RandomSource& random) {
  if (path.empty()) {
    return Fail(ErrorCode::kFailedPrecondition, "The master key file path is empty.");
  }
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto existing = ReadKeyFile(path);
    if (!existing) return Fail(std::move(existing.error()));
    if (*existing) return std::move(**existing);
    auto created = CreateKeyFile(path, random);
    if (!created) return Fail(std::move(created.error()));
    if (*created) return std::move(**created);
    // Another process linked its file first: read that one on the next round.
  }
  return Fail(ErrorCode::kFailedPrecondition,
              "The master key file " + Quoted(path) +
                  " exists but cannot be opened (a dangling symbolic link?).");
}

Result<MasterKey> LoadMasterKey(const MasterKeySource& source, application::RandomSource& random) {
  if (source.environment_value) {
    if (TrimWhitespace(*source.environment_value).empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "SOCLE_MASTER_KEY is set but empty; unset it to use the key file, or give "
                  "base64 of 32 bytes.");
    }
    auto key = ParseMasterKey(*source.environment_value);
    if (!key) {
      return Fail(ErrorCode::kInvalidArgument,
                  "SOCLE_MASTER_KEY does not hold a master key (base64 of 32 bytes).");
    }
    return key;
  }
  if (source.file.empty()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "No master key is configured: set SOCLE_MASTER_KEY or a master key file.");
  }
  return LoadOrCreateMasterKeyFile(source.file, random);
}

}  // namespace socle::adapters::crypto
