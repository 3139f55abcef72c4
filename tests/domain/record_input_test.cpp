#include "socle/domain/record_input.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

using namespace socle::domain;

namespace {

Field MakeField(std::string name, FieldType type) {
  Field field;
  field.id = "f_" + name;
  field.name = std::move(name);
  field.type = type;
  return field;
}

Collection Posts() {
  Collection c;
  c.id = "pbc_posts";
  c.name = "posts";
  c.fields = SystemFields();
  Field title = MakeField("title", FieldType::kText);
  title.required = true;
  title.min = 3;
  title.max = 20;
  c.fields.push_back(title);
  Field views = MakeField("views", FieldType::kNumber);
  views.min = 0;
  views.max = 1000;
  views.only_int = true;
  c.fields.push_back(views);
  c.fields.push_back(MakeField("published", FieldType::kBool));
  c.fields.push_back(MakeField("contact", FieldType::kEmail));
  c.fields.push_back(MakeField("site", FieldType::kUrl));
  Field when = MakeField("when", FieldType::kDate);
  when.min_date = "2020-01-01 00:00:00.000Z";
  when.max_date = "2030-01-01 00:00:00.000Z";
  c.fields.push_back(when);
  Field category = MakeField("category", FieldType::kSelect);
  category.values = {"news", "blog"};
  category.max_select = 1;
  c.fields.push_back(category);
  Field tags = MakeField("tags", FieldType::kSelect);
  tags.values = {"go", "rust", "js", "sql"};
  tags.max_select = 2;
  c.fields.push_back(tags);
  Field author = MakeField("author", FieldType::kRelation);
  author.collection_id = "pbc_users";
  author.max_select = 1;
  c.fields.push_back(author);
  Field authors = MakeField("authors", FieldType::kRelation);
  authors.collection_id = "pbc_users";
  authors.max_select = 5;
  c.fields.push_back(authors);
  c.fields.push_back(MakeField("meta", FieldType::kJson));
  c.fields.push_back(MakeField("body", FieldType::kEditor));
  Field cover = MakeField("cover", FieldType::kFile);
  cover.max_select = 1;
  c.fields.push_back(cover);
  Field docs = MakeField("docs", FieldType::kFile);
  docs.max_select = 3;
  c.fields.push_back(docs);
  c.fields.push_back(MakeField("password", FieldType::kPassword));
  Field touched = MakeField("touched", FieldType::kAutodate);
  touched.on_update = true;
  c.fields.push_back(touched);
  return c;
}

JsonValue Obj(std::vector<JsonValue::Member> members) {
  return JsonValue::Object(std::move(members));
}
JsonValue S(std::string s) { return JsonValue::String(std::move(s)); }
JsonValue Strings(std::vector<std::string> items) {
  std::vector<JsonValue> values;
  for (auto& item : items) values.push_back(S(std::move(item)));
  return JsonValue::Array(std::move(values));
}

const Timestamp kNow = Timestamp::FromUnixMicros(1714555800123000);  // 2024-05-01 09:30:00.123Z

RecordInputOptions Options(InputFormat format = InputFormat::kJson) {
  RecordInputOptions options;
  options.format = format;
  options.now = kNow;
  options.autogenerate = [](const Field&) { return std::string("abcdefghij12345"); };
  return options;
}

Result<Record> Create(const Collection& c, const JsonValue& body,
                      const RecordInputOptions& options = Options()) {
  return ApplyRecordInput(c, EmptyRecord(c), body, true, options);
}

JsonValue Get(const Collection& c, const Record& r, std::string_view name) {
  return *r.Get(c, name);
}

std::map<std::string, std::string> Errors(const Result<Record>& result) {
  std::map<std::string, std::string> errors;
  if (result) return errors;
  for (const auto& f : result.error().fields) errors[f.field] = f.code;
  return errors;
}

std::string MessageOf(const Result<Record>& result, const std::string& key) {
  if (result) return "";
  for (const auto& f : result.error().fields) {
    if (f.field == key) return f.message;
  }
  return "";
}

using ErrorMap = std::map<std::string, std::string>;

}  // namespace

