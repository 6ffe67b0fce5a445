// The answers of the built-in mock provider (`mock://`): a pure function from
// an OpenAI-compatible request to a scripted reply. No I/O, no clock, no
// randomness: the same request always gets the same bytes. mock_upstream.cpp
// plays the reply through the Upstream callbacks with the requested timing.
// Behaviour and directives: docs/mock-provider.md.
//
// Thread safety: pure functions, callable from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/provider/upstream.h"

namespace helm {

// `[mock:key=value,...]` directives found in the model name and the last user
// message (the message wins). Unknown keys are ignored.
struct MockDirectives {
  int chunks = 0;             // content pieces in the answer; 0 = one per word
  int64_t delay_ms = 0;       // pause before each stream frame after the first
  int64_t first_byte_ms = 0;  // pause before the response head
  int status = 0;             // answer with this HTTP error status instead
  int64_t retry_after_s = 1;  // Retry-After on a 429 or 503
  int cut = -1;               // stream: break the connection after this many frames
  int stall = -1;             // stream: go silent after this many frames
};

// Parses every `[mock:...]` in `text` into *d (later keys override earlier).
void ParseMockDirectives(std::string_view text, MockDirectives* d);

// `text` without its `[mock:...]` directives, surrounding blanks trimmed.
std::string StripMockDirectives(std::string_view text);

struct MockReply {
  int status = 200;
  HeaderList headers;               // lower-case names
  std::vector<std::string> frames;  // body pieces, one on_data call each
  MockDirectives timing;            // first_byte_ms, delay_ms, cut, stall
  bool stream = false;              // frames are SSE events
};

// The reply to `request` (method, path with optional query, JSON body).
MockReply MockRespond(const UpstreamRequest& request);

}  // namespace helm
