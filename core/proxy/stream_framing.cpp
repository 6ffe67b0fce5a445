#include "core/proxy/stream_framing.h"

#include <limits>

#include "core/common/json.h"

namespace helm {
namespace {

// The framer reads helm's own output, whose events were bounded where they
// came in; a translated event may still be longer than one upstream line (a
// tool call's arguments, gathered), and must not fail here.
constexpr SseLimits kUnbounded{std::numeric_limits<size_t>::max(),
                               std::numeric_limits<size_t>::max()};

}  // namespace

JsonArrayFramer::JsonArrayFramer() : parser_(kUnbounded) {}

std::string JsonArrayFramer::Frame(std::string_view sse) {
  events_.clear();
  (void)parser_.Feed(sse, &events_);  // unbounded: it cannot fail
  std::string out;
  for (const SseEvent& e : events_) {
    if (!Json::accept(e.data)) continue;
    out.append(opened_ ? "\n,\r\n" : "[");
    out.append(e.data);
    opened_ = true;
  }
  return out;
}

std::string JsonArrayFramer::Close() { return opened_ ? "\n]" : "[\n]"; }

}  // namespace helm
