// API keys (ManageApiKeys) and what a key may do through the records API (ManageRecords with
// the Caller a key proves): scope parsing, creation and its validation, the secret that is
// shown once and never stored, identification and every way a key is refused, revocation,
// usage counted in memory and flushed, and the scopes enforced on every action, expansion and
// batch. Over the memory stores, the real Ed25519 signer (whose Bind stores the one-way
// binding) and a clock the tests move. The platform store goes through a wrapper that can be
// made to refuse writes, as an unavailable database would, to see that usage survives a
// failed flush.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "application/data_world.hpp"
#include "support/forwarding_project_store.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/platform_store.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::crypto::Ed25519TokenSigner;
using application::ApiKeyInfo;
using application::ApiKeyScope;
using application::BatchOperation;
using application::Caller;
using application::ListRecordsInput;
using application::ManageApiKeys;
using application::NewApiKey;
using application::RecordWriteInput;
using testing::Body;
using testing::NewCollection;
using testing::NewField;
using testing::Str;

namespace {

constexpr std::string_view kBadKey = "The API key is not valid.";
constexpr std::string_view kOutOfScope = "The API key does not allow this action on this collection.";
constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kDay = 86'400 * kSecond;

std::string Describe(const Error& error) {
  std::string out = std::string(ToString(error.code)) + ": " + error.message;
  for (const auto& f : error.fields) out += " | " + f.field + " " + f.code;
  if (!error.internal.empty()) out += " (" + error.internal + ")";
  return out;
}

std::vector<std::string> FieldNames(const Error& error) {
  std::vector<std::string> out;
  for (const auto& f : error.fields) out.push_back(f.field);
  std::sort(out.begin(), out.end());
  return out;
}

bool HasField(const Error& error, std::string_view field, std::string_view code) {
  return std::any_of(error.fields.begin(), error.fields.end(), [&](const FieldError& f) {
    return f.field == field && f.code == code;
  });
}

RecordWriteInput Input(JsonValue body, std::string expand = "") {
  RecordWriteInput input;
  input.body = std::move(body);
  input.expand = std::move(expand);
  return input;
}

Caller Superuser() {
  Caller caller;
  caller.superuser = true;
  return caller;
}

bool IsAlphanumeric(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A project store whose writes can be refused as an unavailable database refuses them, and
// which counts the write transactions it was asked for. Everything else is the memory store's.
class FlakyStore final : public testing::ForwardingProjectStore {
 public:
  FlakyStore(std::shared_ptr<application::ProjectStore> inner, const std::atomic<bool>& fail,
             std::atomic<int>& writes)
      : ForwardingProjectStore(std::move(inner)), fail_(fail), writes_(writes) {}

  Result<void> Write(
      const std::function<Result<void>(application::RecordTransaction&)>& work) override {
    ++writes_;
    if (fail_) return Fail(ErrorCode::kUnavailable, "The store is unavailable.");
    return inner().Write(work);
  }

 private:
  const std::atomic<bool>& fail_;
  std::atomic<int>& writes_;
};

class FlakyStores final : public application::ProjectStores {
 public:
  explicit FlakyStores(application::ProjectStores& inner) : inner_(inner) {}

  Result<std::shared_ptr<application::ProjectStore>> Open(const Project& project) override {
    auto opened = inner_.Open(project);
    if (!opened) return opened;
    return std::shared_ptr<application::ProjectStore>(
        std::make_shared<FlakyStore>(std::move(*opened), fail_writes, writes));
  }
  void Close(const Id& project_id) override { inner_.Close(project_id); }

  std::atomic<bool> fail_writes{false};
  std::atomic<int> writes{0};

 private:
  application::ProjectStores& inner_;
};

// Projects shop and other (organisation acme). In shop: users, posts (author → users, a hidden
// field secret) and comments (post → posts, cascading), every rule null so that only
// superusers, and keys within their scopes, reach them.
struct KeysWorld : testing::DataWorld {
  KeysWorld() {
    REQUIRE(projects.Create({"other", "acme", std::nullopt}));
    Collection users = NewCollection("users", {NewField("name", FieldType::kText)});
    users.rules = {};
    users_id = MustCreate(users).id;

    Field author = NewField("author", FieldType::kRelation);
    author.collection_id = "users";
    author.max_select = 1;
    Field secret = NewField("secret", FieldType::kText);
    secret.hidden = true;
    Collection posts = NewCollection("posts", {NewField("title", FieldType::kText), author, secret});
    posts.rules = {};
    posts_id = MustCreate(posts).id;

    Field post = NewField("post", FieldType::kRelation);
    post.collection_id = "posts";
    post.max_select = 1;
    post.cascade_delete = true;
    Collection comments = NewCollection("comments", {post, NewField("text", FieldType::kText)});
    comments.rules = {};
    MustCreate(comments);

    ada = MustInsert("users", Body({{"name", Str("Ada")}}));
    p1 = MustInsert("posts", Body({{"title", Str("one")}, {"author", Str(ada)},
                                   {"secret", Str("s1")}}));
    p2 = MustInsert("posts", Body({{"title", Str("two")}, {"author", Str(ada)}}));
    c1 = MustInsert("comments", Body({{"post", Str(p1)}, {"text", Str("nice")}}));
  }

  NewApiKey MustCreateKey(std::string_view project, std::vector<std::string> scopes,
                          std::optional<Timestamp> expires = std::nullopt,
                          std::string_view name = "ci") {
    auto made = keys.Create(project, name, scopes, expires);
    if (!made) FAIL(Describe(made.error()));
    return *made;
  }

  // The caller a freshly made key of shop with these scopes proves.
  Caller KeyCaller(std::vector<std::string> scopes) {
    const NewApiKey made = MustCreateKey("shop", std::move(scopes));
    auto caller = keys.Identify("shop", made.secret);
    if (!caller) FAIL(Describe(caller.error()));
    return *caller;
  }

  ApiKeyInfo Listed(std::string_view project, std::string_view id) {
    auto listed = keys.List(project);
    REQUIRE(listed);
    for (const auto& info : *listed) {
      if (info.id == id) return info;
    }
    FAIL("key " << id << " is not listed");
    return {};
  }

  // The key's record as the platform store holds it, hidden fields included.
  std::pair<Collection, Record> StoredKey(std::string_view id) {
    auto store = platform.Store();
    REQUIRE(store);
    auto schema = (*store)->Schema();
    REQUIRE(schema);
    const Collection* c = (*schema)->FindById("pbc_api_keys");
    REQUIRE(c != nullptr);
    auto record = (*store)->Get(*c, id, nullptr);
    REQUIRE(record);
    REQUIRE(record->has_value());
    return {*c, **record};
  }

  std::int64_t Count(std::string_view collection) {
    ListRecordsInput input;
    auto list = records.List("shop", collection, input, Superuser());
    REQUIRE(list);
    return list->total_items;
  }

  std::optional<std::string> Title(std::string_view id) {
    auto viewed = records.View("shop", "posts", id, "", Superuser());
    if (!viewed) return std::nullopt;
    const JsonValue* title = viewed->record.record.Get(*viewed->record.collection, "title");
    REQUIRE(title != nullptr);
    return title->AsString();
  }

  Ed25519TokenSigner signer;
  FlakyStores platform_stores{stores};
  application::PlatformStore platform{platform_stores, clock};
  ManageApiKeys keys{directory, platform, signer, clock, random};
  std::string users_id, posts_id;
  std::string ada, p1, p2, c1;
};

// Checks the one answer every refused key gets: nothing tells the causes apart.
void CheckRefused(const Result<Caller>& identified) {
  REQUIRE_FALSE(identified);
  INFO(Describe(identified.error()));
  CHECK(identified.error().code == ErrorCode::kUnauthenticated);
  CHECK(identified.error().message == kBadKey);
  CHECK(identified.error().fields.empty());
}

void CheckOutOfScope(const Error& error) {
  INFO(Describe(error));
  CHECK(error.code == ErrorCode::kPermissionDenied);
  CHECK(error.message == kOutOfScope);
}

std::vector<std::string> ExpansionNames(const application::ExpandedRecord& record) {
  std::vector<std::string> names;
  for (const auto& expansion : record.expand) names.push_back(expansion.name);
  return names;
}

}  // namespace

// --- scopes

TEST_CASE("api keys: scopes expand read, write and all, and collapse duplicates",
          "[application][apikeys]") {
  using Scopes = std::vector<ApiKeyScope>;
  auto read = ManageApiKeys::ParseScopes({"posts:read"});
  REQUIRE(read);
  CHECK(*read == Scopes{{"posts", "list"}, {"posts", "view"}});

  auto write = ManageApiKeys::ParseScopes({"posts:write"});
  REQUIRE(write);
  CHECK(*write == Scopes{{"posts", "create"}, {"posts", "update"}, {"posts", "delete"}});

  auto all = ManageApiKeys::ParseScopes({"posts:all"});
  REQUIRE(all);
  CHECK(*all == Scopes{{"posts", "list"},
                       {"posts", "view"},
                       {"posts", "create"},
                       {"posts", "update"},
                       {"posts", "delete"}});

  for (std::string_view action : {"list", "view", "create", "update", "delete"}) {
    auto one = ManageApiKeys::ParseScopes({"posts:" + std::string(action)});
    REQUIRE(one);
    CHECK(*one == Scopes{{"posts", std::string(action)}});
  }

  auto every = ManageApiKeys::ParseScopes({"*:read"});
  REQUIRE(every);
  CHECK(*every == Scopes{{"*", "list"}, {"*", "view"}});

  // The same permission spelled several ways is kept once, in first-seen order.
  auto duplicates = ManageApiKeys::ParseScopes(
      {"posts:read", "posts:list", "posts:view", "posts:read", "users:view", "posts:all"});
  REQUIRE(duplicates);
  CHECK(*duplicates == Scopes{{"posts", "list"},
                              {"posts", "view"},
                              {"users", "view"},
                              {"posts", "create"},
                              {"posts", "update"},
                              {"posts", "delete"}});

  // Written back, every scope parses to the same permissions again.
  const std::vector<std::string> text = ManageApiKeys::ScopeText(*duplicates);
  CHECK(text.size() == duplicates->size());
  auto again = ManageApiKeys::ParseScopes(text);
  REQUIRE(again);
  CHECK(*again == *duplicates);
}

TEST_CASE("api keys: malformed scopes are named by their position", "[application][apikeys]") {
  auto mixed = ManageApiKeys::ParseScopes(
      {"posts:read", "posts", "comments:all", "posts:reads", ":read", "posts:", "*:*",
       "po sts:read", "posts:read:x", "1posts:view", "**:list", "posts:READ", ""});
  REQUIRE_FALSE(mixed);
  INFO(Describe(mixed.error()));
  CHECK(mixed.error().code == ErrorCode::kInvalidArgument);
  CHECK(mixed.error().message == "Failed to validate the submitted data.");
  std::vector<std::string> expected;
  for (int i : {1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) expected.push_back("scopes." + std::to_string(i));
  std::sort(expected.begin(), expected.end());
  CHECK(FieldNames(mixed.error()) == expected);
  for (const auto& field : mixed.error().fields) {
    CHECK(field.code == "validation_invalid_scope");
    CHECK_FALSE(field.message.empty());
  }

  auto none = ManageApiKeys::ParseScopes({});
  REQUIRE_FALSE(none);
  CHECK(none.error().code == ErrorCode::kInvalidArgument);
  CHECK(FieldNames(none.error()) == std::vector<std::string>{"scopes"});
  CHECK(HasField(none.error(), "scopes", "validation_required"));
}

// --- creation

TEST_CASE("api keys: the secret is sk_ and at least 256 random bits, shown once",
          "[application][apikeys]") {
  KeysWorld w;
  const NewApiKey made = w.MustCreateKey("shop", {"posts:read"}, std::nullopt, "deploy bot");
  const std::string& secret = made.secret;
  INFO(secret);
  REQUIRE(secret.starts_with("sk_"));
  const std::string body = secret.substr(3);
  CHECK(std::all_of(body.begin(), body.end(), IsAlphanumeric));
  // Drawn from 62 symbols: each carries log2(62) bits.
  CHECK(static_cast<double>(body.size()) * std::log2(62.0) >= 256.0);

  CHECK(made.info.name == "deploy bot");
  CHECK(made.info.prefix == secret.substr(0, 12));
  CHECK(made.info.scopes == std::vector<ApiKeyScope>{{"posts", "list"}, {"posts", "view"}});
  CHECK_FALSE(made.info.expires);
  CHECK_FALSE(made.info.revoked);
  CHECK_FALSE(made.info.last_used);
  CHECK(made.info.uses == 0);
  CHECK(made.info.created == w.clock.Now());
  CHECK(made.info.id.size() == 15);

  // Another key is another secret, prefix and id.
  const NewApiKey second = w.MustCreateKey("shop", {"posts:read"});
  CHECK(second.secret != secret);
  CHECK(second.info.prefix != made.info.prefix);
  CHECK(second.info.id != made.info.id);
}

TEST_CASE("api keys: the store never holds the secret", "[application][apikeys]") {
  KeysWorld w;
  const NewApiKey made = w.MustCreateKey("shop", {"posts:read", "users:view"});
  const std::string& secret = made.secret;
  const auto [c, record] = w.StoredKey(made.info.id);

  // Every text the record holds, scopes included.
  std::vector<std::string> texts;
  for (const auto& value : record.values) {
    if (value.type() == JsonValue::Type::kString) texts.push_back(value.AsString());
    if (value.type() == JsonValue::Type::kArray) {
      for (const auto& item : value.items()) {
        if (item.type() == JsonValue::Type::kString) texts.push_back(item.AsString());
      }
    }
  }
  REQUIRE_FALSE(texts.empty());
  // Beyond the 12 characters shown as its prefix, no run of 8 characters of the secret is kept
  // anywhere (a chance match of 8 random characters is below 1 in 10^12).
  const std::string rest = secret.substr(12);
  for (const auto& text : texts) {
    INFO(text);
    CHECK(text.find(secret) == std::string::npos);
    for (std::size_t i = 0; i + 8 <= rest.size(); ++i) {
      CHECK(text.find(rest.substr(i, 8)) == std::string::npos);
    }
  }

  // What is kept: the project's id, the prefix, a binding that is hidden from every API.
  auto shop = w.directory.Find("shop");
  REQUIRE(shop);
  CHECK(*record.Get(c, "project") == Str(shop->project.id.str()));
  CHECK(*record.Get(c, "prefix") == Str(secret.substr(0, 12)));
  const JsonValue* binding = record.Get(c, "binding");
  REQUIRE(binding != nullptr);
  REQUIRE(binding->type() == JsonValue::Type::kString);
  CHECK_FALSE(binding->AsString().empty());
  const Field* binding_field = c.FindField("binding");
  REQUIRE(binding_field != nullptr);
  CHECK(binding_field->hidden);
}

TEST_CASE("api keys: creation validates name, scopes, expiry and project",
          "[application][apikeys]") {
  KeysWorld w;
  const Timestamp now = w.clock.Now();

  auto empty_name = w.keys.Create("shop", "", {"posts:read"}, std::nullopt);
  REQUIRE_FALSE(empty_name);
  CHECK(empty_name.error().code == ErrorCode::kInvalidArgument);
  CHECK(FieldNames(empty_name.error()) == std::vector<std::string>{"name"});

  auto long_name = w.keys.Create("shop", std::string(101, 'n'), {"posts:read"}, std::nullopt);
  REQUIRE_FALSE(long_name);
  CHECK(FieldNames(long_name.error()) == std::vector<std::string>{"name"});
  CHECK(w.keys.Create("shop", std::string(100, 'n'), {"posts:read"}, std::nullopt));

  auto past = w.keys.Create("shop", "ci", {"posts:read"},
                            Timestamp::FromUnixMicros(now.unix_micros() - kDay));
  REQUIRE_FALSE(past);
  CHECK(HasField(past.error(), "expires", "validation_min_date_constraint"));
  // Expiring now is expiring already.
  auto at_now = w.keys.Create("shop", "ci", {"posts:read"}, now);
  REQUIRE_FALSE(at_now);
  CHECK(FieldNames(at_now.error()) == std::vector<std::string>{"expires"});
  CHECK(w.keys.Create("shop", "ci", {"posts:read"},
                      Timestamp::FromUnixMicros(now.unix_micros() + kSecond)));

  auto no_scope = w.keys.Create("shop", "ci", {}, std::nullopt);
  REQUIRE_FALSE(no_scope);
  CHECK(FieldNames(no_scope.error()) == std::vector<std::string>{"scopes"});

  // Every problem at once, each under its own name.
  auto all_wrong = w.keys.Create("shop", "", {"posts:read", "nonsense"},
                                 Timestamp::FromUnixMicros(now.unix_micros() - kSecond));
  REQUIRE_FALSE(all_wrong);
  INFO(Describe(all_wrong.error()));
  CHECK(all_wrong.error().code == ErrorCode::kInvalidArgument);
  CHECK(FieldNames(all_wrong.error()) == std::vector<std::string>{"expires", "name", "scopes.1"});

  auto unknown = w.keys.Create("nope", "ci", {"posts:read"}, std::nullopt);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == ErrorCode::kNotFound);

  // Only the three valid keys were stored.
  auto listed = w.keys.List("shop");
  REQUIRE(listed);
  CHECK(listed->size() == 2);
}

TEST_CASE("api keys: a list shows each project's keys, oldest first, without secrets",
          "[application][apikeys]") {
  KeysWorld w;
  auto empty = w.keys.List("shop");
  REQUIRE(empty);
  CHECK(empty->empty());

  const Timestamp expiry = Timestamp::FromUnixMicros(w.clock.Now().unix_micros() + 30 * kDay);
  const NewApiKey first = w.MustCreateKey("shop", {"posts:read"}, expiry, "first");
  w.clock.Advance(kSecond);
  const NewApiKey second = w.MustCreateKey("shop", {"*:all"}, std::nullopt, "second");
  const NewApiKey elsewhere = w.MustCreateKey("other", {"posts:read"}, std::nullopt, "theirs");

  auto listed = w.keys.List("shop");
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  const ApiKeyInfo& a = (*listed)[0];
  const ApiKeyInfo& b = (*listed)[1];
  CHECK(a.id == first.info.id);
  CHECK(a.name == "first");
  CHECK(a.prefix == first.secret.substr(0, 12));
  CHECK(a.scopes == first.info.scopes);
  REQUIRE(a.expires);
  CHECK(*a.expires == expiry);
  CHECK_FALSE(a.revoked);
  CHECK_FALSE(a.last_used);
  CHECK(a.uses == 0);
  CHECK(a.created == first.info.created);
  CHECK(b.id == second.info.id);
  CHECK(b.scopes.size() == 5);
  CHECK(b.created.unix_micros() == a.created.unix_micros() + kSecond);

  auto theirs = w.keys.List("other");
  REQUIRE(theirs);
  REQUIRE(theirs->size() == 1);
  CHECK(theirs->front().id == elsewhere.info.id);

  auto unknown = w.keys.List("nope");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == ErrorCode::kNotFound);
}

