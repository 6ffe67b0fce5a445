// WalkBody dispatch, the shared helpers, and RewriteTexts (facts.h).
#include "core/policy/body_walk.h"

#include "core/policy/facts.h"

namespace helm {
namespace body_walk {

Json* Find(Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

const std::string* FindString(Json& obj, std::string_view key) {
  Json* node = Find(obj, key);
  return node != nullptr && node->is_string() ? &node->get_ref<const std::string&>() : nullptr;
}

void TextAt(Json& obj, std::string_view key, BodyVisitor& v) {
  Json* node = Find(obj, key);
  if (node != nullptr && node->is_string()) v.Text(*node);
}

void StringOrStrings(Json& node, BodyVisitor& v) {
  if (node.is_string()) v.Text(node);
  if (!node.is_array()) return;
  for (Json& item : node) {
    if (item.is_string()) v.Text(item);
  }
}

}  // namespace body_walk

void WalkBody(std::string_view protocol, Json& body, BodyVisitor& v) {
  if (!body.is_object()) return;
  if (protocol == kOpenAiChat) return body_walk::OpenAiChat(body, v);
  if (protocol == kAnthropicMessages) return body_walk::AnthropicMessages(body, v);
  if (protocol == kOpenAiResponses) return body_walk::OpenAiResponses(body, v);
  if (protocol == kGeminiGenerate) return body_walk::GeminiGenerate(body, v);
  const char* key = protocol == kOpenAiEmbeddings    ? "input"
                    : protocol == kOpenAiCompletions ? "prompt"
                                                     : nullptr;
  if (Json* node = key != nullptr ? body_walk::Find(body, key) : nullptr) {
    body_walk::StringOrStrings(*node, v);
  }
}

namespace {

// Applies fn to every visited text in place and sums its results.
class Rewriter final : public BodyVisitor {
 public:
  explicit Rewriter(const std::function<int(std::string&)>& fn) : fn_(fn) {}
  int count() const { return count_; }

  void Text(Json& node) override { count_ += fn_(node.get_ref<std::string&>()); }

  // A structured payload is rewritten through its dump: if the rewritten dump
  // still parses it replaces the value, otherwise the value becomes the
  // rewritten text (wrapped as {"content": ...} where an object is expected),
  // so a match is never sent on unchanged.
  void Stringified(Json& node) override {
    std::string text = DumpJson(node);
    int n = fn_(text);
    if (n == 0) return;
    count_ += n;
    auto parsed = ParseStrictJson(text);
    if (parsed.ok()) {
      node = std::move(parsed).value();
    } else if (node.is_object()) {
      node = Json{{"content", text}};
    } else {
      node = text;
    }
  }

 private:
  const std::function<int(std::string&)>& fn_;
  int count_ = 0;
};

}  // namespace

int RewriteTexts(std::string_view protocol, Json& body,
                 const std::function<int(std::string&)>& fn) {
  Rewriter rewriter(fn);
  WalkBody(protocol, body, rewriter);
  return rewriter.count();
}

}  // namespace helm
