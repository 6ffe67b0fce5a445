// OpenAI Chat Completions → IR: client requests, and provider responses.
#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

Result<std::vector<ir::ContentPart>> DecodeParts(const Json& content) {
  std::vector<ir::ContentPart> parts;
  if (content.is_null()) return parts;
  if (content.is_string()) {
    parts.push_back(ir::ContentPart::Text(content.get<std::string>()));
    return parts;
  }
  if (!content.is_array()) return BadRequest("message content must be a string or an array");
  for (const auto& p : content) {
    std::string type = GetString(p, "type");
    if (type == "text") {
      parts.push_back(ir::ContentPart::Text(GetString(p, "text")));
    } else if (type == "image_url" && IsObject(p, "image_url")) {
      ir::ContentPart img;
      img.kind = ir::PartKind::kImage;
      std::string url = GetString(p["image_url"], "url");
      if (!ParseDataUrl(url, &img.mime_type, &img.data)) img.image_url = url;
      img.detail = GetString(p["image_url"], "detail");
      parts.push_back(std::move(img));
    } else {
      return BadRequest("content part type '" + type + "' cannot be translated");
    }
  }
  return parts;
}

Result<std::vector<ir::ToolCall>> DecodeToolCalls(const Json& calls) {
  std::vector<ir::ToolCall> out;
  if (calls.is_null()) return out;
  if (!calls.is_array()) return BadRequest("'tool_calls' must be an array");
  for (const auto& c : calls) {
    if (!IsObject(c, "function")) return BadRequest("tool call without 'function'");
    ir::ToolCall tc{GetString(c, "id"), GetString(c["function"], "name"),
                    GetString(c["function"], "arguments")};
    out.push_back(std::move(tc));
  }
  return out;
}

Result<ir::Role> DecodeRole(const std::string& role) {
  if (role == "system") return ir::Role::kSystem;
  if (role == "developer") return ir::Role::kDeveloper;
  if (role == "user") return ir::Role::kUser;
  if (role == "assistant") return ir::Role::kAssistant;
  if (role == "tool") return ir::Role::kTool;
  return BadRequest("unknown message role '" + role + "'");
}

Result<ir::Message> DecodeMessage(const Json& m) {
  if (!m.is_object()) return BadRequest("each message must be an object");
  auto role = DecodeRole(GetString(m, "role"));
  if (!role.ok()) return role.error();
  ir::Message msg;
  msg.role = *role;
  auto parts = DecodeParts(m.value("content", Json()));
  if (!parts.ok()) return parts.error();
  msg.content = std::move(*parts);
  if (msg.role == ir::Role::kAssistant) {
    auto calls = DecodeToolCalls(m.value("tool_calls", Json()));
    if (!calls.ok()) return calls.error();
    msg.tool_calls = std::move(*calls);
  }
  if (msg.role == ir::Role::kTool) {
    msg.tool_call_id = GetString(m, "tool_call_id");
    msg.name = GetString(m, "name");
  }
  return msg;
}

Status DecodeTools(const Json& body, ir::Request* req) {
  if (body.contains("tools") && !body["tools"].is_null()) {
    if (!body["tools"].is_array()) return BadRequest("'tools' must be an array");
    for (const auto& t : body["tools"]) {
      if (GetString(t, "type") != "function" || !IsObject(t, "function")) {
        return BadRequest("only function tools can be translated");
      }
      const Json& f = t["function"];
      ir::Tool tool{GetString(f, "name"), GetString(f, "description"),
                    f.value("parameters", Json::object()), std::nullopt};
      if (f.contains("strict") && f["strict"].is_boolean()) tool.strict = f["strict"].get<bool>();
      req->tools.push_back(std::move(tool));
    }
  }
  const Json tc = body.value("tool_choice", Json());
  if (tc.is_string()) {
    std::string s = tc.get<std::string>();
    if (s == "auto") req->tool_choice.kind = ir::ToolChoiceKind::kAuto;
    else if (s == "none") req->tool_choice.kind = ir::ToolChoiceKind::kNone;
    else if (s == "required") req->tool_choice.kind = ir::ToolChoiceKind::kRequired;
    else return BadRequest("unknown tool_choice '" + s + "'");
  } else if (tc.is_object()) {
    req->tool_choice.kind = ir::ToolChoiceKind::kNamed;
    req->tool_choice.name = GetString(tc.value("function", Json::object()), "name");
  }
  if (body.contains("parallel_tool_calls") && body["parallel_tool_calls"].is_boolean()) {
    req->parallel_tool_calls = body["parallel_tool_calls"].get<bool>();
  }
  return Status::Ok();
}

