#include "sqlite_filter_compiler.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/schema_diff.hpp"
#include "sqlite_identifier.hpp"

namespace socle::adapters::sqlite {

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

// What SQL knows about the values of a term at compile time: one kind for a typed column or a
// literal, or kDynamic for JSON, whose kind is read at run time from a JSON type name
// (json_type / json_each.type: 'null', 'true', 'false', 'integer', 'real', 'text', 'array',
// 'object').
enum class Kind { kNull, kBool, kNumber, kString, kDynamic };

SqlCondition True() { return {SqlCondition::Kind::kTrue, {}}; }
SqlCondition False() { return {SqlCondition::Kind::kFalse, {}}; }
SqlCondition Sql(std::string sql) { return {SqlCondition::Kind::kSql, std::move(sql)}; }

SqlCondition And(SqlCondition a, SqlCondition b) {
  using K = SqlCondition::Kind;
  if (a.kind == K::kFalse || b.kind == K::kFalse) return False();
  if (a.kind == K::kTrue) return b;
  if (b.kind == K::kTrue) return a;
  return Sql("(" + a.sql + " AND " + b.sql + ")");
}

SqlCondition Or(SqlCondition a, SqlCondition b) {
  using K = SqlCondition::Kind;
  if (a.kind == K::kTrue || b.kind == K::kTrue) return True();
  if (a.kind == K::kFalse) return b;
  if (b.kind == K::kFalse) return a;
  return Sql("(" + a.sql + " OR " + b.sql + ")");
}

// Every SQL condition built here is two-valued (guards make NULLs impossible where a value is
// compared), so NOT is the negation of the filter language.
SqlCondition Not(SqlCondition a) {
  switch (a.kind) {
    case SqlCondition::Kind::kTrue: return False();
    case SqlCondition::Kind::kFalse: return True();
    case SqlCondition::Kind::kSql: break;
  }
  return Sql("NOT " + a.sql);
}

Kind KindOf(const Field& field) {
  switch (domain::StorageClassOf(field)) {
    case StorageClass::kNumber: return Kind::kNumber;
    case StorageClass::kBool: return Kind::kBool;
    case StorageClass::kJson: return Kind::kDynamic;
    case StorageClass::kText:
    case StorageClass::kDate:
    case StorageClass::kTextArray: break;
  }
  return Kind::kString;
}

Kind KindOfLiteral(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kBool: return Kind::kBool;
    case JsonValue::Type::kNumber: return Kind::kNumber;
    case JsonValue::Type::kString: return Kind::kString;
    default: return Kind::kNull;
  }
}

// The order of JSON kinds when sorting by a JSON value (CompareForSort): null, booleans,
// numbers, strings, arrays, objects.
std::string JsonKindRank(const std::string& type) {
  return "(CASE " + type +
         " WHEN 'false' THEN 1 WHEN 'true' THEN 1 WHEN 'integer' THEN 2 WHEN 'real' THEN 2"
         " WHEN 'text' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 5 ELSE 0 END)";
}

// The sort value within a JSON kind: arrays and objects are never ordered among themselves, so
// they all sort alike (then by id).
std::string JsonSortValue(const std::string& value, const std::string& type) {
  return "(CASE WHEN " + type + " IN ('array', 'object') THEN NULL ELSE " + value + " END)";
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

bool IsDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// 2^53: every integer up to this magnitude is exactly a double.
constexpr std::int64_t kMaxExactInteger = std::int64_t{1} << 53;

// SQLite refuses longer LIKE patterns (SQLITE_MAX_LIKE_PATTERN_LENGTH, a compile-time bound).
constexpr std::size_t kMaxLikePattern = 50'000;

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Error Malformed(std::string_view what) {
  return Error::Internal("malformed resolved filter: " + std::string(what));
}

}  // namespace

// How a literal right side of `~` was prepared (see PatternTerm).
enum class Pattern { kNone, kLike, kSubstring };

// One side of a comparison, as SQL for a single value.
struct SqliteFilterCompiler::Term {
  std::string value;  // an SQL expression
  std::string type;   // kDynamic: an SQL expression giving the JSON type name, or NULL
  Kind kind = Kind::kNull;
  bool nullable = true;                // whether `value` may be NULL at run time
  const JsonValue* literal = nullptr;  // a scalar literal, known at compile time
  Pattern pattern = Pattern::kNone;    // the right side of ~ made from a literal (PatternTerm)
};