// --- identification

TEST_CASE("api keys: the right key proves a scoped superuser", "[application][apikeys]") {
  KeysWorld w;
  const NewApiKey made = w.MustCreateKey("shop", {"posts:read", "comments:write"});
  auto caller = w.keys.Identify("shop", made.secret);
  REQUIRE(caller);
  CHECK(caller->superuser);
  REQUIRE(caller->scopes);
  CHECK(*caller->scopes == made.info.scopes);
  CHECK(caller->api_key_id == made.info.id);
  CHECK_FALSE(caller->request.auth);
  CHECK(caller->Permits(*w.collections.Get("shop", "posts"), "view"));
  CHECK_FALSE(caller->Permits(*w.collections.Get("shop", "posts"), "update"));
  CHECK(caller->Permits(*w.collections.Get("shop", "comments"), "delete"));
  CHECK_FALSE(caller->Permits(*w.collections.Get("shop", "comments"), "list"));
  CHECK_FALSE(caller->Permits(*w.collections.Get("shop", "users"), "view"));
}

TEST_CASE("api keys: every refused key gets the same answer", "[application][apikeys]") {
  KeysWorld w;
  const Timestamp expiry = Timestamp::FromUnixMicros(w.clock.Now().unix_micros() + kDay);
  const NewApiKey good = w.MustCreateKey("shop", {"posts:read"});
  const NewApiKey expiring = w.MustCreateKey("shop", {"posts:read"}, expiry);
  const NewApiKey revoked = w.MustCreateKey("shop", {"posts:read"});
  const NewApiKey theirs = w.MustCreateKey("other", {"posts:read"});
  REQUIRE(w.keys.Revoke("shop", revoked.info.id));

  SECTION("a wrong secret behind the right prefix") {
    std::string wrong = good.secret;
    wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
    CheckRefused(w.keys.Identify("shop", wrong));
    std::string middle = good.secret;
    middle[20] = middle[20] == 'Z' ? 'Y' : 'Z';
    CheckRefused(w.keys.Identify("shop", middle));
    CheckRefused(w.keys.Identify("shop", good.secret + "x"));
    CheckRefused(w.keys.Identify("shop", good.secret.substr(0, good.secret.size() - 1)));
    CheckRefused(w.keys.Identify("shop", good.secret.substr(0, 13)));
  }
  SECTION("an unknown prefix") {
    CheckRefused(w.keys.Identify("shop", "sk_" + std::string(50, 'Q')));
    std::string other_prefix = good.secret;
    other_prefix[5] = other_prefix[5] == 'q' ? 'r' : 'q';
    CheckRefused(w.keys.Identify("shop", other_prefix));
  }
  SECTION("a malformed key") {
    for (const std::string& key :
         {std::string(), std::string("sk_"), std::string("sk_short"), good.secret.substr(0, 12),
          "pk_" + good.secret.substr(3), "SK_" + good.secret.substr(3), " " + good.secret,
          "sk_" + std::string(250, 'a'), good.secret.substr(3)}) {
      INFO(key);
      CheckRefused(w.keys.Identify("shop", key));
    }
  }
  SECTION("a key of another project") {
    CheckRefused(w.keys.Identify("shop", theirs.secret));
    CHECK(w.keys.Identify("other", theirs.secret));
    CheckRefused(w.keys.Identify("other", good.secret));
  }
  SECTION("a revoked key") {
    CheckRefused(w.keys.Identify("shop", revoked.secret));
  }
  SECTION("an expired key, from the instant it expires") {
    w.clock.Advance(kDay - 1000);
    CHECK(w.keys.Identify("shop", expiring.secret));
    w.clock.Advance(1000);
    CheckRefused(w.keys.Identify("shop", expiring.secret));
    w.clock.Advance(365 * kDay);
    CheckRefused(w.keys.Identify("shop", expiring.secret));
    // A key without expiry keeps working.
    CHECK(w.keys.Identify("shop", good.secret));
  }
  // Whatever was tried, the good key still works and none of the refusals was counted.
  CHECK(w.keys.Identify("shop", good.secret));
  REQUIRE(w.keys.Flush());
  auto listed = w.keys.List("shop");
  REQUIRE(listed);
  for (const auto& info : *listed) {
    INFO(info.name << " " << info.id);
    if (info.id == good.info.id) continue;
    if (info.id == expiring.info.id) continue;  // used while it was valid in one section
    CHECK(info.uses == 0);
  }
}

