#include "socle/domain/filter/parser.hpp"

#include <array>
#include <charconv>
#include <string>
#include <system_error>
#include <utility>

namespace socle::domain::filter {
namespace {

// Errors quote at most this much of an identifier or number, so that a hostile filter cannot
// make its own error message large.
constexpr std::size_t kMaxQuoted = 64;

std::unexpected<Error> SyntaxError(std::string_view what, std::size_t position) {
  std::string message = "Invalid filter: ";
  message.append(what);
  message.append(" at position ");
  message.append(std::to_string(position));
  message.push_back('.');
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

// Identifier and number text is ASCII by construction (the lexer only accepts ASCII there), so
// quoting it in a message needs no escaping, only a bound.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  if (text.size() > kMaxQuoted) {
    out.append(text.substr(0, kMaxQuoted));
    out.append("...");
  } else {
    out.append(text);
  }
  out.push_back('"');
  return out;
}

bool IsSpace(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsWordChar(char c) noexcept { return IsAlpha(c) || IsDigit(c) || c == '_'; }
bool IsIdentifierStart(char c) noexcept { return IsAlpha(c) || c == '_' || c == '@'; }
bool IsIdentifierChar(char c) noexcept {
  return IsWordChar(c) || c == '@' || c == '.' || c == ':';
}
bool IsSignChar(char c) noexcept {
  return c == '=' || c == '!' || c == '<' || c == '>' || c == '~' || c == '?';
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

// The length of the well-formed UTF-8 sequence starting at s[i], or 0 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

enum class TokenKind {
  kEnd,
  kIdentifier,  // text
  kFunction,    // text = the name; the '(' is consumed with it
  kNumber,      // text, number
  kString,      // value
  kOperator,    // op, any
  kAnd,
  kOr,
  kOpen,
  kClose,
  kComma,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::size_t position = 0;
  std::string_view text;
  std::string value;
  double number = 0;
  CompareOp op = CompareOp::kEq;
  bool any = false;
};

struct OperatorSpelling {
  std::string_view text;
  CompareOp op;
};

constexpr std::array<OperatorSpelling, 8> kOperators{{
    {"=", CompareOp::kEq},
    {"!=", CompareOp::kNeq},
    {">", CompareOp::kGt},
    {">=", CompareOp::kGte},
    {"<", CompareOp::kLt},
    {"<=", CompareOp::kLte},
    {"~", CompareOp::kLike},
    {"!~", CompareOp::kNotLike},
}};

// Splits the text into tokens on demand. Each call to Next() costs O(token length).
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<Token> Next() {
    SkipSpaceAndComments();
    Token token;
    token.position = pos_;
    if (pos_ >= text_.size()) return token;
    const char c = text_[pos_];
    if (IsIdentifierStart(c)) return Identifier(std::move(token));
    if (IsDigit(c) || (c == '-' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1]))) {
      return Number(std::move(token));
    }
    if (c == '\'' || c == '"') return String(std::move(token));
    if (IsSignChar(c)) return Operator(std::move(token));
    if (c == '&' || c == '|') return Join(std::move(token));
    switch (c) {
      case '(': token.kind = TokenKind::kOpen; break;
      case ')': token.kind = TokenKind::kClose; break;
      case ',': token.kind = TokenKind::kComma; break;
      default: return Unexpected(pos_);
    }
    ++pos_;
    return token;
  }

  std::size_t size() const noexcept { return text_.size(); }

 private:
  void SkipSpaceAndComments() noexcept {
    while (pos_ < text_.size()) {
      if (IsSpace(text_[pos_])) {
        ++pos_;
      } else if (text_[pos_] == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        const std::size_t end = text_.find('\n', pos_);
        pos_ = end == std::string_view::npos ? text_.size() : end + 1;
      } else {
        return;
      }
    }
  }

