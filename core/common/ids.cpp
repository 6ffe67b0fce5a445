#include "core/common/ids.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/crypto/crypto.h"

namespace helm {
namespace {

class SystemClockImpl : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

const Clock& SystemClock() {
  static const SystemClockImpl clock;
  return clock;
}

namespace {

// Appends the 26 characters of a ULID for unix_millis.
void AppendUlid(int64_t unix_millis, std::string* out) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const size_t at = out->size();
  out->resize(at + 26);
  char* p = out->data() + at;
  uint64_t t = static_cast<uint64_t>(unix_millis);
  for (int i = 9; i >= 0; --i) {
    p[i] = kAlphabet[t & 31];
    t >>= 5;
  }
  // 80 random bits = 16 base32 chars.
  constexpr size_t kIdBytes = 10;
  unsigned char bytes[kIdBytes];
  crypto::BlockRandom(bytes, kIdBytes);
  unsigned __int128 r = 0;
  for (unsigned char b : bytes) r = (r << 8) | b;
  for (int i = 25; i >= 10; --i) {
    p[i] = kAlphabet[static_cast<int>(r & 31)];
    r >>= 5;
  }
}

}  // namespace

std::string NewUlid(int64_t unix_millis) {
  std::string out;
  AppendUlid(unix_millis, &out);
  return out;
}

std::string NewId(const char* prefix) {
  std::string out;
  out.reserve(std::strlen(prefix) + 26);  // one allocation
  AppendNewId(prefix, &out);
  return out;
}

void AppendNewId(const char* prefix, std::string* out) {
  out->append(prefix);
  AppendUlid(SystemClock().NowMicros() / 1000, out);
}

std::string FormatRfc3339Micros(int64_t unix_micros) {
  std::string out;
  AppendRfc3339Micros(unix_micros, &out);
  return out;
}

void AppendRfc3339Micros(int64_t unix_micros, std::string* out) {
  // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil,
  // inverted); no gmtime_r, which takes glibc's time-zone lock.
  int64_t days = unix_micros / 86400000000;
  int64_t rest = unix_micros % 86400000000;
  if (rest < 0) {
    rest += 86400000000;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const int64_t secs = rest / 1000000;
  if (year < 0 || year > 9999) {  // outside RFC 3339's four digits: never a clock reading
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(year), static_cast<long long>(month),
                  static_cast<long long>(day), static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                  static_cast<long long>(rest % 1000000));
    out->append(buf);
    return;
  }
  // On every receipt: digits written in place (snprintf costs more than the rest).
  char text[] = "0000-00-00T00:00:00.000000Z";
  auto put = [&text](size_t end, int64_t value, int width) {
    for (int i = 1; i <= width; ++i, value /= 10) {
      text[end - i] = static_cast<char>('0' + value % 10);
    }
  };
  put(4, year, 4);
  put(7, month, 2);
  put(10, day, 2);
  put(13, secs / 3600, 2);
  put(16, secs / 60 % 60, 2);
  put(19, secs % 60, 2);
  put(26, rest % 1000000, 6);
  out->append(text, sizeof text - 1);
}

}  // namespace helm
