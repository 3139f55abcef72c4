#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "socle/domain/filter/ast.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/record.hpp"

namespace socle::domain::filter {

/// Where the evaluator finds the records a path or join leads to.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  /// The record of `collection` with this id, or nullptr.
  virtual const Record* FindById(const Collection& collection, std::string_view id) const = 0;
  /// Every record of `collection` (for back-relations and @collection joins).
  virtual std::vector<const Record*> All(const Collection& collection) const = 0;
};

/// Evaluates a resolved filter against one record of filter.collection, in memory, with the
/// semantics documented in ast.hpp: the same answers the SQL stores give.
bool Evaluate(const ResolvedFilter& filter, const Record& record, const RecordSource& source);

/// The values an operand yields for `record` (the set of ast.hpp; empty sets stay empty here).
/// For a join operand (join >= 0) the caller supplies the joined rows in `joined`.
std::vector<JsonValue> OperandValues(const ResolvedOperand& operand, const Record& record,
                                     const std::vector<const Record*>& joined,
                                     const RecordSource& source);

/// The order of sort keys: null first, then false < true, numbers, then strings bytewise.
/// Negative, zero or positive like strcmp.
int CompareForSort(const JsonValue& a, const JsonValue& b) noexcept;

/// `left op right` for two single values, with the semantics of ast.hpp (null equals null and
/// "", kinds never equal across, null never ordered, `~` only between strings).
bool CompareValues(const JsonValue& left, CompareOp op, const JsonValue& right) noexcept;

/// A whole comparison between two value sets (an empty set counts as {null}): some pair
/// satisfies `op` when `any`, every pair otherwise.
bool CompareSets(std::span<const JsonValue> left, CompareOp op, bool any,
                 std::span<const JsonValue> right) noexcept;

/// `subject ~ pattern`: ASCII case-insensitive; with a `%` in the pattern, `%` and `_` are
/// wildcards (LIKE), otherwise the pattern is searched as a substring.
bool LikeMatch(std::string_view subject, std::string_view pattern) noexcept;

/// geoDistance(): the haversine distance in kilometres between two points given in degrees,
/// with the formula spelled out in ast.hpp.
double GeoDistanceKm(double lon_a, double lat_a, double lon_b, double lat_b) noexcept;

}  // namespace socle::domain::filter
