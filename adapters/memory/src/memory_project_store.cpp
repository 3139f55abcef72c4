#include "socle/adapters/memory/memory_project_store.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <map>
#include <random>
#include <shared_mutex>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "memory_audit.hpp"
#include "socle/domain/filter/evaluator.hpp"
#include "socle/domain/schema_diff.hpp"

namespace socle::adapters::memory {

using application::AuditQuery;
using application::CollectionChange;
using application::RecordPage;
using application::RecordQuery;
using application::RecordTransaction;
using application::SchemaHistoryEntry;
using application::StoredAuditEvent;
using domain::Collection;
using domain::ErrorCode;
using domain::Fail;
using domain::Field;
using domain::FieldType;
using domain::JsonValue;
using domain::Record;
using domain::Result;
using domain::StorageClass;

namespace {

// The rows of one collection, ordered by id.
using Table = std::map<std::string, Record, std::less<>>;
// Every table of a project, keyed by collection id.
using Tables = std::map<std::string, Table, std::less<>>;

std::string NumberText(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) return "0";
  return std::string(buffer, end);
}

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

JsonValue Number(double value) {
  if (std::trunc(value) == value && std::fabs(value) <= 9007199254740992.0) {
    return JsonValue::Integer(static_cast<std::int64_t>(value));
  }
  return JsonValue::Number(value);
}

// A value as text, the way every store converts a value to a text column.
std::string AsText(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kNull: return "";
    case JsonValue::Type::kBool: return value.AsBool() ? "true" : "false";
    case JsonValue::Type::kNumber:
      if (auto exact = value.AsInt64()) return std::to_string(*exact);
      return NumberText(value.AsDouble());
    case JsonValue::Type::kString: return value.AsString();
    case JsonValue::Type::kArray:
      return value.items().empty() ? std::string() : AsText(value.items().front());
    case JsonValue::Type::kObject: return "";
  }
  return "";
}

// Converts a stored value of `before` into the storage of `after` (the retype table of the
// store specification, identical in every store).
JsonValue Convert(const JsonValue& value, const Field& before, const Field& after) {
  const StorageClass from = domain::StorageClassOf(before);
  const StorageClass to = domain::StorageClassOf(after);
  if (from == to) return value;
  // Single <-> multiple first.
  if (to == StorageClass::kTextArray) {
    if (from == StorageClass::kJson && value.type() == JsonValue::Type::kArray) {
      std::vector<JsonValue> items;
      for (const auto& item : value.items()) items.push_back(JsonValue::String(AsText(item)));
      return JsonValue::Array(std::move(items));
    }
    std::string text = AsText(value);
    if (text.empty()) return JsonValue::Array({});
    std::vector<JsonValue> one;
    one.push_back(JsonValue::String(std::move(text)));
    return JsonValue::Array(std::move(one));
  }
  if (from == StorageClass::kTextArray && to == StorageClass::kJson) return value;
  const JsonValue single =
      from == StorageClass::kTextArray
          ? (value.items().empty() ? JsonValue::String("") : value.items().front())
          : value;
  switch (to) {
    case StorageClass::kText: return JsonValue::String(AsText(single));
    case StorageClass::kNumber:
      if (single.type() == JsonValue::Type::kNumber) return single;
      if (single.type() == JsonValue::Type::kBool) return JsonValue::Integer(single.AsBool() ? 1 : 0);
      if (single.type() == JsonValue::Type::kString) {
        if (auto number = ParseNumber(single.AsString())) return Number(*number);
      }
      return JsonValue::Integer(0);
    case StorageClass::kBool:
      if (single.type() == JsonValue::Type::kBool) return single;
      if (single.type() == JsonValue::Type::kNumber) return JsonValue::Bool(single.AsDouble() != 0);
      if (single.type() == JsonValue::Type::kString) {
        return JsonValue::Bool(single.AsString() == "true" || single.AsString() == "1");
      }
      return JsonValue::Bool(false);
    case StorageClass::kDate: {
      if (single.type() != JsonValue::Type::kString) return JsonValue::String("");
      auto parsed = domain::Timestamp::Parse(single.AsString());
      return JsonValue::String(parsed ? parsed->ToApiString() : std::string());
    }
    case StorageClass::kJson:
      if (single.type() == JsonValue::Type::kString && single.AsString().empty() &&
          from == StorageClass::kDate) {
        return JsonValue::Null();
      }
      return single;
    case StorageClass::kTextArray: break;  // handled above
  }
  return single;
}

