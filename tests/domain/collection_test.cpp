#include "socle/domain/collection.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "socle/domain/record.hpp"

using namespace socle::domain;

TEST_CASE("ParseIndexSql reads PocketBase's index declarations", "[domain][collection][index]") {
  SECTION("backquoted, as PocketBase exports them") {
    std::string table;
    auto index = ParseIndexSql("CREATE UNIQUE INDEX `idx_title` ON `posts` (`title`)", &table);
    REQUIRE(index);
    CHECK(index->name == "idx_title");
    CHECK(index->unique);
    CHECK(table == "posts");
    REQUIRE(index->columns.size() == 1);
    CHECK(index->columns[0] == IndexColumn{"title", false});
  }
  SECTION("bare, double-quoted and bracketed identifiers, any keyword case, ASC/DESC") {
    auto index = ParseIndexSql(
        "  create\tindex if NOT exists \"idx a\"\n on [my table] ( a asc ,\"b\"DESC, [c] Desc ) ; "
        " ");
    REQUIRE(index);
    CHECK(index->name == "idx a");
    CHECK_FALSE(index->unique);
    REQUIRE(index->columns.size() == 3);
    CHECK(index->columns[0] == IndexColumn{"a", false});
    CHECK(index->columns[1] == IndexColumn{"b", true});
    CHECK(index->columns[2] == IndexColumn{"c", true});
  }
  SECTION("doubled quotes escape a quote inside an identifier") {
    auto index = ParseIndexSql("CREATE INDEX `i``x` ON \"t\"\"q\" (\"a\"\"b\")");
    REQUIRE(index);
    CHECK(index->name == "i`x");
    CHECK(index->columns[0].field == "a\"b");
  }
  SECTION("a partial index over non-empty values, as PocketBase's auth collections declare") {
    auto index = ParseIndexSql(
        "CREATE UNIQUE INDEX `idx_email__pb_users_auth_` ON `users` (`email`) WHERE `email` != ''");
    REQUIRE(index);
    CHECK(index->where_not_empty == std::vector<std::string>{"email"});
    auto two = ParseIndexSql("CREATE INDEX i ON t (a, b) WHERE a <> '' and \"b\" != '';");
    REQUIRE(two);
    CHECK(two->where_not_empty == std::vector<std::string>{"a", "b"});
  }
  SECTION("a quoted keyword is an identifier") {
    auto index = ParseIndexSql("CREATE INDEX idx ON t (`desc`, \"where\")");
    REQUIRE(index);
    CHECK(index->columns[0] == IndexColumn{"desc", false});
    CHECK(index->columns[1] == IndexColumn{"where", false});
  }
}

