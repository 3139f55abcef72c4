#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/record_json.hpp"

using namespace socle::domain;
using socle::adapters::json::Excerpt;
using socle::adapters::json::ExpandRequest;
using socle::adapters::json::FieldSelection;
using socle::adapters::json::JsonWriter;
using socle::adapters::json::ParseJson;
using socle::adapters::json::RecordViewer;
using socle::adapters::json::WriteRecord;
using socle::adapters::json::WriteRecordList;
using socle::adapters::json::WriteSelectedValue;

namespace {

Field MakeField(std::string name, FieldType type, bool hidden = false) {
  Field field;
  field.name = std::move(name);
  field.type = type;
  field.hidden = hidden;
  return field;
}

// posts: id, title, body (editor), secret (hidden), pass (password), author (relation), created
Collection Posts() {
  Collection c;
  c.id = "pbc_1";
  c.name = "posts";
  c.fields = {MakeField("id", FieldType::kText),       MakeField("title", FieldType::kText),
              MakeField("body", FieldType::kEditor),   MakeField("secret", FieldType::kText, true),
              MakeField("pass", FieldType::kPassword), MakeField("author", FieldType::kRelation),
              MakeField("meta", FieldType::kJson)};
  return c;
}

Collection Users() {
  Collection c;
  c.id = "pbc_2";
  c.name = "users";
  c.type = CollectionType::kAuth;
  c.fields = {MakeField("id", FieldType::kText), MakeField("email", FieldType::kEmail),
              MakeField("emailVisibility", FieldType::kBool),
              MakeField("tokenKey", FieldType::kText, true), MakeField("name", FieldType::kText)};
  return c;
}

JsonValue Parse(std::string_view text) {
  auto parsed = ParseJson(text);
  REQUIRE(parsed);
  return *parsed;
}

Record PostRecord(std::string id, std::string title, std::string author) {
  return Record{{JsonValue::String(std::move(id)), JsonValue::String(std::move(title)),
                 JsonValue::String("<p>Hello <b>world</b></p>"), JsonValue::String("s3cret"),
                 JsonValue::String("$2a$hash"), JsonValue::String(std::move(author)),
                 Parse(R"({"a":1,"b":{"c":2,"d":3}})")}};
}

// Shaped like application::ExpandedRecord, which the writer accepts by duck typing.
struct Node {
  const Collection* collection = nullptr;
  Record record;
  struct Expansion {
    std::string name;
    bool multiple = false;
    std::vector<Node> records;
  };
  std::vector<Expansion> expand;
};

struct List {
  std::int64_t page = 1;
  std::int64_t per_page = 30;
  std::int64_t total_items = 0;
  std::int64_t total_pages = 0;
  std::vector<Node> items;
};

FieldSelection Fields(std::string_view text) {
  auto parsed = FieldSelection::Parse(text);
  REQUIRE(parsed);
  return std::move(*parsed);
}

template <typename T>
std::string Write(const T& node, std::string_view fields = "", std::string_view expand = "",
                  RecordViewer viewer = {}) {
  const FieldSelection selection = Fields(fields);
  const ExpandRequest request = ExpandRequest::Parse(expand);
  JsonWriter w;
  WriteRecord(w, node, selection.root(), &request, viewer);
  return std::move(w).Take();
}

}  // namespace

TEST_CASE("a record is written in PocketBase's shape, secrets left out", "[json][records]") {
  const Collection posts = Posts();
  const Node node{&posts, PostRecord("p1", "Hi", "u1"), {}};
  CHECK(Write(node) ==
        R"({"collectionId":"pbc_1","collectionName":"posts","id":"p1","title":"Hi",)"
        R"("body":"<p>Hello <b>world</b></p>","author":"u1","meta":{"a":1,"b":{"c":2,"d":3}}})");

  SECTION("superusers see hidden fields, never passwords") {
    RecordViewer superuser;
    superuser.superuser = true;
    const std::string out = Write(node, "", "", superuser);
    CHECK(out.find(R"("secret":"s3cret")") != std::string::npos);
    CHECK(out.find("pass") == std::string::npos);
    CHECK(out.find("$2a$") == std::string::npos);
  }
}