// Re-lays a record of `before` out for `after`, matching fields by id.
Record Relayout(const Record& record, const Collection& before, const Collection& after) {
  Record out;
  out.values.reserve(after.fields.size());
  for (const auto& field : after.fields) {
    const Field* old = before.FindFieldById(field.id);
    if (old == nullptr) {
      out.values.push_back(domain::ZeroValue(field));
      continue;
    }
    const auto index = static_cast<std::size_t>(old - before.fields.data());
    out.values.push_back(Convert(record.values[index], *old, field));
  }
  return out;
}

// Finds the position of the id field; records are laid out with it first in practice, but the
// contract does not promise it, so look it up.
std::size_t IdIndex(const Collection& collection) {
  auto index = collection.FieldIndex("id");
  return index ? *index : 0;
}

const std::string& RecordId(const Collection& collection, const Record& record) {
  return record.values[IdIndex(collection)].AsString();
}

// A read view over a project's tables, with a transaction's pending copies on top.
class TablesView final : public domain::filter::RecordSource {
 public:
  TablesView(const Tables& base, const Tables* overlay) : base_(base), overlay_(overlay) {}

  const Table* TableOf(const Collection& collection) const {
    if (overlay_ != nullptr) {
      auto it = overlay_->find(collection.id);
      if (it != overlay_->end()) return &it->second;
    }
    auto it = base_.find(collection.id);
    return it == base_.end() ? nullptr : &it->second;
  }

  const Record* FindById(const Collection& collection, std::string_view id) const override {
    const Table* table = TableOf(collection);
    if (table == nullptr) return nullptr;
    auto it = table->find(id);
    return it == table->end() ? nullptr : &it->second;
  }

  std::vector<const Record*> All(const Collection& collection) const override {
    std::vector<const Record*> out;
    if (const Table* table = TableOf(collection)) {
      out.reserve(table->size());
      for (const auto& [id, record] : *table) out.push_back(&record);
    }
    return out;
  }

 private:
  const Tables& base_;
  const Tables* overlay_;
};

Result<RecordPage> RunQuery(const TablesView& view, const Collection& collection,
                            const RecordQuery& query) {
  std::vector<const Record*> matching;
  for (const Record* record : view.All(collection)) {
    if (query.where == nullptr || domain::filter::Evaluate(*query.where, *record, view)) {
      matching.push_back(record);
    }
  }
  const bool random = std::any_of(query.sort.begin(), query.sort.end(),
                                  [](const auto& term) { return term.random; });
  if (random) {
    std::mt19937_64 engine{std::random_device{}()};
    std::shuffle(matching.begin(), matching.end(), engine);
  } else if (!query.sort.empty()) {
    // Each record's sort keys, computed once.
    std::vector<std::pair<std::vector<JsonValue>, const Record*>> keyed;
    keyed.reserve(matching.size());
    for (const Record* record : matching) {
      std::vector<JsonValue> keys;
      keys.reserve(query.sort.size());
      for (const auto& term : query.sort) {
        auto values = domain::filter::OperandValues(term.key, *record, {}, view);
        keys.push_back(values.empty() ? JsonValue::Null() : std::move(values.front()));
      }
      keyed.emplace_back(std::move(keys), record);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
      for (std::size_t i = 0; i < query.sort.size(); ++i) {
        int order = domain::filter::CompareForSort(a.first[i], b.first[i]);
        if (query.sort[i].descending) order = -order;
        if (order != 0) return order < 0;
      }
      return false;  // the table is ordered by id already: stable_sort keeps that tie-break
    });
    for (std::size_t i = 0; i < keyed.size(); ++i) matching[i] = keyed[i].second;
  }
  RecordPage page;
  page.total = query.count_total ? static_cast<std::int64_t>(matching.size()) : -1;
  const auto offset = static_cast<std::size_t>(std::max<std::int64_t>(query.offset, 0));
  const auto limit = static_cast<std::size_t>(std::max<std::int64_t>(query.limit, 0));
  for (std::size_t i = offset; i < matching.size() && i - offset < limit; ++i) {
    page.items.push_back(*matching[i]);
  }
  return page;
}

