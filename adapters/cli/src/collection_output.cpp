#include "collection_output.hpp"

#include <array>
#include <charconv>

#include "socle/adapters/json/collection_json.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "text_table.hpp"

namespace socle::adapters::cli {
namespace {

using domain::Collection;
using domain::Field;
using domain::FieldType;
using json::JsonWriter;

// The shortest text that reads back as `value` ("5", "0.5", "1e+21").
std::string NumberText(double value) {
  std::array<char, 32> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc{}) return "?";
  return std::string(buffer.data(), end);
}

std::string JoinWords(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (const auto& word : words) {
    if (!out.empty()) out += separator;
    out += word;
  }
  return out;
}

// The target of a relation by name when the project has it (ids mean little to a person).
std::string CollectionName(const std::string& id, const std::vector<Collection>& all) {
  for (const auto& collection : all) {
    if (collection.id == id) return collection.name;
  }
  return id.empty() ? "?" : id;
}

// "single" or "up to N": how many values a select, relation or file field holds.
std::string Cardinality(const Field& field) {
  return field.IsMultiple() ? "up to " + std::to_string(field.max_select) : "single";
}

void AddBounds(std::vector<std::string>& options, const Field& field, std::string_view unit) {
  if (field.min) options.push_back("min " + NumberText(*field.min) + std::string(unit));
  if (field.max) options.push_back("max " + NumberText(*field.max) + std::string(unit));
}

void AddMaxSize(std::vector<std::string>& options, const Field& field) {
  if (field.max_size > 0) options.push_back("max size " + std::to_string(field.max_size) + " B");
}

void AddDomains(std::vector<std::string>& options, const Field& field) {
  if (!field.only_domains.empty()) {
    options.push_back("only " + JoinWords(field.only_domains, ", "));
  }
  if (!field.except_domains.empty()) {
    options.push_back("except " + JoinWords(field.except_domains, ", "));
  }
}

// The text, number and date bounds are "no bound" at zero/empty in PocketBase's exports, so
// only the ones set are worth a word.
std::vector<std::string> TypeOptions(const Field& field, const std::vector<Collection>& all) {
  std::vector<std::string> options;
  switch (field.type) {
    case FieldType::kText:
      if (field.primary_key) options.emplace_back("primary key");
      AddBounds(options, field, " chars");
      if (!field.pattern.empty()) options.push_back("pattern " + field.pattern);
      if (!field.autogenerate_pattern.empty()) {
        options.push_back("generated " + field.autogenerate_pattern);
      }
      break;
    case FieldType::kEditor:
      AddMaxSize(options, field);
      if (field.convert_urls) options.emplace_back("convert URLs");
      break;
    case FieldType::kNumber:
      AddBounds(options, field, "");
      if (field.only_int) options.emplace_back("integers only");
      break;
    case FieldType::kEmail:
    case FieldType::kUrl:
      AddDomains(options, field);
      break;
    case FieldType::kDate:
      if (!field.min_date.empty()) options.push_back("from " + field.min_date);
      if (!field.max_date.empty()) options.push_back("until " + field.max_date);
      break;
    case FieldType::kAutodate:
      if (field.on_create) options.emplace_back("set on create");
      if (field.on_update) options.emplace_back("set on update");
      break;
    case FieldType::kSelect:
      options.push_back("values " + JoinWords(field.values, ", "));
      options.push_back(Cardinality(field));
      break;
    case FieldType::kJson:
      AddMaxSize(options, field);
      break;
    case FieldType::kRelation:
      options.push_back("-> " + CollectionName(field.collection_id, all));
      options.push_back(Cardinality(field));
      if (field.min_select > 0) options.push_back("at least " + std::to_string(field.min_select));
      if (field.cascade_delete) options.emplace_back("cascade delete");
      break;
    case FieldType::kFile:
      options.push_back(Cardinality(field));
      AddMaxSize(options, field);
      if (!field.mime_types.empty()) options.push_back(JoinWords(field.mime_types, ", "));
      if (field.protected_file) options.emplace_back("protected");
      break;
    case FieldType::kBool:
    case FieldType::kPassword:
      break;
  }
  return options;
}

void WriteNames(JsonWriter& w, std::string_view key, const std::vector<std::string>& names) {
  w.Key(key).BeginArray();
  for (const auto& name : names) w.String(name);
  w.EndArray();
}

void WriteOptionalCollection(JsonWriter& w, std::string_view key,
                             const std::optional<Collection>& collection) {
  w.Key(key);
  if (collection) {
    json::WriteCollection(w, *collection);
  } else {
    w.Null();
  }
}

std::string HistoryActionWord(const application::SchemaHistoryEntry& entry) {
  if (!entry.change.before) return "create";
  if (!entry.change.after) return "delete";
  return "update";
}

}  // namespace

