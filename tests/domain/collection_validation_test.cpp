#include "socle/domain/collection_validation.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

using namespace socle::domain;

namespace {

Field MakeField(std::string id, std::string name, FieldType type) {
  Field field;
  field.id = std::move(id);
  field.name = std::move(name);
  field.type = type;
  return field;
}

Collection Base(std::string id, std::string name) {
  Collection c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.fields = SystemFields();
  return c;
}

// Field key → code of every error, or empty when the collection is valid.
std::map<std::string, std::string> Errors(const Result<void>& result) {
  std::map<std::string, std::string> errors;
  if (result) return errors;
  for (const auto& f : result.error().fields) errors[f.field] = f.code;
  return errors;
}

std::string MessageOf(const Result<void>& result, const std::string& key) {
  if (result) return "";
  for (const auto& f : result.error().fields) {
    if (f.field == key) return f.message;
  }
  return "";
}

using ErrorMap = std::map<std::string, std::string>;

}  // namespace

TEST_CASE("ValidateCollection accepts a well-formed collection",
          "[domain][collection_validation]") {
  ProjectSchema schema;
  schema.collections.push_back(Base("pbc_users", "users"));
  Collection c = Base("pbc_1", "posts");
  Field title = MakeField("f1", "title", FieldType::kText);
  title.min = 3;
  title.max = 200;
  title.pattern = "^[A-Z]";
  c.fields.push_back(title);
  Field views = MakeField("f2", "views", FieldType::kNumber);
  views.min = 0;
  views.max = 10;
  views.only_int = true;
  c.fields.push_back(views);
  Field tags = MakeField("f3", "tags", FieldType::kSelect);
  tags.values = {"a", "b"};
  tags.max_select = 2;
  c.fields.push_back(tags);
  Field author = MakeField("f4", "author", FieldType::kRelation);
  author.collection_id = "pbc_users";
  author.max_select = 1;
  c.fields.push_back(author);
  Field parent = MakeField("f5", "parent", FieldType::kRelation);
  parent.collection_id = "pbc_1";  // self relation
  c.fields.push_back(parent);
  Field when = MakeField("f6", "when", FieldType::kDate);
  when.min_date = "2020-01-01 00:00:00.000Z";
  when.max_date = "2030-01-01 00:00:00.000Z";
  c.fields.push_back(when);
  Field site = MakeField("f7", "site", FieldType::kUrl);
  site.only_domains = {"example.com"};
  c.fields.push_back(site);
  Field cover = MakeField("f8", "cover", FieldType::kFile);
  cover.thumbs = {"100x100", "0x50t", "50x0f"};
  c.fields.push_back(cover);
  c.fields.push_back(MakeField("f9", "_private", FieldType::kJson));
  c.indexes.push_back(CollectionIndex{"idx_title", true, {{"title", false}}, {}});
  c.indexes.push_back(CollectionIndex{"idx_multi", false, {{"views", true}, {"title", false}}, {}});

  auto result = ValidateCollection(c, nullptr, schema);
  INFO((result ? std::string()
               : result.error().fields.at(0).field + " " + result.error().fields.at(0).message));
  CHECK(result);
  // The collection may be part of `schema` itself (an import's final set).
  schema.collections.push_back(c);
  CHECK(ValidateCollection(c, nullptr, schema));
  // Its old version may be there on update.
  CHECK(ValidateCollection(c, &c, schema));
}

TEST_CASE("ValidateCollection checks the collection id", "[domain][collection_validation]") {
  ProjectSchema schema;
  auto check = [&](std::string id) {
    return Errors(ValidateCollection(Base(id, "posts"), nullptr, schema));
  };
  CHECK(check("") == ErrorMap{{"id", "validation_required"}});
  CHECK(check(std::string(65, 'a')) == ErrorMap{{"id", "validation_length_out_of_range"}});
  CHECK(check("pbc-1") == ErrorMap{{"id", "validation_match_invalid"}});
  CHECK(check("pbc 1") == ErrorMap{{"id", "validation_match_invalid"}});
  CHECK(check(std::string(64, 'a')).empty());
  CHECK(check("_pb_users_auth_").empty());

  Collection before = Base("pbc_1", "posts");
  Collection after = Base("pbc_2", "posts");
  CHECK(Errors(ValidateCollection(after, &before, schema)) ==
        ErrorMap{{"id", "validation_values_mismatch"}});
}

