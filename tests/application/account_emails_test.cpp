// The account e-mail flows (AccountEmails): password reset, verification and e-mail change,
// over the memory stores, the real Argon2id hasher and Ed25519 signer, a clock the tests move
// and a capturing mailer (a Mailer of the tests' own that keeps what it is handed), so that
// every mail's recipient, subject, parts and token can be read back and used.
#include "socle/application/account_emails.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "application/data_world.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/domain/login_throttle.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::crypto::Argon2PasswordHasher;
using adapters::crypto::Ed25519TokenSigner;
using application::AccountEmails;
using application::Caller;
using application::ClientInfo;
using application::MailAddress;
using application::MailMessage;
using application::RecordResult;
using application::RecordWriteInput;
using testing::Body;
using testing::NewCollection;
using testing::NewField;
using testing::Str;

namespace {

constexpr std::string_view kAda = "ada.lovelace@example.com";
constexpr std::string_view kAdaPassword = "velvet-otter-quarry-41";
constexpr std::string_view kBob = "bob@example.com";
constexpr std::string_view kBobPassword = "granite-kettle-swift-55";
constexpr std::string_view kNewPassword = "lantern-moss-harbour-87";
constexpr std::string_view kRoot = "root@example.com";
constexpr std::string_view kRootPassword = "copper-finch-meadow-23";
constexpr std::string_view kUsersId = "_pb_users_auth_";
constexpr std::string_view kSecret = "hidden-field-value-5ecret";
constexpr std::int64_t kSecond = 1'000'000;

std::string Describe(const Error& error) {
  std::string out = std::string(ToString(error.code)) + ": " + error.message;
  for (const auto& f : error.fields) out += " | " + f.field + " " + f.code;
  return out;
}

// The codes of the field errors of `error`, by field.
std::optional<std::string> FieldCode(const Error& error, std::string_view field) {
  for (const auto& f : error.fields) {
    if (f.field == field) return f.code;
  }
  return std::nullopt;
}

void CheckFieldError(const Result<void>& result, std::string_view field, std::string_view code) {
  REQUIRE_FALSE(result);
  INFO(Describe(result.error()));
  CHECK(result.error().code == ErrorCode::kInvalidArgument);
  CHECK(FieldCode(result.error(), field) == std::string(code));
}

// The answer every refused e-mailed token gets, whatever the reason.
void CheckBadToken(const Result<void>& result) {
  REQUIRE_FALSE(result);
  INFO(Describe(result.error()));
  CHECK(result.error().code == ErrorCode::kInvalidArgument);
  CHECK(result.error().message == "Failed to validate the submitted data.");
  REQUIRE(result.error().fields.size() == 1);
  CHECK(result.error().fields[0].field == "token");
  CHECK(result.error().fields[0].code == "validation_invalid_token");
}

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

Argon2PasswordHasher MustHasher(application::RandomSource& random) {
  auto hasher = Argon2PasswordHasher::Create({}, random);
  REQUIRE(hasher);
  return std::move(*hasher);
}

// No quick-login lock: the test clock stands still between sign-ins.
LoginThrottle MustThrottle() {
  LoginThrottleOptions options;
  options.failure_factor = 10;
  options.wait_increment = std::chrono::seconds(60);
  options.exponential_after = 0;
  options.quick_login_check = std::chrono::milliseconds(0);
  auto throttle = LoginThrottle::Create(options);
  REQUIRE(throttle);
  return std::move(*throttle);
}

// A Mailer that keeps every message it is handed. Thread-safe.
class CapturingMailer final : public application::Mailer {
 public:
  Result<void> Send(const MailMessage& message) override {
    std::lock_guard lock(mutex_);
    sent_.push_back(message);
    return {};
  }
  std::vector<MailMessage> Sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::size_t Count() {
    std::lock_guard lock(mutex_);
    return sent_.size();
  }
  MailMessage Last() {
    std::lock_guard lock(mutex_);
    REQUIRE_FALSE(sent_.empty());
    return sent_.back();
  }

 private:
  std::mutex mutex_;
  std::vector<MailMessage> sent_;
};

// The token in a mail: what follows `/<path>/` in its link, as far as base64url and dots go.
std::string TokenIn(std::string_view text, std::string_view path) {
  const std::string marker = "/" + std::string(path) + "/";
  const std::size_t at = text.find(marker);
  INFO(text);
  REQUIRE(at != std::string_view::npos);
  const std::size_t start = at + marker.size();
  std::size_t end = start;
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                               text[end] == '-' || text[end] == '_' || text[end] == '.')) {
    ++end;
  }
  std::string token(text.substr(start, end - start));
  REQUIRE(std::count(token.begin(), token.end(), '.') == 2);
  return token;
}

// The same token must be in both parts of the mail.
std::string TokenOf(const MailMessage& message, std::string_view path) {
  const std::string from_text = TokenIn(message.text, path);
  CHECK(TokenIn(message.html, path) == from_text);
  return from_text;
}

std::string PayloadText(std::string_view token) {
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  auto bytes = adapters::crypto::FromBase64Url(token.substr(first + 1, second - first - 1));
  REQUIRE(bytes);
  return std::string(bytes->begin(), bytes->end());
}

// Two projects, shop and other, each with an auth collection `users` of the same id (as
// PocketBase's default one has) with a text field `name` and a hidden text field `secret`; in
// shop also the auth collection `admins` and the base collection `notes`. Shop's meta settings
// name the app "Shop & Co" (an ampersand, to see HTML escaping).
struct EmailWorld : testing::DataWorld {
  EmailWorld() {
    REQUIRE(projects.Create({"other", "acme", std::nullopt}));
    REQUIRE(signer.Generate("k1", random));
    for (std::string_view project : {"shop", "other"}) CreateCollections(project);

    ada = MustCreateAuth("shop", "users", kAda, kAdaPassword,
                         {{"name", Str("Ada")}, {"secret", Str(std::string(kSecret))}});
    bob = MustCreateAuth("shop", "users", kBob, kBobPassword,
                         {{"name", Str("Bob")}, {"verified", JsonValue::Bool(true)}});
    // The same address in another auth collection of the project.
    admin = MustCreateAuth("shop", "admins", kAda, kRootPassword, {});
    root = MustUpsertRoot();

    auto current = settings.Get("shop");
    REQUIRE(current);
    current->meta.app_name = "Shop & Co";
    current->meta.app_url = "https://shop.example";
    current->meta.sender_name = "Shop Support";
    current->meta.sender_address = "no-reply@shop.example";
    auto updated = settings.Update("shop", *current);
    if (!updated) FAIL(Describe(updated.error()));
  }

