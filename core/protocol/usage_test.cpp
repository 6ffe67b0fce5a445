// Usage read from raw JSON text (a verbatim answer's usage member) must equal
// usage read from the parsed object, whatever the text looks like.
#include <doctest/doctest.h>

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

void CheckSame(const ir::Usage& a, const ir::Usage& b) {
  CHECK(a.known == b.known);
  CHECK(a.input_tokens == b.input_tokens);
  CHECK(a.output_tokens == b.output_tokens);
  CHECK(a.cached_read_tokens == b.cached_read_tokens);
  CHECK(a.cache_creation_tokens == b.cache_creation_tokens);
  CHECK(a.reasoning_tokens == b.reasoning_tokens);
}

TEST_CASE("usage from raw text equals usage from the parsed object") {
  const char* texts[] = {
      R"({"prompt_tokens":16,"completion_tokens":74,"total_tokens":90,)"
      R"("prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},)"
      R"("completion_tokens_details":{"reasoning_tokens":9}})",
      R"( { "prompt_tokens" : 7.0 , "completion_tokens" : 2e1 , "prompt_tokens_details" : null } )",
      R"({"input_tokens":10,"cache_read_input_tokens":3,"cache_creation_input_tokens":2,)"
      R"("output_tokens":5,"\u006futput_tokens":6})",
      R"({"promptTokenCount":11,"candidatesTokenCount":"x","thoughtsTokenCount":4,)"
      R"("cachedContentTokenCount":-1,"toolUsePromptTokenCount":2})",
      R"({"prompt_tokens":1,"prompt_tokens":2,"completion_tokens":3,)"
      R"("prompt_tokens_details":{"cached_tokens":1},)"
      R"("prompt_tokens_details":{"cached_tokens":2,"cached_tokens":5}})",
      // Beyond what a receipt holds (an upstream's bug, or worse): held at +-2^53.
      R"({"prompt_tokens":1e30,"completion_tokens":-1e300,"total_tokens":18446744073709551615,)"
      R"("prompt_tokens_details":{"cached_tokens":9223372036854775808}})",
      R"({"prompt_tokens":9223372036854775807,"completion_tokens":9007199254740993.5})",
      R"({})",
      R"([1,2])",
      R"(null)",
  };
  std::vector<std::string> all(std::begin(texts), std::end(texts));
  // More members than the reader indexes in one pass.
  std::string many = R"({"prompt_tokens":3)";
  for (int i = 0; i < 20; ++i) many += ",\"extra_" + std::to_string(i) + "\":" + std::to_string(i);
  all.push_back(many + R"(,"completion_tokens":8,"prompt_tokens":4})");
  for (const std::string& text : all) {
    CAPTURE(text);
    const Json parsed = Json::parse(text);
    const UsageObject raw{std::string_view(text)};
    CheckSame(UsageFromOpenAi(raw), UsageFromOpenAi(parsed));
    CheckSame(UsageFromAnthropic(raw), UsageFromAnthropic(parsed));
    CheckSame(UsageFromGemini(raw), UsageFromGemini(parsed));
  }
  CHECK(UsageFromOpenAi(UsageObject(std::string_view(texts[0]))).cached_read_tokens == 4);
  CHECK(UsageFromOpenAi(UsageObject(std::string_view(texts[4]))).input_tokens == 2);
  CHECK(UsageFromOpenAi(UsageObject(std::string_view(texts[4]))).cached_read_tokens == 5);
  CHECK(UsageFromOpenAi(UsageObject(std::string_view(all.back()))).input_tokens == 4);
  const ir::Usage huge = UsageFromOpenAi(Json::parse(texts[5]));
  CHECK(huge.input_tokens == kExactJsonInt);
  CHECK(huge.output_tokens == -kExactJsonInt);
  CHECK(huge.cached_read_tokens == kExactJsonInt);
  const ir::Usage large = UsageFromOpenAi(Json::parse(texts[6]));
  CHECK(large.input_tokens == kExactJsonInt);
  CHECK(large.output_tokens == kExactJsonInt);
  // Anthropic's input is the sum of three counts: at most three times the bound.
  const ir::Usage sum = UsageFromAnthropic(Json::parse(
      R"({"input_tokens":1e300,"cache_read_input_tokens":1e300,"cache_creation_input_tokens":1e300})"));
  CHECK(sum.input_tokens == 3 * kExactJsonInt);
}

}  // namespace
}  // namespace helm::protocol
