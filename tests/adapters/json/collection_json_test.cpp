#include "socle/adapters/json/collection_json.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "socle/adapters/json/json_parser.hpp"
#include "socle/domain/collection_validation.hpp"

using namespace socle::domain;
using socle::adapters::json::JsonWriter;
using socle::adapters::json::ParseJson;
using socle::adapters::json::ReadCollection;
using socle::adapters::json::ReadCollections;
using socle::adapters::json::WriteCollection;

namespace {

JsonValue Parse(std::string_view text) {
  auto parsed = ParseJson(text);
  REQUIRE(parsed);
  return *parsed;
}

std::map<std::string, std::string> Errors(const Error& error) {
  std::map<std::string, std::string> errors;
  for (const auto& f : error.fields) errors[f.field] = f.code;
  return errors;
}

std::string Write(const Collection& c) {
  JsonWriter w;
  WriteCollection(w, c);
  return std::move(w).Take();
}

// A collection as PocketBase 0.23+ exports it (Settings → Export collections), trimmed to the
// users' own fields, with one field of each type.
constexpr std::string_view kPocketBaseExport = R"json({
  "id": "pbc_1125843985",
  "listRule": "",
  "viewRule": null,
  "createRule": "@request.auth.id != ''",
  "updateRule": null,
  "deleteRule": null,
  "name": "posts",
  "type": "base",
  "fields": [
    {"autogeneratePattern": "[a-z0-9]{15}", "hidden": false, "id": "text3208210256", "max": 15,
     "min": 15, "name": "id", "pattern": "^[a-z0-9]+$", "presentable": false, "primaryKey": true,
     "required": true, "system": true, "type": "text"},
    {"autogeneratePattern": "", "hidden": false, "id": "text724990059", "max": 0, "min": 0,
     "name": "title", "pattern": "", "presentable": true, "primaryKey": false, "required": true,
     "system": false, "type": "text"},
    {"convertURLs": false, "hidden": false, "id": "editor3685223346", "maxSize": 0, "name": "body",
     "presentable": false, "required": false, "system": false, "type": "editor"},
    {"hidden": false, "id": "number2245608546", "max": null, "min": 0, "name": "views",
     "onlyInt": true, "presentable": false, "required": false, "system": false, "type": "number"},
    {"hidden": false, "id": "bool1748787223", "name": "published", "presentable": false,
     "required": false, "system": false, "type": "bool"},
    {"exceptDomains": null, "hidden": false, "id": "email1", "name": "contact",
     "onlyDomains": ["example.com"], "presentable": false, "required": false, "system": false,
     "type": "email"},
    {"exceptDomains": [], "hidden": true, "id": "url1", "name": "site", "onlyDomains": null,
     "presentable": false, "required": false, "system": false, "type": "url"},
    {"hidden": false, "id": "date1", "max": "", "min": "2020-01-01 00:00:00.000Z", "name": "when",
     "presentable": false, "required": false, "system": false, "type": "date"},
    {"hidden": false, "id": "select1", "maxSelect": 2, "name": "tags", "presentable": false,
     "required": false, "system": false, "type": "select", "values": ["go", "rust"]},
    {"hidden": false, "id": "json1", "maxSize": 2000000, "name": "meta", "presentable": false,
     "required": false, "system": false, "type": "json"},
    {"cascadeDelete": true, "collectionId": "_pb_users_auth_", "hidden": false, "id": "relation1",
     "maxSelect": 1, "minSelect": 0, "name": "author", "presentable": false, "required": false,
     "system": false, "type": "relation"},
    {"hidden": false, "id": "file1", "maxSelect": 3, "maxSize": 5242880,
     "mimeTypes": ["image/png"], "name": "images", "presentable": false, "protected": true,
     "required": false, "system": false, "thumbs": ["100x100"], "type": "file"},
    {"hidden": false, "id": "autodate2990389176", "name": "created", "onCreate": true,
     "onUpdate": false, "presentable": false, "system": false, "type": "autodate"},
    {"hidden": false, "id": "autodate3332085495", "name": "updated", "onCreate": true,
     "onUpdate": true, "presentable": false, "system": false, "type": "autodate"}
  ],
  "indexes": ["CREATE UNIQUE INDEX `idx_title` ON `posts` (`title`)"],
  "system": false,
  "someFutureOption": {"ignored": true}
})json";

}  // namespace

