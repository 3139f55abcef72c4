#include "socle/domain/collection_validation.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "socle/domain/schema_diff.hpp"

namespace socle::domain {
namespace {

// The largest integer a JavaScript client reads exactly; PocketBase bounds its integer options
// with it.
constexpr double kMaxSafeJsonInt = 9007199254740991.0;

char Lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Lower(c);
  return out;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && EqualsIgnoringCase(text.substr(0, prefix.size()), prefix);
}

bool ContainsVia(std::string_view name) { return ToLower(name).find("_via_") != std::string::npos; }

/// Shortest decimal spelling of a number, as Go's %v prints the thresholds in messages.
std::string FormatNumber(double value) {
  std::array<char, 32> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc()) return "0";
  return std::string(buffer.data(), end);
}

bool IsIntegral(double value) noexcept {
  return std::isfinite(value) && std::trunc(value) == value;
}

// Field errors keyed as PocketBase keys them; like PocketBase, one error per key (the first).
class Problems {
 public:
  void Add(std::string key, std::string_view code, std::string message) {
    for (const auto& existing : errors_) {
      if (existing.field == key) return;
    }
    errors_.push_back(FieldError{std::move(key), std::string(code), std::move(message)});
  }
  bool Has(std::string_view key) const noexcept {
    for (const auto& existing : errors_) {
      if (existing.field == key) return true;
    }
    return false;
  }
  Result<void> Finish() {
    if (errors_.empty()) return {};
    return Fail(Error::Fields(std::move(errors_)));
  }

 private:
  std::vector<FieldError> errors_;
};

constexpr std::string_view kRequired = "validation_required";
constexpr std::string_view kRequiredMessage = "Cannot be blank.";

void CheckIdentifier(Problems& problems, const std::string& key, std::string_view name) {
  if (name.empty()) {
    problems.Add(key, kRequired, std::string(kRequiredMessage));
  } else if (name.size() > kMaxIdentifierLength) {
    problems.Add(key, "validation_length_out_of_range", "The length must be between 1 and 63.");
  } else if (!IsValidIdentifier(name)) {
    problems.Add(key, "validation_match_invalid", "Must be in a valid format.");
  } else if (ContainsVia(name)) {
    problems.Add(key, "validation_found_via", "The value cannot contain \"_via_\".");
  }
}

bool IsValidCollectionId(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxCollectionIdLength) return false;
  for (char c : id) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// PocketBase's own tables that are not collections, the prefixes SQLite and PostgreSQL keep
// for themselves, and the audit trail's tables (_audit and its monthly partitions): a collection with such a name could not have its table.
// PocketBase's internal tables, and `_superusers`, which every project reaches in the platform
// store: a project's own collection of that name (or id) would shadow it.
constexpr std::array<std::string_view, 5> kReservedCollectionNames{
    "_collections", "_params", "_migrations", "_logs", kSuperusersCollectionName};
constexpr std::array<std::string_view, 3> kReservedTablePrefixes{"sqlite_", "pg_", "_audit"};

// Names PocketBase keeps for itself in records and filters.
constexpr std::array<std::string_view, 7> kReservedFieldNames{
    "null", "true", "false", "_rowid_", "expand", "collectionId", "collectionName"};
constexpr std::array<std::string_view, 2> kReservedAuthFieldNames{"passwordConfirm", "oldPassword"};

bool IsTextish(FieldType type) noexcept {
  return type == FieldType::kText || type == FieldType::kEditor || type == FieldType::kEmail ||
         type == FieldType::kUrl;
}

bool Compiles(const std::string& pattern, std::string& what) {
  try {
    std::regex compiled(pattern, std::regex::ECMAScript);
    (void)compiled;
    return true;
  } catch (const std::regex_error& error) {
    what = error.what();
    return false;
  }
}

bool IsDomain(std::string_view domain) noexcept {
  if (domain.empty() || domain.size() > 253 || domain.find('.') == std::string_view::npos) {
    return false;
  }
  std::size_t start = 0;
  while (start <= domain.size()) {
    std::size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    start = dot + 1;
  }
  return true;
}

