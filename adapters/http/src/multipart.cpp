#include "socle/adapters/http/multipart.hpp"

#include <algorithm>
#include <functional>
#include <optional>

#include "socle/adapters/http/request_target.hpp"

namespace socle::adapters::http {

using domain::Error;
using domain::ErrorCode;
using domain::Result;

namespace {

constexpr std::size_t kMaxBoundaryLength = 70;  // RFC 2046 5.1.1

std::unexpected<Error> Bad(std::string_view why) {
  return domain::Fail(ErrorCode::kInvalidArgument,
                      "Malformed form body: " + std::string(why) + ".");
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

// RFC 9110 5.6.2 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

// A control character other than HTAB: never allowed in a header field value.
bool IsControl(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return (byte < 0x20 && c != '\t') || byte == 0x7f;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  });
  return out;
}

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && IsOws(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsOws(text.back())) text.remove_suffix(1);
  return text;
}

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0) low = 0xa0;
      if (c == 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0) low = 0x90;
      if (c == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < low || second > high) return false;
    for (std::size_t k = 2; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < 0x80 || next > 0xbf) return false;
    }
    i += length;
  }
  return true;
}

// How a backslash inside a quoted parameter value is read.
enum class Escapes {
  // RFC 9110 5.6.4 quoted-pair: a backslash escapes any character.
  kAny,
  // Only '"' and '\' are escaped; any other backslash is literal. This is what Go's and
  // browsers' multipart encoders produce, so "C:\dir\a.txt" keeps its backslashes.
  kQuotesOnly,
};

struct Parameter {
  std::string name;  // lower-cased
  std::string value;
};

// Parses `*( OWS ";" OWS [ name "=" ( token / quoted-string ) ] )` to the end of `text`.
Result<std::vector<Parameter>> ParseParameters(std::string_view text, Escapes escapes) {
  std::vector<Parameter> out;
  std::size_t i = 0;
  auto skip_ows = [&] {
    while (i < text.size() && IsOws(text[i])) ++i;
  };
  while (true) {
    skip_ows();
    if (i == text.size()) return out;
    if (text[i] != ';') return Bad("unexpected character in a header parameter list");
    ++i;
    skip_ows();
    if (i == text.size() || text[i] == ';') continue;  // an empty parameter is allowed
    const std::size_t name_start = i;
    while (i < text.size() && IsTokenChar(text[i])) ++i;
    if (i == name_start || i == text.size() || text[i] != '=') {
      return Bad("malformed header parameter");
    }
    Parameter parameter{Lower(text.substr(name_start, i - name_start)), {}};
    ++i;  // '='
    if (i < text.size() && text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        const char c = text[i];
        if (c == '"') {
          closed = true;
          ++i;
          break;
        }
        if (c == '\\' && i + 1 < text.size() &&
            (escapes == Escapes::kAny || text[i + 1] == '"' || text[i + 1] == '\\')) {
          if (IsControl(text[i + 1])) return Bad("control character in a header parameter");
          parameter.value.push_back(text[i + 1]);
          i += 2;
          continue;
        }
        if (IsControl(c)) return Bad("control character in a header parameter");
        parameter.value.push_back(c);
        ++i;
      }
      if (!closed) return Bad("unterminated quoted string in a header parameter");
    } else {
      const std::size_t value_start = i;
      while (i < text.size() && IsTokenChar(text[i])) ++i;
      if (i == value_start) return Bad("empty header parameter value");
      parameter.value = std::string(text.substr(value_start, i - value_start));
    }
    for (const auto& existing : out) {
      if (existing.name == parameter.name) return Bad("repeated header parameter");
    }
    out.push_back(std::move(parameter));
  }
}

const Parameter* FindParameter(const std::vector<Parameter>& parameters, std::string_view name) {
  for (const auto& parameter : parameters) {
    if (parameter.name == name) return &parameter;
  }
  return nullptr;
}

// Splits "type/subtype; params" into the lower-cased media type and its parameters.
Result<std::pair<std::string, std::vector<Parameter>>> ParseMediaType(std::string_view value,
                                                                       Escapes escapes) {
  value = TrimOws(value);
  const std::size_t end = value.find_first_of("; \t");
  const std::string_view type = value.substr(0, end);
  const std::size_t slash = type.find('/');
  if (slash == std::string_view::npos || !IsToken(type.substr(0, slash)) ||
      !IsToken(type.substr(slash + 1))) {
    return Bad("malformed media type");
  }
  auto parameters =
      ParseParameters(end == std::string_view::npos ? std::string_view{} : value.substr(end),
                      escapes);
  if (!parameters) return std::unexpected(parameters.error());
  return std::pair{Lower(type), std::move(*parameters)};
}

