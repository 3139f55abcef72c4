#include "socle/application/record_fields.hpp"
#include "socle/application/platform_sessions.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <utility>

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
using domain::Timestamp;
namespace filter = domain::filter;

/// The platform store and its two collections, as one schema snapshot shows them.
struct PlatformSessions::Tables {
  std::shared_ptr<ProjectStore> store;
  domain::SchemaPtr schema;
  const Collection* members = nullptr;
  const Collection* sessions = nullptr;
};

namespace {

constexpr std::string_view kFailed = "Failed to authenticate.";
constexpr std::string_view kBadAccess = "The request requires valid authorization token.";
constexpr std::string_view kBadRefresh = "The refresh token is not valid.";
constexpr std::string_view kRefreshPrefix = "rt_";
// NewTokenKey's length: a well-formed refresh token is exactly the prefix and that many
// characters, so anything else is refused before it costs a lookup.
constexpr std::size_t kRefreshKeyLength = 50;
constexpr std::size_t kMaxNameLength = 255;
constexpr std::size_t kMaxUserAgentLength = 512;
constexpr std::size_t kMaxAddressLength = 64;
constexpr std::int64_t kPageSize = 500;
constexpr std::int64_t kMicrosPerSecond = 1'000'000;

Error Unauthenticated(std::string_view message, std::string detail) {
  Error error = Error::Make(ErrorCode::kUnauthenticated, std::string(message));
  error.internal = std::move(detail);
  return error;
}

Timestamp Plus(Timestamp at, std::chrono::seconds duration) {
  return Timestamp::FromUnixMicros(at.unix_micros() + duration.count() * kMicrosPerSecond);
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t CodePoints(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !IsContinuation(c); }));
}

// The first `max` code points of `text`: client-supplied descriptions are kept, cut to what
// the column holds, rather than refusing a sign-in over a long User-Agent.
std::string Clip(std::string_view text, std::size_t max) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (IsContinuation(text[i])) continue;
    if (seen == max) return std::string(text.substr(0, i));
    ++seen;
  }
  return std::string(text);
}

