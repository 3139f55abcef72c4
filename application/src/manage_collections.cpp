#include "socle/application/manage_collections.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "socle/domain/collection_validation.hpp"
#include "socle/domain/filter/resolver.hpp"

namespace socle::application {

using domain::Collection;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Field;
using domain::FieldError;
using domain::Result;

namespace {

// Concurrent schema changes of one project are detected by the store (aborted); a change is
// re-planned against the new schema this many times before giving up.
constexpr int kSchemaAttempts = 3;

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

// `digits` random decimal digits, drawn without modulo bias.
std::string RandomDigits(RandomSource& random, std::size_t digits) {
  std::string out;
  std::array<std::uint8_t, 32> buffer{};
  while (out.size() < digits) {
    random.Fill(buffer);
    for (std::uint8_t byte : buffer) {
      if (byte >= 250) continue;  // 250 = 25 * 10: keeps the digits uniform
      out.push_back(static_cast<char>('0' + byte % 10));
      if (out.size() == digits) break;
    }
  }
  return out;
}

// A PocketBase-style id for a new collection: "pbc_" and 10 digits, unused in `schema`.
std::string NewCollectionId(RandomSource& random, const domain::ProjectSchema& schema) {
  for (;;) {
    std::string id = "pbc_" + RandomDigits(random, 10);
    if (schema.FindById(id) == nullptr) return id;
  }
}

// A PocketBase-style field id ("text" + 10 digits), unused in `collection`.
std::string NewFieldId(RandomSource& random, const Collection& collection, const Field& field) {
  for (;;) {
    std::string id = std::string(domain::ToString(field.type)) + RandomDigits(random, 10);
    if (collection.FindFieldById(id) == nullptr) return id;
  }
}

// Puts an auth collection's own system fields in place, after id as PocketBase orders them. A
// field the draft declares with the right type keeps the options it was given (a longer minimum
// password, allowed e-mail domains) but not its identity flags: the system fields are always
// system, and password and tokenKey always hidden and required. A field of the wrong type is
// left for validation to report. The unique indexes sign-in relies on are added when missing.
void CompleteAuth(Collection& draft) {
  std::size_t position = 1;
  for (const auto& system : domain::AuthSystemFields()) {
    auto it = std::find_if(draft.fields.begin(), draft.fields.end(),
                           [&](const Field& f) { return f.name == system.name; });
    if (it == draft.fields.end()) {
      position = std::min(position, draft.fields.size());
      draft.fields.insert(draft.fields.begin() + static_cast<std::ptrdiff_t>(position), system);
      ++position;
      continue;
    }
    if (it->type != system.type) continue;
    if (it->id.empty()) it->id = system.id;
    it->system = true;
    it->hidden = it->hidden || system.hidden;
    it->required = it->required || system.required;
    if (system.name == "tokenKey") {
      it->autogenerate_pattern = system.autogenerate_pattern;
      it->min = system.min;
      it->max = system.max;
    }
    if (system.name == "password" && it->min.value_or(0) < 8) it->min = system.min;
    position = static_cast<std::size_t>(it - draft.fields.begin()) + 1;
  }
  for (const auto& needed : domain::AuthSystemIndexes(draft.id)) {
    const std::string& column = needed.columns.front().field;
    const bool present = std::any_of(draft.indexes.begin(), draft.indexes.end(), [&](const auto& i) {
      return i.unique && i.columns.size() == 1 && i.columns.front().field == column;
    });
    if (!present) draft.indexes.push_back(needed);
  }
}

// Gives every field of `draft` an id: the id of the field of `before` with the same name when
// the draft omitted it (so that hand-written definitions keep their data), else a new one.
// Puts the system fields in place with their fixed definitions.
void CompleteFields(Collection& draft, const Collection* before, RandomSource& random) {
  for (auto& field : draft.fields) {
    if (!field.id.empty()) continue;
    if (before != nullptr) {
      if (const Field* same = before->FindField(field.name)) {
        field.id = same->id;
        continue;
      }
    }
  }
  for (const auto& system : domain::SystemFields()) {
    auto it = std::find_if(draft.fields.begin(), draft.fields.end(),
                           [&](const Field& f) { return f.name == system.name; });
    if (it != draft.fields.end()) {
      *it = system;
    } else if (system.name == "id") {
      draft.fields.insert(draft.fields.begin(), system);
    } else {
      draft.fields.push_back(system);
    }
  }
  if (draft.type == domain::CollectionType::kAuth) CompleteAuth(draft);
  for (auto& field : draft.fields) {
    if (field.id.empty()) field.id = NewFieldId(random, draft, field);
  }
}

// Checks that every rule of `collection` parses and resolves against `schema`; the errors are
// keyed by rule name ("listRule" ...), prefixed by `prefix`.
void CheckRules(const Collection& collection, const domain::SchemaPtr& schema,
                const std::string& prefix, std::vector<FieldError>& errors) {
  const std::array<std::pair<const char*, const std::optional<std::string>*>, 5> rules{{
      {"listRule", &collection.rules.list},
      {"viewRule", &collection.rules.view},
      {"createRule", &collection.rules.create},
      {"updateRule", &collection.rules.update},
      {"deleteRule", &collection.rules.del},
  }};
  const Collection* resolved = schema->FindById(collection.id);
  if (resolved == nullptr) return;
  std::vector<std::pair<const char*, const std::optional<std::string>*>> checked(rules.begin(),
                                                                                 rules.end());
  if (collection.type == domain::CollectionType::kAuth) {
    checked.emplace_back("authRule", &collection.auth.auth_rule);
    checked.emplace_back("manageRule", &collection.auth.manage_rule);
  }
  for (const auto& [name, rule] : checked) {
    if (!rule->has_value() || (*rule)->empty()) continue;
    if (collection.type == domain::CollectionType::kView && std::string_view(name) != "listRule" &&
        std::string_view(name) != "viewRule") {
      errors.push_back({prefix + name, "validation_invalid_rule",
                        "View collections are read-only: this rule must be null."});
      continue;
    }
    domain::filter::ResolveOptions options;
    options.allow_hidden = true;
    auto compiled =
        domain::filter::Compile(**rule, schema, *resolved, domain::filter::RequestContext{}, options);
    if (!compiled) {
      errors.push_back({prefix + name, "validation_invalid_rule", compiled.error().message});
    }
  }
}

// Resolves relation targets given by collection name (hand-written definitions) to ids.
void ResolveRelationTargets(domain::ProjectSchema& schema) {
  for (auto& collection : schema.collections) {
    for (auto& field : collection.fields) {
      if (field.type != domain::FieldType::kRelation || field.collection_id.empty()) continue;
      if (schema.FindById(field.collection_id) != nullptr) continue;
      if (const Collection* target = schema.Find(field.collection_id)) {
        field.collection_id = target->id;
      }
    }
  }
}

// Prefixes the keys of a validation error's field errors.
Error Prefixed(Error error, const std::string& prefix) {
  for (auto& field : error.fields) field.field = prefix + field.field;
  return error;
}

// Whether two definitions differ in anything but their timestamps.
bool SameDefinition(Collection a, const Collection& b) {
  a.created = b.created;
  a.updated = b.updated;
  return a == b;
}

Error InvalidCollection(std::vector<FieldError> fields) {
  Error error = Error::Make(ErrorCode::kInvalidArgument,
                            "Failed to save the collection: some values are invalid.");
  error.fields = std::move(fields);
  return error;
}

}  // namespace

Result<std::vector<Collection>> ManageCollections::List(std::string_view project) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  auto schema = entry->store->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  return (*schema)->collections;
}

