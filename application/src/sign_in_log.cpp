#include "socle/application/sign_in_log.hpp"

#include <utility>

#include "socle/application/new_id.hpp"
#include "socle/application/record_fields.hpp"
#include "socle/domain/filter/resolver.hpp"

namespace socle::application {

using namespace internal;
using domain::Collection;
using domain::Field;
using domain::FieldType;
using domain::JsonValue;
using domain::Record;
using domain::Result;
namespace filter = domain::filter;

namespace {

constexpr std::size_t kMaxText = 255;
constexpr std::size_t kMaxUserAgent = 512;
constexpr std::int64_t kPurgeBatch = 500;

// At most `max` bytes, cut on a UTF-8 character boundary.
std::string Clip(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

}  // namespace

Collection SignInLog::AttemptsCollection() {
  Collection c;
  c.id = "pbc_sign_in_attempts";
  c.name = "_signInAttempts";
  c.system = true;
  std::vector<Field> fields = domain::SystemFields();
  std::vector<Field> own;
  for (const auto& [id, name] :
       {std::pair{"text_attempt_realm", "realm"}, std::pair{"text_attempt_collection", "collection"},
        std::pair{"text_attempt_identity", "identity"}, std::pair{"text_attempt_record", "record"},
        std::pair{"text_attempt_outcome", "outcome"}, std::pair{"text_attempt_address", "address"},
        std::pair{"text_attempt_user_agent", "userAgent"}}) {
    Field f;
    f.id = id;
    f.name = name;
    f.type = FieldType::kText;
    f.system = true;
    f.max = std::string_view(name) == "userAgent" ? 512 : 255;
    own.push_back(std::move(f));
  }
  fields.insert(fields.begin() + 1, own.begin(), own.end());
  c.fields = std::move(fields);
  c.indexes.push_back(
      domain::CollectionIndex{"idx_sign_in_attempts_realm", false, {{"realm", false}, {"created", true}}, {}});
  c.indexes.push_back(
      domain::CollectionIndex{"idx_sign_in_attempts_created", false, {{"created", false}}, {}});
  return c;
}

namespace {

// The attempts' table in the platform store.
struct AttemptsTable {
  std::shared_ptr<ProjectStore> store;
  domain::SchemaPtr schema;
  const Collection* collection;
};

Result<AttemptsTable> OpenAttempts(PlatformStore& platform) {
  auto store = platform.Store();
  if (!store) return std::unexpected(std::move(store.error()));
  auto schema = (*store)->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  const Collection* c = (*schema)->FindById("pbc_sign_in_attempts");
  if (c == nullptr) {
    return domain::Fail(domain::Error::Internal("the sign-in attempts collection is missing"));
  }
  return AttemptsTable{std::move(*store), std::move(*schema), c};
}

std::vector<SignInAttempt> Attempts(const Collection& c, const std::vector<Record>& rows) {
  std::vector<SignInAttempt> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back(SignInAttempt{Text(c, r, "realm"), Text(c, r, "collection"),
                                Text(c, r, "identity"), Text(c, r, "record"),
                                Text(c, r, "outcome"), Text(c, r, "address"),
                                Text(c, r, "userAgent"),
                                Time(c, r, "created").value_or(domain::Timestamp())});
  }
  return out;
}

// The newest `limit` attempts `where` selects.
Result<std::vector<SignInAttempt>> Newest(ProjectStore& store, const domain::SchemaPtr& schema,
                                          const Collection& c, const filter::ResolvedFilter& where,
                                          std::int64_t limit) {
  auto sort = filter::ResolveSort("-created", schema, c);
  if (!sort) return domain::Fail(domain::Error::Internal(sort.error().message));
  RecordQuery query;
  query.where = &where;
  query.sort = std::move(*sort);
  query.limit = limit;
  query.count_total = false;
  auto page = store.Query(c, query);
  if (!page) return std::unexpected(std::move(page.error()));
  return Attempts(c, page->items);
}

// Deletes the attempts `where` selects, a batch per transaction; returns how many went.
Result<std::int64_t> DeleteMatching(ProjectStore& store, const Collection& c,
                                    const filter::ResolvedFilter& where) {
  std::int64_t removed = 0;
  for (;;) {
    RecordQuery query;
    query.where = &where;
    query.limit = kPurgeBatch;
    query.count_total = false;
    auto page = store.Query(c, query);
    if (!page) return std::unexpected(std::move(page.error()));
    if (page->items.empty()) return removed;
    auto deleted = store.Write([&](RecordTransaction& tx) -> Result<void> {
      for (const auto& record : page->items) {
        if (auto done = tx.Delete(c, record.Id(c)); !done) return done;
      }
      return {};
    });
    if (!deleted) return std::unexpected(std::move(deleted.error()));
    removed += static_cast<std::int64_t>(page->items.size());
  }
}

}  // namespace

Result<void> SignInLog::Record(SignInAttempt attempt) {
  auto table = OpenAttempts(platform_);
  if (!table) return std::unexpected(std::move(table.error()));
  auto& [store, schema, c] = *table;
  domain::Record record = domain::EmptyRecord(*c);
  const std::string at = attempt.at.ToApiString();
  Set(*c, record, "id", JsonValue::String(NewId(random_).str()));
  Set(*c, record, "realm", JsonValue::String(Clip(std::move(attempt.realm), kMaxText)));
  Set(*c, record, "collection", JsonValue::String(Clip(std::move(attempt.collection), kMaxText)));
  Set(*c, record, "identity", JsonValue::String(Clip(std::move(attempt.identity), kMaxText)));
  Set(*c, record, "record", JsonValue::String(Clip(std::move(attempt.record_id), kMaxText)));
  Set(*c, record, "outcome", JsonValue::String(Clip(std::move(attempt.outcome), kMaxText)));
  Set(*c, record, "address", JsonValue::String(Clip(std::move(attempt.address), kMaxText)));
  Set(*c, record, "userAgent", JsonValue::String(Clip(std::move(attempt.user_agent), kMaxUserAgent)));
  Set(*c, record, "created", JsonValue::String(at));
  Set(*c, record, "updated", JsonValue::String(at));
  return store->Write([&](RecordTransaction& tx) { return tx.Insert(*c, record); });
}

Result<std::vector<SignInAttempt>> SignInLog::Recent(std::string_view realm, std::int64_t limit) {
  auto table = OpenAttempts(platform_);
  if (!table) return std::unexpected(std::move(table.error()));
  auto& [store, schema, c] = *table;
  auto where = CompareField(schema, *c, "realm", "=", realm);
  if (!where) return std::unexpected(std::move(where.error()));
  return Newest(*store, schema, *c, *where, limit);
}

Result<std::int64_t> SignInLog::Purge() {
  auto table = OpenAttempts(platform_);
  if (!table) return std::unexpected(std::move(table.error()));
  auto& [store, schema, c] = *table;
  const domain::Timestamp cutoff = domain::Timestamp::FromUnixMicros(
      clock_.Now().unix_micros() -
      std::chrono::duration_cast<std::chrono::microseconds>(retention_).count());
  auto where = CompareField(schema, *c, "created", "<", cutoff.ToApiString());
  if (!where) return std::unexpected(std::move(where.error()));
  return DeleteMatching(*store, *c, *where);
}

namespace {

// realm = R && (record = ID || identity = I), every value a request value, never filter text.
Result<filter::ResolvedFilter> SubjectFilter(const domain::SchemaPtr& schema, const Collection& c,
                                             std::string_view realm, std::string_view record_id,
                                             std::string_view identity) {
  filter::RequestContext request;
  request.body = JsonValue::Object({{"realm", JsonValue::String(std::string(realm))},
                                    {"id", JsonValue::String(std::string(record_id))},
                                    {"identity", JsonValue::String(std::string(identity))}});
  std::string text = "realm = @request.body.realm && (record = @request.body.id";
  if (!identity.empty()) text += " || identity = @request.body.identity";
  text += ")";
  filter::ResolveOptions resolve;
  resolve.allow_hidden = true;
  auto compiled = filter::Compile(text, schema, c, request, resolve);
  if (!compiled) {
    return domain::Fail(domain::Error::Internal("sign-in attempts of a subject: " +
                                                compiled.error().message));
  }
  return std::move(*compiled);
}

}  // namespace

Result<std::vector<SignInAttempt>> SignInLog::About(std::string_view realm,
                                                    std::string_view record_id,
                                                    std::string_view identity,
                                                    std::int64_t limit) {
  auto table = OpenAttempts(platform_);
  if (!table) return std::unexpected(std::move(table.error()));
  auto& [store, schema, c] = *table;
  auto where = SubjectFilter(schema, *c, realm, record_id, identity);
  if (!where) return std::unexpected(std::move(where.error()));
  return Newest(*store, schema, *c, *where, limit);
}

Result<std::int64_t> SignInLog::Forget(std::string_view realm, std::string_view record_id,
                                       std::string_view identity) {
  auto table = OpenAttempts(platform_);
  if (!table) return std::unexpected(std::move(table.error()));
  auto& [store, schema, c] = *table;
  auto where = SubjectFilter(schema, *c, realm, record_id, identity);
  if (!where) return std::unexpected(std::move(where.error()));
  return DeleteMatching(*store, *c, *where);
}

}  // namespace socle::application
