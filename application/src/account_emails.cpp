#include "socle/application/record_fields.hpp"
#include "socle/application/account_emails.hpp"

#include <utility>
#include <vector>

#include "socle/application/new_id.hpp"
#include "socle/domain/email.hpp"
#include "socle/domain/filter/resolver.hpp"
#include "socle/domain/token_claims.hpp"

namespace socle::application {

using namespace internal;

using domain::Collection;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::JsonValue;
using domain::Record;
using domain::Result;
namespace filter = domain::filter;

struct AccountEmails::Realm {
  std::string project_id;
  std::string org_id;
  /// Whether `store` is the project's own (not the platform's, for _superusers): its chain
  /// records the changes the flows make.
  bool own_store = false;
  std::shared_ptr<ProjectStore> store;
  domain::SchemaPtr schema;
  const Collection* collection = nullptr;
};

namespace {

// The record acting on itself through a mailed token, for the trail.
template <typename Realm>
AuditEntry ChangeBy(const Realm& realm, const std::string& id, std::string action) {
  AuditEntry base;
  base.org_id = realm.org_id;
  base.project_id = realm.project_id;
  base.actor = {domain::AuditActorKind::kAppUser, id};
  base.action = std::move(action);
  return base;
}

}  // namespace

struct AccountEmails::Verified {
  domain::TokenClaims claims;
  Record record;
};

namespace {

constexpr std::string_view kPasswordReset = "passwordReset";
constexpr std::string_view kVerification = "verification";
constexpr std::string_view kEmailChange = "emailChange";

Error InvalidToken(std::string detail) {
  Error error = Error::Field("token", "validation_invalid_token", "Invalid or expired token.");
  error.internal = std::move(detail);
  return error;
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// The template with PocketBase's placeholders filled: {APP_NAME}, {APP_URL}, {TOKEN} and
// {RECORD:<field>} (text fields only; hidden ones never). Values are HTML-escaped in the body.
std::string Fill(std::string text, const domain::MetaSettings& meta, std::string_view token,
                 const Collection& coll, const Record& record, bool html) {
  auto value = [&](std::string_view v) { return html ? EscapeHtml(v) : std::string(v); };
  ReplaceAll(text, "{APP_NAME}", value(meta.app_name));
  ReplaceAll(text, "{APP_URL}", value(meta.app_url));
  ReplaceAll(text, "{TOKEN}", value(token));
  for (std::size_t i = 0; i < coll.fields.size(); ++i) {
    const domain::Field& field = coll.fields[i];
    if (field.hidden) continue;
    const std::string placeholder = "{RECORD:" + field.name + "}";
    if (text.find(placeholder) == std::string::npos) continue;
    const JsonValue& v = record.values[i];
    ReplaceAll(text, placeholder,
               value(v.type() == JsonValue::Type::kString ? v.AsString() : std::string()));
  }
  return text;
}

// A readable text/plain alternative of an HTML template: tags dropped, links kept as URLs.
std::string PlainText(std::string_view html) {
  std::string out;
  bool in_tag = false;
  std::string tag;
  for (char c : html) {
    if (c == '<') {
      in_tag = true;
      tag.clear();
      continue;
    }
    if (in_tag) {
      if (c != '>') {
        tag += c;
        continue;
      }
      in_tag = false;
      const std::size_t href = tag.find("href=\"");
      if (href != std::string::npos) {
        const std::size_t end = tag.find('"', href + 6);
        out += tag.substr(href + 6, end == std::string::npos ? end : end - href - 6) + " ";
      }
      if (tag == "/p" || tag == "br" || tag == "br/" || tag == "br /") out += '\n';
      continue;
    }
    out += c;
  }
  // "&amp;" last: decoding it first would decode an escaped "&lt;" twice.
  for (auto [from, to] : {std::pair{"&lt;", "<"}, std::pair{"&gt;", ">"},
                          std::pair{"&quot;", "\""}, std::pair{"&#39;", "'"},
                          std::pair{"&amp;", "&"}}) {
    ReplaceAll(out, from, to);
  }
  return out;
}

bool IsSuperusers(std::string_view collection) {
  return collection == domain::kSuperusersCollectionName ||
         collection == domain::kSuperusersCollectionId;
}

}  // namespace

AccountEmails::AccountEmails(ProjectDirectory& projects, PlatformStore& platform,
                             ManageSettings& settings, TokenSigner& signer,
                             PasswordHasher& hasher, Mailer& mailer, Clock& clock,
                             RandomSource& random, AuthenticateOptions options,
                             domain::PasswordPolicy policy, std::chrono::seconds resend_interval)
    : projects_(projects),
      platform_(platform),
      settings_(settings),
      signer_(signer),
      hasher_(hasher),
      mailer_(mailer),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      policy_(policy),
      resend_interval_(resend_interval) {}

AuditTrail* AccountEmails::TrailFor(const Realm& realm) const {
  return realm.own_store ? options_.audit : nullptr;
}

Result<AccountEmails::Realm> AccountEmails::Find(std::string_view project,
                                                 std::string_view collection) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  Realm realm;
  realm.project_id = entry->project.id.str();
  realm.org_id = entry->project.org_id.str();
  if (IsSuperusers(collection)) {
    auto store = platform_.Store();
    if (!store) return std::unexpected(std::move(store.error()));
    realm.store = std::move(*store);
  } else {
    realm.store = entry->store;
    realm.own_store = true;
  }
  auto schema = realm.store->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  realm.schema = std::move(*schema);
  realm.collection = IsSuperusers(collection)
                         ? realm.schema->FindById(domain::kSuperusersCollectionId)
                         : realm.schema->Find(collection);
  if (realm.collection == nullptr || realm.collection->type != domain::CollectionType::kAuth) {
    return Fail(ErrorCode::kNotFound, "Missing or invalid auth collection context.");
  }
  return realm;
}

Result<std::optional<Record>> AccountEmails::ByEmail(const Realm& realm, std::string_view email) {
  auto where = CompareField(realm.schema, *realm.collection, "email", "=", email);
  if (!where) return std::unexpected(std::move(where.error()));
  RecordQuery query;
  query.where = &*where;
  query.limit = 1;
  query.count_total = false;
  auto page = realm.store->Query(*realm.collection, query);
  if (!page) return std::unexpected(std::move(page.error()));
  if (page->items.empty()) return std::optional<Record>();
  return std::optional<Record>(std::move(page->items.front()));
}

std::string AccountEmails::Binding(const Collection& coll, const Record& record) {
  // The e-mail is part of the binding: a token sent to an address stops working once the
  // record's address is another.
  return signer_.Bind(Text(coll, record, "tokenKey") + '\0' + Text(coll, record, "email"));
}

Result<std::string> AccountEmails::Mint(const Realm& realm, const Record& record,
                                        std::string_view type, std::int64_t seconds,
                                        std::string_view email, std::string_view new_email) {
  const Collection& coll = *realm.collection;
  const domain::Timestamp now = clock_.Now();
  domain::TokenClaims claims;
  claims.iss = options_.issuer;
  claims.sub = record.Id(coll);
  claims.aud = "project:" + realm.project_id;
  claims.jti = NewId(random_).str() + NewId(random_).str();
  claims.collection_id = coll.id;
  claims.type = std::string(type);
  claims.iat = now;
  claims.exp = domain::Timestamp::FromUnixMicros(now.unix_micros() + seconds * 1'000'000);
  claims.key_binding = Binding(coll, record);
  claims.email = std::string(email);
  claims.new_email = std::string(new_email);
  return signer_.Sign(claims);
}

Result<AccountEmails::Verified> AccountEmails::Check(const Realm& realm, std::string_view token,
                                                     std::string_view type) {
  if (token.empty()) {
    return Fail(Error::Field("token", "validation_required", "Cannot be blank."));
  }
  auto claims = signer_.Verify(token);
  if (!claims) return std::unexpected(InvalidToken(claims.error().internal));
  domain::VerifyPolicy policy;
  policy.expected_aud = "project:" + realm.project_id;
  policy.expected_iss = options_.issuer;
  policy.max_skew = options_.max_skew;
  if (auto valid = domain::CheckClaims(*claims, policy, clock_.Now()); !valid) {
    return std::unexpected(InvalidToken(valid.error().internal));
  }
  if (claims->type != type || claims->collection_id != realm.collection->id) {
    return std::unexpected(InvalidToken("another kind of token"));
  }
  auto record = realm.store->Get(*realm.collection, claims->sub, nullptr);
  if (!record) return std::unexpected(std::move(record.error()));
  if (!*record) return std::unexpected(InvalidToken("the record is gone"));
  if (!ConstantTimeEquals(claims->key_binding, Binding(*realm.collection, **record))) {
    return std::unexpected(InvalidToken("used, or the password or e-mail changed since"));
  }
  return Verified{std::move(*claims), std::move(**record)};
}

bool AccountEmails::Allowed(std::string_view kind, const Realm& realm, std::string_view email) {
  std::string key = std::string(kind) + ":" + realm.project_id + "/" + realm.collection->id + "/";
  for (char c : email) key += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  domain::BucketSpec spec;
  spec.max_requests = 1;
  spec.duration = resend_interval_;
  return resends_.Take(key, spec, clock_.Now()).allowed;
}

Result<void> AccountEmails::Send(const Realm& realm, std::string_view project,
                                 const domain::MailTemplate& tmpl, const Record& record,
                                 std::string_view to, std::string_view token) {
  auto settings = settings_.Get(project);
  if (!settings) return std::unexpected(std::move(settings.error()));
  const domain::MetaSettings& meta = settings->meta;
  MailMessage message;
  message.from = {meta.sender_name, meta.sender_address};
  message.to = {{"", std::string(to)}};
  message.subject = Fill(tmpl.subject, meta, token, *realm.collection, record, false);
  message.html = Fill(tmpl.body, meta, token, *realm.collection, record, true);
  message.text = PlainText(message.html);
  return mailer_.Send(message);
}

Result<void> AccountEmails::RequestPasswordReset(std::string_view project,
                                                 std::string_view collection,
                                                 std::string_view email) {
  if (!domain::Email::Parse(email)) {
    return Fail(Error::Field("email", "validation_is_email", "Must be a valid email address."));
  }
  auto realm = Find(project, collection);
  if (!realm) return std::unexpected(std::move(realm.error()));
  auto record = ByEmail(*realm, email);
  if (!record) return std::unexpected(std::move(record.error()));
  if (!*record || !Allowed(kPasswordReset, *realm, email)) return {};
  auto token = Mint(*realm, **record, kPasswordReset,
                    realm->collection->auth.password_reset_token_duration, email, "");
  if (!token) return std::unexpected(std::move(token.error()));
  // A mailer's refusal (a full queue) must not answer differently from an unknown address:
  // that would tell who has an account. The mailer reports its own failures.
  (void)Send(*realm, project, realm->collection->auth.reset_password_template, **record, email,
             *token);
  return {};
}

Result<void> AccountEmails::ConfirmPasswordReset(std::string_view project,
                                                 std::string_view collection,
                                                 std::string_view token,
                                                 std::string_view password,
                                                 std::string_view password_confirm) {
  auto realm = Find(project, collection);
  if (!realm) return std::unexpected(std::move(realm.error()));
  auto verified = Check(*realm, token, kPasswordReset);
  if (!verified) return std::unexpected(std::move(verified.error()));
  const Collection& coll = *realm->collection;

  std::vector<domain::FieldError> errors;
  domain::PasswordPolicy policy = policy_;
  if (const domain::Field* field = coll.FindField("password"); field != nullptr && field->min &&
                                                               *field->min > 0) {
    policy.min_length = std::max(policy.min_length, static_cast<std::size_t>(*field->min));
  }
  const std::string email = Text(coll, verified->record, "email");
  std::string_view parts[] = {email};
  if (auto ok = domain::CheckPassword(password, policy, parts); !ok) {
    for (auto& field : ok.error().fields) errors.push_back(std::move(field));
  }
  if (password_confirm != password) {
    errors.push_back({"passwordConfirm", "validation_values_mismatch", "Values don't match."});
  }
  if (!errors.empty()) {
    return std::unexpected(Error::Fields(std::move(errors)));
  }
  auto hash = hasher_.Hash(password);
  if (!hash) return std::unexpected(std::move(hash.error()));
  const std::string id = verified->record.Id(coll);
  const std::string binding = verified->claims.key_binding;
  return WriteAudited(*realm->store, TrailFor(*realm), ChangeBy(*realm, id, "auth.confirm_password_reset"),
                      [&](RecordTransaction& tx) -> Result<void> {
    auto current = tx.Find(coll, id);
    if (!current) return std::unexpected(std::move(current.error()));
    // Checked again under the write lock: two confirmations of one token set one password.
    if (!*current || !ConstantTimeEquals(Binding(coll, **current), binding)) {
      return std::unexpected(InvalidToken("used concurrently"));
    }
    Record record = std::move(**current);
    Set(coll, record, "password", JsonValue::String(*hash));
    Set(coll, record, "tokenKey", JsonValue::String(NewTokenKey(random_)));
    // The mail reached its address: that proves it as a verification would.
    if (verified->claims.email == Text(coll, record, "email")) {
      Set(coll, record, "verified", JsonValue::Bool(true));
    }
    Set(coll, record, "updated", JsonValue::String(clock_.Now().ToApiString()));
    return tx.Update(coll, record);
  });
}

Result<void> AccountEmails::RequestVerification(std::string_view project,
                                                std::string_view collection,
                                                std::string_view email) {
  if (!domain::Email::Parse(email)) {
    return Fail(Error::Field("email", "validation_is_email", "Must be a valid email address."));
  }
  auto realm = Find(project, collection);
  if (!realm) return std::unexpected(std::move(realm.error()));
  auto record = ByEmail(*realm, email);
  if (!record) return std::unexpected(std::move(record.error()));
  if (!*record || Flag(*realm->collection, **record, "verified") ||
      !Allowed(kVerification, *realm, email)) {
    return {};
  }
  auto token = Mint(*realm, **record, kVerification,
                    realm->collection->auth.verification_token_duration, email, "");
  if (!token) return std::unexpected(std::move(token.error()));
  (void)Send(*realm, project, realm->collection->auth.verification_template, **record, email,
             *token);  // as for a reset: no answer that depends on the account
  return {};
}

Result<void> AccountEmails::ConfirmVerification(std::string_view project,
                                                std::string_view collection,
                                                std::string_view token) {
  auto realm = Find(project, collection);
  if (!realm) return std::unexpected(std::move(realm.error()));
  auto verified = Check(*realm, token, kVerification);
  if (!verified) return std::unexpected(std::move(verified.error()));
  const Collection& coll = *realm->collection;
  if (verified->claims.email != Text(coll, verified->record, "email")) {
    return std::unexpected(InvalidToken("sent to another address"));
  }
  if (Flag(coll, verified->record, "verified")) return {};
  const std::string id = verified->record.Id(coll);
  return WriteAudited(*realm->store, TrailFor(*realm), ChangeBy(*realm, id, "auth.confirm_verification"),
                      [&](RecordTransaction& tx) -> Result<void> {
    auto current = tx.Find(coll, id);
    if (!current) return std::unexpected(std::move(current.error()));
    if (!*current) return std::unexpected(InvalidToken("the record is gone"));
    Record record = std::move(**current);
    Set(coll, record, "verified", JsonValue::Bool(true));
    Set(coll, record, "updated", JsonValue::String(clock_.Now().ToApiString()));
    return tx.Update(coll, record);
  });
}

Result<void> AccountEmails::RequestEmailChange(std::string_view project,
                                               std::string_view collection, const Caller& caller,
                                               std::string_view new_email) {
  if (!caller.request.auth || caller.request.auth->collection == nullptr) {
    return Fail(ErrorCode::kUnauthenticated,
                "The request requires valid record authorization token.");
  }
  auto realm = Find(project, collection);
  if (!realm) return std::unexpected(std::move(realm.error()));
  if (caller.request.auth->collection->id != realm->collection->id) {
    return Fail(ErrorCode::kPermissionDenied,
                "The token does not belong to a record of this collection.");
  }
  if (!domain::Email::Parse(new_email)) {
    return Fail(Error::Field("newEmail", "validation_is_email", "Must be a valid email address."));
  }
  auto taken = ByEmail(*realm, new_email);
  if (!taken) return std::unexpected(std::move(taken.error()));
  if (*taken) {
    return Fail(Error::Field("newEmail", "validation_record_email_invalid",
                             "User email already exists or it is invalid."));
  }
  const Collection& coll = *realm->collection;
  auto record = realm->store->Get(coll, caller.request.auth->record.Id(coll), nullptr);
  if (!record) return std::unexpected(std::move(record.error()));
  if (!*record) {
    return Fail(ErrorCode::kUnauthenticated,
                "The request requires valid record authorization token.");
  }
  const std::string current_email = Text(coll, **record, "email");
  auto token = Mint(*realm, **record, kEmailChange, coll.auth.email_change_token_duration,
                    current_email, new_email);
  if (!token) return std::unexpected(std::move(token.error()));
  return Send(*realm, project, coll.auth.confirm_email_change_template, **record, new_email,
              *token);
}

Result<void> AccountEmails::ConfirmEmailChange(std::string_view project,
                                               std::string_view collection,
                                               std::string_view token,
                                               std::string_view password) {
  auto realm = Find(project, collection);
  if (!realm) return std::unexpected(std::move(realm.error()));
  auto verified = Check(*realm, token, kEmailChange);
  if (!verified) return std::unexpected(std::move(verified.error()));
  const Collection& coll = *realm->collection;
  if (verified->claims.new_email.empty() || !domain::Email::Parse(verified->claims.new_email)) {
    return std::unexpected(InvalidToken("no new address"));
  }
  // The password is the last barrier for someone holding a stolen session and a mailbox of
  // their own: a few tries per record per quarter hour, not an unthrottled oracle.
  domain::BucketSpec tries;
  tries.max_requests = 5;
  tries.duration = std::chrono::minutes(15);
  const auto allowed = resends_.Take("confirm-email-change:" + realm->project_id + "/" +
                                         coll.id + "/" + verified->record.Id(coll),
                                     tries, clock_.Now());
  if (!allowed.allowed) {
    Error error = Error::Make(ErrorCode::kResourceExhausted,
                              "Too many failed attempts; try again later.");
    error.retry_after_seconds = std::max<std::int64_t>(1, allowed.retry_after.count());
    return std::unexpected(std::move(error));
  }
  const std::string hash = Text(coll, verified->record, "password");
  auto matches = hash.empty() || password.empty() ? Result<bool>(false)
                                                  : hasher_.Verify(password, hash);
  if (!matches || !*matches) {
    return Fail(Error::Field("password", "validation_invalid_password",
                             "Missing or invalid auth record password."));
  }
  const std::string id = verified->record.Id(coll);
  const std::string binding = verified->claims.key_binding;
  const std::string new_email = verified->claims.new_email;
  return WriteAudited(*realm->store, TrailFor(*realm), ChangeBy(*realm, id, "auth.confirm_email_change"),
                      [&](RecordTransaction& tx) -> Result<void> {
    auto current = tx.Find(coll, id);
    if (!current) return std::unexpected(std::move(current.error()));
    if (!*current || !ConstantTimeEquals(Binding(coll, **current), binding)) {
      return std::unexpected(InvalidToken("used concurrently"));
    }
    Record record = std::move(**current);
    Set(coll, record, "email", JsonValue::String(new_email));
    Set(coll, record, "verified", JsonValue::Bool(true));
    Set(coll, record, "tokenKey", JsonValue::String(NewTokenKey(random_)));
    Set(coll, record, "updated", JsonValue::String(clock_.Now().ToApiString()));
    auto updated = tx.Update(coll, record);
    if (!updated && !updated.error().fields.empty()) {
      return Fail(Error::Field("newEmail", "validation_record_email_invalid",
                               "User email already exists or it is invalid."));
    }
    return updated;
  });
}

}  // namespace socle::application