// A compiled operand: one term, or a set of values produced by `subquery` (columns v, and k
// for the JSON type name) whose rows `term` reads through `alias`.
struct SqliteFilterCompiler::Operand {
  Term term;
  std::string subquery;
  std::string alias;
  bool single_row = false;  // the subquery yields at most one row (single relations only)
};

// Where a field operand's values come from: FROM items and conditions correlated to the
// queried row (or a joined row), and the value expression over them. No FROM item: the value
// is a column of the starting row itself.
struct SqliteFilterCompiler::Source {
  std::vector<std::string> from;
  std::vector<std::string> where;
  std::string value;
  std::string type;
  Kind kind = Kind::kString;
  bool nullable = false;
  bool multiple = false;  // a hop or the field itself yields several rows per record
};

void BindParams(Statement& stmt, const std::vector<SqlParam>& params, std::size_t count) {
  for (std::size_t i = 0; i < params.size() && i < count; ++i) {
    const SqlParam& param = params[i];
    switch (param.kind) {
      case SqlParam::Kind::kNull: stmt.BindNull(); break;
      case SqlParam::Kind::kInteger: stmt.Bind(param.integer); break;
      case SqlParam::Kind::kReal: stmt.BindDouble(param.real); break;
      case SqlParam::Kind::kText: stmt.Bind(std::string_view(param.text)); break;
    }
  }
}

SqliteFilterCompiler::SqliteFilterCompiler(std::string root_alias, int first_param)
    : root_alias_(std::move(root_alias)), first_param_(first_param) {}

std::string SqliteFilterCompiler::NewParam(SqlParam param) {
  params_.push_back(std::move(param));
  return "?" + std::to_string(first_param_ + static_cast<int>(params_.size()) - 1);
}

std::string SqliteFilterCompiler::NewAlias() { return "a" + std::to_string(++next_alias_); }

std::string SqliteFilterCompiler::StartAlias(int join) const {
  return join < 0 ? root_alias_ : "j" + std::to_string(join);
}

Result<SqlCondition> SqliteFilterCompiler::Where(const domain::filter::ResolvedFilter& filter) {
  filter_ = &filter;
  auto condition = Condition(filter.condition);
  if (!condition) return condition;
  if (filter.joins.empty() || condition->kind != SqlCondition::Kind::kSql) return condition;
  // Some combination of joined rows must satisfy the condition. LEFT JOINs from a one-row
  // table: an empty collection still contributes one row, of NULLs.
  std::string from = "(SELECT 1) AS " + NewAlias();
  for (std::size_t i = 0; i < filter.joins.size(); ++i) {
    const auto* joined = filter.joins[i].collection;
    if (joined == nullptr) return Fail(Malformed("a join without a collection"));
    from += " LEFT JOIN " + QuoteIdentifier(joined->name) + " AS " +
            StartAlias(static_cast<int>(i)) + " ON 1";
  }
  return Sql("EXISTS (SELECT 1 FROM " + from + " WHERE " + condition->sql + ")");
}

Result<SqlCondition> SqliteFilterCompiler::Condition(const domain::filter::Condition& condition) {
  using K = domain::filter::Condition::Kind;
  switch (condition.kind) {
    case K::kTrue: return True();
    case K::kFalse: return False();
    case K::kAnd:
    case K::kOr: {
      SqlCondition out = condition.kind == K::kAnd ? True() : False();
      for (const auto& child : condition.children) {
        auto compiled = Condition(child);
        if (!compiled) return compiled;
        out = condition.kind == K::kAnd ? And(std::move(out), std::move(*compiled))
                                        : Or(std::move(out), std::move(*compiled));
      }
      return out;
    }
    case K::kCompare: return Comparison(condition.compare);
  }
  return Fail(Malformed("unknown condition kind"));
}

