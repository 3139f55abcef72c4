#include <catch2/catch.hpp>

#include <string>

#include "socle/domain/filter/parser.hpp"

using namespace socle::domain;
using namespace socle::domain::filter;

namespace {

Expr MustParse(std::string_view text) {
  auto expr = Parse(text);
  INFO(text);
  if (!expr) FAIL(expr.error().message);
  return std::move(*expr);
}

std::string ErrorOf(std::string_view text, const ParseLimits& limits = {}) {
  auto expr = Parse(text, limits);
  if (expr) return "(parsed)";
  CHECK(expr.error().code == ErrorCode::kInvalidArgument);
  return expr.error().message;
}

}  // namespace

TEST_CASE("Parse reads a comparison with positions", "[domain][filter][parser]") {
  const Expr e = MustParse("title = \"x\"");
  REQUIRE(e.kind == Expr::Kind::kCompare);
  CHECK(e.op == CompareOp::kEq);
  CHECK_FALSE(e.any);
  CHECK(e.position == 6);
  CHECK(e.left.kind == Operand::Kind::kIdentifier);
  CHECK(e.left.text == "title");
  CHECK(e.left.position == 0);
  CHECK(e.right.kind == Operand::Kind::kString);
  CHECK(e.right.text == "x");
  CHECK(e.right.position == 8);
}

TEST_CASE("Parse knows every operator and its any-of form", "[domain][filter][parser]") {
  struct Case {
    const char* spelled;
    CompareOp op;
  };
  for (const auto& c : {Case{"=", CompareOp::kEq}, Case{"!=", CompareOp::kNeq},
                        Case{">", CompareOp::kGt}, Case{">=", CompareOp::kGte},
                        Case{"<", CompareOp::kLt}, Case{"<=", CompareOp::kLte},
                        Case{"~", CompareOp::kLike}, Case{"!~", CompareOp::kNotLike}}) {
    for (const bool any : {false, true}) {
      const std::string text = std::string("a ") + (any ? "?" : "") + c.spelled + " 1";
      const Expr e = MustParse(text);
      INFO(text);
      CHECK(e.op == c.op);
      CHECK(e.any == any);
      CHECK(std::string(ToString(e.op)) == c.spelled);
    }
  }
  // No spaces needed, and a minus after an operator starts a number.
  const Expr e = MustParse("views>=-1.5");
  CHECK(e.op == CompareOp::kGte);
  CHECK(e.right.kind == Operand::Kind::kNumber);
  CHECK(e.right.number == -1.5);
}

TEST_CASE("Parse: && binds tighter than ||, parentheses group", "[domain][filter][parser]") {
  const Expr e = MustParse("a = 1 || b = 2 && c = 3");
  REQUIRE(e.kind == Expr::Kind::kOr);
  REQUIRE(e.children.size() == 2);
  CHECK(e.children[0].kind == Expr::Kind::kCompare);
  REQUIRE(e.children[1].kind == Expr::Kind::kAnd);
  CHECK(e.children[1].children[0].left.text == "b");
  CHECK(e.children[1].children[1].left.text == "c");

  const Expr g = MustParse("(a = 1 || b = 2) && c = 3");
  REQUIRE(g.kind == Expr::Kind::kAnd);
  CHECK(g.children[0].kind == Expr::Kind::kOr);
  CHECK(g.children[1].left.text == "c");

  const Expr chain = MustParse("a = 1 && b = 2 && c = 3 && d = 4");
  REQUIRE(chain.kind == Expr::Kind::kAnd);
  CHECK(chain.children.size() == 4);

  const Expr nested = MustParse("((((a = 1))))");
  CHECK(nested.kind == Expr::Kind::kCompare);
}

