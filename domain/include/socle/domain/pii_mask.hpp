#pragma once

#include <string>
#include <string_view>

namespace socle::domain {

// How personal data is shown to a caller without the permission to read it in clear (field-level
// permissions): enough to recognise one's own data, not enough to learn someone else's.

/// An e-mail address: the first character of the local part and of the domain's first label,
/// the rest starred, the top-level domain kept: "john.doe@example.com" → "j***@e***.com".
/// Anything that is not an address (no '@', or nothing around it) is masked as text.
std::string MaskEmail(std::string_view email);

/// A number-like value (phone, IBAN, card): every character but the last four letters or
/// digits starred, so "+33 6 12 34 56 78" → "****5678" and "FR7612345678901234" → "****1234";
/// a value of four characters or fewer becomes "****".
std::string MaskTrailing(std::string_view value);

/// Any other text: its first character (a whole UTF-8 character) and "***"; "" stays "".
std::string MaskText(std::string_view text);

}  // namespace socle::domain