// "100x100", "0x50t", "50x0b", "100x100f" as PocketBase's thumbs; 0x0 is meaningless.
bool IsThumbSize(std::string_view thumb) noexcept {
  std::size_t x = thumb.find('x');
  if (x == std::string_view::npos || x == 0) return false;
  std::string_view width = thumb.substr(0, x);
  std::string_view rest = thumb.substr(x + 1);
  if (!rest.empty() && (rest.back() == 't' || rest.back() == 'b' || rest.back() == 'f')) {
    rest.remove_suffix(1);
  }
  if (rest.empty()) return false;
  for (std::string_view digits : {width, rest}) {
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
    }
  }
  return true;
}

bool IsZeroThumb(std::string_view thumb) noexcept {
  return thumb == "0x0" || thumb == "0x0t" || thumb == "0x0b" || thumb == "0x0f";
}

class CollectionValidator {
 public:
  CollectionValidator(const Collection& c, const Collection* before, const ProjectSchema& schema)
      : c_(c), before_(before), schema_(schema) {}

  Result<void> Run() {
    CheckId();
    CheckName();
    CheckTypeAndSystem();
    if (c_.type == CollectionType::kView) {
      if (c_.view_query.empty()) {
        problems_.Add("viewQuery", kRequired, std::string(kRequiredMessage));
      }
      CheckFieldIdentities();
      if (!c_.indexes.empty()) {
        problems_.Add("indexes", "validation_indexes_not_supported",
                      "View collections don't support indexes.");
      }
      return problems_.Finish();
    }
    CheckSystemFields();
    CheckFieldIdentities();
    for (std::size_t i = 0; i < c_.fields.size(); ++i) CheckFieldOptions(i);
    CheckIndexes();
    if (c_.type == CollectionType::kAuth) CheckAuth();
    return problems_.Finish();
  }

 private:
  std::string FieldKey(std::size_t i, std::string_view option) const {
    return "fields." + std::to_string(i) + "." + std::string(option);
  }

  // The other collections of the project: `c` itself (and its previous version) excluded.
  template <typename Visit>
  void ForEachOther(Visit visit) const {
    for (const auto& other : schema_.collections) {
      if (other.id == c_.id) continue;
      if (before_ != nullptr && other.id == before_->id) continue;
      visit(other);
    }
  }

  void CheckId() {
    if (c_.id.empty()) {
      problems_.Add("id", kRequired, std::string(kRequiredMessage));
    } else if (c_.id.size() > kMaxCollectionIdLength) {
      problems_.Add("id", "validation_length_out_of_range", "The length must be between 1 and 64.");
    } else if (!IsValidCollectionId(c_.id)) {
      problems_.Add("id", "validation_match_invalid", "Must be in a valid format.");
    } else if (before_ != nullptr && before_->id != c_.id) {
      problems_.Add("id", "validation_values_mismatch", "Values don't match.");
    } else if (c_.id == kSuperusersCollectionId) {
      problems_.Add("id", "validation_collection_id_reserved",
                    "The id is reserved for the platform's superusers.");
    }
  }

  void CheckName() {
    CheckIdentifier(problems_, "name", c_.name);
    if (problems_.Has("name")) return;
    if (before_ != nullptr && before_->system && before_->name != c_.name) {
      problems_.Add("name", "validation_collection_system_name_change",
                    "System collection name cannot be changed.");
      return;
    }
    if (c_.name.front() == '_' && !c_.system) {
      problems_.Add("name", "validation_collection_name_invalid",
                    "Only system collections may have a name starting with \"_\".");
      return;
    }
    for (std::string_view reserved : kReservedCollectionNames) {
      if (EqualsIgnoringCase(c_.name, reserved)) {
        problems_.Add("name", "validation_collection_name_invalid",
                      "The name is reserved for an internal table.");
        return;
      }
    }
    for (std::string_view prefix : kReservedTablePrefixes) {
      if (StartsWithIgnoringCase(c_.name, prefix)) {
        problems_.Add("name", "validation_collection_name_invalid",
                      "The name must not start with \"" + std::string(prefix) + "\".");
        return;
      }
    }
    ForEachOther([&](const Collection& other) {
      if (EqualsIgnoringCase(other.name, c_.name)) {
        problems_.Add("name", "validation_collection_name_exists",
                      "Collection name must be unique (case insensitive).");
      } else if (other.id == c_.name) {
        problems_.Add("name", "validation_collection_name_id_duplicate",
                      "The name must not match an existing collection id.");
      }
    });
  }

