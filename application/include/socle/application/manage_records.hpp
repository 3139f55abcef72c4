#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/password_hasher.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/filter/resolver.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/password_policy.hpp"
#include "socle/domain/record.hpp"
#include "socle/domain/record_input.hpp"

namespace socle::application {

/// One permission of an API key: an action ("list", "view", "create", "update", "delete")
/// on a collection (its name or id, or "*" for every collection).
struct ApiKeyScope {
  std::string collection;
  std::string action;
  friend bool operator==(const ApiKeyScope&, const ApiKeyScope&) = default;
};

/// Who is asking and what their request carries, for rules (@request.*). `request.now` is set
/// by the use case from its clock.
struct Caller {
  /// Superusers bypass every rule and see hidden fields.
  bool superuser = false;
  domain::filter::RequestContext request;
  /// Keeps alive the schema `request.auth->collection` points into.
  domain::SchemaPtr auth_schema;
  /// Set for an API key: the key acts as a superuser (rules bypassed, hidden fields seen) for
  /// these actions only; anything else is permission_denied, and expansions into collections
  /// it may not view are left out.
  std::optional<std::vector<ApiKeyScope>> scopes;
  /// The API key's id, for the records of who did what.
  std::string api_key_id;
  /// An organisation's API key: its organisation's id. Its rights are its policies', filled in
  /// as `permissions` (PlatformCallers::ApiKey); without them it holds nothing.
  std::string api_key_org;
  /// Platform RBAC: a platform member (or an organisation's API key) calling a project's data
  /// API, with the permissions its policies grant at the project (sorted). records.read,
  /// records.create, records.update and records.delete let it act as a superuser for those
  /// actions; for the others the collections' rules decide, with @request.auth.roles holding
  /// its roles there. records.read_pii shows personal data in clear. nullopt for other callers.
  std::optional<std::vector<std::string>> permissions;
  /// Role switching: the role the caller's token acts with ("" for all of its roles).
  std::string active_role;
  /// Where the request came from and why, for the audit trail.
  AuditOrigin origin;
  /// Who the trail names when an operator acts through this caller (the CLI, an erasure);
  /// unset: derived from the identity above (Actor()).
  std::optional<AuditActor> acting_as;

  /// Whether `permissions` holds `permission`.
  bool Holds(std::string_view permission) const;
  /// The caller's roles (@request.auth.roles), or null when they have none known.
  const std::vector<std::string>* Roles() const;
  /// Field-level permissions: whether the caller reads `field` at all (readRoles) ...
  bool CanReadField(const domain::Field& field) const;
  /// ... writes it (writeRoles) ...
  bool CanWriteField(const domain::Field& field) const;
  /// ... and reads it in clear when it is personal data (pii) of `collection`: superusers,
  /// platform callers holding records.read_pii, API keys with the scope "<collection>:pii".
  bool SeesClear(const domain::Collection& collection, const domain::Field& field) const;

  /// Whether the caller may perform `action` on `collection` as far as API key scopes go
  /// (always true for callers without scopes; rules are checked separately).
  bool Permits(const domain::Collection& collection, std::string_view action) const;

