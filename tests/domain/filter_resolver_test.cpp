#include <catch2/catch.hpp>

#include <string>

#include "filter_test_fixture.hpp"
#include "socle/domain/filter/parser.hpp"
#include "socle/domain/filter/resolver.hpp"

using namespace socle::domain;
using namespace socle::domain::filter;
using socle::filter_test::Fixture;
using socle::filter_test::MakeRecord;
using socle::filter_test::Str;
using socle::filter_test::Strs;

namespace {

// 2024-05-01 09:30:15.250 UTC, a Wednesday.
constexpr std::int64_t kNowMicros = 1'714'555'815'250'000;

struct Env {
  Fixture fx;
  RequestContext request;
  ResolveOptions options;

  Env() { request.now = Timestamp::FromUnixMicros(kNowMicros); }

  // Every filter that resolves is also checked against the promises made to the stores.
  Result<ResolvedFilter> Run(std::string_view text) {
    auto filter = Compile(text, fx.schema, fx.posts, request, options);
    if (filter) {
      INFO(text);
      CHECK(socle::filter_test::BrokenGuarantee(*filter).empty());
    }
    return filter;
  }

  ResolvedFilter Ok(std::string_view text) {
    auto filter = Run(text);
    INFO(text);
    if (!filter) FAIL(filter.error().message);
    return std::move(*filter);
  }

  Comparison Cmp(std::string_view text) {
    ResolvedFilter filter = Ok(text);
    INFO(text);
    REQUIRE(filter.condition.kind == Condition::Kind::kCompare);
    return filter.condition.compare;
  }

  Condition::Kind Kind(std::string_view text) { return Ok(text).condition.kind; }

  std::string Err(std::string_view text) {
    auto filter = Run(text);
    INFO(text);
    if (filter) return "(resolved)";
    CHECK(filter.error().code == ErrorCode::kInvalidArgument);
    return filter.error().message;
  }

