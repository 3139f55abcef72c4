#pragma once

// The schema and records the filter tests share: posts, users (an auth collection), teams and
// comments, with an in-memory RecordSource over them.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/domain/collection.hpp"
#include "socle/domain/filter/evaluator.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/record.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::filter_test {

using domain::Collection;
using domain::CollectionType;
using domain::Field;
using domain::FieldType;
using domain::JsonValue;
using domain::Record;

inline Field MakeField(std::string name, FieldType type) {
  Field field;
  field.id = "f_" + name;
  field.name = std::move(name);
  field.type = type;
  return field;
}

inline Field Relation(std::string name, std::string collection_id, std::int64_t max_select) {
  Field field = MakeField(std::move(name), FieldType::kRelation);
  field.collection_id = std::move(collection_id);
  field.max_select = max_select;
  return field;
}

inline JsonValue Str(std::string text) { return JsonValue::String(std::move(text)); }
inline JsonValue Strs(std::vector<std::string> items) {
  std::vector<JsonValue> values;
  for (auto& item : items) values.push_back(JsonValue::String(std::move(item)));
  return JsonValue::Array(std::move(values));
}

/// posts {title text, views number, published bool, tags select multiple, author relation →
/// users, editors relation multiple → users, data json, due date, hiddenField hidden};
/// users (auth) {name text, email email, team relation → teams, roles select multiple,
/// secret hidden, password}; teams {name text}; comments {post relation → posts, body text}.
inline std::shared_ptr<domain::ProjectSchema> MakeSchema() {
  auto schema = std::make_shared<domain::ProjectSchema>();
  schema->version = 1;

  Collection teams;
  teams.id = "pbc_teams";
  teams.name = "teams";
  teams.fields = domain::SystemFields();
  teams.fields.push_back(MakeField("name", FieldType::kText));

  Collection users;
  users.id = "pbc_users";
  users.name = "users";
  users.type = CollectionType::kAuth;
  users.fields = domain::SystemFields();
  users.fields.push_back(MakeField("name", FieldType::kText));
  users.fields.push_back(MakeField("email", FieldType::kEmail));
  users.fields.push_back(Relation("team", "pbc_teams", 1));
  Field roles = MakeField("roles", FieldType::kSelect);
  roles.values = {"admin", "editor", "viewer"};
  roles.max_select = 3;
  users.fields.push_back(roles);
  Field secret = MakeField("secret", FieldType::kText);
  secret.hidden = true;
  users.fields.push_back(secret);
  Field password = MakeField("password", FieldType::kPassword);
  password.hidden = true;
  users.fields.push_back(password);
  users.fields.push_back(MakeField("settings", FieldType::kJson));

  Collection posts;
  posts.id = "pbc_posts";
  posts.name = "posts";
  posts.fields = domain::SystemFields();
  posts.fields.push_back(MakeField("title", FieldType::kText));
  posts.fields.push_back(MakeField("views", FieldType::kNumber));
  posts.fields.push_back(MakeField("published", FieldType::kBool));
  Field tags = MakeField("tags", FieldType::kSelect);
  tags.values = {"a", "b", "c"};
  tags.max_select = 3;
  posts.fields.push_back(tags);
  posts.fields.push_back(Relation("author", "pbc_users", 1));
  posts.fields.push_back(Relation("editors", "pbc_users", 5));
  posts.fields.push_back(MakeField("data", FieldType::kJson));
  posts.fields.push_back(MakeField("due", FieldType::kDate));
  Field hidden = MakeField("hiddenField", FieldType::kText);
  hidden.hidden = true;
  posts.fields.push_back(hidden);

  Collection comments;
  comments.id = "pbc_comments";
  comments.name = "comments";
  comments.fields = domain::SystemFields();
  comments.fields.push_back(Relation("post", "pbc_posts", 1));
  comments.fields.push_back(MakeField("body", FieldType::kText));

  schema->collections = {std::move(teams), std::move(users), std::move(posts),
                         std::move(comments)};
  return schema;
}

/// A record of `collection` with these values (by field name), the others zero.
inline Record MakeRecord(const Collection& collection,
                         std::vector<std::pair<std::string, JsonValue>> values) {
  Record record = domain::EmptyRecord(collection);
  for (auto& [name, value] : values) {
    auto index = collection.FieldIndex(name);
    if (index) record.values[*index] = std::move(value);
  }
  return record;
}

/// Records kept per collection, found by id.
class MemorySource final : public domain::filter::RecordSource {
 public:
  void Add(const Collection& collection, Record record) {
    records_[&collection].push_back(std::make_unique<Record>(std::move(record)));
  }

  const Record* FindById(const Collection& collection, std::string_view id) const override {
    auto it = records_.find(&collection);
    if (it == records_.end()) return nullptr;
    for (const auto& record : it->second) {
      if (record->Id(collection) == id) return record.get();
    }
    return nullptr;
  }

