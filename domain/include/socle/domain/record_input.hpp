#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/record.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::domain {

/// How the body reached the server. kForm: multipart/form-data or urlencoded, where every value
/// is a string (or an array of strings for a repeated key).
enum class InputFormat { kJson, kForm };

/// PocketBase's default size limits, applied when a field's maxSize is 0.
inline constexpr std::int64_t kDefaultJsonFieldMaxSize = std::int64_t{1} << 20;  // 1 MiB (≥ 0.28)
inline constexpr std::int64_t kDefaultEditorFieldMaxSize = std::int64_t{5} << 20;  // 5 MiB
/// A text field's maximum length in characters when its max is 0.
inline constexpr std::int64_t kDefaultTextFieldMax = 5000;

struct RecordInputOptions {
  InputFormat format = InputFormat::kJson;
  /// The instant autodate fields take (on create: onCreate fields; on update: onUpdate fields).
  Timestamp now;
  /// Parses JSON text. PocketBase turns a string given to a json field into the value it spells
  /// when it starts like JSON ('[', '{', '"', a digit or '-') and parses ("[1,2]" → [1,2]), and
  /// reads a string containing '[' given to a select/relation/file field as a JSON array of
  /// strings. The domain has no JSON parser, so the adapter that owns one passes it here. Left
  /// empty, such strings are kept as plain strings ("[1,2]" stays the string "[1,2]"); "true",
  /// "false", "null" and decimal numbers are recognised without it.
  std::function<Result<JsonValue>(std::string_view)> parse_json;
  /// Generates a value from a text field's autogeneratePattern. Called on create for every text
  /// field with a pattern whose value is still empty after the input (the id field first of
  /// all). Left empty, such fields stay empty (and a required one fails validation).
  std::function<std::string(const Field&)> autogenerate;
  /// Names of the files accepted as uploads of this request (the file storage work puts them in
  /// the body under their field's key). Any other name a file field gets that its stored value
  /// did not already hold is refused ("validation_invalid_file"), as PocketBase refuses plain
  /// strings as new files.
  std::vector<std::string> new_file_names;
};

/// Applies `body` (a JSON object) to `base` (EmptyRecord() for a create, the stored record for
/// an update) and validates the result, PocketBase-style:
///
/// - keys are field names; unknown keys are ignored, as PocketBase ignores them. Modifiers:
///   "name+" appends to a select/relation/file field or adds to a number, "+name" prepends,
///   "name-" removes items or subtracts. Plain keys are applied first, then "+name", "name+"
///   and "name-" (PocketBase applies the keys of its body map in no defined order).
/// - values are coerced to the canonical form of record.hpp as PocketBase's casts do:
///   text-like fields take strings, numbers ("1.5") and booleans ("true"); arrays and objects
///   become ""; numbers come from numbers, numeric strings (in JSON bodies too), booleans (1/0)
///   and anything else becomes 0; booleans come from true/false, numbers (≠ 0) and the strings
///   "1", "t", "T", "TRUE", "true", "True" (and the false spellings), anything else is false;
///   dates from "YYYY-MM-DD[ T]HH:MM[:SS[.frac]][Z|±HH:MM|±HHMM]" or "YYYY-MM-DD", converted to
///   UTC, and anything unparsable becomes "" (PocketBase stores it as an empty date without
///   an error); select/relation/file values from a string or an array of strings (empty items
///   and repeats dropped, order kept; a single-valued field keeps the last one); json fields
///   take any value (strings normalised as described at parse_json). In kForm a text-like,
///   number, bool or date field given several values (a repeated key) takes the last one.
/// - "id" is accepted on create only (and on update when equal to the stored id); autodate
///   fields take `options.now` and never an input value; password fields are left untouched
///   (the authentication work handles them).
/// - then every field is validated and ALL problems are returned together as field errors
///   keyed by field name, with PocketBase's codes and messages: validation_required,
///   validation_min_text_constraint, validation_max_text_constraint, validation_invalid_format,
///   validation_pk_forbidden, validation_pk_change, validation_not_a_number,
///   validation_only_int_constraint, validation_min_number_constraint,
///   validation_max_number_constraint, validation_is_email, validation_email_domain_not_allowed,
///   validation_invalid_url, validation_url_domain_not_allowed,
///   validation_min_greater_equal_than_required and validation_max_less_equal_than_required
///   (dates), validation_too_many_values, validation_not_enough_values, validation_invalid_value,
///   validation_missing_rel_records (malformed relation ids; whether the records exist is the
///   records use case's check against the store), validation_too_many_files,
///   validation_invalid_file, validation_content_size_limit, validation_json_size_limit.
///
/// Text patterns are compiled with std::regex (ECMAScript) on every call and searched in the
/// value as PocketBase's regexp.MatchString does (anchor them with ^ and $ to match the whole
/// value); a compiled pattern costs microseconds, small beside a request's I/O.
/// invalid_argument with field errors; internal if `base` does not fit `c`. Thread-safe.
Result<Record> ApplyRecordInput(const Collection& c, Record base, const JsonValue& body,
                                bool creating, const RecordInputOptions& options);

/// The canonical date string ("YYYY-MM-DD HH:MM:SS.mmmZ") of `text` in any accepted input
/// format (see ApplyRecordInput), or nullopt.
std::optional<std::string> NormalizeDateInput(std::string_view text);

}  // namespace socle::domain
