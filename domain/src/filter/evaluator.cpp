#include "socle/domain/filter/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>
#include <unordered_set>
#include <utility>

namespace socle::domain::filter {
namespace {

char AsciiLower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// The number of bytes of the UTF-8 character starting at s[i], judged by its lead byte and
// bounded by the string (a stray continuation byte counts as one character), so that `_`
// and `%` step over whole characters as SQL's LIKE does.
std::size_t CharLength(std::string_view s, std::size_t i) noexcept {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t length = 1;
  if (lead >= 0xF0) {
    length = 4;
  } else if (lead >= 0xE0) {
    length = 3;
  } else if (lead >= 0xC0) {
    length = 2;
  }
  return std::min(length, s.size() - i);
}

// LIKE with % and _, ASCII case-insensitive, no escape character. Iterative with a single
// backtracking point (the last %), so O(|subject| * |pattern|) at worst and no recursion.
bool LikeWildcards(std::string_view subject, std::string_view pattern) noexcept {
  std::size_t s = 0;
  std::size_t p = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_s = 0;
  while (s < subject.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_s = s;
      continue;
    }
    if (p < pattern.size() && pattern[p] == '_') {
      s += CharLength(subject, s);
      ++p;
      continue;
    }
    if (p < pattern.size() && AsciiLower(pattern[p]) == AsciiLower(subject[s])) {
      ++s;
      ++p;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    star_s += CharLength(subject, star_s);
    s = star_s;
    p = star_p;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

// Case-insensitive (ASCII) substring search. UTF-8 is self-synchronising, so a byte match of
// a well-formed needle always starts on a character boundary.
bool ContainsIgnoringAsciiCase(std::string_view haystack, std::string_view needle) noexcept {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t start = 0; start + needle.size() <= haystack.size(); ++start) {
    std::size_t k = 0;
    while (k < needle.size() && AsciiLower(haystack[start + k]) == AsciiLower(needle[k])) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

bool Equal(const JsonValue& a, const JsonValue& b) noexcept {
  using Type = JsonValue::Type;
  if (a.IsNull()) return b.IsNull() || (b.type() == Type::kString && b.AsString().empty());
  if (b.IsNull()) return a.type() == Type::kString && a.AsString().empty();
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kBool: return a.AsBool() == b.AsBool();
    case Type::kNumber: return a.AsDouble() == b.AsDouble();
    case Type::kString: return a.AsString() == b.AsString();
    default: return false;  // arrays and objects equal nothing
  }
}

// -1, 0, 1, or 2 when the two values are not ordered (different kinds, null, arrays ...).
int Order(const JsonValue& a, const JsonValue& b) noexcept {
  using Type = JsonValue::Type;
  if (a.type() != b.type()) return 2;
  switch (a.type()) {
    case Type::kBool: return static_cast<int>(a.AsBool()) - static_cast<int>(b.AsBool());
    case Type::kNumber:
      if (a.AsDouble() < b.AsDouble()) return -1;
      if (a.AsDouble() > b.AsDouble()) return 1;
      return a.AsDouble() == b.AsDouble() ? 0 : 2;  // NaN is unordered
    case Type::kString: {
      const int c = a.AsString().compare(b.AsString());  // char_traits<char>: unsigned bytes
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    default: return 2;
  }
}

bool Like(const JsonValue& subject, const JsonValue& pattern) noexcept {
  return subject.type() == JsonValue::Type::kString &&
         pattern.type() == JsonValue::Type::kString &&
         LikeMatch(subject.AsString(), pattern.AsString());
}

JsonValue Lowered(const JsonValue& value) {
  if (value.type() != JsonValue::Type::kString) return value;
  std::string text = value.AsString();
  for (char& c : text) c = AsciiLower(c);
  return JsonValue::String(std::move(text));
}

std::int64_t LengthOf(const JsonValue& value) noexcept {
  switch (value.type()) {
    case JsonValue::Type::kArray: return static_cast<std::int64_t>(value.items().size());
    case JsonValue::Type::kNull: return 0;
    case JsonValue::Type::kString: return value.AsString().empty() ? 0 : 1;
    default: return 1;
  }
}

const JsonValue& NullValue() noexcept {
  static const JsonValue kNull;
  return kNull;
}

// The value of `field` (a pointer into collection.fields) in `record`, or null.
const JsonValue& FieldValue(const Collection& collection, const Field* field,
                            const Record& record) noexcept {
  std::size_t index = collection.fields.size();
  const Field* first = collection.fields.data();
  if (field >= first && field < first + collection.fields.size()) {
    index = static_cast<std::size_t>(field - first);
  } else if (auto found = collection.FieldIndex(field->name)) {
    index = *found;
  }
  return index < record.values.size() ? record.values[index] : NullValue();
}

bool ContainsId(const JsonValue& value, std::string_view id) noexcept {
  if (value.type() == JsonValue::Type::kString) return value.AsString() == id;
  if (value.type() != JsonValue::Type::kArray) return false;
  for (const auto& item : value.items()) {
    if (item.type() == JsonValue::Type::kString && item.AsString() == id) return true;
  }
  return false;
}

// The records one hop leads to from `from`, without duplicates (duplicates change no
// comparison, and dropping them keeps chains of multiple relations from multiplying).
std::vector<const Record*> Follow(const Hop& hop, const std::vector<const Record*>& from,
                                  const RecordSource& source) {
  std::vector<const Record*> next;
  std::unordered_set<const Record*> seen;
  auto add = [&](const Record* record) {
    if (record != nullptr && seen.insert(record).second) next.push_back(record);
  };
  if (!hop.back) {
    for (const Record* record : from) {
      const JsonValue& value = FieldValue(*hop.from, hop.relation, *record);
      if (value.type() == JsonValue::Type::kString) {
        if (!value.AsString().empty()) add(source.FindById(*hop.to, value.AsString()));
      } else if (value.type() == JsonValue::Type::kArray) {
        for (const auto& id : value.items()) {
          if (id.type() == JsonValue::Type::kString && !id.AsString().empty()) {
            add(source.FindById(*hop.to, id.AsString()));
          }
        }
      }
    }
    return next;
  }
  const std::vector<const Record*> candidates = source.All(*hop.to);
  for (const Record* record : from) {
    const std::string& id = record->Id(*hop.from);
    if (id.empty()) continue;
    for (const Record* candidate : candidates) {
      if (ContainsId(FieldValue(*hop.to, hop.relation, *candidate), id)) add(candidate);
    }
  }
  return next;
}

const JsonValue* JsonPath(const JsonValue& root, const std::vector<std::string>& path) noexcept {
  const JsonValue* current = &root;
  for (const auto& key : path) {
    if (current->type() == JsonValue::Type::kObject) {
      current = current->Find(key);
    } else if (current->type() == JsonValue::Type::kArray) {
      std::size_t index = 0;
      bool numeric = !key.empty() && key.size() <= 9;
      for (const char c : key) {
        if (c < '0' || c > '9') {
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

void AppendFieldValues(const ResolvedOperand& operand, const JsonValue& value,
                       std::vector<JsonValue>& out) {
  if (operand.field != nullptr && operand.field->type == FieldType::kJson) {
    const JsonValue* found = JsonPath(value, operand.json_path);
    out.push_back(found != nullptr ? *found : JsonValue());
    return;
  }
  if (operand.modifier == Modifier::kLength) {
    out.push_back(JsonValue::Integer(LengthOf(value)));
    return;
  }
  const bool lower = operand.modifier == Modifier::kLower;
  if (value.type() == JsonValue::Type::kArray) {
    for (const auto& item : value.items()) out.push_back(lower ? Lowered(item) : item);
    return;
  }
  out.push_back(lower ? Lowered(value) : value);
}

std::vector<JsonValue> GeoDistanceValues(const ResolvedOperand& operand, const Record& record,
                                         const std::vector<const Record*>& joined,
                                         const RecordSource& source) {
  if (operand.args.size() != 4) return {JsonValue()};
  double numbers[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto values = OperandValues(operand.args[i], record, joined, source);
    if (values.size() != 1 || values[0].type() != JsonValue::Type::kNumber) return {JsonValue()};
    numbers[i] = values[0].AsDouble();
  }
  return {JsonValue::Number(GeoDistanceKm(numbers[0], numbers[1], numbers[2], numbers[3]))};
}

bool EvaluateCondition(const Condition& condition, const Record& record,
                       const std::vector<const Record*>& joined, const RecordSource& source) {
  switch (condition.kind) {
    case Condition::Kind::kTrue: return true;
    case Condition::Kind::kFalse: return false;
    case Condition::Kind::kAnd:
      for (const auto& child : condition.children) {
        if (!EvaluateCondition(child, record, joined, source)) return false;
      }
      return true;
    case Condition::Kind::kOr:
      for (const auto& child : condition.children) {
        if (EvaluateCondition(child, record, joined, source)) return true;
      }
      return false;
    case Condition::Kind::kCompare: {
      const Comparison& c = condition.compare;
      const auto left = OperandValues(c.left, record, joined, source);
      const auto right = OperandValues(c.right, record, joined, source);
      return CompareSets(left, c.op, c.any, right);
    }
  }
  return false;
}

}  // namespace

bool LikeMatch(std::string_view subject, std::string_view pattern) noexcept {
  if (pattern.find('%') != std::string_view::npos) return LikeWildcards(subject, pattern);
  return ContainsIgnoringAsciiCase(subject, pattern);
}

bool CompareValues(const JsonValue& left, CompareOp op, const JsonValue& right) noexcept {
  switch (op) {
    case CompareOp::kEq: return Equal(left, right);
    case CompareOp::kNeq: return !Equal(left, right);
    case CompareOp::kLike: return Like(left, right);
    case CompareOp::kNotLike: return !Like(left, right);
    case CompareOp::kGt: return Order(left, right) == 1;
    case CompareOp::kGte: {
      const int o = Order(left, right);
      return o == 1 || o == 0;
    }
    case CompareOp::kLt: return Order(left, right) == -1;
    case CompareOp::kLte: {
      const int o = Order(left, right);
      return o == -1 || o == 0;
    }
  }
  return false;
}

bool CompareSets(std::span<const JsonValue> left, CompareOp op, bool any,
                 std::span<const JsonValue> right) noexcept {
  if (left.empty()) left = std::span<const JsonValue>(&NullValue(), 1);
  if (right.empty()) right = std::span<const JsonValue>(&NullValue(), 1);
  for (const auto& l : left) {
    for (const auto& r : right) {
      if (CompareValues(l, op, r) == any) return any;
    }
  }
  return !any;
}

double GeoDistanceKm(double lon_a, double lat_a, double lon_b, double lat_b) noexcept {
  constexpr double kEarthRadiusKm = 6371;
  constexpr double kRadians = std::numbers::pi / 180;
  const double phi_a = lat_a * kRadians;
  const double phi_b = lat_b * kRadians;
  const double half_dphi = (phi_b - phi_a) / 2;
  const double half_dlambda = (lon_b - lon_a) * kRadians / 2;
  const double a = std::sin(half_dphi) * std::sin(half_dphi) +
                   std::cos(phi_a) * std::cos(phi_b) * std::sin(half_dlambda) *
                       std::sin(half_dlambda);
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(std::min(1.0, a)));
}

int CompareForSort(const JsonValue& a, const JsonValue& b) noexcept {
  auto rank = [](const JsonValue& v) {
    switch (v.type()) {
      case JsonValue::Type::kNull: return 0;
      case JsonValue::Type::kBool: return 1;
      case JsonValue::Type::kNumber: return 2;
      case JsonValue::Type::kString: return 3;
      case JsonValue::Type::kArray: return 4;
      case JsonValue::Type::kObject: return 5;
    }
    return 5;
  };
  const int ra = rank(a);
  const int rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  const int o = Order(a, b);
  return o == 2 ? 0 : o;
}

std::vector<JsonValue> OperandValues(const ResolvedOperand& operand, const Record& record,
                                     const std::vector<const Record*>& joined,
                                     const RecordSource& source) {
  switch (operand.kind) {
    case ResolvedOperand::Kind::kLiteral:
      if (operand.literal.type() == JsonValue::Type::kArray) return operand.literal.items();
      return {operand.literal};
    case ResolvedOperand::Kind::kGeoDistance:
      return GeoDistanceValues(operand, record, joined, source);
    case ResolvedOperand::Kind::kField: break;
  }
  if (operand.field == nullptr || operand.collection == nullptr) return {};
  const Record* start = &record;
  if (operand.join >= 0) {
    const auto index = static_cast<std::size_t>(operand.join);
    start = index < joined.size() ? joined[index] : nullptr;
  }
  std::vector<JsonValue> out;
  if (start == nullptr) return out;  // the null row of an empty joined collection
  if (operand.hops.empty()) {
    AppendFieldValues(operand, FieldValue(*operand.collection, operand.field, *start), out);
    return out;
  }
  std::vector<const Record*> records{start};
  for (const auto& hop : operand.hops) {
    records = Follow(hop, records, source);
    if (records.empty()) return out;
  }
  for (const Record* reached : records) {
    AppendFieldValues(operand, FieldValue(*operand.collection, operand.field, *reached), out);
  }
  return out;
}

bool Evaluate(const ResolvedFilter& filter, const Record& record, const RecordSource& source) {
  const std::size_t count = filter.joins.size();
  if (count == 0 || filter.condition.kind == Condition::Kind::kTrue ||
      filter.condition.kind == Condition::Kind::kFalse) {
    return EvaluateCondition(filter.condition, record, {}, source);
  }
  // Every combination of rows of the joined collections, an empty collection contributing
  // one null row (LEFT JOIN semantics); the filter holds if one combination satisfies it.
  std::vector<std::vector<const Record*>> rows(count);
  for (std::size_t j = 0; j < count; ++j) {
    if (filter.joins[j].collection != nullptr) rows[j] = source.All(*filter.joins[j].collection);
    if (rows[j].empty()) rows[j].push_back(nullptr);
  }
  std::vector<std::size_t> at(count, 0);
  std::vector<const Record*> joined(count);
  while (true) {
    for (std::size_t j = 0; j < count; ++j) joined[j] = rows[j][at[j]];
    if (EvaluateCondition(filter.condition, record, joined, source)) return true;
    std::size_t j = 0;
    while (j < count && ++at[j] == rows[j].size()) at[j++] = 0;
    if (j == count) return false;
  }
}

}  // namespace socle::domain::filter