  void CheckTypeAndSystem() {
    if (before_ == nullptr) return;
    if (before_->type != c_.type) {
      problems_.Add("type", "validation_collection_type_change",
                    "Collection type cannot be changed.");
    }
    if (before_->system != c_.system) {
      problems_.Add("system", "validation_collection_system_flag_change",
                    "System collection state cannot be changed.");
    }
  }

  // id, created and updated must be there with the definitions every store relies on: the id
  // as a text primary key, created/updated as server-set instants.
  void CheckSystemFields() {
    const std::vector<Field> system = SystemFields();
    const Field* id = c_.FindField("id");
    if (id == nullptr || id->type != FieldType::kText || !id->primary_key) {
      problems_.Add("fields", "validation_missing_primary_key",
                    "Missing or invalid \"id\" PK field.");
    }
    for (std::size_t s = 1; s < system.size(); ++s) {
      const Field* field = c_.FindField(system[s].name);
      if (field == nullptr || field->type != FieldType::kAutodate ||
          field->on_create != system[s].on_create || field->on_update != system[s].on_update) {
        problems_.Add("fields", "validation_missing_system_field",
                      "Missing or invalid system \"" + system[s].name + "\" field.");
      }
    }
    if (before_ == nullptr) return;
    for (const auto& old_field : before_->fields) {
      if (!old_field.system) continue;
      const Field* new_field = c_.FindFieldById(old_field.id);
      if (new_field == nullptr || new_field->name != old_field.name) {
        problems_.Add("fields", "validation_system_field_change",
                      "System fields cannot be deleted or renamed.");
      }
    }
  }

