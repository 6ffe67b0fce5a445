#include "core/common/ids.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <set>
#include <string>

namespace helm {

TEST_CASE("FormatRfc3339Micros agrees with gmtime_r") {
  CHECK(FormatRfc3339Micros(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(FormatRfc3339Micros(951782400000001) == "2000-02-29T00:00:00.000001Z");
  CHECK(FormatRfc3339Micros(4102444799999999) == "2099-12-31T23:59:59.999999Z");
  CHECK(FormatRfc3339Micros(-1) == "1969-12-31T23:59:59.999999Z");
  std::string quoted = "\"";
  AppendRfc3339Micros(951782400000001, &quoted);
  CHECK(quoted == "\"2000-02-29T00:00:00.000001Z");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const int64_t micros = static_cast<int64_t>(rng() % 8000000000000000ULL);  // to ~2223
    const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros % 1000000));
    REQUIRE(FormatRfc3339Micros(micros) == want);
  }
}

TEST_CASE("NewUlid: 26 Crockford base32 characters, time first, random after") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewUlid(1700000000000);
    REQUIRE(id.size() == 26);
    CHECK(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") == std::string::npos);
    CHECK(id.substr(0, 10) == "01HF7YAT00");
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
  const std::string id = NewId("rcpt_");
  CHECK(id.rfind("rcpt_", 0) == 0);
  REQUIRE(id.size() == 5 + 26);
  CHECK(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ", 5) == std::string::npos);
  CHECK(NewId("rcpt_") != id);
}

}  // namespace helm
