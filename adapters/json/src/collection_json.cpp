#include "socle/adapters/json/collection_json.hpp"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "socle/domain/record_input.hpp"

namespace socle::adapters::json {
namespace {

using domain::Collection;
using domain::CollectionType;
using domain::Field;
using domain::FieldError;
using domain::FieldType;
using domain::JsonValue;

// ---------------------------------------------------------------------------------------------
// Writing.

void WriteRule(JsonWriter& w, std::string_view key, const std::optional<std::string>& rule) {
  w.Key(key);
  if (rule) {
    w.String(*rule);
  } else {
    w.Null();
  }
}

void WriteStrings(JsonWriter& w, std::string_view key, const std::vector<std::string>& items) {
  w.Key(key).BeginArray();
  for (const auto& item : items) w.String(item);
  w.EndArray();
}

// PocketBase writes a zero date as ""; the Unix epoch plays that part in Socle's Timestamp.
std::string ApiDate(domain::Timestamp t) { return t.unix_micros() == 0 ? "" : t.ToApiString(); }

void WriteTextLimits(JsonWriter& w, const Field& field) {
  w.Key("min").Int(static_cast<std::int64_t>(field.min.value_or(0)));
  w.Key("max").Int(static_cast<std::int64_t>(field.max.value_or(0)));
  w.Key("pattern").String(field.pattern);
}

void WriteField(JsonWriter& w, const Field& field) {
  w.BeginObject();
  w.Key("id").String(field.id);
  w.Key("name").String(field.name);
  w.Key("type").String(domain::ToString(field.type));
  w.Key("system").Bool(field.system);
  w.Key("hidden").Bool(field.hidden);
  w.Key("presentable").Bool(field.presentable);
  // Socle's field-level permissions, written only when set so that PocketBase-shaped exports of
  // collections that do not use them stay byte for byte PocketBase's.
  if (!field.read_roles.empty()) WriteStrings(w, "readRoles", field.read_roles);
  if (!field.write_roles.empty()) WriteStrings(w, "writeRoles", field.write_roles);
  if (!field.pii.empty()) w.Key("pii").String(field.pii);
  // autodate fields have no "required" in PocketBase: they are never set from input.
  if (field.type != FieldType::kAutodate) w.Key("required").Bool(field.required);
  switch (field.type) {
    case FieldType::kText:
      WriteTextLimits(w, field);
      w.Key("autogeneratePattern").String(field.autogenerate_pattern);
      w.Key("primaryKey").Bool(field.primary_key);
      break;
    case FieldType::kPassword:
      WriteTextLimits(w, field);
      w.Key("cost").Int(field.cost);
      break;
    case FieldType::kEditor:
      w.Key("maxSize").Int(field.max_size);
      w.Key("convertURLs").Bool(field.convert_urls);
      break;
    case FieldType::kNumber:
      w.Key("min");
      field.min ? w.Double(*field.min) : w.Null();
      w.Key("max");
      field.max ? w.Double(*field.max) : w.Null();
      w.Key("onlyInt").Bool(field.only_int);
      break;
    case FieldType::kBool: break;
    case FieldType::kEmail:
    case FieldType::kUrl:
      WriteStrings(w, "onlyDomains", field.only_domains);
      WriteStrings(w, "exceptDomains", field.except_domains);
      break;
    case FieldType::kDate:
      w.Key("min").String(field.min_date);
      w.Key("max").String(field.max_date);
      break;
    case FieldType::kAutodate:
      w.Key("onCreate").Bool(field.on_create);
      w.Key("onUpdate").Bool(field.on_update);
      break;
    case FieldType::kSelect:
      WriteStrings(w, "values", field.values);
      w.Key("maxSelect").Int(field.max_select);
      break;
    case FieldType::kJson: w.Key("maxSize").Int(field.max_size); break;
    case FieldType::kRelation:
      w.Key("collectionId").String(field.collection_id);
      w.Key("cascadeDelete").Bool(field.cascade_delete);
      w.Key("minSelect").Int(field.min_select);
      w.Key("maxSelect").Int(field.max_select);
      break;
    case FieldType::kFile:
      w.Key("maxSelect").Int(field.max_select);
      w.Key("maxSize").Int(field.max_size);
      WriteStrings(w, "mimeTypes", field.mime_types);
      WriteStrings(w, "thumbs", field.thumbs);
      w.Key("protected").Bool(field.protected_file);
      break;
  }
  w.EndObject();
}

// ---------------------------------------------------------------------------------------------
// Reading.

// Reads the members of one JSON object, collecting type errors under `prefix` + member name.
// Absent and null members take their defaults, as PocketBase's decoder leaves them.
class MemberReader {
 public:
  MemberReader(const JsonValue& object, std::string prefix, std::vector<FieldError>& errors)
      : object_(object), prefix_(std::move(prefix)), errors_(errors) {}

