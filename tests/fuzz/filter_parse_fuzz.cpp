// Fuzzes the filter language: Parse on arbitrary bytes must return a tree or an
// invalid_argument error with a bounded, printable message (never crash, hang or recurse
// without bound); whatever parses is resolved against the test schema with a signed-in request,
// must either resolve or fail with invalid_argument, and a resolved filter must keep every
// promise ast.hpp makes to the store compilers and evaluate without fault. The same bytes are
// also read as a sort parameter.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/filter_test_fixture.hpp"
#include "socle/domain/filter/evaluator.hpp"
#include "socle/domain/filter/parser.hpp"
#include "socle/domain/filter/resolver.hpp"

namespace {

namespace filter = socle::domain::filter;
using socle::domain::ErrorCode;
using socle::domain::JsonValue;
using socle::filter_test::Fixture;
using socle::filter_test::MakeRecord;
using socle::filter_test::Str;
using socle::filter_test::Strs;

// Messages reach clients: printable ASCII (the parser never echoes other bytes) and short.
void CheckMessage(const socle::domain::Error& error, std::string_view prefix) {
  if (error.code != ErrorCode::kInvalidArgument) __builtin_trap();
  if (error.message.compare(0, prefix.size(), prefix) != 0) __builtin_trap();
  if (error.message.size() > 400) __builtin_trap();
  for (const char c : error.message) {
    if (c < 0x20 || c > 0x7E) __builtin_trap();
  }
}

struct World {
  Fixture fx;
  filter::RequestContext request;
  socle::domain::Record current;

  World() {
    fx.Populate();
    request.method = "PATCH";
    request.now = socle::domain::Timestamp::FromUnixMicros(1'714'555'815'250'000);
    request.auth = filter::AuthIdentity{
        &fx.users, MakeRecord(fx.users, {{"id", Str("u1")},
                                         {"name", Str("Alice")},
                                         {"roles", Strs({"admin"})},
                                         {"settings", JsonValue::Object({{"a", Str("b")}})}}),
        std::nullopt};
    request.body = JsonValue::Object({{"title", Str("New")},
                                      {"views", Str("12")},
                                      {"tags", Strs({"a", "c"})},
                                      {"data", JsonValue::Object({{"k", JsonValue::Integer(1)}})},
                                      {"due", Str("2024-05-01")},
                                      {"flag", JsonValue::Bool(true)},
                                      {"none", JsonValue()}});
    request.query = {{"page", "2"}, {"q", "x"}};
    request.headers = {{"x_token", "t"}};
    current = MakeRecord(fx.posts, {{"id", Str("p1")}, {"title", Str("Old")}});
  }
};

World& TheWorld() {
  static World world;
  return world;
}

void ResolveAndEvaluate(const filter::Expr& expr, const filter::ResolveOptions& options) {
  World& world = TheWorld();
  auto resolved =
      filter::Resolve(expr, world.fx.schema, world.fx.posts, world.request, options);
  if (!resolved) {
    CheckMessage(resolved.error(), "Invalid filter: ");
    return;
  }
  if (!socle::filter_test::BrokenGuarantee(*resolved).empty()) __builtin_trap();
  for (const auto* post : world.fx.source.All(world.fx.posts)) {
    (void)filter::Evaluate(*resolved, *post, world.fx.source);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto expr = filter::Parse(text);
  if (!expr) {
    CheckMessage(expr.error(), "Invalid filter: ");
  } else {
    filter::ResolveOptions strict;
    ResolveAndEvaluate(*expr, strict);
    filter::ResolveOptions rules;
    rules.allow_hidden = true;
    rules.enable_geo_distance = true;
    rules.current = &TheWorld().current;
    ResolveAndEvaluate(*expr, rules);
  }

  World& world = TheWorld();
  auto sort = filter::ResolveSort(text, world.fx.schema, world.fx.posts);
  if (!sort) {
    CheckMessage(sort.error(), "Invalid sort: ");
  } else {
    for (const auto& term : *sort) {
      if (!term.random && (term.key.multiple || term.key.field == nullptr)) __builtin_trap();
    }
  }
  return 0;
}