TEST_CASE("api keys: identifying for an unknown project is not found", "[application][apikeys]") {
  KeysWorld w;
  const NewApiKey made = w.MustCreateKey("shop", {"posts:read"});
  auto unknown = w.keys.Identify("nope", made.secret);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == ErrorCode::kNotFound);
}

// --- revocation

TEST_CASE("api keys: revocation is per project, idempotent and immediate",
          "[application][apikeys]") {
  KeysWorld w;
  const NewApiKey mine = w.MustCreateKey("shop", {"posts:read"});
  const NewApiKey theirs = w.MustCreateKey("other", {"posts:read"});

  auto foreign = w.keys.Revoke("shop", theirs.info.id);
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == ErrorCode::kNotFound);
  CHECK(w.keys.Identify("other", theirs.secret));
  CHECK_FALSE(w.Listed("other", theirs.info.id).revoked);

  auto unknown = w.keys.Revoke("shop", "nosuchkey000000");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == ErrorCode::kNotFound);
  auto no_project = w.keys.Revoke("nope", mine.info.id);
  REQUIRE_FALSE(no_project);
  CHECK(no_project.error().code == ErrorCode::kNotFound);

  REQUIRE(w.keys.Identify("shop", mine.secret));
  w.clock.Advance(5 * kSecond);
  const Timestamp revoked_at = w.clock.Now();
  REQUIRE(w.keys.Revoke("shop", mine.info.id));
  CheckRefused(w.keys.Identify("shop", mine.secret));
  auto listed = w.Listed("shop", mine.info.id);
  REQUIRE(listed.revoked);
  CHECK(*listed.revoked == revoked_at);

  // Revoking again changes nothing, not even the instant.
  w.clock.Advance(kSecond);
  REQUIRE(w.keys.Revoke("shop", mine.info.id));
  CHECK(*w.Listed("shop", mine.info.id).revoked == revoked_at);
}