TEST_CASE("ReadCollection reads PocketBase's export shape", "[adapters][json][collection]") {
  auto c = ReadCollection(Parse(kPocketBaseExport));
  INFO((c ? std::string() : c.error().fields.at(0).field + ": " + c.error().fields.at(0).message));
  REQUIRE(c);
  CHECK(c->id == "pbc_1125843985");
  CHECK(c->name == "posts");
  CHECK(c->type == CollectionType::kBase);
  CHECK(c->rules.list == std::optional<std::string>(""));
  CHECK_FALSE(c->rules.view);
  CHECK(c->rules.create == std::optional<std::string>("@request.auth.id != ''"));
  REQUIRE(c->fields.size() == 14);
  const Field& id = c->fields[0];
  CHECK(id.primary_key);
  CHECK(id.min == 15);
  CHECK(id.pattern == "^[a-z0-9]+$");
  CHECK(id.autogenerate_pattern == "[a-z0-9]{15}");
  CHECK(c->fields[1].presentable);
  CHECK_FALSE(c->fields[1].min);  // 0 means "no bound"
  const Field& views = *c->FindField("views");
  CHECK(views.min == 0.0);
  CHECK_FALSE(views.max);
  CHECK(views.only_int);
  CHECK(c->FindField("contact")->only_domains == std::vector<std::string>{"example.com"});
  CHECK(c->FindField("site")->hidden);
  CHECK(c->FindField("when")->min_date == "2020-01-01 00:00:00.000Z");
  CHECK(c->FindField("tags")->values == std::vector<std::string>{"go", "rust"});
  CHECK(c->FindField("tags")->IsMultiple());
  CHECK(c->FindField("meta")->max_size == 2000000);
  CHECK(c->FindField("author")->collection_id == "_pb_users_auth_");
  CHECK(c->FindField("author")->cascade_delete);
  const Field& images = *c->FindField("images");
  CHECK(images.protected_file);
  CHECK(images.mime_types == std::vector<std::string>{"image/png"});
  CHECK(images.thumbs == std::vector<std::string>{"100x100"});
  CHECK(c->FindField("updated")->on_update);
  REQUIRE(c->indexes.size() == 1);
  CHECK(c->indexes[0] == CollectionIndex{"idx_title", true, {{"title", false}}, {}});

  // It validates once its relation target exists (the import's final set).
  ProjectSchema schema;
  Collection users;
  users.id = "_pb_users_auth_";
  users.name = "users";
  schema.collections.push_back(users);
  auto valid = ValidateCollection(*c, nullptr, schema);
  INFO((valid ? std::string()
              : valid.error().fields.at(0).field + ": " + valid.error().fields.at(0).message));
  CHECK(valid);
}

TEST_CASE("WriteCollection writes PocketBase's shape and reads back equal",
          "[adapters][json][collection]") {
  auto c = ReadCollection(Parse(kPocketBaseExport));
  REQUIRE(c);
  c->created = Timestamp::FromUnixMicros(1714555800123000);
  c->updated = Timestamp::FromUnixMicros(1714555801000000);
  const std::string text = Write(*c);
  CHECK_THAT(
      text,
      Catch::StartsWith(
          R"({"id":"pbc_1125843985","name":"posts","type":"base","system":false,"listRule":"","viewRule":null,)"));
  CHECK_THAT(text,
             Catch::Contains(
                 R"("created":"2024-05-01 09:30:00.123Z","updated":"2024-05-01 09:30:01.000Z")"));
  CHECK_THAT(text, Catch::Contains(
                       R"j("indexes":["CREATE UNIQUE INDEX `idx_title` ON `posts` (`title`)"])j"));
  CHECK_THAT(
      text,
      Catch::Contains(
          R"({"id":"text724990059","name":"title","type":"text","system":false,"hidden":false,"presentable":true,"required":true,"min":0,"max":0,"pattern":"","autogeneratePattern":"","primaryKey":false})"));
  CHECK_THAT(
      text,
      Catch::Contains(
          R"("name":"views","type":"number","system":false,"hidden":false,"presentable":false,"required":false,"min":0,"max":null,"onlyInt":true})"));
  CHECK_THAT(
      text,
      Catch::Contains(
          R"("name":"created","type":"autodate","system":false,"hidden":false,"presentable":false,"onCreate":true,"onUpdate":false})"));
  CHECK_THAT(text, Catch::Contains(R"("exceptDomains":[])"));
  CHECK(text.find("viewQuery") == std::string::npos);

  auto again = ReadCollection(Parse(text));
  REQUIRE(again);
  CHECK(*again == *c);
}

