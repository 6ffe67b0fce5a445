// SseParser: an incremental Server-Sent Events parser for upstream streams
// (WHATWG HTML "Parsing an event stream"). Bytes arrive in arbitrary chunks —
// a line, a CRLF pair or a UTF-8 sequence may be split anywhere — and the
// events produced are the same whatever the split.
//
// Handled: LF, CRLF and CR line endings; comment lines (":" prefix, ignored);
// multi-line data (joined with "\n"); "event", "data", "id" (persists across
// events, as the spec says) and "retry"; a leading byte-order mark. An event
// with no data lines is not dispatched (spec behaviour). An event still open
// at the end of the stream is discarded; ended_mid_event() reports it.
//
// Limits: a line longer than max_line_bytes (terminator excluded), or an
// event whose data grows past max_event_bytes, is an error (kTooLarge); the
// parser then stays failed and every later Feed returns the same error.
//
// Thread safety: none; one parser per stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/limits.h"
#include "core/common/result.h"

namespace helm {

// The line limit defaults to Limits::max_sse_line_bytes (core/common/limits.h).
inline constexpr size_t kDefaultMaxSseEventBytes = 8 * 1024 * 1024;

struct SseEvent {
  std::string event;      // the "event:" field; empty when the event had none
  std::string data;       // data lines joined by "\n", no trailing newline
  std::string id;         // the last event id seen so far in the stream
  int64_t retry_ms = -1;  // the last "retry:" value seen in this event, -1 if none

  bool operator==(const SseEvent&) const = default;
};

struct SseLimits {
  size_t max_line_bytes = Limits{}.max_sse_line_bytes;
  size_t max_event_bytes = kDefaultMaxSseEventBytes;
};

class SseParser {
 public:
  explicit SseParser(SseLimits limits = {});

  // Parses `bytes` and appends every event completed by them to *out (which
  // is not cleared). On error nothing more is parsed; events completed
  // before the offending line have already been appended.
  Status Feed(std::string_view bytes, std::vector<SseEvent>* out);

  // True when the bytes fed so far end inside a line or an undispatched
  // event (the stream was cut, or has not ended yet).
  bool ended_mid_event() const;

  // Total bytes fed (including those of a failed Feed up to the error).
  uint64_t bytes_fed() const { return bytes_fed_; }

  // Bytes fed up to the end of the last line after which no event was open
  // (the blank line that ended an event, or a comment or blank line between
  // events): the prefix of the stream made of whole events only. What follows
  // it belongs to an event not yet complete. Stops moving on error.
  uint64_t bytes_complete() const { return bytes_complete_; }

 private:
  Status AppendToLine(std::string_view part);
  Status ProcessLine(std::string_view line, std::vector<SseEvent>* out);
  Status ProcessField(std::string_view name, std::string_view value);
  void Dispatch(std::vector<SseEvent>* out);

  SseLimits limits_;
  std::string line_;        // the current, unterminated line
  std::string data_;        // data buffer of the event being built
  std::string event_name_;  // event type buffer
  std::string last_id_;     // last event id buffer
  int64_t retry_ms_ = -1;
  bool has_data_ = false;    // at least one data line in this event
  bool has_fields_ = false;  // any field line since the last dispatch
  bool skip_lf_ = false;     // the previous chunk ended with CR
  bool first_line_ = true;   // a leading BOM is stripped from the first line
  bool failed_ = false;
  Error error_{ErrorCode::kTooLarge, ""};
  uint64_t bytes_fed_ = 0;
  uint64_t bytes_complete_ = 0;
};

}  // namespace helm
