// Anthropic Messages → IR: client requests, and provider responses.
#include <map>

#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

Result<ir::ContentPart> DecodeImage(const Json& block) {
  const Json src = block.value("source", Json::object());
  ir::ContentPart img;
  img.kind = ir::PartKind::kImage;
  std::string type = GetString(src, "type");
  if (type == "base64") {
    img.mime_type = GetString(src, "media_type");
    img.data = GetString(src, "data");
  } else if (type == "url") {
    img.image_url = GetString(src, "url");
  } else {
    return BadRequest("image source type '" + type + "' cannot be translated");
  }
  return img;
}

// Tool-result content: a string or text/image blocks.
Result<std::vector<ir::ContentPart>> DecodeToolResultContent(const Json& content) {
  std::vector<ir::ContentPart> parts;
  if (content.is_string()) {
    parts.push_back(ir::ContentPart::Text(content.get<std::string>()));
    return parts;
  }
  if (!content.is_array()) return parts;
  for (const auto& b : content) {
    std::string type = GetString(b, "type");
    if (type == "text") {
      parts.push_back(ir::ContentPart::Text(GetString(b, "text")));
    } else if (type == "image") {
      auto img = DecodeImage(b);
      if (!img.ok()) return img.error();
      parts.push_back(std::move(*img));
    } else {
      return BadRequest("tool_result block type '" + type + "' cannot be translated");
    }
  }
  return parts;
}

// Appends the IR messages for one Anthropic message: a user message splits
// into one tool message per tool_result block plus the rest.
Status DecodeMessage(const Json& m, std::map<std::string, std::string>* tool_names,
                     std::vector<ir::Message>* out) {
  if (!m.is_object()) return BadRequest("each message must be an object");
  std::string role = GetString(m, "role");
  ir::Message msg;
  if (role == "user") msg.role = ir::Role::kUser;
  else if (role == "assistant") msg.role = ir::Role::kAssistant;
  else if (role == "system") msg.role = ir::Role::kSystem;
  else return BadRequest("unknown message role '" + role + "'");
  const Json content = m.value("content", Json());
  if (content.is_string()) {
    msg.content.push_back(ir::ContentPart::Text(content.get<std::string>()));
    out->push_back(std::move(msg));
    return Status::Ok();
  }
  if (!content.is_array()) return BadRequest("message content must be a string or an array");
  std::vector<ir::Message> tool_results;
  for (const auto& b : content) {
    std::string type = GetString(b, "type");
    if (type == "text") {
      msg.content.push_back(ir::ContentPart::Text(GetString(b, "text")));
    } else if (type == "image") {
      auto img = DecodeImage(b);
      if (!img.ok()) return img.error();
      msg.content.push_back(std::move(*img));
    } else if (type == "thinking" || type == "redacted_thinking") {
      ir::ContentPart t;
      t.kind = type == "thinking" ? ir::PartKind::kThinking : ir::PartKind::kRedactedThinking;
      t.text = GetString(b, "thinking");
      t.signature = GetString(b, "signature");
      t.data = GetString(b, "data");
      msg.content.push_back(std::move(t));
    } else if (type == "tool_use" && msg.role == ir::Role::kAssistant) {
      ir::ToolCall c{GetString(b, "id"), GetString(b, "name"),
                     DumpJson(b.value("input", Json::object()))};
      (*tool_names)[c.id] = c.name;
      msg.tool_calls.push_back(std::move(c));
    } else if (type == "tool_result" && msg.role == ir::Role::kUser) {
      ir::Message r;
      r.role = ir::Role::kTool;
      r.tool_call_id = GetString(b, "tool_use_id");
      r.name = (*tool_names)[r.tool_call_id];
      r.is_error = b.value("is_error", Json(false)) == Json(true);
      auto parts = DecodeToolResultContent(b.value("content", Json()));
      if (!parts.ok()) return parts.error();
      r.content = std::move(*parts);
      tool_results.push_back(std::move(r));
    } else {
      return BadRequest("content block type '" + type + "' cannot be translated");
    }
  }
  for (auto& r : tool_results) out->push_back(std::move(r));
  if (!msg.content.empty() || !msg.tool_calls.empty() || tool_results.empty()) {
    out->push_back(std::move(msg));
  }
  return Status::Ok();
}

