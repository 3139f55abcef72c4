#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "filter_test_fixture.hpp"
#include "socle/domain/filter/evaluator.hpp"
#include "socle/domain/filter/resolver.hpp"

using namespace socle::domain;
using namespace socle::domain::filter;
using socle::filter_test::Fixture;
using socle::filter_test::MakeRecord;
using socle::filter_test::Str;
using socle::filter_test::Strs;

namespace {

struct Env {
  Fixture fx;
  RequestContext request;
  ResolveOptions options;

  Env() {
    fx.Populate();
    request.now = Timestamp::Parse("2024-05-01 09:30:15.250Z").value();
  }

  /// The ids of the posts (in insertion order) for which `text` holds.
  std::vector<std::string> Ids(std::string_view text) {
    auto filter = Compile(text, fx.schema, fx.posts, request, options);
    INFO(text);
    if (!filter) FAIL(filter.error().message);
    CHECK(socle::filter_test::BrokenGuarantee(*filter).empty());
    std::vector<std::string> ids;
    for (const Record* post : fx.source.All(fx.posts)) {
      if (Evaluate(*filter, *post, fx.source)) ids.push_back(post->Id(fx.posts));
    }
    return ids;
  }
};

using Ids = std::vector<std::string>;

struct Row {
  const char* filter;
  Ids expected;
};

void CheckTable(Env& env, const std::vector<Row>& rows) {
  for (const auto& row : rows) {
    INFO(row.filter);
    CHECK(env.Ids(row.filter) == row.expected);
  }
}

const JsonValue kNull;

}  // namespace

TEST_CASE("Evaluate: plain fields, null and kinds", "[domain][filter][evaluator]") {
  Env env;
  CheckTable(env, {
      {"title = \"Hello World\"", {"p1"}},
      {"title != \"Hello World\"", {"p2", "p3", "p4"}},
      {"title = \"\"", {"p3"}},
      {"title = null", {"p3"}},
      {"title != null", {"p1", "p2", "p4"}},
      {"title > \"S\"", {"p2"}},  // bytewise: "Second post" > "S", "Hello" and "100%" below
      {"title < \"H\"", {"p3", "p4"}},
      {"views > 5", {"p1", "p2"}},
      {"views >= 10", {"p1", "p2"}},
      {"views < 0", {"p4"}},
      {"views <= 0", {"p3", "p4"}},
      {"views = 25.5", {"p2"}},
      {"views = \"10\"", {"p1"}},
      {"views != 10", {"p2", "p3", "p4"}},
      {"views = \"\"", {}},
      {"published = true", {"p1", "p4"}},
      {"published != true", {"p2", "p3"}},
      {"published > false", {"p1", "p4"}},
      {"published = \"false\"", {"p2", "p3"}},
      {"id = \"p2\" || id = \"p3\"", {"p2", "p3"}},
      {"views > 20 || published = true", {"p1", "p2", "p4"}},
      {"(views > 20 || published = true) && tags ?= \"c\"", {"p4"}},
      {"created = \"\"", {"p1", "p2", "p3", "p4"}},
      {"1 = 1", {"p1", "p2", "p3", "p4"}},
      {"title = \"x\" && 1 = 2", {}},
  });
}

TEST_CASE("Evaluate: ~ and !~", "[domain][filter][evaluator]") {
  Env env;
  CheckTable(env, {
      {"title ~ \"world\"", {"p1"}},
      {"title ~ \"o\"", {"p1", "p2"}},
      {"title !~ \"o\"", {"p3", "p4"}},
      {"title ~ \"HELLO%\"", {"p1"}},
      {"title ~ \"100%\"", {"p4"}},
      {"title ~ \"%s_re%\"", {"p4"}},      // _ is a wildcard once there is a %
      {"title ~ \"sure_thing\"", {"p4"}},  // no %: a plain substring
      {"title ~ \"sure-thing\"", {}},
      {"title ~ \"%sure-thing\"", {}},
      {"title ~ \"\"", {"p1", "p2", "p3", "p4"}},
      {"title ~ \"%\"", {"p1", "p2", "p3", "p4"}},
      {"\"Say hello world\" ~ title", {"p1", "p3"}},  // the pattern is the right operand
      {"title ~ title", {"p1", "p2", "p3", "p4"}},
      {"tags ?~ \"a\"", {"p1"}},
      {"tags ~ \"a\"", {}},
      {"tags !~ \"a\"", {"p2", "p3", "p4"}},  // no tags: not containing "a"
      {"data.s ~ \"ST\"", {"p1"}},
      {"data.a ~ \"x\"", {"p4"}},
      {"data.a !~ \"x\"", {"p1", "p2", "p3"}},
      {"author.name ~ \"o\"", {"p2", "p4"}},
  });
}

