// Identifiers and timestamps. The clock is injected where tests need it.
#pragma once

#include <cstdint>
#include <string>

namespace helm {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;  // microseconds since the Unix epoch
};

// The system clock; thread-safe, a process-wide singleton.
const Clock& SystemClock();

// ULID (Crockford base32, 26 chars) from a millisecond time and 80 random bits.
std::string NewUlid(int64_t unix_millis);
// prefix + ULID at the current system time, e.g. NewId("rcpt_").
std::string NewId(const char* prefix);
// Appends what NewId returns to *out: no allocation when *out has room.
void AppendNewId(const char* prefix, std::string* out);

// RFC 3339 UTC with microseconds: 2026-11-22T00:28:06.123456Z
std::string FormatRfc3339Micros(int64_t unix_micros);
void AppendRfc3339Micros(int64_t unix_micros, std::string* out);

}  // namespace helm
