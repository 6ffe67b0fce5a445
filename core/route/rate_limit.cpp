#include "core/route/rate_limit.h"

#include <algorithm>
#include <cstdlib>

namespace helm::route {
namespace {

inline constexpr int64_t kMicrosPerSecond = 1000000;
inline constexpr int64_t kMaxDelaySeconds = int64_t{1} << 31;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> Find(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads a fixed-width decimal field at s[pos..pos+width).
std::optional<int> Field(std::string_view s, size_t pos, size_t width) {
  if (pos + width > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (!IsDigit(s[i])) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<int64_t> ToMicros(int y, int mo, int d, int h, int mi, int s) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  return secs * kMicrosPerSecond;
}

// "<digits>[.<digits>]" as read from the text; scaled once the unit is known.
struct Decimal {
  int64_t whole = 0;
  std::string_view frac;
};

// Reads a decimal at pos and advances past it; nullopt when there is none.
std::optional<Decimal> ReadDecimal(std::string_view s, size_t& pos) {
  Decimal d;
  size_t start = pos;
  while (pos < s.size() && IsDigit(s[pos])) {
    d.whole = d.whole * 10 + (s[pos++] - '0');
    if (d.whole > kMaxDelaySeconds * kMicrosPerSecond) return std::nullopt;
  }
  if (pos < s.size() && s[pos] == '.') {
    size_t frac_start = ++pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    d.frac = s.substr(frac_start, pos - frac_start);
  }
  if (pos == start) return std::nullopt;
  return d;
}

// The decimal in micro-units (truncated below a microsecond); nullopt past the cap.
std::optional<int64_t> Scale(const Decimal& d, int64_t unit_micros) {
  if (unit_micros == 0) return 0;  // nanoseconds: below the clock's resolution
  if (d.whole > kMaxDelaySeconds * kMicrosPerSecond / unit_micros) return std::nullopt;
  int64_t v = d.whole * unit_micros, scale = unit_micros;
  for (char c : d.frac) {
    scale /= 10;
    v += (c - '0') * scale;
  }
  return v;
}

std::optional<int64_t> UnitMicros(std::string_view s, size_t& pos) {
  constexpr std::pair<std::string_view, int64_t> kUnits[] = {{"ms", 1000},
                                                             {"us", 1},
                                                             {"ns", 0},
                                                             {"h", 3600 * kMicrosPerSecond},
                                                             {"m", 60 * kMicrosPerSecond},
                                                             {"s", kMicrosPerSecond}};
  for (const auto& [name, micros] : kUnits) {
    if (s.substr(pos, name.size()) == name) {
      pos += name.size();
      return micros;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> ParseResetDelay(std::string_view value) {
  std::string_view s = Trim(value);
  size_t pos = 0;
  auto first = ReadDecimal(s, pos);
  if (!first) return std::nullopt;
  if (pos == s.size()) return Scale(*first, kMicrosPerSecond);  // plain seconds
  int64_t total = 0;
  for (std::optional<Decimal> d = first; d; d = ReadDecimal(s, pos)) {
    auto unit = UnitMicros(s, pos);
    if (!unit) return std::nullopt;
    auto v = Scale(*d, *unit);
    if (!v) return std::nullopt;
    total += *v;
    if (total > kMaxDelaySeconds * kMicrosPerSecond) return std::nullopt;
    if (pos == s.size()) return total;
  }
  return std::nullopt;  // trailing text that is not "<number><unit>"
}

std::optional<int64_t> ParseRfc3339Micros(std::string_view value) {
  std::string_view s = Trim(value);
  auto y = Field(s, 0, 4), mo = Field(s, 5, 2), d = Field(s, 8, 2);
  auto h = Field(s, 11, 2), mi = Field(s, 14, 2), sec = Field(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto base = ToMicros(*y, *mo, *d, *h, *mi, *sec);
  if (!base) return std::nullopt;
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    int64_t scale = kMicrosPerSecond;
    for (++pos; pos < s.size() && IsDigit(s[pos]); ++pos) {
      scale /= 10;
      frac += (s[pos] - '0') * scale;
    }
  }
  if (pos >= s.size()) return std::nullopt;
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return *base + frac;
  auto oh = Field(s, pos + 1, 2), om = Field(s, pos + 4, 2);
  if ((s[pos] != '+' && s[pos] != '-') || !oh || !om || s[pos + 3] != ':' || pos + 6 != s.size()) {
    return std::nullopt;
  }
  int64_t offset = (*oh * 3600 + *om * 60) * kMicrosPerSecond;
  return *base + frac - (s[pos] == '+' ? offset : -offset);
}

std::optional<int64_t> ParseHttpDateMicros(std::string_view value) {
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29 characters).
  std::string_view s = Trim(value);
  constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (s.size() != 29 || s.substr(3, 2) != ", " || s.substr(25) != " GMT") return std::nullopt;
  size_t month = kMonths.find(s.substr(8, 3));
  if (month == std::string_view::npos || month % 3 != 0) return std::nullopt;
  auto d = Field(s, 5, 2), y = Field(s, 12, 4);
  auto h = Field(s, 17, 2), mi = Field(s, 20, 2), sec = Field(s, 23, 2);
  if (!d || !y || !h || !mi || !sec || s[19] != ':' || s[22] != ':') return std::nullopt;
  return ToMicros(*y, static_cast<int>(month / 3) + 1, *d, *h, *mi, *sec);
}

std::optional<int64_t> ParseRetryAfter(std::string_view value, int64_t now_micros) {
  std::string_view s = Trim(value);
  if (!s.empty() && std::all_of(s.begin(), s.end(), IsDigit)) {
    size_t pos = 0;
    auto d = ReadDecimal(s, pos);
    auto delay = d ? Scale(*d, kMicrosPerSecond) : std::nullopt;
    if (!delay) return std::nullopt;
    return now_micros + *delay;
  }
  return ParseHttpDateMicros(s);
}

int64_t RateLimitSkipUntil(int http_status, const Headers& headers, int64_t now_micros) {
  int64_t until = 0;
  if (http_status == 429 || http_status == 503) {
    if (auto ra = Find(headers, "retry-after")) {
      if (auto t = ParseRetryAfter(*ra, now_micros)) until = std::max(until, *t);
    }
  }
  struct Pair {
    std::string_view remaining, reset;
  };
  // OpenAI's resets are delays ("1s", "6m0s"), Anthropic's are times.
  constexpr Pair kOpenAi[] = {{"x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"},
                              {"x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"}};
  constexpr Pair kAnthropic[] = {
      {"anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset"},
      {"anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset"},
      {"anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset"},
      {"anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset"}};
  auto exhausted = [&](const Pair& p) -> std::optional<std::string_view> {
    auto remaining = Find(headers, p.remaining);
    if (!remaining || Trim(*remaining) != "0") return std::nullopt;
    return Find(headers, p.reset);
  };
  for (const Pair& p : kOpenAi) {
    auto reset = exhausted(p);
    if (!reset) continue;
    if (auto delay = ParseResetDelay(*reset)) until = std::max(until, now_micros + *delay);
  }
  for (const Pair& p : kAnthropic) {
    auto reset = exhausted(p);
    if (!reset) continue;
    if (auto t = ParseRfc3339Micros(*reset)) until = std::max(until, *t);
  }
  return until > now_micros ? until : 0;
}

}  // namespace helm::route
