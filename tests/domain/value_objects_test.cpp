#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "socle/domain/display_name.hpp"
#include "socle/domain/email.hpp"
#include "socle/domain/id.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/slug.hpp"

using namespace socle::domain;

TEST_CASE("Slug accepts well-formed slugs", "[domain][slug]") {
  for (const char* text : {"ab", "acme", "acme-corp", "a1", "city-of-lyon-2024",
                           "a23456789012345678901234567890123456789012345678901234567890123"}) {
    auto slug = Slug::Parse(text);
    INFO(text);
    REQUIRE(slug);
    CHECK(slug->str() == text);
  }
}

TEST_CASE("Slug rejects malformed slugs with a field error", "[domain][slug]") {
  struct Case {
    std::string text;
    std::string code;
  };
  for (const auto& c : {Case{"", "validation_required"},
                        Case{"a", "validation_length_out_of_range"},
                        Case{std::string(64, 'a'), "validation_length_out_of_range"},
                        Case{"1abc", "validation_invalid_slug"},
                        Case{"-abc", "validation_invalid_slug"},
                        Case{"Acme", "validation_invalid_slug"},
                        Case{"ac me", "validation_invalid_slug"},
                        Case{"acme_corp", "validation_invalid_slug"},
                        Case{"acme-", "validation_invalid_slug"},
                        Case{"ac--me", "validation_invalid_slug"},
                        Case{"acm\xc3\xa9", "validation_invalid_slug"},
                        Case{std::string("ac\0me", 5), "validation_invalid_slug"},
                        Case{"../etc", "validation_invalid_slug"}}) {
    INFO(c.text);
    auto slug = Slug::Parse(c.text);
    REQUIRE_FALSE(slug);
    CHECK(slug.error().code == ErrorCode::kInvalidArgument);
    REQUIRE(slug.error().fields.size() == 1);
    CHECK(slug.error().fields[0].field == "slug");
    CHECK(slug.error().fields[0].code == c.code);
  }
}

TEST_CASE("Id parses exactly 15 lowercase alphanumerics", "[domain][id]") {
  CHECK(Id::Parse("abcdefghij12345"));
  CHECK_FALSE(Id::Parse("abcdefghij1234"));
  CHECK_FALSE(Id::Parse("abcdefghij123456"));
  CHECK_FALSE(Id::Parse("ABCDEFGHIJ12345"));
  CHECK_FALSE(Id::Parse("abcdefghij1234_"));
  CHECK_FALSE(Id::Parse(""));
  CHECK(Id::Parse("abc").error().fields.at(0).field == "id");
}

TEST_CASE("Id::FromRandom is uniform and rejects biased bytes", "[domain][id]") {
  SECTION("bytes >= 252 are skipped") {
    int calls = 0;
    auto id = Id::FromRandom([&]() -> std::uint8_t {
      ++calls;
      return calls % 2 == 1 ? 255 : 0;  // every other byte is rejected
    });
    CHECK(id.str() == std::string(15, 'a'));
    CHECK(calls == 30);
  }
  SECTION("every alphabet letter is reachable and ids parse back") {
    std::uint8_t next = 0;
    std::set<char> seen;
    for (int i = 0; i < 20; ++i) {
      auto id = Id::FromRandom([&] { return next++; });
      for (char c : id.str()) seen.insert(c);
      CHECK(Id::Parse(id.str()));
    }
    CHECK(seen.size() == Id::kAlphabet.size());
  }
}

TEST_CASE("Email validates shape and lower-cases the domain", "[domain][email]") {
  auto ok = Email::Parse("Jane.Doe+tag@Example.COM");
  REQUIRE(ok);
  CHECK(ok->str() == "Jane.Doe+tag@example.com");
  CHECK(Email::Parse("a@b.co"));
  CHECK(Email::Parse("user@sub.domain-name.eu"));
  for (const char* bad : {"", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a b@c.com",
                          ".a@b.com", "a.@b.com", "a..b@c.com", "a@-b.com", "a@b-.com",
                          "a@b..com", "a@b.com.", "a@b_c.com"}) {
    INFO(bad);
    auto e = Email::Parse(bad);
    REQUIRE_FALSE(e);
    CHECK(e.error().fields.at(0).field == "email");
  }
  CHECK_FALSE(Email::Parse(std::string(65, 'a') + "@b.com"));
  CHECK_FALSE(Email::Parse("a@" + std::string(250, 'b') + ".com"));
}

TEST_CASE("DisplayName trims, counts code points and refuses control characters",
          "[domain][name]") {
  auto name = DisplayName::Parse("  Syndic Dupont & Fils  ");
  REQUIRE(name);
  CHECK(name->str() == "Syndic Dupont & Fils");
  CHECK(DisplayName::Parse("Copropri\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8f\xa0"));
  CHECK(DisplayName::Parse(std::string(200, 'x')));
  // 200 two-byte characters are 400 bytes but still 200 characters
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";
  CHECK(DisplayName::Parse(accents));
  CHECK(DisplayName::Parse(std::string(201, 'x')).error().fields.at(0).code ==
        "validation_length_out_of_range");
  CHECK(DisplayName::Parse("   ").error().fields.at(0).code == "validation_required");
  CHECK(DisplayName::Parse("a\nb").error().fields.at(0).code == "validation_invalid_characters");
  CHECK(DisplayName::Parse("a\x7f").error().fields.at(0).code == "validation_invalid_characters");
  for (const char* bad : {"\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "a\x80"}) {
    INFO(bad);
    CHECK(DisplayName::Parse(bad).error().fields.at(0).code == "validation_invalid_utf8");
  }
}

TEST_CASE("Utf8Length", "[domain][name]") {
  CHECK(Utf8Length("") == 0);
  CHECK(Utf8Length("abc") == 3);
  CHECK(Utf8Length("\xe2\x82\xac") == 1);
  CHECK(Utf8Length("\xf0\x9f\x8f\xa0!") == 2);
  CHECK(Utf8Length("\xe2\x82") == -1);
}

TEST_CASE("PageRequest bounds", "[domain][page]") {
  CHECK(PageRequest::Make(1, 30));
  CHECK(PageRequest::Make(3, 1000)->Offset() == 2000);
  CHECK(PageRequest::Make(0, 30).error().fields.at(0).field == "page");
  CHECK(PageRequest::Make(-5, 30).error().fields.at(0).field == "page");
  CHECK(PageRequest::Make(1, 0).error().fields.at(0).field == "perPage");
  CHECK(PageRequest::Make(1, 1001).error().fields.at(0).field == "perPage");
  PageOf<int> p;
  p.per_page = 20;
  p.total_items = 41;
  CHECK(p.TotalPages() == 3);
  p.total_items = 0;
  CHECK(p.TotalPages() == 0);
}
