// How a streaming response is framed for the client. Every client protocol
// streams Server-Sent Events; Gemini's :streamGenerateContent without
// `alt=sse` streams one JSON array instead, an element per event
// (`[{...}\n,\r\n{...}\n]`, as Google sends it), each element sent as it comes.
//
// The array is made from the SSE stream helm would otherwise send — each
// event's data, in order — so both framings carry the same elements: the same
// encoders, the same forwarded provider events, the same error frame, and no
// protocol knowledge here. Not thread-safe: one framer per stream.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/provider/sse.h"

namespace helm {

enum class StreamFraming {
  kSse,        // text/event-stream, ended by the `: helm-output-hash` comment
  kJsonArray,  // application/json: one array; the output hash is in the receipt only
};

class JsonArrayFramer {
 public:
  JsonArrayFramer();

  // The array's bytes for the next SSE bytes: "[" before the first element,
  // the separator before each later one. An event left unfinished is held
  // until its end arrives; comments make no element. An event whose data is
  // not JSON cannot be an element and is left out: only a forwarded provider
  // event can be one, and the relay has then reported the stream truncated,
  // so the error element still ends the array.
  std::string Frame(std::string_view sse);
  // The array's end: "]", after "[" when no element was written.
  std::string Close();

 private:
  SseParser parser_;
  std::vector<SseEvent> events_;
  bool opened_ = false;
};

}  // namespace helm