// --- usage

TEST_CASE("api keys: uses are counted in memory and written by Flush", "[application][apikeys]") {
  KeysWorld w;
  const NewApiKey made = w.MustCreateKey("shop", {"posts:read"});
  const NewApiKey idle = w.MustCreateKey("shop", {"posts:read"});
  const int writes_before = w.platform_stores.writes.load();

  Timestamp last;
  for (int i = 0; i < 3; ++i) {
    w.clock.Advance(10 * kSecond);
    last = w.clock.Now();
    REQUIRE(w.keys.Identify("shop", made.secret));
  }
  // No write per request: nothing is stored before Flush.
  CHECK(w.platform_stores.writes.load() == writes_before);
  CHECK(w.Listed("shop", made.info.id).uses == 0);
  CHECK_FALSE(w.Listed("shop", made.info.id).last_used);

  REQUIRE(w.keys.Flush());
  ApiKeyInfo info = w.Listed("shop", made.info.id);
  CHECK(info.uses == 3);
  REQUIRE(info.last_used);
  CHECK(*info.last_used == last);
  CHECK(w.Listed("shop", idle.info.id).uses == 0);
  CHECK_FALSE(w.Listed("shop", idle.info.id).last_used);

  // Nothing new: a Flush changes nothing (and writes nothing).
  const int writes_flushed = w.platform_stores.writes.load();
  REQUIRE(w.keys.Flush());
  CHECK(w.platform_stores.writes.load() == writes_flushed);
  CHECK(w.Listed("shop", made.info.id).uses == 3);

  // Later uses add to the stored count.
  w.clock.Advance(kSecond);
  REQUIRE(w.keys.Identify("shop", made.secret));
  REQUIRE(w.keys.Identify("shop", idle.secret));
  REQUIRE(w.keys.Flush());
  info = w.Listed("shop", made.info.id);
  CHECK(info.uses == 4);
  CHECK(*info.last_used == w.clock.Now());
  CHECK(w.Listed("shop", idle.info.id).uses == 1);
}