TEST_CASE("Collection JSON round trips views, passwords and zero dates",
          "[adapters][json][collection]") {
  Collection v;
  v.id = "pbc_v";
  v.name = "stats";
  v.type = CollectionType::kView;
  v.view_query = "SELECT id, count(*) AS total FROM posts";
  Field total;
  total.id = "number1";
  total.name = "total";
  total.type = FieldType::kNumber;
  total.min = -1.5;
  total.max = 1e300;
  v.fields.push_back(total);
  Field secret;
  secret.id = "password1";
  secret.name = "password";
  secret.type = FieldType::kPassword;
  secret.min = 8;
  secret.cost = 12;
  secret.hidden = true;
  v.fields.push_back(secret);
  const std::string text = Write(v);
  CHECK_THAT(text, Catch::Contains(R"("viewQuery":"SELECT id, count(*) AS total FROM posts")"));
  CHECK_THAT(text, Catch::Contains(R"("created":"","updated":"")"));
  auto again = ReadCollection(Parse(text));
  REQUIRE(again);
  CHECK(*again == v);
}

TEST_CASE("ReadCollection fills defaults and is strict on types", "[adapters][json][collection]") {
  SECTION("missing members take their defaults") {
    auto c = ReadCollection(Parse(R"({"name":"posts"})"));
    REQUIRE(c);
    CHECK(c->id.empty());
    CHECK(c->type == CollectionType::kBase);
    CHECK(c->fields.empty());
    CHECK_FALSE(c->rules.list);
    auto f = ReadCollection(Parse(R"({"name":"p","fields":[{"name":"title","type":"text"}]})"));
    REQUIRE(f);
    CHECK(f->fields.at(0).id.empty());  // the use case generates ids
  }
  SECTION("wrong types are field errors keyed as PocketBase keys them") {
    auto c = ReadCollection(Parse(R"j({
      "id": 5, "name": ["x"], "type": "table", "system": "yes", "listRule": 3,
      "created": "yesterday",
      "fields": [
        {"name": "a", "type": "text", "min": 1.5, "max": "10"},
        {"name": "b", "type": "select", "values": ["x", 2], "maxSelect": true},
        {"name": "c", "type": "geoPoint"},
        {"name": "d"},
        {"name": "e", "type": "date", "min": "soon"},
        "not an object",
        {"name": "f", "type": "email", "onlyDomains": "example.com"}
      ],
      "indexes": ["CREATE INDEX i ON t (lower(x))", 7]
    })j"));
    REQUIRE_FALSE(c);
    CHECK(c.error().code == ErrorCode::kInvalidArgument);
    CHECK(Errors(c.error()) == std::map<std::string, std::string>{
                                   {"id", "validation_invalid_type"},
                                   {"name", "validation_invalid_type"},
                                   {"type", "validation_in_invalid"},
                                   {"system", "validation_invalid_type"},
                                   {"listRule", "validation_invalid_type"},
                                   {"created", "validation_date_invalid"},
                                   {"fields.0.min", "validation_invalid_type"},
                                   {"fields.0.max", "validation_invalid_type"},
                                   {"fields.1.values.1", "validation_invalid_type"},
                                   {"fields.1.maxSelect", "validation_invalid_type"},
                                   {"fields.2.type", "validation_in_invalid"},
                                   {"fields.3.type", "validation_required"},
                                   {"fields.4.min", "validation_date_invalid"},
                                   {"fields.5", "validation_invalid_type"},
                                   {"fields.6.onlyDomains", "validation_invalid_type"},
                                   {"indexes.0", "validation_invalid_index_expression"},
                                   {"indexes.1", "validation_invalid_type"},
                               });
    for (const auto& f : c.error().fields) {
      if (f.field == "fields.0.min") CHECK(f.message == "Must be an integer.");
      if (f.field == "indexes.0")
        CHECK_THAT(f.message, Catch::Contains("expressions are not supported"));
    }
  }
  SECTION("not an object") {
    auto c = ReadCollection(Parse("[]"));
    REQUIRE_FALSE(c);
    CHECK(c.error().fields.at(0).code == "validation_invalid_type");
  }
  SECTION("PocketBase's partial index on auth emails is read; other conditions are refused") {
    auto c = ReadCollection(Parse(
        R"({"name":"users","type":"auth","indexes":["CREATE UNIQUE INDEX `idx_email` ON `users` (`email`) WHERE `email` != ''"]})"));
    REQUIRE(c);
    CHECK(c->indexes.at(0).where_not_empty == std::vector<std::string>{"email"});
    auto refused = ReadCollection(Parse(
        R"({"name":"users","type":"auth","indexes":["CREATE UNIQUE INDEX `idx_email` ON `users` (`email`) WHERE `verified` = 1"]})"));
    REQUIRE_FALSE(refused);
    CHECK(Errors(refused.error()) ==
          std::map<std::string, std::string>{{"indexes.0", "validation_invalid_index_expression"}});
  }
}

