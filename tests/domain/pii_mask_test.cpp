#include "socle/domain/pii_mask.hpp"

#include <catch2/catch.hpp>

using namespace socle::domain;

TEST_CASE("PII masks keep just enough to recognise one's own data", "[domain][pii]") {
  CHECK(MaskEmail("john.doe@example.com") == "j***@e***.com");
  CHECK(MaskEmail("a@b.co.uk") == "a***@b***.uk");
  CHECK(MaskEmail("élise@exemple.fr") == "é***@e***.fr");  // a whole UTF-8 character kept
  CHECK(MaskEmail("root@localhost") == "r***@l***");
  CHECK(MaskEmail("not-an-address") == "n***");
  CHECK(MaskEmail("@example.com") == "@***");
  CHECK(MaskEmail("") == "");

  CHECK(MaskTrailing("+33 6 12 34 56 78") == "****5678");
  CHECK(MaskTrailing("FR7612345678901234") == "****1234");
  CHECK(MaskTrailing("4111-1111-1111-1111") == "****1111");
  CHECK(MaskTrailing("1234") == "****");
  CHECK(MaskTrailing("") == "****");

  CHECK(MaskText("Dupont") == "D***");
  CHECK(MaskText("Ørsted") == "Ø***");
  CHECK(MaskText("") == "");

  // The masked forms never contain what they hide.
  for (const std::string secret : {"john.doe@example.com", "FR7612345678901234"}) {
    CHECK(MaskEmail(secret).find("doe") == std::string::npos);
    CHECK(MaskTrailing(secret).find("76123456789") == std::string::npos);
  }
}
