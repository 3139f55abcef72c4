#include "socle/adapters/json/record_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <utility>

namespace socle::adapters::json {

using domain::Collection;
using domain::ErrorCode;
using domain::FieldType;
using domain::JsonValue;
using domain::Record;
using domain::Result;

namespace {

std::unexpected<domain::Error> BadFields(std::string why) {
  return domain::Fail(ErrorCode::kInvalidArgument, "Invalid fields parameter: " + why + ".");
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// PocketBase's tokenizer (tools/tokenizer): splits `text` on any of `separators` outside
// quotes (', ", `) and, when `parentheses`, outside (...); a backslash before a quote or a
// parenthesis makes it literal (the backslash is kept). Tokens are trimmed; empty ones are
// dropped. nullopt for unbalanced quotes or parentheses.
std::optional<std::vector<std::string_view>> Tokenize(std::string_view text,
                                                      std::string_view separators,
                                                      bool parentheses) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  int depth = 0;
  char quote = 0;
  char previous = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const bool end = i == text.size();
    const char c = end ? 0 : text[i];
    if (!end && previous != '\\') {
      if (parentheses && c == '(' && quote == 0) {
        ++depth;
      } else if (parentheses && c == ')' && depth > 0 && quote == 0) {
        --depth;
      } else if (c == '\'' || c == '"' || c == '`') {
        if (quote == c) {
          quote = 0;
        } else if (quote == 0) {
          quote = c;
        }
      }
    }
    const bool separator =
        !end && depth == 0 && quote == 0 && separators.find(c) != std::string_view::npos;
    if (end || separator) {
      if (end && (depth > 0 || quote != 0)) return std::nullopt;
      const std::string_view token = Trim(text.substr(start, i - start));
      if (!token.empty()) tokens.push_back(token);
      start = i + 1;
      previous = 0;
      continue;
    }
    previous = c;
  }
  return tokens;
}

// Go's strconv.ParseBool, as spf13/cast uses it for the excerpt's second argument; anything
// else is false there too.
bool ParseGoBool(std::string_view text) {
  return text == "1" || text == "t" || text == "T" || text == "true" || text == "TRUE" ||
         text == "True";
}

Result<FieldSelection::Modifier> ParseModifier(std::string_view text) {
  auto tokens = Tokenize(text, "(), ", false);
  if (!tokens || tokens->empty()) return BadFields("empty modifier");
  const std::string_view name = (*tokens)[0];
  if (name != "excerpt") return BadFields("unknown modifier \"" + std::string(name) + "\"");
  if (tokens->size() < 2) return BadFields("excerpt needs a max argument");
  if (tokens->size() > 3) return BadFields("excerpt takes (max, withEllipsis?)");
  const std::string_view max_text = (*tokens)[1];
  std::size_t max = 0;
  auto [end, ec] = std::from_chars(max_text.data(), max_text.data() + max_text.size(), max);
  if (ec != std::errc() || end != max_text.data() + max_text.size() || max == 0) {
    return BadFields("excerpt max must be a whole number > 0");
  }
  return FieldSelection::Modifier{max, tokens->size() == 3 && ParseGoBool((*tokens)[2])};
}

FieldSelection::Child& FindOrAdd(FieldSelection::Node& node, std::string_view key) {
  for (auto& child : node.children) {
    if (child.key == key) return child;
  }
  node.children.push_back(FieldSelection::Child{std::string(key), false, {}, {}});
  return node.children.back();
}

void WriteString(JsonWriter& w, std::string_view text, const FieldSelection::Modifier* modifier) {
  if (modifier != nullptr && modifier->max > 0) {
    w.String(Excerpt(text, modifier->max, modifier->ellipsis));
  } else {
    w.String(text);
  }
}

// --- excerpt: a small HTML tokenizer, enough to strip tags the way PocketBase's use of
// golang.org/x/net/html does for the markup rich-text editors produce.

constexpr std::array<std::string_view, 18> kExcludedTags = {
    "head",     "style",  "script", "iframe",   "embed",  "applet",   "object", "svg", "img",
    "picture", "dialog", "template", "button", "form", "textarea", "input", "select", "option"};
constexpr std::array<std::string_view, 21> kInlineTags = {
    "a",    "abbr",  "acronym", "b",  "bdo",   "big",    "br",    "button", "cite", "code", "em",
    "i",    "label", "q",       "small", "span", "strong", "strike", "sub", "sup", "time"};
// Elements without content: an excluded one has nothing to skip.
constexpr std::array<std::string_view, 14> kVoidTags = {
    "area", "base", "br",   "col",   "embed",  "hr",    "img",
    "input", "link", "meta", "param", "source", "track", "wbr"};
// Elements whose content is raw text: markup inside them is not markup.
constexpr std::array<std::string_view, 5> kRawTextTags = {"script", "style", "textarea",
                                                          "title", "iframe"};

template <std::size_t N>
bool Contains(const std::array<std::string_view, N>& set, std::string_view name) {
  return std::find(set.begin(), set.end(), name) != set.end();
}

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// Whether html[pos...] starts with `prefix`, ASCII case-insensitively.
bool StartsWithNoCase(std::string_view html, std::size_t pos, std::string_view prefix) {
  if (html.size() - pos < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (LowerAscii(html[pos + i]) != prefix[i]) return false;
  }
  return true;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes character references in a text run: numeric ones and the named ones editors emit;
// any other stays literal.
std::string DecodeEntities(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::uint32_t>, 17> kNamed = {{
      {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
      {"apos", '\''},    {"nbsp", 0xA0},    {"copy", 0xA9},    {"reg", 0xAE},
      {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"laquo", 0xAB},
      {"raquo", 0xBB},   {"euro", 0x20AC},  {"lsquo", 0x2018}, {"rsquo", 0x2019},
      {"ldquo", 0x201C},
  }};
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    const std::size_t semicolon = text.find(';', i);
    if (semicolon == std::string_view::npos || semicolon - i > 10) {
      out.push_back('&');
      continue;
    }
    const std::string_view name = text.substr(i + 1, semicolon - i - 1);
    std::optional<std::uint32_t> cp;
    if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      std::uint32_t value = 0;
      auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 10);
      if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size()) {
        cp = value;
      }
    } else {
      for (const auto& [entity, value] : kNamed) {
        if (entity == name) cp = value;
      }
    }
    if (!cp) {
      out.push_back('&');
      continue;
    }
    AppendUtf8(out, *cp);
    i = semicolon;
  }
  return out;
}

