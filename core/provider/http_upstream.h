// The HTTP(S) Upstream (http_upstream.cpp). Only that .cpp includes httplib.h.
#pragma once

#include <memory>
#include <string>

#include "core/common/result.h"
#include "core/provider/upstream.h"

namespace helm {

// `url` is "http://host[:port][/base]" or "https://host[:port][/base]". The
// base path, if any, is prefixed to every request path. kConfig when the URL
// cannot be parsed, or for https when TLS support is missing.
Result<std::unique_ptr<Upstream>> MakeHttpUpstream(const std::string& url,
                                                   const UpstreamOptions& options);

}  // namespace helm