bool WellFormedRefreshToken(std::string_view token) {
  if (!token.starts_with(kRefreshPrefix)) return false;
  const std::string_view key = token.substr(kRefreshPrefix.size());
  return key.size() == kRefreshKeyLength &&
         std::all_of(key.begin(), key.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

// A filter `field = value` over one collection; the value reaches the query as a value of the
// request, never as filter text. `field` is one of this file's constants.
// Every record matching `where`, page by page, through a store or a transaction.
template <typename Source>
Result<std::vector<Record>> QueryAll(Source& source, const Collection& c,
                                     const filter::ResolvedFilter* where) {
  std::vector<Record> out;
  for (std::int64_t offset = 0;; offset += kPageSize) {
    RecordQuery query;
    query.where = where;
    query.offset = offset;
    query.limit = kPageSize;
    query.count_total = false;
    auto page = source.Query(c, query);
    if (!page) return std::unexpected(std::move(page.error()));
    const bool last = static_cast<std::int64_t>(page->items.size()) < kPageSize;
    for (auto& record : page->items) out.push_back(std::move(record));
    if (last) return out;
  }
}

MemberInfo Describe(const Collection& members, const Record& member) {
  return {member.Id(members), Text(members, member, "email"), Text(members, member, "name"), ""};
}

// `_members` as the trail describes it: the same, with the e-mail personal, so that its values
// go to the event's erasable part rather than into the chain (the collection keeps the fields
// of any auth collection, none of them marked personal). Stores write records by the
// collection's id and fields, which are the same; queries keep using the stored collection,
// which their filters were compiled against.
Collection WithPersonalEmail(Collection collection) {
  for (auto& field : collection.fields) {
    if (field.name == "email") field.pii = "email";
  }
  return collection;
}

AuditActor MemberActor(std::string id) {
  return {domain::AuditActorKind::kMember, std::move(id)};
}

// Whoever presents something that proves no one: a failed sign-in, a reused refresh token.
AuditActor Guest() { return {domain::AuditActorKind::kGuest, {}}; }

// An event of the sessions: who, from where (the client's address and user agent, cut as the
// session rows cut them, go to the event's erasable actor part), what.
AuditEntry SessionEvent(std::string action, AuditActor actor, const ClientInfo& client,
                        std::string_view request_id) {
  AuditEntry event;
  event.actor = std::move(actor);
  event.action = std::move(action);
  event.origin.request_id = std::string(request_id);
  event.origin.client_address = Clip(client.address, kMaxAddressLength);
  event.origin.user_agent = Clip(client.user_agent, kMaxUserAgentLength);
  return event;
}

void TargetMember(AuditEntry& event, std::string member_id) {
  event.target_kind = "record";
  event.target_collection = std::string(PlatformStore::kMembersCollectionId);
  event.target_id = std::move(member_id);
}

// A session is a family of `_sessions` rows, named by the family's id (PlatformSession::id).
void TargetSession(AuditEntry& event, std::string family) {
  event.target_kind = "session";
  event.target_id = std::move(family);
}

// What an event shows of its target, as a creation shows it: these aspects, no secret among
// them.
domain::AuditDiff Shows(std::vector<JsonValue::Member> aspects) {
  return domain::DiffAspectsForAudit(nullptr, &aspects);
}

}  // namespace

PlatformSessions::PlatformSessions(PlatformStore& platform, TokenSigner& signer,
                                   PasswordHasher& hasher, Clock& clock, RandomSource& random,
                                   domain::LoginThrottle& identities,
                                   domain::LoginThrottle* addresses,
                                   PlatformSessionsOptions options, domain::PasswordPolicy policy,
                                   AuditTrail* trail)
    : platform_(platform),
      signer_(signer),
      hasher_(hasher),
      clock_(clock),
      random_(random),
      identities_(identities),
      addresses_(addresses),
      options_(std::move(options)),
      policy_(policy),
      trail_(trail) {
  // A hash of a random password under the current policy: verifying an unknown e-mail against
  // it costs what verifying a real member costs.
  std::array<std::uint8_t, 16> bytes{};
  random_.Fill(bytes);
  std::string password(bytes.begin(), bytes.end());
  if (auto hash = hasher_.Hash(password)) dummy_hash_ = std::move(*hash);
}

Result<PlatformSessions::Tables> PlatformSessions::Open() {
  Tables tables;
  auto store = platform_.Store();
  if (!store) return std::unexpected(std::move(store.error()));
  tables.store = std::move(*store);
  auto schema = tables.store->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  tables.schema = std::move(*schema);
  tables.members = tables.schema->FindById(PlatformStore::kMembersCollectionId);
  tables.sessions = tables.schema->FindById(PlatformStore::kSessionsCollectionId);
  if (tables.members == nullptr || tables.sessions == nullptr) {
    return Fail(Error::Internal("the platform members or sessions collection is missing"));
  }
  return tables;
}

Result<std::vector<Record>> PlatformSessions::SessionRows(const Tables& tables,
                                                          std::string_view field,
                                                          std::string_view value) {
  auto where = CompareField(tables.schema, *tables.sessions, field, "=", value);
  if (!where) return std::unexpected(std::move(where.error()));
  return QueryAll(*tables.store, *tables.sessions, &*where);
}

Result<std::optional<Record>> PlatformSessions::MemberByEmail(const Tables& tables,
                                                              std::string_view email) {
  auto by_email = CompareField(tables.schema, *tables.members, "email", "=", email);
  if (!by_email) return std::unexpected(std::move(by_email.error()));
  RecordQuery query;
  query.where = &*by_email;
  query.limit = 1;
  query.count_total = false;
  auto page = tables.store->Query(*tables.members, query);
  if (!page) return std::unexpected(std::move(page.error()));
  if (page->items.empty()) return std::optional<Record>{};
  return std::optional<Record>(std::move(page->items.front()));
}

Result<void> PlatformSessions::RevokeFamily(const Tables& tables, std::string_view family,
                                            const AuditEntry* event, bool even_unchanged) {
  auto where = CompareField(tables.schema, *tables.sessions, "family", "=", family);
  if (!where) return std::unexpected(std::move(where.error()));
  const Collection& c = *tables.sessions;
  const std::string now = clock_.Now().ToApiString();
  // The rows' own changes are not recorded one by one: the family's event says what happened
  // to the session, once, whatever number of rows it had.
  return tables.store->Write([&](RecordTransaction& tx) -> Result<void> {
    auto rows = QueryAll(tx, c, &*where);
    if (!rows) return std::unexpected(std::move(rows.error()));
    bool revoked = false;
    for (Record& row : *rows) {
      if (!Text(c, row, "revoked").empty()) continue;
      Set(c, row, "revoked", JsonValue::String(now));
      Set(c, row, "updated", JsonValue::String(now));
      if (auto updated = tx.Update(c, row); !updated) return updated;
      revoked = true;
    }
    if (trail_ == nullptr || event == nullptr || (!revoked && !even_unchanged)) return {};
    return trail_->Append(tx, *event);
  });
}

Result<void> PlatformSessions::WriteWithEvent(
    ProjectStore& store, const AuditEntry& event,
    const std::function<Result<void>(RecordTransaction&)>& work) {
  return store.Write([&](RecordTransaction& tx) -> Result<void> {
    if (auto done = work(tx); !done) return done;
    return trail_ != nullptr ? trail_->Append(tx, event) : Result<void>{};
  });
}

void PlatformSessions::RecordAttempt(const AuditEntry& event) {
  if (trail_ == nullptr) return;
  auto store = platform_.Store();
  if (store) (void)trail_->Record(**store, event);
}

void PlatformSessions::VerifyDummy(std::string_view password) {
  if (!dummy_hash_.empty()) (void)hasher_.Verify(password, dummy_hash_);
}

Result<MemberUpsert> PlatformSessions::UpsertMember(std::string_view email_text,
                                                    std::string_view password,
                                                    std::string_view name,
                                                    const AuditContext& context) {
  std::vector<domain::FieldError> errors;
  if (!domain::Email::Parse(email_text)) {
    errors.push_back({"email", "validation_is_email", "Must be a valid email address."});
  }
  const std::string address(email_text);
  std::string_view parts[] = {address};
  if (auto ok = domain::CheckPassword(password, policy_, parts); !ok) {
    for (auto& field : ok.error().fields) errors.push_back(std::move(field));
    if (ok.error().fields.empty()) {
      errors.push_back({"password", "validation_invalid_password", ok.error().message});
    }
  }
  if (CodePoints(name) > kMaxNameLength) {
    errors.push_back({"name", "validation_max_text_constraint",
                      "Must be no more than 255 character(s)."});
  }
  if (!errors.empty()) {
    return std::unexpected(Error::Fields(std::move(errors)));
  }
  auto hash = hasher_.Hash(password);
  if (!hash) return std::unexpected(std::move(hash.error()));

  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  const Collection& members = *tables->members;
  const Collection audited_members = WithPersonalEmail(members);
  const Collection& sessions = *tables->sessions;
  auto by_email = CompareField(tables->schema, members, "email", "=", address);
  if (!by_email) return std::unexpected(std::move(by_email.error()));

  AuditEntry base;
  base.actor = context.actor;
  base.origin = context.origin;
  base.action = "member.upsert";
  MemberUpsert result;
  const std::string now = clock_.Now().ToApiString();
  // The member's record and the sessions a new password revokes are each recorded (as
  // member.upsert): the password hash and the tokenKey show only as changed.
  auto written = WriteAudited(*tables->store, trail_, base,
                              [&](RecordTransaction& tx) -> Result<void> {
    RecordQuery query;
    query.where = &*by_email;
    query.limit = 1;
    query.count_total = false;
    auto page = tx.Query(members, query);
    if (!page) return std::unexpected(std::move(page.error()));
    if (!page->items.empty()) {
      Record record = std::move(page->items.front());
      Set(members, record, "password", JsonValue::String(*hash));
      Set(members, record, "tokenKey", JsonValue::String(NewTokenKey(random_)));
      if (!name.empty()) Set(members, record, "name", JsonValue::String(std::string(name)));
      Set(members, record, "updated", JsonValue::String(now));
      result = {record.Id(members), false};
      if (auto updated = tx.Update(audited_members, record); !updated) return updated;
      // A new password ends every session in the same transaction: whoever held the old one
      // may hold a refresh token too.
      auto by_member = CompareField(tables->schema, sessions, "member", "=", result.id);
      if (!by_member) return std::unexpected(std::move(by_member.error()));
      auto rows = QueryAll(tx, sessions, &*by_member);
      if (!rows) return std::unexpected(std::move(rows.error()));
      for (Record& row : *rows) {
        if (!Text(sessions, row, "revoked").empty()) continue;
        Set(sessions, row, "revoked", JsonValue::String(now));
        Set(sessions, row, "updated", JsonValue::String(now));
        if (auto revoked = tx.Update(sessions, row); !revoked) return revoked;
      }
      return {};
    }
    Record record = domain::EmptyRecord(members);
    result = {NewId(random_).str(), true};
    Set(members, record, "id", JsonValue::String(result.id));
    Set(members, record, "email", JsonValue::String(address));
    Set(members, record, "password", JsonValue::String(*hash));
    Set(members, record, "tokenKey", JsonValue::String(NewTokenKey(random_)));
    Set(members, record, "verified", JsonValue::Bool(true));
    Set(members, record, "name", JsonValue::String(std::string(name)));
    Set(members, record, "created", JsonValue::String(now));
    Set(members, record, "updated", JsonValue::String(now));
    return tx.Insert(audited_members, record);
  });
  if (!written) return std::unexpected(std::move(written.error()));
  return result;
}

Result<PlatformTokens> PlatformSessions::Issue(const Tables& tables, const Record& member,
                                               std::string refresh_token, std::string role) {
  const Collection& members = *tables.members;
  const Timestamp now = clock_.Now();
  domain::TokenClaims claims;
  claims.iss = options_.issuer;
  claims.sub = member.Id(members);
  claims.aud = std::string(kAudience);
  claims.jti = NewId(random_).str() + NewId(random_).str();
  claims.collection_id = members.id;
  claims.type = "access";
  claims.iat = now;
  claims.exp = Plus(now, options_.access_lifetime);
  claims.key_binding = signer_.Bind(Text(members, member, "tokenKey"));
  claims.role = role;
  auto token = signer_.Sign(claims);
  if (!token) return std::unexpected(std::move(token.error()));
  PlatformTokens tokens;
  tokens.access_token = std::move(*token);
  tokens.refresh_token = std::move(refresh_token);
  tokens.expires_in = options_.access_lifetime.count();
  tokens.member = Describe(members, member);
  tokens.member.active_role = std::move(role);
  return tokens;
}

Result<PlatformTokens> PlatformSessions::Login(std::string_view email, std::string_view password,
                                               const ClientInfo& client,
                                               std::string_view request_id) {
  const Timestamp now = clock_.Now();
  // Throttled by what was typed, whether or not it names a member.
  const std::string identity_key = "member:" + Lower(email);
  const std::string address_key = "ip:" + client.address;
  domain::LoginThrottle& addresses = addresses_ != nullptr ? *addresses_ : identities_;
  auto log = [&](std::string_view outcome, std::string record_id) {
    if (options_.sign_in_log == nullptr) return;
    // Best effort: a log that cannot be written must not stop sign-ins.
    (void)options_.sign_in_log->Record({"platform", std::string(PlatformStore::kMembersCollectionId),
                                        std::string(email), std::move(record_id),
                                        std::string(outcome), client.address, client.user_agent,
                                        now});
  };
  // A refused sign-in proves no one: a guest acts, on the member the e-mail named if it named
  // one. What was typed (e-mail, password) stays out of the trail; the sign-in log has the
  // e-mail.
  auto record_denied = [&](const std::string& member_id) {
    AuditEntry event = SessionEvent("auth.sign_in", Guest(), client, request_id);
    event.outcome = domain::AuditOutcome::kDenied;
    if (!member_id.empty()) TargetMember(event, member_id);
    RecordAttempt(event);
  };
  if (auto open = CheckSignInThrottles(identities_, addresses, identity_key, address_key, now);
      !open) {
    log("locked", "");
    record_denied("");
    return std::unexpected(std::move(open.error()));
  }
  if (email.empty() || password.empty()) {
    Error error = Error::Make(ErrorCode::kInvalidArgument, std::string(kFailed));
    if (email.empty()) error.fields.push_back({"email", "validation_required", "Cannot be blank."});
    if (password.empty()) {
      error.fields.push_back({"password", "validation_required", "Cannot be blank."});
    }
    return std::unexpected(std::move(error));
  }
  std::string attempted_record;
  auto failed = [&](std::string detail) {
    identities_.RecordFailure(identity_key, now);
    addresses.RecordFailure(address_key, now);
    log("failure", attempted_record);
    record_denied(attempted_record);
    Error error = Error::Make(ErrorCode::kInvalidArgument, std::string(kFailed));
    error.internal = std::move(detail);
    return std::unexpected(std::move(error));
  };

  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  const Collection& members = *tables->members;
  auto found = MemberByEmail(*tables, email);
  if (!found) return std::unexpected(std::move(found.error()));
  if (!*found) {
    VerifyDummy(password);
    return failed("unknown member");
  }
  Record member = std::move(**found);
  attempted_record = member.Id(members);
  const std::string hash = Text(members, member, "password");
  auto verified = hash.empty() ? Result<bool>(false) : hasher_.Verify(password, hash);
  if (!verified) {
    if (verified.error().code == ErrorCode::kInvalidArgument) return failed("unusable stored hash");
    return std::unexpected(std::move(verified.error()));
  }
  if (!*verified) return failed("wrong password");
  identities_.RecordSuccess(identity_key, now);
  log("success", attempted_record);

  // A hash made under an older, weaker policy is replaced now that the password is known. The
  // tokenKey stays: the password did not change. Best effort: signing in does not depend on it.
  const std::string member_id = member.Id(members);
  if (hasher_.NeedsRehash(hash)) {
    if (auto fresh = hasher_.Hash(password)) {
      const Collection audited_members = WithPersonalEmail(members);
      const AuditEntry rehash =
          SessionEvent("auth.rehash", MemberActor(member_id), client, request_id);
      (void)WriteAudited(*tables->store, trail_, rehash,
                         [&](RecordTransaction& tx) -> Result<void> {
        auto current = tx.Find(members, member_id);
        if (!current || !*current || Text(members, **current, "password") != hash) return {};
        Set(members, **current, "password", JsonValue::String(*fresh));
        return tx.Update(audited_members, **current);
      });
    }
  }

  const Collection& sessions = *tables->sessions;
  std::string refresh_token = std::string(kRefreshPrefix) + NewTokenKey(random_);
  Record row = domain::EmptyRecord(sessions);
  const std::string at = now.ToApiString();
  Set(sessions, row, "id", JsonValue::String(NewId(random_).str()));
  Set(sessions, row, "member", JsonValue::String(member_id));
  const std::string family = NewId(random_).str();
  Set(sessions, row, "family", JsonValue::String(family));
  Set(sessions, row, "binding", JsonValue::String(signer_.Bind(refresh_token)));
  Set(sessions, row, "userAgent", JsonValue::String(Clip(client.user_agent, kMaxUserAgentLength)));
  Set(sessions, row, "address", JsonValue::String(Clip(client.address, kMaxAddressLength)));
  Set(sessions, row, "started", JsonValue::String(at));
  Set(sessions, row, "expires",
      JsonValue::String(Plus(now, options_.refresh_lifetime).ToApiString()));
  Set(sessions, row, "created", JsonValue::String(at));
  Set(sessions, row, "updated", JsonValue::String(at));
  // The session starts with its sign-in's event, or not at all. The row itself is not recorded
  // field by field: its binding is a secret and its client description is personal, and the
  // event already carries the session's id and, in its erasable part, the client.
  AuditEntry event = SessionEvent("auth.sign_in", MemberActor(member_id), client, request_id);
  TargetMember(event, member_id);
  event.diff = Shows({{"session", JsonValue::String(family)}});
  auto inserted = WriteWithEvent(*tables->store, event,
                                 [&](RecordTransaction& tx) { return tx.Insert(sessions, row); });
  if (!inserted) return std::unexpected(std::move(inserted.error()));
  return Issue(*tables, member, std::move(refresh_token));
}

Result<PlatformTokens> PlatformSessions::Refresh(std::string_view refresh_token,
                                                 const ClientInfo& client) {
  return Refresh(refresh_token, client, std::nullopt);
}

Result<PlatformTokens> PlatformSessions::Refresh(std::string_view refresh_token,
                                                 const ClientInfo& client,
                                                 std::optional<std::string> role,
                                                 std::string_view expected_member,
                                                 std::string_view request_id) {
  if (!WellFormedRefreshToken(refresh_token)) {
    return std::unexpected(Unauthenticated(kBadRefresh, "malformed refresh token"));
  }
  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  const Collection& sessions = *tables->sessions;
  auto rows = SessionRows(*tables, "binding", signer_.Bind(refresh_token));
  if (!rows) return std::unexpected(std::move(rows.error()));
  if (rows->empty()) return std::unexpected(Unauthenticated(kBadRefresh, "unknown refresh token"));
  const Record& row = rows->front();
  const std::string row_id = row.Id(sessions);
  const std::string family = Text(sessions, row, "family");
  const std::string member_id = Text(sessions, row, "member");
  if (!expected_member.empty() && member_id != expected_member) {
    // Someone else's session: not theirs to switch, and nothing about it is told.
    return std::unexpected(Unauthenticated(kBadRefresh, "a refresh token of another member"));
  }
  const std::string next_role = role ? *role : Text(sessions, row, "role");
  const Timestamp now = clock_.Now();

  auto reused = [&](std::string detail, std::string action) -> Result<PlatformTokens> {
    // Someone presents a token that was already exchanged: either its holder or whoever holds
    // its successor is not the member. Neither can be told apart, so the session ends — with
    // its event, in the same transaction, even should the family be revoked already: the
    // attempt is what the trail must show. Who presented it is not known: a guest.
    AuditEntry event = SessionEvent(std::move(action), Guest(), client, request_id);
    event.outcome = domain::AuditOutcome::kDenied;
    TargetSession(event, family);
    event.diff = Shows({{"member", JsonValue::String(member_id)}});
    if (auto revoked = RevokeFamily(*tables, family, &event, true); !revoked) {
      return std::unexpected(std::move(revoked.error()));
    }
    return std::unexpected(Unauthenticated(kBadRefresh, std::move(detail)));
  };
  if (!Text(sessions, row, "revoked").empty()) {
    return std::unexpected(Unauthenticated(kBadRefresh, "revoked refresh token"));
  }
  if (!Text(sessions, row, "rotated").empty()) {
    return reused("refresh token reused", "auth.refresh_reuse");
  }
  const std::optional<Timestamp> expires = Time(sessions, row, "expires");
  if (!expires || *expires <= now) {
    return std::unexpected(Unauthenticated(kBadRefresh, "expired refresh token"));
  }
  auto member = tables->store->Get(*tables->members, member_id, nullptr);
  if (!member) return std::unexpected(std::move(member.error()));
  if (!*member) return reused("the member is gone", "auth.refresh");

  std::string next = std::string(kRefreshPrefix) + NewTokenKey(random_);
  enum class Outcome { kRotated, kReused, kRevoked, kGone };
  Outcome outcome = Outcome::kRotated;
  const std::string at = now.ToApiString();
  // The exchange commits with its event. As at sign-in, the rows are not recorded field by
  // field (a secret binding, a personal client description): the event names the session and
  // shows a change of role.
  AuditEntry event = SessionEvent("auth.refresh", MemberActor(member_id), client, request_id);
  TargetSession(event, family);
  {
    const std::vector<JsonValue::Member> before{
        {"role", JsonValue::String(Text(sessions, row, "role"))}};
    const std::vector<JsonValue::Member> after{{"role", JsonValue::String(next_role)}};
    event.diff = domain::DiffAspectsForAudit(&before, &after);
  }
  auto written = tables->store->Write([&](RecordTransaction& tx) -> Result<void> {
    // Read again under the transaction's lock: a concurrent refresh of the same token may have
    // exchanged it since the lookup above, and only one exchange may succeed.
    auto current = tx.Find(sessions, row_id);
    if (!current) return std::unexpected(std::move(current.error()));
    if (!*current) {
      outcome = Outcome::kGone;
      return {};
    }
    if (!Text(sessions, **current, "revoked").empty()) {
      outcome = Outcome::kRevoked;
      return {};
    }
    if (!Text(sessions, **current, "rotated").empty()) {
      outcome = Outcome::kReused;
      return {};
    }
    Record exchanged = std::move(**current);
    Set(sessions, exchanged, "rotated", JsonValue::String(at));
    Set(sessions, exchanged, "updated", JsonValue::String(at));
    if (auto updated = tx.Update(sessions, exchanged); !updated) return updated;
    Record successor = domain::EmptyRecord(sessions);
    Set(sessions, successor, "id", JsonValue::String(NewId(random_).str()));
    Set(sessions, successor, "member", JsonValue::String(member_id));
    Set(sessions, successor, "family", JsonValue::String(family));
    Set(sessions, successor, "binding", JsonValue::String(signer_.Bind(next)));
    Set(sessions, successor, "userAgent",
        JsonValue::String(Clip(client.user_agent, kMaxUserAgentLength)));
    Set(sessions, successor, "address", JsonValue::String(Clip(client.address, kMaxAddressLength)));
    Set(sessions, successor, "started", JsonValue::String(Text(sessions, exchanged, "started")));
    Set(sessions, successor, "role", JsonValue::String(next_role));
    Set(sessions, successor, "expires",
        JsonValue::String(Plus(now, options_.refresh_lifetime).ToApiString()));
    Set(sessions, successor, "created", JsonValue::String(at));
    Set(sessions, successor, "updated", JsonValue::String(at));
    if (auto inserted = tx.Insert(sessions, successor); !inserted) return inserted;
    return trail_ != nullptr ? trail_->Append(tx, event) : Result<void>{};
  });
  if (!written) return std::unexpected(std::move(written.error()));
  switch (outcome) {
    case Outcome::kRotated:
      return Issue(*tables, **member, std::move(next), next_role);
    case Outcome::kReused:
      return reused("refresh token reused concurrently", "auth.refresh_reuse");
    case Outcome::kRevoked:
      return std::unexpected(Unauthenticated(kBadRefresh, "revoked refresh token"));
    case Outcome::kGone:
      break;
  }
  return std::unexpected(Unauthenticated(kBadRefresh, "refresh token purged"));
}

Result<MemberInfo> PlatformSessions::Identify(std::string_view access_token) {
  auto identified = IdentifyRecord(access_token);
  if (!identified) return std::unexpected(std::move(identified.error()));
  return std::move(identified->info);
}

Result<PlatformSessions::IdentifiedMember> PlatformSessions::IdentifyRecord(
    std::string_view access_token) {
  auto claims = signer_.Verify(access_token);
  if (!claims) return std::unexpected(Unauthenticated(kBadAccess, claims.error().internal));
  domain::VerifyPolicy policy;
  policy.expected_aud = std::string(kAudience);
  policy.expected_iss = options_.issuer;
  policy.max_skew = options_.max_skew;
  if (auto valid = domain::CheckClaims(*claims, policy, clock_.Now()); !valid) {
    return std::unexpected(Unauthenticated(kBadAccess, valid.error().internal));
  }
  if (claims->type != "access") {
    return std::unexpected(Unauthenticated(kBadAccess, "not an access token"));
  }
  if (claims->collection_id != PlatformStore::kMembersCollectionId) {
    return std::unexpected(Unauthenticated(kBadAccess, "not a member's token"));
  }
  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  auto member = tables->store->Get(*tables->members, claims->sub, nullptr);
  if (!member) return std::unexpected(std::move(member.error()));
  if (!*member) return std::unexpected(Unauthenticated(kBadAccess, "unknown member"));
  const std::string binding = signer_.Bind(Text(*tables->members, **member, "tokenKey"));
  if (claims->key_binding.empty() || !ConstantTimeEquals(claims->key_binding, binding)) {
    return std::unexpected(Unauthenticated(kBadAccess, "the member's tokenKey changed"));
  }
  IdentifiedMember identified;
  identified.info = Describe(*tables->members, **member);
  identified.info.active_role = claims->role;
  identified.collection = tables->members;
  identified.schema = std::move(tables->schema);
  identified.record = std::move(**member);
  return identified;
}

Result<std::optional<MemberInfo>> PlatformSessions::FindMember(std::string_view email) {
  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  const Collection& members = *tables->members;
  std::vector<std::string> spellings{Lower(email)};
  if (spellings.front() != email) spellings.emplace_back(email);
  for (const auto& spelling : spellings) {
    auto found = MemberByEmail(*tables, spelling);
    if (!found) return std::unexpected(std::move(found.error()));
    if (*found) return Describe(members, **found);
  }
  return std::optional<MemberInfo>{};
}

Result<MemberInfo> PlatformSessions::GetMember(std::string_view id) {
  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  auto member = tables->store->Get(*tables->members, std::string(id), nullptr);
  if (!member) return std::unexpected(std::move(member.error()));
  if (!*member) return domain::Fail(ErrorCode::kNotFound, "The member was not found.");
  return Describe(*tables->members, **member);
}

Result<void> PlatformSessions::Logout(std::string_view refresh_token, const ClientInfo& client,
                                      std::string_view request_id) {
  if (!WellFormedRefreshToken(refresh_token)) return {};
  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  auto rows = SessionRows(*tables, "binding", signer_.Bind(refresh_token));
  if (!rows) return std::unexpected(std::move(rows.error()));
  if (rows->empty()) return {};
  const Collection& c = *tables->sessions;
  const std::string family = Text(c, rows->front(), "family");
  // Holding one of the session's tokens is what signing out asks for: the member acts. A
  // session already ended changes nothing and leaves no event.
  AuditEntry event = SessionEvent("auth.sign_out", MemberActor(Text(c, rows->front(), "member")),
                                  client, request_id);
  TargetSession(event, family);
  return RevokeFamily(*tables, family, &event);
}

Result<std::vector<PlatformSession>> PlatformSessions::Sessions(std::string_view member_id) {
  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  const Collection& c = *tables->sessions;
  auto rows = SessionRows(*tables, "member", member_id);
  if (!rows) return std::unexpected(std::move(rows.error()));
  const Timestamp now = clock_.Now();
  std::vector<PlatformSession> out;
  for (const Record& row : *rows) {
    // A family's live token is its one row neither exchanged nor revoked, and unexpired.
    if (!Text(c, row, "rotated").empty() || !Text(c, row, "revoked").empty()) continue;
    const std::optional<Timestamp> expires = Time(c, row, "expires");
    if (!expires || *expires <= now) continue;
    PlatformSession session;
    session.id = Text(c, row, "family");
    session.last_used = Time(c, row, "created").value_or(Timestamp{});
    session.created = Time(c, row, "started").value_or(session.last_used);
    session.user_agent = Text(c, row, "userAgent");
    session.address = Text(c, row, "address");
    session.expires = *expires;
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const PlatformSession& s) { return s.id == session.id; });
    if (same == out.end()) {
      out.push_back(std::move(session));
    } else if (same->last_used < session.last_used) {
      *same = std::move(session);
    }
  }
  std::sort(out.begin(), out.end(), [](const PlatformSession& a, const PlatformSession& b) {
    return a.last_used != b.last_used ? a.last_used > b.last_used : a.id < b.id;
  });
  return out;
}

