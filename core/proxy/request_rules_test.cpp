// ApplyObligations: the output-token cap of a policy, in each protocol's body.
#include "core/proxy/request_rules.h"

#include <doctest/doctest.h>

#include "core/common/protocols.h"

namespace helm {
namespace {

Json Capped(std::string_view protocol, Json body, bool* changed = nullptr) {
  Obligations o;
  o.max_output_tokens = 100;
  bool c = ApplyObligations(protocol, o, body);
  if (changed != nullptr) *changed = c;
  return body;
}

TEST_CASE("the output-token cap: lowered, added when absent, a lower value kept") {
  bool changed = false;
  CHECK(Capped(kOpenAiChat, {{"max_tokens", 500}}, &changed) == Json{{"max_tokens", 100}});
  CHECK(changed);
  CHECK(Capped(kOpenAiChat, {{"max_completion_tokens", 500}}) ==
        Json{{"max_completion_tokens", 100}});
  CHECK(Capped(kOpenAiChat, Json::object()) == Json{{"max_tokens", 100}});
  CHECK(Capped(kOpenAiChat, {{"max_tokens", 50}}, &changed) == Json{{"max_tokens", 50}});
  CHECK_FALSE(changed);
  CHECK(Capped(kAnthropicMessages, {{"max_tokens", 4096}}) == Json{{"max_tokens", 100}});
  CHECK(Capped(kOpenAiCompletions, Json::object()) == Json{{"max_tokens", 100}});
  CHECK(Capped(kOpenAiResponses, {{"max_output_tokens", "many"}}) ==
        Json{{"max_output_tokens", 100}});
  CHECK(Capped(kGeminiGenerate, Json::object()) ==
        Json{{"generationConfig", {{"maxOutputTokens", 100}}}});
  CHECK(Capped(kGeminiGenerate, {{"generationConfig", {{"temperature", 1}}}}) ==
        Json{{"generationConfig", {{"temperature", 1}, {"maxOutputTokens", 100}}}});
  CHECK(Capped(kGeminiGenerate, {{"generationConfig", {{"maxOutputTokens", 50}}}}, &changed) ==
        Json{{"generationConfig", {{"maxOutputTokens", 50}}}});
  CHECK_FALSE(changed);
  // Regression: an unsigned count beyond int64_t was read as negative, so it
  // passed uncapped to the upstream.
  CHECK(Capped(kOpenAiChat, Json::parse(R"({"max_tokens":18446744073709551615})"), &changed) ==
        Json{{"max_tokens", 100}});
  CHECK(changed);
  CHECK(Capped(kOpenAiResponses, Json::parse(R"({"max_output_tokens":9223372036854775808})")) ==
        Json{{"max_output_tokens", 100}});
  CHECK(Capped(kAnthropicMessages, {{"max_tokens", 1e30}}) == Json{{"max_tokens", 100}});
  Obligations none;
  Json body{{"max_tokens", 500}};
  CHECK_FALSE(ApplyObligations(kOpenAiChat, none, body));
  CHECK(body == Json{{"max_tokens", 500}});
}

TEST_CASE("the output-token cap reaches Gemini's snake_case spellings, adding no second one") {
  CHECK(Capped(kGeminiGenerate, {{"generation_config", {{"max_output_tokens", 65536}}}}) ==
        Json{{"generation_config", {{"max_output_tokens", 100}}}});
  CHECK(Capped(kGeminiGenerate, {{"generationConfig", {{"max_output_tokens", 65536}}}}) ==
        Json{{"generationConfig", {{"max_output_tokens", 100}}}});
  CHECK(Capped(kGeminiGenerate, {{"generation_config", {{"temperature", 1}}}}) ==
        Json{{"generation_config", {{"temperature", 1}, {"maxOutputTokens", 100}}}});
}

// Usage an upstream reports beyond int64_t is held at +-2^53 (json.h), not
// wrapped negative (a count of -1 would make the request free).
TEST_CASE("usage from a verbatim answer: counts held within +-2^53") {
  std::optional<TokenUsage> u = ExtractUsage(
      kOpenAiChat, Json::parse(R"({"usage":{"prompt_tokens":18446744073709551615,)"
                               R"("completion_tokens":-9223372036854775807,)"
                               R"("prompt_tokens_details":{"cached_tokens":12}}})"));
  REQUIRE(u);
  CHECK(u->input_tokens == kExactJsonInt);
  CHECK(u->output_tokens == -kExactJsonInt);
  CHECK(u->cached_tokens == 12);
}

}  // namespace
}  // namespace helm