TEST_CASE("api keys: counts survive a flush the store refuses", "[application][apikeys]") {
  KeysWorld w;
  const NewApiKey made = w.MustCreateKey("shop", {"posts:read"});
  REQUIRE(w.keys.Identify("shop", made.secret));
  REQUIRE(w.keys.Flush());
  REQUIRE(w.Listed("shop", made.info.id).uses == 1);

  w.platform_stores.fail_writes = true;
  w.clock.Advance(kSecond);
  REQUIRE(w.keys.Identify("shop", made.secret));
  w.clock.Advance(kSecond);
  const Timestamp last = w.clock.Now();
  // Identification reads only: an unwritable store does not stop keys from working.
  REQUIRE(w.keys.Identify("shop", made.secret));
  auto failed = w.keys.Flush();
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == ErrorCode::kUnavailable);
  CHECK(w.Listed("shop", made.info.id).uses == 1);
  // A second failure keeps them too.
  CHECK_FALSE(w.keys.Flush());

  w.platform_stores.fail_writes = false;
  w.clock.Advance(kSecond);
  REQUIRE(w.keys.Identify("shop", made.secret));
  REQUIRE(w.keys.Flush());
  const ApiKeyInfo info = w.Listed("shop", made.info.id);
  CHECK(info.uses == 4);
  REQUIRE(info.last_used);
  CHECK(info.last_used->unix_micros() == last.unix_micros() + kSecond);
  // And they are not written twice.
  REQUIRE(w.keys.Flush());
  CHECK(w.Listed("shop", made.info.id).uses == 4);
}

