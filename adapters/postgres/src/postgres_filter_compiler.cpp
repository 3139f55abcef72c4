#include "postgres_filter_compiler.hpp"

#include <algorithm>
#include <utility>

#include "postgres_record_codec.hpp"
#include "postgres_schema_ddl.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/schema_diff.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::postgres {

using domain::Collection;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Field;
using domain::JsonValue;
using domain::Result;
using domain::StorageClass;
using domain::filter::CompareOp;
using domain::filter::Modifier;
using domain::filter::ResolvedOperand;

namespace {

constexpr std::string_view kTrue = "TRUE";
constexpr std::string_view kFalse = "FALSE";

// What a value is in SQL: the kinds of ast.hpp, each with one SQL type (text COLLATE "C",
// float8, boolean, json); a SQL NULL is the value null.
enum class Kind { kNull, kBool, kNumber, kString, kJson };

// One value as a SQL expression.
struct Scalar {
  std::string sql;
  Kind kind = Kind::kNull;
  bool nullable = true;
  // The literal this value was bound from, if any.
  const JsonValue* literal = nullptr;
  // For a date of the queried row itself: the timestamptz column, which compares with a
  // canonical literal the way the canonical text does (and can use an index); NULL is "".
  std::string raw_date;
};

// A compiled operand: one scalar, or a set of rows whose value is `value` (sN.v).
struct Operand {
  Scalar value;
  bool is_set = false;
  std::string from;  // the FROM item of a set
  // A text[] column of the queried row, when the set is exactly its items (fast paths).
  std::string array_column;
};

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsConstant(std::string_view sql) { return sql == kTrue || sql == kFalse; }

std::string Not(std::string_view a) {
  if (a == kTrue) return std::string(kFalse);
  if (a == kFalse) return std::string(kTrue);
  return "(NOT " + std::string(a) + ")";
}

std::string And(std::string_view a, std::string_view b) {
  if (a == kFalse || b == kFalse) return std::string(kFalse);
  if (a == kTrue) return std::string(b);
  if (b == kTrue) return std::string(a);
  return "(" + std::string(a) + " AND " + std::string(b) + ")";
}

std::string Or(std::string_view a, std::string_view b) {
  if (a == kTrue || b == kTrue) return std::string(kTrue);
  if (a == kFalse) return std::string(b);
  if (b == kFalse) return std::string(a);
  return "(" + std::string(a) + " OR " + std::string(b) + ")";
}

// `expr` where a NULL means false.
std::string NotNull(const std::string& expr, bool nullable) {
  return nullable ? "coalesce(" + expr + ", FALSE)" : expr;
}

std::string_view SqlOperator(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "=";
    case CompareOp::kNeq: return "<>";
    case CompareOp::kGt: return ">";
    case CompareOp::kGte: return ">=";
    case CompareOp::kLt: return "<";
    case CompareOp::kLte: return "<=";
    case CompareOp::kLike:
    case CompareOp::kNotLike: return "LIKE";
  }
  return "=";
}

// The operator that keeps the meaning when the operands swap sides.
CompareOp Flip(CompareOp op) {
  switch (op) {
    case CompareOp::kGt: return CompareOp::kLt;
    case CompareOp::kGte: return CompareOp::kLte;
    case CompareOp::kLt: return CompareOp::kGt;
    case CompareOp::kLte: return CompareOp::kGte;
    default: return op;
  }
}

bool IsStringLiteral(const Scalar& s) {
  return s.literal != nullptr && s.literal->type() == JsonValue::Type::kString;
}

// Whether a value can be null or "" (the values equal to null).
std::string Nullish(const Scalar& s) {
  switch (s.kind) {
    case Kind::kNull: return std::string(kTrue);
    case Kind::kString:
      if (IsStringLiteral(s)) return std::string(s.literal->AsString().empty() ? kTrue : kFalse);
      if (!s.nullable) return "(" + s.sql + " = '')";
      return "(coalesce(" + s.sql + ", '') = '')";
    case Kind::kNumber:
    case Kind::kBool:
      if (!s.nullable || s.literal != nullptr) return std::string(kFalse);
      return "(" + s.sql + " IS NULL)";
    case Kind::kJson:
      return "(" + s.sql + " IS NULL OR json_typeof(" + s.sql + ") = 'null' OR (json_typeof(" +
             s.sql + ") = 'string' AND (" + s.sql + " #>> '{}') = ''))";
  }
  return std::string(kFalse);
}