TEST_CASE("Evaluate: multi-valued fields, any and all", "[domain][filter][evaluator]") {
  Env env;
  CheckTable(env, {
      {"tags = \"b\"", {"p2"}},
      {"tags ?= \"b\"", {"p1", "p2"}},
      {"tags != \"b\"", {"p3", "p4"}},
      {"tags ?!= \"b\"", {"p1", "p3", "p4"}},
      {"tags = null", {"p3"}},
      {"tags = \"\"", {"p3"}},
      {"tags:length = 2", {"p1"}},
      {"tags:length = 0", {"p3"}},
      {"tags:length > 0", {"p1", "p2", "p4"}},
      {"tags:each ?~ \"a\"", {"p1"}},
      {"tags:each = \"b\"", {"p2"}},
      {"tags:lower ?= \"a\"", {"p1"}},
      {"editors:length >= 2", {"p1", "p4"}},
      {"tags ?> \"b\"", {"p4"}},
      {"tags < \"c\"", {"p1", "p2"}},  // every tag; none (null) is never ordered
  });
}

TEST_CASE("Evaluate: relations, back-relations and json", "[domain][filter][evaluator]") {
  Env env;
  CheckTable(env, {
      {"author.name = \"Alice\"", {"p1"}},
      {"author.team.name = \"Red\"", {"p1"}},
      {"author.team.name = null", {"p3", "p4"}},
      {"author = \"\"", {"p3"}},
      {"author.id = \"u1\"", {"p1"}},
      {"editors.id ?= \"u1\"", {"p1", "p4"}},
      {"editors.name ?= \"Bob\"", {"p1", "p2"}},
      {"editors.name = \"Bob\"", {"p2"}},
      {"editors.name != \"Bob\"", {"p3", "p4"}},
      {"editors.team.name ?= \"Red\"", {"p1", "p4"}},
      {"editors.roles ?= \"admin\"", {"p1", "p4"}},
      {"editors.roles:length ?> 0", {"p1", "p4"}},
      {"comments_via_post.body ?= \"first\"", {"p1", "p2"}},
      {"comments_via_post.body = \"first\"", {"p2"}},
      {"comments_via_post.id = null", {"p3", "p4"}},
      {"comments_via_post.body ?~ \"sec\"", {"p1"}},
      {"comments_via_post.post.title ?= \"Hello World\"", {"p1"}},
      {"author.name = editors.name", {"p2", "p3"}},  // p3: null = null
      {"author.name ?= editors.name", {"p1", "p2", "p3", "p4"}},
      {"data.a.b = 1", {"p1"}},
      {"data.a.b > 1", {"p2"}},
      {"data.a = \"x\"", {"p4"}},
      {"data.a.b = null", {"p3", "p4"}},
      {"data.list.1 = \"y\"", {"p1"}},
      {"data.list.9 = null", {"p1", "p2", "p3", "p4"}},
      {"data.a != \"x\"", {"p1", "p2", "p3"}},
      {"data.a = data.a", {"p3", "p4"}},  // objects equal nothing, null equals null
      {"data = null", {"p3"}},
      {"data.a.b = \"1\"", {}},  // json values keep their kinds
  });
}