TEST_CASE("auth records show their email only when visible", "[json][records]") {
  const Collection users = Users();
  auto user = [&](bool visible) {
    return Node{&users,
                Record{{JsonValue::String("u1"), JsonValue::String("a@b.c"),
                        JsonValue::Bool(visible), JsonValue::String("tk"),
                        JsonValue::String("Ann")}},
                {}};
  };
  CHECK(Write(user(true)) ==
        R"({"collectionId":"pbc_2","collectionName":"users","id":"u1","email":"a@b.c",)"
        R"("emailVisibility":true,"name":"Ann"})");
  CHECK(Write(user(false)).find("email\":") == std::string::npos);

  RecordViewer self;
  self.auth_collection_id = "pbc_2";
  self.auth_record_id = "u1";
  CHECK(Write(user(false), "", "", self).find(R"("email":"a@b.c")") != std::string::npos);
  RecordViewer superuser;
  superuser.superuser = true;
  const std::string as_superuser = Write(user(false), "", "", superuser);
  CHECK(as_superuser.find(R"("email":"a@b.c")") != std::string::npos);
  CHECK(as_superuser.find("tokenKey") == std::string::npos);  // never, even for superusers
}

TEST_CASE("expansions are written under expand, singles as objects, multiples as arrays",
          "[json][records][expand]") {
  const Collection posts = Posts();
  const Collection users = Users();
  Node author{&users,
              Record{{JsonValue::String("u1"), JsonValue::String("a@b.c"), JsonValue::Bool(true),
                      JsonValue::String("tk"), JsonValue::String("Ann")}},
              {}};
  Node post{&posts, PostRecord("p1", "Hi", "u1"), {}};
  post.expand.push_back({"author", false, {author}});
  post.expand.push_back({"comments_via_post", true, {}});  // found nothing: left out

  const std::string out = Write(post, "", "author,comments_via_post");
  CHECK(out.find(R"("expand":{"author":{"collectionId":"pbc_2","collectionName":"users",)"
                 R"("id":"u1")") != std::string::npos);
  CHECK(out.find("comments_via_post") == std::string::npos);

  SECTION("a requested expansion that found nothing still gives an empty expand") {
    Node lonely{&posts, PostRecord("p2", "Alone", ""), {}};
    CHECK(Write(lonely, "", "author").ends_with(R"("expand":{}})"));
    CHECK(Write(lonely).find("expand") == std::string::npos);
  }
  SECTION("multiple relations are arrays") {
    Node many{&posts, PostRecord("p3", "Many", ""), {}};
    many.expand.push_back({"tags", true, {author, author}});
    CHECK(Write(many).find(R"("expand":{"tags":[{"collectionId")") != std::string::npos);
  }
  SECTION("fields reach into expansions") {
    CHECK(Write(post, "id,expand.author.name", "author") ==
          R"({"id":"p1","expand":{"author":{"name":"Ann"}}})");
    CHECK(Write(post, "title", "author") == R"({"title":"Hi"})");
  }
}

TEST_CASE("the fields parameter follows PocketBase's picker", "[json][fields]") {
  const Collection posts = Posts();
  const Node node{&posts, PostRecord("p1", "Hi", "u1"), {}};

  CHECK(Write(node, "id, title") == R"({"id":"p1","title":"Hi"})");
  CHECK(Write(node, "*") == Write(node));
  CHECK(Write(node, "meta.b.c,id") == R"({"id":"p1","meta":{"b":{"c":2}}})");
  CHECK(Write(node, "meta,meta.a") == Write(node, "meta"));  // whole wins over a sub-path
  CHECK(Write(node, "title.x") == R"({"title":"Hi"})");      // a path into a string keeps it
  CHECK(Write(node, "nothing") == "{}");
  CHECK(Write(node, ",,id,") == R"({"id":"p1"})");
  CHECK(Write(node, "body:excerpt(5,true)") == R"({"body":"Hello..."})");
  CHECK(Write(node, "*,body:excerpt(100)").find(R"("body":"Hello world")") != std::string::npos);
  CHECK(Write(node, "*:excerpt(2)").find(R"("title":"Hi","body":"He")") != std::string::npos);
  CHECK(Write(node, "title:excerpt(1),title") == R"({"title":"Hi"})");  // the last entry wins
  CHECK(Write(node, "meta:excerpt(1)").find(R"("meta":{"a":1)") != std::string::npos);

  for (std::string_view bad : {"a..b", ".a", "title:", "title:upper", "title:excerpt",
                               "title:excerpt(0)", "title:excerpt(x)", "title:excerpt(-1)",
                               "title:excerpt(1,true,3)", "title:excerpt(1", "\"open"}) {
    INFO(bad);
    auto parsed = FieldSelection::Parse(bad);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK(parsed.error().message.starts_with("Invalid fields parameter"));
  }
}

