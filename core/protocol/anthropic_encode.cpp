// IR → Anthropic Messages: provider requests (provider kind anthropic), and
// client responses (message objects).
#include <algorithm>

#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

constexpr int64_t kDefaultMaxTokens = 4096;

Json ImageBlock(const ir::ContentPart& p) {
  if (!p.image_url.empty()) {
    return {{"type", "image"}, {"source", {{"type", "url"}, {"url", p.image_url}}}};
  }
  return {{"type", "image"},
          {"source", {{"type", "base64"}, {"media_type", p.mime_type}, {"data", p.data}}}};
}

// Content blocks for the parts. Empty text is dropped (the API rejects it);
// thinking is kept only with its signature (the API verifies it), so
// reasoning that came from another provider is not replayed.
void AppendParts(const std::vector<ir::ContentPart>& parts, Json* blocks) {
  for (const auto& p : parts) {
    switch (p.kind) {
      case ir::PartKind::kText:
        if (!p.text.empty()) blocks->push_back({{"type", "text"}, {"text", p.text}});
        break;
      case ir::PartKind::kImage:
        blocks->push_back(ImageBlock(p));
        break;
      case ir::PartKind::kThinking:
        if (!p.signature.empty()) {
          blocks->push_back({{"type", "thinking"}, {"thinking", p.text}, {"signature", p.signature}});
        }
        break;
      case ir::PartKind::kRedactedThinking:
        blocks->push_back({{"type", "redacted_thinking"}, {"data", p.data}});
        break;
      case ir::PartKind::kOpaque:  // never in a translatable request
        break;
    }
  }
}

Json ToolUseBlock(const ir::ToolCall& c, const std::string& id) {
  return {{"type", "tool_use"}, {"id", id}, {"name", c.name}, {"input", ArgumentsObject(c.arguments)}};
}

Json ToolResultBlock(const ir::Message& m) {
  Json b{{"type", "tool_result"}, {"tool_use_id", m.tool_call_id}};
  Json content = Json::array();
  AppendParts(m.content, &content);
  if (content.empty()) b["content"] = "";
  else b["content"] = content;
  if (m.is_error) b["is_error"] = true;
  return b;
}

std::string SystemText(const ir::Request& req) {
  std::string system;
  for (const auto& m : req.messages) {
    if (m.role != ir::Role::kSystem && m.role != ir::Role::kDeveloper) continue;
    if (!system.empty()) system += "\n\n";
    system += PartsText(m.content);
  }
  const auto& rf = req.response_format;
  if (rf.kind != ir::ResponseFormatKind::kText) {
    if (!system.empty()) system += "\n\n";
    system += "Respond with a single JSON value and nothing else.";
    if (rf.kind == ir::ResponseFormatKind::kJsonSchema) {
      system += " It must conform to this JSON Schema: " + DumpJson(rf.schema);
    }
  }
  return system;
}

// Messages with system hoisted, tool results as user tool_result blocks and
// consecutive same-role messages merged (the API wants alternation).
Json EncodeMessages(const ir::Request& req) {
  Json out = Json::array();
  auto append = [&](const char* role, Json blocks) {
    if (blocks.empty()) return;
    if (!out.empty() && out.back()["role"] == role) {
      for (auto& b : blocks) out.back()["content"].push_back(std::move(b));
    } else {
      out.push_back({{"role", role}, {"content", std::move(blocks)}});
    }
  };
  for (const auto& m : req.messages) {
    Json blocks = Json::array();
    switch (m.role) {
      case ir::Role::kSystem:
      case ir::Role::kDeveloper:
        continue;
      case ir::Role::kUser:
        AppendParts(m.content, &blocks);
        append("user", std::move(blocks));
        break;
      case ir::Role::kTool:
        blocks.push_back(ToolResultBlock(m));
        append("user", std::move(blocks));
        break;
      case ir::Role::kAssistant:
        AppendParts(m.content, &blocks);
        for (const auto& c : m.tool_calls) blocks.push_back(ToolUseBlock(c, c.id));
        append("assistant", std::move(blocks));
        break;
    }
  }
  return out;
}

