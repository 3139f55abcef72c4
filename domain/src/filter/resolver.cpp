#include "socle/domain/filter/resolver.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <span>
#include <system_error>

#include "socle/domain/filter/evaluator.hpp"
#include "socle/domain/filter/parser.hpp"

namespace socle::domain::filter {
namespace {

// Messages quote at most this many bytes of what the caller wrote.
constexpr std::size_t kMaxQuoted = 48;

// Integers up to 2^53 are exact as doubles; below that bound a whole number literal is kept
// as an integer, which stores can bind as such.
constexpr double kMaxExactInteger = 9007199254740992.0;

// The text of a message quoting caller input: printable ASCII kept, anything else (and the
// quote and backslash characters) shown as '?', at most kMaxQuoted bytes. Messages reach
// clients and logs, so they must stay short, valid UTF-8 and unambiguous.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  const std::size_t shown = std::min(text.size(), kMaxQuoted);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c >= 0x20 && c <= 0x7E && c != '"' && c != '\\' ? static_cast<char>(c) : '?');
  }
  if (shown < text.size()) out.append("...");
  out.push_back('"');
  return out;
}

char AsciiLower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_';
}

JsonValue LowerValue(const JsonValue& value) {
  if (value.type() == JsonValue::Type::kString) {
    std::string text = value.AsString();
    for (char& c : text) c = AsciiLower(c);
    return JsonValue::String(std::move(text));
  }
  if (value.type() == JsonValue::Type::kArray) {
    std::vector<JsonValue> items;
    items.reserve(value.items().size());
    for (const auto& item : value.items()) items.push_back(LowerValue(item));
    return JsonValue::Array(std::move(items));
  }
  return value;
}

std::int64_t LengthOf(const JsonValue& value) noexcept {
  switch (value.type()) {
    case JsonValue::Type::kArray: return static_cast<std::int64_t>(value.items().size());
    case JsonValue::Type::kNull: return 0;
    case JsonValue::Type::kString: return value.AsString().empty() ? 0 : 1;
    default: return 1;
  }
}

JsonValue NumberValue(double number) {
  if (std::trunc(number) == number && std::fabs(number) <= kMaxExactInteger) {
    return JsonValue::Integer(static_cast<std::int64_t>(number));
  }
  return JsonValue::Number(number);
}

// The shortest decimal text that reads back as the same double, without exponent (as
// PocketBase's strconv.FormatFloat(f, 'f', -1, 64)): 12, 0.1, 1000000.
std::string NumberText(const JsonValue& number) {
  if (auto exact = number.AsInt64()) return std::to_string(*exact);
  const double value = number.AsDouble();
  if (value == 0) return "0";
  std::array<char, 400> buffer{};  // the longest fixed-notation double is ~330 characters
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                 std::chars_format::fixed);
  if (ec != std::errc()) return std::to_string(value);
  return std::string(buffer.data(), end);
}

// [+-]? (digits ('.' digits*)? | '.' digits) ([eE] [+-]? digits)?, finite: what a number field
// accepts from a numeric string ("12.5", "-3", "1e3"; not "0x1", "inf", " 1").
std::optional<JsonValue> ParseNumberText(std::string_view text) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  const std::size_t digits_start = i;
  std::size_t digits = 0;
  while (i < text.size() && IsDigit(text[i])) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && IsDigit(text[i])) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    const std::size_t exponent_start = i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    if (i == exponent_start) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  double value = 0;
  const char* first = text.data() + digits_start;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || end != last || !std::isfinite(value)) return std::nullopt;
  return NumberValue(negative ? -value : value);
}

// A date as the domain Timestamp parser reads it, plus two PocketBase idioms it does not:
// a bare date ("2024-05-01", midnight UTC) and no trailing Z ("2024-05-01 09:30:00").
std::optional<std::string> CanonicalDate(std::string_view text) {
  // Already canonical (macros, dates copied from API output): validating it is enough, and
  // skips formatting it again.
  if (text.size() == 24 && text[10] == ' ' && text[19] == '.' && text[23] == 'Z' &&
      IsDigit(text[20]) && IsDigit(text[21]) && IsDigit(text[22])) {
    if (!Timestamp::Parse(text)) return std::nullopt;
    return std::string(text);
  }
  std::string candidate(text);
  if (candidate.size() == 10) {
    candidate.append(" 00:00:00Z");
  } else if (!candidate.empty() && candidate.back() != 'Z') {
    candidate.push_back('Z');
  }
  auto parsed = Timestamp::Parse(candidate);
  if (!parsed) return std::nullopt;
  return parsed->ToApiString();
}

// How a literal compared with an operand is converted.
enum class Target { kAsIs, kText, kNumber, kBool, kDate };

std::optional<JsonValue> CoerceScalar(const JsonValue& value, Target target) {
  using Type = JsonValue::Type;
  if (value.IsNull()) return value;
  switch (target) {
    case Target::kAsIs: return value;
    case Target::kText:
      if (value.type() == Type::kString) return value;
      if (value.type() == Type::kNumber) return JsonValue::String(NumberText(value));
      if (value.type() == Type::kBool) return JsonValue::String(value.AsBool() ? "true" : "false");
      return std::nullopt;
    case Target::kNumber:
      if (value.type() == Type::kNumber) return value;
      if (value.type() == Type::kString) {
        // "" is PocketBase's "empty value": null, which a number equals only when unset.
        if (value.AsString().empty()) return JsonValue();
        return ParseNumberText(value.AsString());
      }
      return std::nullopt;
    case Target::kBool:
      if (value.type() == Type::kBool) return value;
      if (value.type() == Type::kString) {
        if (value.AsString().empty()) return JsonValue();
        if (value.AsString() == "true") return JsonValue::Bool(true);
        if (value.AsString() == "false") return JsonValue::Bool(false);
        return std::nullopt;
      }
      if (value.type() == Type::kNumber) {
        if (value.AsDouble() == 1) return JsonValue::Bool(true);
        if (value.AsDouble() == 0) return JsonValue::Bool(false);
      }
      return std::nullopt;
    case Target::kDate:
      if (value.type() != Type::kString) return std::nullopt;
      if (value.AsString().empty()) return JsonValue();
      if (auto date = CanonicalDate(value.AsString())) return JsonValue::String(std::move(*date));
      return std::nullopt;
  }
  return std::nullopt;
}