  /// Whether the member is present, null included.
  bool Has(std::string_view key) const { return object_.Find(key) != nullptr; }

  const JsonValue* Get(std::string_view key) const {
    const JsonValue* value = object_.Find(key);
    return value != nullptr && !value->IsNull() ? value : nullptr;
  }

  void Error(std::string_view key, std::string_view code, std::string message) {
    errors_.push_back(
        FieldError{prefix_ + std::string(key), std::string(code), std::move(message)});
  }

  std::string String(std::string_view key, std::string fallback = "") {
    const JsonValue* value = Get(key);
    if (value == nullptr) return fallback;
    if (value->type() != JsonValue::Type::kString) {
      WrongType(key, "string");
      return fallback;
    }
    return value->AsString();
  }

  bool Bool(std::string_view key) {
    const JsonValue* value = Get(key);
    if (value == nullptr) return false;
    if (value->type() != JsonValue::Type::kBool) {
      WrongType(key, "boolean");
      return false;
    }
    return value->AsBool();
  }

  std::optional<double> Number(std::string_view key) {
    const JsonValue* value = Get(key);
    if (value == nullptr) return std::nullopt;
    if (value->type() != JsonValue::Type::kNumber) {
      WrongType(key, "number");
      return std::nullopt;
    }
    return value->AsDouble();
  }

  std::int64_t Integer(std::string_view key) {
    const JsonValue* value = Get(key);
    if (value == nullptr) return 0;
    if (value->type() != JsonValue::Type::kNumber || !value->AsInt64()) {
      WrongType(key, "integer");
      return 0;
    }
    return *value->AsInt64();
  }

  std::optional<std::string> Rule(std::string_view key) {
    const JsonValue* value = Get(key);
    if (value == nullptr) return std::nullopt;
    if (value->type() != JsonValue::Type::kString) {
      WrongType(key, "string or null");
      return std::nullopt;
    }
    return value->AsString();
  }

  std::vector<std::string> Strings(std::string_view key) {
    std::vector<std::string> items;
    const JsonValue* value = Get(key);
    if (value == nullptr) return items;
    if (value->type() != JsonValue::Type::kArray) {
      WrongType(key, "array of strings");
      return items;
    }
    for (std::size_t i = 0; i < value->items().size(); ++i) {
      const JsonValue& item = value->items()[i];
      if (item.type() != JsonValue::Type::kString) {
        WrongType(std::string(key) + "." + std::to_string(i), "string");
        continue;
      }
      items.push_back(item.AsString());
    }
    return items;
  }

  /// A date option: "" or any accepted date spelling, kept canonical.
  std::string Date(std::string_view key) {
    std::string text = String(key);
    if (text.empty()) return text;
    auto canonical = domain::NormalizeDateInput(text);
    if (!canonical) {
      Error(key, "validation_date_invalid", "Must be a valid date.");
      return "";
    }
    return *canonical;
  }

  domain::Timestamp Timestamp(std::string_view key) {
    std::string text = String(key);
    if (text.empty()) return {};
    auto parsed = domain::Timestamp::Parse(text);
    if (!parsed) {
      Error(key, "validation_date_invalid", "Must be a valid date.");
      return {};
    }
    return *parsed;
  }

  const std::string& prefix() const noexcept { return prefix_; }

 private:
  void WrongType(std::string_view key, std::string_view expected) {
    const bool vowel =
        !expected.empty() && std::string_view("aeiou").find(expected[0]) != std::string_view::npos;
    Error(key, "validation_invalid_type",
          std::string(vowel ? "Must be an " : "Must be a ") + std::string(expected) + ".");
  }

