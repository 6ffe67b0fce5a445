#include "core/common/ids.h"

#include <chrono>
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

std::string NewUlid(int64_t unix_millis) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out(26, '0');
  uint64_t t = static_cast<uint64_t>(unix_millis);
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[t & 31];
    t >>= 5;
  }
  std::string rnd = crypto::RandomBytes(10);  // 80 bits = 16 base32 chars
  unsigned __int128 r = 0;
  for (unsigned char c : rnd) r = (r << 8) | c;
  for (int i = 25; i >= 10; --i) {
    out[i] = kAlphabet[static_cast<int>(r & 31)];
    r >>= 5;
  }
  return out;
}

std::string NewId(const char* prefix) {
  return std::string(prefix) + NewUlid(SystemClock().NowMicros() / 1000);
}

std::string FormatRfc3339Micros(int64_t unix_micros) {
  std::time_t secs = static_cast<std::time_t>(unix_micros / 1000000);
  int64_t micros = unix_micros % 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

}  // namespace helm