  void SignIn(std::vector<std::pair<std::string, JsonValue>> values) {
    request.auth = AuthIdentity{&fx.users, MakeRecord(fx.users, std::move(values)), std::nullopt};
  }
};

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("Resolve maps plain and system fields", "[domain][filter][resolver]") {
  Env env;
  const Comparison c = env.Cmp("title = \"x\"");
  CHECK(c.left.kind == ResolvedOperand::Kind::kField);
  CHECK(c.left.join == -1);
  CHECK(c.left.hops.empty());
  CHECK(c.left.collection == &env.fx.posts);
  CHECK(c.left.field == env.fx.posts.FindField("title"));
  CHECK(c.left.value_kind == ValueKind::kString);
  CHECK_FALSE(c.left.multiple);
  CHECK(c.right.kind == ResolvedOperand::Kind::kLiteral);
  CHECK(c.right.literal == JsonValue::String("x"));
  CHECK(c.right.value_kind == ValueKind::kString);

  CHECK(env.Cmp("id = \"p1\"").left.field->name == "id");
  CHECK(env.Cmp("created > \"2024-01-01 00:00:00.000Z\"").left.field->name == "created");
  CHECK(env.Cmp("updated <= @now").left.field->name == "updated");
  CHECK(env.Cmp("views > 1").left.value_kind == ValueKind::kNumber);
  CHECK(env.Cmp("published = true").left.value_kind == ValueKind::kBool);
  const Comparison tags = env.Cmp("tags ?= \"a\"");
  CHECK(tags.left.multiple);
  CHECK(tags.any);
  CHECK(tags.left.value_kind == ValueKind::kString);

  ResolvedFilter filter = env.Ok("title = \"x\"");
  CHECK(filter.collection == &env.fx.posts);
  CHECK(filter.schema.get() == env.fx.schema.get());
  CHECK(filter.joins.empty());
}

TEST_CASE("Resolve refuses unknown, hidden and password fields", "[domain][filter][resolver]") {
  Env env;
  CHECK(env.Err("nope = 1") ==
        "Invalid filter: unknown field \"nope\" in the collection \"posts\" at position 0.");
  CHECK(env.Err("title = 1 && author.nope = 2") ==
        "Invalid filter: unknown field \"nope\" in the collection \"users\" at position 20.");
  CHECK(env.Err("hiddenField = \"s1\"") ==
        "Invalid filter: the field \"hiddenField\" is hidden and cannot be filtered on at "
        "position 0.");
  CHECK(env.Err("author.secret = 1") ==
        "Invalid filter: the field \"secret\" is hidden and cannot be filtered on at position 7.");
  CHECK(Contains(env.Err("author.password = \"x\""), "the password field \"password\""));
  env.options.allow_hidden = true;
  CHECK(env.Cmp("hiddenField = \"s1\"").left.field->name == "hiddenField");
  CHECK(env.Cmp("author.secret = \"s\"").left.field->name == "secret");
  CHECK(Contains(env.Err("author.password = \"x\""), "cannot be used in filters"));
}

TEST_CASE("Resolve follows relations, back-relations and json paths",
          "[domain][filter][resolver]") {
  Env env;
  const Comparison author = env.Cmp("author.name = \"Alice\"");
  REQUIRE(author.left.hops.size() == 1);
  CHECK(author.left.hops[0].from == &env.fx.posts);
  CHECK(author.left.hops[0].relation == env.fx.posts.FindField("author"));
  CHECK(author.left.hops[0].to == &env.fx.users);
  CHECK_FALSE(author.left.hops[0].back);
  CHECK(author.left.collection == &env.fx.users);
  CHECK(author.left.field == env.fx.users.FindField("name"));
  CHECK_FALSE(author.left.multiple);

  const Comparison team = env.Cmp("author.team.name = \"Red\"");
  REQUIRE(team.left.hops.size() == 2);
  CHECK(team.left.hops[1].to == &env.fx.teams);
  CHECK(team.left.collection == &env.fx.teams);

  // "author.id" is the stored id itself, as in PocketBase.
  const Comparison id = env.Cmp("author.id = \"u1\"");
  CHECK(id.left.hops.empty());
  CHECK(id.left.field == env.fx.posts.FindField("author"));
  // ... but not through a multiple relation.
  CHECK(env.Cmp("editors.id ?= \"u1\"").left.hops.size() == 1);

  const Comparison editors = env.Cmp("editors.name ?= \"Bob\"");
  CHECK(editors.left.multiple);
  CHECK(editors.left.value_kind == ValueKind::kString);

  const Comparison back = env.Cmp("comments_via_post.body ?= \"first\"");
  REQUIRE(back.left.hops.size() == 1);
  CHECK(back.left.hops[0].back);
  CHECK(back.left.hops[0].from == &env.fx.posts);
  CHECK(back.left.hops[0].to == &env.fx.comments);
  CHECK(back.left.hops[0].relation == env.fx.comments.FindField("post"));
  CHECK(back.left.multiple);
  CHECK(Contains(env.Err("comments_via_post = \"c1\""),
                 "the back-relation \"comments_via_post\" must be followed by a field"));
  CHECK(Contains(env.Err("comments_via_body.x = 1"), "unknown field \"comments_via_body\""));
  // A back-relation must point at the collection it starts from.
  CHECK(Contains(env.Err("author.comments_via_post.body = 1"), "unknown field"));

  const Comparison json = env.Cmp("data.a.b = 1");
  CHECK(json.left.field == env.fx.posts.FindField("data"));
  CHECK(json.left.json_path == std::vector<std::string>{"a", "b"});
  CHECK(json.left.value_kind == ValueKind::kJson);
  CHECK(json.right.literal == JsonValue::Integer(1));  // never coerced against json
  CHECK(env.Cmp("data = null").left.json_path.empty());
  CHECK(env.Cmp("data.list.0 = \"x\"").left.json_path == std::vector<std::string>{"list", "0"});
  CHECK(env.Cmp("author.settings.theme = \"dark\"").left.json_path ==
        std::vector<std::string>{"theme"});

  CHECK(env.Err("title.x = 1") ==
        "Invalid filter: \"title\" is not a relation or json field, so \"x\" cannot follow it at "
        "position 6.");
  env.options.max_hops = 1;
  CHECK(Contains(env.Err("author.team.name = 1"), "\"author.team.name\" follows more than 1"));
}

TEST_CASE("Resolve coerces literals to the field's kind", "[domain][filter][resolver]") {
  Env env;
  CHECK(env.Cmp("views = \"12.5\"").right.literal == JsonValue::Number(12.5));
  CHECK(env.Cmp("views = \"-3\"").right.literal == JsonValue::Integer(-3));
  CHECK(env.Cmp("views = \"1e3\"").right.value_kind == ValueKind::kNumber);
  CHECK(env.Cmp("views = \"\"").right.literal.IsNull());
  CHECK(env.Cmp("title = 12").right.literal == JsonValue::String("12"));
  CHECK(env.Cmp("title = 1.5").right.literal == JsonValue::String("1.5"));
  CHECK(env.Cmp("title = 1e6").right.literal == JsonValue::String("1000000"));
  CHECK(env.Cmp("title = 0.1").right.literal == JsonValue::String("0.1"));
  CHECK(env.Cmp("title = -0").right.literal == JsonValue::String("0"));
  CHECK(env.Cmp("title = true").right.literal == JsonValue::String("true"));
  CHECK(env.Cmp("author = 42").right.literal == JsonValue::String("42"));
  CHECK(env.Cmp("tags ?= 7").right.literal == JsonValue::String("7"));
  CHECK(env.Cmp("published = \"true\"").right.literal == JsonValue::Bool(true));
  CHECK(env.Cmp("published = \"false\"").right.literal == JsonValue::Bool(false));
  CHECK(env.Cmp("published = 1").right.literal == JsonValue::Bool(true));
  CHECK(env.Cmp("published = 0").right.literal == JsonValue::Bool(false));
  CHECK(env.Cmp("due = \"2024-05-01\"").right.literal ==
        JsonValue::String("2024-05-01 00:00:00.000Z"));
  CHECK(env.Cmp("due > \"2024-05-01 09:30:00\"").right.literal ==
        JsonValue::String("2024-05-01 09:30:00.000Z"));
  CHECK(env.Cmp("created < \"2024-05-01T09:30:00.123456Z\"").right.literal ==
        JsonValue::String("2024-05-01 09:30:00.123Z"));
  const Comparison empty_date = env.Cmp("due = \"\"");
  CHECK(empty_date.right.literal.IsNull());
  CHECK(empty_date.right.value_kind == ValueKind::kNull);
  // The same value, whichever side the literal is on.
  CHECK(env.Cmp("\"12\" = views").left.literal == JsonValue::Integer(12));

  CHECK(env.Err("views > \"abc\"") ==
        "Invalid filter: the value \"abc\" cannot be compared with \"views\" (a number) at "
        "position 8.");
  CHECK(env.Err("views = true") ==
        "Invalid filter: the value \"true\" cannot be compared with \"views\" (a number) at "
        "position 8.");
  CHECK(Contains(env.Err("published = 2"), "the value \"2\" cannot be compared with "
                                           "\"published\" (a bool)"));
  CHECK(Contains(env.Err("published = \"yes\""), "\"yes\""));
  CHECK(Contains(env.Err("due > \"yesterday\""), "cannot be compared with \"due\" (a date)"));
  CHECK(Contains(env.Err("due > 2024"), "the value \"2024\""));
  CHECK(Contains(env.Err("views = \"0x10\""), "\"0x10\""));
  CHECK(Contains(env.Err("views = \"inf\""), "\"inf\""));
  // Messages never echo raw bytes of what the caller wrote.
  CHECK(Contains(env.Err("views = \"caf\xC3\xA9\""), "\"caf??\""));
}

TEST_CASE("Resolve folds constant comparisons and simplifies", "[domain][filter][resolver]") {
  Env env;
  CHECK(env.Kind("1 = 1") == Condition::Kind::kTrue);
  CHECK(env.Kind("\"a\" = \"b\"") == Condition::Kind::kFalse);
  CHECK(env.Kind("null = \"\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("1 = \"1\"") == Condition::Kind::kFalse);  // literals keep their kinds
  CHECK(env.Kind("\"Hello\" ~ \"ell\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("title = \"x\" && 1 = 2") == Condition::Kind::kFalse);
  CHECK(env.Kind("title = \"x\" || 1 = 1") == Condition::Kind::kTrue);
  CHECK(env.Kind("title = \"x\" && 1 = 1") == Condition::Kind::kCompare);
  CHECK(env.Kind("(1 = 1 && 2 = 2) || title = \"x\"") == Condition::Kind::kTrue);

  const ResolvedFilter flat = env.Ok("title = \"a\" && (views > 1 && (published = true))");
  REQUIRE(flat.condition.kind == Condition::Kind::kAnd);
  CHECK(flat.condition.children.size() == 3);

  // Comparisons with null that are constant: null is never ordered and never text.
  CHECK(env.Kind("views > null") == Condition::Kind::kFalse);
  CHECK(env.Kind("title ~ null") == Condition::Kind::kFalse);
  CHECK(env.Kind("title !~ null") == Condition::Kind::kTrue);
  CHECK(env.Kind("title = null") == Condition::Kind::kCompare);

  // A folded branch still reports its errors.
  CHECK(Contains(env.Err("1 = 2 && nope = 1"), "unknown field \"nope\""));
}

TEST_CASE("Resolve reads @request.auth", "[domain][filter][resolver]") {
  Env env;
  // Guests: everything is null.
  CHECK(env.Kind("@request.auth.id != \"\"") == Condition::Kind::kFalse);
  CHECK(env.Kind("@request.auth.id = \"\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.auth.whatever = null") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.auth.roles:length = 0") == Condition::Kind::kTrue);
  const Comparison guest = env.Cmp("author = @request.auth.id");
  CHECK(guest.right.literal.IsNull());

  env.SignIn({{"id", Str("u1")}, {"name", Str("Alice")}, {"team", Str("t1")},
              {"roles", Strs({"admin", "editor"})}, {"secret", Str("s")},
              {"settings", JsonValue::Object({{"theme", Str("dark")}})}});
  const Comparison own = env.Cmp("author = @request.auth.id");
  CHECK(own.right.literal == JsonValue::String("u1"));
  CHECK(env.Kind("@request.auth.id != \"\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.auth.collectionId = \"pbc_users\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.auth.collectionName = \"users\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.auth.name:lower = \"alice\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.auth.roles:length = 2") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.auth.roles ?= \"admin\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.auth.roles:each ?= \"viewer\"") == Condition::Kind::kFalse);
  CHECK(env.Kind("@request.auth.settings.theme = \"dark\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.auth.unknownField = null") == Condition::Kind::kTrue);
  const Comparison roles = env.Cmp("tags ?= @request.auth.roles");
  CHECK(roles.right.literal == Strs({"admin", "editor"}));
  CHECK(roles.right.multiple);

  CHECK(Contains(env.Err("@request.auth.secret = \"s\""), "\"secret\" is hidden"));
  CHECK(Contains(env.Err("@request.auth.password = \"x\""), "password field"));
  CHECK(Contains(env.Err("@request.auth.team.name = \"Red\""),
                 "relation paths from @request.auth are not supported"));
  CHECK(Contains(env.Err("@request.auth.name.x = 1"), "\"name\" is not a json field"));
  CHECK(Contains(env.Err("@request.auth.id:isset = true"), ":isset and :changed do not apply"));
  CHECK(Contains(env.Err("@request.auth.name:length = 1"), ":length applies to multiple"));
  CHECK(Contains(env.Err("@request.auth = 1"), "@request.auth needs a field"));
  env.options.allow_hidden = true;
  CHECK(env.Kind("@request.auth.secret = \"s\"") == Condition::Kind::kTrue);
}

TEST_CASE("Resolve reads @request.body, query, headers, method and context",
          "[domain][filter][resolver]") {
  Env env;
  env.request.method = "PATCH";
  env.request.body = JsonValue::Object({
      {"title", Str("New")},
      {"views", Str("12")},
      {"tags", Strs({"a", "c"})},
      {"nested", JsonValue::Object({{"k", JsonValue::Integer(5)}})},
      {"bad", Str("abc")},
      {"obj", JsonValue::Object({})},
      {"published", JsonValue::Bool(true)},
  });
  env.request.query = {{"page", "2"}, {"q.x", "dotted"}};
  env.request.headers = {{"x_token", "secret"}, {"user_agent", "Test"}};

  const Comparison title = env.Cmp("title = @request.body.title");
  CHECK(title.right.literal == JsonValue::String("New"));
  CHECK(env.Cmp("views = @request.body.views").right.literal == JsonValue::Integer(12));
  const Comparison tags = env.Cmp("tags ?= @request.body.tags");
  CHECK(tags.right.literal == Strs({"a", "c"}));
  CHECK(tags.right.multiple);
  CHECK(env.Kind("@request.body.nested.k = 5") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.tags.1 = \"c\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.missing = null") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.title:isset = true") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.missing:isset = false") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.nested.k:isset = true") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.tags:length = 2") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.missing:length = 0") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.title:lower = \"new\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.tags:each ?= \"c\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.tags:each = \"c\"") == Condition::Kind::kFalse);
  CHECK(env.Kind("@request.body.published = true") == Condition::Kind::kTrue);

  // Request data of the wrong kind is no error: the comparison is constant.
  CHECK(env.Kind("views = @request.body.bad") == Condition::Kind::kFalse);
  CHECK(env.Kind("views != @request.body.bad") == Condition::Kind::kTrue);
  CHECK(env.Kind("views > @request.body.bad") == Condition::Kind::kFalse);
  CHECK(env.Kind("data = @request.body.obj") == Condition::Kind::kFalse);
  CHECK(env.Kind("data != @request.body.obj") == Condition::Kind::kTrue);
  CHECK(env.Kind("published = @request.body.title") == Condition::Kind::kFalse);

  CHECK(env.Kind("@request.query.page = \"2\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.query.page = 2") == Condition::Kind::kFalse);  // query values are text
  CHECK(env.Kind("@request.query.q.x = \"dotted\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.query.nope:isset = false") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.headers.x_token = \"secret\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.headers.X_Token = \"secret\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.headers.user_agent:lower = \"test\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.headers.missing = \"\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.method = \"PATCH\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.method:lower = \"patch\"") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.context = \"default\"") == Condition::Kind::kTrue);

  CHECK(Contains(env.Err("@request.query.page:length = 1"), "only :isset and :lower apply"));
  CHECK(Contains(env.Err("@request.data.title = 1"), "@request.data is spelled @request.body"));
  CHECK(Contains(env.Err("@request.nope = 1"), "unknown identifier \"@request.nope\""));
  CHECK(Contains(env.Err("@request.body = 1"), "@request.body needs a key"));
  CHECK(Contains(env.Err("@request.method:isset = 1"), "only :lower applies"));
  CHECK(Contains(env.Err("title:isset = true"), ":isset applies to @request.body"));
}

