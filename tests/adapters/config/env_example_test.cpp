#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <string>

#include "socle/adapters/config/load_settings.hpp"

// .env.example is documentation that operators copy; this keeps it exactly in step with the
// settings table: no missing variable, no stale one, the real default, and a comment each.
TEST_CASE(".env.example lists exactly the settings, with their defaults", "[config]") {
  std::ifstream in(SOCLE_ENV_EXAMPLE);
  REQUIRE(in);
  std::map<std::string, std::string> listed;
  std::string line;
  std::string previous;
  while (std::getline(in, line)) {
    if (line.starts_with("SOCLE_")) {
      auto equals = line.find('=');
      REQUIRE(equals != std::string::npos);
      std::string name = line.substr(0, equals);
      INFO(name);
      CHECK(previous.starts_with("# "));  // every variable has its one-line comment
      CHECK(listed.emplace(name, line.substr(equals + 1)).second);
    } else {
      INFO(line);
      CHECK((line.empty() || line.starts_with("#")));
    }
    previous = line;
  }

  std::map<std::string, std::string> expected;
  for (const auto& s : socle::adapters::config::DescribeSettings()) {
    expected.emplace(std::string(s.env), s.default_value);
  }
  CHECK(listed == expected);
}