  const JsonValue& object_;
  std::string prefix_;
  std::vector<FieldError>& errors_;
};

/// The options of `field.type`, read from `options` (the field itself in ≥ 0.23, its "options"
/// object in older exports, where a few names differ: noDecimal, convertUrls).
void ReadFieldOptions(Field& field, MemberReader& options, bool legacy) {
  switch (field.type) {
    case FieldType::kText:
    case FieldType::kPassword: {
      for (auto [key, bound] : {std::pair{"min", &field.min}, std::pair{"max", &field.max}}) {
        const std::int64_t value = options.Integer(key);
        if (value != 0) *bound = static_cast<double>(value);
      }
      field.pattern = options.String("pattern");
      if (field.type == FieldType::kText) {
        field.autogenerate_pattern = options.String("autogeneratePattern");
        field.primary_key = options.Bool("primaryKey");
      } else {
        field.cost = options.Integer("cost");
      }
      break;
    }
    case FieldType::kEditor:
      field.max_size = options.Integer("maxSize");
      field.convert_urls = options.Bool(legacy ? "convertUrls" : "convertURLs");
      break;
    case FieldType::kNumber:
      field.min = options.Number("min");
      field.max = options.Number("max");
      field.only_int = options.Bool(legacy ? "noDecimal" : "onlyInt");
      break;
    case FieldType::kBool: break;
    case FieldType::kEmail:
    case FieldType::kUrl:
      field.only_domains = options.Strings("onlyDomains");
      field.except_domains = options.Strings("exceptDomains");
      break;
    case FieldType::kDate:
      field.min_date = options.Date("min");
      field.max_date = options.Date("max");
      break;
    case FieldType::kAutodate:
      field.on_create = options.Bool("onCreate");
      field.on_update = options.Bool("onUpdate");
      break;
    case FieldType::kSelect:
      field.values = options.Strings("values");
      field.max_select = options.Integer("maxSelect");
      break;
    case FieldType::kJson: field.max_size = options.Integer("maxSize"); break;
    case FieldType::kRelation:
      field.collection_id = options.String("collectionId");
      field.cascade_delete = options.Bool("cascadeDelete");
      field.min_select = options.Integer("minSelect");
      // Before 0.23 a null maxSelect meant "any number"; 0.23's upgrade turned it into 999.
      if (legacy && options.Get("maxSelect") == nullptr) {
        field.max_select = 999;
      } else {
        field.max_select = options.Integer("maxSelect");
      }
      break;
    case FieldType::kFile:
      field.max_select = options.Integer("maxSelect");
      field.max_size = options.Integer("maxSize");
      field.mime_types = options.Strings("mimeTypes");
      field.thumbs = options.Strings("thumbs");
      field.protected_file = options.Bool("protected");
      break;
  }
}

std::optional<Field> ReadField(const JsonValue& json, const std::string& prefix, bool legacy,
                               std::vector<FieldError>& errors) {
  if (!json.IsObject()) {
    errors.push_back(FieldError{prefix.substr(0, prefix.size() - 1), "validation_invalid_type",
                                "Must be an object."});
    return std::nullopt;
  }
  MemberReader reader(json, prefix, errors);
  Field field;
  field.id = reader.String("id");
  field.name = reader.String("name");
  const std::string type = reader.String("type");
  auto parsed = domain::ParseFieldType(type);
  if (!parsed) {
    if (type.empty() && json.Find("type") == nullptr) {
      reader.Error("type", "validation_required", "Cannot be blank.");
    } else if (json.Find("type") != nullptr &&
               json.Find("type")->type() == JsonValue::Type::kString) {
      reader.Error("type", "validation_in_invalid", "Must be a valid value.");
    }
    return std::nullopt;
  }
  field.type = *parsed;
  field.system = reader.Bool("system");
  field.hidden = reader.Bool("hidden");
  field.presentable = reader.Bool("presentable");
  field.required = reader.Bool("required");
  field.read_roles = reader.Strings("readRoles");
  field.write_roles = reader.Strings("writeRoles");
  field.pii = reader.String("pii");
  if (legacy) {
    const JsonValue* options = json.Find("options");
    if (options != nullptr && !options->IsNull()) {
      if (!options->IsObject()) {
        reader.Error("options", "validation_invalid_type", "Must be an object.");
      } else {
        MemberReader option_reader(*options, prefix + "options.", errors);
        ReadFieldOptions(field, option_reader, true);
      }
    } else if (field.type == FieldType::kRelation) {
      field.max_select = 999;
    }
  } else {
    ReadFieldOptions(field, reader, false);
  }
  return field;
}

// The auth options of a PocketBase ≥ 0.23 collection, over `auth` (which holds the defaults
// for absent members). Sign-in methods Socle does not offer (OAuth2, MFA, OTP) are refused when
// enabled rather than silently ignored; the new-device alert is accepted and not sent.
void ReadAuthOptions(MemberReader& reader, const std::string& prefix,
                     std::vector<FieldError>& errors, domain::AuthOptions& auth) {
  // An absent authRule keeps the default (anyone with an account); null disables sign-in.
  if (reader.Has("authRule")) auth.auth_rule = reader.Rule("authRule");
  auth.manage_rule = reader.Rule("manageRule");
  auto object = [&](std::string_view key) -> const JsonValue* {
    const JsonValue* value = reader.Get(key);
    if (value == nullptr) return nullptr;
    if (!value->IsObject()) {
      reader.Error(key, "validation_invalid_type", "Must be an object.");
      return nullptr;
    }
    return value;
  };
  if (const JsonValue* password = object("passwordAuth")) {
    MemberReader inner(*password, prefix + "passwordAuth.", errors);
    if (inner.Get("enabled") != nullptr) auth.password_auth = inner.Bool("enabled");
    if (inner.Get("identityFields") != nullptr) auth.identity_fields = inner.Strings("identityFields");
  }
  const std::array<std::pair<std::string_view, std::int64_t*>, 5> durations{{
      {"authToken", &auth.auth_token_duration},
      {"passwordResetToken", &auth.password_reset_token_duration},
      {"emailChangeToken", &auth.email_change_token_duration},
      {"verificationToken", &auth.verification_token_duration},
      {"fileToken", &auth.file_token_duration},
  }};
  for (const auto& [key, target] : durations) {
    if (const JsonValue* token = object(key)) {
      MemberReader inner(*token, prefix + std::string(key) + ".", errors);
      if (inner.Get("duration") != nullptr) *target = inner.Integer("duration");
    }
  }
  const std::array<std::pair<std::string_view, domain::MailTemplate*>, 3> templates{{
      {"verificationTemplate", &auth.verification_template},
      {"resetPasswordTemplate", &auth.reset_password_template},
      {"confirmEmailChangeTemplate", &auth.confirm_email_change_template},
  }};
  for (const auto& [key, target] : templates) {
    if (const JsonValue* tmpl = object(key)) {
      MemberReader inner(*tmpl, prefix + std::string(key) + ".", errors);
      if (inner.Get("subject") != nullptr) target->subject = inner.String("subject");
      if (inner.Get("body") != nullptr) target->body = inner.String("body");
    }
  }
  for (std::string_view key : {"oauth2", "mfa", "otp"}) {
    if (const JsonValue* method = object(key)) {
      MemberReader inner(*method, prefix + std::string(key) + ".", errors);
      if (inner.Bool("enabled")) {
        inner.Error("enabled", "validation_not_supported",
                    "This sign-in method is not supported; set enabled to false.");
      }
    }
  }
}

domain::Result<Collection> ReadCollectionWithPrefix(const JsonValue& json,
                                                    const std::string& prefix) {
  std::vector<FieldError> errors;
  auto finish = [&errors]() -> domain::Result<Collection> {
    domain::Error error = domain::Error::Make(domain::ErrorCode::kInvalidArgument,
                                              "Failed to validate the submitted data.");
    error.fields = std::move(errors);
    return domain::Fail(std::move(error));
  };
  if (!json.IsObject()) {
    errors.push_back(FieldError{prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1),
                                "validation_invalid_type", "Must be an object."});
    return finish();
  }
  MemberReader reader(json, prefix, errors);
  Collection c;
  c.id = reader.String("id");
  c.name = reader.String("name");
  const std::string type = reader.String("type", "base");
  if (auto parsed = domain::ParseCollectionType(type)) {
    c.type = *parsed;
  } else {
    reader.Error("type", "validation_in_invalid", "Must be a valid value.");
  }
  c.system = reader.Bool("system");
  c.rules.list = reader.Rule("listRule");
  c.rules.view = reader.Rule("viewRule");
  c.rules.create = reader.Rule("createRule");
  c.rules.update = reader.Rule("updateRule");
  c.rules.del = reader.Rule("deleteRule");
  c.audit_reads = reader.Bool("auditReads");
  c.audit_reason_required = reader.Bool("auditReasonRequired");
  c.created = reader.Timestamp("created");
  c.updated = reader.Timestamp("updated");