// Builds the excerpt text: mirrors PocketBase's stripTags walk (text runs collapsed, one space
// around block elements, nothing doubled).
class ExcerptBuilder {
 public:
  explicit ExcerptBuilder(std::size_t max) : max_(max) {}

  bool Full() const { return out_.size() > max_ + 2; }

  void Text(std::string_view raw) {
    const std::string decoded = DecodeEntities(raw);
    std::string collapsed;
    collapsed.reserve(decoded.size());
    for (char c : decoded) {
      // Go's regexp \s: [\t\n\f\r ].
      const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
      if (space) {
        if (collapsed.empty() || collapsed.back() != ' ') collapsed.push_back(' ');
      } else {
        collapsed.push_back(c);
      }
    }
    std::string_view text = collapsed;
    if (previous_space_) {
      while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    }
    if (text.empty()) return;
    previous_space_ = text.back() == ' ';
    out_ += text;
  }

  void Block() {
    if (previous_space_) return;
    out_.push_back(' ');
    previous_space_ = true;
  }

  std::string Finish(bool ellipsis) && {
    std::string_view result = TrimText(out_);
    if (result.size() <= max_) return std::string(result);
    std::size_t cut = max_;
    // Never split a UTF-8 sequence: back off to the start of the character.
    while (cut > 0 && (static_cast<unsigned char>(result[cut]) & 0xC0) == 0x80) --cut;
    std::string out(TrimText(result.substr(0, cut)));
    if (ellipsis) out += "...";
    return out;
  }