TEST_CASE("Resolve: :changed compares the body with the stored record",
          "[domain][filter][resolver]") {
  Env env;
  env.request.body = JsonValue::Object({
      {"title", Str("Hello World")},
      {"views", Str("10")},
      {"tags", Strs({"a"})},
      {"due", Str("2024-05-01 09:30:00Z")},
      {"published", JsonValue::Bool(false)},
  });
  // Without a stored record (create), :changed is :isset.
  CHECK(env.Kind("@request.body.title:changed = true") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.author:changed = false") == Condition::Kind::kTrue);

  const Record current = MakeRecord(env.fx.posts, {{"id", Str("p1")},
                                                   {"title", Str("Hello World")},
                                                   {"views", JsonValue::Integer(10)},
                                                   {"tags", Strs({"a", "b"})},
                                                   {"published", JsonValue::Bool(true)},
                                                   {"due", Str("2024-05-01 09:30:00.000Z")}});
  env.options.current = &current;
  CHECK(env.Kind("@request.body.title:changed = false") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.views:changed = false") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.due:changed = false") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.tags:changed = true") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.published:changed = true") == Condition::Kind::kTrue);
  CHECK(env.Kind("@request.body.author:changed = false") == Condition::Kind::kTrue);

  CHECK(Contains(env.Err("@request.body.nope:changed = true"), "\"nope\" is not a field"));
  CHECK(Contains(env.Err("@request.body.hiddenField:changed = true"), "is hidden"));
  CHECK(Contains(env.Err("@request.body.data.a:changed = true"), "not to nested keys"));
  CHECK(Contains(env.Err("title:changed = true"), ":changed applies to @request.body"));
}

