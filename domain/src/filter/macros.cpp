// The @macros of the filter language (declared in resolver.hpp): values derived from the
// request's clock, in UTC.
#include "socle/domain/filter/resolver.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace socle::domain::filter {
namespace {

using Micros = std::chrono::microseconds;
using std::chrono::days;
using std::chrono::sys_days;

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;

std::int64_t MicrosOf(sys_days day) noexcept {
  return std::chrono::duration_cast<Micros>(day.time_since_epoch()).count();
}

JsonValue Date(std::int64_t micros) {
  return JsonValue::String(Timestamp::FromUnixMicros(micros).ToApiString());
}

// The last microsecond of the day starting at `start`: shown as .999 in the API format, like
// PocketBase's 23:59:59.999999999.
JsonValue EndOfDay(sys_days start) { return Date(MicrosOf(start) + kMicrosPerDay - 1); }

}  // namespace

std::optional<JsonValue> MacroValue(std::string_view name, Timestamp now) {
  using namespace std::chrono;
  const std::int64_t micros = now.unix_micros();
  const sys_time<Micros> instant{Micros{micros}};
  const sys_days today = floor<days>(instant);
  const year_month_day date{today};
  const hh_mm_ss<Micros> time{instant - today};

  if (name == "@now") return Date(micros);
  if (name == "@yesterday") return Date(micros - kMicrosPerDay);
  if (name == "@tomorrow") return Date(micros + kMicrosPerDay);
  if (name == "@second") return JsonValue::Integer(time.seconds().count());
  if (name == "@minute") return JsonValue::Integer(time.minutes().count());
  if (name == "@hour") return JsonValue::Integer(time.hours().count());
  if (name == "@weekday") return JsonValue::Integer(weekday{today}.c_encoding());
  if (name == "@day") return JsonValue::Integer(static_cast<unsigned>(date.day()));
  if (name == "@month") return JsonValue::Integer(static_cast<unsigned>(date.month()));
  if (name == "@year") return JsonValue::Integer(static_cast<int>(date.year()));
  if (name == "@todayStart") return Date(MicrosOf(today));
  if (name == "@todayEnd") return EndOfDay(today);
  if (name == "@monthStart") return Date(MicrosOf(sys_days{date.year() / date.month() / 1}));
  if (name == "@monthEnd") return EndOfDay(sys_days{date.year() / date.month() / last});
  if (name == "@yearStart") return Date(MicrosOf(sys_days{date.year() / January / 1}));
  if (name == "@yearEnd") return EndOfDay(sys_days{date.year() / December / 31});
  return std::nullopt;
}

}  // namespace socle::domain::filter