std::string CollectionJson(const Collection& collection) {
  JsonWriter w;
  json::WriteCollection(w, collection);
  return std::move(w).Take();
}

std::string CollectionListJson(const std::vector<Collection>& collections) {
  JsonWriter w;
  w.BeginObject().Key("items").BeginArray();
  for (const auto& collection : collections) json::WriteCollection(w, collection);
  w.EndArray().EndObject();
  return std::move(w).Take();
}

std::string CollectionExportJson(const std::vector<Collection>& collections) {
  if (collections.empty()) return "[]\n";
  std::string out = "[\n";
  for (std::size_t i = 0; i < collections.size(); ++i) {
    out += CollectionJson(collections[i]);
    out += i + 1 < collections.size() ? ",\n" : "\n";
  }
  out += "]\n";
  return out;
}

std::string ImportReportJson(const application::ImportReport& report) {
  JsonWriter w;
  w.BeginObject();
  WriteNames(w, "created", report.created);
  WriteNames(w, "updated", report.updated);
  WriteNames(w, "deleted", report.deleted);
  w.EndObject();
  return std::move(w).Take();
}

std::string HistoryJson(const std::vector<application::SchemaHistoryEntry>& history) {
  JsonWriter w;
  w.BeginObject().Key("items").BeginArray();
  for (const auto& entry : history) {
    const auto& change = entry.change;
    w.BeginObject();
    w.Key("version").Int(entry.version);
    w.Key("at").String(entry.at.ToApiString());
    w.Key("actor").String(entry.actor);
    w.Key("action").String(HistoryActionWord(entry));
    w.Key("collection").String(change.after ? change.after->name : change.before->name);
    WriteOptionalCollection(w, "before", change.before);
    WriteOptionalCollection(w, "after", change.after);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return std::move(w).Take();
}

std::string CollectionDeletedJson(const Collection& collection) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(collection.id);
  w.Key("name").String(collection.name);
  w.Key("deleted").Bool(true);
  w.EndObject();
  return std::move(w).Take();
}

std::string RuleText(const std::optional<std::string>& rule) {
  if (!rule) return "(superusers only)";
  if (rule->empty()) return "(everyone)";
  return *rule;
}

std::string FieldOptionsText(const Field& field, const std::vector<Collection>& all) {
  std::vector<std::string> options;
  if (field.system) options.emplace_back("system");
  if (field.hidden) options.emplace_back("hidden");
  if (field.presentable) options.emplace_back("presentable");
  auto typed = TypeOptions(field, all);
  options.insert(options.end(), typed.begin(), typed.end());
  return JoinWords(options, "; ");
}

void PrintCollection(std::ostream& out, const Collection& collection,
                     const std::vector<Collection>& all) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", collection.id},
      {"name", collection.name},
      {"type", std::string(domain::ToString(collection.type))},
      {"system", collection.system ? "yes" : "no"},
      {"listRule", RuleText(collection.rules.list)},
      {"viewRule", RuleText(collection.rules.view)},
      {"createRule", RuleText(collection.rules.create)},
      {"updateRule", RuleText(collection.rules.update)},
      {"deleteRule", RuleText(collection.rules.del)},
  };
  if (collection.type == domain::CollectionType::kView) {
    fields.emplace_back("viewQuery", collection.view_query);
  }
  fields.emplace_back("created", collection.created.ToApiString());
  fields.emplace_back("updated", collection.updated.ToApiString());
  PrintFields(out, fields);

  out << "\n";
  TextTable table({"FIELD", "TYPE", "REQUIRED", "OPTIONS"});
  for (const auto& field : collection.fields) {
    table.AddRow({field.name, std::string(domain::ToString(field.type)),
                  field.required ? "yes" : "no", FieldOptionsText(field, all)});
  }
  table.Print(out);

  if (collection.indexes.empty()) return;
  out << "\n";
  TextTable indexes({"INDEX", "UNIQUE", "COLUMNS"});
  for (const auto& index : collection.indexes) {
    std::vector<std::string> columns;
    for (const auto& column : index.columns) {
      columns.push_back(column.field + (column.descending ? " DESC" : ""));
    }
    indexes.AddRow({index.name, index.unique ? "yes" : "no", JoinWords(columns, ", ")});
  }
  indexes.Print(out);
}

std::string HistoryAction(const application::SchemaHistoryEntry& entry) {
  if (!entry.change.before) return "created";
  if (!entry.change.after) return "deleted";
  return "updated";
}

std::string HistoryCollection(const application::SchemaHistoryEntry& entry) {
  const auto& change = entry.change;
  if (change.before && change.after && change.before->name != change.after->name) {
    return change.before->name + " -> " + change.after->name;
  }
  return change.after ? change.after->name : change.before->name;
}

}  // namespace socle::adapters::cli
