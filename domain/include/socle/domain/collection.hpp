#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::domain {

/// What a collection is: a table of records (base), an identity table (auth: records that can
/// sign in), or a read-only projection defined by a query (view).
enum class CollectionType { kBase, kAuth, kView };

/// "base", "auth", "view".
std::string_view ToString(CollectionType type) noexcept;
std::optional<CollectionType> ParseCollectionType(std::string_view text) noexcept;

/// The field types of PocketBase ≥ 0.23, with the same names on the wire.
enum class FieldType {
  kText,      ///< UTF-8 string; min/max length in characters, optional regex pattern
  kEditor,    ///< rich text (HTML); maxSize in bytes
  kNumber,    ///< IEEE double; min/max, onlyInt
  kBool,      ///< true/false
  kEmail,     ///< e-mail address; onlyDomains / exceptDomains
  kUrl,       ///< http(s) URL; onlyDomains / exceptDomains
  kDate,      ///< instant, "YYYY-MM-DD HH:MM:SS.mmmZ" on the wire; min/max
  kAutodate,  ///< instant set by the server on create and/or update; never from input
  kSelect,    ///< one (maxSelect ≤ 1) or several of `values`
  kJson,      ///< any JSON value; maxSize in bytes of its serialisation
  kRelation,  ///< id(s) of records of `collectionId`; maxSelect, cascadeDelete
  kFile,      ///< file name(s); metadata only until the storage work lands
  kPassword,  ///< auth collections only: write-only Argon2id hash (PHC string)
};

/// "text", "editor", "number" ... as PocketBase spells them.
std::string_view ToString(FieldType type) noexcept;
std::optional<FieldType> ParseFieldType(std::string_view text) noexcept;

/// One field of a collection. The options live flat on the field, as in PocketBase's JSON; only
/// the ones meaningful for `type` are used (the others keep their defaults and are not exported).
struct Field {
  /// Stable identity across renames ("text3208210256" in PocketBase exports, or generated).
  std::string id;
  /// The column name: [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes, unique case-insensitively.
  std::string name;
  FieldType type = FieldType::kText;
  bool system = false;       ///< id, created, updated (and auth fields): cannot be removed
  bool hidden = false;       ///< never returned by the records API, only usable in rules
  bool presentable = false;  ///< shown by admin UIs as the record's label
  bool required = false;     ///< the value must not be the type's zero value

  // text: min/max length in Unicode characters (min 0 = no bound; max 0 = PocketBase's default
  // of 5000), regex pattern (ECMAScript syntax, searched in the value as PocketBase's
  // regexp.MatchString does: anchor it with ^...$ to match the whole value),
  // autogeneratePattern for the id field.
  // number: min/max value (nullopt = no bound). json/editor/file: max_size in bytes.
  std::optional<double> min;
  std::optional<double> max;
  std::string pattern;
  std::string autogenerate_pattern;
  bool primary_key = false;  ///< the id field
  bool only_int = false;     ///< number
  std::vector<std::string> only_domains;    ///< email/url
  std::vector<std::string> except_domains;  ///< email/url
  std::string min_date;  ///< date: canonical instant or "" (no bound)
  std::string max_date;  ///< date
  bool on_create = false;  ///< autodate
  bool on_update = false;  ///< autodate
  std::vector<std::string> values;  ///< select
  /// select/relation/file: at most this many items; ≤ 1 means a single value (a string on the
  /// wire), more means an array.
  std::int64_t max_select = 0;
  std::int64_t min_select = 0;  ///< relation
  std::int64_t max_size = 0;    ///< json/editor/file in bytes (0 = the default limit)
  std::string collection_id;    ///< relation: the target collection's id
  bool cascade_delete = false;  ///< relation: deleting the target deletes this record
  std::vector<std::string> mime_types;  ///< file
  std::vector<std::string> thumbs;      ///< file
  bool protected_file = false;          ///< file ("protected" on the wire)
  bool convert_urls = false;            ///< editor
  std::int64_t cost = 0;                ///< password (bcrypt cost in PocketBase; kept for export)

