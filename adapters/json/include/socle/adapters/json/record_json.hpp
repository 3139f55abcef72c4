#pragma once

#include <functional>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/record.hpp"

namespace socle::adapters::json {

// Records in PocketBase's JSON shape, written straight into a JsonWriter (no intermediate
// document: a record is serialised once, whatever `fields` selects), and PocketBase's `fields`
// query parameter (tools/picker).

/// The `fields` query parameter, parsed: which members of a response to keep.
///
/// PocketBase's rules (tools/picker): a comma-separated list of paths (commas inside quotes or
/// parentheses do not separate), each trimmed, empty entries ignored; a path is dot-separated
/// keys ("expand.author.name"), applied at every level to objects and to arrays of objects
/// (each item); `*` keeps every key of its level not named by a more specific path
/// ("*,expand.author.name" keeps every record field and, of the expansion, only the author's
/// name); a key named both as a whole and with sub-paths is kept whole; a path into a value
/// that is not an object keeps the value. `path:excerpt(max, withEllipsis?)` replaces a string
/// value by a plain-text excerpt of it (see Excerpt); other values are left as they are. When
/// the same path is listed twice, the last entry wins.
class FieldSelection final {
 public:
  /// The :excerpt modifier; max == 0 means no modifier.
  struct Modifier {
    std::size_t max = 0;
    bool ellipsis = false;
  };
  struct Child;
  /// The selection at one level of the response.
  struct Node {
    std::vector<Child> children;
    /// The child named `key` exactly, or nullptr.
    const Child* Find(std::string_view key) const noexcept;
  };
  struct Child {
    std::string key;
    bool whole = false;  ///< the path ends here: the value is kept whole (with `modifier`)
    Modifier modifier;
    Node node;  ///< sub-paths, when !whole
  };

  /// What happens to one member.
  struct Pick {
    enum class Kind { kOmit, kWhole, kNested };
    Kind kind = Kind::kWhole;
    const Modifier* modifier = nullptr;  ///< kWhole: the modifier to apply, or nullptr
    const Node* node = nullptr;          ///< kNested: the selection inside the value
  };

  /// What `node` selects for the member `key`. A null node selects everything whole.
  static Pick Select(const Node* node, std::string_view key) noexcept;

  /// Parses the parameter. invalid_argument naming the problem: unbalanced quotes or
  /// parentheses, an empty path segment ("a..b"), an unknown modifier, or :excerpt without a
  /// positive whole max, or with more than two arguments. An empty text selects everything.
  static domain::Result<FieldSelection> Parse(std::string_view text);

  /// The top level; nullptr when the parameter was empty (everything is kept).
  const Node* root() const noexcept { return empty_ ? nullptr : &root_; }

 private:
  Node root_;
  bool empty_ = true;
};

/// Writes `value` as `pick` selects it (Pick::Kind::kOmit writes nothing): a modifier applies to
/// a string; a nested selection applies to an object's members or to each object of an array.
void WriteSelectedValue(JsonWriter& w, const domain::JsonValue& value,
                        const FieldSelection::Pick& pick);

/// PocketBase's :excerpt: the text content of an HTML fragment with tags removed (and the
/// content of head, script, style, iframe, embed, object, svg, img, picture, dialog, template,
/// button, form, textarea, input, select, option, applet dropped), block elements separated by
/// a space, whitespace runs collapsed to one space, entities decoded, trimmed; when longer than
/// `max` bytes, cut to at most `max` bytes (at a UTF-8 character boundary), trimmed again and,
/// with `ellipsis`, followed by "...".
std::string Excerpt(std::string_view html, std::size_t max, bool ellipsis);

/// The relation paths a request's `expand` parameter asked for, as a tree ("author.org,tags" →
/// author → org, tags). It only decides where an empty "expand": {} is still written, as
/// PocketBase does for every record it tried to expand; the use case validates the paths.
struct ExpandRequest {
  struct Child;
  std::vector<Child> children;