void DecodeResponseFormat(const Json& rf, ir::ResponseFormat* out) {
  std::string type = GetString(rf, "type");
  if (type == "json_object") {
    out->kind = ir::ResponseFormatKind::kJsonObject;
  } else if (type == "json_schema") {
    out->kind = ir::ResponseFormatKind::kJsonSchema;
    const Json js = rf.value("json_schema", Json::object());
    out->name = GetString(js, "name");
    out->schema = js.value("schema", Json::object());
    if (js.contains("strict") && js["strict"].is_boolean()) out->strict = js["strict"].get<bool>();
  }
}

Status DecodeSampling(const Json& body, ir::Request* req) {
  Status err;
  ReadOpt(body, "temperature", &req->temperature, &err);
  ReadOpt(body, "top_p", &req->top_p, &err);
  ReadOpt(body, "presence_penalty", &req->presence_penalty, &err);
  ReadOpt(body, "frequency_penalty", &req->frequency_penalty, &err);
  ReadOpt(body, "seed", &req->seed, &err);
  ReadOpt(body, "max_tokens", &req->max_output_tokens, &err);
  std::optional<int64_t> max_completion;
  ReadOpt(body, "max_completion_tokens", &max_completion, &err);
  if (max_completion) req->max_output_tokens = max_completion;
  if (!err.ok()) return err;
  const Json stop = body.value("stop", Json());
  if (stop.is_string()) req->stop.push_back(stop.get<std::string>());
  if (stop.is_array()) {
    for (const auto& s : stop) {
      if (s.is_string()) req->stop.push_back(s.get<std::string>());
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ir::Request> DecodeOpenAiChatRequest(const Json& body) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  if (!IsArray(body, "messages")) return BadRequest("'messages' must be an array");
  ir::Request req;
  req.model = GetString(body, "model");
  for (const auto& m : body["messages"]) {
    auto msg = DecodeMessage(m);
    if (!msg.ok()) return msg.error();
    req.messages.push_back(std::move(*msg));
  }
  if (Status s = DecodeTools(body, &req); !s.ok()) return s.error();
  if (Status s = DecodeSampling(body, &req); !s.ok()) return s.error();
  if (IsObject(body, "response_format")) {
    DecodeResponseFormat(body["response_format"], &req.response_format);
  }
  req.stream = body.value("stream", Json(false)) == Json(true);
  if (IsObject(body, "stream_options")) {
    const Json& so = body["stream_options"];
    req.include_usage = so.value("include_usage", Json(false)) == Json(true);
  }
  req.native_protocol = kOpenAiChat;
  CollectNative(body,
                {"model", "messages", "tools", "tool_choice", "parallel_tool_calls",
                 "response_format", "temperature", "top_p", "presence_penalty",
                 "frequency_penalty", "seed", "max_completion_tokens", "max_tokens", "stop",
                 "stream", "stream_options"},
                &req.native);
  return req;
}

Result<ir::Response> DecodeOpenAiChatResponse(const Json& body) {
  if (!IsArray(body, "choices") || body["choices"].empty() || !body["choices"][0].is_object()) {
    return BadUpstream("chat completion without choices");
  }
  const Json& choice = body["choices"][0];
  const Json msg = choice.value("message", Json::object());
  ir::Response resp;
  resp.id = GetString(body, "id");
  resp.model = GetString(body, "model");
  std::string reasoning = GetString(msg, "reasoning_content");
  if (!reasoning.empty()) {
    ir::ContentPart t;
    t.kind = ir::PartKind::kThinking;
    t.text = reasoning;
    resp.content.push_back(std::move(t));
  }
  std::string text = GetString(msg, "content");
  if (text.empty()) text = GetString(msg, "refusal");
  if (!text.empty()) resp.content.push_back(ir::ContentPart::Text(text));
  if (IsArray(msg, "tool_calls")) {
    for (const auto& c : msg["tool_calls"]) {
      const Json f = c.value("function", Json::object());
      resp.tool_calls.push_back({GetString(c, "id"), GetString(f, "name"), GetString(f, "arguments")});
    }
  }
  resp.finish_reason = FinishFromOpenAi(GetString(choice, "finish_reason"));
  if (resp.finish_reason == ir::FinishReason::kStop && !resp.tool_calls.empty()) {
    resp.finish_reason = ir::FinishReason::kToolCalls;
  }
  resp.usage = UsageFromOpenAi(body.value("usage", Json()));
  resp.native_protocol = kOpenAiChat;
  if (body.contains("system_fingerprint")) resp.native["system_fingerprint"] = body["system_fingerprint"];
  return resp;
}

}  // namespace helm::protocol