// A JSON value as a value of `kind` when it is one, else NULL.
Scalar JsonAs(const Scalar& json, Kind kind) {
  Scalar out;
  out.kind = kind;
  out.nullable = true;
  const std::string& j = json.sql;
  switch (kind) {
    case Kind::kString:
      out.sql = "(CASE WHEN json_typeof(" + j + ") = 'string' THEN (" + j + " #>> '{}') END)";
      break;
    case Kind::kNumber:
      out.sql =
          "(CASE WHEN json_typeof(" + j + ") = 'number' THEN (" + j + " #>> '{}')::float8 END)";
      break;
    case Kind::kBool:
      out.sql =
          "(CASE WHEN json_typeof(" + j + ") = 'boolean' THEN (" + j + " #>> '{}')::boolean END)";
      break;
    default: out.sql = "NULL"; break;
  }
  return out;
}

// `l op r` for two values of the same non-JSON kind, NULL counting as false.
std::string OrderSame(CompareOp op, const Scalar& l, const Scalar& r) {
  // Strings compare bytewise whatever collation the operands' expressions carry.
  const std::string right = l.kind == Kind::kString ? "(" + r.sql + ") COLLATE \"C\"" : r.sql;
  return NotNull("(" + l.sql + " " + std::string(SqlOperator(op)) + " " + right + ")",
                 l.nullable || r.nullable);
}

// Equality of two values of the same non-JSON kind (null equal to null and "").
std::string EqualSame(const Scalar& l, const Scalar& r) {
  const bool nullable = l.nullable || r.nullable;
  if (!nullable) return "(" + l.sql + " = " + r.sql + ")";
  if (l.kind == Kind::kString) {
    const bool non_empty_literal = (IsStringLiteral(l) && !l.literal->AsString().empty()) ||
                                   (IsStringLiteral(r) && !r.literal->AsString().empty());
    if (non_empty_literal) return "coalesce(" + l.sql + " = " + r.sql + ", FALSE)";
    return "(coalesce(" + l.sql + ", '') = coalesce(" + r.sql + ", ''))";
  }
  return "(" + l.sql + " IS NOT DISTINCT FROM " + r.sql + ")";
}

class Compiler {
 public:
  Compiler(std::string_view row, SqlNames& names, SqlParams& params)
      : row_(row), names_(names), params_(params) {}

  Result<std::string> Filter(const domain::filter::ResolvedFilter& filter) {
    std::string joins;
    for (std::size_t i = 0; i < filter.joins.size(); ++i) {
      const auto& join = filter.joins[i];
      if (join.collection == nullptr) return Fail(Error::Internal("a join without collection"));
      auto table = names_.Table(*join.collection);
      if (!table) return Fail(table.error());
      join_aliases_.push_back("j" + std::to_string(i));
      joins += " LEFT JOIN " + *table + " AS " + join_aliases_.back() + " ON TRUE";
    }
    auto condition = Condition(filter.condition);
    if (!condition) return Fail(condition.error());
    // One combination always exists (an empty collection contributes its NULL row), so a
    // constant condition needs no EXISTS.
    if (joins.empty() || IsConstant(*condition)) return condition;
    return "EXISTS (SELECT 1 FROM (SELECT 1) AS _one" + joins + " WHERE " + *condition + ")";
  }

  Result<std::string> Order(const std::vector<domain::filter::SortTerm>& sort,
                            const Collection& collection) {
    std::string out;
    for (const auto& term : sort) {
      if (term.random) return std::string("random()");
      auto key = Compile(term.key);
      if (!key) return Fail(key.error());
      if (key->is_set) {
        return Fail(Error::Field("sort", "validation_invalid_sort",
                                 "Cannot sort by a multi-valued field."));
      }
      const Scalar& value = key->value;
      std::string expr;
      if (!value.raw_date.empty()) {
        expr = value.raw_date;  // the instant orders as its canonical text does
      } else if (value.kind == Kind::kString) {
        expr = "(" + value.sql + ") COLLATE \"C\"";
      } else if (value.kind == Kind::kJson) {
        // As the evaluator sorts JSON values: null, booleans, numbers, strings, arrays, objects,
        // then by value within booleans, numbers and strings.
        const std::string& j = value.sql;
        const std::string direction = term.descending ? " DESC" : " ASC";
        if (!out.empty()) out += ", ";
        out += "(CASE coalesce(json_typeof(" + j +
               "), 'null') WHEN 'null' THEN 0 WHEN 'boolean' THEN 1 WHEN 'number' THEN 2"
               " WHEN 'string' THEN 3 WHEN 'array' THEN 4 ELSE 5 END)" +
               direction + ", " + JsonAs(value, Kind::kBool).sql + direction + ", " +
               JsonAs(value, Kind::kNumber).sql + direction + ", (" +
               JsonAs(value, Kind::kString).sql + ") COLLATE \"C\"" + direction;
        continue;
      } else {
        expr = value.sql;
      }
      if (!out.empty()) out += ", ";
      // Nulls sort first ascending and last descending. A value that is never NULL (a column
      // of the row, NOT NULL) needs no NULLS clause, and without one its order is that of an
      // index on the column (ASC NULLS LAST and DESC NULLS FIRST are PostgreSQL's defaults), so
      // an index on the filter and sort columns serves the page without a sort.
      // (A date sorts by its timestamptz column, NULL for an empty date, whatever `nullable`
      // says of its text.)
      if (!value.nullable && value.raw_date.empty()) {
        out += expr + (term.descending ? " DESC" : " ASC");
      } else {
        out += expr + (term.descending ? " DESC NULLS LAST" : " ASC NULLS FIRST");
      }
    }
    const Field* id = IdField(collection);
    if (id == nullptr) return Fail(Error::Internal("collection " + collection.name + " has no id"));
    auto id_column = names_.Column(collection, *id);
    if (!id_column) return Fail(id_column.error());
    if (!out.empty()) out += ", ";
    out += row_ + "." + *id_column + " ASC";
    return out;
  }