// One project's schema, data and history.
struct ProjectData {
  domain::SchemaPtr schema = std::make_shared<domain::ProjectSchema>();
  Tables tables;
  std::vector<SchemaHistoryEntry> history;
};

// Unique index violations of `record` in `table`, as PocketBase field errors.
Result<void> CheckUnique(const Collection& collection, const Table& table, const Record& record) {
  const std::string& id = RecordId(collection, record);
  for (const auto& index : collection.indexes) {
    if (!index.unique) continue;
    std::vector<std::size_t> columns;
    for (const auto& column : index.columns) {
      if (auto position = collection.FieldIndex(column.field)) columns.push_back(*position);
    }
    // A partial index (WHERE field != '') holds only the records whose condition fields are
    // not empty: the others never collide.
    std::vector<std::size_t> conditions;
    for (const auto& column : index.where_not_empty) {
      if (auto position = collection.FieldIndex(column)) conditions.push_back(*position);
    }
    auto indexed = [&](const Record& r) {
      return std::none_of(conditions.begin(), conditions.end(), [&](std::size_t c) {
        return r.values[c].type() == JsonValue::Type::kString && r.values[c].AsString().empty();
      });
    };
    if (!indexed(record)) continue;
    for (const auto& [other_id, other] : table) {
      if (other_id == id || !indexed(other)) continue;
      const bool same = std::all_of(columns.begin(), columns.end(), [&](std::size_t c) {
        return other.values[c] == record.values[c];
      });
      if (!same) continue;
      domain::Error error = domain::Error::Make(ErrorCode::kInvalidArgument,
                                                "Failed to save the record: a value must be unique.");
      for (const auto& column : index.columns) {
        error.fields.push_back({column.field, "validation_not_unique", "Value must be unique."});
      }
      return std::unexpected(std::move(error));
    }
  }
  return {};
}

// A project's audit trail: one chain (lane 0), in sequence order, so that seq n sits at index
// n - 1 - (the anchor's seq, once retention archived the chain's beginning). Appended only by a
// writer holding the store's write serialisation, which is also what holds the lane against
// other transactions.
using AuditTrail = std::vector<StoredAuditEvent>;

// The order audit searches return: newest first by time, then lane and seq descending.
bool NewerFirst(const domain::AuditEvent& a, const domain::AuditEvent& b) {
  return std::tie(a.at, a.lane, a.seq) > std::tie(b.at, b.lane, b.seq);
}

// A project's search also narrows by organisation when query.org_id is set, which a platform
// chain's does not.
bool AuditMatches(const domain::AuditEvent& event, const AuditQuery& query) {
  if (!query.org_id.empty() && event.org_id != query.org_id) return false;
  return AuditMatchesCriteria(event, query);
}

// The audit events one transaction appends, on top of the committed trail; they join it on
// commit and vanish with a rollback.
class PendingAudit final {
 public:
  PendingAudit(const AuditTrail& committed, const std::optional<domain::AuditHead>& anchor)
      : committed_(committed), anchor_(anchor) {}

  domain::AuditHead Lock() {
    locked_ = true;
    return Head();
  }