TEST_CASE("ApplyRecordInput creates a record with canonical values", "[domain][record_input]") {
  const Collection c = Posts();
  auto record = Create(c, Obj({{"title", S("Hello")},
                               {"views", S("12")},
                               {"published", S("true")},
                               {"contact", S("a@example.com")},
                               {"site", S("https://example.com/x?y#z")},
                               {"when", S("2024-05-05T12:30:00+02:00")},
                               {"category", Strings({"news", "blog"})},
                               {"tags", S("go")},
                               {"author", Strings({"abc"})},
                               {"authors", Strings({"u1", "u2", "u1", ""})},
                               {"meta", Obj({{"k", S("v")}})},
                               {"body", S("<p>hi</p>")},
                               {"unknown", S("ignored")},
                               {"created", S("2000-01-01 00:00:00.000Z")},
                               {"touched", S("2000-01-01 00:00:00.000Z")},
                               {"password", S("secret123")},
                               {"expand", S("x")}}));
  REQUIRE(record);
  CHECK(record->values.size() == c.fields.size());
  CHECK(Get(c, *record, "id") == S("abcdefghij12345"));  // autogenerated
  CHECK(Get(c, *record, "created") == S("2024-05-01 09:30:00.123Z"));
  CHECK(Get(c, *record, "updated") == S("2024-05-01 09:30:00.123Z"));
  CHECK(Get(c, *record, "touched") == S(""));  // on update only
  CHECK(Get(c, *record, "title") == S("Hello"));
  CHECK(Get(c, *record, "views") == JsonValue::Integer(12));
  CHECK(Get(c, *record, "views").AsInt64() == 12);
  CHECK(Get(c, *record, "published") == JsonValue::Bool(true));
  CHECK(Get(c, *record, "when") == S("2024-05-05 10:30:00.000Z"));
  CHECK(Get(c, *record, "category") == S("blog"));  // a single select keeps the last
  CHECK(Get(c, *record, "tags") == Strings({"go"}));
  CHECK(Get(c, *record, "author") == S("abc"));
  CHECK(Get(c, *record, "authors") == Strings({"u1", "u2"}));
  CHECK(Get(c, *record, "meta") == Obj({{"k", S("v")}}));
  CHECK(Get(c, *record, "password") == S(""));  // left to the authentication work
}

TEST_CASE("ApplyRecordInput coerces values as PocketBase's casts do", "[domain][record_input]") {
  const Collection c = Posts();
  auto value_of = [&](std::string_view name, JsonValue given,
                      InputFormat format = InputFormat::kJson) {
    auto record = Create(c, Obj({{"title", S("Valid")}, {std::string(name), std::move(given)}}),
                         Options(format));
    if (!record) return JsonValue::String("<error " + record.error().fields.at(0).code + ">");
    return Get(c, *record, name);
  };
  // text from numbers and booleans; arrays and objects become "".
  CHECK(value_of("title", JsonValue::Integer(12345)) == S("12345"));
  CHECK(value_of("title", JsonValue::Number(1.25)) == S("1.25"));
  CHECK(value_of("title", JsonValue::Bool(true)) == S("true"));
  CHECK(value_of("body", Strings({"a"})) == S(""));
  CHECK(value_of("body", JsonValue::Null()) == S(""));
  // numbers from strings, booleans; garbage becomes 0.
  CHECK(value_of("views", S("7")) == JsonValue::Integer(7));
  CHECK(value_of("views", S("+8")) == JsonValue::Integer(8));
  CHECK(value_of("views", S("1e2")) == JsonValue::Integer(100));
  CHECK(value_of("views", S("abc")) == JsonValue::Integer(0));
  CHECK(value_of("views", S(" 5")) == JsonValue::Integer(0));
  CHECK(value_of("views", JsonValue::Bool(true)) == JsonValue::Integer(1));
  CHECK(value_of("views", Strings({"3"})) == JsonValue::Integer(0));
  CHECK(value_of("views", Strings({"3", "4"}), InputFormat::kForm) == JsonValue::Integer(4));
  // booleans.
  for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    CHECK(value_of("published", S(yes)) == JsonValue::Bool(true));
  }
  for (const char* no : {"0", "f", "false", "", "yes", "on"}) {
    CHECK(value_of("published", S(no)) == JsonValue::Bool(false));
  }
  CHECK(value_of("published", JsonValue::Integer(2)) == JsonValue::Bool(true));
  CHECK(value_of("published", JsonValue::Integer(0)) == JsonValue::Bool(false));
  // dates: every accepted spelling, unparsable ones become "".
  CHECK(value_of("when", S("2024-05-05")) == S("2024-05-05 00:00:00.000Z"));
  CHECK(value_of("when", S("2024-05-05 12:30")) == S("2024-05-05 12:30:00.000Z"));
  CHECK(value_of("when", S("2024-05-05T12:30:00Z")) == S("2024-05-05 12:30:00.000Z"));
  CHECK(value_of("when", S("2024-05-05 12:30:00.5Z")) == S("2024-05-05 12:30:00.500Z"));
  CHECK(value_of("when", S("2024-05-05T01:30:00-0230")) == S("2024-05-05 04:00:00.000Z"));
  CHECK(value_of("when", S("not a date")) == S(""));
  CHECK(value_of("when", S("2024-02-30")) == S(""));
  CHECK(value_of("when", JsonValue::Integer(1700000000)) == S(""));
  // lists.
  CHECK(value_of("tags", S("")) == Strings({}));
  CHECK(value_of("tags", JsonValue::Null()) == Strings({}));
  CHECK(value_of("tags", Strings({"js", "js"})) == Strings({"js"}));
  CHECK(value_of("author", S("")) == S(""));
  CHECK(value_of("author", Strings({})) == S(""));
  CHECK(value_of("tags", S("[\"go\",\"rust\"]")) == S("<error validation_invalid_value>"));
  // json: strings that spell JSON scalars become them; others stay strings without a parser.
  CHECK(value_of("meta", S("true")) == JsonValue::Bool(true));
  CHECK(value_of("meta", S("null")) == JsonValue::Null());
  CHECK(value_of("meta", S("-1.5")) == JsonValue::Number(-1.5));
  CHECK(value_of("meta", S("12")) == JsonValue::Integer(12));
  CHECK(value_of("meta", S("12abc")) == S("12abc"));
  CHECK(value_of("meta", S("hello")) == S("hello"));
  CHECK(value_of("meta", S("")) == S(""));
  CHECK(value_of("meta", S("[1,2]")) == S("[1,2]"));
  CHECK(value_of("meta", JsonValue::Integer(3)) == JsonValue::Integer(3));
}