TEST_CASE("the selection applies to arrays of objects item by item", "[json][fields]") {
  const JsonValue value = Parse(R"([{"a":1,"b":2},{"a":3,"c":4}])");
  const FieldSelection fields = Fields("a");
  JsonWriter w;
  WriteSelectedValue(w, value, {FieldSelection::Pick::Kind::kNested, nullptr, fields.root()});
  CHECK(w.str() == R"([{"a":1},{"a":3}])");

  JsonWriter scalars;
  WriteSelectedValue(scalars, Parse("[1,2]"),
                     {FieldSelection::Pick::Kind::kNested, nullptr, fields.root()});
  CHECK(scalars.str() == "[1,2]");
}

TEST_CASE("lists keep their page members whatever fields selects", "[json][records]") {
  const Collection posts = Posts();
  List list;
  list.page = 2;
  list.per_page = 1;
  list.total_items = 3;
  list.total_pages = 3;
  list.items.push_back(Node{&posts, PostRecord("p2", "B", ""), {}});
  const FieldSelection fields = Fields("id");
  JsonWriter w;
  WriteRecordList(w, list, fields.root(), nullptr, {});
  CHECK(w.str() == R"({"page":2,"perPage":1,"totalItems":3,"totalPages":3,"items":[{"id":"p2"}]})");
}

TEST_CASE("excerpt strips markup as PocketBase's excerpt modifier does", "[json][fields]") {
  CHECK(Excerpt("<p>Hello <b>world</b></p><p>Second</p>", 100, false) == "Hello world Second");
  CHECK(Excerpt("plain   text\n\twith  spaces", 100, false) == "plain text with spaces");
  CHECK(Excerpt("<div>a</div><div>b</div>", 100, false) == "a b");
  CHECK(Excerpt("a<span>b</span>c", 100, false) == "abc");  // inline: no space added
  CHECK(Excerpt("<script>alert(1)</script><style>p{}</style>ok", 100, false) == "ok");
  // Excluded elements vanish without the space a block would leave; br is inline for PocketBase.
  CHECK(Excerpt("x<svg><g><text>drawn</text></g></svg>y", 100, false) == "xy");
  CHECK(Excerpt("a<img src=\"x.png\">b<br/>c<hr>d", 100, false) == "abc d");
  CHECK(Excerpt("<!-- note -->fish &amp; chips &lt;3 &#233;&#x41;", 100, false) ==
        "fish & chips <3 \xC3\xA9" "A");
  CHECK(Excerpt("a < b", 100, false) == "a < b");
  CHECK(Excerpt("<p>Hello world</p>", 5, true) == "Hello...");
  CHECK(Excerpt("<p>Hello world</p>", 6, false) == "Hello");  // trimmed after the cut
  CHECK(Excerpt("short", 10, true) == "short");                // no ellipsis when it fits
  CHECK(Excerpt("\xC3\xA9t\xC3\xA9", 1, false).empty());       // never half a character
  CHECK(Excerpt("\xC3\xA9t\xC3\xA9", 3, false) == "\xC3\xA9t");
  CHECK(Excerpt("<title>T</title><p>x</p>", 100, false) == "T x");
  CHECK(Excerpt("<p unclosed", 100, false).empty());
}

TEST_CASE("expand requests form a tree", "[json][expand]") {
  const ExpandRequest request = ExpandRequest::Parse(" author.team , tags,author.org,, ");
  REQUIRE(request.children.size() == 2);
  const ExpandRequest* author = request.Find("author");
  REQUIRE(author != nullptr);
  CHECK(author->children.size() == 2);
  CHECK(author->Find("team") != nullptr);
  CHECK(request.Find("tags") != nullptr);
  CHECK(request.Find("team") == nullptr);
}
