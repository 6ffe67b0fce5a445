// Small pure rules of the proxy's request path: correlation ids, content type,
// obligations applied to the body, usage read from a response.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/common/header_list.h"
#include "core/common/json.h"
#include "core/common/token_usage.h"
#include "core/policy/policy.h"

namespace helm {

// A valid client X-Request-ID ([A-Za-z0-9._:-], 1..128 chars) or the trace id
// of a valid W3C traceparent is adopted; otherwise a new "cor_" id is minted.
std::string CorrelationId(const HeaderList& headers);

// application/json, with or without parameters, any case.
bool IsJsonContentType(std::string_view content_type);

// Caps the protocol's output-token field at obligations.max_output_tokens.
// Returns true when the body changed.
bool ApplyObligations(std::string_view protocol, const Obligations& obligations, Json& body);

// {input, output, cached} from a response (or stream chunk) of the protocol;
// nullopt when it carries no usage.
std::optional<TokenUsage> ExtractUsage(std::string_view protocol, const Json& response);

}  // namespace helm