TEST_CASE("Evaluate: dates, request values and macros", "[domain][filter][evaluator]") {
  Env env;
  env.request.auth = AuthIdentity{&env.fx.users,
                                  MakeRecord(env.fx.users, {{"id", Str("u2")}, {"team", Str("t2")}}),
                                  std::nullopt};
  env.request.body = JsonValue::Object({{"tags", Strs({"a", "c"})}, {"views", Str("10")}});
  CheckTable(env, {
      {"due > \"2024-01-01\"", {"p1"}},
      {"due = \"2024-05-01 09:30:00Z\"", {"p1"}},
      {"due = \"\"", {"p2", "p4"}},
      {"due != \"\"", {"p1", "p3"}},
      {"due < @now", {"p1", "p2", "p3", "p4"}},  // the empty date "" sorts first
      {"due >= @todayStart && due <= @todayEnd", {"p1"}},
      {"due > @yesterday", {"p1"}},
      {"due < @yearStart && due != \"\"", {"p3"}},
      {"@request.auth.id = author", {"p2"}},
      {"editors ?= @request.auth.id", {"p1", "p2"}},
      {"author.team = @request.auth.team", {"p2"}},
      {"tags ?= @request.body.tags", {"p1", "p4"}},
      {"tags = @request.body.tags", {}},
      {"views = @request.body.views", {"p1"}},
      {"@request.body.tags:length = 2", {"p1", "p2", "p3", "p4"}},
      {"@request.auth.id = \"\"", {}},
  });
  env.request.auth.reset();
  CheckTable(env, {
      {"@request.auth.id != \"\" && author = @request.auth.id", {}},
      {"@request.auth.id = \"\" || published = false", {"p1", "p2", "p3", "p4"}},
  });
}

TEST_CASE("Evaluate: @collection joins", "[domain][filter][evaluator]") {
  Env env;
  CheckTable(env, {
      {"@collection.users.name = \"Alice\" && author = @collection.users.id", {"p1"}},
      {"author = @collection.users.id && @collection.users.team = \"t2\"", {"p2"}},
      {"@collection.users.name = \"Alice\" && @collection.users.name = \"Bob\"", {}},
      {"@collection.users:a.name = \"Alice\" && @collection.users:b.name = \"Bob\" && "
       "author = @collection.users:b.id",
       {"p2"}},
      {"@collection.comments.post = id", {"p1", "p2"}},
      {"@collection.comments.post = id && @collection.comments.body = \"second\"", {"p1"}},
      {"@collection.users.team.name = \"Blue\" && editors ?= @collection.users.id", {"p1", "p2"}},
      {"@collection.users.name = \"nobody\" || views > 20", {"p2"}},
  });

  // An empty joined collection contributes one row of nulls.
  Fixture bare;
  const auto filter = Compile("@collection.teams.name = null && title = \"x\"", bare.schema,
                              bare.posts, RequestContext{});
  REQUIRE(filter);
  const Record post = MakeRecord(bare.posts, {{"id", Str("p9")}, {"title", Str("x")}});
  CHECK(Evaluate(*filter, post, bare.source));
  const auto other = Compile("@collection.teams.name != null", bare.schema, bare.posts,
                             RequestContext{});
  REQUIRE(other);
  CHECK_FALSE(Evaluate(*other, post, bare.source));
}

TEST_CASE("Evaluate: geoDistance", "[domain][filter][evaluator]") {
  Env env;
  env.options.enable_geo_distance = true;
  CheckTable(env, {
      {"geoDistance(views, views, 0, 0) < 2000", {"p1", "p3", "p4"}},
      {"geoDistance(data.a.b, 0, 0, 0) < 200", {"p1"}},
      {"geoDistance(data.a.b, 0, 0, 0) = null", {"p3", "p4"}},
  });
  // One degree of longitude on the equator is 2πR/360 km.
  CHECK(std::abs(GeoDistanceKm(0, 0, 1, 0) - 111.19492664455873) < 1e-9);
  CHECK(GeoDistanceKm(2.35, 48.85, 2.35, 48.85) == 0);
  // Antipodes: rounding must not push asin out of its domain.
  CHECK(std::abs(GeoDistanceKm(0, 0, 180, 0) - 20015.086796020572) < 1e-6);
}