 private:
  std::string NewAlias(char prefix) { return prefix + std::to_string(++aliases_); }

  Result<std::string> Condition(const domain::filter::Condition& condition) {
    using CondKind = domain::filter::Condition::Kind;
    switch (condition.kind) {
      case CondKind::kTrue: return std::string(kTrue);
      case CondKind::kFalse: return std::string(kFalse);
      case CondKind::kAnd:
      case CondKind::kOr: {
        const bool all = condition.kind == CondKind::kAnd;
        std::string out(all ? kTrue : kFalse);
        for (const auto& child : condition.children) {
          auto part = Condition(child);
          if (!part) return Fail(part.error());
          out = all ? And(out, *part) : Or(out, *part);
        }
        return out;
      }
      case CondKind::kCompare: return Comparison(condition.compare);
    }
    return Fail(Error::Internal("unknown condition kind"));
  }

  Result<std::string> Comparison(const domain::filter::Comparison& comparison) {
    auto left = Compile(comparison.left);
    if (!left) return Fail(left.error());
    auto right = Compile(comparison.right);
    if (!right) return Fail(right.error());
    CompareOp op = comparison.op;

    if (auto fast = ArrayFastPath(*left, *right, op, comparison.any)) return *fast;
    if (auto fast = ArrayFastPath(*right, *left, op, comparison.any)) return *fast;

    auto pair = Predicate(op, left->value, right->value);
    if (!pair) return Fail(pair.error());
    if (!left->is_set && !right->is_set) return pair;
    // Every set holds at least one row, so a constant predicate decides alone.
    if (IsConstant(*pair)) return pair;
    std::string from;
    for (const Operand* set : {&*left, &*right}) {
      if (!set->is_set) continue;
      if (!from.empty()) from += " CROSS JOIN ";
      from += set->from;
    }
    if (comparison.any) return "EXISTS (SELECT 1 FROM " + from + " WHERE " + *pair + ")";
    return "(NOT EXISTS (SELECT 1 FROM " + from + " WHERE " + Not(*pair) + "))";
  }

  // `tags ?= "x"` and friends over a text[] column of the queried row: the array operators,
  // which need no subquery. `value` must be a non-empty string literal.
  std::optional<std::string> ArrayFastPath(const Operand& set, const Operand& value, CompareOp op,
                                           bool any) {
    if (set.array_column.empty() || value.is_set || !IsStringLiteral(value.value) ||
        value.value.literal->AsString().empty()) {
      return std::nullopt;
    }
    const std::string& column = set.array_column;
    const std::string& literal = value.value.sql;
    if (op == CompareOp::kEq) {
      if (any) return "(" + literal + " = ANY(" + column + "))";
      return "(cardinality(" + column + ") > 0 AND " + literal + " = ALL(" + column + "))";
    }
    if (op == CompareOp::kNeq) {
      // The empty set is {null}, and null differs from a non-empty string.
      if (any) return "(cardinality(" + column + ") = 0 OR " + literal + " <> ANY(" + column + "))";
      return "(NOT (" + literal + " = ANY(" + column + ")))";
    }
    return std::nullopt;
  }

  Result<std::string> Predicate(CompareOp op, const Scalar& l, const Scalar& r) {
    switch (op) {
      case CompareOp::kEq: return Equal(l, r);
      case CompareOp::kNeq: return Not(Equal(l, r));
      case CompareOp::kLike: return Like(l, r);
      case CompareOp::kNotLike: {
        auto like = Like(l, r);
        if (!like) return Fail(like.error());
        return Not(*like);
      }
      default: return Order(op, l, r);
    }
  }