Result<Collection> ManageCollections::Get(std::string_view project, std::string_view id_or_name) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  auto schema = entry->store->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  const Collection* collection = (*schema)->Find(id_or_name);
  if (collection == nullptr) return Fail(ErrorCode::kNotFound, "The collection was not found.");
  return *collection;
}

AuditWrite ManageCollections::Audit(const domain::Project& project,
                                    const std::vector<CollectionChange>& changes,
                                    const AuditContext& context) {
  if (audit_ == nullptr) return {};
  return [this, &project, &changes, &context](AuditAppender& appender) -> Result<void> {
    for (const auto& change : changes) {
      const Collection& subject = change.after ? *change.after : *change.before;
      AuditEntry entry;
      entry.org_id = project.org_id.str();
      entry.project_id = project.id.str();
      entry.actor = context.actor;
      entry.origin = context.origin;
      entry.action = !change.before ? "collection.create"
                     : !change.after ? "collection.delete"
                                     : "collection.update";
      entry.target_kind = "collection";
      entry.target_collection = subject.id;
      entry.target_id = subject.id;
      entry.diff.changes = domain::DiffCollectionForAudit(change.before ? &*change.before : nullptr,
                                                          change.after ? &*change.after : nullptr);
      if (auto done = audit_->Append(appender, entry); !done) return done;
    }
    return {};
  };
}