TEST_CASE("CompareValues follows the documented semantics", "[domain][filter][evaluator]") {
  const JsonValue empty = Str("");
  const JsonValue a = Str("a");
  const JsonValue one = JsonValue::Integer(1);
  const JsonValue one_d = JsonValue::Number(1.0);
  const JsonValue t = JsonValue::Bool(true);
  const JsonValue f = JsonValue::Bool(false);
  const JsonValue array = Strs({"a"});
  const JsonValue object = JsonValue::Object({});

  CHECK(CompareValues(kNull, CompareOp::kEq, kNull));
  CHECK(CompareValues(kNull, CompareOp::kEq, empty));
  CHECK(CompareValues(empty, CompareOp::kEq, kNull));
  CHECK_FALSE(CompareValues(kNull, CompareOp::kEq, JsonValue::Integer(0)));
  CHECK_FALSE(CompareValues(kNull, CompareOp::kEq, f));
  CHECK(CompareValues(kNull, CompareOp::kNeq, a));
  CHECK(CompareValues(one, CompareOp::kEq, one_d));
  CHECK_FALSE(CompareValues(one, CompareOp::kEq, Str("1")));
  CHECK_FALSE(CompareValues(t, CompareOp::kEq, one));
  CHECK(CompareValues(t, CompareOp::kNeq, one));
  CHECK_FALSE(CompareValues(array, CompareOp::kEq, array));
  CHECK_FALSE(CompareValues(object, CompareOp::kEq, object));
  CHECK(CompareValues(array, CompareOp::kNeq, array));

  CHECK_FALSE(CompareValues(kNull, CompareOp::kLt, one));
  CHECK_FALSE(CompareValues(kNull, CompareOp::kLte, kNull));
  CHECK_FALSE(CompareValues(kNull, CompareOp::kGte, kNull));
  CHECK_FALSE(CompareValues(one, CompareOp::kLt, Str("2")));
  CHECK(CompareValues(f, CompareOp::kLt, t));
  CHECK(CompareValues(one, CompareOp::kLte, one_d));
  CHECK(CompareValues(empty, CompareOp::kLt, a));
  CHECK(CompareValues(Str("Z"), CompareOp::kLt, a));  // bytewise, no collation
  CHECK(CompareValues(a, CompareOp::kLt, Str("\xC3\xA9")));  // UTF-8 above ASCII
  CHECK_FALSE(CompareValues(JsonValue::Number(std::nan("")), CompareOp::kGte,
                            JsonValue::Number(std::nan(""))));

  CHECK_FALSE(CompareValues(kNull, CompareOp::kLike, empty));
  CHECK(CompareValues(kNull, CompareOp::kNotLike, a));
  CHECK_FALSE(CompareValues(one, CompareOp::kLike, Str("1")));
  CHECK(CompareValues(one, CompareOp::kNotLike, Str("1")));
}

TEST_CASE("CompareSets: any and all, empty sets as {null}", "[domain][filter][evaluator]") {
  const std::vector<JsonValue> none;
  const std::vector<JsonValue> ab = {Str("a"), Str("b")};
  const std::vector<JsonValue> a = {Str("a")};
  const std::vector<JsonValue> null_only = {kNull};
  CHECK(CompareSets(ab, CompareOp::kEq, true, a));
  CHECK_FALSE(CompareSets(ab, CompareOp::kEq, false, a));
  CHECK(CompareSets(a, CompareOp::kEq, false, a));
  CHECK(CompareSets(none, CompareOp::kEq, false, null_only));
  CHECK(CompareSets(none, CompareOp::kEq, true, {}));
  CHECK(CompareSets(none, CompareOp::kNeq, false, a));
  CHECK_FALSE(CompareSets(none, CompareOp::kGt, true, a));
  CHECK(CompareSets(ab, CompareOp::kNeq, true, a));
  CHECK_FALSE(CompareSets(ab, CompareOp::kNeq, false, a));
}

