// IR → OpenAI Responses client responses (the `response` object).
#include <cctype>

#include "core/protocol/codec.h"

namespace helm::protocol {

std::string ResponsesItemId(const char* prefix, const std::string& response_id, size_t n) {
  std::string id = prefix;
  for (char c : response_id) {
    if (std::isalnum(static_cast<unsigned char>(c))) id += c;
  }
  return id + "_" + std::to_string(n);
}

Json ResponsesMessageItem(const std::string& item_id, const std::string& text, bool done) {
  Json content = Json::array();
  if (done) content.push_back({{"type", "output_text"}, {"text", text}, {"annotations", Json::array()}});
  return {{"id", item_id},
          {"type", "message"},
          {"status", done ? "completed" : "in_progress"},
          {"role", "assistant"},
          {"content", content}};
}

Json ResponsesFunctionCallItem(const std::string& item_id, const ir::ToolCall& call, bool done) {
  return {{"id", item_id},
          {"type", "function_call"},
          {"status", done ? "completed" : "in_progress"},
          {"call_id", call.id},
          {"name", call.name},
          {"arguments", done ? call.arguments : ""}};
}

Json ResponsesObject(const std::string& id, const EncodeOptions& opt, const std::string& model,
                     const std::string& status, const std::string& incomplete_reason,
                     Json output, const ir::Usage* usage) {
  Json incomplete = nullptr;
  if (!incomplete_reason.empty()) incomplete = {{"reason", incomplete_reason}};
  return {{"id", id},
          {"object", "response"},
          {"created_at", opt.created_unix},
          {"status", status},
          {"error", nullptr},
          {"incomplete_details", incomplete},
          {"instructions", nullptr},
          {"model", model},
          {"output", std::move(output)},
          {"parallel_tool_calls", true},
          {"previous_response_id", nullptr},
          {"store", false},
          {"text", {{"format", {{"type", "text"}}}}},
          {"tool_choice", "auto"},
          {"tools", Json::array()},
          {"usage", usage ? UsageToResponses(*usage) : Json()},
          {"metadata", Json::object()}};
}

Json EncodeResponsesResponse(const ir::Response& resp, const EncodeOptions& opt) {
  std::string id = resp.id.empty() ? opt.response_id : resp.id;
  Json output = Json::array();
  std::string text = PartsText(resp.content);
  size_t n = 0;
  if (!text.empty()) output.push_back(ResponsesMessageItem(ResponsesItemId("msg_", id, n++), text, true));
  for (size_t i = 0; i < resp.tool_calls.size(); ++i) {
    ir::ToolCall call = resp.tool_calls[i];
    if (call.id.empty()) call.id = SynthesizeToolCallId(id, i);
    output.push_back(ResponsesFunctionCallItem(ResponsesItemId("fc_", id, n++), call, true));
  }
  std::string reason;
  std::string status = FinishToResponsesStatus(resp.finish_reason, &reason);
  return ResponsesObject(id, opt, opt.model.empty() ? resp.model : opt.model, status, reason,
                         std::move(output), &resp.usage);
}

}  // namespace helm::protocol
