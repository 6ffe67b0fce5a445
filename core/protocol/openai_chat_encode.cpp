// IR → OpenAI Chat Completions: provider requests (provider kind openai),
// and client responses (chat.completion).
#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

const char* RoleName(ir::Role r) {
  switch (r) {
    case ir::Role::kSystem: return "system";
    case ir::Role::kDeveloper: return "system";  // widest support among compatible servers
    case ir::Role::kUser: return "user";
    case ir::Role::kAssistant: return "assistant";
    case ir::Role::kTool: return "tool";
  }
  return "user";
}

// A string when the content is text only, else an array of parts. Thinking
// parts have no Chat Completions request form and are dropped.
Json EncodeContent(const std::vector<ir::ContentPart>& parts, bool text_only) {
  bool has_image = false;
  for (const auto& p : parts) has_image = has_image || p.kind == ir::PartKind::kImage;
  if (!has_image || text_only) return PartsText(parts);
  Json arr = Json::array();
  for (const auto& p : parts) {
    if (p.kind == ir::PartKind::kText) {
      arr.push_back({{"type", "text"}, {"text", p.text}});
    } else if (p.kind == ir::PartKind::kImage) {
      Json url{{"url", MakeDataUrl(p)}};
      if (!p.detail.empty()) url["detail"] = p.detail;
      arr.push_back({{"type", "image_url"}, {"image_url", url}});
    }
  }
  return arr;
}

// A call without arguments (Gemini may omit args) is sent as "{}".
Json EncodeToolCalls(const std::vector<ir::ToolCall>& calls) {
  Json arr = Json::array();
  for (const auto& c : calls) {
    const std::string& args = c.arguments.empty() ? std::string("{}") : c.arguments;
    arr.push_back({{"id", c.id},
                   {"type", "function"},
                   {"function", {{"name", c.name}, {"arguments", args}}}});
  }
  return arr;
}

Json EncodeMessage(const ir::Message& m) {
  Json out{{"role", RoleName(m.role)}};
  if (m.role == ir::Role::kTool) {
    out["tool_call_id"] = m.tool_call_id;
    out["content"] = PartsText(m.content);
    return out;
  }
  if (m.role == ir::Role::kAssistant) {
    std::string text = PartsText(m.content);
    out["content"] = text.empty() && !m.tool_calls.empty() ? Json() : Json(text);
    if (!m.tool_calls.empty()) out["tool_calls"] = EncodeToolCalls(m.tool_calls);
    return out;
  }
  out["content"] = EncodeContent(m.content, m.role != ir::Role::kUser);
  return out;
}

void EncodeTools(const ir::Request& req, Json* out) {
  if (req.tools.empty()) return;
  Json tools = Json::array();
  for (const auto& t : req.tools) {
    Json f{{"name", t.name}, {"parameters", t.parameters}};
    if (!t.description.empty()) f["description"] = t.description;
    if (t.strict) f["strict"] = *t.strict;
    tools.push_back({{"type", "function"}, {"function", f}});
  }
  (*out)["tools"] = tools;
  switch (req.tool_choice.kind) {
    case ir::ToolChoiceKind::kAuto: (*out)["tool_choice"] = "auto"; break;
    case ir::ToolChoiceKind::kNone: (*out)["tool_choice"] = "none"; break;
    case ir::ToolChoiceKind::kRequired: (*out)["tool_choice"] = "required"; break;
    case ir::ToolChoiceKind::kNamed:
      (*out)["tool_choice"] = {{"type", "function"}, {"function", {{"name", req.tool_choice.name}}}};
      break;
    case ir::ToolChoiceKind::kUnset: break;
  }
  if (req.parallel_tool_calls) (*out)["parallel_tool_calls"] = *req.parallel_tool_calls;
}

void EncodeResponseFormat(const ir::ResponseFormat& rf, Json* out) {
  if (rf.kind == ir::ResponseFormatKind::kJsonObject) {
    (*out)["response_format"] = {{"type", "json_object"}};
  } else if (rf.kind == ir::ResponseFormatKind::kJsonSchema) {
    Json js{{"name", rf.name.empty() ? "response" : rf.name}, {"schema", rf.schema}};
    if (rf.strict) js["strict"] = *rf.strict;
    (*out)["response_format"] = {{"type", "json_schema"}, {"json_schema", js}};
  }
}

}  // namespace

Result<Json> EncodeOpenAiChatRequest(const ir::Request& req, const std::string& model) {
  Json out{{"model", model}};
  Json messages = Json::array();
  for (const auto& m : req.messages) messages.push_back(EncodeMessage(m));
  out["messages"] = messages;
  EncodeTools(req, &out);
  EncodeResponseFormat(req.response_format, &out);
  if (req.temperature) out["temperature"] = *req.temperature;
  if (req.top_p) out["top_p"] = *req.top_p;
  if (req.max_output_tokens) out["max_completion_tokens"] = *req.max_output_tokens;
  if (req.seed) out["seed"] = *req.seed;
  if (req.presence_penalty) out["presence_penalty"] = *req.presence_penalty;
  if (req.frequency_penalty) out["frequency_penalty"] = *req.frequency_penalty;
  if (!req.stop.empty()) out["stop"] = req.stop;
  if (req.stream) {
    out["stream"] = true;
    out["stream_options"] = {{"include_usage", true}};
  }
  EmitNative(req, kOpenAiChat, &out);
  return out;
}

Json EncodeOpenAiChatResponse(const ir::Response& resp, const EncodeOptions& opt) {
  std::string text = PartsText(resp.content);
  Json msg{{"role", "assistant"},
           {"content", text.empty() && !resp.tool_calls.empty() ? Json() : Json(text)},
           {"refusal", nullptr}};
  if (!resp.tool_calls.empty()) msg["tool_calls"] = EncodeToolCalls(resp.tool_calls);
  ir::FinishReason reason = resp.finish_reason;
  if (reason == ir::FinishReason::kUnknown && !resp.tool_calls.empty()) {
    reason = ir::FinishReason::kToolCalls;
  }
  Json out{{"id", resp.id.empty() ? opt.response_id : resp.id},
           {"object", "chat.completion"},
           {"created", opt.created_unix},
           {"model", opt.model.empty() ? resp.model : opt.model},
           {"choices", Json::array({{{"index", 0},
                                     {"message", msg},
                                     {"logprobs", nullptr},
                                     {"finish_reason", FinishToOpenAi(reason)}}})},
           {"usage", UsageToOpenAi(resp.usage)}};
  if (resp.native_protocol == kOpenAiChat && resp.native.is_object()) {
    for (const auto& [k, v] : resp.native.items()) {
      if (!out.contains(k)) out[k] = v;
    }
  }
  return out;
}

}  // namespace helm::protocol
