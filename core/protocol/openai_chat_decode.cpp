// OpenAI Chat Completions → IR: client requests, and provider responses.
//
// Requests are decoded whole (codec.h): audio and file parts become kOpaque
// parts, custom tools typed tools; legacy `functions`, `function_call` and
// `role: function` messages are decoded and mark the request untranslatable.
#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

// One content part: text, refusal (as text), image_url; anything else opaque.
Result<ir::ContentPart> DecodePart(const Json& p) {
  if (!p.is_object()) return BadRequest("each content part must be an object");
  const Json& type = Field(p, "type");
  if (!type.is_string()) return BadRequest("content part without a 'type'");
  const std::string& t = type.get_ref<const std::string&>();
  if (t == "text" || t == "refusal") {
    const Json& text = Field(p, t.c_str());
    if (!text.is_string() && !(t == "refusal" && text.is_null())) {
      return BadRequest("'" + t + "' part without a string '" + t + "'");
    }
    return ir::ContentPart::Text(text.is_string() ? text.get<std::string>() : "");
  }
  if (t != "image_url") return OpaquePart(t, p);
  const Json& image = Field(p, "image_url");
  if (!image.is_object()) return BadRequest("'image_url' must be an object");
  ir::ContentPart img;
  img.kind = ir::PartKind::kImage;
  std::string url = GetString(image, "url");
  if (!ParseDataUrl(url, &img.mime_type, &img.data)) img.image_url = std::move(url);
  img.detail = GetString(image, "detail");
  return img;
}

Result<std::vector<ir::ContentPart>> DecodeParts(const Json& content) {
  std::vector<ir::ContentPart> parts;
  if (content.is_null()) return parts;
  if (content.is_string()) {
    parts.push_back(ir::ContentPart::Text(content.get<std::string>()));
    return parts;
  }
  if (!content.is_array()) return BadRequest("message content must be a string or an array");
  parts.reserve(content.size());
  for (const auto& p : content) {
    auto part = DecodePart(p);
    if (!part.ok()) return part.error();
    parts.push_back(std::move(*part));
  }
  return parts;
}

// A function call {id, function: {name, arguments}} or a custom tool call
// {id, custom: {name, input}} (input kept as the arguments; untranslatable).
Result<ir::ToolCall> DecodeToolCall(const Json& c, ir::Request* req) {
  if (!c.is_object()) return BadRequest("each tool call must be an object");
  ir::ToolCall call;
  if (Status s = ReadString(c, "id", &call.id); !s.ok()) return s.error();
  const char* args = "arguments";
  const Json* fn = &Field(c, "function");
  if (!fn->is_object()) {
    fn = &Field(c, "custom");
    args = "input";
    if (!fn->is_object()) return BadRequest("tool call without 'function'");
    req->untranslatable = "custom tool calls cannot be translated";
  }
  if (Status s = ReadString(*fn, "name", &call.name); !s.ok()) return s.error();
  if (Status s = ReadString(*fn, args, &call.arguments); !s.ok()) return s.error();
  return call;
}

// tool_calls[] and the legacy function_call {name, arguments}: assistant only.
Status DecodeToolCalls(const Json& m, ir::Message* msg, ir::Request* req) {
  const Json& calls = Field(m, "tool_calls");
  const Json& legacy = Field(m, "function_call");
  bool any = (calls.is_array() && !calls.empty()) || !legacy.is_null();
  if (any && msg->role != ir::Role::kAssistant) {
    return BadRequest("only assistant messages carry tool calls");
  }
  if (!calls.is_null() && !calls.is_array()) return BadRequest("'tool_calls' must be an array");
  if (calls.is_array()) {
    for (const auto& c : calls) {
      auto call = DecodeToolCall(c, req);
      if (!call.ok()) return call.error();
      msg->tool_calls.push_back(std::move(*call));
    }
  }
  if (legacy.is_null()) return Status::Ok();
  if (!legacy.is_object()) return BadRequest("'function_call' must be an object");
  ir::ToolCall call;
  if (Status s = ReadString(legacy, "name", &call.name); !s.ok()) return s;
  if (Status s = ReadString(legacy, "arguments", &call.arguments); !s.ok()) return s;
  msg->tool_calls.push_back(std::move(call));
  req->untranslatable = "legacy 'function_call' messages cannot be translated";
  return Status::Ok();
}