Result<SqliteFilterCompiler::Term> SqliteFilterCompiler::LiteralTerm(const JsonValue& literal) {
  Term term;
  term.literal = &literal;
  term.kind = KindOfLiteral(literal);
  term.nullable = false;
  switch (literal.type()) {
    case JsonValue::Type::kNull:
      term.value = "NULL";
      term.nullable = true;
      return term;
    case JsonValue::Type::kBool:
      term.value = NewParam({SqlParam::Kind::kInteger, literal.AsBool() ? 1 : 0, 0, {}});
      return term;
    case JsonValue::Type::kNumber:
      // Integers beyond ±2^53 go as doubles: the language compares numbers as doubles, while
      // SQLite would compare such an integer with a REAL exactly.
      if (auto exact = literal.AsInt64(); exact && *exact >= -kMaxExactInteger &&
                                          *exact <= kMaxExactInteger) {
        term.value = NewParam({SqlParam::Kind::kInteger, *exact, 0, {}});
      } else {
        term.value = NewParam({SqlParam::Kind::kReal, 0, literal.AsDouble(), {}});
      }
      return term;
    case JsonValue::Type::kString:
      term.value = NewParam({SqlParam::Kind::kText, 0, 0, literal.AsString()});
      return term;
    case JsonValue::Type::kArray:
    case JsonValue::Type::kObject: break;
  }
  return Fail(ErrorCode::kInvalidArgument, "A filter cannot compare with an object value.");
}

Result<SqliteFilterCompiler::Term> SqliteFilterCompiler::PatternTerm(const JsonValue& literal) {
  // PocketBase's `~`: a pattern holding a '%' is a LIKE pattern ('%' and '_' wildcards, no
  // escape character); any other text is a substring, found with instr() in the ASCII-lowered
  // value (SQLite's lower() folds A-Z only, as LIKE does), so '_' and '\' need no escaping and
  // the pattern no length bound.
  Term term;
  term.literal = &literal;
  term.kind = Kind::kString;
  term.nullable = false;
  const std::string& text = literal.AsString();
  term.pattern = text.find('%') != std::string::npos ? Pattern::kLike : Pattern::kSubstring;
  if (term.pattern == Pattern::kLike && text.size() > kMaxLikePattern) {
    return Fail(ErrorCode::kInvalidArgument,
                "A ~ pattern is limited to " + std::to_string(kMaxLikePattern) + " bytes.");
  }
  term.value = NewParam({SqlParam::Kind::kText, 0, 0,
                         term.pattern == Pattern::kLike ? text : AsciiLower(text)});
  return term;
}

Result<std::pair<std::string, std::string>> SqliteFilterCompiler::JsonValueAt(
    const std::string& column, const std::vector<std::string>& keys) {
  // SQLite's path syntax: $."key" for members (no escape exists for a '"' inside), $[n] for
  // array items. Paths are bound parameters like any other request-derived text.
  for (const auto& key : keys) {
    if (key.find('"') != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument, "A JSON key in a filter cannot contain '\"'.");
    }
  }
  bool numeric = false;
  for (const auto& key : keys) numeric = numeric || IsDigits(key);
  if (!numeric) {
    // The common case: one path, read by json_extract (the value) and json_type (its kind).
    std::string path = "$";
    for (const auto& key : keys) path += ".\"" + key + "\"";
    const std::string param = NewParam({SqlParam::Kind::kText, 0, 0, std::move(path)});
    return std::pair{"json_extract(" + column + ", " + param + ")",
                     "json_type(" + column + ", " + param + ")"};
  }
  // A numeric key indexes an array but names a member of an object ("0" in {"0": 1}), so the
  // document is walked with ->, which yields JSON, choosing per step by the kind found there.
  std::string document = column;
  std::string run;  // member keys not applied yet
  auto flush = [&] {
    if (run.empty()) return;
    document = "(" + document + " -> " + NewParam({SqlParam::Kind::kText, 0, 0, "$" + run}) + ")";
    run.clear();
  };
  for (const auto& key : keys) {
    if (!IsDigits(key)) {
      run += ".\"" + key + "\"";
      continue;
    }
    flush();
    const std::string item = NewParam({SqlParam::Kind::kText, 0, 0, "$[" + key + "]"});
    const std::string member = NewParam({SqlParam::Kind::kText, 0, 0, "$.\"" + key + "\""});
    document = "(CASE json_type(" + document + ") WHEN 'array' THEN " + document + " -> " + item +
               " WHEN 'object' THEN " + document + " -> " + member + " END)";
  }
  flush();
  return std::pair{"json_extract(" + document + ", '$')", "json_type(" + document + ")"};
}