  std::unexpected<Error> Unexpected(std::size_t at) const {
    const auto c = static_cast<unsigned char>(text_[at]);
    if (c >= 0x21 && c <= 0x7E) {
      return SyntaxError(std::string("unexpected character '") + static_cast<char>(c) + "'", at);
    }
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string what = "unexpected byte 0x";
    what.push_back(kHex[c >> 4]);
    what.push_back(kHex[c & 0xF]);
    return SyntaxError(what, at);
  }

  // [A-Za-z_@][A-Za-z0-9_@.:]*, made of non-empty segments separated by '.' (each optionally
  // followed by ':' and a word), with '@' only as the first character.
  Result<Token> Identifier(Token token) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && IsIdentifierChar(text_[pos_])) ++pos_;
    token.text = text_.substr(start, pos_ - start);
    const std::string_view t = token.text;
    bool valid = !(t[0] == '@' && (t.size() == 1 || !IsAlpha(t[1])));
    for (std::size_t i = 0; valid && i < t.size(); ++i) {
      const char ch = t[i];
      if (ch == '@' && i != 0) valid = false;
      if ((ch == '.' || ch == ':') && (i + 1 == t.size() || !IsWordChar(t[i + 1]))) valid = false;
    }
    if (!valid) return SyntaxError("invalid identifier " + Quote(t), start);
    if (pos_ < text_.size() && text_[pos_] == '(') {
      for (const char ch : t) {
        if (!IsWordChar(ch)) return SyntaxError("invalid function name " + Quote(t), start);
      }
      ++pos_;
      token.kind = TokenKind::kFunction;
      return token;
    }
    token.kind = TokenKind::kIdentifier;
    return token;
  }

  // -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)? not followed by an identifier character.
  Result<Token> Number(Token token) {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      return pos_ > from;
    };
    if (text_[pos_] == '-') ++pos_;
    bool valid = digits();
    if (valid && pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      valid = digits();
    }
    if (valid && pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      valid = digits();
    }
    if (pos_ < text_.size() && IsIdentifierChar(text_[pos_])) valid = false;
    if (!valid) {
      while (pos_ < text_.size() && (IsIdentifierChar(text_[pos_]) || text_[pos_] == '-' ||
                                     text_[pos_] == '+')) {
        ++pos_;
      }
      return SyntaxError("invalid number " + Quote(text_.substr(start, pos_ - start)), start);
    }
    token.text = text_.substr(start, pos_ - start);
    const char* first = token.text.data();
    const char* last = first + token.text.size();
    auto [end, ec] = std::from_chars(first, last, token.number);
    if (ec != std::errc() || end != last) {
      return SyntaxError("number " + Quote(token.text) + " is out of range", start);
    }
    token.kind = TokenKind::kNumber;
    return token;
  }

  // '...' or "...": \\, \' and \" are escapes, any other backslash is kept as written (so
  // that PocketBase filters with backslashes in patterns mean the same). The content must be
  // UTF-8 without NUL, since stores bind it as text.
  Result<Token> String(Token token) {
    const char quote = text_[pos_];
    const std::size_t start = pos_;
    ++pos_;
    std::size_t run = pos_;  // start of the bytes not yet copied into value
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == quote) {
        token.value.append(text_.substr(run, pos_ - run));
        ++pos_;
        token.kind = TokenKind::kString;
        return token;
      }
      if (c == '\\' && pos_ + 1 < text_.size() &&
          (text_[pos_ + 1] == '\\' || text_[pos_ + 1] == '\'' || text_[pos_ + 1] == '"')) {
        token.value.append(text_.substr(run, pos_ - run));
        token.value.push_back(text_[pos_ + 1]);
        pos_ += 2;
        run = pos_;
        continue;
      }
      if (c == '\0') return SyntaxError("a NUL character in a string", pos_);
      const std::size_t length = Utf8SequenceLength(text_, pos_);
      if (length == 0) return SyntaxError("invalid UTF-8 in a string", pos_);
      pos_ += length;
    }
    return SyntaxError("unterminated string starting", start);
  }

  // A run of = ! < > ~ ? must spell one operator, optionally '?'-prefixed.
  Result<Token> Operator(Token token) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && IsSignChar(text_[pos_])) ++pos_;
    std::string_view spelled = text_.substr(start, pos_ - start);
    token.text = spelled;
    if (spelled[0] == '?') {
      token.any = true;
      spelled.remove_prefix(1);
    }
    for (const auto& candidate : kOperators) {
      if (candidate.text == spelled) {
        token.kind = TokenKind::kOperator;
        token.op = candidate.op;
        return token;
      }
    }
    return SyntaxError("unknown operator " + Quote(token.text), start);
  }

  Result<Token> Join(Token token) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (text_[pos_] == '&' || text_[pos_] == '|')) ++pos_;
    const std::string_view spelled = text_.substr(start, pos_ - start);
    if (spelled == "&&") {
      token.kind = TokenKind::kAnd;
    } else if (spelled == "||") {
      token.kind = TokenKind::kOr;
    } else {
      return SyntaxError("unknown operator " + Quote(spelled), start);
    }
    return token;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Recursive descent: or := and ('||' and)*, and := primary ('&&' primary)*,
