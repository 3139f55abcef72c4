#include "socle/domain/schema_diff.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace socle::domain;

namespace {

Field MakeField(std::string id, std::string name, FieldType type, std::int64_t max_select = 0) {
  Field field;
  field.id = std::move(id);
  field.name = std::move(name);
  field.type = type;
  field.max_select = max_select;
  return field;
}

Collection Posts() {
  Collection c;
  c.id = "pbc_1";
  c.name = "posts";
  c.fields = SystemFields();
  c.fields.push_back(MakeField("f_title", "title", FieldType::kText));
  c.fields.push_back(MakeField("f_views", "views", FieldType::kNumber));
  c.fields.push_back(MakeField("f_tags", "tags", FieldType::kSelect, 1));
  c.indexes.push_back(CollectionIndex{"idx_title", true, {{"title", false}}, {}});
  c.indexes.push_back(CollectionIndex{"idx_views", false, {{"views", true}}, {}});
  return c;
}

std::vector<std::string> Names(const std::vector<const Field*>& fields) {
  std::vector<std::string> names;
  for (const Field* f : fields) names.push_back(f->name);
  return names;
}

std::vector<std::string> Names(const std::vector<const CollectionIndex*>& indexes) {
  std::vector<std::string> names;
  for (const CollectionIndex* i : indexes) names.push_back(i->name);
  return names;
}

}  // namespace

TEST_CASE("DiffCollections: identical definitions give an empty diff", "[domain][schema_diff]") {
  auto before = Posts();
  auto after = Posts();
  after.rules.list = "";  // rules and other metadata do not touch the table
  auto diff = DiffCollections(before, after);
  CHECK(diff.Empty());
}

TEST_CASE("DiffCollections: fields are matched by id", "[domain][schema_diff]") {
  auto before = Posts();
  auto after = Posts();
  after.fields[3].name = "headline";                                        // rename
  after.fields.erase(after.fields.begin() + 4);                             // remove views
  after.fields.push_back(MakeField("f_body", "body", FieldType::kEditor));  // add
  after.indexes = {CollectionIndex{"idx_title", true, {{"headline", false}}, {}}};

  auto diff = DiffCollections(before, after);
  CHECK_FALSE(diff.Empty());
  CHECK_FALSE(diff.renamed_from);
  CHECK(Names(diff.removed_fields) == std::vector<std::string>{"views"});
  REQUIRE(diff.renamed_fields.size() == 1);
  CHECK(diff.renamed_fields[0].before->name == "title");
  CHECK(diff.renamed_fields[0].after->name == "headline");
  CHECK(Names(diff.added_fields) == std::vector<std::string>{"body"});
  CHECK(diff.retyped_fields.empty());
  // idx_title changed definition (its column was renamed): dropped and recreated; idx_views
  // is gone with its column.
  CHECK(Names(diff.dropped_indexes) == std::vector<std::string>{"idx_title", "idx_views"});
  CHECK(Names(diff.created_indexes) == std::vector<std::string>{"idx_title"});
  // Pointers point into the arguments.
  CHECK(diff.removed_fields[0] == &before.fields[4]);
  CHECK(diff.added_fields[0] == &after.fields.back());
}