  // PocketBase < 0.23 exports: fields under "schema" with their options nested, the id, created
  // and updated columns implicit, and a view's query under options.query.
  const bool legacy = json.Find("fields") == nullptr && json.Find("schema") != nullptr;
  if (legacy) {
    const JsonValue* options = reader.Get("options");
    if (options != nullptr && options->IsObject()) {
      MemberReader option_reader(*options, prefix + "options.", errors);
      c.view_query = option_reader.String("query");
    }
    if (c.type != CollectionType::kView) c.fields = domain::SystemFields();
  } else {
    c.view_query = reader.String("viewQuery");
  }

  const std::string fields_key = legacy ? "schema" : "fields";
  if (const JsonValue* fields = reader.Get(fields_key)) {
    if (fields->type() != JsonValue::Type::kArray) {
      reader.Error(fields_key, "validation_invalid_type", "Must be an array.");
    } else {
      for (std::size_t i = 0; i < fields->items().size(); ++i) {
        auto field = ReadField(fields->items()[i],
                               prefix + fields_key + "." + std::to_string(i) + ".", legacy, errors);
        if (field) c.fields.push_back(std::move(*field));
      }
    }
  }

  if (const JsonValue* indexes = reader.Get("indexes")) {
    if (indexes->type() != JsonValue::Type::kArray) {
      reader.Error("indexes", "validation_invalid_type", "Must be an array.");
    } else {
      for (std::size_t i = 0; i < indexes->items().size(); ++i) {
        const JsonValue& item = indexes->items()[i];
        const std::string key = "indexes." + std::to_string(i);
        if (item.type() != JsonValue::Type::kString) {
          reader.Error(key, "validation_invalid_type", "Must be a string.");
          continue;
        }
        auto index = domain::ParseIndexSql(item.AsString());
        if (!index) {
          reader.Error(key, "validation_invalid_index_expression", index.error().message);
          continue;
        }
        c.indexes.push_back(std::move(*index));
      }
    }
  }