TEST_CASE("ValidateCollection checks the collection name", "[domain][collection_validation]") {
  ProjectSchema schema;
  schema.collections.push_back(Base("pbc_users", "Users"));
  auto check = [&](std::string name, bool system = false) {
    Collection c = Base("pbc_1", std::move(name));
    c.system = system;
    return Errors(ValidateCollection(c, nullptr, schema));
  };
  CHECK(check("") == ErrorMap{{"name", "validation_required"}});
  CHECK(check(std::string(64, 'a')) == ErrorMap{{"name", "validation_length_out_of_range"}});
  CHECK(check(std::string(63, 'a')).empty());
  CHECK(check("1posts") == ErrorMap{{"name", "validation_match_invalid"}});
  CHECK(check("my-posts") == ErrorMap{{"name", "validation_match_invalid"}});
  CHECK(check("pöst") == ErrorMap{{"name", "validation_match_invalid"}});
  CHECK(check("a_via_b") == ErrorMap{{"name", "validation_found_via"}});
  CHECK(check("_posts") == ErrorMap{{"name", "validation_collection_name_invalid"}});
  CHECK(check("_mfas", true).empty());  // a system collection may start with _
  CHECK(check("_superusers", true) == ErrorMap{{"name", "validation_collection_name_invalid"}});
  CHECK(check("_params", true) == ErrorMap{{"name", "validation_collection_name_invalid"}});
  CHECK(check("_Migrations", true) == ErrorMap{{"name", "validation_collection_name_invalid"}});
  CHECK(check("sqlite_stat1") == ErrorMap{{"name", "validation_collection_name_invalid"}});
  CHECK(check("PG_class") == ErrorMap{{"name", "validation_collection_name_invalid"}});
  CHECK(check("users") == ErrorMap{{"name", "validation_collection_name_exists"}});
  CHECK(check("USERS") == ErrorMap{{"name", "validation_collection_name_exists"}});
  CHECK(check("pbc_users") == ErrorMap{{"name", "validation_collection_name_id_duplicate"}});
  CHECK(MessageOf(ValidateCollection(Base("pbc_1", "users"), nullptr, schema), "name") ==
        "Collection name must be unique (case insensitive).");

  SECTION("a system collection keeps its name") {
    Collection before = Base("pbc_1", "things");
    before.system = true;
    Collection after = before;
    after.name = "stuff";
    CHECK(Errors(ValidateCollection(after, &before, schema)) ==
          ErrorMap{{"name", "validation_collection_system_name_change"}});
  }
  SECTION("renaming a collection to its own name in another case is fine") {
    Collection before = Base("pbc_1", "things");
    schema.collections.push_back(before);
    Collection after = before;
    after.name = "Things";
    CHECK(ValidateCollection(after, &before, schema));
  }
}

TEST_CASE("ValidateCollection: type and system flag never change",
          "[domain][collection_validation]") {
  ProjectSchema schema;
  Collection before = Base("pbc_1", "posts");
  Collection after = before;
  after.type = CollectionType::kAuth;
  after.system = true;
  for (const auto& field : AuthSystemFields()) after.fields.push_back(field);
  after.indexes = AuthSystemIndexes(after.id);
  CHECK(Errors(ValidateCollection(after, &before, schema)) ==
        ErrorMap{{"type", "validation_collection_type_change"},
                 {"system", "validation_collection_system_flag_change"}});
}

TEST_CASE("ValidateCollection requires the system fields", "[domain][collection_validation]") {
  ProjectSchema schema;
  SECTION("no fields at all") {
    Collection c = Base("pbc_1", "posts");
    c.fields.clear();
    auto result = ValidateCollection(c, nullptr, schema);
    CHECK(Errors(result) == ErrorMap{{"fields", "validation_missing_primary_key"}});
    CHECK(MessageOf(result, "fields") == "Missing or invalid \"id\" PK field.");
  }
  SECTION("id that is not a primary key") {
    Collection c = Base("pbc_1", "posts");
    c.fields[0].primary_key = false;
    CHECK(Errors(ValidateCollection(c, nullptr, schema)) ==
          ErrorMap{{"fields", "validation_missing_primary_key"}});
  }
  SECTION("created missing, updated not set on update") {
    Collection c = Base("pbc_1", "posts");
    c.fields.erase(c.fields.begin() + 1);
    auto result = ValidateCollection(c, nullptr, schema);
    CHECK(Errors(result) == ErrorMap{{"fields", "validation_missing_system_field"}});
    CHECK(MessageOf(result, "fields") == "Missing or invalid system \"created\" field.");
    c = Base("pbc_1", "posts");
    c.fields[2].on_update = false;
    CHECK(MessageOf(ValidateCollection(c, nullptr, schema), "fields") ==
          "Missing or invalid system \"updated\" field.");
  }
  SECTION("a system field cannot be renamed, removed or retyped on update") {
    Collection before = Base("pbc_1", "posts");
    Field legacy = MakeField("f_sys", "legacy", FieldType::kText);
    legacy.system = true;
    before.fields.push_back(legacy);
    Collection renamed = before;
    renamed.fields[3].name = "old";
    CHECK(Errors(ValidateCollection(renamed, &before, schema)) ==
          ErrorMap{{"fields", "validation_system_field_change"}});
    Collection removed = before;
    removed.fields.pop_back();
    CHECK(Errors(ValidateCollection(removed, &before, schema)) ==
          ErrorMap{{"fields", "validation_system_field_change"}});
    Collection retyped = before;
    retyped.fields[3].type = FieldType::kEditor;  // convertible, but not for a system field
    CHECK(Errors(ValidateCollection(retyped, &before, schema)) ==
          ErrorMap{{"fields.3.type", "validation_field_type_change"}});
  }
}

