// ExtractFacts: from the IR for the translatable protocols; from the two
// string fields of the OpenAI embeddings and completions doors, which have no IR.
#include "core/policy/facts.h"

#include "core/protocol/translate.h"

namespace helm {
namespace {

Error Bad(const std::string& where, std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument, where + ": " + std::string(what));
}

void AddText(RequestFacts& facts, std::string text) {
  if (!text.empty()) facts.texts.push_back(std::move(text));
}

void AddParts(RequestFacts& facts, std::vector<ir::ContentPart>& parts) {
  for (ir::ContentPart& p : parts) {
    switch (p.kind) {
      case ir::PartKind::kText:
      case ir::PartKind::kOpaque:
        AddText(facts, std::move(p.text));
        break;
      case ir::PartKind::kThinking:  // signed thinking cannot be rewritten: not inspected
        if (p.signature.empty()) AddText(facts, std::move(p.text));
        break;
      case ir::PartKind::kImage:
        facts.has_images = true;
        break;
      case ir::PartKind::kRedactedThinking:
        break;
    }
  }
}

// embeddings `input`, completions `prompt`: a string or an array of strings.
Status LegacyTexts(const Json& body, const char* key, RequestFacts& facts) {
  auto it = body.find(key);
  if (it == body.end()) return Bad(key, "missing");
  if (it->is_string()) {
    AddText(facts, it->get<std::string>());
    return Status::Ok();
  }
  if (!it->is_array()) return Bad(key, "expected a string or an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& item = (*it)[i];
    if (!item.is_string()) {
      return Bad(std::string(key) + "[" + std::to_string(i) + "]",
                 "expected a string (token arrays are not supported)");
    }
    AddText(facts, item.get<std::string>());
  }
  return Status::Ok();
}

Status LegacyFacts(const Json& body, const char* key, RequestFacts& facts) {
  if (Status s = LegacyTexts(body, key, facts); !s.ok()) return s;
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

RequestFacts FactsFromIr(std::string_view protocol, ir::Request request) {
  RequestFacts facts;
  facts.protocol = std::string(protocol);
  facts.model = std::move(request.model);
  facts.stream = request.stream;
  facts.tools.reserve(request.tools.size());
  for (ir::Tool& t : request.tools) facts.tools.push_back(std::move(t.name));
  for (ir::Message& m : request.messages) {
    AddParts(facts, m.content);
    for (ir::ToolCall& c : m.tool_calls) AddText(facts, std::move(c.arguments));
  }
  return facts;
}

Result<RequestFacts> ExtractFacts(std::string_view protocol, const Json& body) {
  RequestFacts facts;
  if (protocol::IsTranslatableProtocol(protocol)) {
    auto request = protocol::InspectClientRequest(protocol, body, protocol::Payloads::kSkip);
    if (!request.ok()) return request.error();
    facts = FactsFromIr(protocol, std::move(request).value());
  } else if (protocol == kOpenAiEmbeddings || protocol == kOpenAiCompletions) {
    if (!body.is_object()) return Bad("body", "expected a JSON object");
    facts.protocol = std::string(protocol);
    Status s = LegacyFacts(body, protocol == kOpenAiEmbeddings ? "input" : "prompt", facts);
    if (!s.ok()) return s.error();
  } else {
    return Bad("protocol", "unknown protocol \"" + std::string(protocol) + "\"");
  }
  size_t bytes = 0;
  for (const auto& text : facts.texts) bytes += text.size();
  facts.input_tokens = static_cast<int64_t>((bytes + 3) / 4);
  return facts;
}

}  // namespace helm