TEST_CASE("LikeMatch: substrings, wildcards, case and UTF-8", "[domain][filter][evaluator]") {
  struct Case {
    const char* subject;
    const char* pattern;
    bool match;
  };
  for (const auto& c : {
           Case{"Hello World", "world", true},
           Case{"Hello World", "WORLD", true},
           Case{"Hello World", "", true},
           Case{"", "", true},
           Case{"", "a", false},
           Case{"a_b", "_", true},           // no %: _ is literal
           Case{"ab", "_", false},
           Case{"ab", "%_", true},           // with %: _ is one character
           Case{"ab", "a_", false},          // no %: the literal text "a_"
           Case{"ab", "a_%", true},
           Case{"abc", "a%c", true},
           Case{"abc", "a%b", false},
           Case{"abcbc", "%bc", true},
           Case{"aaa", "%a%a%a%", true},
           Case{"aa", "%a%a%a%", false},
           Case{"50%", "50%", true},
           Case{"x50", "50%", false},
           Case{"caf\xC3\xA9", "%caf_", true},  // _ matches é (two bytes)
           Case{"caf\xC3\xA9", "%caf__", false},
           Case{"caf\xC3\xA9", "caf_", false},
           Case{"\xC3\x89T\xC3\x89", "%t%", true},
           Case{"\xC3\x89T\xC3\x89", "\xC3\xA9%", false},  // non-ASCII case is exact
           Case{"back\\slash", "k\\s", true},              // no escape character
           Case{"100%", "100\\%", false},
       }) {
    INFO(c.subject << " ~ " << c.pattern);
    CHECK(LikeMatch(c.subject, c.pattern) == c.match);
  }
  // Pathological patterns stay fast (no exponential backtracking).
  const std::string subject(5000, 'a');
  CHECK_FALSE(LikeMatch(subject, "%a%a%a%a%a%a%a%a%a%a%b"));
}

TEST_CASE("CompareForSort orders null, bools, numbers, strings", "[domain][filter][evaluator]") {
  const std::vector<JsonValue> ordered = {kNull,      JsonValue::Bool(false),  JsonValue::Bool(true),
                                          JsonValue::Number(-1.5), JsonValue::Integer(0),
                                          JsonValue::Integer(7),   Str(""), Str("B"), Str("a"),
                                          Str("\xC3\xA9")};
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    for (std::size_t j = 0; j < ordered.size(); ++j) {
      INFO(i << " vs " << j);
      const int c = CompareForSort(ordered[i], ordered[j]);
      if (i < j) CHECK(c < 0);
      if (i == j) CHECK(c == 0);
      if (i > j) CHECK(c > 0);
    }
  }
  CHECK(CompareForSort(JsonValue::Integer(2), JsonValue::Number(2.0)) == 0);
}

TEST_CASE("OperandValues yields sets, empty ones included", "[domain][filter][evaluator]") {
  Env env;
  const Record* p1 = env.fx.source.FindById(env.fx.posts, "p1");
  const Record* p3 = env.fx.source.FindById(env.fx.posts, "p3");
  REQUIRE(p1 != nullptr);
  REQUIRE(p3 != nullptr);
  auto operand = [&](std::string_view text) {
    auto filter = Compile(std::string(text) + " = null", env.fx.schema, env.fx.posts,
                          env.request, env.options);
    REQUIRE(filter);
    REQUIRE(filter->condition.kind == Condition::Kind::kCompare);
    return filter->condition.compare.left;
  };
  CHECK(OperandValues(operand("tags"), *p1, {}, env.fx.source) ==
        std::vector<JsonValue>{Str("a"), Str("b")});
  CHECK(OperandValues(operand("tags"), *p3, {}, env.fx.source).empty());
  CHECK(OperandValues(operand("tags:length"), *p3, {}, env.fx.source) ==
        std::vector<JsonValue>{JsonValue::Integer(0)});
  CHECK(OperandValues(operand("editors.name"), *p1, {}, env.fx.source) ==
        std::vector<JsonValue>{Str("Alice"), Str("Bob")});
  CHECK(OperandValues(operand("author.name"), *p3, {}, env.fx.source).empty());
  CHECK(OperandValues(operand("title:lower"), *p1, {}, env.fx.source) ==
        std::vector<JsonValue>{Str("hello world")});

  const ResolvedOperand joined = operand("@collection.users.name");
  const Record* u2 = env.fx.source.FindById(env.fx.users, "u2");
  CHECK(OperandValues(joined, *p1, {u2}, env.fx.source) == std::vector<JsonValue>{Str("Bob")});
  CHECK(OperandValues(joined, *p1, {nullptr}, env.fx.source).empty());
  CHECK(OperandValues(joined, *p1, {}, env.fx.source).empty());
}
