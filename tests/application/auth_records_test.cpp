// The records API on auth collections: passwords (confirmation, policy, hashing, the old
// password), tokenKey, the fields only managers may change, and what the JSON layer leaves out.
// Passwords go through the real Argon2id hasher, so a stored hash is checked for what it is.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "application/data_world.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/json/record_json.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::crypto::Argon2PasswordHasher;
using adapters::crypto::Argon2Policy;
using application::BatchOperation;
using application::Caller;
using application::ListRecordsInput;
using application::RecordResult;
using application::RecordWriteInput;
using testing::Body;
using testing::NewCollection;
using testing::NewField;
using testing::Str;

namespace {

constexpr std::string_view kAdaPassword = "velvet-otter-quarry-41";
constexpr std::string_view kNewPassword = "lantern-moss-harbour-87";

Caller Guest() { return Caller{}; }
Caller Superuser() {
  Caller caller;
  caller.superuser = true;
  return caller;
}

RecordWriteInput Input(JsonValue body) {
  RecordWriteInput input;
  input.body = std::move(body);
  return input;
}

std::string Describe(const Error& error) {
  std::string out = std::string(ToString(error.code)) + ": " + error.message;
  for (const auto& f : error.fields) out += " | " + f.field + " " + f.code;
  return out;
}

bool HasFieldError(const Error& error, std::string_view field, std::string_view code) {
  return std::any_of(error.fields.begin(), error.fields.end(), [&](const FieldError& f) {
    return f.field == field && f.code == code;
  });
}

std::vector<std::string> ErrorFields(const Error& error) {
  std::vector<std::string> out;
  for (const auto& f : error.fields) out.push_back(f.field);
  std::sort(out.begin(), out.end());
  return out;
}

bool IsTokenKey(std::string_view key) {
  return key.size() == 50 && std::all_of(key.begin(), key.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

Argon2PasswordHasher MustHasher(application::RandomSource& random) {
  auto hasher = Argon2PasswordHasher::Create(Argon2Policy{}, random);
  REQUIRE(hasher);
  return std::move(*hasher);
}

// users (auth: sign-up open to guests, each user sees and updates itself; admins and users with
// role "staff" manage users) and admins (auth, superusers only).
struct AuthWorld : testing::DataWorld {
  AuthWorld() {
    Field password = NewField("password", FieldType::kPassword);
    password.min = 10;  // raises the policy's 8 for this collection
    Field note = NewField("note", FieldType::kText);
    note.hidden = true;
    Collection users = NewCollection("users", {password, NewField("name", FieldType::kText),
                                               NewField("role", FieldType::kText), note});
    users.type = CollectionType::kAuth;
    const std::string self_or_manager =
        R"(id = @request.auth.id || @request.auth.collectionName = "admins" || @request.auth.role = "staff")";
    users.rules = {self_or_manager, self_or_manager, "", self_or_manager, self_or_manager};
    users.auth.manage_rule = R"(@request.auth.collectionName = "admins" || @request.auth.role = "staff")";
    MustCreate(users);

    Collection admins = NewCollection("admins", {});
    admins.type = CollectionType::kAuth;
    admins.rules = {};
    MustCreate(admins);

    ada = MustCreateAuth("users", Body({{"email", Str("ada@example.com")},
                                        {"password", Str(std::string(kAdaPassword))},
                                        {"passwordConfirm", Str(std::string(kAdaPassword))},
                                        {"name", Str("Ada")}}));
    bob = MustCreateAuth("users", Body({{"email", Str("bob@example.com")},
                                        {"password", Str("granite-kettle-swift-55")},
                                        {"passwordConfirm", Str("granite-kettle-swift-55")},
                                        {"name", Str("Bob")}}));
    admin = MustCreateAuth("admins", Body({{"email", Str("root@example.com")},
                                           {"password", Str("copper-finch-meadow-23")},
                                           {"passwordConfirm", Str("copper-finch-meadow-23")}}));
  }

  // Creates an auth record as a superuser; returns its id.
  std::string MustCreateAuth(std::string_view collection, JsonValue body) {
    auto created = auth.Create("shop", collection, Input(std::move(body)), Superuser());
    if (!created) FAIL(Describe(created.error()));
    return created->record.record.Id(*created->record.collection);
  }

  // The record as stored (the use case returns domain records whole, hidden fields included).
  RecordResult Stored(std::string_view collection, std::string_view id) {
    auto viewed = auth.View("shop", collection, id, "", Superuser());
    REQUIRE(viewed);
    return *viewed;
  }

  static std::string Text(const RecordResult& result, std::string_view field) {
    const JsonValue* value = result.record.record.Get(*result.record.collection, field);
    REQUIRE(value != nullptr);
    if (value->type() != JsonValue::Type::kString) return {};
    return value->AsString();
  }

  static bool Flag(const RecordResult& result, std::string_view field) {
    const JsonValue* value = result.record.record.Get(*result.record.collection, field);
    REQUIRE(value != nullptr);
    REQUIRE(value->type() == JsonValue::Type::kBool);
    return value->AsBool();
  }

  std::string StoredText(std::string_view collection, std::string_view id, std::string_view field) {
    return Text(Stored(collection, id), field);
  }

  // The caller a token for this record would prove.
  Caller As(std::string_view collection, std::string_view id) {
    RecordResult stored = Stored(collection, id);
    Caller caller;
    caller.request.auth = filter::AuthIdentity{stored.record.collection, stored.record.record, std::nullopt};
    caller.auth_schema = stored.schema;
    return caller;
  }

  bool Verifies(std::string_view password, const std::string& hash) {
    auto verified = hasher.Verify(password, hash);
    REQUIRE(verified);
    return *verified;
  }

  std::int64_t Count(std::string_view collection) {
    auto list = auth.List("shop", collection, ListRecordsInput{}, Superuser());
    REQUIRE(list);
    return list->total_items;
  }

  Argon2PasswordHasher hasher = MustHasher(random);
  application::ManageRecords auth{directory, clock, random, {}, nullptr,
                                  application::PasswordSettings{&hasher, {}}};
  std::string ada, bob, admin;
};

JsonValue SignUp(std::string email, std::string_view password) {
  return Body({{"email", Str(std::move(email))},
               {"password", Str(std::string(password))},
               {"passwordConfirm", Str(std::string(password))}});
}

}  // namespace

TEST_CASE("auth records: create requires password and passwordConfirm",
          "[application][auth][records]") {
  AuthWorld w;
  const std::int64_t before = w.Count("users");

  auto missing = w.auth.Create("shop", "users", Input(Body({{"email", Str("c@example.com")}})),
                               Guest());
  REQUIRE_FALSE(missing);
  INFO(Describe(missing.error()));
  CHECK(missing.error().code == ErrorCode::kInvalidArgument);
  CHECK(HasFieldError(missing.error(), "password", "validation_required"));
  CHECK(HasFieldError(missing.error(), "passwordConfirm", "validation_required"));

  auto no_confirm = w.auth.Create(
      "shop", "users",
      Input(Body({{"email", Str("c@example.com")}, {"password", Str("ember-willow-cask-19")}})),
      Guest());
  REQUIRE_FALSE(no_confirm);
  CHECK(ErrorFields(no_confirm.error()) == std::vector<std::string>{"passwordConfirm"});
  CHECK(HasFieldError(no_confirm.error(), "passwordConfirm", "validation_required"));

  auto mismatch = w.auth.Create("shop", "users",
                                Input(Body({{"email", Str("c@example.com")},
                                            {"password", Str("ember-willow-cask-19")},
                                            {"passwordConfirm", Str("ember-willow-cask-91")}})),
                                Guest());
  REQUIRE_FALSE(mismatch);
  CHECK(ErrorFields(mismatch.error()) == std::vector<std::string>{"passwordConfirm"});
  CHECK(HasFieldError(mismatch.error(), "passwordConfirm", "validation_values_mismatch"));

  // Even a superuser creates no auth record without a password.
  auto by_superuser = w.auth.Create("shop", "users", Input(Body({{"email", Str("c@example.com")}})),
                                    Superuser());
  REQUIRE_FALSE(by_superuser);
  CHECK(HasFieldError(by_superuser.error(), "password", "validation_required"));

  CHECK(w.Count("users") == before);
}

TEST_CASE("auth records: new passwords are checked against the policy",
          "[application][auth][records]") {
  AuthWorld w;
  const std::int64_t before = w.Count("users");
  auto attempt = [&](std::string_view password) {
    return w.auth.Create("shop", "users", Input(SignUp("carol.lind@example.com", password)),
                         Guest());
  };

  // The collection's password field asks for 10: 9 characters are too short.
  auto short_one = attempt("Zq9#mLw2v");
  REQUIRE_FALSE(short_one);
  CHECK(short_one.error().code == ErrorCode::kInvalidArgument);
  CHECK(HasFieldError(short_one.error(), "password", "validation_min_text_constraint"));

  auto common = attempt("password123");
  REQUIRE_FALSE(common);
  CHECK(HasFieldError(common.error(), "password", "validation_common_password"));

  auto decorated = attempt("Password1234!");
  REQUIRE_FALSE(decorated);
  CHECK(HasFieldError(decorated.error(), "password", "validation_common_password"));

  auto identity = attempt("xx-carol.lind-2024");
  REQUIRE_FALSE(identity);
  CHECK(HasFieldError(identity.error(), "password", "validation_password_contains_identity"));

  auto too_long = attempt(std::string(300, 'k') + "9");
  REQUIRE_FALSE(too_long);
  CHECK(HasFieldError(too_long.error(), "password", "validation_max_text_constraint"));

  CHECK(w.Count("users") == before);
  // Ten characters pass.
  CHECK(attempt("Zq9#mLw2vX"));
}

TEST_CASE("auth records: the stored password is an Argon2id hash, never the plain text",
          "[application][auth][records]") {
  AuthWorld w;
  auto created = w.auth.Create("shop", "users", Input(SignUp("dora@example.com", kAdaPassword)),
                               Guest());
  REQUIRE(created);
  const std::string id = created->record.record.Id(*created->record.collection);
  const std::string hash = w.StoredText("users", id, "password");
  CHECK(hash.rfind("$argon2id$v=19$", 0) == 0);
  CHECK(hash.find(kAdaPassword) == std::string::npos);
  CHECK(w.Verifies(kAdaPassword, hash));
  CHECK_FALSE(w.Verifies(kNewPassword, hash));
  // What Create returned is what was stored.
  CHECK(AuthWorld::Text(*created, "password") == hash);
  // The same password for another account: another salt, another hash.
  CHECK(hash != w.StoredText("users", w.ada, "password"));
  CHECK(w.Verifies(kAdaPassword, w.StoredText("users", w.ada, "password")));
  // Neither the confirmation nor anything else keeps the plain text.
  for (const auto& value : created->record.record.values) {
    if (value.type() == JsonValue::Type::kString) {
      CHECK(value.AsString().find(kAdaPassword) == std::string::npos);
    }
  }

  // Without a hasher the records API writes no password at all.
  auto without = w.records.Create("shop", "users", Input(SignUp("eve@example.com", kAdaPassword)),
                                  Guest());
  REQUIRE_FALSE(without);
  CHECK(without.error().code == ErrorCode::kFailedPrecondition);
}

TEST_CASE("auth records: tokenKey and hidden fields are the server's and superusers' only",
          "[application][auth][records]") {
  AuthWorld w;
  const std::string chosen(50, 'Q');
  auto guest_body = Body({{"email", Str("fay@example.com")},
                          {"password", Str(std::string(kAdaPassword))},
                          {"passwordConfirm", Str(std::string(kAdaPassword))},
                          {"tokenKey", Str(chosen)},
                          {"note", Str("guest wrote this")},
                          {"name", Str("Fay")}});
  auto by_guest = w.auth.Create("shop", "users", Input(guest_body), Guest());
  REQUIRE(by_guest);
  const std::string fay = by_guest->record.record.Id(*by_guest->record.collection);
  const std::string fay_key = w.StoredText("users", fay, "tokenKey");
  CHECK(IsTokenKey(fay_key));
  CHECK(fay_key != chosen);
  CHECK(w.StoredText("users", fay, "note").empty());
  CHECK(w.StoredText("users", fay, "name") == "Fay");
  // Every record draws its own key.
  CHECK(IsTokenKey(w.StoredText("users", w.ada, "tokenKey")));
  CHECK(w.StoredText("users", w.ada, "tokenKey") != fay_key);

  // The owner cannot write them on update either.
  auto owner_update = w.auth.Update("shop", "users", fay,
                                    Input(Body({{"tokenKey", Str(chosen)},
                                                {"note", Str("owner wrote this")},
                                                {"name", Str("Fay L.")}})),
                                    w.As("users", fay));
  REQUIRE(owner_update);
  CHECK(w.StoredText("users", fay, "tokenKey") == fay_key);
  CHECK(w.StoredText("users", fay, "note").empty());
  CHECK(w.StoredText("users", fay, "name") == "Fay L.");

  // A superuser may set both.
  auto superuser_body = Body({{"email", Str("gus@example.com")},
                              {"password", Str(std::string(kAdaPassword))},
                              {"passwordConfirm", Str(std::string(kAdaPassword))},
                              {"tokenKey", Str(chosen)},
                              {"note", Str("superuser wrote this")}});
  auto by_superuser = w.auth.Create("shop", "users", Input(superuser_body), Superuser());
  REQUIRE(by_superuser);
  const std::string gus = by_superuser->record.record.Id(*by_superuser->record.collection);
  CHECK(w.StoredText("users", gus, "tokenKey") == chosen);
  CHECK(w.StoredText("users", gus, "note") == "superuser wrote this");
}

TEST_CASE("auth records: only managers create verified records", "[application][auth][records]") {
  AuthWorld w;
  const std::int64_t before = w.Count("users");
  auto verified_body = [](std::string email) {
    return Body({{"email", Str(std::move(email))},
                 {"password", Str(std::string(kAdaPassword))},
                 {"passwordConfirm", Str(std::string(kAdaPassword))},
                 {"verified", JsonValue::Bool(true)}});
  };

  auto by_guest = w.auth.Create("shop", "users", Input(verified_body("h1@example.com")), Guest());
  REQUIRE_FALSE(by_guest);
  CHECK(by_guest.error().code == ErrorCode::kInvalidArgument);
  CHECK(ErrorFields(by_guest.error()) == std::vector<std::string>{"verified"});
  // A signed-in user who does not satisfy the manageRule is no better than a guest.
  auto by_user = w.auth.Create("shop", "users", Input(verified_body("h2@example.com")),
                               w.As("users", w.ada));
  REQUIRE_FALSE(by_user);
  CHECK(ErrorFields(by_user.error()) == std::vector<std::string>{"verified"});
  CHECK(w.Count("users") == before);

  // Unverified sign-ups are fine.
  auto plain = w.auth.Create("shop", "users", Input(SignUp("h3@example.com", kAdaPassword)),
                             Guest());
  REQUIRE(plain);
  CHECK_FALSE(AuthWorld::Flag(*plain, "verified"));

  auto by_superuser = w.auth.Create("shop", "users", Input(verified_body("h4@example.com")),
                                    Superuser());
  REQUIRE(by_superuser);
  CHECK(AuthWorld::Flag(*by_superuser, "verified"));

  // An admin satisfies the manageRule through @request.auth.collectionName ...
  auto by_admin = w.auth.Create("shop", "users", Input(verified_body("h5@example.com")),
                                w.As("admins", w.admin));
  REQUIRE(by_admin);
  CHECK(AuthWorld::Flag(*by_admin, "verified"));

  // ... and a staff user through its role field.
  REQUIRE(w.auth.Update("shop", "users", w.bob, Input(Body({{"role", Str("staff")}})), Superuser()));
  auto by_staff = w.auth.Create("shop", "users", Input(verified_body("h6@example.com")),
                                w.As("users", w.bob));
  REQUIRE(by_staff);
  CHECK(AuthWorld::Flag(*by_staff, "verified"));
  CHECK(w.Count("users") == before + 4);
}

TEST_CASE("auth records: the owner changes its password only with the old one",
          "[application][auth][records]") {
  AuthWorld w;
  const std::string old_hash = w.StoredText("users", w.ada, "password");
  const std::string old_key = w.StoredText("users", w.ada, "tokenKey");
  auto change = [&](std::vector<JsonValue::Member> extra) {
    std::vector<JsonValue::Member> members = {{"password", Str(std::string(kNewPassword))},
                                              {"passwordConfirm", Str(std::string(kNewPassword))}};
    for (auto& member : extra) members.push_back(std::move(member));
    return w.auth.Update("shop", "users", w.ada, Input(Body(std::move(members))),
                         w.As("users", w.ada));
  };

  auto missing = change({});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kInvalidArgument);
  CHECK(ErrorFields(missing.error()) == std::vector<std::string>{"oldPassword"});
  CHECK(HasFieldError(missing.error(), "oldPassword", "validation_invalid_old_password"));

  auto wrong = change({{"oldPassword", Str("not-the-old-password-1")}});
  REQUIRE_FALSE(wrong);
  CHECK(ErrorFields(wrong.error()) == std::vector<std::string>{"oldPassword"});
  CHECK(HasFieldError(wrong.error(), "oldPassword", "validation_invalid_old_password"));

  // oldPassword alone changes nothing and asks for the new password.
  auto only_old = w.auth.Update("shop", "users", w.ada,
                                Input(Body({{"oldPassword", Str(std::string(kAdaPassword))}})),
                                w.As("users", w.ada));
  REQUIRE_FALSE(only_old);
  CHECK(HasFieldError(only_old.error(), "password", "validation_required"));
  CHECK(HasFieldError(only_old.error(), "passwordConfirm", "validation_required"));

  // The new password meets the policy like a first one.
  auto weak = w.auth.Update("shop", "users", w.ada,
                            Input(Body({{"password", Str("password123")},
                                        {"passwordConfirm", Str("password123")},
                                        {"oldPassword", Str(std::string(kAdaPassword))}})),
                            w.As("users", w.ada));
  REQUIRE_FALSE(weak);
  CHECK(HasFieldError(weak.error(), "password", "validation_common_password"));

  CHECK(w.StoredText("users", w.ada, "password") == old_hash);
  CHECK(w.StoredText("users", w.ada, "tokenKey") == old_key);

  auto right = change({{"oldPassword", Str(std::string(kAdaPassword))}});
  REQUIRE(right);
  const std::string new_hash = w.StoredText("users", w.ada, "password");
  const std::string new_key = w.StoredText("users", w.ada, "tokenKey");
  CHECK(new_hash != old_hash);
  CHECK(new_hash.rfind("$argon2id$", 0) == 0);
  CHECK(w.Verifies(kNewPassword, new_hash));
  CHECK_FALSE(w.Verifies(kAdaPassword, new_hash));
  // A new password revokes the tokens: a new tokenKey.
  CHECK(IsTokenKey(new_key));
  CHECK(new_key != old_key);

  // The old password no longer counts as the old one.
  auto stale = w.auth.Update("shop", "users", w.ada,
                             Input(Body({{"password", Str("quill-harbor-violet-66")},
                                         {"passwordConfirm", Str("quill-harbor-violet-66")},
                                         {"oldPassword", Str(std::string(kAdaPassword))}})),
                             w.As("users", w.ada));
  REQUIRE_FALSE(stale);
  CHECK(HasFieldError(stale.error(), "oldPassword", "validation_invalid_old_password"));
}

TEST_CASE("auth records: e-mail and verified change only for managers; other fields keep tokenKey",
          "[application][auth][records]") {
  AuthWorld w;
  const std::string key = w.StoredText("users", w.ada, "tokenKey");
  const std::string hash = w.StoredText("users", w.ada, "password");

  auto other_fields = w.auth.Update("shop", "users", w.ada,
                                    Input(Body({{"name", Str("Ada L.")},
                                                {"emailVisibility", JsonValue::Bool(true)}})),
                                    w.As("users", w.ada));
  REQUIRE(other_fields);
  CHECK(w.StoredText("users", w.ada, "name") == "Ada L.");
  CHECK(w.StoredText("users", w.ada, "tokenKey") == key);
  CHECK(w.StoredText("users", w.ada, "password") == hash);

  auto email = w.auth.Update("shop", "users", w.ada,
                             Input(Body({{"email", Str("ada2@example.com")}})), w.As("users", w.ada));
  REQUIRE_FALSE(email);
  CHECK(email.error().code == ErrorCode::kInvalidArgument);
  CHECK(ErrorFields(email.error()) == std::vector<std::string>{"email"});

  auto verified = w.auth.Update("shop", "users", w.ada,
                                Input(Body({{"verified", JsonValue::Bool(true)}})),
                                w.As("users", w.ada));
  REQUIRE_FALSE(verified);
  CHECK(ErrorFields(verified.error()) == std::vector<std::string>{"verified"});

  // Repeating the current e-mail is no change.
  CHECK(w.auth.Update("shop", "users", w.ada, Input(Body({{"email", Str("ada@example.com")}})),
                      w.As("users", w.ada)));
  CHECK(w.StoredText("users", w.ada, "email") == "ada@example.com");
  CHECK(w.StoredText("users", w.ada, "tokenKey") == key);

  auto by_superuser = w.auth.Update("shop", "users", w.ada,
                                    Input(Body({{"email", Str("ada2@example.com")},
                                                {"verified", JsonValue::Bool(true)}})),
                                    Superuser());
  REQUIRE(by_superuser);
  CHECK(w.StoredText("users", w.ada, "email") == "ada2@example.com");
  CHECK(AuthWorld::Flag(w.Stored("users", w.ada), "verified"));
  const std::string after_email = w.StoredText("users", w.ada, "tokenKey");
  CHECK(IsTokenKey(after_email));
  CHECK(after_email != key);
  CHECK(w.StoredText("users", w.ada, "password") == hash);

  // verified alone does not revoke tokens.
  REQUIRE(w.auth.Update("shop", "users", w.ada, Input(Body({{"verified", JsonValue::Bool(false)}})),
                        Superuser()));
  CHECK(w.StoredText("users", w.ada, "tokenKey") == after_email);
}

TEST_CASE("auth records: managers change another user's password without the old one",
          "[application][auth][records]") {
  AuthWorld w;
  auto reset = [&](const Caller& caller, std::string_view password) {
    return w.auth.Update("shop", "users", w.ada,
                         Input(Body({{"password", Str(std::string(password))},
                                     {"passwordConfirm", Str(std::string(password))}})),
                         caller);
  };

  std::string key = w.StoredText("users", w.ada, "tokenKey");
  REQUIRE(reset(w.As("admins", w.admin), kNewPassword));
  CHECK(w.Verifies(kNewPassword, w.StoredText("users", w.ada, "password")));
  CHECK_FALSE(w.Verifies(kAdaPassword, w.StoredText("users", w.ada, "password")));
  CHECK(w.StoredText("users", w.ada, "tokenKey") != key);

  // Bob is not staff yet: Ada's record is not even visible to him.
  auto by_plain_user = reset(w.As("users", w.bob), "quill-harbor-violet-66");
  REQUIRE_FALSE(by_plain_user);
  CHECK(w.Verifies(kNewPassword, w.StoredText("users", w.ada, "password")));

  REQUIRE(w.auth.Update("shop", "users", w.bob, Input(Body({{"role", Str("staff")}})), Superuser()));
  key = w.StoredText("users", w.ada, "tokenKey");
  REQUIRE(reset(w.As("users", w.bob), "quill-harbor-violet-66"));
  CHECK(w.Verifies("quill-harbor-violet-66", w.StoredText("users", w.ada, "password")));
  CHECK(w.StoredText("users", w.ada, "tokenKey") != key);

  // A manager may also change the e-mail.
  CHECK(w.auth.Update("shop", "users", w.ada, Input(Body({{"email", Str("ada3@example.com")}})),
                      w.As("admins", w.admin)));
  CHECK(w.StoredText("users", w.ada, "email") == "ada3@example.com");

  // The confirmation is still required of managers.
  auto unconfirmed = w.auth.Update("shop", "users", w.ada,
                                   Input(Body({{"password", Str("quill-harbor-violet-77")}})),
                                   w.As("admins", w.admin));
  REQUIRE_FALSE(unconfirmed);
  CHECK(HasFieldError(unconfirmed.error(), "passwordConfirm", "validation_required"));
}

TEST_CASE("auth records: a batch hashes its passwords and is all or nothing",
          "[application][auth][records]") {
  AuthWorld w;
  const std::int64_t before = w.Count("users");
  auto create = [](std::string email, std::string_view password, std::string_view confirm) {
    BatchOperation op;
    op.kind = BatchOperation::Kind::kCreate;
    op.collection = "users";
    op.input = Input(Body({{"email", Str(std::move(email))},
                           {"password", Str(std::string(password))},
                           {"passwordConfirm", Str(std::string(confirm))}}));
    return op;
  };

  // The second operation's confirmation does not match: nothing is written.
  std::vector<BatchOperation> bad;
  bad.push_back(create("i1@example.com", kAdaPassword, kAdaPassword));
  bad.push_back(create("i2@example.com", kNewPassword, kAdaPassword));
  auto refused = w.auth.Batch("shop", std::move(bad), Guest());
  REQUIRE_FALSE(refused);
  REQUIRE(refused.error().index.has_value());
  CHECK(*refused.error().index == 1);
  CHECK(HasFieldError(refused.error().error, "passwordConfirm", "validation_values_mismatch"));
  CHECK(w.Count("users") == before);

  // A failure inside the transaction (a taken e-mail) rolls back the records before it.
  std::vector<BatchOperation> taken;
  taken.push_back(create("i1@example.com", kAdaPassword, kAdaPassword));
  taken.push_back(create("ada@example.com", kNewPassword, kNewPassword));
  auto rolled_back = w.auth.Batch("shop", std::move(taken), Guest());
  REQUIRE_FALSE(rolled_back);
  CHECK(rolled_back.error().index == std::optional<std::size_t>(1));
  CHECK(w.Count("users") == before);

  std::vector<BatchOperation> good;
  good.push_back(create("i1@example.com", kAdaPassword, kAdaPassword));
  good.push_back(create("i2@example.com", kNewPassword, kNewPassword));
  BatchOperation update;
  update.kind = BatchOperation::Kind::kUpdate;
  update.collection = "users";
  update.id = w.bob;
  update.input = Input(Body({{"name", Str("Bob B.")}}));
  good.push_back(std::move(update));
  auto done = w.auth.Batch("shop", std::move(good), Superuser());
  if (!done) FAIL(Describe(done.error().error));
  REQUIRE(done->size() == 3);
  CHECK(w.Count("users") == before + 2);
  const std::string i1 = (*done)[0].record->record.record.Id(*(*done)[0].record->record.collection);
  const std::string i2 = (*done)[1].record->record.record.Id(*(*done)[1].record->record.collection);
  const std::string h1 = w.StoredText("users", i1, "password");
  const std::string h2 = w.StoredText("users", i2, "password");
  CHECK(h1.rfind("$argon2id$", 0) == 0);
  CHECK(w.Verifies(kAdaPassword, h1));
  CHECK(w.Verifies(kNewPassword, h2));
  CHECK_FALSE(w.Verifies(kAdaPassword, h2));
  CHECK(IsTokenKey(w.StoredText("users", i1, "tokenKey")));
  CHECK(w.StoredText("users", i1, "tokenKey") != w.StoredText("users", i2, "tokenKey"));
  CHECK(w.StoredText("users", w.bob, "name") == "Bob B.");
}

TEST_CASE("auth records: password and tokenKey cannot be read or probed through the API",
          "[application][auth][records]") {
  AuthWorld w;
  // The use cases hand out domain records whole: leaving fields out is the JSON layer's job.
  application::RecordResult own = w.Stored("users", w.ada);
  const std::string hash = AuthWorld::Text(own, "password");
  const std::string key = AuthWorld::Text(own, "tokenKey");
  REQUIRE_FALSE(hash.empty());
  REQUIRE_FALSE(key.empty());

  // Filters and sorts on hidden fields are refused to everyone but superusers, so their
  // values cannot be guessed a character at a time; the password hash to everyone.
  for (const char* filter : {"password != ''", "tokenKey ~ 'a'", "note = ''"}) {
    ListRecordsInput input;
    input.filter = filter;
    INFO(filter);
    for (const Caller& caller : {Guest(), w.As("users", w.ada), w.As("admins", w.admin)}) {
      auto listed = w.auth.List("shop", "users", input, caller);
      REQUIRE_FALSE(listed);
      CHECK(listed.error().code == ErrorCode::kInvalidArgument);
    }
    auto by_superuser = w.auth.List("shop", "users", input, Superuser());
    CHECK(by_superuser.has_value() == (std::string_view(filter) != "password != ''"));
  }
  ListRecordsInput sorted;
  sorted.sort = "tokenKey";
  CHECK_FALSE(w.auth.List("shop", "users", sorted, w.As("users", w.ada)));

  // What the JSON layer writes of the record.
  auto render = [&](const adapters::json::RecordViewer& viewer) {
    adapters::json::JsonWriter writer;
    writer.BeginObject();
    adapters::json::WriteRecordMembers(writer, *own.record.collection, own.record.record, nullptr,
                                       viewer);
    writer.EndObject();
    return std::move(writer).Take();
  };
  const std::string users_id = own.record.collection->id;
  for (const auto& viewer :
       {adapters::json::RecordViewer{}, adapters::json::RecordViewer{true, {}, {}, nullptr},
        adapters::json::RecordViewer{false, users_id, w.ada, nullptr}}) {
    const std::string json = render(viewer);
    INFO(json);
    CHECK(json.find("\"password\"") == std::string::npos);
    CHECK(json.find("\"tokenKey\"") == std::string::npos);
    CHECK(json.find(hash) == std::string::npos);
    CHECK(json.find(key) == std::string::npos);
    CHECK(json.find("\"name\":\"Ada\"") != std::string::npos);
    // The hidden note is for superusers only; the e-mail for superusers and the owner.
    CHECK((json.find("\"note\"") != std::string::npos) == viewer.superuser);
    CHECK((json.find("ada@example.com") != std::string::npos) ==
          (viewer.superuser || !viewer.auth_record_id.empty()));
  }
}

TEST_CASE("auth records: an old password is never checked for a caller who may not update",
          "[application][auth][records]") {
  AuthWorld w;
  // Whether the guess is right or wrong, a stranger gets the same answer as for a missing id:
  // the old password must not be an oracle (nor the answer a test of which ids exist).
  auto guess = [&](const Caller& caller, std::string_view id, std::string_view old) {
    return w.auth.Update("shop", "users", id,
                         Input(Body({{"oldPassword", Str(std::string(old))},
                                     {"password", Str(std::string(kNewPassword))},
                                     {"passwordConfirm", Str(std::string(kNewPassword))}})),
                         caller);
  };
  for (const Caller& stranger : {Guest(), w.As("users", w.bob)}) {
    auto right = guess(stranger, w.ada, kAdaPassword);
    auto wrong = guess(stranger, w.ada, "not-the-old-password-1");
    auto missing = guess(stranger, "aaaaaaaaaaaaaaa", "not-the-old-password-1");
    REQUIRE_FALSE(right);
    REQUIRE_FALSE(wrong);
    REQUIRE_FALSE(missing);
    for (const auto* answer : {&right, &wrong, &missing}) {
      CHECK(answer->error().code == ErrorCode::kNotFound);
      CHECK(answer->error().message == right.error().message);
      CHECK(answer->error().fields.empty());
    }
  }
  // The same through a batch.
  std::vector<application::BatchOperation> batch(1);
  batch[0].kind = application::BatchOperation::Kind::kUpdate;
  batch[0].collection = "users";
  batch[0].id = w.ada;
  batch[0].input = Input(Body({{"oldPassword", Str(std::string(kAdaPassword))},
                               {"password", Str(std::string(kNewPassword))},
                               {"passwordConfirm", Str(std::string(kNewPassword))}}));
  auto batched = w.auth.Batch("shop", std::move(batch), Guest());
  REQUIRE_FALSE(batched);
  CHECK(batched.error().error.code == ErrorCode::kNotFound);
  // Nothing changed.
  CHECK(w.Verifies(kAdaPassword, w.StoredText("users", w.ada, "password")));
}
