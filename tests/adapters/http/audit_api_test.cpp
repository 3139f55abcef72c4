// The audit trail over HTTP (AuditApi): search with filters and keyset pages, exports, one
// record's history, verification and checkpoints, through the in-process server with the
// routes registered as socle-server registers them; and who may read what: owners and admins
// (audit.read), personal data only with records.read_pii, nobody from another organisation,
// nothing for anonymous callers, 400 for every malformed parameter.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "http_test_client.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_records.hpp"
#include "test_server.hpp"

namespace json = socle::adapters::json;
using socle::domain::JsonValue;
using socle::testing::HttpReply;

namespace {

JsonValue Json(const HttpReply& reply) {
  INFO(reply.body);
  auto parsed = json::ParseJson(reply.body);
  REQUIRE(parsed);
  return *parsed;
}

std::vector<JsonValue> Items(const HttpReply& reply) {
  const JsonValue body = Json(reply);
  const JsonValue* items = body.Find("items");
  REQUIRE(items != nullptr);
  return items->items();
}

std::string Str(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* current = &value;
  for (std::string_view key : path) {
    REQUIRE(current->IsObject());
    current = current->Find(key);
    REQUIRE(current != nullptr);
  }
  if (current->IsNull()) return "<null>";
  REQUIRE(current->type() == JsonValue::Type::kString);
  return current->AsString();
}

std::string Body(std::string_view slug) {
  json::JsonWriter w;
  w.BeginObject().Key("slug").String(slug).Key("name").String(slug).EndObject();
  return std::move(w).Take();
}

// The server, an organisation "acme" its owner made, a project "shop" with a collection whose
// records carry a personal field, and a few audited changes made through the use cases.
class World {
 public:
  World() {
    server_.ServePlatformSignIn();
    server_.Start();
    owner_ = server_.world().MemberToken("owner@example.com", kPassword);
    REQUIRE(Call("POST", "/api/v1/orgs", owner_, Body("acme")).status == 201);
    REQUIRE(Call("POST", "/api/v1/orgs/acme/projects", owner_, Body("shop")).status == 201);

    socle::domain::Collection people;
    people.name = "people";
    people.rules.list = people.rules.view = people.rules.create = "";
    people.rules.update = people.rules.del = "";
    socle::domain::Field name;
    name.name = "name";
    name.type = socle::domain::FieldType::kText;
    socle::domain::Field phone = name;
    phone.name = "phone";
    phone.pii = "digits";
    people.fields = {name, phone};
    REQUIRE(collections_.Create("shop", people, "test"));
    socle::application::Caller caller;
    caller.superuser = true;
    caller.origin = {"req-http-1", "192.0.2.10", "audit-test/1", "initial load"};
    for (const char* who : {"Ann", "Bob", "Cid"}) {
      auto created = records_.Create(
          "shop", "people",
          {JsonValue::Object({{"name", JsonValue::String(who)},
                              {"phone", JsonValue::String(std::string("+32 ") + who)}}),
           {}, {}, {}},
          caller);
      REQUIRE(created);
      ids_.push_back(created->record.record.Id(*created->record.collection));
    }
    auto updated = records_.Update(
        "shop", "people", ids_[0],
        {JsonValue::Object({{"name", JsonValue::String("Anne")}}), {}, {}, {}}, caller);
    REQUIRE(updated);
  }

  HttpReply Call(std::string_view method, std::string_view target, std::string_view token = {},
                 std::string body = {}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + std::string(token));
    return socle::testing::Fetch(server_.port(), method, target, std::move(body),
                                 std::move(headers));
  }

  socle::testing::TestServer& server() { return server_; }
  const std::string& owner() const { return owner_; }
  const std::vector<std::string>& ids() const { return ids_; }

  static constexpr std::string_view kPassword = "quartz-harbour-violet-58";

 private:
  socle::testing::TestServer server_;
  socle::application::ManageCollections collections_{
      server_.world().directory(), server_.clock(), server_.random(),
      &server_.world().audit_trail()};
  socle::application::ManageRecords records_{server_.world().directory(),
                                             server_.clock(),
                                             server_.random(),
                                             {},
                                             nullptr,
                                             {},
                                             &server_.world().audit_trail()};
  std::string owner_;
  std::vector<std::string> ids_;
};

}  // namespace