TEST_CASE("ReadCollection accepts PocketBase < 0.23 exports", "[adapters][json][collection]") {
  auto c = ReadCollection(Parse(R"({
    "id": "abc123", "created": "2023-01-01 10:00:00.000Z", "updated": "2023-01-02 10:00:00.000Z",
    "name": "posts", "type": "base", "system": false,
    "schema": [
      {"system": false, "id": "x1", "name": "title", "type": "text", "required": true,
       "presentable": false, "unique": false, "options": {"min": null, "max": 100, "pattern": ""}},
      {"id": "x2", "name": "score", "type": "number", "options": {"min": 0, "max": null, "noDecimal": true}},
      {"id": "x3", "name": "refs", "type": "relation",
       "options": {"collectionId": "other1", "cascadeDelete": false, "minSelect": null, "maxSelect": null}},
      {"id": "x4", "name": "body", "type": "editor", "options": {"convertUrls": true}}
    ],
    "indexes": [], "listRule": null, "viewRule": null, "createRule": null, "updateRule": null,
    "deleteRule": null, "options": {}
  })"));
  INFO((c ? std::string() : c.error().fields.at(0).field + ": " + c.error().fields.at(0).message));
  REQUIRE(c);
  REQUIRE(c->fields.size() == 7);  // id, created, updated made explicit
  CHECK(c->fields[0].name == "id");
  CHECK(c->fields[3].name == "title");
  CHECK(c->fields[3].max == 100);
  CHECK(c->fields[3].required);
  CHECK(c->fields[4].only_int);
  CHECK(c->fields[5].max_select == 999);  // null meant "any number"
  CHECK(c->fields[5].IsMultiple());
  CHECK(c->fields[6].convert_urls);
  CHECK(c->created == *Timestamp::Parse("2023-01-01 10:00:00.000Z"));

  auto view = ReadCollection(
      Parse(R"({"name":"v","type":"view","schema":[],"options":{"query":"SELECT 1"}})"));
  REQUIRE(view);
  CHECK(view->view_query == "SELECT 1");
  CHECK(view->fields.empty());

  auto bad = ReadCollection(
      Parse(R"({"name":"p","schema":[{"name":"a","type":"text","options":{"max":"x"}}]})"));
  REQUIRE_FALSE(bad);
  CHECK(Errors(bad.error()) ==
        std::map<std::string, std::string>{{"schema.0.options.max", "validation_invalid_type"}});
}

TEST_CASE("ReadCollections reads an import file", "[adapters][json][collection]") {
  auto ok = ReadCollections(Parse(R"([{"name":"a"},{"name":"b","type":"view"}])"));
  REQUIRE(ok);
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[1].type == CollectionType::kView);

  auto bad = ReadCollections(Parse(
      R"([{"name":"a"},{"name":"b","type":"x","fields":[{"name":"c","type":"bool","required":1}]},3])"));
  REQUIRE_FALSE(bad);
  CHECK(Errors(bad.error()) == std::map<std::string, std::string>{
                                   {"collections.1.type", "validation_in_invalid"},
                                   {"collections.1.fields.0.required", "validation_invalid_type"},
                                   {"collections.2", "validation_invalid_type"},
                               });
  auto not_array = ReadCollections(Parse(R"({"name":"a"})"));
  REQUIRE_FALSE(not_array);
  CHECK(not_array.error().fields.at(0).field == "collections");
}