Status DecodeTools(const Json& body, ir::Request* req) {
  if (IsArray(body, "tools")) {
    for (const auto& t : body["tools"]) {
      std::string type = GetString(t, "type");
      if (!type.empty() && type != "custom") {
        return BadRequest("server tool '" + type + "' cannot be translated");
      }
      req->tools.push_back({GetString(t, "name"), GetString(t, "description"),
                            t.value("input_schema", Json::object()), std::nullopt});
    }
  }
  if (IsObject(body, "tool_choice")) {
    const Json& tc = body["tool_choice"];
    std::string type = GetString(tc, "type");
    if (type == "auto") req->tool_choice.kind = ir::ToolChoiceKind::kAuto;
    else if (type == "any") req->tool_choice.kind = ir::ToolChoiceKind::kRequired;
    else if (type == "none") req->tool_choice.kind = ir::ToolChoiceKind::kNone;
    else if (type == "tool") req->tool_choice = {ir::ToolChoiceKind::kNamed, GetString(tc, "name")};
    if (tc.value("disable_parallel_tool_use", Json(false)) == Json(true)) {
      req->parallel_tool_calls = false;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ir::Request> DecodeAnthropicRequest(const Json& body) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  if (!IsArray(body, "messages")) return BadRequest("'messages' must be an array");
  ir::Request req;
  req.model = GetString(body, "model");
  const Json system = body.value("system", Json());
  if (system.is_string() || system.is_array()) {
    ir::Message s;
    s.role = ir::Role::kSystem;
    s.content.push_back(ir::ContentPart::Text(JoinedText(system)));
    req.messages.push_back(std::move(s));
  }
  std::map<std::string, std::string> tool_names;
  for (const auto& m : body["messages"]) {
    if (Status s = DecodeMessage(m, &tool_names, &req.messages); !s.ok()) return s.error();
  }
  if (Status s = DecodeTools(body, &req); !s.ok()) return s.error();
  Status err;
  ReadOpt(body, "max_tokens", &req.max_output_tokens, &err);
  ReadOpt(body, "temperature", &req.temperature, &err);
  ReadOpt(body, "top_p", &req.top_p, &err);
  ReadOpt(body, "top_k", &req.top_k, &err);
  if (!err.ok()) return err.error();
  if (IsArray(body, "stop_sequences")) {
    for (const auto& s : body["stop_sequences"]) {
      if (s.is_string()) req.stop.push_back(s.get<std::string>());
    }
  }
  req.stream = body.value("stream", Json(false)) == Json(true);
  req.include_usage = true;  // Anthropic streams always carry usage
  req.native_protocol = kAnthropicMessages;
  CollectNative(body,
                {"model", "messages", "system", "tools", "tool_choice", "max_tokens",
                 "temperature", "top_p", "top_k", "stop_sequences", "stream"},
                &req.native);
  return req;
}

Result<ir::Response> DecodeAnthropicResponse(const Json& body) {
  if (!IsArray(body, "content")) return BadUpstream("message without content");
  ir::Response resp;
  resp.id = GetString(body, "id");
  resp.model = GetString(body, "model");
  for (const auto& b : body["content"]) {
    std::string type = GetString(b, "type");
    if (type == "text") {
      resp.content.push_back(ir::ContentPart::Text(GetString(b, "text")));
    } else if (type == "thinking" || type == "redacted_thinking") {
      ir::ContentPart t;
      t.kind = type == "thinking" ? ir::PartKind::kThinking : ir::PartKind::kRedactedThinking;
      t.text = GetString(b, "thinking");
      t.signature = GetString(b, "signature");
      t.data = GetString(b, "data");
      resp.content.push_back(std::move(t));
    } else if (type == "tool_use") {
      resp.tool_calls.push_back(
          {GetString(b, "id"), GetString(b, "name"), DumpJson(b.value("input", Json::object()))});
    }
  }
  resp.finish_reason = FinishFromAnthropic(GetString(body, "stop_reason"));
  resp.stop_sequence = GetString(body, "stop_sequence");
  resp.usage = UsageFromAnthropic(body.value("usage", Json()));
  resp.native_protocol = kAnthropicMessages;
  return resp;
}

}  // namespace helm::protocol