  // Field-level permissions (a Socle extension; written on the wire only when set). When not
  // empty, only callers holding one of these roles (@request.auth.roles) read, or write, the
  // field; superusers, and platform callers holding records permissions, always do.
  std::vector<std::string> read_roles;   ///< "readRoles"
  std::vector<std::string> write_roles;  ///< "writeRoles"
  /// Personal data ("pii"): the mask its value is returned under to callers who may not read
  /// personal data in clear — "email" (j***@e***.com), "digits" (****1234), "text" (D***) — or
  /// "" for a field that is not personal data. text, email, url and editor fields.
  std::string pii;

  /// True for select/relation/file fields holding several values (max_select > 1): stored and
  /// returned as an array of strings.
  bool IsMultiple() const noexcept;

  friend bool operator==(const Field&, const Field&) = default;
};

/// One column of an index, as declared.
struct IndexColumn {
  std::string field;
  bool descending = false;
  friend bool operator==(const IndexColumn&, const IndexColumn&) = default;
};

/// An index declared on a collection. PocketBase declares them as SQL text
/// ("CREATE UNIQUE INDEX `idx_x` ON `posts` (`title`)"); Socle parses that text into this
/// structure (see ParseIndexSql) and builds each store's DDL from the structure only, so no
/// text the caller wrote ever reaches a database.
struct CollectionIndex {
  std::string name;  ///< [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes, unique in the project
  bool unique = false;
  std::vector<IndexColumn> columns;
  /// A partial index: only rows whose text fields named here are not empty are indexed
  /// (PocketBase's `WHERE email != ''`, so that many records may leave an optional unique
  /// field empty). The only partial form supported; the fields must be stored as text.
  std::vector<std::string> where_not_empty;
  friend bool operator==(const CollectionIndex&, const CollectionIndex&) = default;
};

/// Parses PocketBase's index declaration: `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON
/// table (column [ASC|DESC] [, ...]) [WHERE column != '' [AND column != '' ...]]`,
/// identifiers bare or quoted with `"`, '`' or [], `<>` accepted for `!=`. invalid_argument
/// naming the problem (any other WHERE condition, expressions and COLLATE are refused). The table name is returned through `table` for the caller to check.
Result<CollectionIndex> ParseIndexSql(std::string_view sql, std::string* table = nullptr);
/// The declaration in PocketBase's spelling, for exports: CREATE UNIQUE INDEX `n` ON `t` (`a` DESC)
/// [WHERE `a` != ''].
std::string ToIndexSql(const CollectionIndex& index, std::string_view collection_name);

/// The five API rules. nullopt: superusers only; "": everyone; otherwise a filter expression
/// evaluated against the request (see domain/filter).
struct CollectionRules {
  std::optional<std::string> list;
  std::optional<std::string> view;
  std::optional<std::string> create;
  std::optional<std::string> update;
  std::optional<std::string> del;
  friend bool operator==(const CollectionRules&, const CollectionRules&) = default;
};

/// An e-mail an auth collection sends (verification, password reset, e-mail change), with
/// PocketBase's placeholders: {APP_NAME}, {APP_URL}, {TOKEN}, {RECORD:<field>}.
struct MailTemplate {
  std::string subject;
  std::string body;  ///< HTML
  friend bool operator==(const MailTemplate&, const MailTemplate&) = default;
};

