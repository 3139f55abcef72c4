#include "tar_writer.hpp"

#include <algorithm>
#include <cstring>

namespace socle::adapters::cli {
namespace {

using domain::ErrorCode;

// Field offsets and widths of the ustar header (POSIX.1, pax "ustar Interchange Format").
constexpr std::size_t kNameAt = 0, kNameSize = 100;
constexpr std::size_t kModeAt = 100, kUidAt = 108, kGidAt = 116, kIdSize = 8;
constexpr std::size_t kSizeAt = 124, kMtimeAt = 136, kNumberSize = 12;
constexpr std::size_t kChecksumAt = 148, kChecksumSize = 8;
constexpr std::size_t kTypeAt = 156;
constexpr std::size_t kMagicAt = 257, kVersionAt = 263;
constexpr std::size_t kUnameAt = 265, kGnameAt = 297, kOwnerSize = 32;
constexpr std::size_t kPrefixAt = 345, kPrefixSize = 155;

// `value` in octal, zero-padded to width - 1 digits and NUL-terminated, as ustar's numeric
// fields are. False when it does not fit.
bool PutOctal(char* field, std::size_t width, std::uint64_t value) {
  const std::size_t digits = width - 1;
  field[digits] = '\0';
  for (std::size_t i = digits; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7u));
    value >>= 3;
  }
  return value == 0;
}

void PutText(char* field, std::string_view text) { std::memcpy(field, text.data(), text.size()); }

// Where to split a long name between the prefix and the name fields: the last '/' that leaves
// at most 100 bytes (and at least one) after it and at most 155 before it.
std::string_view::size_type SplitPoint(std::string_view name) {
  for (auto at = name.rfind('/'); at != std::string_view::npos && at > 0;
       at = name.rfind('/', at - 1)) {
    const std::size_t rest = name.size() - at - 1;
    if (rest > kNameSize) break;  // splitting further left only makes the rest longer
    if (rest > 0 && at <= kPrefixSize) return at;
  }
  return std::string_view::npos;
}

domain::Result<void> CheckName(std::string_view name) {
  auto refuse = [&](std::string_view why) {
    return domain::Fail(ErrorCode::kInvalidArgument,
                        "Cannot archive \"" + std::string(name) + "\": " + std::string(why) + ".");
  };
  if (name.empty() || name == "/") return refuse("the name is empty");
  if (name.front() == '/') return refuse("the name is absolute");
  if (name.find('\0') != std::string_view::npos) return refuse("the name holds a NUL");
  std::string_view rest = name;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part == "..") return refuse("the name climbs out with ..");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return {};
}

}  // namespace

TarWriter::TarWriter(std::ostream& out, std::int64_t mtime) : out_(out), mtime_(mtime) {}