  void CreateCollections(std::string_view project) {
    Collection users = NewCollection(
        "users", {NewField("name", FieldType::kText), NewField("secret", FieldType::kText)});
    users.id = std::string(kUsersId);
    users.type = CollectionType::kAuth;
    users.fields[1].hidden = true;
    auto created = collections.Create(project, users, "test");
    if (!created) FAIL(Describe(created.error()));
    if (project == "shop") {
      Collection admins = NewCollection("admins", {});
      admins.type = CollectionType::kAuth;
      auto made = collections.Create(project, admins, "test");
      if (!made) FAIL(Describe(made.error()));
      admins_id = made->id;
      auto notes = collections.Create(
          project, NewCollection("notes", {NewField("text", FieldType::kText)}), "test");
      if (!notes) FAIL(Describe(notes.error()));
    }
  }

  std::string MustCreateAuth(std::string_view project, std::string_view collection,
                             std::string_view email, std::string_view password,
                             std::vector<JsonValue::Member> extra) {
    std::vector<JsonValue::Member> members = {{"email", Str(std::string(email))},
                                              {"password", Str(std::string(password))},
                                              {"passwordConfirm", Str(std::string(password))}};
    for (auto& member : extra) members.push_back(std::move(member));
    auto created =
        auth_records.Create(project, collection, Input(Body(std::move(members))), Superuser());
    if (!created) FAIL(Describe(created.error()));
    return created->record.record.Id(*created->record.collection);
  }

  std::string MustUpsertRoot() {
    auto upserted = superusers.Upsert(kRoot, kRootPassword);
    if (!upserted) FAIL(Describe(upserted.error()));
    return upserted->id;
  }

  RecordResult Stored(std::string_view collection, std::string_view id,
                      std::string_view project = "shop") {
    auto viewed = auth_records.View(project, collection, id, "", Superuser());
    if (!viewed) FAIL(Describe(viewed.error()));
    return *viewed;
  }
  const JsonValue& StoredValue(const RecordResult& stored, std::string_view field) {
    const JsonValue* value = stored.record.record.Get(*stored.record.collection, field);
    REQUIRE(value != nullptr);
    return *value;
  }
  std::string StoredText(std::string_view collection, std::string_view id, std::string_view field,
                         std::string_view project = "shop") {
    RecordResult stored = Stored(collection, id, project);
    const JsonValue& value = StoredValue(stored, field);
    REQUIRE(value.type() == JsonValue::Type::kString);
    return value.AsString();
  }
  bool StoredVerified(std::string_view collection, std::string_view id) {
    RecordResult stored = Stored(collection, id);
    const JsonValue& value = StoredValue(stored, "verified");
    REQUIRE(value.type() == JsonValue::Type::kBool);
    return value.AsBool();
  }

  void Configure(std::string_view collection, const std::function<void(Collection&)>& change) {
    auto current = collections.Get("shop", collection);
    REQUIRE(current);
    change(*current);
    auto updated = collections.Update("shop", collection, *current, "test");
    if (!updated) FAIL(Describe(updated.error()));
  }

  Result<application::AuthResult> SignIn(std::string_view identity, std::string_view password,
                                         std::string_view collection = "users") {
    return auth.WithPassword("shop", collection, identity, password, "",
                             ClientInfo{"198.51.100.7", "test"});
  }
  std::string MustSignIn(std::string_view identity, std::string_view password,
                         std::string_view collection = "users") {
    auto signed_in = SignIn(identity, password, collection);
    if (!signed_in) FAIL(Describe(signed_in.error()));
    return signed_in->token;
  }
  Caller MustIdentify(std::string_view token) {
    auto caller = auth.Identify("shop", token);
    if (!caller) FAIL(Describe(caller.error()));
    return *caller;
  }

  std::string ProjectId(std::string_view project) {
    auto entry = directory.Find(project);
    REQUIRE(entry);
    return entry->project.id.str();
  }

  bool PasswordIs(std::string_view collection, std::string_view id, std::string_view password) {
    auto matches = hasher.Verify(password, StoredText(collection, id, "password"));
    REQUIRE(matches);
    return *matches;
  }

  // Requests a reset for `email` and returns the mailed token.
  std::string ResetToken(std::string_view email, std::string_view collection = "users") {
    const std::size_t before = mailer.Count();
    auto requested = emails.RequestPasswordReset("shop", collection, email);
    if (!requested) FAIL(Describe(requested.error()));
    REQUIRE(mailer.Count() == before + 1);
    return TokenOf(mailer.Last(), "confirm-password-reset");
  }
  std::string VerificationToken(std::string_view email) {
    const std::size_t before = mailer.Count();
    auto requested = emails.RequestVerification("shop", "users", email);
    if (!requested) FAIL(Describe(requested.error()));
    REQUIRE(mailer.Count() == before + 1);
    return TokenOf(mailer.Last(), "confirm-verification");
  }
  std::string EmailChangeToken(const Caller& caller, std::string_view new_email) {
    const std::size_t before = mailer.Count();
    auto requested = emails.RequestEmailChange("shop", "users", caller, new_email);
    if (!requested) FAIL(Describe(requested.error()));
    REQUIRE(mailer.Count() == before + 1);
    return TokenOf(mailer.Last(), "confirm-email-change");
  }

  TokenClaims MustVerify(std::string_view token) {
    auto claims = signer.Verify(token);
    REQUIRE(claims);
    return *claims;
  }
  std::string Resign(const TokenClaims& claims) {
    auto token = signer.Sign(claims);
    REQUIRE(token);
    return *token;
  }