  if (c.type == CollectionType::kAuth) {
    if (legacy) {
      // PocketBase < 0.23 kept the manage rule among the options; the rest of its auth options
      // (allowEmailAuth ...) have no 0.23 counterpart that Socle stores.
      if (const JsonValue* options = reader.Get("options"); options != nullptr && options->IsObject()) {
        MemberReader option_reader(*options, prefix + "options.", errors);
        c.auth.manage_rule = option_reader.Rule("manageRule");
      }
    } else {
      ReadAuthOptions(reader, prefix, errors, c.auth);
    }
  }

  if (!errors.empty()) return finish();
  return c;
}

}  // namespace

// PocketBase's auth members; the sign-in methods Socle does not offer are written disabled so
// that exports import into PocketBase unchanged.
void WriteAuthOptions(JsonWriter& w, const domain::AuthOptions& auth) {
  WriteRule(w, "authRule", auth.auth_rule);
  WriteRule(w, "manageRule", auth.manage_rule);
  w.Key("authAlert").BeginObject().Key("enabled").Bool(false);
  w.Key("emailTemplate").BeginObject().Key("subject").String("").Key("body").String("");
  w.EndObject().EndObject();
  w.Key("oauth2").BeginObject().Key("enabled").Bool(false);
  w.Key("mappedFields").BeginObject().Key("id").String("").Key("name").String("");
  w.Key("username").String("").Key("avatarURL").String("").EndObject();
  w.Key("providers").BeginArray().EndArray().EndObject();
  w.Key("passwordAuth").BeginObject().Key("enabled").Bool(auth.password_auth);
  w.Key("identityFields").BeginArray();
  for (const auto& field : auth.identity_fields) w.String(field);
  w.EndArray().EndObject();
  w.Key("mfa").BeginObject().Key("enabled").Bool(false).Key("duration").Int(1800);
  w.Key("rule").String("").EndObject();
  w.Key("otp").BeginObject().Key("enabled").Bool(false).Key("duration").Int(180);
  w.Key("length").Int(8).Key("emailTemplate").BeginObject().Key("subject").String("");
  w.Key("body").String("").EndObject().EndObject();
  const std::array<std::pair<std::string_view, std::int64_t>, 5> durations{{
      {"authToken", auth.auth_token_duration},
      {"passwordResetToken", auth.password_reset_token_duration},
      {"emailChangeToken", auth.email_change_token_duration},
      {"verificationToken", auth.verification_token_duration},
      {"fileToken", auth.file_token_duration},
  }};
  for (const auto& [key, seconds] : durations) {
    w.Key(key).BeginObject().Key("duration").Int(seconds).EndObject();
  }
  const std::array<std::pair<std::string_view, const domain::MailTemplate*>, 3> templates{{
      {"verificationTemplate", &auth.verification_template},
      {"resetPasswordTemplate", &auth.reset_password_template},
      {"confirmEmailChangeTemplate", &auth.confirm_email_change_template},
  }};
  for (const auto& [key, tmpl] : templates) {
    w.Key(key).BeginObject().Key("subject").String(tmpl->subject);
    w.Key("body").String(tmpl->body).EndObject();
  }
}