Result<void> PlatformSessions::RevokeSession(std::string_view member_id,
                                             std::string_view session_id,
                                             const ClientInfo& client,
                                             std::string_view request_id) {
  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  auto rows = SessionRows(*tables, "family", session_id);
  if (!rows) return std::unexpected(std::move(rows.error()));
  // Families are drawn per sign-in and never shared, so the first row speaks for all.
  if (rows->empty() || Text(*tables->sessions, rows->front(), "member") != member_id) {
    return Fail(ErrorCode::kNotFound, "The session was not found.");
  }
  // Revoking twice changes nothing the second time and leaves no second event.
  AuditEntry event =
      SessionEvent("session.revoke", MemberActor(std::string(member_id)), client, request_id);
  TargetSession(event, std::string(session_id));
  return RevokeFamily(*tables, session_id, &event);
}

Result<std::int64_t> PlatformSessions::Purge(Timestamp now) {
  auto tables = Open();
  if (!tables) return std::unexpected(std::move(tables.error()));
  const Collection& c = *tables->sessions;
  const Timestamp cutoff =
      Timestamp::FromUnixMicros(now.unix_micros() - options_.retention.count() * kMicrosPerSecond);
  // Every row is read: the store's filters compare dates as the records API does, but which
  // rows are spent is decided here, in one place, from the parsed instants.
  auto rows = QueryAll(*tables->store, c, nullptr);
  if (!rows) return std::unexpected(std::move(rows.error()));
  std::vector<std::string> doomed;
  for (const Record& row : *rows) {
    const auto expires = Time(c, row, "expires");
    const auto rotated = Time(c, row, "rotated");
    const auto revoked = Time(c, row, "revoked");
    if ((expires && *expires <= now) || (rotated && *rotated <= cutoff) ||
        (revoked && *revoked <= cutoff)) {
      doomed.push_back(row.Id(c));
    }
  }
  // In batches, so that one purge of a large backlog does not hold one long transaction. Plain
  // writes, unrecorded: dropping spent tokens is bookkeeping, no one's action, and what they
  // stood for (sign-in, exchange, revocation) was recorded when it happened.
  constexpr std::size_t kBatch = 200;
  std::int64_t deleted = 0;
  for (std::size_t start = 0; start < doomed.size(); start += kBatch) {
    const std::size_t end = std::min(doomed.size(), start + kBatch);
    std::int64_t batch_deleted = 0;
    auto written = tables->store->Write([&](RecordTransaction& tx) -> Result<void> {
      batch_deleted = 0;
      for (std::size_t i = start; i < end; ++i) {
        auto gone = tx.Delete(c, doomed[i]);
        if (gone) {
          ++batch_deleted;
        } else if (gone.error().code != ErrorCode::kNotFound) {
          return gone;  // deleted meanwhile by another purge is fine; anything else is not
        }
      }
      return {};
    });
    if (!written) return std::unexpected(std::move(written.error()));
    deleted += batch_deleted;
  }
  return deleted;
}

}  // namespace socle::application