 private:
  // Go's strings.TrimSpace for what can occur here: ASCII whitespace and U+00A0.
  static std::string_view TrimText(std::string_view text) {
    while (true) {
      if (!text.empty() && IsSpace(text.front())) {
        text.remove_prefix(1);
      } else if (text.starts_with("\xC2\xA0")) {
        text.remove_prefix(2);
      } else {
        break;
      }
    }
    while (true) {
      if (!text.empty() && IsSpace(text.back())) {
        text.remove_suffix(1);
      } else if (text.ends_with("\xC2\xA0")) {
        text.remove_suffix(2);
      } else {
        break;
      }
    }
    return text;
  }

  std::size_t max_;
  std::string out_;
  bool previous_space_ = false;
};

// Reads a tag starting at html[pos] == '<' (followed by a letter or "/letter"); returns its
// lower-cased name, whether it is an end tag or self-closing, and the position after '>'.
struct Tag {
  std::string name;
  bool end = false;
  bool self_closing = false;
  std::size_t after = 0;
};

Tag ReadTag(std::string_view html, std::size_t pos) {
  Tag tag;
  std::size_t i = pos + 1;
  if (i < html.size() && html[i] == '/') {
    tag.end = true;
    ++i;
  }
  while (i < html.size() && !IsSpace(html[i]) && html[i] != '/' && html[i] != '>') {
    tag.name.push_back(LowerAscii(html[i]));
    ++i;
  }
  char quote = 0;
  char last = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      tag.self_closing = last == '/';
      tag.after = i + 1;
      return tag;
    }
    if (!IsSpace(c)) last = c;
    ++i;
  }
  tag.after = html.size();  // an unterminated tag swallows the rest, as in HTML
  return tag;
}

// Where the element whose content starts at `pos` ends: the start of its end tag `</name>` and
// the position after it, counting nested elements of the same name (not for raw-text
// elements, whose content is not markup). Both are html.size() when it is never closed.
struct ElementEnd {
  std::size_t content_end = 0;
  std::size_t after = 0;
};

ElementEnd FindElementEnd(std::string_view html, std::size_t pos, const std::string& name,
                          bool raw) {
  int depth = 1;
  while (pos < html.size()) {
    const std::size_t lt = html.find('<', pos);
    if (lt == std::string_view::npos) break;
    const bool end = lt + 1 < html.size() && html[lt + 1] == '/';
    const std::size_t name_at = lt + (end ? 2 : 1);
    if (StartsWithNoCase(html, name_at, name)) {
      const std::size_t after_name = name_at + name.size();
      const bool boundary = after_name >= html.size() || IsSpace(html[after_name]) ||
                            html[after_name] == '>' || html[after_name] == '/';
      if (boundary) {
        const Tag tag = ReadTag(html, lt);
        if (end) {
          if (--depth == 0) return ElementEnd{lt, tag.after};
        } else if (!raw && !tag.self_closing) {
          ++depth;
        }
        pos = tag.after;
        continue;
      }
    }
    pos = lt + 1;
  }
  return ElementEnd{html.size(), html.size()};
}

}  // namespace

// --- FieldSelection

const FieldSelection::Child* FieldSelection::Node::Find(std::string_view key) const noexcept {
  for (const auto& child : children) {
    if (child.key == key) return &child;
  }
  return nullptr;
}

FieldSelection::Pick FieldSelection::Select(const Node* node, std::string_view key) noexcept {
  if (node == nullptr) return Pick{};
  const Child* child = node->Find(key);
  if (child == nullptr) {
    child = node->Find("*");
    if (child == nullptr || !child->whole) return Pick{Pick::Kind::kOmit, nullptr, nullptr};
  }
  if (child->whole) {
    return Pick{Pick::Kind::kWhole, child->modifier.max > 0 ? &child->modifier : nullptr,
                nullptr};
  }
  return Pick{Pick::Kind::kNested, nullptr, &child->node};
}