Result<ir::Role> DecodeRole(const Json& role, ir::Request* req) {
  if (!role.is_string()) return BadRequest("each message needs a string 'role'");
  const std::string& r = role.get_ref<const std::string&>();
  if (r == "system") return ir::Role::kSystem;
  if (r == "developer") return ir::Role::kDeveloper;
  if (r == "user") return ir::Role::kUser;
  if (r == "assistant") return ir::Role::kAssistant;
  if (r == "tool") return ir::Role::kTool;
  if (r == "function") {  // legacy function result: a tool message without a call id
    req->untranslatable = "legacy 'function' messages cannot be translated";
    return ir::Role::kTool;
  }
  return BadRequest("unknown message role '" + r + "'");
}

Status DecodeMessage(const Json& m, ir::Request* req) {
  if (!m.is_object()) return BadRequest("each message must be an object");
  auto role = DecodeRole(Field(m, "role"), req);
  if (!role.ok()) return role.error();
  ir::Message msg;
  msg.role = *role;
  auto parts = DecodeParts(Field(m, "content"));
  if (!parts.ok()) return parts.error();
  msg.content = std::move(*parts);
  if (Status s = DecodeToolCalls(m, &msg, req); !s.ok()) return s;
  if (msg.role == ir::Role::kTool) {
    msg.tool_call_id = GetString(m, "tool_call_id");
    msg.name = GetString(m, "name");
  }
  req->messages.push_back(std::move(msg));
  return Status::Ok();
}

// One tools[] entry: a function tool, or a typed one (custom, …) by its name.
Result<ir::Tool> DecodeTool(const Json& t, Payloads payloads) {
  if (!t.is_object()) return BadRequest("each tool must be an object");
  ir::Tool tool;
  std::string type = GetString(t, "type");
  const Json& fn = Field(t, "function");
  const Json& custom = Field(t, "custom");
  if (fn.is_object() && fn.contains("name")) {
    if (Status s = ReadString(fn, "name", &tool.name); !s.ok()) return s.error();
    tool.description = GetString(fn, "description");
    const Json& params = Field(fn, "parameters");
    if (params.is_object()) CopyPayload(params, &tool.parameters, payloads);
    const Json& strict = Field(fn, "strict");
    if (strict.is_boolean()) tool.strict = strict.get<bool>();
    if (type != "function") tool.type = type.empty() ? "untyped" : type;
  } else if (custom.is_object() && custom.contains("name")) {
    if (Status s = ReadString(custom, "name", &tool.name); !s.ok()) return s.error();
    tool.type = type.empty() ? "custom" : type;
  } else {
    if (Status s = ReadString(t, "name", &tool.name); !s.ok()) return s.error();
    tool.type = type.empty() ? "untyped" : type;
  }
  if (tool.name.empty()) return BadRequest("each tool needs a name");
  return tool;
}

// Legacy `functions` [{name, description, parameters}]: untranslatable.
Status DecodeFunctions(const Json& fns, Payloads payloads, ir::Request* req) {
  if (fns.is_null()) return Status::Ok();
  if (!fns.is_array()) return BadRequest("'functions' must be an array");
  for (const auto& f : fns) {
    if (!f.is_object()) return BadRequest("each function must be an object");
    ir::Tool tool;
    if (Status s = ReadString(f, "name", &tool.name); !s.ok()) return s;
    if (tool.name.empty()) return BadRequest("each function needs a name");
    tool.description = GetString(f, "description");
    const Json& params = Field(f, "parameters");
    if (params.is_object()) CopyPayload(params, &tool.parameters, payloads);
    req->tools.push_back(std::move(tool));
    req->untranslatable = "legacy 'functions' cannot be translated";
  }
  return Status::Ok();
}

