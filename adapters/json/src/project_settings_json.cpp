#include "socle/adapters/json/project_settings_json.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/adapters/json/json_parser.hpp"

namespace socle::adapters::json {
namespace {

using domain::FieldError;
using domain::JsonValue;
using domain::ProjectSettings;

// PocketBase's answer when the settings body does not bind (a member of the wrong type).
constexpr std::string_view kLoadFailed = "An error occurred while loading the submitted data.";

JsonValue Strings(const std::vector<std::string>& items) {
  std::vector<JsonValue> out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(JsonValue::String(item));
  return JsonValue::Array(std::move(out));
}

// Reads the members of one object into typed values, collecting a field error per member of
// the wrong type. Absent and null members leave the target as it is (its default).
class ObjectReader {
 public:
  ObjectReader(const JsonValue* object, std::string prefix, std::vector<FieldError>& errors)
      : object_(object), prefix_(std::move(prefix)), errors_(errors) {}

  void String(std::string_view key, std::string& target) {
    const JsonValue* value = Find(key);
    if (value == nullptr) return;
    if (value->type() != JsonValue::Type::kString) return TypeError(key, "a string");
    target = value->AsString();
  }
  void Bool(std::string_view key, bool& target) {
    const JsonValue* value = Find(key);
    if (value == nullptr) return;
    if (value->type() != JsonValue::Type::kBool) return TypeError(key, "a boolean");
    target = value->AsBool();
  }
  void Integer(std::string_view key, std::int64_t& target) {
    const JsonValue* value = Find(key);
    if (value == nullptr) return;
    if (value->type() != JsonValue::Type::kNumber || !value->AsInt64()) {
      return TypeError(key, "an integer");
    }
    target = *value->AsInt64();
  }
  void Strings(std::string_view key, std::vector<std::string>& target) {
    const JsonValue* list = FindList(key);
    if (list == nullptr) return;
    std::vector<std::string> out;
    for (std::size_t i = 0; i < list->items().size(); ++i) {
      const JsonValue& item = list->items()[i];
      if (item.type() != JsonValue::Type::kString) {
        TypeError(std::string(key) + "." + std::to_string(i), "a string");
        continue;
      }
      out.push_back(item.AsString());
    }
    target = std::move(out);
  }
  /// The list under `key`; nullptr when absent, or after an error. A null list is empty.
  const JsonValue* FindList(std::string_view key) {
    static const JsonValue kEmpty = JsonValue::Array({});
    const JsonValue* value = object_ == nullptr ? nullptr : object_->Find(key);
    if (value == nullptr) return nullptr;
    if (value->IsNull()) return &kEmpty;
    if (value->type() != JsonValue::Type::kArray) {
      TypeError(key, "an array");
      return nullptr;
    }
    return value;
  }
  /// The object under `key`, for a nested reader; nullptr when absent, null, or not an object
  /// (an error then).
  const JsonValue* FindObject(std::string_view key) {
    const JsonValue* value = Find(key);
    if (value == nullptr) return nullptr;
    if (!value->IsObject()) {
      TypeError(key, "an object");
      return nullptr;
    }
    return value;
  }
  const std::string& prefix() const noexcept { return prefix_; }
  void TypeError(std::string_view key, std::string_view expected) {
    errors_.push_back(FieldError{prefix_ + std::string(key), "validation_invalid_type",
                                 "Must be " + std::string(expected) + "."});
  }

 private:
  const JsonValue* Find(std::string_view key) const {
    if (object_ == nullptr) return nullptr;
    const JsonValue* value = object_->Find(key);
    return value == nullptr || value->IsNull() ? nullptr : value;
  }