// Converts a literal to the kind of what it is compared with; nullopt when it cannot be.
// Arrays are converted item by item; objects and nested arrays never convert. An empty array
// or one of nulls only becomes the null literal, which means the same (empty set = {null}).
std::optional<JsonValue> Coerce(const JsonValue& value, Target target) {
  using Type = JsonValue::Type;
  if (value.type() == Type::kObject) return std::nullopt;
  if (value.type() != Type::kArray) return CoerceScalar(value, target);
  std::vector<JsonValue> items;
  items.reserve(value.items().size());
  bool all_null = true;
  for (const auto& item : value.items()) {
    if (item.type() == Type::kArray || item.type() == Type::kObject) return std::nullopt;
    auto converted = CoerceScalar(item, target);
    if (!converted) return std::nullopt;
    all_null = all_null && converted->IsNull();
    items.push_back(std::move(*converted));
  }
  if (all_null) return JsonValue();
  return JsonValue::Array(std::move(items));
}

ValueKind KindOf(const JsonValue& value) noexcept {
  switch (value.type()) {
    case JsonValue::Type::kNull: return ValueKind::kNull;
    case JsonValue::Type::kBool: return ValueKind::kBool;
    case JsonValue::Type::kNumber: return ValueKind::kNumber;
    case JsonValue::Type::kString: return ValueKind::kString;
    case JsonValue::Type::kObject: return ValueKind::kJson;
    case JsonValue::Type::kArray: break;
  }
  ValueKind kind = ValueKind::kNull;
  for (const auto& item : value.items()) {
    const ValueKind item_kind = KindOf(item);
    if (item_kind == ValueKind::kNull) continue;
    if (kind != ValueKind::kNull && kind != item_kind) return ValueKind::kJson;
    kind = item_kind;
  }
  return kind;
}

std::span<const JsonValue> ItemsOf(const JsonValue& value) noexcept {
  if (value.type() == JsonValue::Type::kArray) return value.items();
  return std::span<const JsonValue>(&value, 1);
}

bool IsOrdering(CompareOp op) noexcept {
  return op == CompareOp::kGt || op == CompareOp::kGte || op == CompareOp::kLt ||
         op == CompareOp::kLte;
}
bool IsLike(CompareOp op) noexcept {
  return op == CompareOp::kLike || op == CompareOp::kNotLike;
}

Condition Constant(bool value) {
  Condition condition;
  condition.kind = value ? Condition::Kind::kTrue : Condition::Kind::kFalse;
  return condition;
}

// `kind` (kAnd or kOr) of `children`, simplified: constants absorbed or dropped, nested
// groups of the same kind flattened, a single child returned as is.
Condition Combine(Condition::Kind kind, std::vector<Condition> children) {
  const bool is_and = kind == Condition::Kind::kAnd;
  const auto neutral = is_and ? Condition::Kind::kTrue : Condition::Kind::kFalse;
  const auto absorbing = is_and ? Condition::Kind::kFalse : Condition::Kind::kTrue;
  Condition out;
  out.kind = kind;
  for (auto& child : children) {
    if (child.kind == neutral) continue;
    if (child.kind == absorbing) return Constant(!is_and);
    if (child.kind == kind) {
      for (auto& grandchild : child.children) out.children.push_back(std::move(grandchild));
    } else {
      out.children.push_back(std::move(child));
    }
  }
  if (out.children.empty()) return Constant(is_and);
  if (out.children.size() == 1) return std::move(out.children.front());
  return out;
}

template <typename Visit>
void ForEachOperand(Condition& condition, const Visit& visit) {
  if (condition.kind == Condition::Kind::kCompare) {
    visit(condition.compare.left);
    visit(condition.compare.right);
    return;
  }
  for (auto& child : condition.children) ForEachOperand(child, visit);
}

template <typename Visit>
void ForEachJoinReference(ResolvedOperand& operand, const Visit& visit) {
  if (operand.kind == ResolvedOperand::Kind::kField && operand.join >= 0) visit(operand.join);
  for (auto& argument : operand.args) ForEachJoinReference(argument, visit);
}

// Drops the joins no operand uses (a folded comparison may have been their only user) and
// renumbers the references to the others.
void PruneJoins(ResolvedFilter& filter) {
  if (filter.joins.empty()) return;
  std::vector<int> remap(filter.joins.size(), -1);
  ForEachOperand(filter.condition, [&](ResolvedOperand& operand) {
    ForEachJoinReference(operand, [&](int& join) {
      if (static_cast<std::size_t>(join) < remap.size()) remap[static_cast<std::size_t>(join)] = 0;
    });
  });
  if (std::find(remap.begin(), remap.end(), -1) == remap.end()) return;  // all used
  std::vector<CollectionJoin> kept;
  for (std::size_t i = 0; i < filter.joins.size(); ++i) {
    if (remap[i] < 0) continue;
    remap[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(filter.joins[i]));
  }
  ForEachOperand(filter.condition, [&](ResolvedOperand& operand) {
    ForEachJoinReference(operand, [&](int& join) {
      if (static_cast<std::size_t>(join) < remap.size()) join = remap[static_cast<std::size_t>(join)];
    });
  });
  filter.joins = std::move(kept);
}

enum class ModifierName { kNone, kIsset, kChanged, kLength, kEach, kLower };

struct Segment {
  std::string_view text;
  std::size_t position = 0;
};

// An identifier split into its dot-separated segments, with its trailing :modifier and the
// alias of @collection.name:alias taken out.
struct Identifier {
  std::vector<Segment> segments;
  ModifierName modifier = ModifierName::kNone;
  std::size_t modifier_position = 0;
  std::string_view alias;
};

// A resolved operand with what messages and coercion need to know about it.
struct Side {
  ResolvedOperand operand;
  bool from_request = false;      // a literal from request data: fold on mismatch, never fail
  Target target = Target::kAsIs;  // a field: what literals compared with it become
  std::string_view label;         // as written
  std::size_t position = 0;
};