TEST_CASE("ValidateCollection checks field ids and names", "[domain][collection_validation]") {
  ProjectSchema schema;
  Collection c = Base("pbc_1", "posts");
  c.fields.push_back(MakeField("", "a", FieldType::kText));                     // 3
  c.fields.push_back(MakeField(std::string(101, 'x'), "b", FieldType::kText));  // 4
  c.fields.push_back(MakeField("text3208210256", "c", FieldType::kText));       // 5: dup id
  c.fields.push_back(MakeField("f6", "", FieldType::kText));                    // 6
  c.fields.push_back(MakeField("f7", "2fast", FieldType::kText));               // 7
  c.fields.push_back(MakeField("f8", std::string(64, 'n'), FieldType::kText));  // 8
  c.fields.push_back(MakeField("f9", "expand", FieldType::kText));              // 9
  c.fields.push_back(MakeField("f10", "collectionName", FieldType::kText));     // 10
  c.fields.push_back(MakeField("f11", "TITLE", FieldType::kText));              // 11
  c.fields.push_back(MakeField("f12", "title", FieldType::kText));              // 12: dup name
  c.fields.push_back(MakeField("f13", "x_via_y", FieldType::kText));            // 13
  c.fields.push_back(MakeField("f14", "null", FieldType::kText));               // 14
  c.fields.push_back(MakeField("f15", "passwordConfirm", FieldType::kText));    // 15: ok in base
  Field pk = MakeField("f16", "key", FieldType::kText);                         // 16
  pk.primary_key = true;
  c.fields.push_back(pk);
  auto result = ValidateCollection(c, nullptr, schema);
  CHECK(Errors(result) == ErrorMap{
                              {"fields.3.id", "validation_required"},
                              {"fields.4.id", "validation_length_out_of_range"},
                              {"fields.5.id", "validation_duplicated_field_id"},
                              {"fields.6.name", "validation_required"},
                              {"fields.7.name", "validation_match_invalid"},
                              {"fields.8.name", "validation_length_out_of_range"},
                              {"fields.9.name", "validation_not_in_invalid"},
                              {"fields.10.name", "validation_not_in_invalid"},
                              {"fields.12.name", "validation_duplicated_field_name"},
                              {"fields.13.name", "validation_found_via"},
                              {"fields.14.name", "validation_not_in_invalid"},
                              {"fields.16.name", "validation_in_invalid"},
                          });
  CHECK(MessageOf(result, "fields.5.id") == "Duplicated or invalid field id \"text3208210256\".");
  CHECK(MessageOf(result, "fields.12.name") == "Duplicated or invalid field name title.");

  SECTION("auth collections reserve passwordConfirm and oldPassword") {
    Collection auth = Base("pbc_2", "members");
    auth.type = CollectionType::kAuth;
    for (const auto& field : AuthSystemFields()) auth.fields.push_back(field);
    auth.indexes = AuthSystemIndexes(auth.id);
    auth.fields.push_back(MakeField("f1", "oldPassword", FieldType::kText));
    CHECK(Errors(ValidateCollection(auth, nullptr, schema)) ==
          ErrorMap{{"fields.8.name", "validation_reserved_field_name"}});
  }
}