TEST_CASE("audit API: the owner searches newest first, page by page, with filters",
          "[http][audit]") {
  World w;
  const HttpReply all = w.Call("GET", "/api/v1/audit?org=acme&action=record.create", w.owner());
  REQUIRE(all.status == 200);
  auto items = Items(all);
  REQUIRE(items.size() == 3);
  CHECK(Str(items[0], {"target", "id"}) == w.ids()[2]);  // newest first
  CHECK(Str(items[2], {"target", "id"}) == w.ids()[0]);
  CHECK(Str(items[0], {"requestId"}) == "req-http-1");
  CHECK(Str(items[0], {"reason"}) == "initial load");
  CHECK(Str(items[0], {"outcome"}) == "success");
  CHECK(Str(Json(all), {"nextCursor"}) == "<null>");
  // The owner (records.read_pii) sees personal parts, without their salt.
  CHECK(Str(items[0], {"personal", "actor", "clientAddress"}) == "192.0.2.10");
  CHECK(Str(items[0], {"personal", "target", "phone", "after"}) == "+32 Cid");
  CHECK(items[0].Find("personal")->Find("target")->Find("salt") == nullptr);

  // Pages of two: every event once, newest first.
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    std::string target = "/api/v1/audit?org=acme&project=shop&perPage=2";
    if (!cursor.empty()) target += "&cursor=" + cursor;
    const HttpReply page = w.Call("GET", target, w.owner());
    REQUIRE(page.status == 200);
    for (const auto& item : Items(page)) seen.push_back(Str(item, {"action"}));
    cursor = Str(Json(page), {"nextCursor"});
    if (cursor == "<null>") cursor.clear();
    ++pages;
  } while (!cursor.empty() && pages < 10);
  CHECK(seen == std::vector<std::string>{"record.update", "record.create", "record.create",
                                         "record.create", "collection.create"});

  const HttpReply by_target =
      w.Call("GET", "/api/v1/audit?org=acme&target=" + w.ids()[0], w.owner());
  REQUIRE(by_target.status == 200);
  CHECK(Items(by_target).size() == 2);
  const HttpReply none = w.Call("GET", "/api/v1/audit?org=acme&from=2100-01-01T00:00:00Z", w.owner());
  REQUIRE(none.status == 200);
  CHECK(Items(none).empty());
}

TEST_CASE("audit API: one record's history and the exports", "[http][audit]") {
  World w;
  const HttpReply history = w.Call(
      "GET", "/api/v1/audit/records/people/" + w.ids()[0] + "?org=acme&project=shop", w.owner());
  REQUIRE(history.status == 200);
  auto items = Items(history);
  REQUIRE(items.size() == 2);
  CHECK(Str(items[0], {"action"}) == "record.update");
  CHECK(Str(items[1], {"action"}) == "record.create");

  const HttpReply csv = w.Call("GET", "/api/v1/audit?org=acme&format=csv", w.owner());
  REQUIRE(csv.status == 200);
  CHECK(csv.body.starts_with("at,org,project,lane,seq,actorKind,"));
  CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 6);  // header + 5 events
  CHECK(csv.body.find("+32") == std::string::npos);  // no personal data in exports
  CHECK(csv.body.find("192.0.2.10") == std::string::npos);

  const HttpReply lines = w.Call("GET", "/api/v1/audit?org=acme&format=jsonl", w.owner());
  REQUIRE(lines.status == 200);
  CHECK(std::count(lines.body.begin(), lines.body.end(), '\n') == 5);
  CHECK(lines.body.find(R"("personal":"masked")") != std::string::npos);
}