  // Auth collections: their system fields with the types PocketBase gives them, identity
  // fields backed by unique indexes, token lifetimes within bounds. Password fields belong to
  // auth collections only (checked in CheckFieldOptions for the others).
  void CheckAuth() {
    for (const Field& system : AuthSystemFields()) {
      const Field* field = c_.FindField(system.name);
      if (field == nullptr || field->type != system.type || !field->system) {
        problems_.Add("fields", "validation_missing_system_field",
                      "Missing or invalid system \"" + system.name + "\" field.");
        continue;
      }
      if ((system.hidden && !field->hidden) || (system.required && !field->required)) {
        problems_.Add("fields", "validation_invalid_system_field",
                      "The system \"" + system.name + "\" field must stay " +
                          (system.hidden ? "hidden and required." : "required."));
      }
    }
    const Field* password = c_.FindField("password");
    if (password != nullptr && password->type == FieldType::kPassword &&
        password->min.value_or(0) < 8) {
      problems_.Add("fields", "validation_invalid_system_field",
                    "The password field's min length must be at least 8.");
    }
    std::size_t passwords = 0;
    for (const Field& field : c_.fields) passwords += field.type == FieldType::kPassword ? 1 : 0;
    if (passwords > 1) {
      problems_.Add("fields", "validation_invalid_system_field",
                    "An auth collection has exactly one password field.");
    }

    const AuthOptions& auth = c_.auth;
    if (auth.password_auth && auth.identity_fields.empty()) {
      problems_.Add("passwordAuth.identityFields", kRequired, std::string(kRequiredMessage));
    }
    for (std::size_t i = 0; i < auth.identity_fields.size(); ++i) {
      const std::string key = "passwordAuth.identityFields." + std::to_string(i);
      const std::string& name = auth.identity_fields[i];
      const Field* field = c_.FindField(name);
      if (field == nullptr || field->type == FieldType::kPassword ||
          StorageClassOf(*field) != StorageClass::kText || field->hidden) {
        problems_.Add(key, "validation_invalid_identity_field",
                      "The identity field must be a visible text-like field.");
        continue;
      }
      const bool unique = std::any_of(c_.indexes.begin(), c_.indexes.end(), [&](const auto& index) {
        return index.unique && index.columns.size() == 1 && index.columns[0].field == name;
      });
      if (!unique) {
        problems_.Add(key, "validation_missing_unique_constraint",
                      "The identity field must have a UNIQUE index.");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (auth.identity_fields[j] == name) {
          problems_.Add(key, "validation_duplicated_identity_field", "Duplicated identity field.");
        }
      }
    }
    const std::array<std::pair<const char*, std::int64_t>, 5> durations{{
        {"authToken.duration", auth.auth_token_duration},
        {"passwordResetToken.duration", auth.password_reset_token_duration},
        {"emailChangeToken.duration", auth.email_change_token_duration},
        {"verificationToken.duration", auth.verification_token_duration},
        {"fileToken.duration", auth.file_token_duration},
    }};
    for (const auto& [key, seconds] : durations) {
      if (seconds < kMinTokenDuration || seconds > kMaxTokenDuration) {
        problems_.Add(key, "validation_out_of_range",
                      "Must be between " + std::to_string(kMinTokenDuration) + " and " +
                          std::to_string(kMaxTokenDuration) + " seconds.");
      }
    }
    const std::array<std::pair<const char*, const MailTemplate*>, 3> templates{{
        {"verificationTemplate", &auth.verification_template},
        {"resetPasswordTemplate", &auth.reset_password_template},
        {"confirmEmailChangeTemplate", &auth.confirm_email_change_template},
    }};
    for (const auto& [key, tmpl] : templates) {
      if (tmpl->subject.empty()) {
        problems_.Add(std::string(key) + ".subject", kRequired, std::string(kRequiredMessage));
      } else if (tmpl->subject.find_first_of("\r\n") != std::string::npos) {
        problems_.Add(std::string(key) + ".subject", "validation_invalid_subject",
                      "The subject must be one line.");
      }
      if (tmpl->body.empty()) {
        problems_.Add(std::string(key) + ".body", kRequired, std::string(kRequiredMessage));
      }
    }
  }

  // Ids and names of every field, for every collection type.
  void CheckFieldIdentities() {
    for (std::size_t i = 0; i < c_.fields.size(); ++i) {
      const Field& field = c_.fields[i];
      const std::string id_key = FieldKey(i, "id");
      if (field.id.empty()) {
        problems_.Add(id_key, kRequired, std::string(kRequiredMessage));
      } else if (field.id.size() > kMaxFieldIdLength) {
        problems_.Add(id_key, "validation_length_out_of_range",
                      "The length must be between 1 and 100.");
      } else {
        for (std::size_t j = 0; j < i; ++j) {
          if (c_.fields[j].id == field.id) {
            problems_.Add(id_key, "validation_duplicated_field_id",
                          "Duplicated or invalid field id \"" + field.id + "\".");
            break;
          }
        }
      }

      const std::string name_key = FieldKey(i, "name");
      CheckIdentifier(problems_, name_key, field.name);
      if (problems_.Has(name_key)) continue;
      for (std::string_view reserved : kReservedFieldNames) {
        if (field.name == reserved)
          problems_.Add(name_key, "validation_not_in_invalid", "Must not be in list.");
      }
      if (c_.type == CollectionType::kAuth) {
        for (std::string_view reserved : kReservedAuthFieldNames) {
          if (field.name == reserved) {
            problems_.Add(name_key, "validation_reserved_field_name",
                          "The field name is reserved and cannot be used.");
          }
        }
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (EqualsIgnoringCase(c_.fields[j].name, field.name)) {
          problems_.Add(name_key, "validation_duplicated_field_name",
                        "Duplicated or invalid field name " + field.name + ".");
          break;
        }
      }
    }
  }