Result<FieldSelection> FieldSelection::Parse(std::string_view text) {
  FieldSelection selection;
  auto entries = Tokenize(text, ",", true);
  if (!entries) return BadFields("unbalanced quotes or parentheses");
  for (std::string_view entry : *entries) {
    const std::size_t colon = entry.find(':');
    const std::string_view path = Trim(entry.substr(0, colon));
    Modifier modifier;
    if (colon != std::string_view::npos) {
      auto parsed = ParseModifier(entry.substr(colon + 1));
      if (!parsed) return std::unexpected(parsed.error());
      modifier = *parsed;
    }
    Node* node = &selection.root_;
    std::string_view rest = path;
    while (true) {
      const std::size_t dot = rest.find('.');
      const std::string_view key = rest.substr(0, dot);
      if (key.empty()) return BadFields("empty segment in \"" + std::string(path) + "\"");
      Child& child = FindOrAdd(*node, key);
      if (dot == std::string_view::npos) {
        child.whole = true;
        child.modifier = modifier;
        break;
      }
      node = &child.node;
      rest = rest.substr(dot + 1);
    }
    selection.empty_ = false;
  }
  return selection;
}

void WriteSelectedValue(JsonWriter& w, const JsonValue& value, const FieldSelection::Pick& pick) {
  using Kind = FieldSelection::Pick::Kind;
  switch (pick.kind) {
    case Kind::kOmit:
      return;
    case Kind::kWhole:
      if (pick.modifier != nullptr && value.type() == JsonValue::Type::kString) {
        WriteString(w, value.AsString(), pick.modifier);
      } else {
        w.Value(value);
      }
      return;
    case Kind::kNested:
      break;
  }
  if (value.IsObject()) {
    w.BeginObject();
    for (const auto& [key, member] : value.members()) {
      const FieldSelection::Pick sub = FieldSelection::Select(pick.node, key);
      if (sub.kind == Kind::kOmit) continue;
      w.Key(key);
      WriteSelectedValue(w, member, sub);
    }
    w.EndObject();
    return;
  }
  // PocketBase picks inside arrays whose first item is an object and leaves other arrays alone.
  if (value.type() == JsonValue::Type::kArray && !value.items().empty() &&
      value.items().front().IsObject()) {
    w.BeginArray();
    for (const auto& item : value.items()) WriteSelectedValue(w, item, pick);
    w.EndArray();
    return;
  }
  w.Value(value);
}

// --- Excerpt

std::string Excerpt(std::string_view html, std::size_t max, bool ellipsis) {
  ExcerptBuilder builder(max);
  std::size_t pos = 0;
  while (pos < html.size() && !builder.Full()) {
    const std::size_t lt = html.find('<', pos);
    if (lt != pos) {
      const std::size_t end = lt == std::string_view::npos ? html.size() : lt;
      builder.Text(html.substr(pos, end - pos));
      pos = end;
      continue;
    }
    const char next = lt + 1 < html.size() ? html[lt + 1] : 0;
    if (html.substr(lt, 4) == "<!--") {
      const std::size_t close = html.find("-->", lt + 4);
      pos = close == std::string_view::npos ? html.size() : close + 3;
      continue;
    }
    if (next == '!' || next == '?') {  // doctype, CDATA, processing instruction: no text
      const std::size_t close = html.find('>', lt);
      pos = close == std::string_view::npos ? html.size() : close + 1;
      continue;
    }
    const bool is_tag =
        IsAsciiAlpha(next) || (next == '/' && lt + 2 < html.size() && IsAsciiAlpha(html[lt + 2]));
    if (!is_tag) {  // a lone '<' is text
      builder.Text(html.substr(lt, 1));
      pos = lt + 1;
      continue;
    }
    const Tag tag = ReadTag(html, lt);
    pos = tag.after;
    const bool block = !Contains(kInlineTags, tag.name);
    if (tag.end) {
      if (block) builder.Block();
      continue;
    }
    if (Contains(kExcludedTags, tag.name)) {
      if (!tag.self_closing && !Contains(kVoidTags, tag.name)) {
        pos = FindElementEnd(html, pos, tag.name, Contains(kRawTextTags, tag.name)).after;
      }
      continue;
    }
    if (block) builder.Block();
    if (Contains(kRawTextTags, tag.name) && !tag.self_closing) {
      // A raw-text element that is not excluded (title): its text, markup included, as text.
      const ElementEnd element = FindElementEnd(html, pos, tag.name, true);
      builder.Text(html.substr(pos, element.content_end - pos));
      if (block) builder.Block();
      pos = element.after;
    }
  }
  return std::move(builder).Finish(ellipsis);
}

