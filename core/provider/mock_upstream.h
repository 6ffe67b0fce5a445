// The built-in deterministic OpenAI-compatible provider behind `mock://`
// (mock_upstream.cpp). In-process, no sockets; see docs/mock-provider.md for
// its answers and the `[mock:...]` directives that shape them.
#pragma once

#include <memory>
#include <string>

#include "core/provider/upstream.h"

namespace helm {

// Never fails. The options' first_byte and idle timeouts are honoured: a
// directive asking for a longer wait than they allow ends with the matching
// fault, as a real upstream would.
std::unique_ptr<Upstream> MakeMockUpstream(const std::string& url, const UpstreamOptions& options);

}  // namespace helm