  CapturingMailer mailer;
  Argon2PasswordHasher hasher = MustHasher(random);
  Ed25519TokenSigner signer;
  LoginThrottle throttle = MustThrottle();
  application::PlatformStore platform{stores, clock};
  application::ManageRecords auth_records{
      directory, clock, random, {}, nullptr, application::PasswordSettings{&hasher, {}}};
  application::ManageSuperusers superusers{platform, hasher, clock, random};
  application::ManageSettings settings{directory, catalogue, clock};
  application::Authenticate auth{directory, platform, signer, hasher, clock, random, throttle};
  // The confirmations change records: audited, as socle-server wires them.
  static std::string Sha256Hex(std::string_view bytes) {
    return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
  }
  application::AuditTrail trail{clock, random, &Sha256Hex};
  static application::AuthenticateOptions Audited(application::AuditTrail& trail) {
    application::AuthenticateOptions options;
    options.audit = &trail;
    return options;
  }
  AccountEmails emails{directory, platform, settings, signer, hasher, mailer, clock, random,
                       Audited(trail)};
  std::string admins_id;
  std::string ada, bob, admin, root;
};

const std::vector<std::string_view> kMalformedAddresses = {
    "",
    "ada",
    "ada@",
    "@example.com",
    "ada lovelace@example.com",
    "ada@exa mple.com",
    "ada.lovelace@example.com\r\nBcc: eve@example.net",
    "ada.lovelace@example.com, eve@example.net",
    "<ada.lovelace@example.com>",
};

}  // namespace

TEST_CASE("account e-mails: a password reset mails a token to the address", "[auth][emails]") {
  EmailWorld w;
  const std::string token_key = w.StoredText("users", w.ada, "tokenKey");
  const std::string hash = w.StoredText("users", w.ada, "password");

  REQUIRE(w.emails.RequestPasswordReset("shop", "users", kAda));
  const std::vector<MailMessage> sent = w.mailer.Sent();
  REQUIRE(sent.size() == 1);
  const MailMessage& mail = sent.front();
  CHECK(mail.to == std::vector<MailAddress>{{"", std::string(kAda)}});
  CHECK(mail.cc.empty());
  CHECK(mail.bcc.empty());
  CHECK(mail.from == MailAddress{"Shop Support", "no-reply@shop.example"});
  CHECK(mail.subject == "Reset your Shop & Co password");

  const std::string token = TokenOf(mail, "confirm-password-reset");
  // The default template: a link into the app, and the app's name escaped for HTML.
  CHECK(mail.html.find("href=\"https://shop.example/_/#/auth/confirm-password-reset/" + token +
                       "\"") != std::string::npos);
  CHECK(mail.html.find("Shop &amp; Co team") != std::string::npos);
  CHECK(mail.html.find("Shop & Co") == std::string::npos);
  CHECK(mail.text.find("Shop & Co team") != std::string::npos);
  CHECK(mail.text.find('<') == std::string::npos);
  CHECK(mail.text.find("https://shop.example/_/#/auth/confirm-password-reset/" + token) !=
        std::string::npos);

  // The token: a one-time reset token of shop's users for Ada, bound to her tokenKey and
  // address without carrying either secret.
  const TokenClaims claims = w.MustVerify(token);
  CHECK(claims.type == "passwordReset");
  CHECK(claims.aud == "project:" + w.ProjectId("shop"));
  CHECK(claims.iss == "socle");
  CHECK(claims.sub == w.ada);
  CHECK(claims.collection_id == kUsersId);
  CHECK(claims.email == kAda);
  CHECK(claims.new_email.empty());
  CHECK(claims.iat == w.clock.Now());
  CHECK(claims.exp.unix_micros() - claims.iat.unix_micros() == 1800 * kSecond);
  CHECK(claims.key_binding == w.signer.Bind(token_key + '\0' + std::string(kAda)));
  CHECK(claims.jti.size() >= 16);
  const std::string payload = PayloadText(token);
  CHECK(payload.find(token_key) == std::string::npos);
  CHECK(payload.find(hash) == std::string::npos);
  CHECK(payload.find("$argon2") == std::string::npos);
  // Nothing in the record changed by asking.
  CHECK(w.StoredText("users", w.ada, "tokenKey") == token_key);
  CHECK(w.PasswordIs("users", w.ada, kAdaPassword));

  SECTION("each request mints a different token") {
    w.clock.Advance(121 * kSecond);
    const std::string again = w.ResetToken(kAda);
    CHECK(again != token);
    CHECK(w.MustVerify(again).jti != claims.jti);
  }
}

TEST_CASE("account e-mails: requests tell nothing about the address", "[auth][emails]") {
  EmailWorld w;

  SECTION("an unknown address succeeds and mails nothing") {
    REQUIRE(w.emails.RequestPasswordReset("shop", "users", "nobody@example.com"));
    REQUIRE(w.emails.RequestVerification("shop", "users", "nobody@example.com"));
    // An address of another collection (admins) is unknown to users' flows, and the reverse.
    REQUIRE(w.emails.RequestPasswordReset("shop", "users", "root@example.com"));
    REQUIRE(w.emails.RequestPasswordReset("shop", "admins", kBob));
    CHECK(w.mailer.Count() == 0);
  }

  SECTION("a malformed address is refused on the email field, and mails nothing") {
    for (std::string_view address : kMalformedAddresses) {
      INFO(address);
      CheckFieldError(w.emails.RequestPasswordReset("shop", "users", address), "email",
                      "validation_is_email");
      CheckFieldError(w.emails.RequestVerification("shop", "users", address), "email",
                      "validation_is_email");
    }
    CHECK(w.mailer.Count() == 0);
  }

  SECTION("only auth collections of known projects have these flows") {
    for (auto [project, collection] : {std::pair{"shop", "notes"}, std::pair{"shop", "nope"},
                                       std::pair{"nope", "users"}, std::pair{"shop", ""}}) {
      INFO(project << "/" << collection);
      auto reset = w.emails.RequestPasswordReset(project, collection, kAda);
      REQUIRE_FALSE(reset);
      CHECK(reset.error().code == ErrorCode::kNotFound);
      auto verify = w.emails.RequestVerification(project, collection, kAda);
      REQUIRE_FALSE(verify);
      CHECK(verify.error().code == ErrorCode::kNotFound);
      auto confirm = w.emails.ConfirmVerification(project, collection, "x.y.z");
      REQUIRE_FALSE(confirm);
      CHECK(confirm.error().code == ErrorCode::kNotFound);
    }
    CHECK(w.mailer.Count() == 0);
  }
}

