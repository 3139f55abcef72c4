#pragma once

#include "socle/domain/json_value.hpp"
#include "socle/domain/schema_diff.hpp"

namespace socle::adapters::json {

// Values as the stores hold them, shared by the SQL stores so that they read numbers and convert
// retyped columns the same way.

/// A number in its canonical form: integral values within ±2^53 as integers, others as doubles.
domain::JsonValue CanonicalNumber(double value);

/// A stored value of a field of storage class `from`, converted for a field of class `to` (a
/// retype), by the conversion table of the stores: text → number when the whole text is a
/// finite number (else 0), number → shortest decimal text, bool ↔ "true"/"false" and 1/0, text
/// → date when it parses (else empty), anything → json as it is (the empty date as null), json
/// → text as compact JSON for arrays and objects, single ↔ multiple by wrapping or taking the
/// first item.
domain::JsonValue ConvertValue(const domain::JsonValue& value, domain::StorageClass from,
                               domain::StorageClass to);

}  // namespace socle::adapters::json