Result<SqliteFilterCompiler::Source> SqliteFilterCompiler::FieldSource(
    const ResolvedOperand& operand, bool expand_items) {
  if (operand.field == nullptr) return Fail(Malformed("a field operand without a field"));
  if (operand.join >= 0 && (filter_ == nullptr ||
                            static_cast<std::size_t>(operand.join) >= filter_->joins.size())) {
    return Fail(Malformed("a join index out of range"));
  }
  Source source;
  source.nullable = operand.join >= 0;  // a joined collection may be empty
  std::string current = StartAlias(operand.join);
  for (const auto& hop : operand.hops) {
    if (hop.relation == nullptr || hop.to == nullptr) return Fail(Malformed("an incomplete hop"));
    const std::string target = NewAlias();
    const std::string relation = QuoteIdentifier(hop.relation->name);
    const std::string table = QuoteIdentifier(hop.to->name) + " AS " + target;
    if (!hop.back) {
      if (hop.relation->IsMultiple()) {
        // The records whose id is an item of the relation's array.
        const std::string item = NewAlias();
        source.from.push_back("json_each(" + current + "." + relation + ") AS " + item);
        source.from.push_back(table);
        source.where.push_back(target + ".\"id\" = " + item + ".value");
        source.multiple = true;
      } else {
        source.from.push_back(table);
        source.where.push_back(target + ".\"id\" = " + current + "." + relation);
      }
    } else {
      // x_via_f: the records of x whose relation f holds the current record's id.
      source.from.push_back(table);
      if (hop.relation->IsMultiple()) {
        const std::string item = NewAlias();
        source.from.push_back("json_each(" + target + "." + relation + ") AS " + item);
        source.where.push_back(item + ".value = " + current + ".\"id\"");
      } else {
        source.where.push_back(target + "." + relation + " = " + current + ".\"id\"");
      }
      source.multiple = true;
    }
    current = target;
    source.nullable = true;  // the referenced record may not exist
  }

  const Field& field = *operand.field;
  const StorageClass storage = domain::StorageClassOf(field);
  const std::string column = current + "." + QuoteIdentifier(field.name);
  source.kind = KindOf(field);
  if (operand.modifier == Modifier::kLength) {
    if (storage == StorageClass::kTextArray) {
      source.value = "json_array_length(" + column + ")";
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  ":length applies to multi-valued fields only (" + field.name + ").");
    }
    source.kind = Kind::kNumber;
    return source;
  }
  if (storage == StorageClass::kTextArray && expand_items) {
    const std::string item = NewAlias();
    source.from.push_back("json_each(" + column + ") AS " + item);
    source.value = item + ".value";
    source.multiple = true;
  } else if (storage == StorageClass::kJson) {
    // One value per record, whatever it holds: a JSON array is a value, not a set of items.
    auto value = JsonValueAt(column, operand.json_path);
    if (!value) return Fail(value.error());
    source.value = std::move(value->first);
    source.type = std::move(value->second);
    source.nullable = true;
  } else {
    source.value = column;
  }
  if (operand.modifier == Modifier::kLower) {
    source.value = "lower(" + source.value + ")";
    if (source.kind != Kind::kDynamic) source.kind = Kind::kString;
  }
  return source;
}