TEST_CASE("Resolve evaluates macros at the request's time", "[domain][filter][resolver]") {
  const Timestamp now = Timestamp::FromUnixMicros(kNowMicros);
  struct Case {
    const char* name;
    JsonValue value;
  };
  for (const auto& c : {
           Case{"@now", Str("2024-05-01 09:30:15.250Z")},
           Case{"@yesterday", Str("2024-04-30 09:30:15.250Z")},
           Case{"@tomorrow", Str("2024-05-02 09:30:15.250Z")},
           Case{"@todayStart", Str("2024-05-01 00:00:00.000Z")},
           Case{"@todayEnd", Str("2024-05-01 23:59:59.999Z")},
           Case{"@monthStart", Str("2024-05-01 00:00:00.000Z")},
           Case{"@monthEnd", Str("2024-05-31 23:59:59.999Z")},
           Case{"@yearStart", Str("2024-01-01 00:00:00.000Z")},
           Case{"@yearEnd", Str("2024-12-31 23:59:59.999Z")},
           Case{"@second", JsonValue::Integer(15)},
           Case{"@minute", JsonValue::Integer(30)},
           Case{"@hour", JsonValue::Integer(9)},
           Case{"@day", JsonValue::Integer(1)},
           Case{"@month", JsonValue::Integer(5)},
           Case{"@year", JsonValue::Integer(2024)},
           Case{"@weekday", JsonValue::Integer(3)},
       }) {
    INFO(c.name);
    auto value = MacroValue(c.name, now);
    REQUIRE(value);
    CHECK(*value == c.value);
  }
  CHECK_FALSE(MacroValue("@nope", now));
  // February of a leap year ends on the 29th.
  const auto feb = Timestamp::Parse("2024-02-10 12:00:00Z").value();
  CHECK(*MacroValue("@monthEnd", feb) == Str("2024-02-29 23:59:59.999Z"));

  Env env;
  CHECK(env.Cmp("due > @yesterday").right.literal == Str("2024-04-30 09:30:15.250Z"));
  CHECK(env.Cmp("views >= @year").right.literal == JsonValue::Integer(2024));
  CHECK(env.Cmp("title = @month").right.literal == Str("5"));
  CHECK(env.Kind("@hour < 10") == Condition::Kind::kTrue);
  CHECK(Contains(env.Err("views > @now"), "the value \"@now\" cannot be compared"));
  CHECK(Contains(env.Err("due > @later"), "unknown macro \"@later\""));
  CHECK(Contains(env.Err("due > @now:lower"), "modifiers do not apply to the macro"));
}