domain::Result<std::array<char, TarWriter::kBlock>> TarWriter::Header(std::string_view name,
                                                                      char type,
                                                                      std::uint64_t size,
                                                                      std::int64_t mtime) {
  if (auto checked = CheckName(name); !checked) return domain::Fail(std::move(checked.error()));
  if (size > kMaxSize) {
    return domain::Fail(ErrorCode::kInvalidArgument,
                        "Cannot archive \"" + std::string(name) +
                            "\": larger than the 8 GiB a ustar entry holds.");
  }
  std::array<char, kBlock> block{};
  if (name.size() <= kNameSize) {
    PutText(&block[kNameAt], name);
  } else {
    // The directory's own trailing '/' belongs to the name part, so split before it.
    const bool directory = name.back() == '/';
    auto at = SplitPoint(directory ? name.substr(0, name.size() - 1) : name);
    if (at == std::string_view::npos) {
      return domain::Fail(ErrorCode::kInvalidArgument,
                          "Cannot archive \"" + std::string(name) +
                              "\": the name is too long for a ustar header (at most 100 bytes "
                              "after a '/', and 155 before it).");
    }
    PutText(&block[kPrefixAt], name.substr(0, at));
    PutText(&block[kNameAt], name.substr(at + 1));
  }
  PutOctal(&block[kModeAt], kIdSize, type == '5' ? 0755 : 0644);
  PutOctal(&block[kUidAt], kIdSize, 0);
  PutOctal(&block[kGidAt], kIdSize, 0);
  PutOctal(&block[kSizeAt], kNumberSize, size);
  PutOctal(&block[kMtimeAt], kNumberSize,
           static_cast<std::uint64_t>(std::max<std::int64_t>(mtime, 0)));
  block[kTypeAt] = type;
  PutText(&block[kMagicAt], std::string_view("ustar\0", 6));
  PutText(&block[kVersionAt], "00");
  PutText(&block[kUnameAt], "root");
  PutText(&block[kGnameAt], "root");
  static_assert(kUnameAt + kOwnerSize == kGnameAt);
  // The checksum is the sum of the header's bytes as unsigned, its own field counted as
  // spaces; written as six octal digits, a NUL and a space.
  std::memset(&block[kChecksumAt], ' ', kChecksumSize);
  std::uint32_t sum = 0;
  for (char byte : block) sum += static_cast<unsigned char>(byte);
  PutOctal(&block[kChecksumAt], 7, sum);
  block[kChecksumAt + 7] = ' ';
  return block;
}

domain::Result<void> TarWriter::Written() {
  if (!out_) return domain::Fail(ErrorCode::kUnavailable, "Cannot write the archive.");
  return {};
}

domain::Result<void> TarWriter::Pad(std::uint64_t size) {
  static constexpr std::array<char, kBlock> kZeros{};
  const std::uint64_t tail = size % kBlock;
  if (tail != 0) out_.write(kZeros.data(), static_cast<std::streamsize>(kBlock - tail));
  return Written();
}

domain::Result<void> TarWriter::AddDirectory(std::string_view name) {
  if (finished_) return domain::Fail(domain::Error::Internal("the archive is finished"));
  auto header = Header(std::string(name) + "/", '5', 0, mtime_);
  if (!header) return domain::Fail(std::move(header.error()));
  out_.write(header->data(), kBlock);
  return Written();
}

domain::Result<void> TarWriter::AddFile(std::string_view name, std::string_view content) {
  if (finished_) return domain::Fail(domain::Error::Internal("the archive is finished"));
  auto header = Header(name, '0', content.size(), mtime_);
  if (!header) return domain::Fail(std::move(header.error()));
  out_.write(header->data(), kBlock);
  out_.write(content.data(), static_cast<std::streamsize>(content.size()));
  return Pad(content.size());
}

domain::Result<void> TarWriter::AddFile(std::string_view name, std::FILE* source,
                                        std::uint64_t size) {
  if (finished_) return domain::Fail(domain::Error::Internal("the archive is finished"));
  auto header = Header(name, '0', size, mtime_);
  if (!header) return domain::Fail(std::move(header.error()));
  out_.write(header->data(), kBlock);
  std::array<char, 65536> buffer;
  std::uint64_t left = size;
  while (left > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
    const std::size_t got = std::fread(buffer.data(), 1, want, source);
    if (got == 0) {
      // The header promised `size` bytes: an archive with fewer would be corrupt.
      return domain::Fail(ErrorCode::kUnavailable,
                          "Cannot read back the spooled content of " + std::string(name) + ".");
    }
    out_.write(buffer.data(), static_cast<std::streamsize>(got));
    left -= got;
  }
  return Pad(size);
}

domain::Result<void> TarWriter::Finish() {
  if (finished_) return {};
  static constexpr std::array<char, 2 * kBlock> kEnd{};
  out_.write(kEnd.data(), static_cast<std::streamsize>(kEnd.size()));
  out_.flush();
  finished_ = true;
  return Written();
}

}  // namespace socle::adapters::cli