  /// The sub-request for the relation `name`, or nullptr.
  const ExpandRequest* Find(std::string_view name) const noexcept;
  /// Builds the tree; entries are trimmed and empty ones ignored.
  static ExpandRequest Parse(std::string_view text);
};
struct ExpandRequest::Child {
  std::string name;
  ExpandRequest request;
};

/// Who reads a record, for what it may see.
struct RecordViewer {
  /// Superusers see hidden fields and every auth record's email.
  bool superuser = false;
  /// The caller's own auth record (empty for guests): it sees its own email.
  std::string_view auth_collection_id;
  std::string_view auth_record_id;
  /// Field-level permissions: fields this returns false for are left out (the use cases have
  /// emptied them already). Null: every field is readable.
  std::function<bool(const domain::Field&)> readable;
};

/// Writes the members of one record, without braces and without "expand", in PocketBase's
/// order: collectionId, collectionName, then every field in schema order. Never written:
/// password fields and, in auth collections, tokenKey; hidden fields only for superusers; in
/// auth collections, email only when emailVisibility is true, for superusers, or for the
/// record itself.
void WriteRecordMembers(JsonWriter& w, const domain::Collection& collection,
                        const domain::Record& record, const FieldSelection::Node* selection,
                        const RecordViewer& viewer);

/// Writes one record with its expansions: {collectionId, collectionName, <fields>, expand:
/// {relation: record | [records]}}. "expand" is written when the record has expansions or
/// `expand` asked for some below this record (then possibly empty), as PocketBase does; an
/// expansion that found no record is left out.
///
/// `Expanded` is any type shaped like application::ExpandedRecord: `collection` (pointer),
/// `record`, and `expand`, a range of {name, multiple, records}.
template <typename Expanded>
void WriteRecord(JsonWriter& w, const Expanded& item, const FieldSelection::Node* selection,
                 const ExpandRequest* expand, const RecordViewer& viewer) {
  w.BeginObject();
  WriteRecordMembers(w, *item.collection, item.record, selection, viewer);
  const bool requested = expand != nullptr && !expand->children.empty();
  if (requested || !item.expand.empty()) {
    const FieldSelection::Pick pick = FieldSelection::Select(selection, "expand");
    if (pick.kind != FieldSelection::Pick::Kind::kOmit) {
      const FieldSelection::Node* inside =
          pick.kind == FieldSelection::Pick::Kind::kNested ? pick.node : nullptr;
      w.Key("expand").BeginObject();
      for (const auto& expansion : item.expand) {
        if (expansion.records.empty()) continue;
        const FieldSelection::Pick sub = FieldSelection::Select(inside, expansion.name);
        if (sub.kind == FieldSelection::Pick::Kind::kOmit) continue;
        const FieldSelection::Node* record_selection =
            sub.kind == FieldSelection::Pick::Kind::kNested ? sub.node : nullptr;
        const ExpandRequest* below = expand != nullptr ? expand->Find(expansion.name) : nullptr;
        w.Key(expansion.name);
        if (expansion.multiple) {
          w.BeginArray();
          for (const auto& related : expansion.records) {
            WriteRecord(w, related, record_selection, below, viewer);
          }
          w.EndArray();
        } else {
          WriteRecord(w, expansion.records.front(), record_selection, below, viewer);
        }
      }
      w.EndObject();
    }
  }
  w.EndObject();
}

/// Writes PocketBase's list shape {page, perPage, totalItems, totalPages, items: [...]}; the
/// selection applies to each item (the page members are always written). `List` is shaped
/// like application::RecordList (page, per_page, total_items, total_pages, items).
template <typename List>
void WriteRecordList(JsonWriter& w, const List& list, const FieldSelection::Node* selection,
                     const ExpandRequest* expand, const RecordViewer& viewer) {
  w.BeginObject();
  w.Key("page").Int(list.page);
  w.Key("perPage").Int(list.per_page);
  w.Key("totalItems").Int(list.total_items);
  w.Key("totalPages").Int(list.total_pages);
  w.Key("items").BeginArray();
  for (const auto& item : list.items) WriteRecord(w, item, selection, expand, viewer);
  w.EndArray();
  w.EndObject();
}

}  // namespace socle::adapters::json