  std::vector<const Record*> All(const Collection& collection) const override {
    std::vector<const Record*> out;
    auto it = records_.find(&collection);
    if (it == records_.end()) return out;
    for (const auto& record : it->second) out.push_back(record.get());
    return out;
  }

 private:
  std::map<const Collection*, std::vector<std::unique_ptr<Record>>> records_;
};

struct Fixture {
  std::shared_ptr<domain::ProjectSchema> schema = MakeSchema();
  const Collection& teams = schema->collections[0];
  const Collection& users = schema->collections[1];
  const Collection& posts = schema->collections[2];
  const Collection& comments = schema->collections[3];
  MemorySource source;

  /// The records the evaluator tests run against.
  void Populate() {
    source.Add(teams, MakeRecord(teams, {{"id", Str("t1")}, {"name", Str("Red")}}));
    source.Add(teams, MakeRecord(teams, {{"id", Str("t2")}, {"name", Str("Blue")}}));

    source.Add(users, MakeRecord(users, {{"id", Str("u1")},
                                         {"name", Str("Alice")},
                                         {"email", Str("alice@example.com")},
                                         {"team", Str("t1")},
                                         {"roles", Strs({"admin", "editor"})}}));
    source.Add(users, MakeRecord(users, {{"id", Str("u2")},
                                         {"name", Str("Bob")},
                                         {"email", Str("bob@example.com")},
                                         {"team", Str("t2")}}));
    source.Add(users, MakeRecord(users, {{"id", Str("u3")}, {"name", Str("carol")}}));

    source.Add(posts, MakeRecord(posts, {
        {"id", Str("p1")},
        {"title", Str("Hello World")},
        {"views", JsonValue::Integer(10)},
        {"published", JsonValue::Bool(true)},
        {"tags", Strs({"a", "b"})},
        {"author", Str("u1")},
        {"editors", Strs({"u1", "u2"})},
        {"data", JsonValue::Object({{"a", JsonValue::Object({{"b", JsonValue::Integer(1)}})},
                                    {"list", Strs({"x", "y"})},
                                    {"s", Str("str")}})},
        {"due", Str("2024-05-01 09:30:00.000Z")},
        {"hiddenField", Str("s1")},
    }));
    source.Add(posts, MakeRecord(posts, {
        {"id", Str("p2")},
        {"title", Str("Second post")},
        {"views", JsonValue::Number(25.5)},
        {"tags", Strs({"b"})},
        {"author", Str("u2")},
        {"editors", Strs({"u2"})},
        {"data", JsonValue::Object({{"a", JsonValue::Object({{"b", JsonValue::Integer(2)}})}})},
    }));
    source.Add(posts, MakeRecord(posts, {
        {"id", Str("p3")},
        {"due", Str("2023-01-01 00:00:00.000Z")},
    }));
    source.Add(posts, MakeRecord(posts, {
        {"id", Str("p4")},
        {"title", Str("100% sure_thing")},
        {"views", JsonValue::Integer(-3)},
        {"published", JsonValue::Bool(true)},
        {"tags", Strs({"c"})},
        {"author", Str("u3")},
        {"editors", Strs({"u3", "u1"})},
        {"data", JsonValue::Object({{"a", Str("x")}})},
    }));

    source.Add(comments, MakeRecord(comments, {{"id", Str("c1")}, {"post", Str("p1")},
                                               {"body", Str("first")}}));
    source.Add(comments, MakeRecord(comments, {{"id", Str("c2")}, {"post", Str("p1")},
                                               {"body", Str("second")}}));
    source.Add(comments, MakeRecord(comments, {{"id", Str("c3")}, {"post", Str("p2")},
                                               {"body", Str("first")}}));
  }
};