Result<Collection> ManageCollections::Create(std::string_view project, Collection draft,
                                             const std::string& actor,
                                             const AuditContext& context) {
  auto report = Apply(project, {std::move(draft)}, false, true, actor, context);
  if (!report) {
    Error error = std::move(report.error());
    for (auto& field : error.fields) {
      if (field.field.starts_with("collections.0.")) field.field.erase(0, 14);
    }
    return std::unexpected(std::move(error));
  }
  if (report->created.empty()) {
    return Fail(ErrorCode::kAlreadyExists, "A collection with this name or id already exists.");
  }
  return Get(project, report->created.front());
}

Result<Collection> ManageCollections::Update(std::string_view project,
                                             std::string_view id_or_name, Collection draft,
                                             const std::string& actor,
                                             const AuditContext& context) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  for (int attempt = 0;; ++attempt) {
    auto schema = entry->store->Schema();
    if (!schema) return std::unexpected(std::move(schema.error()));
    const Collection* before = (*schema)->Find(id_or_name);
    if (before == nullptr) return Fail(ErrorCode::kNotFound, "The collection was not found.");
    Collection next = draft;
    next.id = before->id;
    next.created = before->created;
    next.updated = clock_.Now();
    CompleteFields(next, before, random_);

    auto candidate = std::make_shared<domain::ProjectSchema>(**schema);
    for (auto& collection : candidate->collections) {
      if (collection.id == next.id) collection = next;
    }
    ResolveRelationTargets(*candidate);
    next = *candidate->FindById(before->id);

    std::vector<FieldError> errors;
    if (auto valid = domain::ValidateCollection(next, before, *candidate); !valid) {
      if (valid.error().fields.empty()) return std::unexpected(std::move(valid.error()));
      errors = std::move(valid.error().fields);
    }
    CheckRules(next, candidate, "", errors);
    if (!errors.empty()) return std::unexpected(InvalidCollection(std::move(errors)));
    if (SameDefinition(next, *before)) return *before;

    const std::vector<CollectionChange> changes{CollectionChange{*before, next}};
    auto applied = entry->store->ApplySchema(changes, (*schema)->version, actor, next.updated,
                                             Audit(entry->project, changes, context));
    if (applied) return *(*applied)->FindById(next.id);
    if (applied.error().code != ErrorCode::kAborted || attempt + 1 == kSchemaAttempts) {
      return std::unexpected(std::move(applied.error()));
    }
  }
}