TEST_CASE("ValidateCollection checks text and number options", "[domain][collection_validation]") {
  ProjectSchema schema;
  Collection c = Base("pbc_1", "posts");
  Field t1 = MakeField("t1", "t1", FieldType::kText);
  t1.min = -1;
  t1.max = 1.5;
  t1.pattern = "([a-z";
  t1.autogenerate_pattern = "[";
  c.fields.push_back(t1);  // 3
  Field t2 = MakeField("t2", "t2", FieldType::kText);
  t2.min = 10;
  t2.max = 5;
  c.fields.push_back(t2);  // 4
  Field t3 = MakeField("t3", "t3", FieldType::kText);
  t3.min = 10;
  t3.max = 0;              // the default limit, not a bound below min
  c.fields.push_back(t3);  // 5
  Field t4 = MakeField("t4", "t4", FieldType::kText);
  t4.min = 0.5;
  t4.max = 20000;
  t4.pattern = "^a+$";
  c.fields.push_back(t4);  // 6
  Field n1 = MakeField("n1", "n1", FieldType::kNumber);
  n1.min = 5;
  n1.max = 1;
  c.fields.push_back(n1);  // 7
  Field n2 = MakeField("n2", "n2", FieldType::kNumber);
  n2.only_int = true;
  n2.min = 0.5;
  n2.max = 2.5;
  c.fields.push_back(n2);  // 8
  Field n3 = MakeField("n3", "n3", FieldType::kNumber);
  n3.min = -3.5;           // no bound on the sign of a number's min
  c.fields.push_back(n3);  // 9
  Field t5 = MakeField("t5", "t5", FieldType::kText);
  t5.max = 1e16;
  c.fields.push_back(t5);  // 10

  auto result = ValidateCollection(c, nullptr, schema);
  CHECK(Errors(result) == ErrorMap{
                              {"fields.3.min", "validation_min_greater_equal_than_required"},
                              {"fields.3.max", "validation_only_int_constraint"},
                              {"fields.3.pattern", "validation_invalid_regex"},
                              {"fields.3.autogeneratePattern", "validation_invalid_regex"},
                              {"fields.4.max", "validation_min_greater_equal_than_required"},
                              {"fields.6.min", "validation_only_int_constraint"},
                              {"fields.6.max", "validation_max_less_equal_than_required"},
                              {"fields.7.max", "validation_min_greater_equal_than_required"},
                              {"fields.8.min", "validation_only_int_constraint"},
                              {"fields.8.max", "validation_only_int_constraint"},
                              {"fields.10.max", "validation_max_less_equal_than_required"},
                          });
  CHECK(MessageOf(result, "fields.4.max") == "Must be no less than 10.");
  CHECK(MessageOf(result, "fields.3.min") == "Must be no less than 0.");
  CHECK(MessageOf(result, "fields.6.max") ==
        "Must be no greater than 10000 when a pattern is set.");
  CHECK_THAT(MessageOf(result, "fields.3.pattern"),
             Catch::StartsWith("Invalid regular expression: "));
}