  void CheckFieldAccess(std::size_t i) {
    const Field& field = c_.fields[i];
    auto role_id = [](std::string_view id) {
      return !id.empty() && id.size() <= 64 &&
             std::all_of(id.begin(), id.end(), [](char ch) {
               return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                      ch == '.' || ch == '-';
             });
    };
    for (auto [option, roles] : {std::pair{"readRoles", &field.read_roles},
                                 std::pair{"writeRoles", &field.write_roles}}) {
      if (roles->size() > 32) {
        problems_.Add(FieldKey(i, option), "validation_length_too_long",
                      "At most 32 roles.");
      }
      for (const auto& role : *roles) {
        if (!role_id(role)) {
          problems_.Add(FieldKey(i, option), "validation_invalid_role",
                        "Roles are 1-64 of a-z, 0-9, '_', '.', '-'.");
          break;
        }
      }
    }
    if (!field.pii.empty()) {
      if (field.pii != "email" && field.pii != "digits" && field.pii != "text") {
        problems_.Add(FieldKey(i, "pii"), "validation_in_invalid",
                      "Must be \"email\", \"digits\", \"text\" or empty.");
      } else if (field.type != FieldType::kText && field.type != FieldType::kEmail &&
                 field.type != FieldType::kUrl && field.type != FieldType::kEditor) {
        problems_.Add(FieldKey(i, "pii"), "validation_pii_type",
                      "Only text, email, url and editor fields can be marked personal data.");
      } else if (field.primary_key || field.hidden) {
        problems_.Add(FieldKey(i, "pii"), "validation_pii_type",
                      "The id and hidden fields are never returned, so they cannot be masked.");
      }
    }
  }

  void CheckFieldOptions(std::size_t i) {
    CheckFieldAccess(i);
    const Field& field = c_.fields[i];
    const Field* old_field = before_ != nullptr ? before_->FindFieldById(field.id) : nullptr;
    if (old_field != nullptr && old_field->type != field.type) {
      if (old_field->system || !IsConvertible(old_field->type, field.type)) {
        problems_.Add(FieldKey(i, "type"), "validation_field_type_change",
                      "Field type cannot be changed from " +
                          std::string(ToString(old_field->type)) + " to " +
                          std::string(ToString(field.type)) + ".");
      }
    }
    if (field.primary_key && (field.type != FieldType::kText || field.name != "id")) {
      problems_.Add(FieldKey(i, "name"), "validation_in_invalid",
                    "The primary key must be named \"id\".");
    }

    if (field.type == FieldType::kPassword && c_.type != CollectionType::kAuth) {
      problems_.Add(FieldKey(i, "type"), "validation_invalid_field_type",
                    "Password fields belong to auth collections only.");
    }
    switch (field.type) {
      case FieldType::kText:
      case FieldType::kPassword: CheckText(i, field); break;
      case FieldType::kNumber: CheckNumber(i, field); break;
      case FieldType::kEmail:
      case FieldType::kUrl: CheckDomains(i, field); break;
      case FieldType::kDate: CheckDate(i, field); break;
      case FieldType::kAutodate: CheckAutodate(i, field); break;
      case FieldType::kSelect: CheckSelect(i, field); break;
      case FieldType::kRelation: CheckRelation(i, field, old_field); break;
      case FieldType::kFile:
        CheckMaxSize(i, field);
        CheckNonNegative(FieldKey(i, "maxSelect"), static_cast<double>(field.max_select));
        CheckThumbs(i, field);
        break;
      case FieldType::kJson:
      case FieldType::kEditor: CheckMaxSize(i, field); break;
      case FieldType::kBool: break;
    }
  }

  void CheckNonNegative(const std::string& key, double value) {
    if (value < 0) {
      problems_.Add(key, "validation_min_greater_equal_than_required", "Must be no less than 0.");
    } else if (value > kMaxSafeJsonInt) {
      problems_.Add(key, "validation_max_less_equal_than_required",
                    "Must be no greater than " + FormatNumber(kMaxSafeJsonInt) + ".");
    }
  }