TEST_CASE("audit API: verification and checkpoints", "[http][audit]") {
  World w;
  const HttpReply verified = w.Call("GET", "/api/v1/audit/verify?org=acme", w.owner());
  REQUIRE(verified.status == 200);
  const JsonValue report = Json(verified);
  CHECK(report.Find("ok")->AsBool());
  CHECK(report.Find("chains")->items().size() == 1);

  const std::string root = w.server().SuperuserToken();
  CHECK(w.Call("POST", "/api/v1/audit/checkpoint", w.owner()).status == 403);
  const HttpReply checkpoint = w.Call("POST", "/api/v1/audit/checkpoint", root);
  REQUIRE(checkpoint.status == 201);
  CHECK(Json(checkpoint).Find("heads")->items().size() == 1);
  const HttpReply everything = w.Call("GET", "/api/v1/audit/verify", root);
  REQUIRE(everything.status == 200);
  CHECK(Json(everything).Find("ok")->AsBool());
  CHECK(Json(everything).Find("checkpoint")->IsObject());
  // Pinned to a key that did not sign: the checkpoint is not trusted.
  const HttpReply pinned = w.Call(
      "GET", "/api/v1/audit/verify?org=acme&publicKey=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      w.owner());
  REQUIRE(pinned.status == 200);
  CHECK_FALSE(Json(pinned).Find("ok")->AsBool());
}

TEST_CASE("audit API: strangers, anonymous callers and bad parameters", "[http][audit]") {
  World w;
  CHECK(w.Call("GET", "/api/v1/audit?org=acme").status == 401);
  CHECK(w.Call("GET", "/api/v1/audit/verify?org=acme").status == 401);
  CHECK(w.Call("POST", "/api/v1/audit/checkpoint").status == 401);

  const std::string stranger = w.server().world().MemberToken("eve@example.com", World::kPassword);
  CHECK(w.Call("GET", "/api/v1/audit?org=acme", stranger).status == 404);
  CHECK(w.Call("GET", "/api/v1/audit?org=acme&project=shop", stranger).status == 404);
  CHECK(w.Call("GET", "/api/v1/audit/verify?org=acme", stranger).status == 404);
  CHECK(w.Call("GET", "/api/v1/audit/records/people/" + w.ids()[0] + "?org=acme&project=shop",
               stranger)
            .status == 404);
  // Her own organisation does not open another's project.
  REQUIRE(w.Call("POST", "/api/v1/orgs", stranger, Body("evil")).status == 201);
  CHECK(w.Call("GET", "/api/v1/audit?org=evil&project=shop", stranger).status == 404);
  CHECK(w.Call("GET", "/api/v1/audit/verify", stranger).status == 400);

  for (const char* bad :
       {"/api/v1/audit", "/api/v1/audit?org=acme&perPage=0", "/api/v1/audit?org=acme&perPage=501",
        "/api/v1/audit?org=acme&perPage=ten", "/api/v1/audit?org=acme&from=yesterday",
        "/api/v1/audit?org=acme&format=xml", "/api/v1/audit?org=acme&cursor=..%2F..",
        "/api/v1/audit?org=acme&cursor=1_ABC_0_1"}) {
    INFO(bad);
    const HttpReply reply = w.Call("GET", bad, w.owner());
    CHECK(reply.status == 400);
    CHECK(Json(reply).Find("data") != nullptr);
  }
  const std::string long_value(201, 'a');
  CHECK(w.Call("GET", "/api/v1/audit?org=acme&actor=" + long_value, w.owner()).status == 400);
}

TEST_CASE("audit API: a data subject's export and erasure", "[http][audit][gdpr]") {
  World w;
  const std::string ann = w.ids()[0];
  const std::string target = "/api/v1/projects/shop/subjects/people/" + ann;
  const HttpReply exported = w.Call("GET", target, w.owner());
  REQUIRE(exported.status == 200);
  CHECK(exported.Header("cache-control") == "no-store");
  const JsonValue body = Json(exported);
  REQUIRE(body.Find("records")->items().size() == 1);
  CHECK(Str(body.Find("records")->items()[0], {"name"}) == "Anne");
  CHECK(Str(body.Find("records")->items()[0], {"phone"}) == "+32 Ann");
  CHECK(body.Find("events")->items().size() == 2);  // created, renamed
  CHECK_FALSE(body.Find("truncated")->AsBool());

  // Strangers, anonymous callers, bad modes.
  const std::string stranger = w.server().world().MemberToken("eve@example.com", World::kPassword);
  CHECK(w.Call("GET", target, stranger).status == 404);
  CHECK(w.Call("DELETE", target, stranger).status == 404);
  CHECK(w.Call("GET", target).status == 401);
  CHECK(w.Call("DELETE", target + "?mode=shred", w.owner()).status == 400);
  CHECK(w.Call("GET", "/api/v1/projects/shop/subjects/people/..%2Fetc", w.owner()).status == 400);

  const HttpReply erased = w.Call("DELETE", target, w.owner());
  REQUIRE(erased.status == 200);
  const JsonValue report = Json(erased);
  CHECK(report.Find("recordDeleted")->AsBool());
  CHECK(*report.Find("personalParts")->AsInt64() >= 2);
  // Their values are gone from the trail, and the chains still verify.
  const HttpReply after = w.Call("GET", "/api/v1/audit?org=acme&project=shop", w.owner());
  REQUIRE(after.status == 200);
  CHECK(after.body.find("+32 Ann") == std::string::npos);
  CHECK(after.body.find("+32 Bob") != std::string::npos);
  CHECK(after.body.find("subject.erase") != std::string::npos);
  const HttpReply verified = w.Call("GET", "/api/v1/audit/verify?org=acme", w.owner());
  REQUIRE(verified.status == 200);
  CHECK(Json(verified).Find("ok")->AsBool());
}