TEST_CASE("ValidateCollection checks select, relation, file, json, editor options",
          "[domain][collection_validation]") {
  ProjectSchema schema;
  Collection view = Base("pbc_view", "stats");
  view.type = CollectionType::kView;
  view.view_query = "SELECT 1";
  schema.collections.push_back(view);
  schema.collections.push_back(Base("pbc_users", "users"));

  Collection c = Base("pbc_1", "posts");
  Field s1 = MakeField("s1", "s1", FieldType::kSelect);  // 3: no values
  c.fields.push_back(s1);
  Field s2 = MakeField("s2", "s2", FieldType::kSelect);  // 4
  s2.values = {"a", "", "a"};
  s2.max_select = 4;
  c.fields.push_back(s2);
  Field s3 = MakeField("s3", "s3", FieldType::kSelect);  // 5
  s3.values = {"a"};
  s3.max_select = -1;
  c.fields.push_back(s3);
  Field r1 = MakeField("r1", "r1", FieldType::kRelation);  // 6: no target
  c.fields.push_back(r1);
  Field r2 = MakeField("r2", "r2", FieldType::kRelation);  // 7: missing target
  r2.collection_id = "pbc_nope";
  c.fields.push_back(r2);
  Field r3 = MakeField("r3", "r3", FieldType::kRelation);  // 8: view target, min > max
  r3.collection_id = "pbc_view";
  r3.min_select = 3;
  r3.max_select = 2;
  c.fields.push_back(r3);
  Field r4 = MakeField("r4", "r4", FieldType::kRelation);  // 9: min set, max unset
  r4.collection_id = "users";                              // a name, not an id
  r4.min_select = 1;
  c.fields.push_back(r4);
  Field r5 = MakeField("r5", "r5", FieldType::kRelation);  // 10
  r5.collection_id = "pbc_users";
  r5.min_select = -1;
  c.fields.push_back(r5);
  Field f1 = MakeField("f1", "f1", FieldType::kFile);  // 11
  f1.max_size = -1;
  f1.max_select = -2;
  f1.thumbs = {"100x100", "0x0", "abc", "10x10z"};
  c.fields.push_back(f1);
  Field j1 = MakeField("j1", "j1", FieldType::kJson);  // 12
  j1.max_size = -5;
  c.fields.push_back(j1);
  Field e1 = MakeField("e1", "e1", FieldType::kEditor);  // 13
  e1.max_size = std::int64_t{1} << 60;
  c.fields.push_back(e1);

  auto result = ValidateCollection(c, nullptr, schema);
  CHECK(Errors(result) ==
        ErrorMap{
            {"fields.3.values", "validation_required"},
            {"fields.4.values.1", "validation_required"},
            {"fields.4.values.2", "validation_duplicated_value"},
            {"fields.4.maxSelect", "validation_max_less_equal_than_required"},
            {"fields.5.maxSelect", "validation_min_greater_equal_than_required"},
            {"fields.6.collectionId", "validation_required"},
            {"fields.7.collectionId", "validation_field_relation_missing_collection"},
            {"fields.8.collectionId", "validation_relation_field_non_view_base_collection"},
            {"fields.8.maxSelect", "validation_min_greater_equal_than_required"},
            {"fields.9.collectionId", "validation_field_relation_missing_collection"},
            {"fields.9.maxSelect", "validation_required"},
            {"fields.10.minSelect", "validation_min_greater_equal_than_required"},
            {"fields.11.maxSize", "validation_min_greater_equal_than_required"},
            {"fields.11.maxSelect", "validation_min_greater_equal_than_required"},
            {"fields.11.thumbs.1", "validation_not_in_invalid"},
            {"fields.11.thumbs.2", "validation_match_invalid"},
            {"fields.11.thumbs.3", "validation_match_invalid"},
            {"fields.12.maxSize", "validation_min_greater_equal_than_required"},
            {"fields.13.maxSize", "validation_max_less_equal_than_required"},
        });
  CHECK(MessageOf(result, "fields.4.maxSelect") == "Must be no greater than 3.");
  CHECK(MessageOf(result, "fields.8.maxSelect") == "Must be no less than 3.");

  SECTION("a view may relate to a view") {
    Collection v2;
    v2.id = "pbc_v2";
    v2.name = "v2";
    v2.type = CollectionType::kView;
    v2.view_query = "SELECT id FROM stats";
    Field rel = MakeField("r", "r", FieldType::kRelation);
    rel.collection_id = "pbc_view";
    v2.fields.push_back(rel);
    CHECK(ValidateCollection(v2, nullptr, schema));
  }
  SECTION("the relation target cannot change on update") {
    Collection before = Base("pbc_1", "posts");
    Field rel = MakeField("r", "owner", FieldType::kRelation);
    rel.collection_id = "pbc_users";
    before.fields.push_back(rel);
    Collection after = before;
    after.fields[3].collection_id = "pbc_1";
    CHECK(Errors(ValidateCollection(after, &before, schema)) ==
          ErrorMap{{"fields.3.collectionId", "validation_field_relation_change"}});
  }
}

TEST_CASE("ValidateCollection checks email/url domains, dates and autodates",
          "[domain][collection_validation]") {
  ProjectSchema schema;
  Collection c = Base("pbc_1", "posts");
  Field e1 = MakeField("e1", "e1", FieldType::kEmail);  // 3: both lists
  e1.only_domains = {"a.com"};
  e1.except_domains = {"b.com"};
  c.fields.push_back(e1);
  Field u1 = MakeField("u1", "u1", FieldType::kUrl);  // 4
  u1.only_domains = {"good.com", "bad_domain", "nodot", "-x.com"};
  c.fields.push_back(u1);
  Field d1 = MakeField("d1", "d1", FieldType::kDate);  // 5
  d1.min_date = "yesterday";
  c.fields.push_back(d1);
  Field d2 = MakeField("d2", "d2", FieldType::kDate);  // 6
  d2.min_date = "2030-01-01 00:00:00.000Z";
  d2.max_date = "2020-01-01 00:00:00.000Z";
  c.fields.push_back(d2);
  Field a1 = MakeField("a1", "a1", FieldType::kAutodate);  // 7
  c.fields.push_back(a1);
  auto result = ValidateCollection(c, nullptr, schema);
  CHECK(Errors(result) == ErrorMap{
                              {"fields.3.onlyDomains", "validation_empty"},
                              {"fields.3.exceptDomains", "validation_empty"},
                              {"fields.4.onlyDomains.1", "validation_is_domain"},
                              {"fields.4.onlyDomains.2", "validation_is_domain"},
                              {"fields.4.onlyDomains.3", "validation_is_domain"},
                              {"fields.5.min", "validation_date_invalid"},
                              {"fields.6.max", "validation_date_out_of_range"},
                              {"fields.7.onCreate", "validation_required"},
                              {"fields.7.onUpdate", "validation_required"},
                          });
}