  std::string Equal(const Scalar& l, const Scalar& r) {
    if (l.kind == Kind::kNull || r.kind == Kind::kNull) return And(Nullish(l), Nullish(r));
    if (l.kind == Kind::kJson && r.kind == Kind::kJson) {
      // Two numbers, two strings or two booleans; arrays and objects equal nothing.
      const Scalar ln = JsonAs(l, Kind::kNumber), rn = JsonAs(r, Kind::kNumber);
      const Scalar ls = JsonAs(l, Kind::kString), rs = JsonAs(r, Kind::kString);
      const Scalar lb = JsonAs(l, Kind::kBool), rb = JsonAs(r, Kind::kBool);
      return Or(And(Nullish(l), Nullish(r)), "coalesce(" + ln.sql + " = " + rn.sql + ", " + ls.sql +
                                                 " = " + rs.sql + ", " + lb.sql + " = " + rb.sql +
                                                 ", FALSE)");
    }
    // A JSON value equals a value of another kind when it is a JSON value of that kind (the
    // null cases aside, which the first term covers).
    if (l.kind == Kind::kJson) {
      return Or(And(Nullish(l), Nullish(r)),
                "coalesce(" + JsonAs(l, r.kind).sql + " = " + r.sql + ", FALSE)");
    }
    if (r.kind == Kind::kJson) {
      return Or(And(Nullish(l), Nullish(r)),
                "coalesce(" + l.sql + " = " + JsonAs(r, l.kind).sql + ", FALSE)");
    }
    if (l.kind != r.kind) return And(Nullish(l), Nullish(r));
    if (auto date = DateComparison(CompareOp::kEq, l, r)) return *date;
    if (auto date = DateComparison(CompareOp::kEq, r, l)) return *date;
    return EqualSame(l, r);
  }

  std::string Order(CompareOp op, const Scalar& l, const Scalar& r) {
    if (l.kind == Kind::kNull || r.kind == Kind::kNull) return std::string(kFalse);
    if (l.kind == Kind::kJson && r.kind == Kind::kJson) {
      // Both numbers, both strings or both booleans; any other pair is unordered.
      const std::string o(SqlOperator(op));
      const Scalar ln = JsonAs(l, Kind::kNumber), rn = JsonAs(r, Kind::kNumber);
      const Scalar ls = JsonAs(l, Kind::kString), rs = JsonAs(r, Kind::kString);
      const Scalar lb = JsonAs(l, Kind::kBool), rb = JsonAs(r, Kind::kBool);
      return "coalesce(" + ln.sql + " " + o + " " + rn.sql + ", " + ls.sql + " " + o + " (" +
             rs.sql + ") COLLATE \"C\", " + lb.sql + " " + o + " " + rb.sql + ", FALSE)";
    }
    if (l.kind == Kind::kJson) return OrderSame(op, JsonAs(l, r.kind), r);
    if (r.kind == Kind::kJson) return OrderSame(op, l, JsonAs(r, l.kind));
    if (l.kind != r.kind) return std::string(kFalse);
    if (auto date = DateComparison(op, l, r)) return *date;
    if (auto date = DateComparison(Flip(op), r, l)) return *date;
    return OrderSame(op, l, r);
  }

  // `date op literal` on the timestamptz column itself, when the literal is "" or a canonical
  // date (whose text order is its time order): equivalent to comparing the canonical texts,
  // and it can use an index on the column.
  std::optional<std::string> DateComparison(CompareOp op, const Scalar& date, const Scalar& other) {
    if (date.raw_date.empty() || !IsStringLiteral(other)) return std::nullopt;
    const std::string& text = other.literal->AsString();
    const std::string& raw = date.raw_date;
    if (text.empty()) {  // NULL is the empty date, the least of all texts
      switch (op) {
        case CompareOp::kEq:
        case CompareOp::kLte: return "(" + raw + " IS NULL)";
        case CompareOp::kLt: return std::string(kFalse);
        case CompareOp::kGt: return "(" + raw + " IS NOT NULL)";
        case CompareOp::kGte: return std::string(kTrue);
        default: return std::nullopt;
      }
    }
    auto at = domain::Timestamp::Parse(text);
    if (!at || at->ToApiString() != text) return std::nullopt;
    const std::string instant = params_.Add(at->ToIso8601(), "timestamptz");
    switch (op) {
      case CompareOp::kEq: return "coalesce(" + raw + " = " + instant + ", FALSE)";
      case CompareOp::kLt: return "(" + raw + " IS NULL OR " + raw + " < " + instant + ")";
      case CompareOp::kLte: return "(" + raw + " IS NULL OR " + raw + " <= " + instant + ")";
      case CompareOp::kGt: return "(" + raw + " IS NOT NULL AND " + raw + " > " + instant + ")";
      case CompareOp::kGte: return "(" + raw + " IS NOT NULL AND " + raw + " >= " + instant + ")";
      default: return std::nullopt;
    }
  }