const JsonValue* Walk(const JsonValue& root, std::span<const Segment> keys) noexcept {
  const JsonValue* current = &root;
  for (const auto& key : keys) {
    if (current->type() == JsonValue::Type::kObject) {
      current = current->Find(key.text);
    } else if (current->type() == JsonValue::Type::kArray) {
      std::size_t index = 0;
      bool numeric = !key.text.empty() && key.text.size() <= 9;
      for (const char c : key.text) {
        if (!IsDigit(c)) {
          numeric = false;
          break;
        }
        index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      current = numeric && index < current->items().size() ? &current->items()[index] : nullptr;
    } else {
      current = nullptr;
    }
    if (current == nullptr) return nullptr;
  }
  return current;
}

const JsonValue& StoredValue(const Collection& collection, const Field& field,
                             const Record& record) {
  static const JsonValue kNull;
  const auto index = static_cast<std::size_t>(&field - collection.fields.data());
  return index < record.values.size() ? record.values[index] : kNull;
}

// A request value in the stored form of `field` (see record.hpp), for :changed.
std::optional<JsonValue> StoredForm(const Field& field, const JsonValue& value) {
  if (field.type == FieldType::kJson) return value;
  if (field.IsMultiple()) {
    std::vector<JsonValue> items;
    if (value.type() == JsonValue::Type::kArray) {
      for (const auto& item : value.items()) {
        auto text = CoerceScalar(item, Target::kText);
        if (!text || text->IsNull() || item.type() == JsonValue::Type::kArray ||
            item.type() == JsonValue::Type::kObject) {
          return std::nullopt;
        }
        items.push_back(std::move(*text));
      }
    } else if (!value.IsNull() && !(value.type() == JsonValue::Type::kString &&
                                    value.AsString().empty())) {
      auto text = CoerceScalar(value, Target::kText);
      if (!text || value.type() == JsonValue::Type::kObject) return std::nullopt;
      items.push_back(std::move(*text));
    }
    return JsonValue::Array(std::move(items));
  }
  if (value.IsNull()) return ZeroValue(field);
  Target target = Target::kText;
  if (field.type == FieldType::kNumber) target = Target::kNumber;
  if (field.type == FieldType::kBool) target = Target::kBool;
  if (field.type == FieldType::kDate || field.type == FieldType::kAutodate) target = Target::kDate;
  auto converted = CoerceScalar(value, target);
  if (!converted) return std::nullopt;
  if (converted->IsNull()) return ZeroValue(field);  // "" for a date
  return converted;
}

class Resolver {
 public:
  Resolver(const ProjectSchema& schema, const Collection& collection,
           const RequestContext& request, const ResolveOptions& options,
           std::string_view prefix)
      : schema_(schema),
        collection_(collection),
        request_(request),
        options_(options),
        prefix_(prefix) {}

  Result<Condition> ResolveExpr(const Expr& expr) {
    if (expr.kind == Expr::Kind::kCompare) return ResolveComparison(expr);
    std::vector<Condition> children;
    children.reserve(expr.children.size());
    // Every child is resolved, even after a constant decided the result, so that an unknown
    // field is reported wherever it is.
    for (const auto& child : expr.children) {
      auto resolved = ResolveExpr(child);
      if (!resolved) return resolved;
      children.push_back(std::move(*resolved));
    }
    return Combine(expr.kind == Expr::Kind::kAnd ? Condition::Kind::kAnd : Condition::Kind::kOr,
                   std::move(children));
  }

  // One sort term (without its +/- prefix): a single-valued field path.
  Result<ResolvedOperand> ResolveSortKey(std::string_view text, std::size_t position) {
    auto identifier = Split(text, position);
    if (!identifier) return std::unexpected(std::move(identifier.error()));
    if (text[0] == '@') {
      return Problem(Quote(text) + " is not a field; only fields and @random can be sorted by",
                     position);
    }
    auto side = ResolvePath(collection_, -1, identifier->segments, *identifier, text, position);
    if (!side) return std::unexpected(std::move(side.error()));
    if (side->operand.multiple) {
      return Problem(Quote(text) + " has several values per record and cannot be sorted by",
                     position);
    }
    return std::move(side->operand);
  }

  std::vector<CollectionJoin> TakeJoins() { return std::move(joins_); }

  std::unexpected<Error> Problem(std::string_view what, std::size_t position) const {
    std::string message(prefix_);
    message.append(what);
    message.append(" at position ");
    message.append(std::to_string(position));
    message.push_back('.');
    return Fail(ErrorCode::kInvalidArgument, std::move(message));
  }

 private:
  // ---------------------------------------------------------------------------------------
  // Comparisons

  Result<Condition> ResolveComparison(const Expr& expr) {
    auto left = ResolveOperand(expr.left);
    if (!left) return std::unexpected(std::move(left.error()));
    auto right = ResolveOperand(expr.right);
    if (!right) return std::unexpected(std::move(right.error()));
    const bool left_literal = left->operand.kind == ResolvedOperand::Kind::kLiteral;
    const bool right_literal = right->operand.kind == ResolvedOperand::Kind::kLiteral;

    if (left_literal && right_literal) {
      return Constant(CompareSets(ItemsOf(left->operand.literal), expr.op, expr.any,
                                  ItemsOf(right->operand.literal)));
    }
    if (!left_literal && !right_literal) {
      const ValueKind kind = left->operand.value_kind;
      if (kind != right->operand.value_kind) {
        return Problem("cannot compare " + Describe(*left) + " with " + Describe(*right),
                       expr.position);
      }
      if (IsLike(expr.op) && kind != ValueKind::kString && kind != ValueKind::kJson) {
        return Problem(std::string(ToString(expr.op)) + " compares text, and " +
                           Describe(*left) + " is not text",
                       expr.position);
      }
      return Compare(expr, std::move(*left), std::move(*right));
    }

    Side& literal = left_literal ? *left : *right;
    const Side& other = left_literal ? *right : *left;
    Target target = other.target;
    if (IsLike(expr.op)) {
      const ValueKind kind = other.operand.value_kind;
      if (kind != ValueKind::kString && kind != ValueKind::kJson) {
        return Problem(std::string(ToString(expr.op)) + " compares text, and " + Describe(other) +
                           " is not text",
                       other.position);
      }
      target = Target::kText;  // a pattern is text, whatever a json value may hold
    }
    auto coerced = Coerce(literal.operand.literal, target);
    if (!coerced) {
      if (!literal.from_request) {
        return Problem(DescribeLiteral(literal) + " cannot be compared with " + Describe(other),
                       literal.position);
      }
      // Request data of the wrong kind is no error (the client chose it): it equals nothing.
      return Constant(expr.op == CompareOp::kNeq || expr.op == CompareOp::kNotLike);
    }
    if (coerced->IsNull() && (IsOrdering(expr.op) || IsLike(expr.op))) {
      // null is never ordered and never text: these comparisons are constant.
      return Constant(expr.op == CompareOp::kNotLike);
    }
    literal.operand.value_kind = KindOf(*coerced);
    literal.operand.multiple = coerced->type() == JsonValue::Type::kArray;
    literal.operand.literal = std::move(*coerced);
    return Compare(expr, std::move(*left), std::move(*right));
  }

  static Condition Compare(const Expr& expr, Side left, Side right) {
    Condition condition;
    condition.kind = Condition::Kind::kCompare;
    condition.compare.left = std::move(left.operand);
    condition.compare.right = std::move(right.operand);
    condition.compare.op = expr.op;
    condition.compare.any = expr.any;
    return condition;
  }

  static std::string Describe(const Side& side) {
    std::string_view kind = "json";
    switch (side.target) {
      case Target::kText: kind = "text"; break;
      case Target::kNumber: kind = "a number"; break;
      case Target::kBool: kind = "a bool"; break;
      case Target::kDate: kind = "a date"; break;
      case Target::kAsIs: kind = "json"; break;
    }
    return Quote(side.label) + " (" + std::string(kind) + ")";
  }

  static std::string DescribeLiteral(const Side& side) {
    if (side.operand.literal.type() == JsonValue::Type::kString && side.label.empty()) {
      return "the empty string";
    }
    return "the value " + Quote(side.label);
  }

  // ---------------------------------------------------------------------------------------
  // Operands

  static Side Literal(JsonValue value, const Operand& operand, bool from_request) {
    Side side;
    side.operand.kind = ResolvedOperand::Kind::kLiteral;
    side.operand.value_kind = KindOf(value);
    side.operand.multiple = value.type() == JsonValue::Type::kArray;
    side.operand.literal = std::move(value);
    side.from_request = from_request;
    side.label = operand.text;
    side.position = operand.position;
    return side;
  }

  Result<Side> ResolveOperand(const Operand& operand) {
    switch (operand.kind) {
      case Operand::Kind::kNull: return Literal(JsonValue(), operand, false);
      case Operand::Kind::kBool: return Literal(JsonValue::Bool(operand.boolean), operand, false);
      case Operand::Kind::kNumber:
        if (!std::isfinite(operand.number)) {
          return Problem("the number " + Quote(operand.text) + " is out of range",
                         operand.position);
        }
        return Literal(NumberValue(operand.number), operand, false);
      case Operand::Kind::kString: return Literal(JsonValue::String(operand.text), operand, false);
      case Operand::Kind::kIdentifier: return ResolveIdentifier(operand);
      case Operand::Kind::kFunction: return ResolveFunction(operand);
    }
    return Problem("unsupported operand", operand.position);
  }

  // Splits "a.b:mod", "@collection.name:alias.field" into segments; checks that every segment
  // is a word ('@' only to start the first one) and that ':' appears only where it means
  // something.
  Result<Identifier> Split(std::string_view text, std::size_t position) const {
    Identifier out;
    if (text.empty()) return Problem("empty identifier", position);
    std::size_t start = 0;
    while (true) {
      const std::size_t dot = text.find('.', start);
      const std::size_t end = dot == std::string_view::npos ? text.size() : dot;
      out.segments.push_back(Segment{text.substr(start, end - start), position + start});
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    const bool join = out.segments.front().text == "@collection";
    for (std::size_t i = 0; i < out.segments.size(); ++i) {
      Segment& segment = out.segments[i];
      const std::size_t colon = segment.text.find(':');
      if (colon != std::string_view::npos) {
        const std::string_view suffix = segment.text.substr(colon + 1);
        if (join && i == 1) {
          if (suffix.empty()) return Problem("empty alias in " + Quote(text), segment.position);
          out.alias = suffix;
        } else if (i + 1 == out.segments.size()) {
          out.modifier_position = segment.position + colon;
          if (suffix == "isset") out.modifier = ModifierName::kIsset;
          else if (suffix == "changed") out.modifier = ModifierName::kChanged;
          else if (suffix == "length") out.modifier = ModifierName::kLength;
          else if (suffix == "each") out.modifier = ModifierName::kEach;
          else if (suffix == "lower") out.modifier = ModifierName::kLower;
          else return Problem("unknown modifier " + Quote(segment.text.substr(colon)),
                              out.modifier_position);
        } else {
          return Problem("unexpected ':' in " + Quote(text), segment.position + colon);
        }
        segment.text = segment.text.substr(0, colon);
      }
      std::string_view word = segment.text;
      if (i == 0 && !word.empty() && word[0] == '@') word.remove_prefix(1);
      bool valid = !word.empty();
      for (const char c : word) valid = valid && IsWordChar(c);
      if (!valid) return Problem("invalid identifier " + Quote(text), position);
    }
    for (const char c : out.alias) {
      if (!IsWordChar(c)) return Problem("invalid identifier " + Quote(text), position);
    }
    return out;
  }

  Result<Side> ResolveIdentifier(const Operand& operand) {
    auto identifier = Split(operand.text, operand.position);
    if (!identifier) return std::unexpected(std::move(identifier.error()));
    const std::string_view head = identifier->segments.front().text;
    if (head.empty() || head[0] != '@') {
      return ResolvePath(collection_, -1, identifier->segments, *identifier, operand.text,
                         operand.position);
    }
    if (head == "@request") return ResolveRequest(*identifier, operand);
    if (head == "@collection") return ResolveJoin(*identifier, operand);
    if (identifier->segments.size() == 1) {
      auto value = MacroValue(head, request_.now);
      if (!value) return Problem("unknown macro " + Quote(head), operand.position);
      if (identifier->modifier != ModifierName::kNone) {
        return Problem("modifiers do not apply to the macro " + Quote(head),
                       identifier->modifier_position);
      }
      return Literal(std::move(*value), operand, false);
    }
    return Problem("unknown identifier " + Quote(operand.text), operand.position);
  }

  // ---------------------------------------------------------------------------------------
  // Field paths

  Result<void> CheckUsable(const Field& field, const Segment& segment) const {
    if (field.type == FieldType::kPassword) {
      return Problem("the password field " + Quote(field.name) + " cannot be used in filters",
                     segment.position);
    }
    if (field.hidden && !options_.allow_hidden) {
      return Problem("the field " + Quote(field.name) + " is hidden and cannot be filtered on",
                     segment.position);
    }
    return {};
  }

  Result<void> CheckReadable(const Field& field, const Segment& segment) const {
    if (options_.field_readable && !options_.field_readable(field)) {
      return Problem("the field " + Quote(field.name) +
                         " is not readable in clear by this caller and cannot be filtered on",
                     segment.position);
    }
    return {};
  }

  const Collection* FindCollection(std::string_view id_or_name) const noexcept {
    if (const Collection* by_id = schema_.FindById(id_or_name)) return by_id;
    return schema_.Find(id_or_name);
  }

  struct BackRelation {
    const Collection* collection = nullptr;
    const Field* field = nullptr;
  };

  // `<collection>_via_<relation field>`: a relation field of that collection pointing at
  // `from`. Names may themselves contain "_via_", so every split is tried.
  BackRelation FindBackRelation(const Collection& from, std::string_view name) const noexcept {
    constexpr std::string_view kVia = "_via_";
    for (std::size_t at = name.find(kVia); at != std::string_view::npos;
         at = name.find(kVia, at + 1)) {
      const Collection* owner = schema_.Find(name.substr(0, at));
      if (owner == nullptr) continue;
      const Field* field = owner->FindField(name.substr(at + kVia.size()));
      if (field != nullptr && field->type == FieldType::kRelation &&
          (field->collection_id == from.id || field->collection_id == from.name)) {
        return BackRelation{owner, field};
      }
    }
    return {};
  }

  // A field path from `start` (the queried record, or join `join`), ending at a field of the
  // last collection reached, or continuing into a json field as a json path.
  Result<Side> ResolvePath(const Collection& start, int join, std::span<const Segment> segments,
                           const Identifier& identifier, std::string_view label,
                           std::size_t position) {
    Side side;
    side.label = label;
    side.position = position;
    ResolvedOperand& out = side.operand;
    out.kind = ResolvedOperand::Kind::kField;
    out.join = join;
    const Collection* current = &start;
    bool fan_out = false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const Segment& segment = segments[i];
      const bool last = i + 1 == segments.size();
      if (const Field* field = current->FindField(segment.text)) {
        if (auto ok = CheckUsable(*field, segment); !ok) return std::unexpected(ok.error());
        if (auto ok = CheckReadable(*field, segment); !ok) return std::unexpected(ok.error());
        if (last) {
          out.field = field;
          break;
        }
        if (field->type == FieldType::kJson) {
          out.field = field;
          for (std::size_t k = i + 1; k < segments.size(); ++k) {
            out.json_path.emplace_back(segments[k].text);
          }
          break;
        }
        if (field->type != FieldType::kRelation) {
          return Problem(Quote(segment.text) + " is not a relation or json field, so " +
                             Quote(segments[i + 1].text) + " cannot follow it",
                         segments[i + 1].position);
        }
        // "author.id" of a single relation is the stored id itself: PocketBase reads it
        // without a join, and so do we.
        if (!field->IsMultiple() && i + 2 == segments.size() && segments[i + 1].text == "id") {
          out.field = field;
          break;
        }
        const Collection* target = FindCollection(field->collection_id);
        if (target == nullptr) {
          return Problem("the relation field " + Quote(field->name) +
                             " points to a collection that does not exist",
                         segment.position);
        }
        out.hops.push_back(Hop{current, field, target, false});
        fan_out = fan_out || field->IsMultiple();
        current = target;
      } else {
        const BackRelation back = FindBackRelation(*current, segment.text);
        if (back.collection == nullptr) {
          return Problem("unknown field " + Quote(segment.text) + " in the collection " +
                             Quote(current->name),
                         segment.position);
        }
        if (last) {
          return Problem("the back-relation " + Quote(segment.text) +
                             " must be followed by a field of " + Quote(back.collection->name) +
                             ", e.g. " + Quote(std::string(segment.text) + ".id"),
                         segment.position);
        }
        if (auto ok = CheckUsable(*back.field, segment); !ok) return std::unexpected(ok.error());
        if (auto ok = CheckReadable(*back.field, segment); !ok) return std::unexpected(ok.error());
        out.hops.push_back(Hop{current, back.field, back.collection, true});
        fan_out = true;
        current = back.collection;
      }
      if (out.hops.size() > options_.max_hops) {
        return Problem(Quote(label) + " follows more than " + std::to_string(options_.max_hops) +
                           " relations",
                       segment.position);
      }
    }
    out.collection = current;
    return ApplyFieldModifier(std::move(side), identifier, fan_out);
  }

  Result<Side> ApplyFieldModifier(Side side, const Identifier& identifier, bool fan_out) const {
    ResolvedOperand& out = side.operand;
    const Field& field = *out.field;
    const bool json = field.type == FieldType::kJson;
    const bool many = field.IsMultiple();
    Target target = Target::kText;
    ValueKind kind = ValueKind::kString;
    switch (field.type) {
      case FieldType::kNumber:
        target = Target::kNumber;
        kind = ValueKind::kNumber;
        break;
      case FieldType::kBool:
        target = Target::kBool;
        kind = ValueKind::kBool;
        break;
      case FieldType::kDate:
      case FieldType::kAutodate: target = Target::kDate; break;
      case FieldType::kJson:
        target = Target::kAsIs;
        kind = ValueKind::kJson;
        break;
      default: break;
    }
    const std::size_t at = identifier.modifier_position;
    switch (identifier.modifier) {
      case ModifierName::kNone: break;
      case ModifierName::kIsset:
        return Problem(":isset applies to @request.body, @request.query and @request.headers keys",
                       at);
      case ModifierName::kChanged: return Problem(":changed applies to @request.body keys", at);
      case ModifierName::kLength:
        if (!many) {
          return Problem(":length applies to multiple select, relation and file fields, and " +
                             Quote(side.label) + " is not one",
                         at);
        }
        out.modifier = Modifier::kLength;
        target = Target::kNumber;
        kind = ValueKind::kNumber;
        break;
      case ModifierName::kEach:
        if (!many) {
          return Problem(":each applies to multiple select, relation and file fields, and " +
                             Quote(side.label) + " is not one",
                         at);
        }
        out.modifier = Modifier::kEach;
        break;
      case ModifierName::kLower:
        if (kind != ValueKind::kString || json) {
          return Problem(":lower applies to text fields, and " + Quote(side.label) +
                             " is not one",
                         at);
        }
        out.modifier = Modifier::kLower;
        target = Target::kText;  // a lowered date is compared as text, not as a date
        break;
    }
    out.value_kind = kind;
    out.multiple = fan_out || (many && out.modifier != Modifier::kLength);
    side.target = target;
    return side;
  }

  Result<Side> ResolveJoin(const Identifier& identifier, const Operand& operand) {
    const auto& segments = identifier.segments;
    if (segments.size() < 3) {
      return Problem(Quote(operand.text) +
                         " needs a collection and a field, e.g. @collection.users.name",
                     operand.position);
    }
    const Collection* collection = schema_.Find(segments[1].text);
    if (collection == nullptr) {
      return Problem("unknown collection " + Quote(segments[1].text), segments[1].position);
    }
    // PocketBase keeps @collection.x and @collection.x:alias apart: so do the keys here.
    std::string key = identifier.alias.empty() ? "=" + collection->name
                                               : ":" + std::string(identifier.alias);
    std::size_t index = 0;
    while (index < join_keys_.size() && join_keys_[index] != key) ++index;
    if (index < join_keys_.size()) {
      if (joins_[index].collection != collection) {
        return Problem("the alias " + Quote(identifier.alias) + " already names the collection " +
                           Quote(joins_[index].collection->name),
                       segments[1].position);
      }
    } else {
      if (joins_.size() >= options_.max_joins) {
        return Problem("more than " + std::to_string(options_.max_joins) +
                           " @collection joins",
                       operand.position);
      }
      joins_.push_back(CollectionJoin{
          identifier.alias.empty() ? collection->name : std::string(identifier.alias),
          collection});
      join_keys_.push_back(std::move(key));
    }
    return ResolvePath(*collection, static_cast<int>(index),
                       std::span<const Segment>(segments).subspan(2), identifier, operand.text,
                       operand.position);
  }

  // ---------------------------------------------------------------------------------------
  // @request.*

  Result<Side> ResolveRequest(const Identifier& identifier, const Operand& operand) {
    const auto& segments = identifier.segments;
    if (segments.size() < 2) {
      return Problem("@request needs a name, e.g. @request.auth.id", operand.position);
    }
    const std::string_view name = segments[1].text;
    if (name == "auth") return ResolveAuth(identifier, operand);
    if (name == "body") return ResolveBody(identifier, operand);
    if (name == "query" || name == "headers") return ResolvePairs(identifier, operand);
    if ((name == "method" || name == "context") && segments.size() == 2) {
      JsonValue value = JsonValue::String(name == "method" ? request_.method : "default");
      if (identifier.modifier == ModifierName::kLower) return Literal(LowerValue(value), operand, true);
      if (identifier.modifier != ModifierName::kNone) {
        return Problem("only :lower applies to " + Quote(operand.text),
                       identifier.modifier_position);
      }
      return Literal(std::move(value), operand, true);
    }
    if (name == "data") {
      return Problem("unknown identifier " + Quote(operand.text) +
                         " (@request.data is spelled @request.body since PocketBase 0.23)",
                     operand.position);
    }
    return Problem("unknown identifier " + Quote(operand.text), operand.position);
  }

  Result<Side> ResolveBody(const Identifier& identifier, const Operand& operand) {
    const auto keys = std::span<const Segment>(identifier.segments).subspan(2);
    if (keys.empty()) return Problem("@request.body needs a key", operand.position);
    const JsonValue* value = Walk(request_.body, keys);
    switch (identifier.modifier) {
      case ModifierName::kIsset: return Literal(JsonValue::Bool(value != nullptr), operand, true);
      case ModifierName::kChanged: return ResolveChanged(identifier, operand, keys, value);
      case ModifierName::kLength:
        return Literal(JsonValue::Integer(value != nullptr ? LengthOf(*value) : 0), operand,
                       true);
      case ModifierName::kLower:
        return Literal(value != nullptr ? LowerValue(*value) : JsonValue(), operand, true);
      case ModifierName::kEach:
      case ModifierName::kNone: break;
    }
    return Literal(value != nullptr ? *value : JsonValue(), operand, true);
  }

  // Set, and different from the stored value (compared in the field's stored form, so that
  // "12" for a number field or a date without milliseconds is not a change).
  Result<Side> ResolveChanged(const Identifier& identifier, const Operand& operand,
                              std::span<const Segment> keys, const JsonValue* value) {
    if (keys.size() != 1) {
      return Problem(":changed applies to @request.body.<field>, not to nested keys",
                     identifier.modifier_position);
    }
    const Field* field = collection_.FindField(keys[0].text);
    if (field == nullptr) {
      return Problem(Quote(keys[0].text) + " is not a field of " + Quote(collection_.name) +
                         ", so :changed cannot compare it with the stored record",
                     keys[0].position);
    }
    if (auto ok = CheckUsable(*field, keys[0]); !ok) return std::unexpected(ok.error());
    bool changed = value != nullptr;
    if (changed && options_.current != nullptr) {
      auto submitted = StoredForm(*field, *value);
      changed = !submitted || !(*submitted == StoredValue(collection_, *field, *options_.current));
    }
    return Literal(JsonValue::Bool(changed), operand, true);
  }

  // @request.query.<name> and @request.headers.<name>: strings, null when absent.
  Result<Side> ResolvePairs(const Identifier& identifier, const Operand& operand) {
    const auto& segments = identifier.segments;
    const bool headers = segments[1].text == "headers";
    if (segments.size() < 3) {
      return Problem(Quote(operand.text) + " needs a name", operand.position);
    }
    // A query parameter may contain dots: the rest of the identifier is its name.
    std::string key;
    for (std::size_t i = 2; i < segments.size(); ++i) {
      if (i > 2) key.push_back('.');
      key.append(segments[i].text);
    }
    if (headers) {
      for (char& c : key) c = AsciiLower(c);
    }
    const auto& pairs = headers ? request_.headers : request_.query;
    const std::string* found = nullptr;
    for (const auto& [name, value] : pairs) {
      if (name == key) {
        found = &value;
        break;
      }
    }
    switch (identifier.modifier) {
      case ModifierName::kIsset: return Literal(JsonValue::Bool(found != nullptr), operand, true);
      case ModifierName::kNone:
        return Literal(found != nullptr ? JsonValue::String(*found) : JsonValue(), operand, true);
      case ModifierName::kLower:
        return Literal(found != nullptr ? LowerValue(JsonValue::String(*found)) : JsonValue(),
                       operand, true);
      default:
        return Problem("only :isset and :lower apply to " + Quote(operand.text),
                       identifier.modifier_position);
    }
  }

  // @request.auth.<field>: the caller's auth record, read now. Relation paths from it are not
  // followed (the resolved tree has no way to bind a join to one record); json paths are.
  Result<Side> ResolveAuth(const Identifier& identifier, const Operand& operand) {
    const auto& segments = identifier.segments;
    if (segments.size() < 3) {
      return Problem("@request.auth needs a field, e.g. @request.auth.id", operand.position);
    }
    const ModifierName modifier = identifier.modifier;
    if (modifier == ModifierName::kIsset || modifier == ModifierName::kChanged) {
      return Problem(":isset and :changed do not apply to @request.auth",
                     identifier.modifier_position);
    }
    // The caller's roles, when known, whoever the caller is (an API key has no record).
    if (segments[2].text == "roles" && request_.auth && request_.auth->roles &&
        segments.size() == 3) {
      std::vector<JsonValue> items;
      for (const auto& role : *request_.auth->roles) items.push_back(JsonValue::String(role));
      switch (modifier) {
        case ModifierName::kLength:
          return Literal(JsonValue::Integer(static_cast<std::int64_t>(items.size())), operand, true);
        case ModifierName::kLower:
        case ModifierName::kEach:
        default:
          return Literal(JsonValue::Array(std::move(items)), operand, true);
      }
    }
    const bool guest = !request_.auth.has_value() || request_.auth->collection == nullptr;
    if (guest) {
      // Nobody: every value is null (an empty list for :length), whatever the field.
      return Literal(modifier == ModifierName::kLength ? JsonValue::Integer(0) : JsonValue(),
                     operand, true);
    }
    const Collection& collection = *request_.auth->collection;
    const Record& record = request_.auth->record;
    const Segment& name = segments[2];
    const Field* field = collection.FindField(name.text);
    if (field == nullptr) {
      JsonValue value;
      if (segments.size() == 3 && name.text == "collectionId") value = JsonValue::String(collection.id);
      if (segments.size() == 3 && name.text == "collectionName") {
        value = JsonValue::String(collection.name);
      }
      // A field the caller's auth collection lacks reads as null, as in PocketBase: a rule
      // may be written for several auth collections.
      if (modifier == ModifierName::kLength) value = JsonValue::Integer(LengthOf(value));
      if (modifier == ModifierName::kLower) value = LowerValue(value);
      return Literal(std::move(value), operand, true);
    }
    if (auto ok = CheckUsable(*field, name); !ok) return std::unexpected(ok.error());
    const JsonValue* value = &StoredValue(collection, *field, record);
    if (segments.size() > 3) {
      if (field->type == FieldType::kRelation) {
        return Problem("relation paths from @request.auth are not supported (" +
                           Quote(operand.text) + "); compare @request.auth." + field->name +
                           " with a relation of this collection or use @collection",
                       segments[3].position);
      }
      if (field->type != FieldType::kJson) {
        return Problem(Quote(name.text) + " is not a json field, so " +
                           Quote(segments[3].text) + " cannot follow it",
                       segments[3].position);
      }
      value = Walk(*value, std::span<const Segment>(segments).subspan(3));
    }
    const JsonValue read = value != nullptr ? *value : JsonValue();
    switch (modifier) {
      case ModifierName::kLength:
      case ModifierName::kEach:
        if (!field->IsMultiple() || segments.size() > 3) {
          return Problem(std::string(modifier == ModifierName::kLength ? ":length" : ":each") +
                             " applies to multiple select, relation and file fields, and " +
                             Quote(operand.text) + " is not one",
                         identifier.modifier_position);
        }
        if (modifier == ModifierName::kLength) {
          return Literal(JsonValue::Integer(LengthOf(read)), operand, true);
        }
        return Literal(read, operand, true);
      case ModifierName::kLower: return Literal(LowerValue(read), operand, true);
      default: return Literal(read, operand, true);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Functions

  Result<Side> ResolveFunction(const Operand& operand) {
    if (operand.text != "geoDistance") {
      return Problem("unknown function " + Quote(operand.text), operand.position);
    }
    if (!options_.enable_geo_distance) {
      return Problem("the function geoDistance is not enabled", operand.position);
    }
    if (operand.args.size() != 4) {
      return Problem("geoDistance takes 4 arguments (lonA, latA, lonB, latB), not " +
                         std::to_string(operand.args.size()),
                     operand.position);
    }
    Side side;
    side.label = operand.text;
    side.position = operand.position;
    side.target = Target::kNumber;
    side.operand.kind = ResolvedOperand::Kind::kGeoDistance;
    side.operand.value_kind = ValueKind::kNumber;
    bool all_literal = true;
    bool null_result = false;
    bool from_request = false;
    for (const auto& argument : operand.args) {
      if (argument.kind == Operand::Kind::kFunction) {
        return Problem("the arguments of geoDistance cannot be function calls",
                       argument.position);
      }
      auto resolved = ResolveOperand(argument);
      if (!resolved) return resolved;
      if (resolved->operand.kind == ResolvedOperand::Kind::kLiteral) {
        from_request = from_request || resolved->from_request;
        auto number = Coerce(resolved->operand.literal, Target::kNumber);
        if (!number || number->type() == JsonValue::Type::kArray) {
          if (!resolved->from_request) {
            return Problem("the arguments of geoDistance are numbers, and " +
                               DescribeLiteral(*resolved) + " is not one",
                           argument.position);
          }
          number = JsonValue();  // request data that is no number: the distance is null
        }
        null_result = null_result || number->IsNull();
        resolved->operand.literal = std::move(*number);
        resolved->operand.value_kind = KindOf(resolved->operand.literal);
        resolved->operand.multiple = false;
      } else {
        all_literal = false;
        const ValueKind kind = resolved->operand.value_kind;
        if (resolved->operand.multiple ||
            (kind != ValueKind::kNumber && kind != ValueKind::kJson)) {
          return Problem("the arguments of geoDistance are single numbers, and " +
                             Quote(argument.text) + " is not one",
                         argument.position);
        }
      }
      side.operand.args.push_back(std::move(resolved->operand));
    }
    if (null_result) return Literal(JsonValue(), operand, from_request);
    if (all_literal) {
      const auto& a = side.operand.args;
      return Literal(NumberValue(GeoDistanceKm(a[0].literal.AsDouble(), a[1].literal.AsDouble(),
                                               a[2].literal.AsDouble(), a[3].literal.AsDouble())),
                     operand, from_request);
    }
    return side;
  }

  const ProjectSchema& schema_;
  const Collection& collection_;
  const RequestContext& request_;
  const ResolveOptions& options_;
  std::string_view prefix_;
  std::vector<CollectionJoin> joins_;
  std::vector<std::string> join_keys_;  // parallel to joins_
};

const RequestContext& NoRequest() {
  static const RequestContext kNone;
  return kNone;
}

void ShiftJoins(Condition& condition, int offset) {
  ForEachOperand(condition, [&](ResolvedOperand& operand) {
    ForEachJoinReference(operand, [&](int& join) { join += offset; });
  });
}

}  // namespace

Result<ResolvedFilter> Resolve(const Expr& expr, SchemaPtr schema, const Collection& collection,
                               const RequestContext& request, const ResolveOptions& options) {
  if (!schema) return Fail(Error::Internal("filter::Resolve called without a schema"));
  Resolver resolver(*schema, collection, request, options, "Invalid filter: ");
  auto condition = resolver.ResolveExpr(expr);
  if (!condition) return std::unexpected(std::move(condition.error()));
  ResolvedFilter filter;
  filter.schema = std::move(schema);
  filter.collection = &collection;
  filter.joins = resolver.TakeJoins();
  filter.condition = std::move(*condition);
  PruneJoins(filter);
  return filter;
}

Result<ResolvedFilter> Compile(std::string_view text, SchemaPtr schema,
                               const Collection& collection, const RequestContext& request,
                               const ResolveOptions& options) {
  auto expr = Parse(text);
  if (!expr) return std::unexpected(std::move(expr.error()));
  return Resolve(*expr, std::move(schema), collection, request, options);
}

ResolvedFilter And(ResolvedFilter a, ResolvedFilter b) {
  ShiftJoins(b.condition, static_cast<int>(a.joins.size()));
  for (auto& join : b.joins) a.joins.push_back(std::move(join));
  std::vector<Condition> both;
  both.push_back(std::move(a.condition));
  both.push_back(std::move(b.condition));
  a.condition = Combine(Condition::Kind::kAnd, std::move(both));
  if (!a.schema) a.schema = std::move(b.schema);
  if (a.collection == nullptr) a.collection = b.collection;
  PruneJoins(a);
  return a;
}

Result<std::vector<SortTerm>> ResolveSort(std::string_view text, SchemaPtr schema,
                                          const Collection& collection,
                                          const ResolveOptions& options) {
  if (!schema) return Fail(Error::Internal("filter::ResolveSort called without a schema"));
  const std::size_t max_length = ParseLimits{}.max_length;
  if (text.size() > max_length) {
    return Fail(ErrorCode::kInvalidArgument,
                "Invalid sort: longer than " + std::to_string(max_length) + " bytes.");
  }
  Resolver resolver(*schema, collection, NoRequest(), options, "Invalid sort: ");
  std::vector<SortTerm> terms;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::size_t first = start;
    std::size_t last = end;
    while (first < last && (text[first] == ' ' || text[first] == '\t')) ++first;
    while (last > first && (text[last - 1] == ' ' || text[last - 1] == '\t')) --last;
    start = end + 1;
    if (first == last) continue;  // "a,,b" and a trailing comma are harmless
    if (terms.size() == options.max_sort_terms) {
      return resolver.Problem("more than " + std::to_string(options.max_sort_terms) + " terms",
                              first);
    }
    SortTerm term;
    if (text[first] == '-' || text[first] == '+') term.descending = text[first++] == '-';
    const std::string_view name = text.substr(first, last - first);
    if (name == "@random") {
      term.random = true;
      terms.push_back(std::move(term));
      continue;
    }
    if (name.empty()) return resolver.Problem("a sort term needs a field", first);
    auto key = resolver.ResolveSortKey(name, first);
    if (!key) return std::unexpected(std::move(key.error()));
    term.key = std::move(*key);
    terms.push_back(std::move(term));
  }
  return terms;
}

}  // namespace socle::domain::filter