TEST_CASE("account e-mails: one mail per address and flow every 120 seconds", "[auth][emails]") {
  EmailWorld w;
  REQUIRE(w.emails.RequestPasswordReset("shop", "users", kAda));
  REQUIRE(w.mailer.Count() == 1);

  // Asked again at once and within the interval: the same answer, no mail.
  REQUIRE(w.emails.RequestPasswordReset("shop", "users", kAda));
  w.clock.Advance(60 * kSecond);
  REQUIRE(w.emails.RequestPasswordReset("shop", "users", kAda));
  CHECK(w.mailer.Count() == 1);

  // Another address and another flow have their own allowance.
  REQUIRE(w.emails.RequestPasswordReset("shop", "users", kBob));
  CHECK(w.mailer.Count() == 2);
  REQUIRE(w.emails.RequestVerification("shop", "users", kAda));
  CHECK(w.mailer.Count() == 3);
  // The same address in another collection too.
  REQUIRE(w.emails.RequestPasswordReset("shop", "admins", kAda));
  CHECK(w.mailer.Count() == 4);
  CHECK(w.mailer.Last().to.front().address == kAda);

  // Once the interval has passed, the address gets a mail again.
  w.clock.Advance(61 * kSecond);
  REQUIRE(w.emails.RequestPasswordReset("shop", "users", kAda));
  CHECK(w.mailer.Count() == 5);
  CHECK(w.mailer.Last().subject == "Reset your Shop & Co password");
  REQUIRE(w.emails.RequestPasswordReset("shop", "users", kAda));
  CHECK(w.mailer.Count() == 5);
}

TEST_CASE("account e-mails: confirming a reset sets the password once", "[auth][emails]") {
  EmailWorld w;
  const std::string old_token_key = w.StoredText("users", w.ada, "tokenKey");
  const std::string auth_token = w.MustSignIn(kAda, kAdaPassword);
  REQUIRE(w.auth.Identify("shop", auth_token));
  REQUIRE_FALSE(w.StoredVerified("users", w.ada));
  const std::string token = w.ResetToken(kAda);
  w.clock.Advance(5 * kSecond);

  REQUIRE(w.emails.ConfirmPasswordReset("shop", "users", token, kNewPassword, kNewPassword));
  CHECK(w.PasswordIs("users", w.ada, kNewPassword));
  CHECK_FALSE(w.PasswordIs("users", w.ada, kAdaPassword));
  CHECK(w.StoredText("users", w.ada, "password").starts_with("$argon2id$"));
  const std::string new_token_key = w.StoredText("users", w.ada, "tokenKey");
  CHECK(new_token_key != old_token_key);
  CHECK(new_token_key.size() >= 30);
  // The mail reached its address: that proves it.
  CHECK(w.StoredVerified("users", w.ada));
  // Sessions opened with the old password are over; the new password signs in.
  auto old_session = w.auth.Identify("shop", auth_token);
  REQUIRE_FALSE(old_session);
  CHECK(old_session.error().code == ErrorCode::kUnauthenticated);
  REQUIRE(w.SignIn(kAda, kNewPassword));
  CHECK_FALSE(w.SignIn(kAda, kAdaPassword));
  // Other records are untouched.
  CHECK(w.PasswordIs("users", w.bob, kBobPassword));

  // The token worked once.
  CheckBadToken(w.emails.ConfirmPasswordReset("shop", "users", token, "another-Pass-phrase-9",
                                              "another-Pass-phrase-9"));
  CHECK(w.PasswordIs("users", w.ada, kNewPassword));

  SECTION("a token minted before another reset is void after it") {
    EmailWorld v;
    const std::string first = v.ResetToken(kAda);
    v.clock.Advance(121 * kSecond);
    const std::string second = v.ResetToken(kAda);
    REQUIRE(v.emails.ConfirmPasswordReset("shop", "users", second, kNewPassword, kNewPassword));
    CheckBadToken(v.emails.ConfirmPasswordReset("shop", "users", first, "another-Pass-phrase-9",
                                                "another-Pass-phrase-9"));
    CHECK(v.PasswordIs("users", v.ada, kNewPassword));
  }
}