TEST_CASE("ValidateCollection allows only convertible type changes",
          "[domain][collection_validation]") {
  CHECK(IsConvertible(FieldType::kText, FieldType::kNumber));
  CHECK(IsConvertible(FieldType::kNumber, FieldType::kText));
  CHECK(IsConvertible(FieldType::kBool, FieldType::kNumber));
  CHECK(IsConvertible(FieldType::kNumber, FieldType::kBool));
  CHECK(IsConvertible(FieldType::kRelation, FieldType::kJson));
  CHECK(IsConvertible(FieldType::kRelation, FieldType::kText));
  CHECK(IsConvertible(FieldType::kJson, FieldType::kEditor));
  CHECK(IsConvertible(FieldType::kDate, FieldType::kAutodate));
  CHECK(IsConvertible(FieldType::kSelect, FieldType::kSelect));
  CHECK_FALSE(IsConvertible(FieldType::kRelation, FieldType::kNumber));
  CHECK_FALSE(IsConvertible(FieldType::kNumber, FieldType::kRelation));
  CHECK_FALSE(IsConvertible(FieldType::kText, FieldType::kRelation));
  CHECK_FALSE(IsConvertible(FieldType::kText, FieldType::kFile));
  CHECK_FALSE(IsConvertible(FieldType::kNumber, FieldType::kDate));
  CHECK_FALSE(IsConvertible(FieldType::kJson, FieldType::kNumber));
  CHECK_FALSE(IsConvertible(FieldType::kPassword, FieldType::kText));
  CHECK_FALSE(IsConvertible(FieldType::kText, FieldType::kPassword));
  CHECK_FALSE(IsConvertible(FieldType::kText, FieldType::kAutodate));

  ProjectSchema schema;
  schema.collections.push_back(Base("pbc_users", "users"));
  Collection before = Base("pbc_1", "posts");
  Field owner = MakeField("r", "owner", FieldType::kRelation);
  owner.collection_id = "pbc_users";
  before.fields.push_back(owner);
  before.fields.push_back(MakeField("n", "count", FieldType::kNumber));
  Collection after = before;
  after.fields[3] = MakeField("r", "owner", FieldType::kNumber);
  after.fields[4].type = FieldType::kText;
  auto result = ValidateCollection(after, &before, schema);
  CHECK(Errors(result) == ErrorMap{{"fields.3.type", "validation_field_type_change"}});
  CHECK(MessageOf(result, "fields.3.type") ==
        "Field type cannot be changed from relation to number.");
}

TEST_CASE("ValidateCollection checks indexes", "[domain][collection_validation]") {
  ProjectSchema schema;
  Collection users = Base("pbc_users", "users");
  users.indexes.push_back(CollectionIndex{"idx_shared", false, {{"id", false}}, {}});
  schema.collections.push_back(users);

  Collection c = Base("pbc_1", "posts");
  c.fields.push_back(MakeField("t", "title", FieldType::kText));
  c.indexes = {
      CollectionIndex{"idx_ok", true, {{"title", false}}, {}},                       // 0
      CollectionIndex{"1bad", false, {{"title", false}}, {}},                        // 1
      CollectionIndex{"idx_empty", false, {}, {}},                                   // 2
      CollectionIndex{"idx_missing", false, {{"nope", false}}, {}},                  // 3
      CollectionIndex{"idx_twice", false, {{"title", false}, {"title", true}}, {}},  // 4
      CollectionIndex{"IDX_OK", false, {{"created", false}}, {}},                    // 5
      CollectionIndex{"idx_same", true, {{"title", false}}, {}},                     // 6
      CollectionIndex{"IDX_SHARED", false, {{"created", true}}, {}},                 // 7
  };
  auto result = ValidateCollection(c, nullptr, schema);
  CHECK(Errors(result) == ErrorMap{
                              {"indexes.1", "validation_invalid_index_expression"},
                              {"indexes.2", "validation_invalid_index_expression"},
                              {"indexes.3", "validation_missing_field"},
                              {"indexes.4", "validation_invalid_index_expression"},
                              {"indexes.5", "validation_duplicated_index_name"},
                              {"indexes.6", "validation_duplicated_index_definition"},
                              {"indexes.7", "validation_existing_index_name"},
                          });
  CHECK(MessageOf(result, "indexes.7") == "The index name is already used in users collection.");
  CHECK(MessageOf(result, "indexes.3") == "Invalid or missing field nope.");
}