TEST_CASE("Resolve checks modifiers and kinds", "[domain][filter][resolver]") {
  Env env;
  const Comparison length = env.Cmp("tags:length > 1");
  CHECK(length.left.modifier == Modifier::kLength);
  CHECK(length.left.value_kind == ValueKind::kNumber);
  CHECK_FALSE(length.left.multiple);
  CHECK(env.Cmp("tags:length > \"1\"").right.literal == JsonValue::Integer(1));
  CHECK(env.Cmp("editors:length > 1").left.modifier == Modifier::kLength);
  CHECK(env.Cmp("editors.roles:length > 1").left.multiple);  // one length per editor
  const Comparison each = env.Cmp("tags:each ~ \"a\"");
  CHECK(each.left.modifier == Modifier::kEach);
  CHECK(each.left.multiple);
  const Comparison lower = env.Cmp("title:lower = \"hello world\"");
  CHECK(lower.left.modifier == Modifier::kLower);
  CHECK(lower.left.value_kind == ValueKind::kString);
  // A lowered date is text: the literal stays as written.
  CHECK(env.Cmp("due:lower ~ \"2024\"").right.literal == Str("2024"));

  CHECK(Contains(env.Err("title:length > 1"), ":length applies to multiple"));
  CHECK(Contains(env.Err("title:each = 1"), ":each applies to multiple"));
  CHECK(Contains(env.Err("views:lower = 1"), ":lower applies to text fields"));
  CHECK(Contains(env.Err("data:lower = 1"), ":lower applies to text fields"));
  CHECK(env.Err("title:upper = 1") ==
        "Invalid filter: unknown modifier \":upper\" at position 5.");
  CHECK(Contains(env.Err("title:lower:each = 1"), "unknown modifier"));
  CHECK(Contains(env.Err("author:x.name = 1"), "unexpected ':'"));

  // Field against field.
  CHECK(env.Cmp("title = author.name").right.kind == ResolvedOperand::Kind::kField);
  CHECK(env.Cmp("due < created").left.value_kind == ValueKind::kString);
  CHECK(env.Cmp("data.a = data.b").left.value_kind == ValueKind::kJson);
  CHECK(env.Err("title = views") ==
        "Invalid filter: cannot compare \"title\" (text) with \"views\" (a number) at position 6.");
  CHECK(Contains(env.Err("data.a = views"), "cannot compare"));
  CHECK(Contains(env.Err("published = views"), "cannot compare"));

  // ~ compares text.
  CHECK(env.Cmp("title ~ 5").right.literal == Str("5"));
  CHECK(env.Cmp("data.s ~ 5").right.literal == Str("5"));
  CHECK(env.Err("views ~ 1") ==
        "Invalid filter: ~ compares text, and \"views\" (a number) is not text at position 0.");
  CHECK(Contains(env.Err("published !~ published"), "!~ compares text"));
}