TEST_CASE("api keys: a store that refuses writes refuses creation and revocation",
          "[application][apikeys]") {
  KeysWorld w;
  const NewApiKey made = w.MustCreateKey("shop", {"posts:read"});
  w.platform_stores.fail_writes = true;
  auto created = w.keys.Create("shop", "ci", {"posts:read"}, std::nullopt);
  REQUIRE_FALSE(created);
  CHECK(created.error().code == ErrorCode::kUnavailable);
  auto revoked = w.keys.Revoke("shop", made.info.id);
  REQUIRE_FALSE(revoked);
  CHECK(revoked.error().code == ErrorCode::kUnavailable);
  // The key was not revoked behind the error's back.
  CHECK(w.keys.Identify("shop", made.secret));
  w.platform_stores.fail_writes = false;
  CHECK(w.keys.List("shop")->size() == 1);
}

// --- the records API with a key

TEST_CASE("api keys: within its scopes a key bypasses the rules", "[application][apikeys]") {
  KeysWorld w;
  // Every rule is null: a guest sees nothing.
  auto guest = w.records.List("shop", "posts", {}, Caller{});
  REQUIRE_FALSE(guest);
  CHECK(guest.error().code == ErrorCode::kPermissionDenied);

  const Caller reader = w.KeyCaller({"posts:read"});
  auto list = w.records.List("shop", "posts", {}, reader);
  REQUIRE(list);
  CHECK(list->total_items == 2);
  auto viewed = w.records.View("shop", "posts", w.p1, "", reader);
  REQUIRE(viewed);
  // A superuser's view: the hidden field is there.
  CHECK(*viewed->record.record.Get(*viewed->record.collection, "secret") == Str("s1"));
  // So are filters on it.
  ListRecordsInput hidden_filter;
  hidden_filter.filter = "secret = 's1'";
  auto filtered = w.records.List("shop", "posts", hidden_filter, reader);
  REQUIRE(filtered);
  CHECK(filtered->total_items == 1);

  const Caller writer = w.KeyCaller({"posts:write"});
  auto created = w.records.Create("shop", "posts",
                                  Input(Body({{"title", Str("three")}, {"author", Str(w.ada)}})),
                                  writer);
  REQUIRE(created);
  const std::string p3 = created->record.record.Id(*created->record.collection);
  REQUIRE(w.records.Update("shop", "posts", p3, Input(Body({{"title", Str("THREE")}})), writer));
  CHECK(w.Title(p3) == "THREE");
  REQUIRE(w.records.Delete("shop", "posts", p3, writer));
  CHECK_FALSE(w.Title(p3));

  // A scope may name the collection by id, and names match whatever their case.
  const Caller by_id = w.KeyCaller({w.posts_id + ":view"});
  CHECK(w.records.View("shop", "posts", w.p1, "", by_id));
  const Caller upper = w.KeyCaller({"POSTS:view"});
  CHECK(w.records.View("shop", "posts", w.p1, "", upper));
  const Caller every = w.KeyCaller({"*:read"});
  CHECK(w.records.List("shop", "users", {}, every));
  CHECK(w.records.View("shop", "comments", w.c1, "", every));
}

