// Password policy: lengths in code points, UTF-8 validity, the embedded common-password list
// (checked against the list file it was generated from) and identity parts.
#include "socle/domain/password_policy.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace socle::domain;

namespace {

// The field error code CheckPassword gives, "" when the password is accepted.
std::string Code(std::string_view password, const PasswordPolicy& policy = {},
                 std::vector<std::string_view> identity = {}) {
  const auto result = CheckPassword(password, policy, identity);
  if (result) return "";
  // Every refusal has the same shape: invalid_argument with one error on "password".
  CHECK(result.error().code == ErrorCode::kInvalidArgument);
  REQUIRE(result.error().fields.size() == 1);
  CHECK(result.error().fields[0].field == "password");
  CHECK_FALSE(result.error().fields[0].message.empty());
  return result.error().fields[0].code;
}

std::string Message(std::string_view password, const PasswordPolicy& policy = {}) {
  const auto result = CheckPassword(password, policy);
  REQUIRE_FALSE(result);
  REQUIRE(result.error().fields.size() == 1);
  return result.error().fields[0].message;
}

std::string Repeat(std::string_view unit, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += unit;
  return out;
}

std::string AsciiLower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

}  // namespace

TEST_CASE("Password policy: accepted passwords", "[domain][password]") {
  CHECK(Code("Xk9#mQ2p") == "");
  CHECK(Code("correct horse battery staple") == "");
  CHECK(Code("tr0ub4dor&3-but-longer") == "");
  CHECK(Code(Repeat("z", 256)) == "");
}

TEST_CASE("Password policy: lengths count code points", "[domain][password]") {
  CHECK(Code("") == "validation_required");
  CHECK(Code("Xk9#mQ2") == "validation_min_text_constraint");
  CHECK(Message("Xk9#mQ2") == "Must be at least 8 character(s).");

  // 7 code points in 14 bytes are still too few; 8 in 16 bytes are enough.
  CHECK(Code(Repeat("é", 7)) == "validation_min_text_constraint");
  CHECK(Code(Repeat("é", 8)) == "");
  // Four-byte characters: 8 of them are 32 bytes and 8 characters.
  CHECK(Code(Repeat("🔑", 7)) == "validation_min_text_constraint");
  CHECK(Code(Repeat("🔑", 8)) == "");

  // The maximum too: 256 code points pass however many bytes they take, 257 do not.
  CHECK(Code(Repeat("🔑", 256)) == "");
  CHECK(Code(Repeat("🔑", 257)) == "validation_max_text_constraint");
  CHECK(Code(Repeat("é", 257)) == "validation_max_text_constraint");
  CHECK(Code(Repeat("z", 257)) == "validation_max_text_constraint");
  CHECK(Message(Repeat("z", 257)) == "Must be no more than 256 character(s).");
}

TEST_CASE("Password policy: configurable bounds", "[domain][password]") {
  const PasswordPolicy policy{.min_length = 12, .max_length = 16, .refuse_common = true};
  CHECK(Code("Xk9#mQ2pLm4", policy) == "validation_min_text_constraint");
  CHECK(Message("Xk9#mQ2pLm4", policy) == "Must be at least 12 character(s).");
  CHECK(Code("Xk9#mQ2pLm4v", policy) == "");
  CHECK(Code("Xk9#mQ2pLm4vBn7w", policy) == "");
  CHECK(Code("Xk9#mQ2pLm4vBn7wZ", policy) == "validation_max_text_constraint");
  CHECK(Message("Xk9#mQ2pLm4vBn7wZ", policy) == "Must be no more than 16 character(s).");
}

TEST_CASE("Password policy: invalid UTF-8 is refused", "[domain][password]") {
  for (const std::string& bad : {
           std::string("abcdefgh\xff"),
           std::string("abcdefg\xe2\x82"),        // truncated three-byte sequence
           std::string("abcdefgh\xc0\xaf"),       // overlong '/'
           std::string("abcdefgh\xed\xa0\x80"),   // a UTF-16 surrogate
           std::string("abcdefgh\xf4\x90\x80\x80"),  // above U+10FFFF
           std::string("\x80\x80\x80\x80\x80\x80\x80\x80"),
       }) {
    CHECK(Code(bad) == "validation_invalid_format");
  }
  // Checked before the lengths: a short invalid password is reported as invalid.
  CHECK(Code("\xff") == "validation_invalid_format");
}