Result<SqliteFilterCompiler::Term> SqliteFilterCompiler::GeoDistanceTerm(
    const ResolvedOperand& operand) {
  if (operand.args.size() != 4) return Fail(Malformed("geoDistance without four arguments"));
  std::vector<std::string> args;
  for (const auto& arg : operand.args) {
    if (arg.kind == ResolvedOperand::Kind::kLiteral) {
      if (arg.literal.type() != JsonValue::Type::kNumber) {
        args.emplace_back("NULL");  // not a number: the distance is null
        continue;
      }
      auto term = LiteralTerm(arg.literal);
      if (!term) return Fail(term.error());
      args.push_back(std::move(term->value));
      continue;
    }
    if (arg.kind != ResolvedOperand::Kind::kField) {
      return Fail(Malformed("a geoDistance argument that is neither a literal nor a field"));
    }
    auto source = FieldSource(arg, /*expand_items=*/false);
    if (!source) return Fail(source.error());
    if (source->multiple) return Fail(Malformed("a multi-valued geoDistance argument"));
    std::string value = source->kind == Kind::kNumber ? source->value : std::string("NULL");
    if (source->kind == Kind::kDynamic) {
      value = "(CASE WHEN " + source->type + " IN ('integer', 'real') THEN " + source->value +
              " END)";
    }
    if (!source->from.empty()) {
      value = "(SELECT " + value + " FROM " + Join(source->from, ", ") +
              (source->where.empty() ? "" : " WHERE " + Join(source->where, " AND ")) + ")";
    }
    args.push_back(std::move(value));
  }
  // The haversine formula of ast.hpp, term for term in the evaluator's order of operations so
  // both give the same double; each argument is computed once, in a one-row derived table.
  // SQLite's math functions return NULL for a NULL argument: a null argument gives null.
  const std::string x = NewAlias();
  const std::string lon_a = x + ".lon_a";
  const std::string lat_a = x + ".lat_a";
  const std::string lon_b = x + ".lon_b";
  const std::string lat_b = x + ".lat_b";
  const std::string half_dphi = "((radians(" + lat_b + ") - radians(" + lat_a + ")) / 2)";
  const std::string half_dlambda = "(radians(" + lon_b + " - " + lon_a + ") / 2)";
  const std::string a = "sin(" + half_dphi + ") * sin(" + half_dphi + ") + cos(radians(" +
                        lat_a + ")) * cos(radians(" + lat_b + ")) * sin(" + half_dlambda +
                        ") * sin(" + half_dlambda + ")";
  Term term;
  term.kind = Kind::kNumber;
  term.nullable = true;
  term.value = "(SELECT 2 * 6371 * asin(sqrt(min(1, " + a + "))) FROM (SELECT " + args[0] +
               " AS lon_a, " + args[1] + " AS lat_a, " + args[2] + " AS lon_b, " + args[3] +
               " AS lat_b) AS " + x + ")";
  return term;
}

Result<SqliteFilterCompiler::Operand> SqliteFilterCompiler::CompileOperand(
    const ResolvedOperand& operand) {
  Operand out;
  if (operand.kind == ResolvedOperand::Kind::kGeoDistance) {
    auto term = GeoDistanceTerm(operand);
    if (!term) return Fail(term.error());
    out.term = std::move(*term);
    return out;
  }
  if (operand.kind == ResolvedOperand::Kind::kLiteral) {
    if (operand.literal.type() != JsonValue::Type::kArray) {
      auto term = LiteralTerm(operand.literal);
      if (!term) return Fail(term.error());
      out.term = std::move(*term);
      return out;
    }
    // A multi-valued literal: its items, typed by JSON, from one bound array.
    json::JsonWriter w;
    w.Value(operand.literal);
    const std::string param = NewParam({SqlParam::Kind::kText, 0, 0, std::move(w).Take()});
    out.alias = NewAlias();
    out.subquery = "SELECT value AS v, type AS k FROM json_each(" + param + ")";
    out.term.value = out.alias + ".v";
    out.term.type = out.alias + ".k";
    out.term.kind = Kind::kDynamic;
    out.term.nullable = true;
    return out;
  }

  auto source = FieldSource(operand, /*expand_items=*/true);
  if (!source) return Fail(source.error());
  if (source->from.empty()) {
    out.term.value = std::move(source->value);
    out.term.type = std::move(source->type);
    out.term.kind = source->kind;
    out.term.nullable = source->nullable;
    return out;
  }
  // Through hops or items: a correlated subquery used as a derived table. Zero or one row for
  // single hops (missing: NULL through the padding), any number otherwise.
  out.alias = NewAlias();
  out.subquery = "SELECT " + source->value + " AS v";
  if (source->kind == Kind::kDynamic) out.subquery += ", " + source->type + " AS k";
  out.subquery += " FROM " + Join(source->from, ", ");
  if (!source->where.empty()) out.subquery += " WHERE " + Join(source->where, " AND ");
  out.term.value = out.alias + ".v";
  if (source->kind == Kind::kDynamic) out.term.type = out.alias + ".k";
  out.term.kind = source->kind;
  out.term.nullable = true;
  out.single_row = !source->multiple;
  return out;
}

// ---- pair predicates ----------------------------------------------------------------------------