TEST_CASE("api keys: actions outside the scopes are refused", "[application][apikeys]") {
  KeysWorld w;
  const Caller reader = w.KeyCaller({"posts:read"});
  CheckOutOfScope(w.records.List("shop", "users", {}, reader).error());
  CheckOutOfScope(w.records.View("shop", "users", w.ada, "", reader).error());
  CheckOutOfScope(w.records.List("shop", "comments", {}, reader).error());
  CheckOutOfScope(
      w.records.Create("shop", "posts", Input(Body({{"title", Str("x")}})), reader).error());
  CheckOutOfScope(
      w.records.Update("shop", "posts", w.p1, Input(Body({{"title", Str("x")}})), reader).error());
  CheckOutOfScope(w.records.Delete("shop", "posts", w.p1, reader).error());
  // Refused even for a record that does not exist: nothing tells whether it does.
  CheckOutOfScope(w.records.Delete("shop", "posts", "nosuchrecord000", reader).error());
  CHECK(w.Title(w.p1) == "one");
  CHECK(w.Count("posts") == 2);

  const Caller creator = w.KeyCaller({"posts:create"});
  CheckOutOfScope(w.records.List("shop", "posts", {}, creator).error());
  CheckOutOfScope(w.records.View("shop", "posts", w.p1, "", creator).error());
  CheckOutOfScope(
      w.records.Update("shop", "posts", w.p1, Input(Body({{"title", Str("x")}})), creator).error());
  CheckOutOfScope(w.records.Delete("shop", "posts", w.p1, creator).error());
  CheckOutOfScope(
      w.records.Create("shop", "users", Input(Body({{"name", Str("Eve")}})), creator).error());

  const Caller lister = w.KeyCaller({"posts:list"});
  CHECK(w.records.List("shop", "posts", {}, lister));
  CheckOutOfScope(w.records.View("shop", "posts", w.p1, "", lister).error());

  const Caller every = w.KeyCaller({"*:read"});
  CheckOutOfScope(
      w.records.Create("shop", "users", Input(Body({{"name", Str("Eve")}})), every).error());
  CheckOutOfScope(w.records.Delete("shop", "comments", w.c1, every).error());
  CHECK(w.Count("users") == 1);
  CHECK(w.Count("comments") == 1);
}

TEST_CASE("api keys: expansions into collections outside the scopes are left out",
          "[application][apikeys]") {
  KeysWorld w;
  const Caller posts_only = w.KeyCaller({"posts:read"});
  auto viewed = w.records.View("shop", "posts", w.p1, "author,comments_via_post", posts_only);
  REQUIRE(viewed);
  CHECK(viewed->record.expand.empty());
  ListRecordsInput expand_author;
  expand_author.expand = "author";
  auto listed = w.records.List("shop", "posts", expand_author, posts_only);
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 2);
  for (const auto& item : listed->items) CHECK(item.expand.empty());

  // Listing users is not viewing them.
  const Caller list_users = w.KeyCaller({"posts:read", "users:list"});
  auto listed_only = w.records.View("shop", "posts", w.p1, "author", list_users);
  REQUIRE(listed_only);
  CHECK(listed_only->record.expand.empty());

  const Caller with_users = w.KeyCaller({"posts:read", "users:view"});
  auto expanded = w.records.View("shop", "posts", w.p1, "author,comments_via_post", with_users);
  REQUIRE(expanded);
  CHECK(ExpansionNames(expanded->record) == std::vector<std::string>{"author"});
  REQUIRE(expanded->record.expand[0].records.size() == 1);
  CHECK(expanded->record.expand[0].records[0].record.Id(
            *expanded->record.expand[0].records[0].collection) == w.ada);

  const Caller with_comments = w.KeyCaller({"posts:read", "users:view", "comments:view"});
  auto both = w.records.View("shop", "posts", w.p1, "author,comments_via_post", with_comments);
  REQUIRE(both);
  CHECK(ExpansionNames(both->record) == std::vector<std::string>{"author", "comments_via_post"});

  // Nested: from comments, the post, then its author only when users may be viewed.
  const Caller comments_posts = w.KeyCaller({"comments:view", "posts:view"});
  auto nested = w.records.View("shop", "comments", w.c1, "post.author", comments_posts);
  REQUIRE(nested);
  REQUIRE(ExpansionNames(nested->record) == std::vector<std::string>{"post"});
  REQUIRE(nested->record.expand[0].records.size() == 1);
  CHECK(nested->record.expand[0].records[0].expand.empty());

  // The record a write returns is expanded by the same measure.
  const Caller writer = w.KeyCaller({"posts:create"});
  auto created = w.records.Create(
      "shop", "posts", Input(Body({{"title", Str("x")}, {"author", Str(w.ada)}}), "author"),
      writer);
  REQUIRE(created);
  CHECK(created->record.expand.empty());
}