TEST_CASE("ParseIndexSql refuses what Socle cannot build portably", "[domain][collection][index]") {
  struct Case {
    std::string sql;
    std::string message_part;
  };
  for (const auto& c : {
           Case{"CREATE UNIQUE INDEX i ON users (email) WHERE email = ''",
                "unexpected character '='"},
           Case{"CREATE UNIQUE INDEX i ON users (email) WHERE email != email",
                "only WHERE column != '' conditions"},
           Case{"CREATE UNIQUE INDEX i ON users (email) WHERE email != 'x'",
                "only WHERE column != '' conditions"},
           Case{"CREATE UNIQUE INDEX i ON users (email) WHERE email != ''' OR 1",
                "unterminated string literal"},
           Case{"CREATE UNIQUE INDEX i ON users (email) WHERE email != '' OR a != ''",
                "expected the end of the declaration"},
           Case{"CREATE UNIQUE INDEX i ON users (email) WHERE", "expected a column name in WHERE"},
           Case{"CREATE INDEX i ON t (lower(title))", "expressions are not supported"},
           Case{"CREATE INDEX i ON t (title COLLATE NOCASE)", "COLLATE is not supported"},
           Case{"CREATE INDEX i ON t (a + b)", "unexpected character '+'"},
           Case{"CREATE INDEX i ON t ()", "expected a column name"},
           Case{"CREATE INDEX i ON t (a", "expected ',' or ')' but found the end"},
           Case{"CREATE INDEX i ON t (a,)", "expected a column name"},
           Case{"CREATE TABLE t (a)", "expected INDEX"},
           Case{"INDEX i ON t (a)", "expected CREATE"},
           Case{"CREATE INDEX ON t (a)", "expected ON but found 't'"},
           Case{"CREATE INDEX s.i ON t (a)", "schema-qualified"},
           Case{"CREATE INDEX i ON t (a) garbage", "expected the end of the declaration"},
           Case{"CREATE INDEX i ON t (a); DROP TABLE t", "expected the end of the declaration"},
           Case{"CREATE INDEX `i ON t (a)", "unterminated quoted identifier"},
           Case{"CREATE INDEX `` ON t (a)", "empty quoted identifier"},
           Case{"CREATE INDEX IF EXISTS i ON t (a)", "expected NOT"},
           Case{"", "expected CREATE but found the end"},
       }) {
    INFO(c.sql);
    auto index = ParseIndexSql(c.sql);
    REQUIRE_FALSE(index);
    CHECK(index.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(index.error().message, Catch::Contains(c.message_part));
    CHECK_THAT(index.error().message, Catch::StartsWith("Invalid CREATE INDEX declaration: "));
  }
}

TEST_CASE("ToIndexSql writes PocketBase's spelling and reads back the same",
          "[domain][collection][index]") {
  CollectionIndex index{"idx_a", true, {{"title", false}, {"created", true}}, {}};
  CHECK(ToIndexSql(index, "posts") ==
        "CREATE UNIQUE INDEX `idx_a` ON `posts` (`title`, `created` DESC)");
  CHECK(ToIndexSql(CollectionIndex{"i", false, {{"x", false}}, {}}, "t") ==
        "CREATE INDEX `i` ON `t` (`x`)");

  for (const auto& original :
       {index, CollectionIndex{"we`ird", false, {{"a`b", true}}, {}},
        CollectionIndex{"e", true, {{"email", false}}, {"email", "o`k"}},
        CollectionIndex{"i", false, {{"a", false}, {"b", false}, {"c", true}}, {}}}) {
    std::string table;
    auto parsed = ParseIndexSql(ToIndexSql(original, "my`table"), &table);
    REQUIRE(parsed);
    CHECK(*parsed == original);
    CHECK(table == "my`table");
  }
}

TEST_CASE("SystemFields are PocketBase's id, created and updated", "[domain][collection]") {
  auto fields = SystemFields();
  REQUIRE(fields.size() == 3);
  CHECK(fields[0].name == "id");
  CHECK(fields[0].type == FieldType::kText);
  CHECK(fields[0].primary_key);
  CHECK(fields[0].id == "text3208210256");
  CHECK(fields[1].name == "created");
  CHECK(fields[1].on_create);
  CHECK_FALSE(fields[1].on_update);
  CHECK(fields[2].name == "updated");
  CHECK(fields[2].on_create);
  CHECK(fields[2].on_update);
  for (const auto& field : fields) CHECK(field.system);
}

TEST_CASE("Field types and collection types round trip through their names",
          "[domain][collection]") {
  for (auto type : {FieldType::kText, FieldType::kEditor, FieldType::kNumber, FieldType::kBool,
                    FieldType::kEmail, FieldType::kUrl, FieldType::kDate, FieldType::kAutodate,
                    FieldType::kSelect, FieldType::kJson, FieldType::kRelation, FieldType::kFile,
                    FieldType::kPassword}) {
    CHECK(ParseFieldType(ToString(type)) == type);
  }
  CHECK_FALSE(ParseFieldType("geoPoint"));
  CHECK_FALSE(ParseFieldType("Text"));
  CHECK(ParseCollectionType("view") == CollectionType::kView);
  CHECK_FALSE(ParseCollectionType("Base"));
}

TEST_CASE("Multiple-valued fields and zero values follow the canonical table", "[domain][record]") {
  Field select;
  select.type = FieldType::kSelect;
  select.max_select = 1;
  CHECK_FALSE(select.IsMultiple());
  CHECK(ZeroValue(select) == JsonValue::String(""));
  select.max_select = 2;
  CHECK(select.IsMultiple());
  CHECK(ZeroValue(select) == JsonValue::Array({}));
  Field number;
  number.type = FieldType::kNumber;
  number.max_select = 5;  // meaningless for numbers
  CHECK_FALSE(number.IsMultiple());
  CHECK(ZeroValue(number) == JsonValue::Integer(0));

  Collection c;
  c.fields = SystemFields();
  c.fields.push_back(number);
  Record record = EmptyRecord(c);
  REQUIRE(record.values.size() == 4);
  CHECK(record.Id(c).empty());
  CHECK(c.FieldIndex("updated") == 2u);
  CHECK(c.FindFieldById("autodate2990389176")->name == "created");
  CHECK(c.FindField("ID") == nullptr);
}