Result<void> ManageCollections::Delete(std::string_view project, std::string_view id_or_name,
                                       const std::string& actor, const AuditContext& context) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  for (int attempt = 0;; ++attempt) {
    auto schema = entry->store->Schema();
    if (!schema) return std::unexpected(std::move(schema.error()));
    const Collection* collection = (*schema)->Find(id_or_name);
    if (collection == nullptr) return Fail(ErrorCode::kNotFound, "The collection was not found.");
    if (collection->system) {
      return Fail(ErrorCode::kInvalidArgument, "System collections cannot be deleted.");
    }
    for (const auto& other : (*schema)->collections) {
      if (other.id == collection->id) continue;
      for (const auto& field : other.fields) {
        if (field.type == domain::FieldType::kRelation && field.collection_id == collection->id) {
          return Fail(ErrorCode::kInvalidArgument,
                      "The collection is referenced by the relation field " + other.name + "." +
                          field.name + "; remove that field first.");
        }
      }
    }
    const std::vector<CollectionChange> changes{CollectionChange{*collection, std::nullopt}};
    auto applied = entry->store->ApplySchema(changes, (*schema)->version, actor, clock_.Now(),
                                             Audit(entry->project, changes, context));
    if (applied) return {};
    if (applied.error().code != ErrorCode::kAborted || attempt + 1 == kSchemaAttempts) {
      return std::unexpected(std::move(applied.error()));
    }
  }
}

Result<ImportReport> ManageCollections::Import(std::string_view project,
                                               std::vector<Collection> collections,
                                               bool delete_missing, const std::string& actor,
                                               const AuditContext& context) {
  return Apply(project, std::move(collections), delete_missing, false, actor, context);
}