bool IsBoundaryChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

bool IsValidBoundary(std::string_view boundary) {
  return !boundary.empty() && boundary.size() <= kMaxBoundaryLength && boundary.back() != ' ' &&
         std::all_of(boundary.begin(), boundary.end(), IsBoundaryChar);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 8187 ext-value: charset "'" [ language ] "'" *( pct-encoded / attr-char ); UTF-8 only
// (ISO-8859-1, the one other charset RFC 8187 names, is not sent by any current client).
Result<std::string> DecodeExtValue(std::string_view text) {
  const std::size_t first = text.find('\'');
  const std::size_t second =
      first == std::string_view::npos ? first : text.find('\'', first + 1);
  if (second == std::string_view::npos) return Bad("malformed filename*");
  if (Lower(text.substr(0, first)) != "utf-8") return Bad("filename* must be UTF-8");
  std::string out;
  for (std::size_t i = second + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return Bad("malformed filename*");
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return Bad("malformed filename*");
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      return Bad("malformed filename*");
    }
  }
  return out;
}

// The last path component of a client's file name: browsers send base names, but older ones
// (and hand-written clients) sent full paths with either separator.
std::string_view BaseName(std::string_view filename) {
  const std::size_t slash = filename.find_last_of("/\\");
  return slash == std::string_view::npos ? filename : filename.substr(slash + 1);
}

// One part's header fields, as far as form-data cares.
struct PartHeaders {
  std::optional<std::string> disposition;
  std::optional<std::string> content_type;
  std::optional<std::string> transfer_encoding;
};

// Reads header lines from body[pos...] up to and including the empty line; advances pos.
Result<PartHeaders> ReadPartHeaders(std::string_view body, std::size_t& pos,
                                    const FormLimits& limits) {
  PartHeaders headers;
  const std::size_t start = pos;
  std::size_t count = 0;
  while (true) {
    const std::size_t window = limits.max_part_header_bytes - std::min(
        limits.max_part_header_bytes, pos - start);
    const std::size_t line_end = body.substr(pos, window + 2).find("\r\n");
    if (line_end == std::string_view::npos) {
      return Bad(pos - start + std::min(window + 2, body.size() - pos) >
                         limits.max_part_header_bytes
                     ? "part header too large"
                     : "unterminated part header");
    }
    const std::string_view line = body.substr(pos, line_end);
    pos += line_end + 2;
    if (line.empty()) return headers;
    if (++count > limits.max_part_headers) return Bad("too many part header fields");
    if (IsOws(line.front())) return Bad("folded part header line");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return Bad("malformed part header line");
    }
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), IsControl)) {
      return Bad("control character in a part header");
    }
    const std::string name = Lower(line.substr(0, colon));
    std::optional<std::string>* slot = nullptr;
    if (name == "content-disposition") slot = &headers.disposition;
    if (name == "content-type") slot = &headers.content_type;
    if (name == "content-transfer-encoding") slot = &headers.transfer_encoding;
    if (slot == nullptr) continue;  // other fields carry nothing form-data uses
    if (slot->has_value()) return Bad("repeated " + name + " in a part");
    *slot = std::string(value);
  }
}