  Result<void> Append(const domain::AuditEvent& event,
                      const std::vector<domain::AuditPersonal>& personal) {
    // The caller sealed the event on the head it locked; anything else would fork or break
    // the chain, which no later verification could tell from tampering.
    if (!locked_) return Fail(domain::Error::Internal("audit append without a locked lane"));
    const domain::AuditHead head = Head();
    if (event.lane != head.lane) {
      return Fail(domain::Error::Internal("audit append to lane " + std::to_string(event.lane) +
                                          ", not the locked lane " + std::to_string(head.lane)));
    }
    if (event.seq != head.seq + 1) {
      return Fail(domain::Error::Internal("audit append of seq " + std::to_string(event.seq) +
                                          " after seq " + std::to_string(head.seq)));
    }
    auto stored = StoredWithParts(event, personal);
    if (!stored) return Fail(stored.error());
    appended_.push_back(std::move(*stored));
    return {};
  }

  AuditTrail TakeAppended() && { return std::move(appended_); }

 private:
  domain::AuditHead Head() const {
    const StoredAuditEvent* last = !appended_.empty()   ? &appended_.back()
                                   : !committed_.empty() ? &committed_.back()
                                                         : nullptr;
    // A chain archived whole goes on from where its archive ends.
    if (last == nullptr) return anchor_.value_or(domain::AuditHead{});
    return domain::AuditHead{last->event.lane, last->event.seq, last->event.hash};
  }

  const AuditTrail& committed_;
  const std::optional<domain::AuditHead>& anchor_;
  AuditTrail appended_;
  bool locked_ = false;
};

// What ApplySchema's audit callback appends through.
class SchemaAuditAppender final : public application::AuditAppender {
 public:
  SchemaAuditAppender(const AuditTrail& committed, const std::optional<domain::AuditHead>& anchor)
      : pending_(committed, anchor) {}
  Result<domain::AuditHead> LockAuditHead() override { return pending_.Lock(); }
  Result<void> AppendAudit(const domain::AuditEvent& event,
                           const std::vector<domain::AuditPersonal>& personal) override {
    return pending_.Append(event, personal);
  }
  AuditTrail TakeAppended() && { return std::move(pending_).TakeAppended(); }

 private:
  PendingAudit pending_;
};

// A transaction: copies of the tables it touches, swapped in on commit.
class MemoryTransaction final : public RecordTransaction {
 public:
  MemoryTransaction(const ProjectData& data, const AuditTrail& audit,
                    const std::optional<domain::AuditHead>& audit_anchor)
      : data_(data), audit_(audit, audit_anchor) {}

  Result<domain::AuditHead> LockAuditHead() override { return audit_.Lock(); }

  Result<void> AppendAudit(const domain::AuditEvent& event,
                           const std::vector<domain::AuditPersonal>& personal) override {
    return audit_.Append(event, personal);
  }

  Result<std::optional<Record>> Find(const Collection& collection, std::string_view id) override {
    const Record* record = View().FindById(collection, id);
    if (record == nullptr) return std::optional<Record>();
    return std::optional<Record>(*record);
  }

  Result<std::size_t> CountExisting(const Collection& collection,
                                    const std::vector<std::string>& ids) override {
    const TablesView view = View();
    std::size_t found = 0;
    for (const std::string& id : ids) found += view.FindById(collection, id) != nullptr ? 1 : 0;
    return found;
  }

  Result<RecordPage> Query(const Collection& collection, const RecordQuery& query) override {
    return RunQuery(View(), collection, query);
  }

  Result<bool> Matches(const Collection& collection, std::string_view id,
                       const domain::filter::ResolvedFilter& filter) override {
    const TablesView view = View();
    const Record* record = view.FindById(collection, id);
    return record != nullptr && domain::filter::Evaluate(filter, *record, view);
  }

  Result<void> Insert(const Collection& collection, const Record& record) override {
    Table& table = Writable(collection);
    const std::string& id = RecordId(collection, record);
    if (table.contains(id)) return Fail(ErrorCode::kAlreadyExists, "The record id is taken.");
    if (auto unique = CheckUnique(collection, table, record); !unique) return unique;
    table.emplace(id, record);
    return {};
  }