  /// Who this caller is in the audit trail.
  AuditActor Actor() const;
};

/// The records API's bounds.
struct RecordLimits {
  std::int64_t max_per_page = 1000;
  std::size_t max_expand_depth = 6;
  std::size_t max_expand_paths = 32;
  std::size_t max_batch_requests = 50;
};

/// GET /records parameters, as the client sent them (validated here).
struct ListRecordsInput {
  std::int64_t page = 1;
  std::int64_t per_page = 30;
  std::string sort;
  std::string filter;
  std::string expand;
  bool skip_total = false;
};

/// A record with the records its relations expand to.
struct ExpandedRecord {
  const domain::Collection* collection = nullptr;  ///< points into the result's schema
  domain::Record record;
  struct Expansion {
    std::string name;  ///< the relation field, or the back-relation "comments_via_post"
    bool multiple = false;  ///< an array on the wire (else one object)
    std::vector<ExpandedRecord> records;
  };
  std::vector<Expansion> expand;
};

/// One page of a list.
struct RecordList {
  domain::SchemaPtr schema;  ///< the snapshot every collection pointer points into
  std::int64_t page = 1;
  std::int64_t per_page = 30;
  std::int64_t total_items = -1;  ///< -1 with skipTotal
  std::int64_t total_pages = -1;
  std::vector<ExpandedRecord> items;
};

/// One record as returned by view, create and update.
struct RecordResult {
  domain::SchemaPtr schema;
  ExpandedRecord record;
};

/// A create or update body.
struct RecordWriteInput {
  domain::JsonValue body = domain::JsonValue::Object({});
  domain::InputFormat format = domain::InputFormat::kJson;
  std::string expand;  ///< expansions of the returned record
  /// Reads JSON text spelled in form values (see domain::RecordInputOptions::parse_json); the
  /// adapter that parsed the body passes its parser. Empty: such values stay strings.
  std::function<domain::Result<domain::JsonValue>(std::string_view)> parse_json;
};

/// One operation of a batch.
struct BatchOperation {
  enum class Kind { kCreate, kUpdate, kUpsert, kDelete };
  Kind kind = Kind::kCreate;
  std::string collection;  ///< id or name
  std::string id;          ///< update/delete; upsert: body id
  RecordWriteInput input;
};

/// The result of one batch operation: the record written (nothing for a delete).
struct BatchItemResult {
  BatchOperation::Kind kind = BatchOperation::Kind::kCreate;
  bool created = false;  ///< an upsert that created
  std::optional<RecordResult> record;
};

/// Why a batch failed (nothing was written): the operation that failed, or none when the batch
/// as a whole was refused (unknown project, no operations, too many), and the error.
struct BatchFailure {
  std::optional<std::size_t> index;
  domain::Error error;
};

/// How the records API treats the passwords of auth collections' records.
struct PasswordSettings {
  /// Hashes new passwords and checks old ones. Without one, writing a password is refused
  /// (failed_precondition): an embedding without authentication has no auth records.
  PasswordHasher* hasher = nullptr;
  /// Checked for every new password; the collection's password field may raise min_length
  /// (its min) and lower max_length (its max).
  domain::PasswordPolicy policy;
};

/// The records API's use cases (PocketBase's semantics): rules enforced for everyone but
/// superusers — null rule: superusers only (permission_denied); "" everyone; otherwise a filter.
/// List applies rule && filter in the store's WHERE; view answers not_found when the record is
/// missing or the view rule hides it; create checks the create rule against the new values
/// inside the write transaction; update and delete first require the record to be visible
/// (view rule, else not_found), then their own rule (permission_denied). Relations are checked
/// to exist; deletes cascade (cascadeDelete), clear optional references, or refuse when a
/// required reference would dangle. Hidden fields are written by superusers only (their keys
/// are dropped from anyone else's body, as PocketBase does).
///
/// Auth collections, as PocketBase's record upsert form: `password` with `passwordConfirm`
/// (required on create, and whenever one of password, passwordConfirm, oldPassword is given),
/// `oldPassword` required to change a password unless the caller manages the record (a
/// superuser, or the collection's manageRule holds for them on the record); a new password is
/// checked against PasswordSettings::policy, hashed before the write transaction starts (the
/// hash costs tens of milliseconds and must not hold the store's write lock) and replaces
/// tokenKey, which revokes every token issued for the record. E-mail and verified change only
/// for managers (a new record is created unverified unless a manager says otherwise); a changed
/// e-mail also replaces tokenKey.
///
/// With an audit trail, every change commits with its events (docs/audit.md): each record
/// created, updated or deleted — cascades and cleared references included — gets one, with
/// the masked diff; a write that fails or is refused gets one of its own (outcome denied or
/// error); reads of collections with auditReads get one each (a read whose event cannot be
/// written fails); updates and deletes in collections with auditReasonRequired need
/// Caller::origin.reason (invalid_argument without). Thread-safe.
class ManageRecords final {
 public:
  /// `settings`, when given, supplies each project's batch settings (enabled, maxRequests,
  /// timeout), read per batch; without it batches run with the defaults and
  /// `limits.max_batch_requests`. `audit`, when given, records every change. Both must
  /// outlive this object.
  ManageRecords(ProjectDirectory& projects, Clock& clock, RandomSource& random,
                RecordLimits limits = {}, ManageSettings* settings = nullptr,
                PasswordSettings passwords = {}, AuditTrail* audit = nullptr)
      : projects_(projects),
        clock_(clock),
        random_(random),
        limits_(limits),
        settings_(settings),
        passwords_(std::move(passwords)),
        audit_(audit) {}

