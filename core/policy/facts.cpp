#include "core/policy/facts.h"

#include "core/policy/facts_anthropic_gemini.h"
#include "core/policy/facts_openai.h"
#include "core/policy/facts_walk.h"

namespace helm {
namespace {

using facts_internal::Bad;

// Runs the walker of `protocol` over body (J = Json or const Json).
template <typename J, typename V>
Status Walk(std::string_view protocol, J& body, V& v) {
  using namespace facts_internal;
  if (!body.is_object()) return Bad("body", "expected a JSON object");
  if (protocol == kOpenAiChat) return WalkOpenAiChat(body, v);
  if (protocol == kAnthropicMessages) return WalkAnthropicMessages(body, v);
  if (protocol == kOpenAiResponses) return WalkOpenAiResponses(body, v);
  if (protocol == kGeminiGenerate) return WalkGeminiGenerate(body, v);
  if (protocol == kOpenAiEmbeddings) return WalkOpenAiEmbeddings(body, v);
  if (protocol == kOpenAiCompletions) return WalkOpenAiCompletions(body, v);
  return Bad("protocol", "unknown protocol \"" + std::string(protocol) + "\"");
}

// Collects texts, images and tool names into RequestFacts.
struct Collector {
  RequestFacts* facts;
  void Text(const Json& node) { facts->texts.push_back(node.get<std::string>()); }
  void Stringified(const Json& node) { facts->texts.push_back(DumpJson(node)); }
  void Image() { facts->has_images = true; }
  void Tool(const std::string& name) { facts->tools.push_back(name); }
};

// Applies fn to every visited text in place and sums its results.
struct Rewriter {
  const std::function<int(std::string&)>* fn;
  int count = 0;
  void Text(Json& node) { count += (*fn)(node.get_ref<std::string&>()); }
  // A structured payload is rewritten through its dump: if the rewritten dump
  // still parses it replaces the value, otherwise the value becomes the
  // rewritten text (wrapped as {"content": ...} where an object is expected),
  // so a match is never sent on unchanged.
  void Stringified(Json& node) {
    std::string text = DumpJson(node);
    int n = (*fn)(text);
    if (n == 0) return;
    count += n;
    auto parsed = ParseStrictJson(text);
    if (parsed.ok()) {
      node = std::move(parsed).value();
    } else if (node.is_object()) {
      node = Json{{"content", text}};
    } else {
      node = text;
    }
  }
  void Image() {}
  void Tool(const std::string&) {}
};

Status ModelAndStream(const Json& body, RequestFacts& facts) {
  auto model = body.find("model");
  if (model != body.end() && !model->is_null()) {
    if (!model->is_string()) return Bad("model", "expected a string");
    facts.model = model->get<std::string>();
  }
  auto stream = body.find("stream");
  if (stream != body.end() && !stream->is_null()) {
    if (!stream->is_boolean()) return Bad("stream", "expected a boolean");
    facts.stream = stream->get<bool>();
  }
  return Status::Ok();
}

}  // namespace

Result<RequestFacts> ExtractFacts(std::string_view protocol, const Json& body) {
  RequestFacts facts;
  facts.protocol = std::string(protocol);
  Collector collector{&facts};
  Status s = Walk(protocol, body, collector);
  if (!s.ok()) return s.error();
  s = ModelAndStream(body, facts);
  if (!s.ok()) return s.error();
  size_t bytes = 0;
  for (const auto& text : facts.texts) bytes += text.size();
  facts.input_tokens = static_cast<int64_t>((bytes + 3) / 4);
  return facts;
}

int RewriteTexts(std::string_view protocol, Json& body,
                 const std::function<int(std::string&)>& fn) {
  Rewriter rewriter{&fn};
  // A body that fails the walk was refused by ExtractFacts already; the count
  // covers whatever was visited before the shape problem.
  (void)Walk(protocol, body, rewriter);
  return rewriter.count;
}

}  // namespace helm