// --- ExpandRequest

const ExpandRequest* ExpandRequest::Find(std::string_view name) const noexcept {
  for (const auto& child : children) {
    if (child.name == name) return &child.request;
  }
  return nullptr;
}

ExpandRequest ExpandRequest::Parse(std::string_view text) {
  ExpandRequest root;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view path = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    ExpandRequest* node = &root;
    while (!path.empty()) {
      const std::size_t dot = path.find('.');
      const std::string_view name = Trim(path.substr(0, dot));
      path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
      if (name.empty()) break;
      ExpandRequest* found = nullptr;
      for (auto& child : node->children) {
        if (child.name == name) found = &child.request;
      }
      if (found == nullptr) {
        node->children.push_back(Child{std::string(name), {}});
        found = &node->children.back().request;
      }
      node = found;
    }
  }
  return root;
}

// --- records

void WriteRecordMembers(JsonWriter& w, const Collection& collection, const Record& record,
                        const FieldSelection::Node* selection, const RecordViewer& viewer) {
  using Kind = FieldSelection::Pick::Kind;
  FieldSelection::Pick pick = FieldSelection::Select(selection, "collectionId");
  if (pick.kind != Kind::kOmit) {
    w.Key("collectionId");
    WriteString(w, collection.id, pick.modifier);
  }
  pick = FieldSelection::Select(selection, "collectionName");
  if (pick.kind != Kind::kOmit) {
    w.Key("collectionName");
    WriteString(w, collection.name, pick.modifier);
  }

  const bool auth = collection.type == domain::CollectionType::kAuth;
  bool email_visible = true;
  if (auth && !viewer.superuser) {
    const JsonValue* visibility = record.Get(collection, "emailVisibility");
    const JsonValue* id = record.Get(collection, "id");
    const bool own = id != nullptr && id->type() == JsonValue::Type::kString &&
                     !viewer.auth_record_id.empty() &&
                     viewer.auth_collection_id == collection.id &&
                     viewer.auth_record_id == id->AsString();
    email_visible = own || (visibility != nullptr &&
                            visibility->type() == JsonValue::Type::kBool && visibility->AsBool());
  }

  static const JsonValue kNull;
  for (std::size_t i = 0; i < collection.fields.size(); ++i) {
    const domain::Field& field = collection.fields[i];
    if (field.type == FieldType::kPassword) continue;
    if (field.hidden && !viewer.superuser) continue;
    if (viewer.readable && !viewer.readable(field)) continue;
    if (auth && field.name == "tokenKey") continue;
    if (auth && field.name == "email" && !email_visible) continue;
    pick = FieldSelection::Select(selection, field.name);
    if (pick.kind == Kind::kOmit) continue;
    w.Key(field.name);
    WriteSelectedValue(w, i < record.values.size() ? record.values[i] : kNull, pick);
  }
}

}  // namespace socle::adapters::json