  domain::Result<RecordList> List(std::string_view project, std::string_view collection,
                                  const ListRecordsInput& input, Caller caller);
  domain::Result<RecordResult> View(std::string_view project, std::string_view collection,
                                    std::string_view id, std::string_view expand, Caller caller);
  domain::Result<RecordResult> Create(std::string_view project, std::string_view collection,
                                      RecordWriteInput input, Caller caller);
  domain::Result<RecordResult> Update(std::string_view project, std::string_view collection,
                                      std::string_view id, RecordWriteInput input, Caller caller);
  domain::Result<void> Delete(std::string_view project, std::string_view collection,
                              std::string_view id, Caller caller);
  /// Runs every operation in one transaction, in order; the first failure rolls all back.
  /// Refused as a whole (BatchFailure without index): permission_denied "Batch requests are
  /// not allowed." when the project's settings disable batches; invalid_argument for no
  /// operation or more than the project's batch.maxRequests (0: limits().max_batch_requests);
  /// deadline_exceeded when the batch outlives batch.timeout; not_found for an unknown project.
  std::expected<std::vector<BatchItemResult>, BatchFailure> Batch(
      std::string_view project, std::vector<BatchOperation> operations, Caller caller);

  const RecordLimits& limits() const noexcept { return limits_; }

 private:
  struct Target;
  struct PasswordPlan;
  domain::Result<Target> Open(std::string_view project, std::string_view collection);
  domain::Result<RecordList> ListUnaudited(std::string_view project, std::string_view collection,
                                           const ListRecordsInput& input, Caller caller,
                                           bool& audited);
  domain::Result<RecordResult> ViewUnaudited(std::string_view project,
                                             std::string_view collection, std::string_view id,
                                             std::string_view expand, Caller caller,
                                             bool& audited);
  // (`audited`: set once the collection is known, when its reads are recorded.)
  // Records a read of a collection with auditReads (`failure`: how it failed, null when it
  // succeeded). Fails when a successful read could not be recorded.
  domain::Result<void> AuditRead(std::string_view project, std::string_view collection,
                                 std::string_view id, const Caller& caller,
                                 const domain::Error* failure, std::string_view action);
  // The password part of a write to an auth collection, decided and hashed before the write
  // transaction; `id` is empty for a create.
  domain::Result<PasswordPlan> PlanPasswords(const Target& target, std::string_view id,
                                             const RecordWriteInput& input, const Caller& caller);
  // The steps of create, update and delete inside a write transaction (shared with batches).
  domain::Result<domain::Record> CreateIn(RecordTransaction& tx, const Target& target,
                                          const RecordWriteInput& input, const Caller& caller,
                                          const PasswordPlan& plan);
  domain::Result<domain::Record> UpdateIn(RecordTransaction& tx, const Target& target,
                                          std::string_view id, const RecordWriteInput& input,
                                          const Caller& caller, const PasswordPlan& plan);
  domain::Result<void> DeleteIn(RecordTransaction& tx, const Target& target, std::string_view id,
                                const Caller& caller);
  // The result of a write: the record and its expansions, read after commit.
  domain::Result<RecordResult> Expanded(const Target& target, domain::Record record,
                                        std::string_view expand, const Caller& caller);
  // Runs `work` in a write transaction of the target's store, recording the changes it makes
  // when there is an audit trail.
  domain::Result<void> WriteAudited(ProjectStore& store, const domain::Project& project,
                                    const Caller& caller,
                                    const std::function<domain::Result<void>(RecordTransaction&)>& work);
  // Records, in a transaction of its own, an attempt that changed nothing: a refused or failed
  // write, or a read of a collection with auditReads. Returns the recording's own failure.
  domain::Result<void> RecordAttempt(const ProjectDirectory::Entry& entry, const Caller& caller,
                                     std::string action, std::string collection_id,
                                     std::string record_id, domain::AuditOutcome outcome);
  // RecordAttempt for a write that failed with `error`. A failure to record it is not
  // reported: the caller gets the write's own error.
  void RecordFailure(const ProjectDirectory::Entry& entry, const Caller& caller,
                     std::string action, std::string collection_id, std::string record_id,
                     const domain::Error& error);

  ProjectDirectory& projects_;
  Clock& clock_;
  RandomSource& random_;
  RecordLimits limits_;
  ManageSettings* settings_;
  PasswordSettings passwords_;
  AuditTrail* audit_;
};

}  // namespace socle::application