  void CheckText(std::size_t i, const Field& field) {
    const double min = field.min.value_or(0);
    const double max = field.max.value_or(0);
    const std::string min_key = FieldKey(i, "min");
    const std::string max_key = FieldKey(i, "max");
    if (!IsIntegral(min)) {
      problems_.Add(min_key, "validation_only_int_constraint", "Decimal numbers are not allowed.");
    } else {
      CheckNonNegative(min_key, min);
    }
    if (!IsIntegral(max)) {
      problems_.Add(max_key, "validation_only_int_constraint", "Decimal numbers are not allowed.");
    } else if (max != 0 && max < min) {
      // 0 means "the default limit", so only a set maximum is compared with the minimum.
      problems_.Add(max_key, "validation_min_greater_equal_than_required",
                    "Must be no less than " + FormatNumber(min) + ".");
    } else {
      CheckNonNegative(max_key, max);
    }
    std::string what;
    if (!field.pattern.empty()) {
      if (!Compiles(field.pattern, what)) {
        problems_.Add(FieldKey(i, "pattern"), "validation_invalid_regex",
                      "Invalid regular expression: " + what + ".");
      } else if (max > kMaxPatternTextLength && field.type == FieldType::kText) {
        problems_.Add(max_key, "validation_max_less_equal_than_required",
                      "Must be no greater than " + FormatNumber(kMaxPatternTextLength) +
                          " when a pattern is set.");
      }
    }
    if (!field.autogenerate_pattern.empty() && !Compiles(field.autogenerate_pattern, what)) {
      problems_.Add(FieldKey(i, "autogeneratePattern"), "validation_invalid_regex",
                    "Invalid regular expression: " + what + ".");
    }
  }

  void CheckNumber(std::size_t i, const Field& field) {
    const std::string min_key = FieldKey(i, "min");
    const std::string max_key = FieldKey(i, "max");
    for (const auto& [key, bound] :
         {std::pair{min_key, field.min}, std::pair{max_key, field.max}}) {
      if (!bound) continue;
      if (!std::isfinite(*bound)) {
        problems_.Add(key, "validation_not_a_number",
                      "The submitted number is not properly formatted.");
      } else if (field.only_int && !IsIntegral(*bound)) {
        problems_.Add(key, "validation_only_int_constraint", "Decimal numbers are not allowed.");
      }
    }
    if (field.min && field.max && *field.max < *field.min) {
      problems_.Add(max_key, "validation_min_greater_equal_than_required",
                    "Must be no less than " + FormatNumber(*field.min) + ".");
    }
  }

  void CheckDomains(std::size_t i, const Field& field) {
    if (!field.only_domains.empty() && !field.except_domains.empty()) {
      problems_.Add(FieldKey(i, "exceptDomains"), "validation_empty", "Must be blank.");
      problems_.Add(FieldKey(i, "onlyDomains"), "validation_empty", "Must be blank.");
      return;
    }
    for (const auto& [option, domains] : {std::pair{"onlyDomains", &field.only_domains},
                                          std::pair{"exceptDomains", &field.except_domains}}) {
      for (std::size_t j = 0; j < domains->size(); ++j) {
        if (!IsDomain((*domains)[j])) {
          problems_.Add(FieldKey(i, option) + "." + std::to_string(j), "validation_is_domain",
                        "Must be a valid domain.");
        }
      }
    }
  }

  void CheckDate(std::size_t i, const Field& field) {
    std::optional<Timestamp> min;
    std::optional<Timestamp> max;
    if (!field.min_date.empty()) {
      auto parsed = Timestamp::Parse(field.min_date);
      if (parsed) {
        min = *parsed;
      } else {
        problems_.Add(FieldKey(i, "min"), "validation_date_invalid", "Must be a valid date.");
      }
    }
    if (!field.max_date.empty()) {
      auto parsed = Timestamp::Parse(field.max_date);
      if (parsed) {
        max = *parsed;
      } else {
        problems_.Add(FieldKey(i, "max"), "validation_date_invalid", "Must be a valid date.");
      }
    }
    if (min && max && *max < *min) {
      problems_.Add(FieldKey(i, "max"), "validation_date_out_of_range",
                    "The date is out of range.");
    }
  }