TEST_CASE("ApplyRecordInput uses the caller's JSON parser where PocketBase parses text",
          "[domain][record_input]") {
  const Collection c = Posts();
  RecordInputOptions options = Options(InputFormat::kForm);
  int calls = 0;
  options.parse_json = [&calls](std::string_view text) -> Result<JsonValue> {
    ++calls;
    if (text == "[1,2]") return JsonValue::Array({JsonValue::Integer(1), JsonValue::Integer(2)});
    if (text == "[\"go\",\"rust\"]") return Strings({"go", "rust"});
    if (text == "\"quoted\"") return S("quoted");
    return Fail(ErrorCode::kInvalidArgument, "bad json");
  };
  auto record = Create(c,
                       Obj({{"title", S("Form")},
                            {"meta", S("[1,2]")},
                            {"body", S("{broken")},
                            {"tags", S("[\"go\",\"rust\"]")}}),
                       options);
  REQUIRE(record);
  CHECK(Get(c, *record, "meta") ==
        JsonValue::Array({JsonValue::Integer(1), JsonValue::Integer(2)}));
  CHECK(Get(c, *record, "tags") == Strings({"go", "rust"}));
  CHECK(Get(c, *record, "body") == S("{broken"));  // editor fields never parse
  CHECK(calls == 2);

  auto quoted = Create(c, Obj({{"title", S("Form")}, {"meta", S("\"quoted\"")}}), options);
  REQUIRE(quoted);
  CHECK(Get(c, *quoted, "meta") == S("quoted"));
  auto broken = Create(c, Obj({{"title", S("Form")}, {"meta", S("{broken")}}), options);
  REQUIRE(broken);
  CHECK(Get(c, *broken, "meta") == S("{broken"));
}