TEST_CASE("DiffCollections: a type change or single <-> multiple is a retype",
          "[domain][schema_diff]") {
  auto before = Posts();
  SECTION("type change") {
    auto after = Posts();
    after.fields[4].type = FieldType::kText;
    auto diff = DiffCollections(before, after);
    REQUIRE(diff.retyped_fields.size() == 1);
    CHECK(diff.retyped_fields[0].before->type == FieldType::kNumber);
    CHECK(diff.retyped_fields[0].after->type == FieldType::kText);
    // The index on the retyped column is rebuilt around the change.
    CHECK(Names(diff.dropped_indexes) == std::vector<std::string>{"idx_views"});
    CHECK(Names(diff.created_indexes) == std::vector<std::string>{"idx_views"});
  }
  SECTION("single to multiple") {
    auto after = Posts();
    after.fields[5].max_select = 3;
    auto diff = DiffCollections(before, after);
    REQUIRE(diff.retyped_fields.size() == 1);
    CHECK(diff.retyped_fields[0].after->name == "tags");
    CHECK(diff.dropped_indexes.empty());
  }
  SECTION("a larger maxSelect that stays multiple is not a storage change") {
    before.fields[5].max_select = 2;
    auto after = before;
    after.fields[5].max_select = 9;
    CHECK(DiffCollections(before, after).Empty());
  }
  SECTION("rename and retype together") {
    auto after = Posts();
    after.fields[4].type = FieldType::kText;
    after.fields[4].name = "view_count";
    after.indexes.pop_back();
    auto diff = DiffCollections(before, after);
    REQUIRE(diff.renamed_fields.size() == 1);
    REQUIRE(diff.retyped_fields.size() == 1);
    CHECK(diff.retyped_fields[0].after->name == "view_count");
  }
}

TEST_CASE("DiffCollections: index changes", "[domain][schema_diff]") {
  auto before = Posts();
  auto after = Posts();
  after.indexes[0].unique = false;                                                // changed
  after.indexes.erase(after.indexes.begin() + 1);                                 // removed
  after.indexes.push_back(CollectionIndex{"idx_new", false, {{"tags", false}}, {}});  // added
  auto diff = DiffCollections(before, after);
  CHECK(Names(diff.dropped_indexes) == std::vector<std::string>{"idx_title", "idx_views"});
  CHECK(Names(diff.created_indexes) == std::vector<std::string>{"idx_title", "idx_new"});
  CHECK(diff.removed_fields.empty());
  CHECK(diff.added_fields.empty());
}

TEST_CASE("DiffCollections: a table rename recreates every index", "[domain][schema_diff]") {
  auto before = Posts();
  auto after = Posts();
  after.name = "articles";
  auto diff = DiffCollections(before, after);
  REQUIRE(diff.renamed_from);
  CHECK(*diff.renamed_from == "posts");
  CHECK(Names(diff.dropped_indexes) == std::vector<std::string>{"idx_title", "idx_views"});
  CHECK(Names(diff.created_indexes) == std::vector<std::string>{"idx_title", "idx_views"});
  CHECK(diff.renamed_fields.empty());
}

TEST_CASE("DiffCollections: a removed field's name reused by a new field",
          "[domain][schema_diff]") {
  auto before = Posts();
  auto after = Posts();
  after.fields[4] = MakeField("f_views2", "views", FieldType::kNumber);
  auto diff = DiffCollections(before, after);
  CHECK(Names(diff.removed_fields) == std::vector<std::string>{"views"});
  CHECK(Names(diff.added_fields) == std::vector<std::string>{"views"});
  // The index on the old column goes with it and comes back on the new one.
  CHECK(Names(diff.dropped_indexes) == std::vector<std::string>{"idx_views"});
  CHECK(Names(diff.created_indexes) == std::vector<std::string>{"idx_views"});
}

TEST_CASE("StorageClassOf depends on the type and single/multiple only", "[domain][schema_diff]") {
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kText)) == StorageClass::kText);
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kEditor)) == StorageClass::kText);
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kEmail)) == StorageClass::kText);
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kUrl)) == StorageClass::kText);
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kPassword)) == StorageClass::kText);
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kNumber)) == StorageClass::kNumber);
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kBool)) == StorageClass::kBool);
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kDate)) == StorageClass::kDate);
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kAutodate)) == StorageClass::kDate);
  CHECK(StorageClassOf(MakeField("a", "a", FieldType::kJson)) == StorageClass::kJson);
  for (auto type : {FieldType::kSelect, FieldType::kRelation, FieldType::kFile}) {
    CHECK(StorageClassOf(MakeField("a", "a", type, 0)) == StorageClass::kText);
    CHECK(StorageClassOf(MakeField("a", "a", type, 1)) == StorageClass::kText);
    CHECK(StorageClassOf(MakeField("a", "a", type, 2)) == StorageClass::kTextArray);
  }
}
