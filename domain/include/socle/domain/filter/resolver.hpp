#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/domain/error.hpp"
#include "socle/domain/filter/ast.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/record.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::domain::filter {

/// Who is calling, for @request.auth.*: a record of an auth collection (the authentication work
/// fills it), or nobody (a guest: every @request.auth.* is null/"").
struct AuthIdentity {
  const Collection* collection = nullptr;
  Record record;
  /// The caller's roles, when known: a platform member's roles at the project, or an app
  /// user's (their `roles` field, only the active one after role switching).
  /// @request.auth.roles reads these, before any field of that name.
  std::optional<std::vector<std::string>> roles;
};

/// Everything a rule or filter may read about the request. Plain data: the HTTP adapter fills it.
struct RequestContext {
  std::string method = "GET";                   ///< @request.method
  std::optional<AuthIdentity> auth;             ///< @request.auth.*
  JsonValue body = JsonValue::Object({});       ///< @request.body.* (an object)
  std::vector<std::pair<std::string, std::string>> query;    ///< @request.query.*
  std::vector<std::pair<std::string, std::string>> headers;  ///< @request.headers.* (lower-case
                                                             ///< names; '-' spelled '_')
  Timestamp now;                                ///< @now, @todayStart ... (UTC)
};

/// How identifiers may be used.
struct ResolveOptions {
  /// Rules may read hidden fields; a client's filter and sort may not (unless superuser).
  bool allow_hidden = false;
  /// The stored record an update rule is checked against, for `:changed`. Without one (a
  /// create rule, or a filter) `@request.body.x:changed` means `@request.body.x:isset`.
  const Record* current = nullptr;
  /// Field-level permissions: a record field this returns false for cannot be named in the
  /// filter or sort (the caller may not read it, or only masked: filtering on it would reveal
  /// it). Null: every field may be named. Rules pass null: they are the schema's own.
  std::function<bool(const Field&)> field_readable;
  /// Bounds on relation paths.
  std::size_t max_hops = 6;
  std::size_t max_joins = 8;
  /// geoDistance(lonA, latA, lonB, latB) operands (ResolvedOperand::Kind::kGeoDistance); every
  /// store compiles them. When off, calling it is invalid_argument.
  bool enable_geo_distance = true;
  /// ResolveSort(): at most this many comma-separated terms.
  std::size_t max_sort_terms = 32;
};

/// The value of a macro at `now` (UTC): @now @yesterday @tomorrow @todayStart @todayEnd
/// @monthStart @monthEnd @yearStart @yearEnd as canonical date strings
/// ("2024-05-01 09:30:00.000Z", the *End ones at .999), @second @minute @hour @day @month
/// @year @weekday (0 = Sunday) as integers; nullopt for any other name.
std::optional<JsonValue> MacroValue(std::string_view name, Timestamp now);

/// Resolves a syntax tree against `collection` of `schema` and the request: field paths to
/// schema fields (relation hops, back-relations `x_via_y`, json paths), @collection joins, and
/// every @request.* value and date macro to a literal; folds constant comparisons; coerces
/// literals to the kind of the field they are compared with. invalid_argument naming the
/// identifier and its position for an unknown field, collection or macro, a hidden field when
/// not allowed, a modifier that does not apply to its operand, a literal that cannot be
/// coerced (`views > "abc"`), comparing a field with a field of an incompatible kind, or too
/// many hops or joins. Precondition: `collection` belongs to `schema`.
Result<ResolvedFilter> Resolve(const Expr& expr, SchemaPtr schema, const Collection& collection,
                               const RequestContext& request, const ResolveOptions& options = {});

/// Parse() then Resolve().
Result<ResolvedFilter> Compile(std::string_view text, SchemaPtr schema,
                               const Collection& collection, const RequestContext& request,
                               const ResolveOptions& options = {});

/// `a && b`, their joins kept apart (an alias in one never meets the other's).
/// Precondition: both resolved against the same schema and collection.
ResolvedFilter And(ResolvedFilter a, ResolvedFilter b);

/// Parses and resolves PocketBase's sort parameter: comma-separated field paths, `-` prefix for
/// descending, `+` or nothing for ascending, `@random`; system fields and single-valued
/// relation paths allowed (multi-valued paths are not sortable). invalid_argument naming the
/// bad term. Empty text gives no terms.
Result<std::vector<SortTerm>> ResolveSort(std::string_view text, SchemaPtr schema,
                                          const Collection& collection,
                                          const ResolveOptions& options = {});

}  // namespace socle::domain::filter