Status DecodeToolChoice(const Json& tc, ir::Request* req) {
  if (tc.is_string()) {
    const std::string& s = tc.get_ref<const std::string&>();
    if (s == "auto") req->tool_choice.kind = ir::ToolChoiceKind::kAuto;
    else if (s == "none") req->tool_choice.kind = ir::ToolChoiceKind::kNone;
    else if (s == "required") req->tool_choice.kind = ir::ToolChoiceKind::kRequired;
    else return BadRequest("unknown tool_choice '" + s + "'");
  } else if (tc.is_object()) {
    std::string type = GetString(tc, "type");
    if (type != "function" && !type.empty()) {
      req->untranslatable = "tool_choice type '" + type + "' cannot be translated";
    }
    req->tool_choice.kind = ir::ToolChoiceKind::kNamed;
    req->tool_choice.name = GetString(Field(tc, "function"), "name");
  }
  return Status::Ok();
}

Status DecodeTools(const Json& body, Payloads payloads, ir::Request* req) {
  const Json& tools = Field(body, "tools");
  if (!tools.is_null() && !tools.is_array()) return BadRequest("'tools' must be an array");
  if (tools.is_array()) {
    req->tools.reserve(tools.size());
    for (const auto& t : tools) {
      auto tool = DecodeTool(t, payloads);
      if (!tool.ok()) return tool.error();
      req->tools.push_back(std::move(*tool));
    }
  }
  if (Status s = DecodeFunctions(Field(body, "functions"), payloads, req); !s.ok()) return s;
  if (Status s = DecodeToolChoice(Field(body, "tool_choice"), req); !s.ok()) return s;
  const Json& parallel = Field(body, "parallel_tool_calls");
  if (parallel.is_boolean()) req->parallel_tool_calls = parallel.get<bool>();
  return Status::Ok();
}

void DecodeResponseFormat(const Json& rf, Payloads payloads, ir::ResponseFormat* out) {
  std::string type = GetString(rf, "type");
  if (type == "json_object") {
    out->kind = ir::ResponseFormatKind::kJsonObject;
  } else if (type == "json_schema") {
    out->kind = ir::ResponseFormatKind::kJsonSchema;
    const Json& js = Field(rf, "json_schema");
    out->name = GetString(js, "name");
    const Json& schema = Field(js, "schema");
    if (payloads == Payloads::kCopy) out->schema = schema.is_null() ? Json::object() : schema;
    const Json& strict = Field(js, "strict");
    if (strict.is_boolean()) out->strict = strict.get<bool>();
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
  const Json& stop = Field(body, "stop");
  if (stop.is_string()) req->stop.push_back(stop.get<std::string>());
  if (stop.is_array()) {
    for (const auto& s : stop) {
      if (s.is_string()) req->stop.push_back(s.get<std::string>());
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ir::Request> DecodeOpenAiChatRequest(const Json& body, Payloads payloads) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  const Json& messages = Field(body, "messages");
  if (!messages.is_array()) return BadRequest("'messages' must be an array");
  ir::Request req;
  if (Status s = ReadModelAndStream(body, &req); !s.ok()) return s.error();
  req.messages.reserve(messages.size());
  for (const auto& m : messages) {
    if (Status s = DecodeMessage(m, &req); !s.ok()) return s.error();
  }
  if (Status s = DecodeTools(body, payloads, &req); !s.ok()) return s.error();
  if (Status s = DecodeSampling(body, &req); !s.ok()) return s.error();
  const Json& rf = Field(body, "response_format");
  if (rf.is_object()) DecodeResponseFormat(rf, payloads, &req.response_format);
  const Json& so = Field(body, "stream_options");
  req.include_usage = Field(so, "include_usage") == Json(true);
  req.native_protocol = kOpenAiChat;
  if (payloads == Payloads::kSkip) return req;
  CollectNative(body,
                {"model", "messages", "tools", "functions", "tool_choice", "parallel_tool_calls",
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
