#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/http/request.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// Bounds on a form body, on top of the server's body size limit (which bounds every byte count
/// here): a form of a million empty fields fits in a small body and would cost far more to
/// decode and validate than its size suggests.
struct FormLimits {
  /// Fields plus files (multipart parts, or urlencoded pairs).
  std::size_t max_parts = 1000;
  /// The header block of one multipart part, in bytes (its lines and their CRLFs).
  std::size_t max_part_header_bytes = std::size_t{8} << 10;
  /// Header fields of one multipart part.
  std::size_t max_part_headers = 16;
};

/// A file sent in a multipart/form-data body: a part whose Content-Disposition has a non-empty
/// filename.
struct FormFile {
  std::string field;         ///< the form field name
  std::string filename;      ///< as sent, without any directory part ("a/b.txt" → "b.txt")
  std::string content_type;  ///< the part's Content-Type, application/octet-stream if none
  std::string bytes;         ///< the content, verbatim

  std::size_t size() const noexcept { return bytes.size(); }
};

/// A decoded form body: its text fields (name, value) in order with repeats kept, and its files
/// in order. Names and values of fields are valid UTF-8.
struct FormData {
  Request::Pairs fields;
  std::vector<FormFile> files;
};

/// The media type of a Content-Type value, lower-cased, without parameters or spaces
/// ("Multipart/Form-Data; boundary=x" → "multipart/form-data"); "" for an empty value.
std::string MediaType(std::string_view content_type);

/// The boundary parameter of a multipart Content-Type value (RFC 2046 5.1.1: 1 to 70
/// characters of DIGIT ALPHA '()+_,-./:=? and space, not ending with a space; token or quoted).
/// invalid_argument when the value does not parse as media-type *( ";" parameter ) (RFC 9110
/// 8.3.1), when the boundary is missing, repeated or malformed.
domain::Result<std::string> MultipartBoundary(std::string_view content_type);

/// Parses a multipart/form-data body (RFC 7578 over RFC 2046), strictly: the preamble and the
/// epilogue are ignored as RFC 2046 requires; each delimiter line is CRLF "--" boundary, then
/// optional spaces or tabs and CRLF (or "--" for the last one); a part's header block ends with
/// an empty line, has no folded lines and at most `limits.max_part_headers` fields; each part
/// has exactly one Content-Disposition of type form-data with a non-empty `name` (token or
/// quoted string; in a quoted string a backslash escapes only '"' and '\', so Windows paths in
/// filenames survive, as with Go's and browsers' encoders); `filename*` (RFC 8187, UTF-8 only)
/// wins over `filename`. A part with a non-empty filename is a file; one with an empty filename
/// (a browser's empty file input) is a field with an empty value. A Content-Transfer-Encoding
/// other than 7bit, 8bit or binary is refused (RFC 7578 4.7 deprecates the others). Field
/// names, values and filenames must be valid UTF-8.
///
/// invalid_argument with a client-safe message naming the problem; never throws.
domain::Result<FormData> ParseMultipart(std::string_view body, std::string_view boundary,
                                        const FormLimits& limits = {});

/// Parses an application/x-www-form-urlencoded body (the WHATWG URL standard's
/// application/x-www-form-urlencoded parser, strict on escapes): pairs separated by '&', empty
/// pairs skipped, a pair without '=' has an empty value, '+' is a space, %XX escapes are
/// decoded. invalid_argument for a malformed escape, invalid UTF-8 after decoding, or more
/// than `limits.max_parts` pairs.
domain::Result<FormData> ParseUrlEncoded(std::string_view body, const FormLimits& limits = {});

}  // namespace socle::adapters::http