  Result<std::string> Like(const Scalar& l, const Scalar& r) {
    // Only between strings; a JSON value takes part when it is a JSON string.
    auto as_string = [](const Scalar& s) -> std::optional<Scalar> {
      if (s.kind == Kind::kString) return s;
      if (s.kind == Kind::kJson) return JsonAs(s, Kind::kString);
      return std::nullopt;
    };
    auto value = as_string(l);
    auto pattern = as_string(r);
    if (!value || !pattern) return std::string(kFalse);
    // No escape character: with a `%` the pattern is a LIKE pattern as written (ESCAPE ''),
    // without one a substring to find.
    const std::string subject = "lower((" + value->sql + ") COLLATE \"C\")";
    std::string match;
    if (IsStringLiteral(*pattern)) {
      const std::string& text = pattern->literal->AsString();
      const std::string lowered = params_.Add(AsciiLower(text), "text");
      match = text.find('%') != std::string::npos
                  ? "(" + subject + " LIKE " + lowered + " ESCAPE '')"
                  : "(strpos(" + subject + ", " + lowered + ") > 0)";
    } else {
      const std::string& p = pattern->sql;
      const std::string lowered = "lower((" + p + ") COLLATE \"C\")";
      match = "(CASE WHEN strpos(" + p + ", '%') > 0 THEN " + subject + " LIKE " + lowered +
              " ESCAPE '' ELSE strpos(" + subject + ", " + lowered + ") > 0 END)";
    }
    return NotNull(match, value->nullable || pattern->nullable);
  }

  Result<Operand> Compile(const ResolvedOperand& operand) {
    switch (operand.kind) {
      case ResolvedOperand::Kind::kLiteral: return Literal(operand.literal);
      case ResolvedOperand::Kind::kField: return FieldOperand(operand);
      case ResolvedOperand::Kind::kGeoDistance: return GeoDistance(operand);
    }
    return Fail(Error::Internal("unknown operand kind"));
  }

  // The haversine distance in kilometres, computed in the evaluator's order of operations so
  // that both give the same double; NULL when an argument is null or not a number.
  Result<Operand> GeoDistance(const ResolvedOperand& operand) {
    if (operand.args.size() != 4) {
      return Fail(Error::Internal("geoDistance takes four arguments"));
    }
    std::string args[4];
    for (std::size_t i = 0; i < 4; ++i) {
      auto arg = Compile(operand.args[i]);
      if (!arg) return Fail(arg.error());
      if (arg->is_set) {
        args[i] = "NULL::float8";  // not a single value
      } else if (arg->value.kind == Kind::kNumber) {
        args[i] = arg->value.sql;
      } else if (arg->value.kind == Kind::kJson) {
        args[i] = JsonAs(arg->value, Kind::kNumber).sql;
      } else {
        args[i] = "NULL::float8";
      }
    }
    const std::string radians = "0.017453292519943295::float8";  // pi / 180
    const std::string phi_a = "(" + args[1] + " * " + radians + ")";
    const std::string phi_b = "(" + args[3] + " * " + radians + ")";
    const std::string half_dphi = "((" + phi_b + " - " + phi_a + ") / 2)";
    const std::string half_dlambda = "((" + args[2] + " - " + args[0] + ") * " + radians + " / 2)";
    const std::string a = "(sin(" + half_dphi + ") * sin(" + half_dphi + ") + cos(" + phi_a +
                          ") * cos(" + phi_b + ") * sin(" + half_dlambda + ") * sin(" +
                          half_dlambda + "))";
    Operand out;
    out.value.sql = "(2 * 6371::float8 * asin(sqrt(least(1::float8, " + a + "))))";
    out.value.kind = Kind::kNumber;
    out.value.nullable = true;
    return out;
  }