namespace {

// What the pair predicates read of a term (Term is private to the compiler).
struct TermView {
  const std::string& value;
  const std::string& type;
  Kind kind;
  bool nullable;
  const JsonValue* literal;
};

// Whether a value is the null of the language: NULL, or the empty text (null equals "").
SqlCondition Nullish(const TermView& t) {
  if (t.literal != nullptr) {
    const bool empty_text =
        t.literal->type() == JsonValue::Type::kString && t.literal->AsString().empty();
    return t.literal->IsNull() || empty_text ? True() : False();
  }
  switch (t.kind) {
    case Kind::kNull: return True();
    case Kind::kString:
      return t.nullable ? Sql("coalesce(" + t.value + ", '') = ''") : Sql(t.value + " = ''");
    case Kind::kNumber:
    case Kind::kBool: return t.nullable ? Sql(t.value + " IS NULL") : False();
    case Kind::kDynamic:
      // json_extract gives NULL for null and a missing path, and '' only for the string "".
      return Sql("coalesce(" + t.value + ", '') = ''");
  }
  return False();
}

// Whether the value is a (non-null) value of kind `kind`.
SqlCondition Is(const TermView& t, Kind kind) {
  if (t.literal != nullptr) return KindOfLiteral(*t.literal) == kind ? True() : False();
  if (t.kind == Kind::kDynamic) {
    const std::string type = "coalesce(" + t.type + ", '')";
    switch (kind) {
      case Kind::kString: return Sql(type + " = 'text'");
      case Kind::kNumber: return Sql(type + " IN ('integer', 'real')");
      case Kind::kBool: return Sql(type + " IN ('true', 'false')");
      default: return False();
    }
  }
  if (t.kind != kind) return False();
  return t.nullable ? Sql(t.value + " IS NOT NULL") : True();
}

SqlCondition Compare(const TermView& l, const TermView& r, std::string_view op) {
  SqlCondition out = False();
  for (Kind kind : {Kind::kString, Kind::kNumber, Kind::kBool}) {
    out = Or(std::move(out), And(And(Is(l, kind), Is(r, kind)),
                                 Sql(l.value + " " + std::string(op) + " " + r.value)));
  }
  return out;
}

// Null equals null and ""; otherwise values of one kind compare, and a JSON array or object
// equals nothing (not even an equal one), as Compare never admits them.
SqlCondition Equal(const TermView& l, const TermView& r) {
  return Or(And(Nullish(l), Nullish(r)), Compare(l, r, "="));
}

}  // namespace