TEST_CASE("Resolve joins @collection rows by alias", "[domain][filter][resolver]") {
  Env env;
  const ResolvedFilter one =
      env.Ok("@collection.users.name = \"Alice\" && @collection.users.email != \"\"");
  REQUIRE(one.joins.size() == 1);
  CHECK(one.joins[0].alias == "users");
  CHECK(one.joins[0].collection == &env.fx.users);
  REQUIRE(one.condition.kind == Condition::Kind::kAnd);
  CHECK(one.condition.children[0].compare.left.join == 0);
  CHECK(one.condition.children[1].compare.left.join == 0);
  CHECK(one.condition.children[0].compare.left.collection == &env.fx.users);

  const ResolvedFilter two =
      env.Ok("@collection.users:a.name = \"Alice\" && @collection.users:b.name = \"Bob\" && "
             "@collection.users.name = title");
  REQUIRE(two.joins.size() == 3);
  CHECK(two.joins[0].alias == "a");
  CHECK(two.joins[1].alias == "b");
  CHECK(two.joins[2].alias == "users");
  CHECK(two.condition.children[1].compare.left.join == 1);
  CHECK(two.condition.children[2].compare.left.join == 2);

  // Paths continue from the joined row; by id or name, case-insensitively by name.
  const Comparison team = env.Cmp("@collection.USERS.team.name = \"Red\"");
  CHECK(team.left.join == 0);
  CHECK(team.left.hops.size() == 1);
  CHECK(env.Cmp("@collection.pbc_teams.name = \"Red\"").left.collection == &env.fx.teams);

  // A join only a folded comparison used is dropped.
  const ResolvedFilter pruned =
      env.Ok("(@collection.users.name = \"x\" && 1 = 2) || @collection.teams.name = title");
  REQUIRE(pruned.joins.size() == 1);
  CHECK(pruned.joins[0].collection == &env.fx.teams);
  CHECK(pruned.condition.compare.left.join == 0);

  CHECK(Contains(env.Err("@collection.nope.name = 1"), "unknown collection \"nope\""));
  CHECK(Contains(env.Err("@collection.users = 1"), "needs a collection and a field"));
  CHECK(Contains(env.Err("@collection.users:x = 1"), "needs a collection and a field"));
  CHECK(Contains(env.Err("@collection.users:x.name = 1 && @collection.teams:x.name = 1"),
                 "the alias \"x\" already names the collection \"users\""));
  CHECK(Contains(env.Err("@collection.users.secret = 1"), "is hidden"));
  env.options.max_joins = 1;
  CHECK(Contains(env.Err("@collection.users.name = 1 && @collection.teams.name = 1"),
                 "more than 1 @collection joins"));
}