TEST_CASE("Auth options round trip in PocketBase's shape", "[adapters][json][collection][auth]") {
  auto c = ReadCollection(Parse(R"({
    "id": "_pb_users_auth_", "name": "users", "type": "auth",
    "authRule": "verified = true", "manageRule": null,
    "authAlert": {"enabled": true, "emailTemplate": {"subject": "s", "body": "b"}},
    "oauth2": {"enabled": false, "providers": []},
    "passwordAuth": {"enabled": true, "identityFields": ["email", "username"]},
    "mfa": {"enabled": false, "duration": 1800, "rule": ""},
    "otp": {"enabled": false, "duration": 180, "length": 8},
    "authToken": {"duration": 1209600, "secret": "ignored"},
    "passwordResetToken": {"duration": 900},
    "verificationTemplate": {"subject": "Verify {APP_NAME}", "body": "<p>{TOKEN}</p>"}
  })"));
  REQUIRE(c);
  CHECK(c->auth.auth_rule == std::optional<std::string>("verified = true"));
  CHECK_FALSE(c->auth.manage_rule);
  CHECK(c->auth.identity_fields == std::vector<std::string>{"email", "username"});
  CHECK(c->auth.auth_token_duration == 1209600);
  CHECK(c->auth.password_reset_token_duration == 900);
  CHECK(c->auth.verification_token_duration == 259200);  // absent: the default
  CHECK(c->auth.verification_template.subject == "Verify {APP_NAME}");
  CHECK(c->auth.reset_password_template == DefaultAuthOptions().reset_password_template);

  JsonWriter w;
  WriteCollection(w, *c);
  auto again = ReadCollection(Parse(w.str()));
  REQUIRE(again);
  CHECK(again->auth == c->auth);

  SECTION("a null authRule disables sign-in; an absent one keeps the default") {
    auto disabled = ReadCollection(Parse(R"({"name":"u","type":"auth","authRule":null})"));
    REQUIRE(disabled);
    CHECK_FALSE(disabled->auth.auth_rule);
    auto absent = ReadCollection(Parse(R"({"name":"u","type":"auth"})"));
    REQUIRE(absent);
    CHECK(absent->auth.auth_rule == std::optional<std::string>(""));
  }
  SECTION("sign-in methods Socle does not offer are refused when enabled") {
    auto refused = ReadCollection(
        Parse(R"({"name":"u","type":"auth","oauth2":{"enabled":true},"otp":{"enabled":true}})"));
    REQUIRE_FALSE(refused);
    CHECK(Errors(refused.error()) ==
          std::map<std::string, std::string>{{"oauth2.enabled", "validation_not_supported"},
                                             {"otp.enabled", "validation_not_supported"}});
  }
  SECTION("wrong types are field errors") {
    auto wrong = ReadCollection(Parse(
        R"({"name":"u","type":"auth","authToken":{"duration":"long"},"passwordAuth":[]})"));
    REQUIRE_FALSE(wrong);
    CHECK(Errors(wrong.error()).contains("authToken.duration"));
    CHECK(Errors(wrong.error()).contains("passwordAuth"));
  }
}

TEST_CASE("Collection JSON carries field-level permissions only when set",
          "[adapters][json][collection]") {
  auto c = ReadCollection(Parse(kPocketBaseExport));
  REQUIRE(c);
  // Unset: PocketBase's shape, byte for byte.
  const std::string plain = Write(*c);
  CHECK(plain.find("readRoles") == std::string::npos);
  CHECK(plain.find("writeRoles") == std::string::npos);
  CHECK(plain.find("\"pii\"") == std::string::npos);

  Field* title = nullptr;
  for (auto& field : c->fields) {
    if (field.name == "title") title = &field;
  }
  REQUIRE(title != nullptr);
  title->read_roles = {"editor", "hr"};
  title->write_roles = {"editor"};
  title->pii = "text";
  const std::string text = Write(*c);
  CHECK_THAT(text, Catch::Contains(R"("readRoles":["editor","hr"],"writeRoles":["editor"],"pii":"text")"));
  auto again = ReadCollection(Parse(text));
  REQUIRE(again);
  CHECK(*again == *c);

  // Wrong types are field errors, never silently dropped.
  auto bad = ReadCollection(Parse(R"({"name":"x","type":"base","fields":[{"name":"a","type":"text","readRoles":"hr","pii":3}]})"));
  REQUIRE_FALSE(bad);
  auto errors = Errors(bad.error());
  CHECK(errors.count("fields.0.readRoles") == 1);
  CHECK(errors.count("fields.0.pii") == 1);
}