TEST_CASE("Parse decodes strings, numbers and keywords", "[domain][filter][parser]") {
  CHECK(MustParse(R"(a = 'it\'s')").right.text == "it's");
  CHECK(MustParse(R"(a = "say \"hi\"")").right.text == "say \"hi\"");
  CHECK(MustParse(R"(a = "it's")").right.text == "it's");
  CHECK(MustParse(R"(a = 'back\\slash')").right.text == "back\\slash");
  CHECK(MustParse(R"(a = "50\%")").right.text == "50\\%");  // other escapes stay as written
  CHECK(MustParse("a = \"caf\xC3\xA9\"").right.text == "caf\xC3\xA9");
  CHECK(MustParse("a = \"\"").right.text.empty());
  CHECK(MustParse("a = \"two\nlines\"").right.text == "two\nlines");

  struct Number {
    const char* text;
    double value;
  };
  for (const auto& n : {Number{"12", 12}, Number{"-3.5", -3.5}, Number{"1e3", 1000},
                        Number{"2.5E-2", 0.025}, Number{"0", 0}, Number{"-0", 0},
                        Number{"007", 7}, Number{"1E+2", 100}}) {
    const Expr e = MustParse(std::string("a = ") + n.text);
    INFO(n.text);
    CHECK(e.right.kind == Operand::Kind::kNumber);
    CHECK(e.right.number == n.value);
    CHECK(e.right.text == n.text);
  }

  CHECK(MustParse("a = true").right.kind == Operand::Kind::kBool);
  CHECK(MustParse("a = true").right.boolean);
  CHECK_FALSE(MustParse("a = FALSE").right.boolean);
  CHECK(MustParse("a = False").right.kind == Operand::Kind::kBool);
  CHECK(MustParse("a = null").right.kind == Operand::Kind::kNull);
  CHECK(MustParse("null = a").left.kind == Operand::Kind::kNull);
  // A keyword with a modifier is an identifier.
  CHECK(MustParse("a = true:lower").right.kind == Operand::Kind::kIdentifier);
}

TEST_CASE("Parse keeps identifiers as written", "[domain][filter][parser]") {
  for (const char* identifier :
       {"@request.auth.id", "@request.body.title:isset", "@collection.users:alias.name",
        "author.profile.name", "comments_via_post.title", "data.a.b", "data.0.name",
        "tags:length", "_private", "@now", "@request.headers.x_token", "a1.b2:each"}) {
    const Expr e = MustParse(std::string(identifier) + " = 1");
    INFO(identifier);
    CHECK(e.left.kind == Operand::Kind::kIdentifier);
    CHECK(e.left.text == identifier);
  }
}

TEST_CASE("Parse reads function calls", "[domain][filter][parser]") {
  const Expr e = MustParse("geoDistance(lon, data.lat, 1.5, -2) < 25");
  REQUIRE(e.left.kind == Operand::Kind::kFunction);
  CHECK(e.left.text == "geoDistance");
  CHECK(e.left.position == 0);
  REQUIRE(e.left.args.size() == 4);
  CHECK(e.left.args[0].text == "lon");
  CHECK(e.left.args[1].text == "data.lat");
  CHECK(e.left.args[1].position == 17);
  CHECK(e.left.args[2].number == 1.5);
  CHECK(e.left.args[3].number == -2);
  CHECK(MustParse("f() = 1").left.args.empty());
  CHECK(MustParse("f(g(1)) = 1").left.args[0].kind == Operand::Kind::kFunction);
}

TEST_CASE("Parse skips whitespace and // comments", "[domain][filter][parser]") {
  const Expr e = MustParse("  // leading comment\n\ttitle = 1 // first\r\n  && views > 2 // end");
  REQUIRE(e.kind == Expr::Kind::kAnd);
  CHECK(e.children[0].left.position == 22);
  CHECK(e.children[1].left.text == "views");
  CHECK(MustParse("a = 1//x").kind == Expr::Kind::kCompare);
}

TEST_CASE("Parse errors name the problem and its byte position", "[domain][filter][parser]") {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "Invalid filter: the filter is empty."},
      {"  \n // nothing\n", "Invalid filter: the filter is empty."},
      {"title \"x\"", "Invalid filter: expected an operator at position 6."},
      {"title", "Invalid filter: expected an operator at position 5."},
      {"title =", "Invalid filter: expected a value or an identifier, found the end of the "
                  "filter at position 7."},
      {"= 1", "Invalid filter: expected a value or an identifier at position 0."},
      {"a = = 1", "Invalid filter: expected a value or an identifier at position 4."},
      {"title == 1", "Invalid filter: unknown operator \"==\" at position 6."},
      {"title ?? 1", "Invalid filter: unknown operator \"??\" at position 6."},
      {"title ! 1", "Invalid filter: unknown operator \"!\" at position 6."},
      {"title =! 1", "Invalid filter: unknown operator \"=!\" at position 6."},
      {"a = 1 & b = 2", "Invalid filter: unknown operator \"&\" at position 6."},
      {"a = 1 ||| b = 2", "Invalid filter: unknown operator \"|||\" at position 6."},
      {"title = 'abc", "Invalid filter: unterminated string starting at position 8."},
      {"title = \"abc\\\"", "Invalid filter: unterminated string starting at position 8."},
      {"title = 1.2.3", "Invalid filter: invalid number \"1.2.3\" at position 8."},
      {"title = 12abc", "Invalid filter: invalid number \"12abc\" at position 8."},
      {"title = 1.", "Invalid filter: invalid number \"1.\" at position 8."},
      {"title = 1e", "Invalid filter: invalid number \"1e\" at position 8."},
      {"title = 1e999", "Invalid filter: number \"1e999\" is out of range at position 8."},
      {"a = 1 &&", "Invalid filter: expected a value or an identifier, found the end of the "
                   "filter at position 8."},
      {"(a = 1", "Invalid filter: missing ')' for the '(' at position 0, found the end of the "
                 "filter at position 6."},
      {"a = 1)", "Invalid filter: unexpected ')' at position 5."},
      {"a = 1 b = 2", "Invalid filter: expected && or || at position 6."},
      {"a = 1 && (b = 2 c = 3)", "Invalid filter: expected &&, || or ')' at position 16."},
      {"a = $", "Invalid filter: unexpected character '$' at position 4."},
      {"a = 1 \xC3\xA9", "Invalid filter: unexpected byte 0xC3 at position 6."},
      {"a = \"ok\xFF\"", "Invalid filter: invalid UTF-8 in a string at position 7."},
      {"a = \"\xC0\xAF\"", "Invalid filter: invalid UTF-8 in a string at position 5."},
      {"a = \"\xED\xA0\x80\"", "Invalid filter: invalid UTF-8 in a string at position 5."},
      {std::string("a = \"x\0y\"", 9),
       "Invalid filter: a NUL character in a string at position 6."},
      {"a. = 1", "Invalid filter: invalid identifier \"a.\" at position 0."},
      {"a..b = 1", "Invalid filter: invalid identifier \"a..b\" at position 0."},
      {"x@y = 1", "Invalid filter: invalid identifier \"x@y\" at position 0."},
      {"@ = 1", "Invalid filter: invalid identifier \"@\" at position 0."},
      {"a: = 1", "Invalid filter: invalid identifier \"a:\" at position 0."},
      {"a = b.:c", "Invalid filter: invalid identifier \"b.:c\" at position 4."},
      {"a.b(1) = 1", "Invalid filter: invalid function name \"a.b\" at position 0."},
      {"f(1 2) = 1", "Invalid filter: expected ',' or ')' in the arguments of \"f\" at position 4."},
      {"f(1, = 1", "Invalid filter: expected a value or an identifier at position 5."},
      {"(a = 1) = 2", "Invalid filter: expected && or || at position 8."},
      {"a = (1)", "Invalid filter: expected a value or an identifier at position 4."},
      {"-a = 1", "Invalid filter: unexpected character '-' at position 0."},
      {"a = 1 /", "Invalid filter: unexpected character '/' at position 6."},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(ErrorOf(c.text) == c.message);
  }
}