Result<ImportReport> ManageCollections::Apply(std::string_view project,
                                              std::vector<Collection> collections,
                                              bool delete_missing, bool create_only,
                                              const std::string& actor,
                                              const AuditContext& context) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  for (int attempt = 0;; ++attempt) {
    auto schema = entry->store->Schema();
    if (!schema) return std::unexpected(std::move(schema.error()));
    const domain::ProjectSchema& current = **schema;
    const domain::Timestamp now = clock_.Now();

    // Plan: match each incoming collection with an existing one (by id, else by name), complete
    // it, and build the schema as it will be.
    auto candidate = std::make_shared<domain::ProjectSchema>();
    candidate->version = current.version;
    std::vector<const Collection*> matched(collections.size(), nullptr);
    std::vector<Collection> planned;
    for (std::size_t i = 0; i < collections.size(); ++i) {
      Collection next = collections[i];
      const Collection* before = nullptr;
      if (!next.id.empty()) before = current.FindById(next.id);
      if (before == nullptr && !next.name.empty()) {
        before = current.Find(next.name);
        if (before != nullptr && !next.id.empty() && before->id != next.id) before = nullptr;
      }
      if (create_only) {
        if (before != nullptr || (!next.id.empty() && current.FindById(next.id) != nullptr)) {
          return std::unexpected(Error::Field(
              "collections." + std::to_string(i) + ".name", "validation_collection_name_exists",
              "Collection name must be unique (case insensitive)."));
        }
      }
      matched[i] = before;
      if (before != nullptr) {
        next.id = before->id;
        next.created = before->created;
      } else {
        if (next.id.empty()) next.id = NewCollectionId(random_, current);
        next.created = now;
      }
      next.updated = now;
      CompleteFields(next, before, random_);
      planned.push_back(std::move(next));
    }
    // The resulting schema: existing collections in their order (replaced or kept or dropped),
    // then the new ones in the order given.
    for (const auto& existing : current.collections) {
      auto it = std::find_if(planned.begin(), planned.end(),
                             [&](const Collection& c) { return c.id == existing.id; });
      if (it != planned.end()) {
        candidate->collections.push_back(*it);
      } else if (!delete_missing || existing.system) {
        candidate->collections.push_back(existing);
      }
    }
    for (std::size_t i = 0; i < planned.size(); ++i) {
      if (matched[i] == nullptr) candidate->collections.push_back(planned[i]);
    }
    ResolveRelationTargets(*candidate);

    // Validate every incoming collection against the final schema.
    std::vector<FieldError> errors;
    for (std::size_t i = 0; i < planned.size(); ++i) {
      const std::string prefix = "collections." + std::to_string(i) + ".";
      for (std::size_t j = 0; j < i; ++j) {
        if (planned[j].id == planned[i].id || EqualsIgnoringAsciiCase(planned[j].name, planned[i].name)) {
          errors.push_back({prefix + "name", "validation_collection_duplicate",
                            "The import holds this collection twice."});
        }
      }
      const Collection* resolved = candidate->FindById(planned[i].id);
      if (resolved == nullptr) continue;
      if (auto valid = domain::ValidateCollection(*resolved, matched[i], *candidate); !valid) {
        if (valid.error().fields.empty()) {
          errors.push_back({prefix + "name", "validation_invalid_collection", valid.error().message});
        }
        for (auto& field : Prefixed(std::move(valid.error()), prefix).fields) {
          errors.push_back(std::move(field));
        }
      }
      CheckRules(*resolved, candidate, prefix, errors);
      // A collection may not take a name another collection gives up in the same change (a
      // swap or a chain of renames): stores rename tables one at a time. Two changes do it.
      if (matched[i] != nullptr && !EqualsIgnoringAsciiCase(matched[i]->name, resolved->name)) {
        for (const auto& existing : current.collections) {
          if (existing.id != resolved->id &&
              EqualsIgnoringAsciiCase(existing.name, resolved->name)) {
            errors.push_back({prefix + "name", "validation_collection_name_taken_in_change",
                              "The name " + resolved->name + " is still used by another "
                              "collection in this change; rename in two steps."});
          }
        }
      }
    }
    // Collections that would disappear must not be the target of a remaining relation.
    std::vector<CollectionChange> changes;
    ImportReport report;
    if (delete_missing) {
      for (const auto& existing : current.collections) {
        if (existing.system || candidate->FindById(existing.id) != nullptr) continue;
        for (const auto& kept : candidate->collections) {
          for (const auto& field : kept.fields) {
            if (field.type == domain::FieldType::kRelation && field.collection_id == existing.id) {
              errors.push_back({"collections", "validation_collection_referenced",
                                "Cannot delete " + existing.name + ": " + kept.name + "." +
                                    field.name + " refers to it."});
            }
          }
        }
        changes.push_back(CollectionChange{existing, std::nullopt});
        report.deleted.push_back(existing.name);
      }
    }
    if (!errors.empty()) return std::unexpected(InvalidCollection(std::move(errors)));

    // New collections first (relations may point at them), then updates, then deletions.
    std::vector<CollectionChange> ordered;
    for (std::size_t i = 0; i < planned.size(); ++i) {
      const Collection& next = *candidate->FindById(planned[i].id);
      if (matched[i] == nullptr) {
        ordered.push_back(CollectionChange{std::nullopt, next});
        report.created.push_back(next.name);
      }
    }
    for (std::size_t i = 0; i < planned.size(); ++i) {
      const Collection& next = *candidate->FindById(planned[i].id);
      if (matched[i] != nullptr && !SameDefinition(next, *matched[i])) {
        ordered.push_back(CollectionChange{*matched[i], next});
        report.updated.push_back(next.name);
      }
    }
    for (auto& change : changes) ordered.push_back(std::move(change));
    if (ordered.empty()) return report;

    auto applied = entry->store->ApplySchema(ordered, current.version, actor, now,
                                             Audit(entry->project, ordered, context));
    if (applied) return report;
    if (applied.error().code != ErrorCode::kAborted || attempt + 1 == kSchemaAttempts) {
      return std::unexpected(std::move(applied.error()));
    }
  }
}

Result<std::vector<SchemaHistoryEntry>> ManageCollections::History(std::string_view project) {
  auto entry = projects_.Find(project);
  if (!entry) return std::unexpected(std::move(entry.error()));
  return entry->store->History();
}

}  // namespace socle::application