// primary := '(' or ')' | operand op operand. Recursion happens only at '(' and function
// arguments, and both count against limits.max_depth, so the stack stays bounded.
class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : lexer_(text), limits_(limits) {}

  Result<Expr> Run() {
    if (lexer_.size() > limits_.max_length) {
      return Fail(ErrorCode::kInvalidArgument, "Invalid filter: longer than " +
                                                   std::to_string(limits_.max_length) +
                                                   " bytes.");
    }
    if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
    if (current_.kind == TokenKind::kEnd) {
      return Fail(ErrorCode::kInvalidArgument, "Invalid filter: the filter is empty.");
    }
    auto expr = ParseOr(0);
    if (!expr) return expr;
    if (current_.kind == TokenKind::kClose) {
      return SyntaxError("unexpected ')'", current_.position);
    }
    if (current_.kind != TokenKind::kEnd) {
      return SyntaxError("expected && or ||", current_.position);
    }
    return expr;
  }

 private:
  Result<void> Advance() {
    auto token = lexer_.Next();
    if (!token) return std::unexpected(std::move(token.error()));
    current_ = std::move(*token);
    return {};
  }

  static std::size_t StartOf(const Expr& expr) noexcept {
    return expr.kind == Expr::Kind::kCompare ? expr.left.position : expr.position;
  }

  Result<Expr> ParseOr(std::size_t depth) {
    auto first = ParseAnd(depth);
    if (!first || current_.kind != TokenKind::kOr) return first;
    Expr result;
    result.kind = Expr::Kind::kOr;
    result.position = StartOf(*first);
    result.children.push_back(std::move(*first));
    while (current_.kind == TokenKind::kOr) {
      if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
      auto next = ParseAnd(depth);
      if (!next) return next;
      result.children.push_back(std::move(*next));
    }
    return result;
  }

  Result<Expr> ParseAnd(std::size_t depth) {
    auto first = ParsePrimary(depth);
    if (!first || current_.kind != TokenKind::kAnd) return first;
    Expr result;
    result.kind = Expr::Kind::kAnd;
    result.position = StartOf(*first);
    result.children.push_back(std::move(*first));
    while (current_.kind == TokenKind::kAnd) {
      if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
      auto next = ParsePrimary(depth);
      if (!next) return next;
      result.children.push_back(std::move(*next));
    }
    return result;
  }

  Result<Expr> ParsePrimary(std::size_t depth) {
    if (current_.kind == TokenKind::kOpen) {
      const std::size_t open = current_.position;
      if (depth + 1 > limits_.max_depth) {
        return SyntaxError("parentheses nested deeper than " + std::to_string(limits_.max_depth) +
                               " levels",
                           open);
      }
      if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
      auto inner = ParseOr(depth + 1);
      if (!inner) return inner;
      if (current_.kind == TokenKind::kEnd) {
        return SyntaxError("missing ')' for the '(' at position " + std::to_string(open) +
                               ", found the end of the filter",
                           current_.position);
      }
      if (current_.kind != TokenKind::kClose) {
        return SyntaxError("expected &&, || or ')'", current_.position);
      }
      if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
      return inner;
    }

    if (auto ok = CountTerm(); !ok) return std::unexpected(std::move(ok.error()));
    Expr compare;
    compare.kind = Expr::Kind::kCompare;
    auto left = ParseOperand(depth);
    if (!left) return std::unexpected(std::move(left.error()));
    compare.left = std::move(*left);
    if (current_.kind != TokenKind::kOperator) {
      return SyntaxError("expected an operator", current_.position);
    }
    compare.op = current_.op;
    compare.any = current_.any;
    compare.position = current_.position;
    if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
    auto right = ParseOperand(depth);
    if (!right) return std::unexpected(std::move(right.error()));
    compare.right = std::move(*right);
    return compare;
  }

  // Comparisons and function arguments both count as terms, so that max_terms bounds the
  // size of the tree whatever its shape.
  Result<void> CountTerm() {
    if (++terms_ > limits_.max_terms) {
      return SyntaxError("more than " + std::to_string(limits_.max_terms) + " terms",
                         current_.position);
    }
    return {};
  }

  Result<Operand> ParseOperand(std::size_t depth) {
    Operand operand;
    operand.position = current_.position;
    switch (current_.kind) {
      case TokenKind::kString:
        operand.kind = Operand::Kind::kString;
        operand.text = std::move(current_.value);
        break;
      case TokenKind::kNumber:
        operand.kind = Operand::Kind::kNumber;
        operand.text = std::string(current_.text);
        operand.number = current_.number;
        break;
      case TokenKind::kIdentifier:
        if (EqualsIgnoringAsciiCase(current_.text, "null")) {
          operand.kind = Operand::Kind::kNull;
        } else if (EqualsIgnoringAsciiCase(current_.text, "true")) {
          operand.kind = Operand::Kind::kBool;
          operand.boolean = true;
        } else if (EqualsIgnoringAsciiCase(current_.text, "false")) {
          operand.kind = Operand::Kind::kBool;
        } else {
          operand.kind = Operand::Kind::kIdentifier;
        }
        operand.text = std::string(current_.text);
        break;
      case TokenKind::kFunction:
        return ParseFunction(depth, std::move(operand));
      case TokenKind::kEnd:
        return SyntaxError("expected a value or an identifier, found the end of the filter",
                           current_.position);
      default:
        return SyntaxError("expected a value or an identifier", current_.position);
    }
    if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
    return operand;
  }

  Result<Operand> ParseFunction(std::size_t depth, Operand operand) {
    operand.kind = Operand::Kind::kFunction;
    operand.text = std::string(current_.text);
    if (depth + 1 > limits_.max_depth) {
      return SyntaxError("function calls nested deeper than " +
                             std::to_string(limits_.max_depth) + " levels",
                         operand.position);
    }
    if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
    if (current_.kind == TokenKind::kClose) {
      if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
      return operand;
    }
    while (true) {
      if (auto ok = CountTerm(); !ok) return std::unexpected(std::move(ok.error()));
      auto argument = ParseOperand(depth + 1);
      if (!argument) return argument;
      operand.args.push_back(std::move(*argument));
      if (current_.kind == TokenKind::kComma) {
        if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
        continue;
      }
      if (current_.kind == TokenKind::kClose) break;
      return SyntaxError("expected ',' or ')' in the arguments of " + Quote(operand.text),
                         current_.position);
    }
    if (auto ok = Advance(); !ok) return std::unexpected(std::move(ok.error()));
    return operand;
  }

  Lexer lexer_;
  const ParseLimits& limits_;
  Token current_;
  std::size_t terms_ = 0;
};

}  // namespace

Result<Expr> Parse(std::string_view text, const ParseLimits& limits) {
  return Parser(text, limits).Run();
}

}  // namespace socle::domain::filter