TEST_CASE("account e-mails: expired, foreign and forged reset tokens are refused",
          "[auth][emails]") {
  EmailWorld w;
  const std::string token = w.ResetToken(kAda);
  const TokenClaims claims = w.MustVerify(token);

  auto check_refused = [&](const std::string& candidate) {
    CheckBadToken(
        w.emails.ConfirmPasswordReset("shop", "users", candidate, kNewPassword, kNewPassword));
    CHECK(w.PasswordIs("users", w.ada, kAdaPassword));
  };

  SECTION("past its lifetime (30 minutes, and the 30 s of tolerated skew)") {
    w.clock.Advance((1800 + 31) * kSecond);
    check_refused(token);
  }
  SECTION("at the very end of its lifetime it still works") {
    w.clock.Advance(1800 * kSecond);
    REQUIRE(w.emails.ConfirmPasswordReset("shop", "users", token, kNewPassword, kNewPassword));
  }
  SECTION("a lifetime set on the collection is the one minted") {
    w.Configure("users", [](Collection& c) { c.auth.password_reset_token_duration = 60; });
    w.clock.Advance(121 * kSecond);
    const std::string short_lived = w.ResetToken(kAda);
    const TokenClaims c = w.MustVerify(short_lived);
    CHECK(c.exp.unix_micros() - c.iat.unix_micros() == 60 * kSecond);
    w.clock.Advance(91 * kSecond);
    check_refused(short_lived);
  }
  SECTION("a token of another flow") {
    const std::string verification = w.VerificationToken(kAda);
    check_refused(verification);
    const Caller ada = w.MustIdentify(w.MustSignIn(kAda, kAdaPassword));
    check_refused(w.EmailChangeToken(ada, "ada.new@example.com"));
    // And the reset token is no verification token either.
    CheckBadToken(w.emails.ConfirmVerification("shop", "users", token));
    CheckBadToken(w.emails.ConfirmEmailChange("shop", "users", token, kAdaPassword));
    CHECK_FALSE(w.StoredVerified("users", w.ada));
  }
  SECTION("an auth token") { check_refused(w.MustSignIn(kAda, kAdaPassword)); }
  SECTION("a token of another auth collection with the same address") {
    const std::string admins_token = w.ResetToken(kAda, "admins");
    check_refused(admins_token);
    // It works where it belongs.
    REQUIRE(
        w.emails.ConfirmPasswordReset("shop", "admins", admins_token, kNewPassword, kNewPassword));
    CHECK(w.PasswordIs("users", w.ada, kAdaPassword));
    CheckBadToken(
        w.emails.ConfirmPasswordReset("shop", "admins", token, kNewPassword, kNewPassword));
  }
  SECTION("a token minted for one project used on another") {
    // A record in "other" with Ada's id and address: only the audience tells them apart.
    const std::string twin =
        w.MustCreateAuth("other", "users", kAda, kBobPassword, {{"id", Str(w.ada)}});
    REQUIRE(twin == w.ada);
    CheckBadToken(
        w.emails.ConfirmPasswordReset("other", "users", token, kNewPassword, kNewPassword));
    // Even when re-bound to the twin's tokenKey with the project's own key, shop's audience is
    // refused on other; the same claims with other's audience pass, so the audience is what
    // decides.
    TokenClaims rebound = claims;
    rebound.key_binding =
        w.signer.Bind(w.StoredText("users", twin, "tokenKey", "other") + '\0' + std::string(kAda));
    CheckBadToken(w.emails.ConfirmPasswordReset("other", "users", w.Resign(rebound), kNewPassword,
                                                kNewPassword));
    rebound.aud = "project:" + w.ProjectId("other");
    REQUIRE(w.emails.ConfirmPasswordReset("other", "users", w.Resign(rebound), kNewPassword,
                                          kNewPassword));
    CHECK(w.PasswordIs("users", w.ada, kAdaPassword));  // shop's Ada untouched
  }
  SECTION("claims changed and re-signed with the right key but the wrong binding") {
    TokenClaims other_binding = claims;
    other_binding.key_binding =
        w.signer.Bind(w.StoredText("users", w.bob, "tokenKey") + '\0' + std::string(kAda));
    check_refused(w.Resign(other_binding));
    TokenClaims unbound = claims;
    unbound.key_binding.clear();
    check_refused(w.Resign(unbound));
    // Bound to the tokenKey alone (as auth tokens are), not to the address as well.
    TokenClaims key_only = claims;
    key_only.key_binding = w.signer.Bind(w.StoredText("users", w.ada, "tokenKey"));
    check_refused(w.Resign(key_only));
    TokenClaims other_issuer = claims;
    other_issuer.iss = "someone-else";
    check_refused(w.Resign(other_issuer));
    TokenClaims bob_subject = claims;
    bob_subject.sub = w.bob;  // Ada's binding on Bob's record
    check_refused(w.Resign(bob_subject));
    CHECK(w.PasswordIs("users", w.bob, kBobPassword));
    TokenClaims gone = claims;
    gone.sub = "nosuchrecord123";
    check_refused(w.Resign(gone));
  }
  SECTION("a token signed with a key not in the ring, or altered") {
    Ed25519TokenSigner stranger;
    socle::testing::SeededRandomSource random{99};
    REQUIRE(stranger.Generate("k1", random));  // same kid, another key
    auto forged = stranger.Sign(claims);
    REQUIRE(forged);
    check_refused(*forged);
    std::string altered = token;
    altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
    check_refused(altered);
    check_refused("not-a-token");
    check_refused(token + "." + token);
  }
  SECTION("an empty token is a missing one") {
    auto empty = w.emails.ConfirmPasswordReset("shop", "users", "", kNewPassword, kNewPassword);
    CheckFieldError(empty, "token", "validation_required");
  }
}

TEST_CASE("account e-mails: a refused new password leaves the reset token usable",
          "[auth][emails]") {
  EmailWorld w;
  const std::string token = w.ResetToken(kAda);
  const std::string token_key = w.StoredText("users", w.ada, "tokenKey");

  CheckFieldError(w.emails.ConfirmPasswordReset("shop", "users", token, "", ""), "password",
                  "validation_required");
  CheckFieldError(w.emails.ConfirmPasswordReset("shop", "users", token, "Sh0rt!", "Sh0rt!"),
                  "password", "validation_min_text_constraint");
  CheckFieldError(
      w.emails.ConfirmPasswordReset("shop", "users", token, "password123", "password123"),
      "password", "validation_common_password");
  CheckFieldError(w.emails.ConfirmPasswordReset("shop", "users", token, "my-ada.lovelace-2024",
                                                "my-ada.lovelace-2024"),
                  "password", "validation_password_contains_identity");
  CheckFieldError(w.emails.ConfirmPasswordReset("shop", "users", token, kNewPassword,
                                                "lantern-moss-harbour-88"),
                  "passwordConfirm", "validation_values_mismatch");
  CheckFieldError(w.emails.ConfirmPasswordReset("shop", "users", token, kNewPassword, ""),
                  "passwordConfirm", "validation_values_mismatch");
  // Both at once: both reported.
  auto both = w.emails.ConfirmPasswordReset("shop", "users", token, "Sh0rt!", "Sh0rt?");
  REQUIRE_FALSE(both);
  CHECK(FieldCode(both.error(), "password") == "validation_min_text_constraint");
  CHECK(FieldCode(both.error(), "passwordConfirm") == "validation_values_mismatch");

  // Nothing was written, and the token still works.
  CHECK(w.StoredText("users", w.ada, "tokenKey") == token_key);
  CHECK(w.PasswordIs("users", w.ada, kAdaPassword));
  REQUIRE(w.emails.ConfirmPasswordReset("shop", "users", token, kNewPassword, kNewPassword));
  CHECK(w.PasswordIs("users", w.ada, kNewPassword));
}