TEST_CASE("api keys: a batch with an operation outside the scopes fails whole",
          "[application][apikeys]") {
  KeysWorld w;
  const Caller writer = w.KeyCaller({"posts:write"});
  std::vector<BatchOperation> allowed{
      {BatchOperation::Kind::kCreate, "posts", "", Input(Body({{"title", Str("b1")}}))},
      {BatchOperation::Kind::kUpdate, "posts", w.p2, Input(Body({{"title", Str("TWO")}}))},
  };
  auto done = w.records.Batch("shop", allowed, writer);
  if (!done) FAIL(Describe(done.error().error));
  CHECK(w.Count("posts") == 3);
  CHECK(w.Title(w.p2) == "TWO");

  std::vector<BatchOperation> mixed{
      {BatchOperation::Kind::kCreate, "posts", "", Input(Body({{"title", Str("b2")}}))},
      {BatchOperation::Kind::kUpdate, "posts", w.p1, Input(Body({{"title", Str("ONE")}}))},
      {BatchOperation::Kind::kCreate, "users", "", Input(Body({{"name", Str("Eve")}}))},
  };
  auto failed = w.records.Batch("shop", mixed, writer);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().index == std::optional<std::size_t>(2));
  CheckOutOfScope(failed.error().error);
  CHECK(w.Count("posts") == 3);
  CHECK(w.Title(w.p1) == "one");
  CHECK(w.Count("users") == 1);

  // An upsert of an existing record is an update: a key that may only create cannot.
  const Caller creator = w.KeyCaller({"posts:create"});
  std::vector<BatchOperation> upsert{
      {BatchOperation::Kind::kUpsert, "posts", "",
       Input(Body({{"id", Str(w.p1)}, {"title", Str("hijacked")}}))},
  };
  auto refused = w.records.Batch("shop", upsert, creator);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().index == std::optional<std::size_t>(0));
  CheckOutOfScope(refused.error().error);
  CHECK(w.Title(w.p1) == "one");

  // A delete outside the scopes (comments) fails the batch, the post's delete included.
  std::vector<BatchOperation> deletes{
      {BatchOperation::Kind::kDelete, "posts", w.p2, {}},
      {BatchOperation::Kind::kDelete, "comments", w.c1, {}},
  };
  auto no_delete = w.records.Batch("shop", deletes, writer);
  REQUIRE_FALSE(no_delete);
  CHECK(no_delete.error().index == std::optional<std::size_t>(1));
  CheckOutOfScope(no_delete.error().error);
  CHECK(w.Title(w.p2) == "TWO");
  CHECK(w.Count("comments") == 1);
}

TEST_CASE("api keys: filters and sorts cannot reach collections outside the scopes",
          "[application][apikeys]") {
  KeysWorld w;
  const Caller reader = w.KeyCaller({"posts:read"});
  auto list = [&](std::string filter, std::string sort, const Caller& caller) {
    ListRecordsInput input;
    input.filter = std::move(filter);
    input.sort = std::move(sort);
    return w.records.List("shop", "posts", input, caller);
  };
  // A relation path, a back-relation, a join and a sort into users or comments are refused,
  // whether the probe would match or not: the answer must not depend on the other data.
  for (const auto& [filter, sort] : std::vector<std::pair<std::string, std::string>>{
           {"author.name = 'Ada'", ""},
           {"author.name = 'nobody'", ""},
           {"comments_via_post.text = 'nice'", ""},
           {"@collection.users.name = 'Ada'", ""},
           {"", "-author.name"}}) {
    INFO(filter << " | " << sort);
    auto refused = list(filter, sort, reader);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kPermissionDenied);
  }
  // Its own collection's fields are fine, and so are paths into collections it may read.
  CHECK(list("title = 'one'", "-title", reader));
  const Caller both = w.KeyCaller({"posts:read", "users:read"});
  auto through = list("author.name = 'Ada'", "-author.name", both);
  REQUIRE(through);
  CHECK(through->items.size() == 2);
}

TEST_CASE("api keys: auth collections outside the scopes are refused before any password work",
          "[application][apikeys]") {
  KeysWorld w;
  Collection members = NewCollection("members", {});
  members.type = CollectionType::kAuth;
  members.rules = {};
  w.MustCreate(members);
  const Caller reader = w.KeyCaller({"posts:read"});
  // The same answer for a missing id and for a bad password body: nothing is looked up.
  auto missing = w.records.Update("shop", "members", "nosuchrecord000",
                                  Input(Body({{"password", Str("x")}, {"passwordConfirm", Str("y")}})),
                                  reader);
  auto created = w.records.Create("shop", "members",
                                  Input(Body({{"password", Str("x")}, {"passwordConfirm", Str("y")}})),
                                  reader);
  REQUIRE_FALSE(missing);
  REQUIRE_FALSE(created);
  CheckOutOfScope(missing.error());
  CheckOutOfScope(created.error());
}
