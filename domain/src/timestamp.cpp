#include "socle/domain/timestamp.hpp"

#include <chrono>
#include <cstdio>

namespace socle::domain {
namespace {

struct Parts {
  int year, month, day, hour, minute, second, micro;
};

Parts Split(std::int64_t micros) {
  using namespace std::chrono;
  auto tp = sys_time<microseconds>(microseconds(micros));
  auto day_point = floor<days>(tp);
  year_month_day ymd(day_point);
  hh_mm_ss<microseconds> tod(tp - day_point);
  return Parts{int(ymd.year()),
               int(unsigned(ymd.month())),
               int(unsigned(ymd.day())),
               int(tod.hours().count()),
               int(tod.minutes().count()),
               int(tod.seconds().count()),
               int(tod.subseconds().count())};
}

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

Result<Timestamp> Timestamp::Parse(std::string_view s) {
  auto bad = [] {
    return Fail(Error::Field("date", "validation_invalid_date",
                             "Must be a UTC date like 2024-05-01 09:30:00.000Z."));
  };
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != ' ' && s[10] != 'T') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, sec)) {
    return bad();
  }
  std::size_t pos = 19;
  int micro = 0;
  if (s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    std::size_t n = pos - start;
    if (n == 0 || n > 9) return bad();
    int scale = 100000;
    for (std::size_t i = 0; i < n && i < 6; ++i) {
      micro += (s[start + i] - '0') * scale;
      scale /= 10;
    }
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') return bad();
  using namespace std::chrono;
  year_month_day ymd{year(y), month(unsigned(mo)), day(unsigned(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return bad();
  auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + microseconds(micro);
  return Timestamp(duration_cast<microseconds>(tp.time_since_epoch()).count());
}

std::string Timestamp::ToApiString() const {
  Parts p = Split(micros_);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03dZ", p.year, p.month, p.day,
                p.hour, p.minute, p.second, p.micro / 1000);
  return buf;
}

std::string Timestamp::ToIso8601() const {
  Parts p = Split(micros_);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", p.year, p.month, p.day,
                p.hour, p.minute, p.second, p.micro);
  return buf;
}

}  // namespace socle::domain