Result<SqlCondition> SqliteFilterCompiler::Comparison(
    const domain::filter::Comparison& comparison) {
  const bool like = comparison.op == CompareOp::kLike || comparison.op == CompareOp::kNotLike;
  auto left = CompileOperand(comparison.left);
  if (!left) return Fail(left.error());
  Operand right_operand;
  if (like && comparison.right.kind == ResolvedOperand::Kind::kLiteral &&
      comparison.right.literal.type() == JsonValue::Type::kString) {
    auto pattern = PatternTerm(comparison.right.literal);
    if (!pattern) return Fail(pattern.error());
    right_operand.term = std::move(*pattern);
  } else {
    auto right = CompileOperand(comparison.right);
    if (!right) return Fail(right.error());
    right_operand = std::move(*right);
  }
  const Operand& l = *left;
  const Operand& r = right_operand;

  auto view = [](const Term& t) {
    return TermView{t.value, t.type, t.kind, t.nullable, t.literal};
  };
  // `l op r` for one pair of values.
  auto pair = [&](const Term& a, const Term& b) -> SqlCondition {
    const TermView x = view(a);
    const TermView y = view(b);
    switch (comparison.op) {
      case CompareOp::kEq: return Equal(x, y);
      case CompareOp::kNeq: return Not(Equal(x, y));
      case CompareOp::kGt: return Compare(x, y, ">");
      case CompareOp::kGte: return Compare(x, y, ">=");
      case CompareOp::kLt: return Compare(x, y, "<");
      case CompareOp::kLte: return Compare(x, y, "<=");
      case CompareOp::kLike:
      case CompareOp::kNotLike: {
        SqlCondition guard = And(Is(x, Kind::kString), Is(y, Kind::kString));
        std::string match;
        switch (b.pattern) {
          case Pattern::kLike: match = x.value + " LIKE " + y.value; break;
          case Pattern::kSubstring:
            match = "instr(lower(" + x.value + "), " + y.value + ") > 0";
            break;
          case Pattern::kNone:
            // A pattern known only at run time: the same choice, made by SQL.
            match = "(CASE WHEN instr(" + y.value + ", '%') > 0 THEN " + x.value + " LIKE " +
                    y.value + " ELSE instr(lower(" + x.value + "), lower(" + y.value +
                    ")) > 0 END)";
            break;
        }
        SqlCondition matched = And(std::move(guard), Sql(std::move(match)));
        return comparison.op == CompareOp::kLike ? matched : Not(std::move(matched));
      }
    }
    return False();
  };

  SqlCondition condition = pair(l.term, r.term);
  const bool left_set = !l.subquery.empty();
  const bool right_set = !r.subquery.empty();
  // Sets of at most one row (paths through single relations) hold one value, or none, which
  // counts as null: "some pair" and "every pair" are then the same, and the EXISTS form is the
  // one SQLite turns into a plain join.
  const bool any = comparison.any || ((!left_set || l.single_row) && (!right_set || r.single_row));
  if (!left_set && !right_set) return condition;
  // A constant pair holds for every pair, and there is always at least one pair (an empty set
  // counts as {null}).
  if (condition.kind != SqlCondition::Kind::kSql) return condition;

  // The empty set stands for {null}: a LEFT JOIN from a one-row table supplies that NULL row.
  // It is left out when the NULL row could not change the answer (a null item never matches
  // under `?`, or never fails under the plain form), so common filters stay plain joins.
  Term null_term;
  null_term.value = "NULL";
  static const JsonValue kNull;
  null_term.literal = &kNull;
  auto decided_without_null = [&](const SqlCondition& with_null) {
    return any ? with_null.kind == SqlCondition::Kind::kFalse
               : with_null.kind == SqlCondition::Kind::kTrue;
  };
  bool pad = false;
  if (left_set) pad |= !decided_without_null(pair(null_term, r.term));
  if (right_set) pad |= !decided_without_null(pair(l.term, null_term));

  std::vector<const Operand*> sets;
  if (left_set) sets.push_back(&l);
  if (right_set) sets.push_back(&r);
  std::string from;
  if (pad) {
    from = "(SELECT 1) AS " + NewAlias();
    for (const auto* set : sets) {
      from += " LEFT JOIN (" + set->subquery + ") AS " + set->alias + " ON 1";
    }
  } else {
    for (const auto* set : sets) {
      if (!from.empty()) from += ", ";
      from += "(" + set->subquery + ") AS " + set->alias;
    }
  }
  if (any) return Sql("EXISTS (SELECT 1 FROM " + from + " WHERE " + condition.sql + ")");
  return Sql("NOT EXISTS (SELECT 1 FROM " + from + " WHERE NOT " + condition.sql + ")");
}

Result<std::string> SqliteFilterCompiler::OrderBy(
    const std::vector<domain::filter::SortTerm>& sort) {
  for (const auto& term : sort) {
    if (term.random) return std::string("random()");
  }
  std::vector<std::string> keys;
  for (const auto& term : sort) {
    if (term.key.kind != ResolvedOperand::Kind::kField) {
      return Fail(ErrorCode::kInvalidArgument, "Only fields can be sorted by.");
    }
    auto source = FieldSource(term.key, /*expand_items=*/false);
    if (!source) return Fail(source.error());
    const bool items = domain::StorageClassOf(*term.key.field) == StorageClass::kTextArray &&
                       term.key.modifier != Modifier::kLength;
    if (source->multiple || items) {
      return Fail(ErrorCode::kInvalidArgument,
                  "Cannot sort by the multi-valued field " + term.key.field->name + ".");
    }
    std::vector<std::string> exprs;
    if (source->kind == Kind::kDynamic) {
      exprs.push_back(JsonKindRank(source->type));
      exprs.push_back(JsonSortValue(source->value, source->type));
    } else {
      exprs.push_back(source->value);
    }
    const std::string suffix = term.descending ? " DESC" : "";
    for (auto& expr : exprs) {
      if (source->from.empty()) {
        keys.push_back(expr + suffix);
        continue;
      }
      // Through single relations: at most one row; none (a dangling or empty relation) sorts
      // as NULL, first ascending and last descending, as SQLite orders NULLs.
      std::string scalar = "(SELECT " + expr + " FROM " + Join(source->from, ", ");
      if (!source->where.empty()) scalar += " WHERE " + Join(source->where, " AND ");
      keys.push_back(scalar + ")" + suffix);
    }
  }
  keys.push_back(root_alias_ + ".\"id\"");
  return Join(keys, ", ");
}

}  // namespace socle::adapters::sqlite
