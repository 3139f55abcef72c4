// Fuzzes form bodies: the first line of the input is a Content-Type value, the rest the body.
// Any bytes must give a form or invalid_argument, never a crash; a decoded form must respect
// the parser's promises (limits, base-name filenames, UTF-8 text, no byte invented). The same
// bytes also go through the data API's other readers of client text: the `fields` parameter
// and the :excerpt HTML stripper (which must stay within its length bound).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "socle/adapters/http/multipart.hpp"
#include "socle/adapters/json/record_json.hpp"

namespace {

namespace http = socle::adapters::http;

bool IsUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    // The sequence length from the lead byte (the parser itself rejects overlongs too).
    std::size_t n = 0;
    if (c < 0x80) {
      n = 1;
    } else if ((c >> 5) == 0x6) {
      n = 2;
    } else if ((c >> 4) == 0xE) {
      n = 3;
    } else if ((c >> 3) == 0x1E) {
      n = 4;
    }
    if (n == 0 || i + n > text.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

void Check(const socle::domain::Result<http::FormData>& form, std::string_view body,
           const http::FormLimits& limits) {
  if (!form) {
    if (form.error().code != socle::domain::ErrorCode::kInvalidArgument) __builtin_trap();
    return;
  }
  std::size_t bytes = 0;
  for (const auto& [name, value] : form->fields) {
    if (!IsUtf8(name) || !IsUtf8(value)) __builtin_trap();
    bytes += value.size();
  }
  for (const auto& file : form->files) {
    if (file.field.empty() || file.filename.empty()) __builtin_trap();
    if (file.filename.find_first_of("/\\") != std::string_view::npos) __builtin_trap();
    if (!IsUtf8(file.filename)) __builtin_trap();
    bytes += file.size();
  }
  if (form->fields.size() + form->files.size() > limits.max_parts) __builtin_trap();
  if (bytes > body.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view content_type = input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
  http::FormLimits limits;
  limits.max_parts = 64;
  limits.max_part_headers = 8;
  limits.max_part_header_bytes = 512;

  namespace json = socle::adapters::json;
  auto fields = json::FieldSelection::Parse(content_type);
  if (!fields && fields.error().code != socle::domain::ErrorCode::kInvalidArgument) {
    __builtin_trap();
  }
  const std::size_t max = 1 + size % 64;
  if (json::Excerpt(body, max, false).size() > max) __builtin_trap();
  if (json::Excerpt(body, max, true).size() > max + 3) __builtin_trap();

  (void)http::MediaType(content_type);
  Check(http::ParseUrlEncoded(body, limits), body, limits);
  auto boundary = http::MultipartBoundary(content_type);
  if (!boundary) {
    if (boundary.error().code != socle::domain::ErrorCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  if (boundary->empty() || boundary->size() > 70) __builtin_trap();
  Check(http::ParseMultipart(body, *boundary, limits), body, limits);
  return 0;
}