// Turns one part into a field or a file of `out`.
Result<void> AddPart(const PartHeaders& headers, std::string_view content, FormData& out) {
  if (!headers.disposition) return Bad("part without Content-Disposition");
  if (headers.transfer_encoding) {
    const std::string encoding = Lower(*headers.transfer_encoding);
    if (encoding != "7bit" && encoding != "8bit" && encoding != "binary") {
      return Bad("unsupported Content-Transfer-Encoding");
    }
  }
  const std::string_view disposition = *headers.disposition;
  const std::size_t end = disposition.find_first_of("; \t");
  if (Lower(disposition.substr(0, end)) != "form-data") {
    return Bad("Content-Disposition must be form-data");
  }
  auto parameters = ParseParameters(
      end == std::string_view::npos ? std::string_view{} : disposition.substr(end),
      Escapes::kQuotesOnly);
  if (!parameters) return std::unexpected(parameters.error());
  const Parameter* name = FindParameter(*parameters, "name");
  if (name == nullptr || name->value.empty()) return Bad("part without a name");
  if (!IsValidUtf8(name->value)) return Bad("part name is not valid UTF-8");

  std::optional<std::string> filename;
  if (const Parameter* extended = FindParameter(*parameters, "filename*")) {
    auto decoded = DecodeExtValue(extended->value);
    if (!decoded) return std::unexpected(decoded.error());
    filename = std::move(*decoded);
  } else if (const Parameter* plain = FindParameter(*parameters, "filename")) {
    filename = plain->value;
  }

  if (!filename || filename->empty()) {
    if (!IsValidUtf8(content)) return Bad("value of \"" + name->value + "\" is not valid UTF-8");
    out.fields.emplace_back(name->value, std::string(content));
    return {};
  }
  const std::string_view base = BaseName(*filename);
  if (base.empty() || base == "." || base == "..") return Bad("invalid filename");
  if (!IsValidUtf8(base)) return Bad("filename is not valid UTF-8");
  out.files.push_back(FormFile{name->value, std::string(base),
                               headers.content_type.value_or("application/octet-stream"),
                               std::string(content)});
  return {};
}

}  // namespace

std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  return Lower(TrimOws(type));
}

Result<std::string> MultipartBoundary(std::string_view content_type) {
  auto parsed = ParseMediaType(content_type, Escapes::kAny);
  if (!parsed) return std::unexpected(parsed.error());
  const Parameter* boundary = FindParameter(parsed->second, "boundary");
  if (boundary == nullptr) return Bad("missing multipart boundary");
  if (!IsValidBoundary(boundary->value)) return Bad("invalid multipart boundary");
  return boundary->value;
}

Result<FormData> ParseMultipart(std::string_view body, std::string_view boundary,
                                const FormLimits& limits) {
  if (!IsValidBoundary(boundary)) return Bad("invalid multipart boundary");
  const std::string dash_boundary = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + dash_boundary;
  // Boyer-Moore-Horspool keeps the search linear in practice whatever the content repeats.
  const std::boyer_moore_horspool_searcher searcher(delimiter.begin(), delimiter.end());
  auto find_delimiter = [&](std::size_t from) -> std::size_t {
    const auto it = std::search(body.begin() + static_cast<std::ptrdiff_t>(from), body.end(),
                                searcher);
    return it == body.end() ? std::string_view::npos
                            : static_cast<std::size_t>(it - body.begin());
  };

  std::size_t pos = 0;
  if (body.starts_with(dash_boundary)) {
    pos = dash_boundary.size();
  } else {
    const std::size_t first = find_delimiter(0);  // after a preamble
    if (first == std::string_view::npos) return Bad("missing the first boundary");
    pos = first + delimiter.size();
  }

  FormData out;
  std::size_t parts = 0;
  while (true) {
    // pos is just after "--boundary": either the close delimiter or the end of the line.
    if (body.substr(pos, 2) == "--") return out;  // what follows is the epilogue
    while (pos < body.size() && IsOws(body[pos])) ++pos;  // transport padding
    if (body.substr(pos, 2) != "\r\n") return Bad("malformed boundary line");
    pos += 2;
    if (++parts > limits.max_parts) return Bad("too many parts");

    auto headers = ReadPartHeaders(body, pos, limits);
    if (!headers) return std::unexpected(headers.error());
    const std::size_t end = find_delimiter(pos);
    if (end == std::string_view::npos) return Bad("missing the closing boundary");
    if (auto added = AddPart(*headers, body.substr(pos, end - pos), out); !added) {
      return std::unexpected(added.error());
    }
    pos = end + delimiter.size();
  }
}

Result<FormData> ParseUrlEncoded(std::string_view body, const FormLimits& limits) {
  FormData out;
  std::size_t count = 0;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (++count > limits.max_parts) return Bad("too many fields");
    const std::size_t equals = pair.find('=');
    auto name = PercentDecode(pair.substr(0, equals), true);
    auto value = PercentDecode(
        equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1), true);
    if (!name || !value) return Bad("malformed percent-escape");
    if (!IsValidUtf8(*name) || !IsValidUtf8(*value)) return Bad("field is not valid UTF-8");
    out.fields.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

}  // namespace socle::adapters::http