/// Checks what Resolve() promises the store compilers (see ast.hpp): returns "" when `filter`
/// keeps every promise, otherwise the first one it breaks.
inline std::string BrokenGuarantee(const domain::filter::ResolvedFilter& filter) {
  using namespace domain::filter;
  using Type = JsonValue::Type;
  auto is_null_literal = [](const ResolvedOperand& o) {
    return o.kind == ResolvedOperand::Kind::kLiteral && o.literal.IsNull();
  };
  auto is_json_field = [](const ResolvedOperand& o) {
    return o.kind == ResolvedOperand::Kind::kField && o.value_kind == ValueKind::kJson;
  };
  auto is_date = [](const ResolvedOperand& o) {
    return o.kind == ResolvedOperand::Kind::kField && o.field != nullptr &&
           (o.field->type == FieldType::kDate || o.field->type == FieldType::kAutodate) &&
           o.modifier == Modifier::kNone;
  };
  std::vector<bool> used(filter.joins.size(), false);
  auto check_operand = [&](const ResolvedOperand& o, auto& self) -> std::string {
    if (o.kind == ResolvedOperand::Kind::kLiteral) {
      if (o.literal.type() == Type::kObject) return "object literal";
      if (o.literal.type() == Type::kArray) {
        if (o.literal.items().empty()) return "empty array literal";
        bool all_null = true;
        for (const auto& item : o.literal.items()) {
          if (item.type() == Type::kArray || item.type() == Type::kObject) return "nested literal";
          all_null = all_null && item.IsNull();
        }
        if (all_null) return "array of nulls";
        if (!o.multiple) return "array literal not multiple";
      }
      return "";
    }
    if (o.kind == ResolvedOperand::Kind::kGeoDistance) {
      if (o.args.size() != 4) return "geoDistance arity";
      for (const auto& arg : o.args) {
        if (arg.kind == ResolvedOperand::Kind::kLiteral) {
          if (arg.literal.type() != Type::kNumber) return "geoDistance literal not a number";
        } else if (arg.kind != ResolvedOperand::Kind::kField || arg.multiple ||
                   (arg.value_kind != ValueKind::kNumber && arg.value_kind != ValueKind::kJson)) {
          return "geoDistance argument";
        }
        if (auto why = self(arg, self); !why.empty()) return why;
      }
      return "";
    }
    if (o.field == nullptr || o.collection == nullptr) return "field operand without field";
    const Field* first = o.collection->fields.data();
    if (o.field < first || o.field >= first + o.collection->fields.size()) {
      return "field not in its collection";
    }
    if (o.join >= static_cast<int>(filter.joins.size()) || o.join < -1) return "bad join index";
    if (o.join >= 0) used[static_cast<std::size_t>(o.join)] = true;
    const Collection* at = o.join >= 0 ? filter.joins[static_cast<std::size_t>(o.join)].collection
                                       : filter.collection;
    for (const auto& hop : o.hops) {
      if (hop.from != at || hop.relation == nullptr || hop.to == nullptr) return "broken hop";
      at = hop.to;
    }
    if (at != o.collection) return "path does not end at the field's collection";
    return "";
  };
  auto check = [&](const Condition& c, bool top, auto& self) -> std::string {
    switch (c.kind) {
      case Condition::Kind::kTrue:
      case Condition::Kind::kFalse: return top ? "" : "nested constant";
      case Condition::Kind::kAnd:
      case Condition::Kind::kOr:
        if (c.children.size() < 2) return "group with fewer than 2 children";
        for (const auto& child : c.children) {
          if (child.kind == c.kind) return "unflattened group";
          if (auto why = self(child, false, self); !why.empty()) return why;
        }
        return "";
      case Condition::Kind::kCompare: break;
    }
    const Comparison& k = c.compare;
    const bool left_literal = k.left.kind == ResolvedOperand::Kind::kLiteral;
    const bool right_literal = k.right.kind == ResolvedOperand::Kind::kLiteral;
    if (left_literal && right_literal) return "two literals";
    for (const auto* o : {&k.left, &k.right}) {
      if (auto why = check_operand(*o, check_operand); !why.empty()) return why;
    }
    const bool same = k.left.value_kind == k.right.value_kind;
    const bool null_literal = is_null_literal(k.left) || is_null_literal(k.right);
    const bool json_vs_literal = (is_json_field(k.left) && right_literal) ||
                                 (is_json_field(k.right) && left_literal);
    if (!same && !null_literal && !json_vs_literal) return "kinds differ";
    const bool ordering = k.op == CompareOp::kGt || k.op == CompareOp::kGte ||
                          k.op == CompareOp::kLt || k.op == CompareOp::kLte;
    const bool like = k.op == CompareOp::kLike || k.op == CompareOp::kNotLike;
    if ((ordering || like) && null_literal) return "null literal with an ordering or ~";
    if (like) {
      for (const auto* o : {&k.left, &k.right}) {
        if (!is_json_field(*o) && o->value_kind != ValueKind::kString) return "~ on non-text";
      }
    }
    for (const auto& [field, literal] : {std::pair{&k.left, &k.right}, std::pair{&k.right, &k.left}}) {
      if (!is_date(*field) || literal->kind != ResolvedOperand::Kind::kLiteral || like) continue;
      for (const auto& item : literal->literal.type() == Type::kArray
                                  ? literal->literal.items()
                                  : std::vector<JsonValue>{literal->literal}) {
        if (item.IsNull()) continue;
        if (item.type() != Type::kString) return "date literal not a string";
        auto parsed = domain::Timestamp::Parse(item.AsString());
        if (!parsed || parsed->ToApiString() != item.AsString()) return "date literal not canonical";
      }
    }
    return "";
  };
  if (auto why = check(filter.condition, true, check); !why.empty()) return why;
  for (bool u : used) {
    if (!u) return "unused join";
  }
  return "";
}

}  // namespace socle::filter_test
