#include "socle/adapters/crypto/ed25519_audit_signer.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "base64.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"

namespace socle::adapters::crypto {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

// A seed on its way from the key file to OpenSSL; every copy wipes its bytes when it dies.
struct Seed {
  std::array<std::uint8_t, Ed25519AuditSigner::kSeedSize> bytes{};

  Seed() = default;
  Seed(const Seed&) = default;
  Seed& operator=(const Seed&) = default;
  ~Seed() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// A key file holds 44 characters and a newline; a much larger file is not a key file, and
// reading it whole would let a wrong path make start-up read without bound.
constexpr std::size_t kMaxKeyFileBytes = 4096;
// Rounds of "read, else try to create": more than one is needed only when another process
// removes the file between our failed link and our read.
constexpr int kMaxAttempts = 3;

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// OpenSSL wants a valid pointer even for an empty message (RFC 8032 TEST 1 signs one).
const std::uint8_t* DataOrEmpty(std::span<const std::uint8_t> bytes) {
  static constexpr std::uint8_t kEmpty = 0;
  return bytes.empty() ? &kEmpty : bytes.data();
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
  /// Closes now, reporting what close() reports (a delayed write error on some systems).
  int Close() noexcept {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Wipes a buffer that held key material when it goes out of scope, whichever way it leaves.
template <typename Buffer>
class WipeOnExit {
 public:
  explicit WipeOnExit(Buffer& buffer) noexcept : buffer_(buffer) {}
  ~WipeOnExit() {
    if (!buffer_.empty()) OPENSSL_cleanse(buffer_.data(), buffer_.size());
  }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  Buffer& buffer_;
};

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

std::string_view TrimWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

// The seed a key file spells: base64 of exactly 32 bytes in either alphabet, padding optional
// but exact when present (so `openssl rand -base64 32` output and a base64url seed both work).
std::optional<Seed> ParseSeed(std::string_view file_text) {
  std::string_view text = TrimWhitespace(file_text);
  if (text.ends_with('=')) {
    if (text.size() % 4 != 0) return std::nullopt;
    text.remove_suffix(text.ends_with("==") ? 2 : 1);
  }
  auto decoded = DecodeBase64(text, Base64Alphabet::kStandard);
  if (!decoded) decoded = DecodeBase64(text, Base64Alphabet::kUrl);
  if (!decoded) return std::nullopt;
  WipeOnExit wipe(*decoded);
  if (decoded->size() != Ed25519AuditSigner::kSeedSize) return std::nullopt;
  Seed seed;
  std::copy(decoded->begin(), decoded->end(), seed.bytes.begin());
  return seed;
}

// The key file's content: standard base64 with "=" padding and a newline, as
// `openssl rand -base64 32` writes a key. Built in one buffer sized up front, so that no
// reallocation leaves an unwiped copy of the seed behind; the caller wipes the result.
std::string SeedFileText(const Seed& seed) {
  std::string encoded = EncodeBase64(seed.bytes, Base64Alphabet::kStandard);
  std::string text;
  text.reserve(encoded.size() + 4);
  text += encoded;
  OPENSSL_cleanse(encoded.data(), encoded.size());
  while (text.size() % 4 != 0) text += '=';
  text += '\n';
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
              "Cannot create the audit signing key file " + Quoted(path) + ": " +
                  ErrnoText(error) + ". Create it yourself (openssl rand -base64 32 > " +
                  Quoted(path) + " && chmod 600 " + Quoted(path) + ").");
}

// The seed in the file at `path`, or nullopt when there is no such file.
Result<std::optional<Seed>> ReadSeedFile(const std::filesystem::path& path) {
  // O_NONBLOCK keeps a FIFO planted at the path from blocking start-up; it changes nothing for
  // a regular file.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    const int error = errno;
    if (error == ENOENT) return std::optional<Seed>();
    return Fail(ErrorCode::kFailedPrecondition, "Cannot open the audit signing key file " +
                                                    Quoted(path) + ": " + ErrnoText(error) + ".");
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    const int error = errno;
    return Fail(ErrorCode::kUnavailable, "Cannot read the audit signing key file " +
                                             Quoted(path) + ": " + ErrnoText(error) + ".");
  }
  if (!S_ISREG(info.st_mode)) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The audit signing key file " + Quoted(path) + " is not a regular file.");
  }
  // Like ssh with private keys: a key others can read could sign forged checkpoints, and one
  // others can write could be swapped for theirs; refusing beats signing with it.
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The audit signing key file " + Quoted(path) +
                    " is accessible to group or others (mode " + OctalMode(info.st_mode) +
                    "); run: chmod 600 " + Quoted(path));
  }
  std::string content(kMaxKeyFileBytes + 1, '\0');
  WipeOnExit wipe(content);
  std::size_t size = 0;
  while (size < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + size, content.size() - size);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      return Fail(ErrorCode::kUnavailable, "Cannot read the audit signing key file " +
                                               Quoted(path) + ": " + ErrnoText(error) + ".");
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  std::optional<Seed> seed;
  if (size <= kMaxKeyFileBytes) seed = ParseSeed(std::string_view(content).substr(0, size));
  if (!seed) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The audit signing key file " + Quoted(path) +
                    " does not hold a key (base64 of 32 bytes on one line).");
  }
  return seed;
}

