#include "socle/domain/collection.hpp"

#include <array>
#include <cstddef>
#include <utility>

namespace socle::domain {
namespace {

constexpr std::array<std::pair<CollectionType, std::string_view>, 3> kCollectionTypes{{
    {CollectionType::kBase, "base"},
    {CollectionType::kAuth, "auth"},
    {CollectionType::kView, "view"},
}};

constexpr std::array<std::pair<FieldType, std::string_view>, 13> kFieldTypes{{
    {FieldType::kText, "text"},
    {FieldType::kEditor, "editor"},
    {FieldType::kNumber, "number"},
    {FieldType::kBool, "bool"},
    {FieldType::kEmail, "email"},
    {FieldType::kUrl, "url"},
    {FieldType::kDate, "date"},
    {FieldType::kAutodate, "autodate"},
    {FieldType::kSelect, "select"},
    {FieldType::kJson, "json"},
    {FieldType::kRelation, "relation"},
    {FieldType::kFile, "file"},
    {FieldType::kPassword, "password"},
}};

bool IsAsciiSpace(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsIdentStart(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsIdentChar(char c) noexcept { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// One token of an index declaration. Quoted identifiers are never keywords, so a column
// literally named `desc` or "where" stays a column.
struct IndexToken {
  enum class Kind { kEnd, kWord, kQuoted, kPunct, kString };
  Kind kind = Kind::kEnd;
  std::string text;  ///< the identifier (unquoted) or the punctuation character
};

// A small hand-written scanner over PocketBase's index declarations: SQLite's identifier
// quoting rules ("x""y", `x``y`, [x]), whitespace and comments-free text. Anything it does not
// understand is an error naming the offending text, never guessed at.
class IndexScanner {
 public:
  explicit IndexScanner(std::string_view sql) : sql_(sql) {}

  Result<IndexToken> Next() {
    while (pos_ < sql_.size() && IsAsciiSpace(sql_[pos_])) ++pos_;
    IndexToken token;
    if (pos_ >= sql_.size()) return token;
    const char c = sql_[pos_];
    if (IsIdentStart(c)) {
      std::size_t start = pos_;
      while (pos_ < sql_.size() && IsIdentChar(sql_[pos_])) ++pos_;
      token.kind = IndexToken::Kind::kWord;
      token.text = std::string(sql_.substr(start, pos_ - start));
      return token;
    }
    if (c == '"' || c == '`' || c == '[') {
      const char close = c == '[' ? ']' : c;
      ++pos_;
      std::string text;
      for (;;) {
        if (pos_ >= sql_.size()) {
          return Fail(ErrorCode::kInvalidArgument, "unterminated quoted identifier");
        }
        if (sql_[pos_] == close) {
          // SQLite doubles the closing quote to escape it (not inside brackets).
          if (close != ']' && pos_ + 1 < sql_.size() && sql_[pos_ + 1] == close) {
            text += close;
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        text += sql_[pos_++];
      }
      if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "empty quoted identifier");
      token.kind = IndexToken::Kind::kQuoted;
      token.text = std::move(text);
      return token;
    }
    if (c == '(' || c == ')' || c == ',' || c == ';' || c == '.') {
      ++pos_;
      token.kind = IndexToken::Kind::kPunct;
      token.text = std::string(1, c);
      return token;
    }
    // The comparison of a partial index's condition ("!=" or "<>").
    if ((c == '!' || c == '<') && pos_ + 1 < sql_.size() &&
        sql_[pos_ + 1] == (c == '!' ? '=' : '>')) {
      pos_ += 2;
      token.kind = IndexToken::Kind::kPunct;
      token.text = "!=";
      return token;
    }
    if (c == '\'') {
      std::size_t end = sql_.find('\'', pos_ + 1);
      if (end == std::string_view::npos) {
        return Fail(ErrorCode::kInvalidArgument, "unterminated string literal");
      }
      token.kind = IndexToken::Kind::kString;
      token.text = std::string(sql_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return token;
    }
    return Fail(ErrorCode::kInvalidArgument,
                "unexpected character '" + std::string(1, c) + "' (expressions are not supported)");
  }

 private:
  std::string_view sql_;
  std::size_t pos_ = 0;
};

bool IsKeyword(const IndexToken& token, std::string_view keyword) noexcept {
  return token.kind == IndexToken::Kind::kWord && EqualsIgnoringCase(token.text, keyword);
}

bool IsPunct(const IndexToken& token, char c) noexcept {
  return token.kind == IndexToken::Kind::kPunct && token.text.size() == 1 && token.text[0] == c;
}

bool IsIdentifier(const IndexToken& token) noexcept {
  return token.kind == IndexToken::Kind::kWord || token.kind == IndexToken::Kind::kQuoted;
}

std::string Describe(const IndexToken& token) {
  switch (token.kind) {
    case IndexToken::Kind::kEnd: return "the end of the text";
    case IndexToken::Kind::kQuoted: return "\"" + token.text + "\"";
    case IndexToken::Kind::kString: return "'" + token.text + "' (a string)";
    default: return "'" + token.text + "'";
  }
}

Result<CollectionIndex> ParseIndexTokens(IndexScanner& scanner, std::string* table) {
  auto next = [&]() { return scanner.Next(); };
  auto expected = [](std::string_view what, const IndexToken& got) {
    return Fail(ErrorCode::kInvalidArgument,
                "expected " + std::string(what) + " but found " + Describe(got));
  };

  CollectionIndex index;
  auto token = next();
  if (!token) return std::unexpected(token.error());
  if (!IsKeyword(*token, "create")) return expected("CREATE", *token);
  if (!(token = next())) return std::unexpected(token.error());
  if (IsKeyword(*token, "unique")) {
    index.unique = true;
    if (!(token = next())) return std::unexpected(token.error());
  }
  if (!IsKeyword(*token, "index")) return expected("INDEX", *token);
  if (!(token = next())) return std::unexpected(token.error());
  if (IsKeyword(*token, "if")) {
    if (!(token = next())) return std::unexpected(token.error());
    if (!IsKeyword(*token, "not")) return expected("NOT", *token);
    if (!(token = next())) return std::unexpected(token.error());
    if (!IsKeyword(*token, "exists")) return expected("EXISTS", *token);
    if (!(token = next())) return std::unexpected(token.error());
  }
  if (!IsIdentifier(*token)) return expected("the index name", *token);
  index.name = token->text;
  if (!(token = next())) return std::unexpected(token.error());
  if (IsPunct(*token, '.')) {
    return Fail(ErrorCode::kInvalidArgument, "schema-qualified index names are not supported");
  }
  if (!IsKeyword(*token, "on")) return expected("ON", *token);
  if (!(token = next())) return std::unexpected(token.error());
  if (!IsIdentifier(*token)) return expected("the table name", *token);
  if (table != nullptr) *table = token->text;
  if (!(token = next())) return std::unexpected(token.error());
  if (!IsPunct(*token, '(')) return expected("'('", *token);

  for (;;) {
    if (!(token = next())) return std::unexpected(token.error());
    if (!IsIdentifier(*token)) return expected("a column name", *token);
    IndexColumn column{token->text, false};
    if (!(token = next())) return std::unexpected(token.error());
    if (IsPunct(*token, '(')) {
      return Fail(ErrorCode::kInvalidArgument,
                  "expressions are not supported in indexes, only column names");
    }
    if (IsKeyword(*token, "collate")) {
      return Fail(ErrorCode::kInvalidArgument, "COLLATE is not supported in indexes");
    }
    if (IsKeyword(*token, "asc") || IsKeyword(*token, "desc")) {
      column.descending = IsKeyword(*token, "desc");
      if (!(token = next())) return std::unexpected(token.error());
    }
    index.columns.push_back(std::move(column));
    if (IsPunct(*token, ',')) continue;
    if (IsPunct(*token, ')')) break;
    return expected("',' or ')'", *token);
  }

  if (!(token = next())) return std::unexpected(token.error());
  if (IsKeyword(*token, "where")) {
    // Only conjunctions of `column != ''`: what PocketBase's auth collections declare, and
    // a condition every store can express and the memory store can check.
    for (;;) {
      if (!(token = next())) return std::unexpected(token.error());
      if (!IsIdentifier(*token)) return expected("a column name in WHERE", *token);
      std::string column = token->text;
      if (!(token = next())) return std::unexpected(token.error());
      if (token->kind != IndexToken::Kind::kPunct || token->text != "!=") {
        return Fail(ErrorCode::kInvalidArgument,
                    "partial indexes support only WHERE column != '' conditions");
      }
      if (!(token = next())) return std::unexpected(token.error());
      if (token->kind != IndexToken::Kind::kString || !token->text.empty()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "partial indexes support only WHERE column != '' conditions");
      }
      index.where_not_empty.push_back(std::move(column));
      if (!(token = next())) return std::unexpected(token.error());
      if (IsKeyword(*token, "and")) continue;
      break;
    }
  }
  if (IsPunct(*token, ';')) {
    if (!(token = next())) return std::unexpected(token.error());
  }
  if (token->kind != IndexToken::Kind::kEnd) return expected("the end of the declaration", *token);
  return index;
}

void AppendQuotedIdentifier(std::string& out, std::string_view identifier) {
  out += '`';
  for (char c : identifier) {
    if (c == '`') out += '`';
    out += c;
  }
  out += '`';
}

}  // namespace

Result<CollectionIndex> ParseIndexSql(std::string_view sql, std::string* table) {
  IndexScanner scanner(sql);
  auto parsed = ParseIndexTokens(scanner, table);
  if (!parsed) {
    return Fail(ErrorCode::kInvalidArgument,
                "Invalid CREATE INDEX declaration: " + parsed.error().message + ".");
  }
  return parsed;
}

std::string ToIndexSql(const CollectionIndex& index, std::string_view collection_name) {
  std::string sql = index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  AppendQuotedIdentifier(sql, index.name);
  sql += " ON ";
  AppendQuotedIdentifier(sql, collection_name);
  sql += " (";
  for (std::size_t i = 0; i < index.columns.size(); ++i) {
    if (i > 0) sql += ", ";
    AppendQuotedIdentifier(sql, index.columns[i].field);
    if (index.columns[i].descending) sql += " DESC";
  }
  sql += ')';
  for (std::size_t i = 0; i < index.where_not_empty.size(); ++i) {
    sql += i == 0 ? " WHERE " : " AND ";
    AppendQuotedIdentifier(sql, index.where_not_empty[i]);
    sql += " != ''";
  }
  return sql;
}

std::string_view ToString(CollectionType type) noexcept {
  for (const auto& [value, name] : kCollectionTypes) {
    if (value == type) return name;
  }
  return "base";
}

std::optional<CollectionType> ParseCollectionType(std::string_view text) noexcept {
  for (const auto& [value, name] : kCollectionTypes) {
    if (name == text) return value;
  }
  return std::nullopt;
}

std::string_view ToString(FieldType type) noexcept {
  for (const auto& [value, name] : kFieldTypes) {
    if (value == type) return name;
  }
  return "text";
}

std::optional<FieldType> ParseFieldType(std::string_view text) noexcept {
  for (const auto& [value, name] : kFieldTypes) {
    if (name == text) return value;
  }
  return std::nullopt;
}

bool Field::IsMultiple() const noexcept {
  switch (type) {
    case FieldType::kSelect:
    case FieldType::kRelation:
    case FieldType::kFile: return max_select > 1;
    default: return false;
  }
}

const Field* Collection::FindField(std::string_view field_name) const noexcept {
  for (const auto& field : fields) {
    if (field.name == field_name) return &field;
  }
  return nullptr;
}

std::optional<std::size_t> Collection::FieldIndex(std::string_view field_name) const noexcept {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return i;
  }
  return std::nullopt;
}

const Field* Collection::FindFieldById(std::string_view field_id) const noexcept {
  for (const auto& field : fields) {
    if (field.id == field_id) return &field;
  }
  return nullptr;
}

std::vector<Field> SystemFields() {
  Field id;
  id.id = "text3208210256";
  id.name = "id";
  id.type = FieldType::kText;
  id.system = true;
  id.required = true;
  id.primary_key = true;
  id.min = 15;
  id.max = 15;
  id.pattern = "^[a-z0-9]+$";
  id.autogenerate_pattern = "[a-z0-9]{15}";

  Field created;
  created.id = "autodate2990389176";
  created.name = "created";
  created.type = FieldType::kAutodate;
  created.system = true;
  created.on_create = true;

  Field updated;
  updated.id = "autodate3332085495";
  updated.name = "updated";
  updated.type = FieldType::kAutodate;
  updated.system = true;
  updated.on_create = true;
  updated.on_update = true;

  return {std::move(id), std::move(created), std::move(updated)};
}

}  // namespace socle::domain

namespace socle::domain {
namespace {

MailTemplate Template(std::string subject, std::string_view action, std::string_view path,
                      std::string_view button, std::string_view ignore) {
  std::string body = "<p>Hello,</p>\n<p>" + std::string(action) +
                     "</p>\n<p><a class=\"btn\" href=\"{APP_URL}/_/#/auth/" + std::string(path) +
                     "/{TOKEN}\" target=\"_blank\" rel=\"noopener\">" + std::string(button) +
                     "</a></p>\n";
  if (!ignore.empty()) body += "<p><i>" + std::string(ignore) + "</i></p>\n";
  body += "<p>Thanks,<br/>\n{APP_NAME} team</p>";
  return {std::move(subject), std::move(body)};
}

}  // namespace

AuthOptions DefaultAuthOptions() {
  AuthOptions options;
  options.verification_template =
      Template("Verify your {APP_NAME} email",
               "Thank you for joining {APP_NAME}. Follow the link below to verify your email "
               "address.",
               "confirm-verification", "Verify", "");
  options.reset_password_template =
      Template("Reset your {APP_NAME} password",
               "Follow the link below to choose a new password.", "confirm-password-reset",
               "Reset password", "If you did not ask to reset your password, ignore this email.");
  options.confirm_email_change_template =
      Template("Confirm your {APP_NAME} new email address",
               "Follow the link below to confirm your new email address.",
               "confirm-email-change", "Confirm new email",
               "If you did not ask to change your email address, ignore this email.");
  return options;
}

std::vector<Field> AuthSystemFields() {
  Field password;
  password.id = "password901924565";
  password.name = "password";
  password.type = FieldType::kPassword;
  password.system = true;
  password.hidden = true;
  password.required = true;
  password.min = 8;

  Field token_key;
  token_key.id = "text2504183744";
  token_key.name = "tokenKey";
  token_key.type = FieldType::kText;
  token_key.system = true;
  token_key.hidden = true;
  token_key.required = true;
  token_key.min = 30;
  token_key.max = 60;
  token_key.autogenerate_pattern = "[a-zA-Z0-9]{50}";

  Field email;
  email.id = "email3885137012";
  email.name = "email";
  email.type = FieldType::kEmail;
  email.system = true;
  email.required = true;

  Field visibility;
  visibility.id = "bool1547992806";
  visibility.name = "emailVisibility";
  visibility.type = FieldType::kBool;
  visibility.system = true;

  Field verified;
  verified.id = "bool256245529";
  verified.name = "verified";
  verified.type = FieldType::kBool;
  verified.system = true;

  return {std::move(password), std::move(token_key), std::move(email), std::move(visibility),
          std::move(verified)};
}

std::vector<CollectionIndex> AuthSystemIndexes(std::string_view collection_id) {
  const std::string suffix(collection_id);
  return {CollectionIndex{"idx_tokenKey_" + suffix, true, {{"tokenKey", false}}, {}},
          CollectionIndex{"idx_email_" + suffix, true, {{"email", false}}, {"email"}}};
}

}  // namespace socle::domain