TEST_CASE("Resolve: geoDistance, on by default", "[domain][filter][resolver]") {
  Env env;
  CHECK(ResolveOptions{}.enable_geo_distance);
  env.options.enable_geo_distance = false;
  CHECK(Contains(env.Err("geoDistance(views, views, 1, 2) < 5"),
                 "the function geoDistance is not enabled"));
  CHECK(Contains(env.Err("strftime(\"%Y\", created) = \"2024\""),
                 "unknown function \"strftime\""));
  env.options.enable_geo_distance = true;
  const Comparison fields = env.Cmp("geoDistance(views, data.lat, 2.35, 48.85) < 25");
  CHECK(fields.left.kind == ResolvedOperand::Kind::kGeoDistance);
  CHECK(fields.left.value_kind == ValueKind::kNumber);
  REQUIRE(fields.left.args.size() == 4);
  CHECK(fields.left.args[0].field->name == "views");
  CHECK(fields.left.args[1].value_kind == ValueKind::kJson);
  CHECK(fields.left.args[2].literal == JsonValue::Number(2.35));
  CHECK(env.Cmp("geoDistance(views, views, 0, 0) < \"25\"").right.literal ==
        JsonValue::Integer(25));
  // Paris to London is about 344 km; with literals only, the distance is folded.
  CHECK(env.Kind("geoDistance(2.3522, 48.8566, -0.1276, 51.5072) > 340") ==
        Condition::Kind::kTrue);
  CHECK(env.Kind("geoDistance(2.3522, 48.8566, -0.1276, 51.5072) < 350") ==
        Condition::Kind::kTrue);
  CHECK(env.Kind("geoDistance(null, 1, 2, 3) = null") == Condition::Kind::kTrue);
  CHECK(Contains(env.Err("geoDistance(1, 2, 3) < 1"), "takes 4 arguments"));
  CHECK(Contains(env.Err("geoDistance(title, 2, 3, 4) < 1"), "single numbers"));
  CHECK(Contains(env.Err("geoDistance(editors.name, 2, 3, 4) < 1"), "single numbers"));
  CHECK(Contains(env.Err("geoDistance(\"a\", 2, 3, 4) < 1"), "are numbers"));
  CHECK(Contains(env.Err("geoDistance(f(1), 2, 3, 4) < 1"), "cannot be function calls"));
  CHECK(Contains(env.Err("geoDistance(1, 2, 3, 4) < published"), "cannot be compared"));
}

TEST_CASE("And() keeps the joins of both filters apart", "[domain][filter][resolver]") {
  Env env;
  ResolvedFilter rule = env.Ok("@collection.users.name = title");
  ResolvedFilter client = env.Ok("@collection.users.email = \"a@b.c\" && views > 1");
  const ResolvedFilter both = And(std::move(rule), std::move(client));
  REQUIRE(both.joins.size() == 2);
  REQUIRE(both.condition.kind == Condition::Kind::kAnd);
  REQUIRE(both.condition.children.size() == 3);
  CHECK(both.condition.children[0].compare.left.join == 0);
  CHECK(both.condition.children[1].compare.left.join == 1);
  CHECK(both.condition.children[2].compare.left.join == -1);

  const ResolvedFilter constant = And(env.Ok("1 = 1"), env.Ok("@collection.teams.name = title"));
  CHECK(constant.joins.size() == 1);
  CHECK(constant.condition.compare.right.join == -1);
  CHECK(constant.condition.compare.left.join == 0);
  CHECK(And(env.Ok("1 = 2"), env.Ok("@collection.teams.name = title")).joins.empty());
}