/// What makes an auth collection one: who may sign in and how, how long its tokens live, and
/// the e-mails it sends. Ignored for other collection types. Names and defaults are
/// PocketBase's (≥ 0.23).
struct AuthOptions {
  /// Checked against the record after its password was verified, before a token is issued:
  /// "" anyone with an account, nullopt nobody (sign-in disabled), else a filter such as
  /// `verified = true`.
  std::optional<std::string> auth_rule = std::string();
  /// Who may manage other records of the collection as a superuser would (change their
  /// e-mail, password without the old one, verified flag): nullopt superusers only.
  std::optional<std::string> manage_rule;
  bool password_auth = true;  ///< passwordAuth.enabled
  /// passwordAuth.identityFields: the fields an identity is looked up in, in order; each
  /// needs a unique index.
  std::vector<std::string> identity_fields = {"email"};
  // Token lifetimes in seconds.
  std::int64_t auth_token_duration = 604800;              ///< 7 days
  std::int64_t password_reset_token_duration = 1800;      ///< 30 minutes
  std::int64_t email_change_token_duration = 1800;        ///< 30 minutes
  std::int64_t verification_token_duration = 259200;      ///< 3 days
  std::int64_t file_token_duration = 180;                 ///< 3 minutes
  MailTemplate verification_template;
  MailTemplate reset_password_template;
  MailTemplate confirm_email_change_template;
  friend bool operator==(const AuthOptions&, const AuthOptions&) = default;
};

/// PocketBase's default auth options (with its default e-mail templates).
AuthOptions DefaultAuthOptions();

/// The smallest and largest token lifetime an auth collection may set, in seconds.
inline constexpr std::int64_t kMinTokenDuration = 10;
inline constexpr std::int64_t kMaxTokenDuration = 10LL * 365 * 24 * 3600;

/// A collection: its schema (fields), indexes and rules. For base and auth collections a real
/// table with one typed column per field lives in the project's store.
struct Collection {
  /// Stable identity across renames: imported ids are kept ([A-Za-z0-9_], 1-64 bytes); new
  /// collections get "pbc_" and 10 random digits, as PocketBase does.
  std::string id;
  /// The table name: [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes, unique in the project
  /// case-insensitively, not starting with '_' unless system.
  std::string name;
  CollectionType type = CollectionType::kBase;
  bool system = false;
  /// Every field, system fields (id, created, updated) included, in declaration order.
  std::vector<Field> fields;
  std::vector<CollectionIndex> indexes;
  CollectionRules rules;
  /// view collections: the SELECT that defines them.
  std::string view_query;
  /// auth collections: sign-in, token and e-mail options.
  AuthOptions auth = DefaultAuthOptions();
  /// The audit trail records reads of this collection's records too (auditReads), not only
  /// changes.
  bool audit_reads = false;
  /// Updates and deletes of this collection's records must give a reason
  /// (auditReasonRequired: X-Audit-Reason, --reason), as GxP rules require.
  bool audit_reason_required = false;
  Timestamp created;
  Timestamp updated;

  /// The field named `name` (exact, case-sensitive match), or nullptr.
  const Field* FindField(std::string_view name) const noexcept;
  /// The index of the field named `name` in `fields`, or nullopt.
  std::optional<std::size_t> FieldIndex(std::string_view name) const noexcept;
  const Field* FindFieldById(std::string_view id) const noexcept;

  friend bool operator==(const Collection&, const Collection&) = default;
};

/// The three system fields every base collection starts with, as PocketBase ≥ 0.23 declares
/// them: id (text, primary key, 15 chars [a-z0-9]), created and updated (autodate).
std::vector<Field> SystemFields();

/// The fields an auth collection has besides SystemFields(), as PocketBase declares them:
/// password (hidden, write-only hash), tokenKey (hidden secret whose change revokes every
/// token of the record), email, emailVisibility, verified.
std::vector<Field> AuthSystemFields();

/// The unique indexes an auth collection needs: tokenKey, and email where not empty.
std::vector<CollectionIndex> AuthSystemIndexes(std::string_view collection_id);

/// The id and name of the platform's superusers collection, the same as PocketBase's so that
/// its SDKs recognise a superuser's token.
inline constexpr std::string_view kSuperusersCollectionId = "pbc_3142635823";
inline constexpr std::string_view kSuperusersCollectionName = "_superusers";

}  // namespace socle::domain