TEST_CASE("ApplyRecordInput: modifiers", "[domain][record_input]") {
  const Collection c = Posts();
  auto created = Create(c, Obj({{"title", S("Mods")},
                                {"tags", Strings({"go"})},
                                {"views", JsonValue::Integer(10)},
                                {"authors", Strings({"a1"})}}));
  REQUIRE(created);
  auto update = [&](const Record& base, JsonValue body) {
    return ApplyRecordInput(c, base, body, false, Options());
  };
  auto r = update(*created, Obj({{"tags+", S("rust")}, {"views+", JsonValue::Integer(5)}}));
  REQUIRE(r);
  CHECK(Get(c, *r, "tags") == Strings({"go", "rust"}));
  CHECK(Get(c, *r, "views") == JsonValue::Integer(15));
  r = update(*r, Obj({{"tags-", S("go")}, {"views-", S("3")}}));
  REQUIRE(r);
  CHECK(Get(c, *r, "tags") == Strings({"rust"}));
  CHECK(Get(c, *r, "views") == JsonValue::Integer(12));
  r = update(*r,
             Obj({{"+tags", S("js")}, {"+authors", Strings({"a0", "a1"})}, {"authors+", S("a2")}}));
  REQUIRE(r);
  CHECK(Get(c, *r, "tags") == Strings({"js", "rust"}));
  CHECK(Get(c, *r, "authors") == Strings({"a0", "a1", "a2"}));
  // Plain keys first, then modifiers, whatever the body's order.
  auto both = update(*r, Obj({{"tags+", S("go")}, {"tags", Strings({"sql"})}}));
  REQUIRE(both);
  CHECK(Get(c, *both, "tags") == Strings({"sql", "go"}));
  // Exceeding maxSelect with a modifier fails validation.
  auto too_many = update(*r, Obj({{"tags+", S("sql")}}));
  CHECK(Errors(too_many) == ErrorMap{{"tags", "validation_too_many_values"}});
  CHECK(MessageOf(too_many, "tags") == "Select no more than 2.");
  // A single relation appended to keeps the last value.
  auto single = update(*r, Obj({{"author", S("x1")}, {"author+", S("x2")}}));
  REQUIRE(single);
  CHECK(Get(c, *single, "author") == S("x2"));
  // Modifiers on other types, and "+views", are ignored.
  auto ignored =
      update(*r, Obj({{"title+", S("x")}, {"+views", JsonValue::Integer(1)}, {"nope+", S("x")}}));
  REQUIRE(ignored);
  CHECK(Get(c, *ignored, "title") == S("Mods"));
  CHECK(Get(c, *ignored, "views") == JsonValue::Integer(12));
}

TEST_CASE("ApplyRecordInput: id on create and update, autodates", "[domain][record_input]") {
  const Collection c = Posts();
  auto created = Create(c, Obj({{"id", S("myid12345678901")}, {"title", S("Ids")}}));
  REQUIRE(created);
  CHECK(created->Id(c) == "myid12345678901");

  SECTION("the id field's rules apply to a given id") {
    CHECK(Errors(Create(c, Obj({{"id", S("short")}, {"title", S("Ids")}}))) ==
          ErrorMap{{"id", "validation_min_text_constraint"}});
    CHECK(Errors(Create(c, Obj({{"id", S("UPPERCASE123456")}, {"title", S("Ids")}}))) ==
          ErrorMap{{"id", "validation_invalid_format"}});
    CHECK(Errors(Create(c, Obj({{"id", S("abc/defghij1234")}, {"title", S("Ids")}}))) ==
          ErrorMap{{"id", "validation_pk_forbidden"}});
  }
  SECTION("without a generator an empty id is required") {
    RecordInputOptions options = Options();
    options.autogenerate = nullptr;
    CHECK(Errors(Create(c, Obj({{"title", S("Ids")}}), options)) ==
          ErrorMap{{"id", "validation_required"}});
  }
  SECTION("on update the id may be repeated but not changed; autodates move") {
    RecordInputOptions later = Options();
    later.now = Timestamp::FromUnixMicros(kNow.unix_micros() + 1000000);
    auto same = ApplyRecordInput(
        c, *created, Obj({{"id", S("myid12345678901")}, {"title", S("Renamed")}}), false, later);
    REQUIRE(same);
    CHECK(Get(c, *same, "created") == S("2024-05-01 09:30:00.123Z"));
    CHECK(Get(c, *same, "updated") == S("2024-05-01 09:30:01.123Z"));
    CHECK(Get(c, *same, "touched") == S("2024-05-01 09:30:01.123Z"));
    auto changed = ApplyRecordInput(c, *created, Obj({{"id", S("other1234567890")}}), false, later);
    CHECK(Errors(changed) == ErrorMap{{"id", "validation_pk_change"}});
    CHECK(MessageOf(changed, "id") == "The record primary key cannot be changed.");
  }
}