  Result<void> Update(const Collection& collection, const Record& record) override {
    Table& table = Writable(collection);
    auto it = table.find(RecordId(collection, record));
    if (it == table.end()) return Fail(ErrorCode::kNotFound, "The record was not found.");
    if (auto unique = CheckUnique(collection, table, record); !unique) return unique;
    it->second = record;
    return {};
  }

  Result<void> Delete(const Collection& collection, std::string_view id) override {
    Table& table = Writable(collection);
    auto it = table.find(id);
    if (it == table.end()) return Fail(ErrorCode::kNotFound, "The record was not found.");
    table.erase(it);
    return {};
  }

  Tables TakeChanges() && { return std::move(overlay_); }
  AuditTrail TakeAudit() && { return std::move(audit_).TakeAppended(); }

 private:
  TablesView View() const { return TablesView(data_.tables, &overlay_); }

  Table& Writable(const Collection& collection) {
    auto it = overlay_.find(collection.id);
    if (it != overlay_.end()) return it->second;
    auto base = data_.tables.find(collection.id);
    return overlay_.emplace(collection.id, base == data_.tables.end() ? Table() : base->second)
        .first->second;
  }

  const ProjectData& data_;
  Tables overlay_;
  PendingAudit audit_;
};

class MemoryProjectStore final : public application::ProjectStore {
 public:
  Result<domain::SchemaPtr> Schema() override {
    std::shared_lock lock(mutex_);
    return data_.schema;
  }

  using application::ProjectStore::ApplySchema;
  Result<domain::SchemaPtr> ApplySchema(const std::vector<CollectionChange>& changes,
                                        std::int64_t expected_version, const std::string& actor,
                                        domain::Timestamp at,
                                        const application::AuditWrite& audit) override {
    std::lock_guard writer(writer_);
    // Holding writer_, nobody else changes data_.
    if (data_.schema->version != expected_version) {
      return Fail(ErrorCode::kAborted, "The schema changed meanwhile; reload and retry.");
    }
    ProjectData next = data_;
    auto schema = std::make_shared<domain::ProjectSchema>(*next.schema);
    for (const auto& change : changes) {
      if (change.before && change.after) {
        auto it = std::find_if(schema->collections.begin(), schema->collections.end(),
                               [&](const Collection& c) { return c.id == change.before->id; });
        if (it == schema->collections.end()) {
          return Fail(ErrorCode::kNotFound, "The collection was not found.");
        }
        Table& table = next.tables[change.before->id];
        Table converted;
        for (const auto& [id, record] : table) {
          converted.emplace(id, Relayout(record, *change.before, *change.after));
        }
        for (const auto& index : change.after->indexes) {
          if (!index.unique) continue;
          for (const auto& [id, record] : converted) {
            if (!CheckUnique(*change.after, converted, record)) {
              auto position = std::find(change.after->indexes.begin(), change.after->indexes.end(), index) -
                              change.after->indexes.begin();
              return std::unexpected(domain::Error::Field(
                  "indexes." + std::to_string(position), "validation_not_unique",
                  "The existing records hold duplicate values for the unique index " +
                      index.name + "."));
            }
          }
        }
        table = std::move(converted);
        *it = *change.after;
      } else if (change.after) {
        schema->collections.push_back(*change.after);
        next.tables.try_emplace(change.after->id);
      } else if (change.before) {
        std::erase_if(schema->collections,
                      [&](const Collection& c) { return c.id == change.before->id; });
        next.tables.erase(change.before->id);
      }
      next.history.push_back(
          SchemaHistoryEntry{schema->version + 1, at, actor, change});
    }
    ++schema->version;
    next.schema = schema;
    // Holding writer_, nobody else appends to audit_ either: the callback reads it unlocked.
    AuditTrail appended;
    if (audit) {
      SchemaAuditAppender appender(audit_, audit_anchor_);
      if (auto recorded = audit(appender); !recorded) return std::unexpected(recorded.error());
      appended = std::move(appender).TakeAppended();
    }
    std::unique_lock lock(mutex_);
    data_ = std::move(next);
    std::move(appended.begin(), appended.end(), std::back_inserter(audit_));
    return data_.schema;
  }

