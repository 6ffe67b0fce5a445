// Error bodies in each client protocol's own shape (DESIGN §7), with the helm
// reason code inside. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/common/json.h"

namespace helm {

// protocol: kOpenAiChat (and the other OpenAI doors), kAnthropicMessages,
// kGeminiGenerate. helm: the {decision_id, receipt_id, reason_code,
// approval_id} member, or null.
std::string ClientErrorBody(std::string_view protocol, int http_status, std::string_view reason_code,
                            std::string_view message, const Json& helm = nullptr);

}  // namespace helm
