// Field-level permissions (readRoles, writeRoles, personal data masks), @request.auth.roles in
// rules, and platform callers' records permissions, through ManageRecords on the memory store.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "application/data_world.hpp"

using namespace socle;
using namespace socle::testing;
using domain::FieldType;
using domain::JsonValue;

namespace {

// A "people" collection: a public name, a phone number only the "hr" role reads, a salary
// only "payroll" writes, and an e-mail address that is personal data.
domain::Collection People() {
  auto phone = NewField("phone", FieldType::kText);
  phone.read_roles = {"hr"};
  phone.pii = "digits";
  auto salary = NewField("salary", FieldType::kText);
  salary.write_roles = {"payroll"};
  auto email = NewField("email", FieldType::kEmail);
  email.pii = "email";
  auto note = NewField("note", FieldType::kText);
  note.pii = "text";
  auto people = NewCollection("people", {NewField("name", FieldType::kText), phone, salary, email, note});
  return people;
}

// A caller whose @request.auth carries `roles` (as an app user's roles field, or a member's).
application::Caller WithRoles(DataWorld& world, std::vector<std::string> roles,
                              std::string_view collection = "people") {
  application::Caller caller;
  auto schema = world.directory.Find("shop");
  REQUIRE(schema);
  auto snapshot = schema->store->Schema();
  REQUIRE(snapshot);
  const domain::Collection* people = (*snapshot)->Find(collection);
  REQUIRE(people != nullptr);
  domain::Record record = domain::EmptyRecord(*people);
  record.values[*people->FieldIndex("id")] = JsonValue::String("someoneelse0001");
  caller.request.auth = domain::filter::AuthIdentity{people, record, std::move(roles)};
  caller.auth_schema = *snapshot;
  return caller;
}

const JsonValue& ValueIn(const application::ExpandedRecord& item, std::string_view field) {
  return item.record.values[*item.collection->FieldIndex(field)];
}

}  // namespace

TEST_CASE("field access: readRoles empty a field for callers without the role", "[application][rbac]") {
  DataWorld world;
  world.MustCreate(People());
  const std::string id = world.MustInsert(
      "people", Body({{"name", Str("Ann")}, {"phone", Str("+33 6 12 34 56 78")},
                      {"email", Str("ann@example.com")}, {"note", Str("Allergic")}}));

  auto guest = world.records.View("shop", "people", id, "", application::Caller{});
  REQUIRE(guest);
  CHECK(ValueIn(guest->record, "name") == Str("Ann"));
  CHECK(ValueIn(guest->record, "phone").IsNull());

  auto hr = world.records.View("shop", "people", id, "", WithRoles(world, {"hr"}));
  REQUIRE(hr);
  // hr reads the phone, but it is personal data: masked all the same.
  CHECK(ValueIn(hr->record, "phone") == Str("****5678"));

  application::Caller superuser;
  superuser.superuser = true;
  auto clear = world.records.View("shop", "people", id, "", superuser);
  REQUIRE(clear);
  CHECK(ValueIn(clear->record, "phone") == Str("+33 6 12 34 56 78"));
  CHECK(ValueIn(clear->record, "email") == Str("ann@example.com"));

  // In lists as in views.
  auto listed = world.records.List("shop", "people", {}, application::Caller{});
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 1);
  CHECK(ValueIn(listed->items[0], "phone").IsNull());
  CHECK(ValueIn(listed->items[0], "email") == Str("a***@e***.com"));
  CHECK(ValueIn(listed->items[0], "note") != Str("Allergic"));
  CHECK(ValueIn(listed->items[0], "note").AsString().starts_with("A"));
}