TEST_CASE("account e-mails: verification", "[auth][emails]") {
  EmailWorld w;

  SECTION("an already verified address gets no mail") {
    REQUIRE(w.StoredVerified("users", w.bob));
    REQUIRE(w.emails.RequestVerification("shop", "users", kBob));
    CHECK(w.mailer.Count() == 0);
  }

  SECTION("the mailed token marks the address verified") {
    const std::string auth_token = w.MustSignIn(kAda, kAdaPassword);
    const std::string token_key = w.StoredText("users", w.ada, "tokenKey");
    const std::string token = w.VerificationToken(kAda);
    const MailMessage mail = w.mailer.Last();
    CHECK(mail.to == std::vector<MailAddress>{{"", std::string(kAda)}});
    CHECK(mail.subject == "Verify your Shop & Co email");
    CHECK(mail.html.find("Thank you for joining Shop &amp; Co.") != std::string::npos);
    const TokenClaims claims = w.MustVerify(token);
    CHECK(claims.type == "verification");
    CHECK(claims.email == kAda);
    CHECK(claims.exp.unix_micros() - claims.iat.unix_micros() == 259200 * kSecond);

    REQUIRE_FALSE(w.StoredVerified("users", w.ada));
    REQUIRE(w.emails.ConfirmVerification("shop", "users", token));
    CHECK(w.StoredVerified("users", w.ada));
    // The change is in the project's audit trail, made by Ada herself.
    auto shop = w.directory.Find("shop");
    REQUIRE(shop);
    application::AuditQuery query;
    query.action = "auth.confirm_verification";
    auto events = shop->store->AuditEvents(query);
    REQUIRE(events);
    REQUIRE(events->size() == 1);
    CHECK(events->front().event.actor_id == w.ada);
    CHECK(events->front().event.target_id == w.ada);
    CHECK(events->front().event.changes == R"([{"field":"verified","before":false,"after":true}])");
    // Verifying changes no secret: the sessions go on.
    CHECK(w.StoredText("users", w.ada, "tokenKey") == token_key);
    CHECK(w.PasswordIs("users", w.ada, kAdaPassword));
    REQUIRE(w.auth.Identify("shop", auth_token));
    // Confirming again changes nothing and is no error; asking again mails nothing.
    REQUIRE(w.emails.ConfirmVerification("shop", "users", token));
    CHECK(w.StoredVerified("users", w.ada));
    w.clock.Advance(121 * kSecond);
    REQUIRE(w.emails.RequestVerification("shop", "users", kAda));
    CHECK(w.mailer.Count() == 1);
  }

  SECTION("a token for an address that changed since is refused") {
    const std::string token = w.VerificationToken(kAda);
    auto changed =
        w.auth_records.Update("shop", "users", w.ada,
                              Input(Body({{"email", Str("ada.second@example.com")}})), Superuser());
    if (!changed) FAIL(Describe(changed.error()));
    CheckBadToken(w.emails.ConfirmVerification("shop", "users", token));
    CHECK_FALSE(w.StoredVerified("users", w.ada));
  }

  SECTION("a token whose claimed address is not the record's is refused") {
    const std::string token = w.VerificationToken(kAda);
    TokenClaims claims = w.MustVerify(token);
    claims.email = "eve@example.net";  // still bound to Ada's tokenKey and address
    CheckBadToken(w.emails.ConfirmVerification("shop", "users", w.Resign(claims)));
    CHECK_FALSE(w.StoredVerified("users", w.ada));
  }

  SECTION("expired, empty and foreign tokens are refused") {
    const std::string token = w.VerificationToken(kAda);
    CheckFieldError(w.emails.ConfirmVerification("shop", "users", ""), "token",
                    "validation_required");
    CheckBadToken(w.emails.ConfirmVerification("shop", "users", "garbage"));
    CheckBadToken(w.emails.ConfirmVerification("shop", "admins", token));
    w.clock.Advance((259200 + 31) * kSecond);
    CheckBadToken(w.emails.ConfirmVerification("shop", "users", token));
    CHECK_FALSE(w.StoredVerified("users", w.ada));
  }
}

TEST_CASE("account e-mails: an e-mail change needs the record's own caller", "[auth][emails]") {
  EmailWorld w;
  const std::string new_email = "ada.new@example.com";

  auto guest = w.emails.RequestEmailChange("shop", "users", Caller{}, new_email);
  REQUIRE_FALSE(guest);
  CHECK(guest.error().code == ErrorCode::kUnauthenticated);
  // A superuser is no record: there is no own address to change.
  auto root = w.emails.RequestEmailChange("shop", "users", Superuser(), new_email);
  REQUIRE_FALSE(root);
  CHECK(root.error().code == ErrorCode::kUnauthenticated);
  const Caller admin = w.MustIdentify(w.MustSignIn(kAda, kRootPassword, "admins"));
  auto other_collection = w.emails.RequestEmailChange("shop", "users", admin, new_email);
  REQUIRE_FALSE(other_collection);
  CHECK(other_collection.error().code == ErrorCode::kPermissionDenied);
  CHECK(w.mailer.Count() == 0);

  const Caller ada = w.MustIdentify(w.MustSignIn(kAda, kAdaPassword));
  for (std::string_view address : kMalformedAddresses) {
    INFO(address);
    CheckFieldError(w.emails.RequestEmailChange("shop", "users", ada, address), "newEmail",
                    "validation_is_email");
  }
  // Taken: by another record, or her own current address.
  CheckFieldError(w.emails.RequestEmailChange("shop", "users", ada, kBob), "newEmail",
                  "validation_record_email_invalid");
  CheckFieldError(w.emails.RequestEmailChange("shop", "users", ada, kAda), "newEmail",
                  "validation_record_email_invalid");
  CHECK(w.mailer.Count() == 0);
  // The address of a record in another collection is free in this one.
  REQUIRE(w.emails.RequestEmailChange("shop", "users", ada, "root@example.com"));
  CHECK(w.mailer.Count() == 1);
  // Unknown or non-auth collections, for a real caller too.
  auto notes = w.emails.RequestEmailChange("shop", "notes", ada, new_email);
  REQUIRE_FALSE(notes);
  CHECK(notes.error().code == ErrorCode::kNotFound);
}