  Result<std::vector<SchemaHistoryEntry>> History() override {
    std::shared_lock lock(mutex_);
    return data_.history;
  }

  Result<RecordPage> Query(const Collection& collection, const RecordQuery& query) override {
    std::shared_lock lock(mutex_);
    return RunQuery(TablesView(data_.tables, nullptr), collection, query);
  }

  Result<std::optional<Record>> Get(const Collection& collection, std::string_view id,
                                    const domain::filter::ResolvedFilter* where) override {
    std::shared_lock lock(mutex_);
    const TablesView view(data_.tables, nullptr);
    const Record* record = view.FindById(collection, id);
    if (record == nullptr || (where != nullptr && !domain::filter::Evaluate(*where, *record, view))) {
      return std::optional<Record>();
    }
    return std::optional<Record>(*record);
  }

  Result<void> Write(
      const std::function<Result<void>(RecordTransaction&)>& work) override {
    // One writer at a time; readers keep reading the committed state meanwhile.
    std::lock_guard writer(writer_);
    // Holding writer_, nobody else changes data_: the transaction reads it without a lock.
    Tables changes;
    AuditTrail appended;
    {
      MemoryTransaction transaction(data_, audit_, audit_anchor_);
      if (auto done = work(transaction); !done) return done;
      appended = std::move(transaction).TakeAudit();
      changes = std::move(transaction).TakeChanges();
    }
    std::unique_lock lock(mutex_);
    for (auto& [collection_id, table] : changes) {
      data_.tables.insert_or_assign(collection_id, std::move(table));
    }
    std::move(appended.begin(), appended.end(), std::back_inserter(audit_));
    return {};
  }

  Result<std::vector<StoredAuditEvent>> AuditEvents(const AuditQuery& query) override {
    const auto limit = static_cast<std::size_t>(std::clamp<std::int64_t>(query.limit, 1, 1000));
    std::shared_lock lock(mutex_);
    std::vector<const StoredAuditEvent*> matching;
    for (const auto& stored : audit_) {
      if (AuditMatches(stored.event, query)) matching.push_back(&stored);
    }
    const auto end =
        matching.begin() + static_cast<std::ptrdiff_t>(std::min(limit, matching.size()));
    std::partial_sort(matching.begin(), end, matching.end(),
                      [](const auto* a, const auto* b) { return NewerFirst(a->event, b->event); });
    std::vector<StoredAuditEvent> out;
    out.reserve(static_cast<std::size_t>(end - matching.begin()));
    for (auto it = matching.begin(); it != end; ++it) out.push_back(**it);
    return out;
  }

  Result<std::vector<domain::AuditHead>> AuditHeads() override {
    std::shared_lock lock(mutex_);
    std::vector<domain::AuditHead> heads;
    if (!audit_.empty()) {
      const auto& last = audit_.back().event;
      heads.push_back(domain::AuditHead{last.lane, last.seq, last.hash});
    } else if (audit_anchor_) {
      heads.push_back(*audit_anchor_);  // archived whole: its head is the archive's last event
    }
    return heads;
  }

  Result<std::vector<StoredAuditEvent>> AuditChain(std::int64_t lane, std::int64_t after_seq,
                                                   std::int64_t limit) override {
    std::shared_lock lock(mutex_);
    std::vector<StoredAuditEvent> out;
    if (lane != 0 || limit <= 0) return out;
    // seq n sits at index n - 1 - the anchor's seq (appends are checked to extend the chain by
    // one, and archiving removes a prefix).
    const std::int64_t base = audit_anchor_ ? audit_anchor_->seq : 0;
    const auto first = static_cast<std::size_t>(std::max<std::int64_t>(after_seq - base, 0));
    for (std::size_t i = first; i < audit_.size() && out.size() < static_cast<std::size_t>(limit);
         ++i) {
      out.push_back(audit_[i]);
    }
    return out;
  }