TEST_CASE("field access: restricted and masked fields cannot be filtered or sorted on", "[application][rbac]") {
  DataWorld world;
  world.MustCreate(People());
  world.MustInsert("people", Body({{"name", Str("Ann")}, {"phone", Str("0612345678")},
                                   {"email", Str("ann@example.com")}}));

  for (const char* filter : {"phone = \"0612345678\"", "email ~ \"ann\"", "phone != \"\""}) {
    application::ListRecordsInput input;
    input.filter = filter;
    auto probed = world.records.List("shop", "people", input, WithRoles(world, {"hr"}));
    INFO(filter);
    REQUIRE_FALSE(probed);
    CHECK(probed.error().code == domain::ErrorCode::kInvalidArgument);
  }
  application::ListRecordsInput sorted;
  sorted.sort = "email";
  CHECK_FALSE(world.records.List("shop", "people", sorted, application::Caller{}));

  // Someone reading personal data in clear may filter on it.
  application::Caller dpo;
  dpo.permissions = std::vector<std::string>{"records.read_pii"};
  dpo.request.auth = WithRoles(world, {"hr"}).request.auth;
  application::ListRecordsInput input;
  input.filter = "email ~ \"ann\"";
  auto found = world.records.List("shop", "people", input, dpo);
  REQUIRE(found);
  CHECK(found->items.size() == 1);
  CHECK(ValueIn(found->items[0], "email") == Str("ann@example.com"));
  // A filter on a field anybody reads in clear still works for everyone.
  input.filter = "name = \"Ann\"";
  auto public_filter = world.records.List("shop", "people", input, application::Caller{});
  REQUIRE(public_filter);
  CHECK(public_filter->items.size() == 1);
}

TEST_CASE("field access: writeRoles refuse writes of the field without the role", "[application][rbac]") {
  DataWorld world;
  world.MustCreate(People());
  auto refused = world.records.Create("shop", "people",
                                      {Body({{"name", Str("Bob")}, {"salary", Str("5000")}}), {}, {}, {}},
                                      WithRoles(world, {"hr"}));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == domain::ErrorCode::kPermissionDenied);
  CHECK(refused.error().message.find("salary") != std::string::npos);
  // Nothing was written.
  auto listed = world.records.List("shop", "people", {}, application::Caller{});
  REQUIRE(listed);
  CHECK(listed->items.empty());

  auto allowed = world.records.Create("shop", "people",
                                      {Body({{"name", Str("Bob")}, {"salary", Str("5000")}}), {}, {}, {}},
                                      WithRoles(world, {"payroll"}));
  REQUIRE(allowed);
  const std::string id = allowed->record.record.Id(*allowed->record.collection);
  // An update touching only other fields is fine without the role.
  auto renamed = world.records.Update("shop", "people", id,
                                      {Body({{"name", Str("Robert")}}), {}, {}, {}},
                                      WithRoles(world, {}));
  REQUIRE(renamed);
  auto raised = world.records.Update("shop", "people", id,
                                     {Body({{"salary", Str("9000")}}), {}, {}, {}},
                                     WithRoles(world, {"hr"}));
  REQUIRE_FALSE(raised);
  CHECK(raised.error().code == domain::ErrorCode::kPermissionDenied);
}

TEST_CASE("field access: personal data shows in clear only to who may read it", "[application][rbac]") {
  DataWorld world;
  world.MustCreate(People());
  const std::string id = world.MustInsert("people", Body({{"email", Str("ann@example.com")}}));
  auto email_for = [&](application::Caller caller) {
    auto viewed = world.records.View("shop", "people", id, "", std::move(caller));
    REQUIRE(viewed);
    return ValueIn(viewed->record, "email").AsString();
  };
  CHECK(email_for({}) == "a***@e***.com");

  application::Caller key;
  key.superuser = true;  // an API key acts as a superuser within its scopes
  key.scopes = std::vector<application::ApiKeyScope>{{"people", "view"}};
  CHECK(email_for(key) == "a***@e***.com");
  key.scopes->push_back({"people", "pii"});
  CHECK(email_for(key) == "ann@example.com");

  application::Caller member;  // a platform member with records.read only
  member.permissions = std::vector<std::string>{"records.read"};
  CHECK(email_for(member) == "a***@e***.com");
  member.permissions = std::vector<std::string>{"records.read", "records.read_pii"};
  CHECK(email_for(member) == "ann@example.com");
}

TEST_CASE("field access: an auth record reads its own personal data in clear", "[application][rbac]") {
  DataWorld world;
  auto users = NewCollection("people", {NewField("name", FieldType::kText)});
  auto phone = NewField("phone", FieldType::kText);
  phone.pii = "digits";
  users.fields.push_back(phone);
  world.MustCreate(users);
  const std::string mine = world.MustInsert("people", Body({{"phone", Str("0611111111")}}));
  const std::string theirs = world.MustInsert("people", Body({{"phone", Str("0622222222")}}));

  auto caller = WithRoles(world, {});
  caller.request.auth->record.values[*caller.request.auth->collection->FieldIndex("id")] = Str(mine);
  auto own = world.records.View("shop", "people", mine, "", caller);
  REQUIRE(own);
  CHECK(ValueIn(own->record, "phone") == Str("0611111111"));
  auto other = world.records.View("shop", "people", theirs, "", caller);
  REQUIRE(other);
  CHECK(ValueIn(other->record, "phone") == Str("****2222"));
}