TEST_CASE(
    "account e-mails: an e-mail change is mailed to the new address and confirmed "
    "with the password",
    "[auth][emails]") {
  EmailWorld w;
  const std::string new_email = "ada.new@example.com";
  const std::string auth_token = w.MustSignIn(kAda, kAdaPassword);
  const Caller ada = w.MustIdentify(auth_token);
  const std::string token_key = w.StoredText("users", w.ada, "tokenKey");
  const std::string reset_token = w.ResetToken(kAda);

  const std::string token = w.EmailChangeToken(ada, new_email);
  const MailMessage mail = w.mailer.Last();
  // To the new address only: the old one is not told, and the new one proves itself.
  CHECK(mail.to == std::vector<MailAddress>{{"", new_email}});
  CHECK(mail.cc.empty());
  CHECK(mail.bcc.empty());
  CHECK(mail.subject == "Confirm your Shop & Co new email address");
  const TokenClaims claims = w.MustVerify(token);
  CHECK(claims.type == "emailChange");
  CHECK(claims.sub == w.ada);
  CHECK(claims.email == kAda);
  CHECK(claims.new_email == new_email);
  CHECK(claims.exp.unix_micros() - claims.iat.unix_micros() == 1800 * kSecond);
  // Asking changes nothing yet.
  CHECK(w.StoredText("users", w.ada, "email") == kAda);

  SECTION("the wrong password is refused and the token stays usable") {
    for (std::string_view password : {std::string_view(""), std::string_view("wrong-password-1"),
                                      kBobPassword, std::string_view("velvet-otter-quarry-4")}) {
      INFO(password);
      CheckFieldError(w.emails.ConfirmEmailChange("shop", "users", token, password), "password",
                      "validation_invalid_password");
    }
    CHECK(w.StoredText("users", w.ada, "email") == kAda);
    CHECK(w.StoredText("users", w.ada, "tokenKey") == token_key);
    REQUIRE(w.emails.ConfirmEmailChange("shop", "users", token, kAdaPassword));
    CHECK(w.StoredText("users", w.ada, "email") == new_email);
  }

  SECTION("the right password changes the address, verifies it and ends the sessions") {
    w.clock.Advance(10 * kSecond);
    REQUIRE(w.emails.ConfirmEmailChange("shop", "users", token, kAdaPassword));
    CHECK(w.StoredText("users", w.ada, "email") == new_email);
    CHECK(w.StoredVerified("users", w.ada));
    CHECK(w.StoredText("users", w.ada, "tokenKey") != token_key);
    CHECK(w.PasswordIs("users", w.ada, kAdaPassword));
    auto old_session = w.auth.Identify("shop", auth_token);
    REQUIRE_FALSE(old_session);
    CHECK(old_session.error().code == ErrorCode::kUnauthenticated);
    REQUIRE(w.SignIn(new_email, kAdaPassword));
    CHECK_FALSE(w.SignIn(kAda, kAdaPassword));
    // The token worked once, and the reset mailed to the old address is void.
    CheckBadToken(w.emails.ConfirmEmailChange("shop", "users", token, kAdaPassword));
    CheckBadToken(
        w.emails.ConfirmPasswordReset("shop", "users", reset_token, kNewPassword, kNewPassword));
    CHECK(w.PasswordIs("users", w.ada, kAdaPassword));
  }

  SECTION("a new address taken meanwhile is refused and nothing changes") {
    w.MustCreateAuth("shop", "users", new_email, kNewPassword, {});
    auto confirmed = w.emails.ConfirmEmailChange("shop", "users", token, kAdaPassword);
    CheckFieldError(confirmed, "newEmail", "validation_record_email_invalid");
    CHECK(w.StoredText("users", w.ada, "email") == kAda);
    CHECK(w.StoredText("users", w.ada, "tokenKey") == token_key);
  }

  SECTION("a token whose new address was altered is refused") {
    TokenClaims altered = claims;
    altered.new_email = "eve@example.net";
    // Re-signed with the project's key: only a key holder could do this, and the binding
    // still holds, so the signature is what protects the new address.
    const std::string resigned = w.Resign(altered);
    std::string tampered = token;
    const std::size_t first = token.find('.');
    const std::size_t second = token.find('.', first + 1);
    const std::size_t r_first = resigned.find('.');
    const std::size_t r_second = resigned.find('.', r_first + 1);
    tampered.replace(first + 1, second - first - 1,
                     resigned.substr(r_first + 1, r_second - r_first - 1));
    CheckBadToken(w.emails.ConfirmEmailChange("shop", "users", tampered, kAdaPassword));
    TokenClaims no_new = claims;
    no_new.new_email.clear();
    CheckBadToken(w.emails.ConfirmEmailChange("shop", "users", w.Resign(no_new), kAdaPassword));
    TokenClaims bad_new = claims;
    bad_new.new_email = "not an address";
    CheckBadToken(w.emails.ConfirmEmailChange("shop", "users", w.Resign(bad_new), kAdaPassword));
    CHECK(w.StoredText("users", w.ada, "email") == kAda);
  }

  SECTION("a password reset in between voids the change") {
    REQUIRE(
        w.emails.ConfirmPasswordReset("shop", "users", reset_token, kNewPassword, kNewPassword));
    CheckBadToken(w.emails.ConfirmEmailChange("shop", "users", token, kNewPassword));
    CHECK(w.StoredText("users", w.ada, "email") == kAda);
  }

  SECTION("an expired change token is refused") {
    w.clock.Advance((1800 + 31) * kSecond);
    CheckBadToken(w.emails.ConfirmEmailChange("shop", "users", token, kAdaPassword));
    CHECK(w.StoredText("users", w.ada, "email") == kAda);
  }
}