  Result<std::int64_t> ErasePersonal(std::string_view subject) override {
    std::lock_guard writer(writer_);
    std::unique_lock lock(mutex_);
    std::int64_t erased = 0;
    for (auto& stored : audit_) {
      erased += static_cast<std::int64_t>(std::erase_if(
          stored.personal,
          [&](const domain::AuditPersonal& part) { return part.subject == subject; }));
    }
    return erased;
  }

  Result<std::vector<domain::AuditHead>> AuditAnchors() override {
    std::shared_lock lock(mutex_);
    std::vector<domain::AuditHead> anchors;
    if (audit_anchor_) anchors.push_back(*audit_anchor_);
    return anchors;
  }

  Result<application::AuditArchived> ArchiveAudit(domain::Timestamp before,
                                                  application::AuditArchiveSink& sink) override {
    // Holding writer_, nobody appends meanwhile: what the sink receives is exactly what goes.
    std::lock_guard writer(writer_);
    // The events before the cut must be the chain's beginning: removing any other set would
    // leave a gap that verification could not tell from a deletion.
    std::size_t cut = 0;
    while (cut < audit_.size() && audit_[cut].event.at < before) ++cut;
    for (std::size_t i = cut; i < audit_.size(); ++i) {
      if (audit_[i].event.at < before) return Fail(NotAPrefix(audit_[i].event, before));
    }
    application::AuditArchived archived;
    if (cut == 0) return archived;
    for (std::size_t i = 0; i < cut; ++i) {
      if (auto written = sink.Write(audit_[i]); !written) return Fail(written.error());
    }
    if (auto committed = sink.Commit(); !committed) return Fail(committed.error());
    const domain::AuditEvent& last = audit_[cut - 1].event;
    const domain::AuditHead anchor{last.lane, last.seq, last.hash};
    std::unique_lock lock(mutex_);
    audit_.erase(audit_.begin(), audit_.begin() + static_cast<std::ptrdiff_t>(cut));
    audit_anchor_ = anchor;
    archived.events = static_cast<std::int64_t>(cut);
    archived.anchors.push_back(anchor);
    return archived;
  }

 private:
  static domain::Error NotAPrefix(const domain::AuditEvent& event, domain::Timestamp before) {
    return domain::Error::Make(
        ErrorCode::kFailedPrecondition,
        "The audit events before " + before.ToIso8601() + " are not the beginning of their " +
            "chain: event " + std::to_string(event.seq) + " of lane " +
            std::to_string(event.lane) + " is older than one before it. Choose another cut.");
  }

  std::mutex writer_;
  std::shared_mutex mutex_;
  ProjectData data_;
  // Kept apart from data_, which ApplySchema copies whole: the trail only grows, but for
  // retention, which removes its beginning and notes where the rest begins.
  AuditTrail audit_;
  std::optional<domain::AuditHead> audit_anchor_;
};

}  // namespace

MemoryProjectStores::MemoryProjectStores() = default;
MemoryProjectStores::~MemoryProjectStores() = default;

Result<std::shared_ptr<application::ProjectStore>> MemoryProjectStores::Open(
    const domain::Project& project) {
  std::lock_guard lock(mutex_);
  auto& store = projects_[project.id.str()];
  if (!store) store = std::make_shared<MemoryProjectStore>();
  return store;
}

void MemoryProjectStores::Close(const domain::Id& project_id) {
  std::lock_guard lock(mutex_);
  projects_.erase(project_id.str());
}

domain::Result<void> MemoryProjectStores::Remove(const domain::Project& project) {
  Close(project.id);
  return {};
}

}  // namespace socle::adapters::memory