  Result<Operand> Literal(const JsonValue& value) {
    Operand out;
    Scalar& s = out.value;
    s.literal = &value;
    s.nullable = false;
    switch (value.type()) {
      case JsonValue::Type::kNull:
        s.sql = "NULL";
        s.kind = Kind::kNull;
        s.nullable = true;
        return out;
      case JsonValue::Type::kBool:
        s.sql = params_.Add(value.AsBool() ? "true" : "false", "boolean");
        s.kind = Kind::kBool;
        return out;
      case JsonValue::Type::kNumber:
        s.sql = params_.Add(NumberText(value), "float8");
        s.kind = Kind::kNumber;
        return out;
      case JsonValue::Type::kString:
        if (!CanBindText(value.AsString())) return Fail(NulRefused());
        s.sql = params_.Add(value.AsString(), "text");
        s.kind = Kind::kString;
        return out;
      case JsonValue::Type::kObject:
        s.sql = params_.Add(JsonText(value), "json");
        s.kind = Kind::kJson;
        return out;
      case JsonValue::Type::kArray: return ArrayLiteral(value);
    }
    return Fail(Error::Internal("unknown literal type"));
  }

  // A multi-valued literal: the set of its items.
  Result<Operand> ArrayLiteral(const JsonValue& value) {
    const auto& items = value.items();
    if (items.empty()) {
      Operand none;
      none.value.sql = "NULL";  // the empty set behaves as {null}
      return none;
    }
    if (items.size() == 1) return Literal(items[0]);  // a set of one is its item
    auto all = [&](JsonValue::Type type) {
      return std::all_of(items.begin(), items.end(), [&](const JsonValue& item) {
        return item.type() == type || item.IsNull();
      });
    };
    std::string array_sql;
    Kind kind = Kind::kJson;
    if (all(JsonValue::Type::kString) || all(JsonValue::Type::kNumber) ||
        all(JsonValue::Type::kBool)) {
      std::vector<std::optional<std::string>> elements;
      elements.reserve(items.size());
      for (const JsonValue& item : items) {
        switch (item.type()) {
          case JsonValue::Type::kNull: elements.emplace_back(); break;
          case JsonValue::Type::kString:
            if (!CanBindText(item.AsString())) return Fail(NulRefused());
            elements.emplace_back(item.AsString());
            kind = Kind::kString;
            break;
          case JsonValue::Type::kNumber:
            elements.emplace_back(NumberText(item));
            kind = Kind::kNumber;
            break;
          default:
            elements.emplace_back(item.AsBool() ? "true" : "false");
            kind = Kind::kBool;
            break;
        }
      }
      if (kind == Kind::kJson) {  // nothing but nulls
        Operand none;
        none.value.sql = "NULL";
        return none;
      }
      const std::string_view type = kind == Kind::kString   ? "text[]"
                                    : kind == Kind::kNumber ? "float8[]"
                                                            : "boolean[]";
      array_sql = "unnest(" + params_.Add(FormatTextArray(elements), type) + ")";
    } else {
      // Mixed kinds: the items as JSON values, each compared by its own kind.
      array_sql = "json_array_elements(" + params_.Add(JsonText(value), "json") + ")";
    }
    Operand out;
    const std::string set = NewAlias('s');
    out.is_set = true;
    out.from =
        "(SELECT 1) AS " + NewAlias('e') + " LEFT JOIN " + array_sql + " AS " + set + "(v) ON TRUE";
    out.value.sql = set + ".v";
    out.value.kind = kind;
    out.value.nullable = true;
    return out;
  }

