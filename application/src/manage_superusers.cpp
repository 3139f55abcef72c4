#include "socle/application/manage_superusers.hpp"

#include <utility>
#include <vector>

#include "socle/application/new_id.hpp"
#include "socle/application/record_fields.hpp"
#include "socle/domain/email.hpp"
#include "socle/domain/filter/resolver.hpp"

namespace socle::application {

using domain::Collection;
using domain::ErrorCode;
using domain::Fail;
using domain::JsonValue;
using domain::Record;
using domain::Result;

namespace {

// The collection as the trail describes it: the same, with the e-mail personal, so that its
// values go to the event's erasable part rather than into the chain (`_superusers` keeps the
// fields of any auth collection, none of them marked personal).
Collection WithPersonalEmail(Collection collection) {
  for (auto& field : collection.fields) {
    if (field.name == "email") field.pii = "email";
  }
  return collection;
}

}  // namespace

Result<SuperuserUpsert> ManageSuperusers::Upsert(std::string_view email_text,
                                                 std::string_view password,
                                                 const AuditContext& context) {
  auto email = domain::Email::Parse(email_text);
  if (!email) {
    return Fail(domain::Error::Field("email", "validation_is_email", "Must be a valid email address."));
  }
  const std::string address(email_text);
  std::string_view parts[] = {address};
  if (auto ok = domain::CheckPassword(password, policy_, parts); !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  auto hash = hasher_.Hash(password);
  if (!hash) return std::unexpected(std::move(hash.error()));

  auto store = platform_.Store();
  if (!store) return std::unexpected(std::move(store.error()));
  auto schema = (*store)->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  const Collection* stored = (*schema)->FindById(domain::kSuperusersCollectionId);
  if (stored == nullptr) {
    return Fail(domain::Error::Internal("the superusers collection is missing"));
  }
  // Written through `audited` (read through `stored`, which the filter was compiled against):
  // stores write records by the collection's id and fields, which are the same.
  const Collection audited = WithPersonalEmail(*stored);
  const Collection* coll = &audited;

  AuditEntry base;
  base.actor = context.actor;
  base.origin = context.origin;
  base.action = "superuser.upsert";

  auto where = internal::CompareField(*schema, *stored, "email", "=", address);
  if (!where) return std::unexpected(std::move(where.error()));

  SuperuserUpsert result;
  const std::string now = clock_.Now().ToApiString();
  auto written = WriteAudited(**store, trail_, base, [&](RecordTransaction& tx) -> Result<void> {
    RecordQuery query;
    query.where = &*where;
    query.limit = 1;
    query.count_total = false;
    auto page = tx.Query(*stored, query);
    if (!page) return std::unexpected(std::move(page.error()));
    auto set = [&](Record& record, std::string_view name, JsonValue value) {
      if (auto index = coll->FieldIndex(name)) record.values[*index] = std::move(value);
    };
    if (!page->items.empty()) {
      Record record = std::move(page->items.front());
      set(record, "password", JsonValue::String(*hash));
      set(record, "tokenKey", JsonValue::String(NewTokenKey(random_)));
      set(record, "updated", JsonValue::String(now));
      result = {record.Id(*coll), false};
      return tx.Update(*coll, record);
    }
    Record record = domain::EmptyRecord(*coll);
    result = {NewId(random_).str(), true};
    set(record, "id", JsonValue::String(result.id));
    set(record, "email", JsonValue::String(address));
    set(record, "password", JsonValue::String(*hash));
    set(record, "tokenKey", JsonValue::String(NewTokenKey(random_)));
    set(record, "verified", JsonValue::Bool(true));
    set(record, "created", JsonValue::String(now));
    set(record, "updated", JsonValue::String(now));
    return tx.Insert(*coll, record);
  });
  if (!written) return std::unexpected(std::move(written.error()));
  return result;
}

Result<std::int64_t> ManageSuperusers::Count() {
  auto store = platform_.Store();
  if (!store) return std::unexpected(std::move(store.error()));
  auto schema = (*store)->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  const Collection* coll = (*schema)->FindById(domain::kSuperusersCollectionId);
  if (coll == nullptr) return Fail(domain::Error::Internal("the superusers collection is missing"));
  RecordQuery query;
  query.limit = 0;
  auto page = (*store)->Query(*coll, query);
  if (!page) return std::unexpected(std::move(page.error()));
  return page->total;
}

}  // namespace socle::application
