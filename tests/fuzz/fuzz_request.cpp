// A client request body through everything that reads it before a decision:
// strict JSON parsing, the policy's facts and the redaction walker, which
// must agree (core/policy/facts_differential.h: a disagreement is a policy
// bypass), and for a translatable protocol the IR decoder and every
// provider encoder. Input: one byte that picks the protocol, then the body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

#include "core/common/json.h"
#include "core/common/protocols.h"
#include "core/policy/facts_differential.h"
#include "core/protocol/translate.h"

namespace {

constexpr const char* kProtocols[] = {helm::kOpenAiChat,       helm::kAnthropicMessages,
                                      helm::kOpenAiResponses,  helm::kGeminiGenerate,
                                      helm::kOpenAiEmbeddings, helm::kOpenAiCompletions};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using helm::protocol::ProviderKind;
  if (size < 1) return 0;
  const std::string protocol = kProtocols[data[0] % std::size(kProtocols)];
  auto body =
      helm::ParseStrictJson(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if (!body.ok()) return 0;
  bool accepted = false;
  std::string diff = helm::testing::FactsDisagreement(protocol, *body, &accepted);
  if (!diff.empty()) {
    std::fprintf(stderr, "the policy and redaction read %s differently: %s\n", protocol.c_str(),
                 diff.c_str());
    std::abort();
  }
  if (!accepted || !helm::protocol::IsTranslatableProtocol(protocol)) return 0;
  auto request = helm::protocol::DecodeClientRequest(protocol, *body);
  if (!request.ok()) return 0;
  for (ProviderKind kind :
       {ProviderKind::kOpenAi, ProviderKind::kAnthropic, ProviderKind::kGemini}) {
    auto encoded = helm::protocol::EncodeProviderRequest(kind, *request, "model");
    if (encoded.ok()) (void)helm::DumpJson(*encoded);
  }
  return 0;
}