  Result<Operand> FieldOperand(const ResolvedOperand& operand) {
    if (operand.field == nullptr || operand.collection == nullptr) {
      return Fail(Error::Internal("a field operand without field"));
    }
    std::string start = row_;
    bool start_nullable = false;  // a joined row may be the NULL row of an empty collection
    if (operand.join >= 0) {
      if (static_cast<std::size_t>(operand.join) >= join_aliases_.size()) {
        return Fail(Error::Internal("a field operand names an unknown join"));
      }
      start = join_aliases_[static_cast<std::size_t>(operand.join)];
      start_nullable = true;
    }
    const Field& field = *operand.field;
    const StorageClass storage = domain::StorageClassOf(field);
    const bool items = storage == StorageClass::kTextArray && operand.modifier != Modifier::kLength;

    // The hops, as FROM items joined from `start`.
    std::string from;
    std::string where;
    std::string last = start;
    bool hops_multiple = false;
    for (std::size_t i = 0; i < operand.hops.size(); ++i) {
      const auto& hop = operand.hops[i];
      if (hop.from == nullptr || hop.to == nullptr || hop.relation == nullptr) {
        return Fail(Error::Internal("an incomplete relation hop"));
      }
      const std::string alias = NewAlias('h');
      auto table = names_.Table(*hop.to);
      if (!table) return Fail(table.error());
      std::string condition;
      if (!hop.back) {
        auto relation = names_.Column(*hop.from, *hop.relation);
        auto target_id = IdColumn(*hop.to);
        if (!relation) return Fail(relation.error());
        if (!target_id) return Fail(target_id.error());
        if (hop.relation->IsMultiple()) {
          hops_multiple = true;
          condition = alias + "." + *target_id + " = ANY(" + last + "." + *relation + ")";
        } else {
          condition = alias + "." + *target_id + " = " + last + "." + *relation;
        }
      } else {
        // x_via_f: the records of `to` whose relation f holds (or contains) the current id.
        hops_multiple = true;
        auto relation = names_.Column(*hop.to, *hop.relation);
        auto source_id = IdColumn(*hop.from);
        if (!relation) return Fail(relation.error());
        if (!source_id) return Fail(source_id.error());
        if (hop.relation->IsMultiple()) {
          condition = last + "." + *source_id + " = ANY(" + alias + "." + *relation + ")";
        } else {
          condition = alias + "." + *relation + " = " + last + "." + *source_id;
        }
      }
      if (i == 0) {
        from = *table + " AS " + alias;
        where = condition;
      } else {
        from += " JOIN " + *table + " AS " + alias + " ON " + condition;
      }
      last = alias;
    }

    auto column = names_.Column(*operand.collection, field);
    if (!column) return Fail(column.error());
    const std::string qualified = last + "." + *column;
    std::string null_row;  // true when the row the value belongs to is missing
    if (operand.hops.empty() && start_nullable) {
      auto id = IdColumn(*operand.collection);
      if (!id) return Fail(id.error());
      null_row = start + "." + *id + " IS NULL";
    }

    Operand out;
    if (!items) {
      auto value = Value(storage, qualified, operand, null_row);
      if (!value) return Fail(value.error());
      if (operand.hops.empty()) {
        out.value = std::move(*value);
        out.value.nullable = out.value.nullable || start_nullable;
        return out;
      }
      if (!hops_multiple) {
        // Forward hops through single relations reach at most one row: a scalar subquery,
        // NULL when the related record is missing.
        out.value.sql = "(SELECT " + value->sql + " FROM " + from + " WHERE " + where + ")";
        out.value.kind = value->kind;
        out.value.nullable = true;
        return out;
      }
      return Set("SELECT " + value->sql + " AS v FROM " + from + " WHERE " + where, value->kind,
                 std::move(out));
    }

    // The items of a multiple field, one row each.
    const std::string unnested = NewAlias('u');
    std::string item = unnested + ".v";
    if (operand.modifier == Modifier::kLower) item = "lower(" + item + " COLLATE \"C\")";
    if (operand.hops.empty() && !start_nullable && operand.modifier != Modifier::kLower) {
      out.array_column = qualified;
    }
    if (operand.hops.empty()) {
      return Set("SELECT " + item + " AS v FROM unnest(" + qualified + ") AS " + unnested + "(v)",
                 Kind::kString, std::move(out));
    }
    return Set("SELECT " + item + " AS v FROM " + from + " CROSS JOIN LATERAL unnest(" + qualified +
                   ") AS " + unnested + "(v) WHERE " + where,
               Kind::kString, std::move(out));
  }

  Result<Operand> Set(const std::string& select, Kind kind, Operand out) {
    const std::string set = NewAlias('s');
    out.is_set = true;
    out.from =
        "(SELECT 1) AS " + NewAlias('e') + " LEFT JOIN (" + select + ") AS " + set + " ON TRUE";
    out.value.sql = set + ".v";
    out.value.kind = kind;
    out.value.nullable = true;
    return out;
  }