TEST_CASE("field access: expanded records are masked too", "[application][rbac]") {
  DataWorld world;
  auto people = world.MustCreate(People());
  auto owner = NewField("owner", FieldType::kRelation);
  owner.collection_id = people.id;
  owner.max_select = 1;
  world.MustCreate(NewCollection("cars", {NewField("plate", FieldType::kText), owner}));
  const std::string ann = world.MustInsert(
      "people", Body({{"phone", Str("0612345678")}, {"email", Str("ann@example.com")}}));
  world.MustInsert("cars", Body({{"plate", Str("AB-123")}, {"owner", Str(ann)}}));

  application::ListRecordsInput input;
  input.expand = "owner";
  auto listed = world.records.List("shop", "cars", input, application::Caller{});
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 1);
  REQUIRE(listed->items[0].expand.size() == 1);
  REQUIRE(listed->items[0].expand[0].records.size() == 1);
  const auto& expanded = listed->items[0].expand[0].records[0];
  CHECK(ValueIn(expanded, "email") == Str("a***@e***.com"));
  CHECK(ValueIn(expanded, "phone").IsNull());
}

TEST_CASE("rules: @request.auth.roles meets the caller's roles", "[application][rbac]") {
  DataWorld world;
  auto docs = NewCollection("docs", {NewField("title", FieldType::kText)});
  docs.rules.list = "@request.auth.roles ?= \"editor\"";
  docs.rules.view = "@request.auth.roles ?= \"editor\"";
  docs.rules.create = "@request.auth.roles:length > 0";
  world.MustCreate(docs);
  world.MustInsert("docs", Body({{"title", Str("Plan")}}));

  auto as = [&](std::vector<std::string> roles) {
    auto listed = world.records.List("shop", "docs", {}, WithRoles(world, std::move(roles), "docs"));
    REQUIRE(listed);
    return listed->items.size();
  };
  CHECK(as({"editor"}) == 1);
  CHECK(as({"viewer", "editor"}) == 1);
  CHECK(as({"viewer"}) == 0);
  CHECK(as({}) == 0);
  auto guest = world.records.List("shop", "docs", {}, application::Caller{});
  REQUIRE(guest);
  CHECK(guest->items.empty());

  CHECK_FALSE(world.records.Create("shop", "docs", {Body({{"title", Str("x")}}), {}, {}, {}},
                                   WithRoles(world, {}, "docs")));
  CHECK(world.records.Create("shop", "docs", {Body({{"title", Str("x")}}), {}, {}, {}},
                             WithRoles(world, {"viewer"}, "docs")));
}

TEST_CASE("platform callers: records permissions act as a superuser for their action only", "[application][rbac]") {
  DataWorld world;
  auto vault = NewCollection("vault", {NewField("secret", FieldType::kText)});
  vault.rules = {};  // every rule null: superusers only
  world.MustCreate(vault);
  world.MustInsert("vault", Body({{"secret", Str("s1")}}));

  application::Caller reader;
  reader.permissions = std::vector<std::string>{"project.read", "records.read"};
  auto listed = world.records.List("shop", "vault", {}, reader);
  REQUIRE(listed);
  CHECK(listed->items.size() == 1);
  // Reading is not writing: the null create rule stands.
  auto created = world.records.Create("shop", "vault", {Body({{"secret", Str("s2")}}), {}, {}, {}}, reader);
  REQUIRE_FALSE(created);
  CHECK(created.error().code == domain::ErrorCode::kPermissionDenied);

  application::Caller editor;
  editor.permissions = std::vector<std::string>{"records.create", "records.delete", "records.read",
                                                "records.update"};
  auto made = world.records.Create("shop", "vault", {Body({{"secret", Str("s2")}}), {}, {}, {}}, editor);
  REQUIRE(made);
  const std::string id = made->record.record.Id(*made->record.collection);
  CHECK(world.records.Update("shop", "vault", id, {Body({{"secret", Str("s3")}}), {}, {}, {}}, editor));
  CHECK(world.records.Delete("shop", "vault", id, editor));

  // No permission at all: the rules decide, and they say superusers only.
  application::Caller stranger;
  stranger.permissions = std::vector<std::string>{};
  auto refused = world.records.List("shop", "vault", {}, stranger);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == domain::ErrorCode::kPermissionDenied);
}