TEST_CASE("ApplyRecordInput reports every field error with PocketBase's codes",
          "[domain][record_input]") {
  const Collection c = Posts();
  SECTION("required and text bounds") {
    auto r = Create(c, Obj({}));
    CHECK(Errors(r) == ErrorMap{{"title", "validation_required"}});
    CHECK(MessageOf(r, "title") == "Cannot be blank.");
    r = Create(c, Obj({{"title", S("ab")}}));
    CHECK(Errors(r) == ErrorMap{{"title", "validation_min_text_constraint"}});
    CHECK(MessageOf(r, "title") == "Must be at least 3 character(s).");
    r = Create(c, Obj({{"title", S(std::string(21, 'x'))}}));
    CHECK(MessageOf(r, "title") == "Must be no more than 20 character(s).");
    // Characters, not bytes: 20 two-byte characters fit.
    std::string accents;
    for (int i = 0; i < 20; ++i) accents += "\xc3\xa9";
    CHECK(Create(c, Obj({{"title", S(accents)}})));
  }
  SECTION("numbers") {
    auto r = Create(c, Obj({{"title", S("Num")}, {"views", JsonValue::Number(1.5)}}));
    CHECK(Errors(r) == ErrorMap{{"views", "validation_only_int_constraint"}});
    CHECK(MessageOf(r, "views") == "Decimal numbers are not allowed.");
    r = Create(c, Obj({{"title", S("Num")}, {"views", JsonValue::Integer(-1)}}));
    CHECK(Errors(r) == ErrorMap{{"views", "validation_min_number_constraint"}});
    CHECK(MessageOf(r, "views") == "Must be larger than 0.000000.");
    r = Create(c, Obj({{"title", S("Num")}, {"views", JsonValue::Integer(1001)}}));
    CHECK(Errors(r) == ErrorMap{{"views", "validation_max_number_constraint"}});
    CHECK(MessageOf(r, "views") == "Must be less than 1000.000000.");
    r = Create(c, Obj({{"title", S("Num")}, {"views", S("Infinity")}}));
    CHECK(Errors(r) == ErrorMap{{"views", "validation_not_a_number"}});
    r = Create(c, Obj({{"title", S("Num")}, {"views", S("nan")}}));
    CHECK(Errors(r) == ErrorMap{{"views", "validation_not_a_number"}});
  }
  SECTION("email, url, domains") {
    Collection restricted = c;
    restricted.fields[6].except_domains = {"spam.com"};
    restricted.fields[7].only_domains = {"example.com"};
    auto r = Create(
        restricted,
        Obj({{"title", S("Fmt")}, {"contact", S("not-an-email")}, {"site", S("not a url")}}));
    CHECK(Errors(r) ==
          ErrorMap{{"contact", "validation_is_email"}, {"site", "validation_invalid_url"}});
    CHECK(MessageOf(r, "contact") == "Must be a valid email address.");
    CHECK(MessageOf(r, "site") == "Must be a valid url.");
    r = Create(
        restricted,
        Obj({{"title", S("Fmt")}, {"contact", S("a@SPAM.com")}, {"site", S("https://evil.com")}}));
    CHECK(Errors(r) == ErrorMap{{"contact", "validation_email_domain_not_allowed"},
                                {"site", "validation_url_domain_not_allowed"}});
    CHECK(MessageOf(r, "contact") == "Email domain is not allowed.");
    CHECK(MessageOf(r, "site") == "Url domain is not allowed.");
    CHECK(Create(restricted, Obj({{"title", S("Fmt")}, {"site", S("HTTP://Example.com:8080/a")}})));
    for (const char* bad :
         {"ftp://example.com", "https://", "https:// x.com", "example.com", "https://exa mple.com",
          "https://a..b", "https://[zz]/", "http://a:port"}) {
      INFO(bad);
      CHECK(Errors(Create(c, Obj({{"title", S("Fmt")}, {"site", S(bad)}}))) ==
            ErrorMap{{"site", "validation_invalid_url"}});
    }
    CHECK(Create(c, Obj({{"title", S("Fmt")}, {"site", S("http://[::1]:8090/api")}})));
  }
  SECTION("dates") {
    auto r = Create(c, Obj({{"title", S("Date")}, {"when", S("2010-01-01 00:00:00.000Z")}}));
    CHECK(Errors(r) == ErrorMap{{"when", "validation_min_greater_equal_than_required"}});
    CHECK(MessageOf(r, "when") == "Must be no less than 2020-01-01 00:00:00 +0000 UTC.");
    r = Create(c, Obj({{"title", S("Date")}, {"when", S("2040-01-01 00:00:00.000Z")}}));
    CHECK(Errors(r) == ErrorMap{{"when", "validation_max_less_equal_than_required"}});
    CHECK(MessageOf(r, "when") == "Must be no greater than 2030-01-01 00:00:00 +0000 UTC.");
  }
  SECTION("selects and relations") {
    auto r = Create(c, Obj({{"title", S("Sel")},
                            {"category", S("nope")},
                            {"tags", Strings({"go", "rust", "js"})},
                            {"author", S("bad/id")}}));
    CHECK(Errors(r) == ErrorMap{{"category", "validation_invalid_value"},
                                {"tags", "validation_too_many_values"},
                                {"author", "validation_missing_rel_records"}});
    CHECK(MessageOf(r, "category") == "Invalid value nope.");
    CHECK(MessageOf(r, "author") == "Failed to find all relation records with the provided ids.");
    Collection strict = c;
    strict.fields[12].min_select = 2;  // authors
    strict.fields[12].required = true;
    r = Create(strict, Obj({{"title", S("Rel")}, {"authors", S("u1")}}));
    CHECK(Errors(r) == ErrorMap{{"authors", "validation_not_enough_values"}});
    CHECK(MessageOf(r, "authors") == "Select at least 2.");
    r = Create(strict, Obj({{"title", S("Rel")}}));
    CHECK(Errors(r) == ErrorMap{{"authors", "validation_required"}});
  }
  SECTION("json and editor sizes, required json") {
    Collection small = c;
    small.fields[13].max_size = 10;  // meta
    small.fields[14].max_size = 5;   // body
    auto r =
        Create(small, Obj({{"title", S("Big")}, {"meta", S("0123456789")}, {"body", S("123456")}}));
    CHECK(Errors(r) == ErrorMap{{"meta", "validation_json_size_limit"},
                                {"body", "validation_content_size_limit"}});
    CHECK(MessageOf(r, "meta") == "The maximum allowed JSON size is 10 bytes.");
    CHECK(MessageOf(r, "body") == "The maximum allowed content size is 5 bytes.");
    CHECK(Create(small, Obj({{"title", S("Big")}, {"meta", S("01234567")}})));  // 10 bytes quoted
    Collection required = c;
    required.fields[13].required = true;
    for (const auto& empty : {JsonValue::Null(), S(""), JsonValue::Array({}), Obj({})}) {
      CHECK(Errors(Create(required, Obj({{"title", S("Req")}, {"meta", empty}}))) ==
            ErrorMap{{"meta", "validation_required"}});
    }
    CHECK(Create(required, Obj({{"title", S("Req")}, {"meta", JsonValue::Integer(0)}})));
    CHECK(Create(required, Obj({{"title", S("Req")}, {"meta", JsonValue::Bool(false)}})));
  }
  SECTION("files: only known names") {
    RecordInputOptions options = Options();
    options.new_file_names = {"a_1.png", "b_2.png"};
    auto r = Create(c,
                    Obj({{"title", S("Files")},
                         {"cover", S("a_1.png")},
                         {"docs", Strings({"a_1.png", "b_2.png"})}}),
                    options);
    REQUIRE(r);
    CHECK(Get(c, *r, "docs") == Strings({"a_1.png", "b_2.png"}));
    auto stolen = ApplyRecordInput(c, *r, Obj({{"docs+", Strings({"other.txt", "x.txt"})}}), false,
                                   Options());
    CHECK(Errors(stolen) == ErrorMap{{"docs", "validation_invalid_file"}});
    CHECK(MessageOf(stolen, "docs") == "Invalid new files: [other.txt x.txt].");
    // Names the record already holds can be kept or removed without a new upload.
    auto kept = ApplyRecordInput(c, *r, Obj({{"docs-", S("a_1.png")}}), false, Options());
    REQUIRE(kept);
    CHECK(Get(c, *kept, "docs") == Strings({"b_2.png"}));
    options.new_file_names = {"1", "2", "3", "4"};
    auto many =
        Create(c, Obj({{"title", S("Files")}, {"docs", Strings({"1", "2", "3", "4"})}}), options);
    CHECK(Errors(many) == ErrorMap{{"docs", "validation_too_many_files"}});
    CHECK(MessageOf(many, "docs") == "The maximum allowed files is 3.");
  }
  SECTION("every problem at once") {
    auto r = Create(
        c, Obj({{"title", S("x")}, {"views", JsonValue::Integer(5000)}, {"contact", S("bad")}}));
    CHECK(Errors(r) == ErrorMap{{"title", "validation_min_text_constraint"},
                                {"views", "validation_max_number_constraint"},
                                {"contact", "validation_is_email"}});
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("ApplyRecordInput: text defaults, patterns and required scalars",
          "[domain][record_input]") {
  Collection c;
  c.id = "pbc_x";
  c.name = "x";
  c.fields = SystemFields();
  Field plain = MakeField("plain", FieldType::kText);  // max 0: PocketBase's 5000
  c.fields.push_back(plain);
  Field code = MakeField("code", FieldType::kText);
  code.pattern = "[0-9]{3}";  // searched, not anchored, as PocketBase's regexp.MatchString
  c.fields.push_back(code);
  Field flag = MakeField("flag", FieldType::kBool);
  flag.required = true;
  c.fields.push_back(flag);
  Field count = MakeField("count", FieldType::kNumber);
  count.required = true;
  c.fields.push_back(count);
  Field day = MakeField("day", FieldType::kDate);
  day.required = true;
  c.fields.push_back(day);

  auto r = Create(c, Obj({{"plain", S(std::string(5001, 'a'))}, {"code", S("ab")}}));
  CHECK(Errors(r) == ErrorMap{{"plain", "validation_max_text_constraint"},
                              {"code", "validation_invalid_format"},
                              {"flag", "validation_required"},
                              {"count", "validation_required"},
                              {"day", "validation_required"}});
  CHECK(MessageOf(r, "code") == "Invalid value format.");
  auto ok = Create(c, Obj({{"plain", S(std::string(5000, 'a'))},
                           {"code", S("x123y")},
                           {"flag", JsonValue::Bool(true)},
                           {"count", JsonValue::Number(-0.5)},
                           {"day", S("2024-01-01")}}));
  CHECK(ok);
}

TEST_CASE("ApplyRecordInput refuses a non-object body and a misfit base",
          "[domain][record_input]") {
  const Collection c = Posts();
  auto r = ApplyRecordInput(c, EmptyRecord(c), JsonValue::Array({}), true, Options());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  auto misfit = ApplyRecordInput(c, Record{}, Obj({}), true, Options());
  REQUIRE_FALSE(misfit);
  CHECK(misfit.error().code == ErrorCode::kInternal);
}

TEST_CASE("NormalizeDateInput", "[domain][record_input]") {
  CHECK(NormalizeDateInput("2024-05-01 09:30:00.123456Z") == "2024-05-01 09:30:00.123Z");
  CHECK(NormalizeDateInput("2024-05-01T09:30:00+00:00") == "2024-05-01 09:30:00.000Z");
  CHECK(NormalizeDateInput("2024-05-01 09:30:00 +01:00") == "2024-05-01 08:30:00.000Z");
  CHECK_FALSE(NormalizeDateInput("2024-05-01 25:00:00Z"));
  CHECK_FALSE(NormalizeDateInput("2024-05-01T09:30:00+0"));
  CHECK_FALSE(NormalizeDateInput("01/05/2024"));
  CHECK_FALSE(NormalizeDateInput(""));
}

TEST_CASE("ApplyRecordInput refuses NUL characters in text, keeps them in json",
          "[domain][record_input]") {
  const Collection c = Posts();
  const std::string nul("a\0b", 3);
  auto refused = Create(c, Obj({{"title", S("fine")}, {"body", S(nul)},
                                {"authors", Strings({"aaaaaaaaaaaaaaa", nul})}}));
  REQUIRE_FALSE(refused);
  const auto errors = Errors(refused);
  CHECK(errors.at("body") == "validation_invalid_value");
  CHECK(errors.at("authors") == "validation_invalid_value");
  CHECK_FALSE(errors.contains("title"));

  auto kept = Create(c, Obj({{"title", S("fine")}, {"meta", Obj({{"k", S(nul)}})}}));
  REQUIRE(kept);
  CHECK(Get(c, *kept, "meta") == Obj({{"k", S(nul)}}));
}