  // The value of a single-valued field (or of :length of a multiple one) at `column`.
  // `null_row`, when set, tells that the row itself is missing (an empty joined collection).
  Result<Scalar> Value(StorageClass storage, const std::string& column,
                       const ResolvedOperand& operand, const std::string& null_row) {
    Scalar s;
    s.nullable = false;
    if (operand.modifier == Modifier::kLength) {
      s.kind = Kind::kNumber;
      if (storage == StorageClass::kTextArray) {
        s.sql = "cardinality(" + column + ")::float8";
        s.nullable = !null_row.empty();
        return s;
      }
      if (storage == StorageClass::kJson) {
        auto json = JsonPath(column, operand.json_path);
        s.sql = "(CASE WHEN json_typeof(" + json + ") = 'array' THEN json_array_length(" + json +
                ")::float8 END)";
        s.nullable = true;
        return s;
      }
      return Fail(Error::Field("filter", "validation_invalid_filter",
                               "The :length modifier applies to multi-valued fields only."));
    }
    switch (storage) {
      case StorageClass::kText:
        s.kind = Kind::kString;
        s.sql = column;
        break;
      case StorageClass::kNumber:
        s.kind = Kind::kNumber;
        s.sql = column;
        break;
      case StorageClass::kBool:
        s.kind = Kind::kBool;
        s.sql = column;
        break;
      case StorageClass::kDate:
        s.kind = Kind::kString;
        s.sql = "coalesce(" + CanonicalDateText(column) + ", '')";
        if (!null_row.empty()) {
          s.sql = "(CASE WHEN " + null_row + " THEN NULL ELSE " + s.sql + " END)";
        } else if (operand.hops.empty() && operand.modifier == Modifier::kNone) {
          s.raw_date = column;
        }
        break;
      case StorageClass::kJson:
        s.kind = Kind::kJson;
        s.sql = JsonPath(column, operand.json_path);
        s.nullable = true;
        break;
      case StorageClass::kTextArray: return Fail(Error::Internal("items of a multiple field"));
    }
    if (operand.modifier == Modifier::kLower) {
      if (s.kind == Kind::kJson) {
        s = JsonAs(s, Kind::kString);
      }
      if (s.kind == Kind::kString) {
        s.sql = "lower((" + s.sql + ") COLLATE \"C\")";
        s.raw_date.clear();
      }
    }
    return s;
  }

  // A JSON column read through `path`. A document holding "\u0000" anywhere cannot be
  // searched by PostgreSQL ("\u0000 cannot be converted to text"): one such record would make
  // every filter on the field fail, so the filters see U+FFFD in its place (the record itself
  // reads back as written).
  std::string JsonPath(const std::string& column, const std::vector<std::string>& path) {
    const std::string safe = "(CASE WHEN strpos(" + column +
                             "::text, '\\u0000') > 0 THEN replace(" + column +
                             "::text, '\\u0000', '\\ufffd')::json ELSE " + column + " END)";
    if (path.empty()) return safe;
    return "(" + safe + " #> " + params_.Add(FormatTextArray(path), "text[]") + ")";
  }

  Result<std::string> IdColumn(const Collection& collection) {
    const Field* id = IdField(collection);
    if (id == nullptr) return Fail(Error::Internal("collection " + collection.name + " has no id"));
    return names_.Column(collection, *id);
  }

  static std::string NumberText(const JsonValue& number) {
    if (auto exact = number.AsInt64()) return std::to_string(*exact);
    return FormatDouble(number.AsDouble());
  }

  static std::string JsonText(const JsonValue& value) {
    json::JsonWriter writer;
    writer.Value(value);
    return std::move(writer).Take();
  }

  static Error NulRefused() {
    return Error::Field("filter", "validation_invalid_filter",
                        "Filter values must not contain the NUL character.");
  }

  std::string row_;
  SqlNames& names_;
  SqlParams& params_;
  std::vector<std::string> join_aliases_;
  int aliases_ = 0;
};

}  // namespace

std::string SqlParams::Add(std::optional<std::string> value, std::string_view type) {
  values_.push_back(std::move(value));
  return "$" + std::to_string(values_.size()) + "::" + std::string(type);
}

Params SqlParams::Bind(std::string& sql) const {
  Params used;
  std::vector<std::size_t> renumbered(values_.size(), 0);  // old index -> new number, 0 unset
  std::string out;
  out.reserve(sql.size());
  for (std::size_t i = 0; i < sql.size();) {
    if (sql[i] != '$' || i + 1 >= sql.size() || sql[i + 1] < '0' || sql[i + 1] > '9') {
      out += sql[i++];
      continue;
    }
    std::size_t end = i + 1;
    std::size_t number = 0;
    while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') {
      number = number * 10 + static_cast<std::size_t>(sql[end] - '0');
      ++end;
    }
    if (number == 0 || number > values_.size()) {  // not ours: left as written
      out.append(sql, i, end - i);
    } else {
      std::size_t& target = renumbered[number - 1];
      if (target == 0) {
        used.push_back(values_[number - 1]);
        target = used.size();
      }
      out += '$';
      out += std::to_string(target);
    }
    i = end;
  }
  sql = std::move(out);
  return used;
}

Result<std::string> CompileFilter(const domain::filter::ResolvedFilter& filter,
                                  std::string_view row, SqlNames& names, SqlParams& params) {
  return Compiler(row, names, params).Filter(filter);
}

Result<std::string> CompileOrder(const std::vector<domain::filter::SortTerm>& sort,
                                 const Collection& collection, std::string_view row,
                                 SqlNames& names, SqlParams& params) {
  return Compiler(row, names, params).Order(sort, collection);
}

}  // namespace socle::adapters::postgres