TEST_CASE("Password policy: common passwords", "[domain][password]") {
  for (const std::string_view common : {
           "password", "PASSWORD", "Password", "123456789", "12345678", "iloveyou", "trustno1",
           // trailing digits and symbols are stripped before a second look
           "Password1!", "Password123!", "password2024", "Qwerty123", "qwerty!!!", "letmein99",
           "123456789!", "Password!!", "Dragon 1",
       }) {
    INFO(common);
    CHECK(IsCommonPassword(common));
    CHECK(Code(common) == "validation_common_password");
  }
  // A list word inside a longer password, or with something before it, is not the list word.
  for (const std::string_view fine : {"mypassword", "password-manager-rocks", "xqwerty123",
                                      "Xk9#mQ2p", "passw0rd-is-not-enough-here", "pässword1"}) {
    INFO(fine);
    CHECK_FALSE(IsCommonPassword(fine));
  }
  CHECK_FALSE(IsCommonPassword(""));
  CHECK_FALSE(IsCommonPassword("!!!!"));
  // Entries shorter than 4 characters are not kept, so no short word matches through them.
  CHECK_FALSE(IsCommonPassword("abc"));
  // Policy switch.
  CHECK(Code("password", PasswordPolicy{.refuse_common = false}) == "");
  CHECK(Code("Password1!", PasswordPolicy{.refuse_common = false}) == "");
  // Length is checked first: a short common password is reported as short.
  CHECK(Code("love") == "validation_min_text_constraint");
  CHECK(Code("love", PasswordPolicy{.min_length = 4}) == "validation_common_password");
}

TEST_CASE("Password policy: the embedded list", "[domain][password]") {
  const auto list = CommonPasswords();
  CHECK(list.size() > 3000);
  CHECK(std::ranges::is_sorted(list));
  CHECK(std::ranges::adjacent_find(list) == list.end());
  for (const std::string_view entry : list) {
    INFO(entry);
    CHECK(entry.size() >= 4);
    CHECK(std::ranges::none_of(entry, [](char c) { return c >= 'A' && c <= 'Z'; }));
    CHECK(std::ranges::all_of(entry, [](char c) { return c >= ' ' && c <= '~'; }));
  }
  // Spot checks: semicolons (list syntax to CMake) and other symbols came through.
  CHECK(std::ranges::binary_search(list, std::string_view("asdf;lkj")));
  CHECK(std::ranges::binary_search(list, std::string_view("!@#$%")));
  CHECK(std::ranges::binary_search(list, std::string_view("password")));
  CHECK_FALSE(std::ranges::binary_search(list, std::string_view("123")));
}

TEST_CASE("Password policy: the list holds every usable entry of the source file",
          "[domain][password]") {
  // Read independently of the generator: skip "#!comment:" lines, keep printable ASCII
  // entries of 4 or more characters, lower-case them.
  std::ifstream in(SOCLE_COMMON_PASSWORDS_FILE, std::ios::binary);
  INFO("list file: " << SOCLE_COMMON_PASSWORDS_FILE);
  REQUIRE(in.good());
  std::set<std::string> expected;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with("#!comment:") || line.size() < 4) continue;
    if (!std::ranges::all_of(line, [](char c) { return c >= ' ' && c <= '~'; })) continue;
    expected.insert(AsciiLower(line));
  }
  const auto list = CommonPasswords();
  CHECK(std::set<std::string>(list.begin(), list.end()) == expected);
  CHECK(list.size() == expected.size());
}

TEST_CASE("Password policy: identity parts", "[domain][password]") {
  const std::vector<std::string_view> email{"zephyrine.quill@example.com"};
  CHECK(Code("zephyrine.quill", {}, email) == "validation_password_contains_identity");
  CHECK(Code("Zephyrine.Quill2024", {}, email) == "validation_password_contains_identity");
  CHECK(Code("my-ZEPHYRINE.QUILL-pw", {}, email) == "validation_password_contains_identity");
  CHECK(Code("zephyrine.quill@example.com", {}, email) ==
        "validation_password_contains_identity");
  // Only the local part counts: the domain alone is not the identity.
  CHECK(Code("example.com-rocks", {}, email) == "");
  CHECK(Code("zephyrine-quill", {}, email) == "");  // not the same text

  // A username and a name; the second part matches.
  const std::vector<std::string_view> parts{"zq", "Mürrenbach"};
  CHECK(Code("Xk9-mürrenbach", {}, parts) == "validation_password_contains_identity");
  CHECK(Code("XK9-MüRRENBACH", {}, parts) == "validation_password_contains_identity");
  // Parts under 4 code points are too common inside good passwords to refuse.
  CHECK(Code("zq-Xk9#mQ2p", {}, parts) == "");
  CHECK(Code("bob-Xk9#mQ2p", {}, std::vector<std::string_view>{"bob@example.com"}) == "");
  CHECK(Code("bobo-Xk9#mQ2p", {}, std::vector<std::string_view>{"bobo@example.com"}) ==
        "validation_password_contains_identity");
  // Counted in code points: "éèêë" is 4 (8 bytes), "éè" is 2 (4 bytes).
  CHECK(Code("Xk9#éèêë-mQ2p", {}, std::vector<std::string_view>{"éèêë"}) ==
        "validation_password_contains_identity");
  CHECK(Code("Xk9#éè-mQ2p", {}, std::vector<std::string_view>{"éè"}) == "");
  // Empty parts and an empty list check nothing.
  CHECK(Code("Xk9#mQ2p", {}, std::vector<std::string_view>{"", "@example.com"}) == "");
  CHECK(Code("Xk9#mQ2p", {}, {}) == "");
  // The common-password rule comes first.
  CHECK(Code("password1", {}, std::vector<std::string_view>{"password"}) ==
        "validation_common_password");
}