// Creates the key file at `path` with a new seed. nullopt when another process created it
// first (then its seed is the one to read).
Result<std::optional<Seed>> CreateSeedFile(const std::filesystem::path& path,
                                           application::RandomSource& random) {
  Seed seed;
  random.Fill(seed.bytes);
  std::string text = SeedFileText(seed);
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
    return Fail(ErrorCode::kUnavailable, "Cannot write the audit signing key file " +
                                             Quoted(path) + ": " + ErrnoText(error) + ".");
  }
  // link() never replaces an existing name: exactly one racing process wins, and the file it
  // publishes is already complete and on disk.
  if (::link(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    if (error == EEXIST) return std::optional<Seed>();
    return CannotCreate(path, error);
  }
  temporary_name.Remove();
  // The new name must survive a crash too: sync the directory that holds it.
  const std::filesystem::path directory =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  Fd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::fsync(dir.get()) != 0) {
    const int error = errno;
    return Fail(ErrorCode::kUnavailable,
                "Cannot sync the directory of the audit signing key file " + Quoted(path) + ": " +
                    ErrnoText(error) + ".");
  }
  return std::optional<Seed>(seed);
}

}  // namespace

struct Ed25519AuditSigner::Key {
  PkeyPtr pkey;
  std::string public_key;  // base64url
  std::string key_id;
};

Ed25519AuditSigner::Ed25519AuditSigner(std::unique_ptr<const Key> key) : key_(std::move(key)) {}

Ed25519AuditSigner::~Ed25519AuditSigner() = default;

Result<std::unique_ptr<Ed25519AuditSigner>> Ed25519AuditSigner::FromSeed(
    std::span<const std::uint8_t, kSeedSize> seed) {
  auto key = std::make_unique<Key>();
  key->pkey.reset(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  std::array<std::uint8_t, kPublicKeySize> public_key{};
  std::size_t length = public_key.size();
  if (!key->pkey ||
      EVP_PKEY_get_raw_public_key(key->pkey.get(), public_key.data(), &length) != 1 ||
      length != kPublicKeySize) {
    return Fail(domain::Error::Internal("OpenSSL refused an Ed25519 audit signing key"));
  }
  key->public_key = ToBase64Url(public_key);
  const Sha256Digest digest = Sha256(std::span<const std::uint8_t>(public_key));
  key->key_id = ToHex(digest).substr(0, kKeyIdHexDigits);
  return std::unique_ptr<Ed25519AuditSigner>(new Ed25519AuditSigner(std::move(key)));
}

std::string Ed25519AuditSigner::PublicKey() { return key_->public_key; }

std::string Ed25519AuditSigner::KeyId() { return key_->key_id; }

Result<std::string> Ed25519AuditSigner::Sign(std::string_view message) {
  const std::span<const std::uint8_t> bytes = AsBytes(message);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::array<std::uint8_t, kSignatureSize> signature{};
  std::size_t length = signature.size();
  // Ed25519 hashes internally (PureEdDSA): no digest is named, and the message goes to
  // EVP_DigestSign in one piece.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length, DataOrEmpty(bytes), bytes.size()) !=
          1 ||
      length != kSignatureSize) {
    return Fail(domain::Error::Internal("OpenSSL Ed25519 audit checkpoint signing failed"));
  }
  return ToBase64Url(signature);
}

bool Ed25519AuditSigner::Verify(std::string_view message, std::string_view signature,
                                std::string_view public_key) {
  // Bounded before decoding: the valid spellings are 43 and 86 characters long.
  if (signature.size() > 2 * kSignatureSize || public_key.size() > 2 * kPublicKeySize) {
    return false;
  }
  const auto key_bytes = FromBase64Url(public_key);
  const auto signature_bytes = FromBase64Url(signature);
  if (!key_bytes || key_bytes->size() != kPublicKeySize || !signature_bytes ||
      signature_bytes->size() != kSignatureSize) {
    return false;
  }
  const std::span<const std::uint8_t> bytes = AsBytes(message);
  return Ed25519TokenSigner::VerifyBytes(
      *key_bytes, std::span<const std::uint8_t>(DataOrEmpty(bytes), bytes.size()),
      *signature_bytes);
}

Result<std::unique_ptr<Ed25519AuditSigner>> LoadOrCreateAuditSigningKey(
    const std::filesystem::path& path, application::RandomSource& random) {
  if (path.empty()) {
    return Fail(ErrorCode::kFailedPrecondition, "The audit signing key file path is empty.");
  }
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Result<std::optional<Seed>> seed = ReadSeedFile(path);
    if (seed && !*seed) seed = CreateSeedFile(path, random);
    if (!seed) return Fail(std::move(seed.error()));
    if (*seed) return Ed25519AuditSigner::FromSeed((*seed)->bytes);
    // Another process linked its file first: read that one on the next round.
  }
  return Fail(ErrorCode::kFailedPrecondition,
              "The audit signing key file " + Quoted(path) +
                  " exists but cannot be opened (a dangling symbolic link?).");
}

}  // namespace socle::adapters::crypto
