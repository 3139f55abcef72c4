#include "socle/domain/url.hpp"

#include <catch2/catch.hpp>

using socle::domain::RedactUrlPassword;

TEST_CASE("the password of a URL's credentials is hidden", "[domain][url]") {
  CHECK(RedactUrlPassword("postgres://socle:secret@db:5432/socle") ==
        "postgres://socle:***@db:5432/socle");
  CHECK(RedactUrlPassword("postgresql://u:p@h/x?sslmode=require") ==
        "postgresql://u:***@h/x?sslmode=require");
  // A password with an unescaped '@' or '?' is hidden whole, never in part.
  CHECK(RedactUrlPassword("postgres://u:p@ss@h/x") == "postgres://u:***@h/x");
  CHECK(RedactUrlPassword("postgres://u:p?ss@h/x") == "postgres://u:***@h/x");
}

TEST_CASE("every password query parameter is hidden", "[domain][url]") {
  CHECK(RedactUrlPassword("postgres://h/x?user=u&password=secret&sslmode=require") ==
        "postgres://h/x?user=u&password=***&sslmode=require");
  CHECK(RedactUrlPassword("postgres://h/x?password=a&password=b") ==
        "postgres://h/x?password=***&password=***");
  CHECK(RedactUrlPassword("postgres://u:p@h/x?password=q") == "postgres://u:***@h/x?password=***");
}

TEST_CASE("a URL without a password is unchanged", "[domain][url]") {
  for (const char* url : {"", "postgres://", "postgres://db:5432/socle", "postgres://u@db/socle",
                          "sqlite://data/catalogue.db", "memory://", "not a url"}) {
    CHECK(RedactUrlPassword(url) == url);
  }
}