TEST_CASE("ValidateCollection: view collections", "[domain][collection_validation]") {
  ProjectSchema schema;
  Collection v;
  v.id = "pbc_v";
  v.name = "stats";
  v.type = CollectionType::kView;
  SECTION("a query is required; fields need valid unique names only") {
    v.fields.push_back(MakeField("a", "total", FieldType::kNumber));
    v.fields.push_back(MakeField("b", "Total", FieldType::kJson));
    v.indexes.push_back(CollectionIndex{"idx", false, {{"total", false}}, {}});
    CHECK(Errors(ValidateCollection(v, nullptr, schema)) ==
          ErrorMap{{"viewQuery", "validation_required"},
                   {"fields.1.name", "validation_duplicated_field_name"},
                   {"indexes", "validation_indexes_not_supported"}});
  }
  SECTION("no system fields are required") {
    v.view_query = "SELECT id, count(*) AS total FROM posts";
    CHECK(ValidateCollection(v, nullptr, schema));
  }
}

TEST_CASE("ValidateCollection reports every problem at once", "[domain][collection_validation]") {
  ProjectSchema schema;
  Collection c = Base("bad id", "bad-name");
  c.fields.push_back(MakeField("x", "expand", FieldType::kText));
  c.indexes.push_back(CollectionIndex{"i", false, {{"nope", false}}, {}});
  auto result = ValidateCollection(c, nullptr, schema);
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::kInvalidArgument);
  CHECK(Errors(result) == ErrorMap{{"id", "validation_match_invalid"},
                                   {"name", "validation_match_invalid"},
                                   {"fields.3.name", "validation_not_in_invalid"},
                                   {"indexes.0", "validation_missing_field"}});
}

TEST_CASE("ValidateCollection checks what makes an auth collection one",
          "[domain][collection_validation][auth]") {
  ProjectSchema schema;
  auto make = [] {
    Collection auth = Base("pbc_users", "users");
    auth.type = CollectionType::kAuth;
    for (const auto& field : AuthSystemFields()) auth.fields.push_back(field);
    auth.indexes = AuthSystemIndexes(auth.id);
    return auth;
  };
  SECTION("the complete definition is valid") { CHECK(ValidateCollection(make(), nullptr, schema)); }
  SECTION("every auth system field is required, with its type and flags") {
    Collection auth = make();
    std::erase_if(auth.fields, [](const Field& f) { return f.name == "tokenKey"; });
    auth.indexes.erase(auth.indexes.begin());
    CHECK(Errors(ValidateCollection(auth, nullptr, schema)) ==
          ErrorMap{{"fields", "validation_missing_system_field"}});
    Collection retyped = make();
    retyped.fields[*retyped.FieldIndex("verified")].type = FieldType::kText;
    CHECK(Errors(ValidateCollection(retyped, nullptr, schema)).contains("fields"));
    Collection shown = make();
    shown.fields[*shown.FieldIndex("password")].hidden = false;
    CHECK(Errors(ValidateCollection(shown, nullptr, schema)) ==
          ErrorMap{{"fields", "validation_invalid_system_field"}});
    Collection weak = make();
    weak.fields[*weak.FieldIndex("password")].min = 4;
    CHECK(Errors(ValidateCollection(weak, nullptr, schema)) ==
          ErrorMap{{"fields", "validation_invalid_system_field"}});
  }
  SECTION("identity fields exist, hold text and have a unique index") {
    Collection auth = make();
    auth.fields.push_back(MakeField("f_user", "username", FieldType::kText));
    auth.auth.identity_fields = {"email", "username", "nope", "verified"};
    CHECK(Errors(ValidateCollection(auth, nullptr, schema)) ==
          ErrorMap{{"passwordAuth.identityFields.1", "validation_missing_unique_constraint"},
                   {"passwordAuth.identityFields.2", "validation_invalid_identity_field"},
                   {"passwordAuth.identityFields.3", "validation_invalid_identity_field"}});
    auth.auth.identity_fields = {"email", "username"};
    auth.indexes.push_back(CollectionIndex{"idx_username", true, {{"username", false}}, {}});
    CHECK(ValidateCollection(auth, nullptr, schema));
    auth.auth.identity_fields = {};
    CHECK(Errors(ValidateCollection(auth, nullptr, schema)) ==
          ErrorMap{{"passwordAuth.identityFields", "validation_required"}});
  }
  SECTION("token lifetimes and mail templates") {
    Collection auth = make();
    auth.auth.auth_token_duration = 5;
    auth.auth.file_token_duration = kMaxTokenDuration + 1;
    auth.auth.verification_template.subject = "two\nlines";
    auth.auth.reset_password_template.body.clear();
    CHECK(Errors(ValidateCollection(auth, nullptr, schema)) ==
          ErrorMap{{"authToken.duration", "validation_out_of_range"},
                   {"fileToken.duration", "validation_out_of_range"},
                   {"verificationTemplate.subject", "validation_invalid_subject"},
                   {"resetPasswordTemplate.body", "validation_required"}});
  }
  SECTION("password fields belong to auth collections") {
    Collection base = Base("pbc_posts", "posts");
    base.fields.push_back(MakeField("f_pw", "secret", FieldType::kPassword));
    CHECK(Errors(ValidateCollection(base, nullptr, schema)).contains("fields.3.type"));
  }
}