TEST_CASE("ResolveSort reads PocketBase's sort parameter", "[domain][filter][resolver]") {
  Fixture fx;
  auto sort = ResolveSort("-views,author.name, +title ,@random,created,tags:length,title:lower",
                          fx.schema, fx.posts);
  REQUIRE(sort);
  REQUIRE(sort->size() == 7);
  CHECK((*sort)[0].descending);
  CHECK((*sort)[0].key.field->name == "views");
  CHECK_FALSE((*sort)[1].descending);
  CHECK((*sort)[1].key.hops.size() == 1);
  CHECK((*sort)[1].key.field->name == "name");
  CHECK((*sort)[2].key.field->name == "title");
  CHECK((*sort)[3].random);
  CHECK((*sort)[4].key.field->name == "created");
  CHECK((*sort)[5].key.modifier == Modifier::kLength);
  CHECK((*sort)[6].key.modifier == Modifier::kLower);

  CHECK(ResolveSort("", fx.schema, fx.posts)->empty());
  CHECK(ResolveSort(" , ", fx.schema, fx.posts)->empty());
  CHECK(ResolveSort("data.a.b", fx.schema, fx.posts)->front().key.json_path.size() == 2);

  auto message = [&](std::string_view text, ResolveOptions options = {}) {
    auto result = ResolveSort(text, fx.schema, fx.posts, options);
    INFO(text);
    if (result) return std::string("(resolved)");
    CHECK(result.error().code == ErrorCode::kInvalidArgument);
    return result.error().message;
  };
  CHECK(message("title,-nope") ==
        "Invalid sort: unknown field \"nope\" in the collection \"posts\" at position 7.");
  CHECK(message("tags") ==
        "Invalid sort: \"tags\" has several values per record and cannot be sorted by at "
        "position 0.");
  CHECK(Contains(message("editors.name"), "several values"));
  CHECK(Contains(message("comments_via_post.body"), "several values"));
  CHECK(Contains(message("hiddenField"), "is hidden"));
  ResolveOptions hidden;
  hidden.allow_hidden = true;
  CHECK(message("hiddenField", hidden) == "(resolved)");
  CHECK(Contains(message("@rowid"), "only fields and @random can be sorted by"));
  CHECK(Contains(message("@request.auth.id"), "is not a field"));
  CHECK(Contains(message("-"), "a sort term needs a field"));
  CHECK(Contains(message("title desc"), "invalid identifier"));
  CHECK(Contains(message("title:isset"), ":isset applies"));
  ResolveOptions few;
  few.max_sort_terms = 2;
  CHECK(Contains(message("title,views,created", few), "more than 2 terms"));
  CHECK(message(std::string(5000, 'a')) == "Invalid sort: longer than 4096 bytes.");
}

TEST_CASE("Resolve accepts a hand-built tree and validates its identifiers",
          "[domain][filter][resolver]") {
  Env env;
  Expr expr;
  expr.kind = Expr::Kind::kCompare;
  expr.left.kind = Operand::Kind::kIdentifier;
  expr.left.text = "ti tle";
  expr.right.kind = Operand::Kind::kNumber;
  expr.right.number = 1;
  auto result = Resolve(expr, env.fx.schema, env.fx.posts, env.request);
  REQUIRE_FALSE(result);
  CHECK(Contains(result.error().message, "invalid identifier"));

  Expr empty_and;
  empty_and.kind = Expr::Kind::kAnd;
  CHECK(Resolve(empty_and, env.fx.schema, env.fx.posts, env.request)->condition.kind ==
        Condition::Kind::kTrue);
  Expr empty_or;
  empty_or.kind = Expr::Kind::kOr;
  CHECK(Resolve(empty_or, env.fx.schema, env.fx.posts, env.request)->condition.kind ==
        Condition::Kind::kFalse);
  CHECK(Resolve(empty_or, nullptr, env.fx.posts, env.request).error().code ==
        ErrorCode::kInternal);
}

TEST_CASE("The store-guarantee checker catches broken trees", "[domain][filter][resolver]") {
  // The checker is what the fuzz target and the tests above rely on: it must be able to fail.
  Env env;
  ResolvedFilter filter = env.Ok("title = \"x\"");
  CHECK(socle::filter_test::BrokenGuarantee(filter).empty());
  ResolvedFilter two_literals = filter;
  two_literals.condition.compare.left = two_literals.condition.compare.right;
  CHECK(socle::filter_test::BrokenGuarantee(two_literals) == "two literals");
  ResolvedFilter kinds = filter;
  kinds.condition.compare.right.literal = JsonValue::Integer(1);
  kinds.condition.compare.right.value_kind = ValueKind::kNumber;
  CHECK(socle::filter_test::BrokenGuarantee(kinds) == "kinds differ");
  ResolvedFilter date = env.Ok("due = \"2024-05-01\"");
  date.condition.compare.right.literal = Str("2024-05-01");
  CHECK(socle::filter_test::BrokenGuarantee(date) == "date literal not canonical");
  ResolvedFilter join = env.Ok("@collection.users.name = title");
  join.joins.push_back(join.joins[0]);
  CHECK(socle::filter_test::BrokenGuarantee(join) == "unused join");
}