TEST_CASE("account e-mails: templates fill the record's visible fields, escaped for HTML",
          "[auth][emails]") {
  EmailWorld w;
  const std::string name = "<script>alert('x')</script> & \"co\"";
  auto renamed = w.auth_records.Update("shop", "users", w.ada, Input(Body({{"name", Str(name)}})),
                                       Superuser());
  if (!renamed) FAIL(Describe(renamed.error()));
  w.Configure("users", [](Collection& c) {
    c.auth.reset_password_template.subject = "{APP_NAME}: a new password for {RECORD:name}";
    c.auth.reset_password_template.body =
        "<p>Hi {RECORD:name} ({RECORD:email})</p>"
        "<p>[{RECORD:secret}][{RECORD:password}][{RECORD:tokenKey}][{RECORD:nope}]</p>"
        "<p><a href=\"{APP_URL}/reset/{TOKEN}\">Reset</a></p>";
  });
  const std::string token_key = w.StoredText("users", w.ada, "tokenKey");
  const std::string hash = w.StoredText("users", w.ada, "password");

  REQUIRE(w.emails.RequestPasswordReset("shop", "users", kAda));
  const MailMessage mail = w.mailer.Last();
  INFO(mail.html);
  INFO(mail.text);
  // The subject is text: nothing to escape there.
  CHECK(mail.subject == "Shop & Co: a new password for " + name);
  // The body is HTML: the name cannot add markup.
  CHECK(mail.html.find("<p>Hi &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                       "&quot;co&quot; (ada.lovelace@example.com)</p>") != std::string::npos);
  CHECK(mail.html.find("<script>") == std::string::npos);
  CHECK(mail.text.find("Hi " + name + " (ada.lovelace@example.com)") != std::string::npos);
  // Hidden fields are never filled in, nor are unknown ones.
  CHECK(mail.html.find("[{RECORD:secret}][{RECORD:password}][{RECORD:tokenKey}][{RECORD:nope}]") !=
        std::string::npos);
  for (const std::string& part : {mail.subject, mail.html, mail.text}) {
    CHECK(part.find(kSecret) == std::string::npos);
    CHECK(part.find(token_key) == std::string::npos);
    CHECK(part.find(hash) == std::string::npos);
  }
  SECTION("a value that looks escaped already is escaped once more in the HTML part") {
    w.clock.Advance(121 * kSecond);
    const std::string literal = "Tom &lt;3 &amp; &quot;Jerry&quot;";
    auto renamed_again = w.auth_records.Update("shop", "users", w.ada,
                                               Input(Body({{"name", Str(literal)}})), Superuser());
    if (!renamed_again) FAIL(Describe(renamed_again.error()));
    REQUIRE(w.emails.RequestPasswordReset("shop", "users", kAda));
    const MailMessage again = w.mailer.Last();
    CHECK(again.html.find("Hi Tom &amp;lt;3 &amp;amp; &amp;quot;Jerry&amp;quot; (") !=
          std::string::npos);
  }

  const std::string token = TokenOf(mail, "reset");
  CHECK(mail.html.find("href=\"https://shop.example/reset/" + token + "\"") != std::string::npos);
  REQUIRE(w.emails.ConfirmPasswordReset("shop", "users", token, kNewPassword, kNewPassword));

  SECTION("a record's text is not read as placeholders") {
    w.clock.Advance(121 * kSecond);
    auto sneaky = w.auth_records.Update(
        "shop", "users", w.ada, Input(Body({{"name", Str("{RECORD:tokenKey}{RECORD:secret}")}})),
        Superuser());
    if (!sneaky) FAIL(Describe(sneaky.error()));
    const std::string key_now = w.StoredText("users", w.ada, "tokenKey");
    REQUIRE(w.emails.RequestPasswordReset("shop", "users", kAda));
    const MailMessage again = w.mailer.Last();
    for (const std::string& part : {again.subject, again.html, again.text}) {
      CHECK(part.find(kSecret) == std::string::npos);
      CHECK(part.find(key_now) == std::string::npos);
    }
  }
}

TEST_CASE("account e-mails: superusers reset their password through any project",
          "[auth][emails]") {
  EmailWorld w;
  const std::string token = w.ResetToken(kRoot, "_superusers");
  CHECK(w.mailer.Last().to == std::vector<MailAddress>{{"", std::string(kRoot)}});
  const TokenClaims claims = w.MustVerify(token);
  CHECK(claims.collection_id == kSuperusersCollectionId);
  CHECK(claims.aud == "project:" + w.ProjectId("shop"));

  // The token opens the project it was asked through only.
  CheckBadToken(
      w.emails.ConfirmPasswordReset("other", "_superusers", token, kNewPassword, kNewPassword));
  // Nor is it a users token.
  CheckBadToken(w.emails.ConfirmPasswordReset("shop", "users", token, kNewPassword, kNewPassword));
  REQUIRE(w.emails.ConfirmPasswordReset("shop", "_superusers", token, kNewPassword, kNewPassword));
  REQUIRE(w.SignIn(kRoot, kNewPassword, "_superusers"));
  CHECK_FALSE(w.SignIn(kRoot, kRootPassword, "_superusers"));
  CheckBadToken(
      w.emails.ConfirmPasswordReset("shop", "_superusers", token, kNewPassword, kNewPassword));
}

TEST_CASE("account e-mails: two confirmations of one token at once set one password",
          "[auth][emails]") {
  EmailWorld w;
  const std::string token = w.ResetToken(kAda);
  const std::vector<std::string> passwords = {"first-Racer-31-meadow", "second-Racer-32-meadow",
                                              "third-Racer-33-meadow"};
  std::vector<Result<void>> results(passwords.size());
  {
    std::vector<std::jthread> racers;
    for (std::size_t i = 0; i < passwords.size(); ++i) {
      racers.emplace_back([&, i] {
        results[i] =
            w.emails.ConfirmPasswordReset("shop", "users", token, passwords[i], passwords[i]);
      });
    }
  }
  std::size_t winners = 0;
  std::string winner;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i]) {
      ++winners;
      winner = passwords[i];
    } else {
      CheckBadToken(results[i]);
    }
  }
  REQUIRE(winners == 1);
  // The stored password is the winner's, and only the winner's.
  for (const auto& password : passwords) {
    CHECK(w.PasswordIs("users", w.ada, password) == (password == winner));
  }

  SECTION("the same for an e-mail change") {
    w.clock.Advance(121 * kSecond);
    const Caller ada = w.MustIdentify(w.MustSignIn(kAda, winner));
    const std::string change = w.EmailChangeToken(ada, "ada.raced@example.com");
    std::vector<Result<void>> changes(3);
    {
      std::vector<std::jthread> racers;
      for (auto& result : changes) {
        racers.emplace_back(
            [&] { result = w.emails.ConfirmEmailChange("shop", "users", change, winner); });
      }
    }
    CHECK(std::count_if(changes.begin(), changes.end(),
                        [](const Result<void>& r) { return r.has_value(); }) == 1);
    for (const auto& result : changes) {
      if (!result) CheckBadToken(result);
    }
    CHECK(w.StoredText("users", w.ada, "email") == "ada.raced@example.com");
  }
}