TEST_CASE("ValidateCollection keeps the platform's superusers out of projects",
          "[domain][collection_validation][auth]") {
  ProjectSchema schema;
  Collection named = Base("pbc_1", "_superusers");
  named.system = true;
  CHECK(Errors(ValidateCollection(named, nullptr, schema)).contains("name"));
  Collection with_id = Base(std::string(kSuperusersCollectionId), "admins");
  CHECK(Errors(ValidateCollection(with_id, nullptr, schema)) ==
        ErrorMap{{"id", "validation_collection_id_reserved"}});
}

TEST_CASE("ValidateCollection checks field-level permissions and personal data marks",
          "[domain][collection_validation]") {
  ProjectSchema schema;
  Collection c = Base("pbc_1", "people");
  Field email = MakeField("f1", "email", FieldType::kEmail);
  email.pii = "email";
  email.read_roles = {"hr", "project.admin"};
  c.fields.push_back(email);
  Field phone = MakeField("f2", "phone", FieldType::kText);
  phone.pii = "digits";
  phone.write_roles = {"hr"};
  c.fields.push_back(phone);
  CHECK(ValidateCollection(c, nullptr, schema));

  SECTION("an unknown mask") {
    c.fields[SystemFields().size()].pii = "hash";
    CHECK(Errors(ValidateCollection(c, nullptr, schema)) ==
          ErrorMap{{"fields." + std::to_string(SystemFields().size()) + ".pii", "validation_in_invalid"}});
  }
  SECTION("a field type that cannot be masked") {
    Field count = MakeField("f3", "count", FieldType::kNumber);
    count.pii = "digits";
    c.fields.push_back(count);
    CHECK(Errors(ValidateCollection(c, nullptr, schema)) ==
          ErrorMap{{"fields." + std::to_string(c.fields.size() - 1) + ".pii", "validation_pii_type"}});
  }
  SECTION("a hidden field is never returned, so it is never masked") {
    Field secret = MakeField("f3", "secret", FieldType::kText);
    secret.hidden = true;
    secret.pii = "text";
    c.fields.push_back(secret);
    CHECK(Errors(ValidateCollection(c, nullptr, schema)) ==
          ErrorMap{{"fields." + std::to_string(c.fields.size() - 1) + ".pii", "validation_pii_type"}});
  }
  SECTION("malformed role ids") {
    c.fields[SystemFields().size()].read_roles = {"HR"};
    c.fields[SystemFields().size() + 1].write_roles = {""};
    CHECK(Errors(ValidateCollection(c, nullptr, schema)) ==
          ErrorMap{{"fields." + std::to_string(SystemFields().size()) + ".readRoles",
                    "validation_invalid_role"},
                   {"fields." + std::to_string(SystemFields().size() + 1) + ".writeRoles",
                    "validation_invalid_role"}});
  }
  SECTION("too many roles") {
    c.fields[SystemFields().size()].read_roles = std::vector<std::string>(33, "hr");
    CHECK(Errors(ValidateCollection(c, nullptr, schema)) ==
          ErrorMap{{"fields." + std::to_string(SystemFields().size()) + ".readRoles",
                    "validation_length_too_long"}});
  }
}