  void CheckAutodate(std::size_t i, const Field& field) {
    if (!field.on_create && !field.on_update) {
      problems_.Add(FieldKey(i, "onCreate"), kRequired,
                    "Either onCreate or onUpdate must be enabled.");
      problems_.Add(FieldKey(i, "onUpdate"), kRequired,
                    "Either onCreate or onUpdate must be enabled.");
    }
  }

  void CheckSelect(std::size_t i, const Field& field) {
    if (field.values.empty()) {
      problems_.Add(FieldKey(i, "values"), kRequired, std::string(kRequiredMessage));
    }
    for (std::size_t j = 0; j < field.values.size(); ++j) {
      const std::string key = FieldKey(i, "values") + "." + std::to_string(j);
      if (field.values[j].empty()) {
        problems_.Add(key, kRequired, std::string(kRequiredMessage));
        continue;
      }
      for (std::size_t k = 0; k < j; ++k) {
        if (field.values[k] == field.values[j]) {
          problems_.Add(key, "validation_duplicated_value", "Duplicated value.");
          break;
        }
      }
    }
    const std::string max_key = FieldKey(i, "maxSelect");
    const auto limit = static_cast<std::int64_t>(field.values.empty() ? 1 : field.values.size());
    if (field.max_select < 0) {
      problems_.Add(max_key, "validation_min_greater_equal_than_required",
                    "Must be no less than 0.");
    } else if (field.max_select > limit) {
      problems_.Add(max_key, "validation_max_less_equal_than_required",
                    "Must be no greater than " + std::to_string(limit) + ".");
    }
  }

  void CheckRelation(std::size_t i, const Field& field, const Field* old_field) {
    const std::string target_key = FieldKey(i, "collectionId");
    if (field.collection_id.empty()) {
      problems_.Add(target_key, kRequired, std::string(kRequiredMessage));
    } else if (old_field != nullptr && old_field->type == FieldType::kRelation &&
               old_field->collection_id != field.collection_id) {
      problems_.Add(target_key, "validation_field_relation_change",
                    "The relation collection cannot be changed.");
    } else {
      const Collection* target = nullptr;
      if (field.collection_id == c_.id) {
        target = &c_;
      } else {
        ForEachOther([&](const Collection& other) {
          if (other.id == field.collection_id) target = &other;
        });
      }
      if (target == nullptr) {
        problems_.Add(target_key, "validation_field_relation_missing_collection",
                      "The relation collection doesn't exist.");
      } else if (c_.type != CollectionType::kView && target->type == CollectionType::kView) {
        problems_.Add(target_key, "validation_relation_field_non_view_base_collection",
                      "Only view collections are allowed to have relations to other views.");
      }
    }
    const std::string min_key = FieldKey(i, "minSelect");
    const std::string max_key = FieldKey(i, "maxSelect");
    CheckNonNegative(min_key, static_cast<double>(field.min_select));
    if (field.min_select > 0 && field.max_select == 0) {
      problems_.Add(max_key, kRequired, std::string(kRequiredMessage));
    } else if (field.max_select != 0 && field.max_select < field.min_select) {
      problems_.Add(max_key, "validation_min_greater_equal_than_required",
                    "Must be no less than " + std::to_string(field.min_select) + ".");
    } else {
      CheckNonNegative(max_key, static_cast<double>(field.max_select));
    }
  }

  void CheckMaxSize(std::size_t i, const Field& field) {
    CheckNonNegative(FieldKey(i, "maxSize"), static_cast<double>(field.max_size));
  }