TEST_CASE("Parse enforces its limits without deep recursion", "[domain][filter][parser]") {
  ParseLimits limits;
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '(') + "a = 1" + std::string(depth, ')');
  };
  CHECK(Parse(nested(limits.max_depth)));
  CHECK(ErrorOf(nested(limits.max_depth + 1)) ==
        "Invalid filter: parentheses nested deeper than 32 levels at position 32.");
  // A hostile input far beyond the limit is refused at the limit, not by exhausting the stack.
  ParseLimits roomy;
  roomy.max_length = 1'000'000;
  CHECK(ErrorOf(std::string(500'000, '('), roomy).find("nested deeper") != std::string::npos);
  std::string calls;
  for (int i = 0; i < 40; ++i) calls += "f(";
  CHECK(ErrorOf(calls, roomy).find("function calls nested deeper") != std::string::npos);

  const auto terms = [](std::size_t count) {
    std::string text = "a = 1";
    for (std::size_t i = 1; i < count; ++i) text += " || a = 1";
    return text;
  };
  limits.max_length = 100'000;
  CHECK(Parse(terms(256), limits));
  CHECK(ErrorOf(terms(257), limits).find("Invalid filter: more than 256 terms at position") == 0);

  CHECK(Parse("a = \"" + std::string(4090, 'x') + "\""));
  CHECK(ErrorOf("a = \"" + std::string(4091, 'x') + "\"") ==
        "Invalid filter: longer than 4096 bytes.");
  ParseLimits small;
  small.max_length = 8;
  CHECK(ErrorOf("title = 1", small) == "Invalid filter: longer than 8 bytes.");
}

TEST_CASE("Parse quotes at most 64 bytes of what it refuses", "[domain][filter][parser]") {
  const std::string number = ErrorOf("a = 1" + std::string(1000, '2') + "x");
  CHECK(number.size() < 140);
  CHECK(number.find("...") != std::string::npos);
  const std::string identifier = ErrorOf("a" + std::string(1000, '.') + " = 1");
  CHECK(identifier.size() < 140);
  const std::string function = ErrorOf("f" + std::string(1000, 'x') + "(1 2) = 1");
  CHECK(function.size() < 160);
  const std::string op = ErrorOf("a " + std::string(1000, '=') + " 1");
  CHECK(op.size() < 140);
}