  const JsonValue* object_;
  std::string prefix_;
  std::vector<FieldError>& errors_;
};

void ReadMeta(ObjectReader& root, domain::MetaSettings& meta, std::vector<FieldError>& errors) {
  ObjectReader r(root.FindObject("meta"), "meta.", errors);
  r.String("appName", meta.app_name);
  r.String("appURL", meta.app_url);
  r.String("senderName", meta.sender_name);
  r.String("senderAddress", meta.sender_address);
  r.Bool("hideControls", meta.hide_controls);
}

void ReadRateLimits(ObjectReader& root, domain::RateLimitSettings& limits,
                    std::vector<FieldError>& errors) {
  ObjectReader r(root.FindObject("rateLimits"), "rateLimits.", errors);
  r.Bool("enabled", limits.enabled);
  const JsonValue* rules = r.FindList("rules");
  if (rules == nullptr) return;
  std::vector<domain::RateLimitRule> out;
  for (std::size_t i = 0; i < rules->items().size(); ++i) {
    const JsonValue& item = rules->items()[i];
    const std::string key = "rules." + std::to_string(i);
    if (!item.IsObject()) {
      r.TypeError(key, "an object");
      continue;
    }
    // A rule's absent members are zero, as Go decodes them; validation then names them.
    domain::RateLimitRule rule;
    ObjectReader rule_reader(&item, r.prefix() + key + ".", errors);
    rule_reader.String("label", rule.label);
    rule_reader.String("audience", rule.audience);
    rule_reader.Integer("duration", rule.duration);
    rule_reader.Integer("maxRequests", rule.max_requests);
    out.push_back(std::move(rule));
  }
  limits.rules = std::move(out);
}

void ReadTrustedProxy(ObjectReader& root, domain::TrustedProxySettings& proxy,
                      std::vector<FieldError>& errors) {
  ObjectReader r(root.FindObject("trustedProxy"), "trustedProxy.", errors);
  r.Strings("headers", proxy.headers);
  r.Bool("useLeftmostIP", proxy.use_leftmost_ip);
}

void ReadBatch(ObjectReader& root, domain::BatchSettings& batch,
               std::vector<FieldError>& errors) {
  ObjectReader r(root.FindObject("batch"), "batch.", errors);
  r.Bool("enabled", batch.enabled);
  r.Integer("maxRequests", batch.max_requests);
  r.Integer("timeout", batch.timeout);
  r.Integer("maxBodySize", batch.max_body_size);
}

// Decodes `patch` over `current` as Go's encoding/json decodes into an existing value.
JsonValue Merge(const JsonValue& current, const JsonValue& patch) {
  if (!current.IsObject() || !patch.IsObject()) return patch;
  std::vector<JsonValue::Member> members = current.members();
  for (const auto& [key, value] : patch.members()) {
    auto existing = std::find_if(members.begin(), members.end(),
                                 [&](const JsonValue::Member& m) { return m.first == key; });
    if (existing == members.end()) {
      // Not a member Socle keeps (smtp, logs ...): nothing to decode it into.
      continue;
    }
    if (value.IsNull()) {
      // Go leaves a string, number, bool or struct unchanged on null and empties a slice.
      if (existing->second.type() == JsonValue::Type::kArray) {
        existing->second = JsonValue::Array({});
      }
      continue;
    }
    existing->second = Merge(existing->second, value);
  }
  return JsonValue::Object(std::move(members));
}

}  // namespace

JsonValue ProjectSettingsValue(const ProjectSettings& settings) {
  const auto& meta = settings.meta;
  const auto& limits = settings.rate_limits;
  const auto& proxy = settings.trusted_proxy;
  const auto& batch = settings.batch;
  std::vector<JsonValue> rules;
  rules.reserve(limits.rules.size());
  for (const auto& rule : limits.rules) {
    rules.push_back(JsonValue::Object({
        {"label", JsonValue::String(rule.label)},
        {"audience", JsonValue::String(rule.audience)},
        {"duration", JsonValue::Integer(rule.duration)},
        {"maxRequests", JsonValue::Integer(rule.max_requests)},
    }));
  }
  return JsonValue::Object({
      {"meta", JsonValue::Object({
                   {"appName", JsonValue::String(meta.app_name)},
                   {"appURL", JsonValue::String(meta.app_url)},
                   {"senderName", JsonValue::String(meta.sender_name)},
                   {"senderAddress", JsonValue::String(meta.sender_address)},
                   {"hideControls", JsonValue::Bool(meta.hide_controls)},
               })},
      {"rateLimits", JsonValue::Object({
                         {"rules", JsonValue::Array(std::move(rules))},
                         {"enabled", JsonValue::Bool(limits.enabled)},
                     })},
      {"trustedProxy", JsonValue::Object({
                           {"headers", Strings(proxy.headers)},
                           {"useLeftmostIP", JsonValue::Bool(proxy.use_leftmost_ip)},
                       })},
      {"batch", JsonValue::Object({
                    {"enabled", JsonValue::Bool(batch.enabled)},
                    {"maxRequests", JsonValue::Integer(batch.max_requests)},
                    {"timeout", JsonValue::Integer(batch.timeout)},
                    {"maxBodySize", JsonValue::Integer(batch.max_body_size)},
                })},
  });
}

void WriteProjectSettings(JsonWriter& w, const ProjectSettings& settings) {
  w.Value(ProjectSettingsValue(settings));
}

domain::Result<ProjectSettings> ReadProjectSettings(const JsonValue& json) {
  std::vector<FieldError> errors;
  if (!json.IsObject()) {
    errors.push_back(FieldError{"", "validation_invalid_type", "Must be an object."});
  }
  ProjectSettings settings;
  ObjectReader root(json.IsObject() ? &json : nullptr, "", errors);
  ReadMeta(root, settings.meta, errors);
  ReadRateLimits(root, settings.rate_limits, errors);
  ReadTrustedProxy(root, settings.trusted_proxy, errors);
  ReadBatch(root, settings.batch, errors);
  if (!errors.empty()) {
    domain::Error error =
        domain::Error::Make(domain::ErrorCode::kInvalidArgument, std::string(kLoadFailed));
    // The top-level type error has no field to name: the message says it all.
    if (!(errors.size() == 1 && errors.front().field.empty())) error.fields = std::move(errors);
    return domain::Fail(std::move(error));
  }
  return settings;
}

domain::Result<ProjectSettings> PatchProjectSettings(const ProjectSettings& current,
                                                     const JsonValue& patch) {
  if (!patch.IsObject()) {
    return domain::Fail(domain::ErrorCode::kInvalidArgument,
                        "The settings must be a JSON object.");
  }
  return ReadProjectSettings(Merge(ProjectSettingsValue(current), patch));
}

std::string ProjectSettingsText(const ProjectSettings& settings) {
  JsonWriter w;
  WriteProjectSettings(w, settings);
  return std::move(w).Take();
}

domain::Result<ProjectSettings> ProjectSettingsFromText(std::string_view text) {
  JsonLimits own;
  own.max_bytes = std::numeric_limits<std::size_t>::max();
  auto parsed = ParseJson(text, own);
  if (!parsed) {
    return domain::Fail(domain::Error::Internal("stored project settings are not JSON: " +
                                                parsed.error().internal));
  }
  auto settings = ReadProjectSettings(*parsed);
  if (!settings) {
    std::string reason = settings.error().message;
    for (const auto& field : settings.error().fields) {
      reason += " " + field.field + ": " + field.message;
    }
    return domain::Fail(
        domain::Error::Internal("stored project settings do not read back: " + reason));
  }
  return settings;
}

}  // namespace socle::adapters::json