void WriteCollection(JsonWriter& w, const domain::Collection& collection) {
  w.BeginObject();
  w.Key("id").String(collection.id);
  w.Key("name").String(collection.name);
  w.Key("type").String(domain::ToString(collection.type));
  w.Key("system").Bool(collection.system);
  WriteRule(w, "listRule", collection.rules.list);
  WriteRule(w, "viewRule", collection.rules.view);
  WriteRule(w, "createRule", collection.rules.create);
  WriteRule(w, "updateRule", collection.rules.update);
  WriteRule(w, "deleteRule", collection.rules.del);
  w.Key("fields").BeginArray();
  for (const auto& field : collection.fields) WriteField(w, field);
  w.EndArray();
  w.Key("indexes").BeginArray();
  for (const auto& index : collection.indexes) w.String(domain::ToIndexSql(index, collection.name));
  w.EndArray();
  if (collection.type == CollectionType::kView) w.Key("viewQuery").String(collection.view_query);
  if (collection.type == CollectionType::kAuth) WriteAuthOptions(w, collection.auth);
  // Socle's own options, written only when set so that exports read back into PocketBase.
  if (collection.audit_reads) w.Key("auditReads").Bool(true);
  if (collection.audit_reason_required) w.Key("auditReasonRequired").Bool(true);
  w.Key("created").String(ApiDate(collection.created));
  w.Key("updated").String(ApiDate(collection.updated));
  w.EndObject();
}

domain::Result<domain::Collection> ReadCollection(const domain::JsonValue& json) {
  return ReadCollectionWithPrefix(json, "");
}

domain::Result<std::vector<domain::Collection>> ReadCollections(const domain::JsonValue& json) {
  if (json.type() != JsonValue::Type::kArray) {
    return domain::Fail(
        domain::Error::Field("collections", "validation_invalid_type", "Must be an array."));
  }
  std::vector<Collection> collections;
  std::vector<FieldError> errors;
  for (std::size_t i = 0; i < json.items().size(); ++i) {
    auto c = ReadCollectionWithPrefix(json.items()[i], "collections." + std::to_string(i) + ".");
    if (!c) {
      for (auto& error : c.error().fields) errors.push_back(std::move(error));
      continue;
    }
    collections.push_back(std::move(*c));
  }
  if (!errors.empty()) {
    domain::Error error = domain::Error::Make(domain::ErrorCode::kInvalidArgument,
                                              "Failed to validate the submitted data.");
    error.fields = std::move(errors);
    return domain::Fail(std::move(error));
  }
  return collections;
}

}  // namespace socle::adapters::json