  void CheckThumbs(std::size_t i, const Field& field) {
    for (std::size_t j = 0; j < field.thumbs.size(); ++j) {
      const std::string key = FieldKey(i, "thumbs") + "." + std::to_string(j);
      if (IsZeroThumb(field.thumbs[j])) {
        problems_.Add(key, "validation_not_in_invalid", "Must not be in list.");
      } else if (!IsThumbSize(field.thumbs[j])) {
        problems_.Add(key, "validation_match_invalid", "Must be in a valid format.");
      }
    }
  }

  void CheckIndexes() {
    for (std::size_t i = 0; i < c_.indexes.size(); ++i) {
      const CollectionIndex& index = c_.indexes[i];
      const std::string key = "indexes." + std::to_string(i);
      if (!IsValidIdentifier(index.name)) {
        problems_.Add(key, "validation_invalid_index_expression",
                      "Invalid index name \"" + index.name + "\".");
        continue;
      }
      if (index.columns.empty()) {
        problems_.Add(key, "validation_invalid_index_expression",
                      "The index must have at least one column.");
        continue;
      }
      for (std::size_t k = 0; k < index.columns.size(); ++k) {
        const std::string& column = index.columns[k].field;
        if (c_.FindField(column) == nullptr) {
          problems_.Add(key, "validation_missing_field",
                        "Invalid or missing field " + column + ".");
        }
        for (std::size_t m = 0; m < k; ++m) {
          if (index.columns[m].field == column) {
            problems_.Add(key, "validation_invalid_index_expression",
                          "Duplicated column " + column + ".");
          }
        }
      }
      for (const std::string& column : index.where_not_empty) {
        const Field* field = c_.FindField(column);
        if (field == nullptr) {
          problems_.Add(key, "validation_missing_field",
                        "Invalid or missing field " + column + ".");
        } else if (StorageClassOf(*field) != StorageClass::kText) {
          problems_.Add(key, "validation_invalid_index_expression",
                        "The condition column " + column + " must hold text.");
        }
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (EqualsIgnoringCase(c_.indexes[j].name, index.name)) {
          problems_.Add(key, "validation_duplicated_index_name", "The index name already exists.");
        } else if (c_.indexes[j].unique == index.unique && c_.indexes[j].columns == index.columns &&
                   c_.indexes[j].where_not_empty == index.where_not_empty) {
          problems_.Add(key, "validation_duplicated_index_definition",
                        "The index definition already exists.");
        }
      }
      ForEachOther([&](const Collection& other) {
        for (const auto& other_index : other.indexes) {
          if (EqualsIgnoringCase(other_index.name, index.name)) {
            problems_.Add(key, "validation_existing_index_name",
                          "The index name is already used in " + other.name + " collection.");
          }
        }
      });
    }
  }

  const Collection& c_;
  const Collection* before_;
  const ProjectSchema& schema_;
  Problems problems_;
};

}  // namespace

bool IsValidIdentifier(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxIdentifierLength) return false;
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!start(name.front())) return false;
  for (char c : name) {
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsConvertible(FieldType from, FieldType to) noexcept {
  if (from == to) return true;
  if (from == FieldType::kPassword || to == FieldType::kPassword) return false;
  if (to == FieldType::kJson) return true;
  if (IsTextish(to)) return true;  // every value has a text form
  switch (from) {
    case FieldType::kText:
    case FieldType::kEditor:
    case FieldType::kEmail:
    case FieldType::kUrl:
      return to == FieldType::kNumber || to == FieldType::kBool || to == FieldType::kDate ||
             to == FieldType::kSelect;
    case FieldType::kNumber: return to == FieldType::kBool;
    case FieldType::kBool: return to == FieldType::kNumber;
    case FieldType::kDate: return to == FieldType::kAutodate;
    case FieldType::kAutodate: return to == FieldType::kDate;
    default: return false;
  }
}

Result<void> ValidateCollection(const Collection& c, const Collection* before,
                                const ProjectSchema& schema) {
  return CollectionValidator(c, before, schema).Run();
}

}  // namespace socle::domain