void EncodeTools(const ir::Request& req, Json* out) {
  if (req.tools.empty()) return;
  Json tools = Json::array();
  for (const auto& t : req.tools) {
    Json tool{{"name", t.name}, {"input_schema", t.parameters}};
    if (!t.description.empty()) tool["description"] = t.description;
    tools.push_back(std::move(tool));
  }
  (*out)["tools"] = tools;
  Json choice;
  switch (req.tool_choice.kind) {
    case ir::ToolChoiceKind::kAuto: choice = {{"type", "auto"}}; break;
    case ir::ToolChoiceKind::kNone: choice = {{"type", "none"}}; break;
    case ir::ToolChoiceKind::kRequired: choice = {{"type", "any"}}; break;
    case ir::ToolChoiceKind::kNamed: choice = {{"type", "tool"}, {"name", req.tool_choice.name}}; break;
    case ir::ToolChoiceKind::kUnset: break;
  }
  if (req.parallel_tool_calls == false && req.tool_choice.kind != ir::ToolChoiceKind::kNone) {
    if (choice.is_null()) choice = {{"type", "auto"}};
    choice["disable_parallel_tool_use"] = true;
  }
  if (!choice.is_null()) (*out)["tool_choice"] = choice;
}

}  // namespace

Result<Json> EncodeAnthropicRequest(const ir::Request& req, const std::string& model) {
  Json messages = EncodeMessages(req);
  if (messages.empty()) return BadRequest("the request has no user or assistant content");
  Json out{{"model", model},
           {"max_tokens", req.max_output_tokens.value_or(kDefaultMaxTokens)},
           {"messages", messages}};
  std::string system = SystemText(req);
  if (!system.empty()) out["system"] = system;
  EncodeTools(req, &out);
  // Anthropic's temperature range is [0, 1]; OpenAI's is [0, 2].
  if (req.temperature) out["temperature"] = std::min(1.0, std::max(0.0, *req.temperature));
  if (req.top_p) out["top_p"] = *req.top_p;
  if (req.top_k) out["top_k"] = *req.top_k;
  if (!req.stop.empty()) out["stop_sequences"] = req.stop;
  if (req.stream) out["stream"] = true;
  EmitNative(req, kAnthropicMessages, &out);
  return out;
}

Json EncodeAnthropicResponse(const ir::Response& resp, const EncodeOptions& opt) {
  Json content = Json::array();
  for (const auto& p : resp.content) {
    if (p.kind == ir::PartKind::kThinking) {
      content.push_back({{"type", "thinking"}, {"thinking", p.text}, {"signature", p.signature}});
    } else if (p.kind == ir::PartKind::kRedactedThinking) {
      content.push_back({{"type", "redacted_thinking"}, {"data", p.data}});
    } else if (p.kind == ir::PartKind::kText && !p.text.empty()) {
      content.push_back({{"type", "text"}, {"text", p.text}});
    }
  }
  std::string id = resp.id.empty() ? opt.response_id : resp.id;
  for (size_t i = 0; i < resp.tool_calls.size(); ++i) {
    const auto& c = resp.tool_calls[i];
    content.push_back(ToolUseBlock(c, c.id.empty() ? SynthesizeToolCallId(id, i) : c.id));
  }
  ir::FinishReason reason = resp.finish_reason;
  if (reason == ir::FinishReason::kUnknown && !resp.tool_calls.empty()) {
    reason = ir::FinishReason::kToolCalls;
  }
  std::string stop_reason = FinishToAnthropic(reason);
  Json stop_sequence = nullptr;
  if (!resp.stop_sequence.empty() && reason == ir::FinishReason::kStop) {
    stop_reason = "stop_sequence";
    stop_sequence = resp.stop_sequence;
  }
  return Json{{"id", id},
              {"type", "message"},
              {"role", "assistant"},
              {"model", opt.model.empty() ? resp.model : opt.model},
              {"content", content},
              {"stop_reason", stop_reason},
              {"stop_sequence", stop_sequence},
              {"usage", UsageToAnthropic(resp.usage)}};
}

}  // namespace helm::protocol
