// OpenAI Responses client requests → IR. Responses is a client protocol only
// (no provider kind speaks it here), so there is no response decoder.
//
// Decoded whole (codec.h), but untranslatable, because a stateless gateway
// cannot honour them: `previous_response_id` (the conversation lives at
// OpenAI), `store: true`, `conversation`, `item_reference` items; and what the
// IR does not model: non-function tools (web_search, file_search, …), custom
// tool calls, input files and audio, images by file id, unknown item types
// (kept as an opaque part, with their `text`, in a user message). `reasoning`
// items are dropped (their encrypted content only means something to OpenAI).
#include <map>

#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

Result<ir::ContentPart> DecodePart(const Json& p) {
  if (!p.is_object()) return BadRequest("each content part must be an object");
  const Json& type_json = Field(p, "type");
  if (!type_json.is_string()) return BadRequest("content part without a 'type'");
  const std::string& type = type_json.get_ref<const std::string&>();
  if (type == "input_text" || type == "output_text" || type == "text" || type == "refusal") {
    const char* key = type == "refusal" ? "refusal" : "text";
    const Json& text = Field(p, key);
    if (!text.is_string()) return BadRequest("'" + type + "' part without a string '" + key + "'");
    return ir::ContentPart::Text(text.get<std::string>());
  }
  if (type != "input_image") return OpaquePart(type, p);
  ir::ContentPart img;
  img.kind = ir::PartKind::kImage;
  std::string url = GetString(p, "image_url");  // empty: a file id (untranslatable)
  if (!ParseDataUrl(url, &img.mime_type, &img.data)) img.image_url = std::move(url);
  img.detail = GetString(p, "detail");
  return img;
}

// Message content and function_call_output output: a string or parts.
Result<std::vector<ir::ContentPart>> DecodeContent(const Json& content) {
  std::vector<ir::ContentPart> parts;
  if (content.is_string()) {
    parts.push_back(ir::ContentPart::Text(content.get<std::string>()));
    return parts;
  }
  if (!content.is_array()) return BadRequest("message content must be a string or an array");
  for (const auto& p : content) {
    auto part = DecodePart(p);
    if (!part.ok()) return part.error();
    parts.push_back(std::move(*part));
  }
  return parts;
}

Result<ir::Role> DecodeRole(const std::string& role) {
  if (role == "user") return ir::Role::kUser;
  if (role == "assistant") return ir::Role::kAssistant;
  if (role == "system") return ir::Role::kSystem;
  if (role == "developer") return ir::Role::kDeveloper;
  return BadRequest("unknown message role '" + role + "'");
}

class InputDecoder {
 public:
  explicit InputDecoder(ir::Request* req) : req_(req) {}

  Status Item(const Json& item) {
    if (!item.is_object()) return BadRequest("each input item must be an object");
    std::string type = "message";  // a message item may omit its type
    if (Status s = ReadString(item, "type", &type); !s.ok()) return s;
    if (type == "message") return Message(item);
    bool custom = type == "custom_tool_call" || type == "custom_tool_call_output";
    if (custom) req_->untranslatable = "custom tool calls cannot be translated";
    if (type == "function_call" || type == "custom_tool_call") {
      return Call(item, custom ? "input" : "arguments");
    }
    if (type == "function_call_output" || type == "custom_tool_call_output") {
      return Output(item);
    }
    if (type == "reasoning") return Status::Ok();
    // item_reference and unknown items: an opaque part, so the IR keeps them.
    req_->messages.push_back({ir::Role::kUser, {OpaquePart(type, item)}, {}, "", "", false});
    return Status::Ok();
  }

 private:
  Status Message(const Json& item) {
    auto role = DecodeRole(GetString(item, "role"));
    if (!role.ok()) return role.error();
    auto parts = DecodeContent(Field(item, "content"));
    if (!parts.ok()) return parts.error();
    req_->messages.push_back({*role, std::move(*parts), {}, "", "", false});
    return Status::Ok();
  }

  Status Call(const Json& item, const char* arguments) {
    ir::ToolCall c{GetString(item, "call_id"), GetString(item, "name"), ""};
    if (Status s = ReadString(item, arguments, &c.arguments); !s.ok()) return s;
    names_[c.id] = c.name;
    if (req_->messages.empty() || req_->messages.back().role != ir::Role::kAssistant) {
      req_->messages.push_back({ir::Role::kAssistant, {}, {}, "", "", false});
    }
    req_->messages.back().tool_calls.push_back(std::move(c));
    return Status::Ok();
  }

  Status Output(const Json& item) {
    ir::Message m;
    m.role = ir::Role::kTool;
    m.tool_call_id = GetString(item, "call_id");
    m.name = names_[m.tool_call_id];
    const Json& output = Field(item, "output");
    if (!output.is_null()) {
      auto parts = DecodeContent(output);
      if (!parts.ok()) return parts.error();
      m.content = std::move(*parts);
    }
    req_->messages.push_back(std::move(m));
    return Status::Ok();
  }

  ir::Request* req_;
  std::map<std::string, std::string> names_;
};

// A function tool, or a typed one (web_search, file_search, custom, …) by its
// name, or by its type when it has none.
Result<ir::Tool> DecodeTool(const Json& t, Payloads payloads) {
  if (!t.is_object()) return BadRequest("each tool must be an object");
  ir::Tool tool;
  std::string type = GetString(t, "type");
  if (Status s = ReadString(t, "name", &tool.name); !s.ok()) return s.error();
  if (tool.name.empty()) tool.name = type;
  if (tool.name.empty()) return BadRequest("each tool needs a name or a type");
  if (type != "function") tool.type = type.empty() ? "untyped" : type;
  tool.description = GetString(t, "description");
  const Json& params = Field(t, "parameters");
  if (params.is_object()) CopyPayload(params, &tool.parameters, payloads);
  const Json& strict = Field(t, "strict");
  if (strict.is_boolean()) tool.strict = strict.get<bool>();
  return tool;
}

Status DecodeTools(const Json& body, Payloads payloads, ir::Request* req) {
  const Json& tools = Field(body, "tools");
  if (!tools.is_null() && !tools.is_array()) return BadRequest("'tools' must be an array");
  if (tools.is_array()) {
    for (const auto& t : tools) {
      auto tool = DecodeTool(t, payloads);
      if (!tool.ok()) return tool.error();
      req->tools.push_back(std::move(*tool));
    }
  }
  const Json& tc = Field(body, "tool_choice");
  if (tc.is_string()) {
    const std::string& s = tc.get_ref<const std::string&>();
    if (s == "auto") req->tool_choice.kind = ir::ToolChoiceKind::kAuto;
    else if (s == "none") req->tool_choice.kind = ir::ToolChoiceKind::kNone;
    else if (s == "required") req->tool_choice.kind = ir::ToolChoiceKind::kRequired;
    else return BadRequest("unknown tool_choice '" + s + "'");
  } else if (tc.is_object()) {
    std::string type = GetString(tc, "type");
    if (type != "function") req->untranslatable = "tool_choice '" + type + "' cannot be translated";
    req->tool_choice = {ir::ToolChoiceKind::kNamed, GetString(tc, "name")};
  }
  const Json& parallel = Field(body, "parallel_tool_calls");
  if (parallel.is_boolean()) req->parallel_tool_calls = parallel.get<bool>();
  return Status::Ok();
}

void DecodeTextFormat(const Json& body, Payloads payloads, ir::ResponseFormat* rf) {
  const Json& f = Field(Field(body, "text"), "format");
  std::string type = GetString(f, "type");
  if (type == "json_object") rf->kind = ir::ResponseFormatKind::kJsonObject;
  if (type == "json_schema") {
    rf->kind = ir::ResponseFormatKind::kJsonSchema;
    rf->name = GetString(f, "name");
    const Json& schema = Field(f, "schema");
    if (payloads == Payloads::kCopy) rf->schema = schema.is_null() ? Json::object() : schema;
    const Json& strict = Field(f, "strict");
    if (strict.is_boolean()) rf->strict = strict.get<bool>();
  }
}

// The stateful features a stateless gateway cannot honour.
std::string Stateful(const Json& body) {
  if (!Field(body, "previous_response_id").is_null()) {
    return "previous_response_id is not supported: the gateway is stateless; send the whole "
           "conversation in 'input'";
  }
  if (Field(body, "store") == Json(true)) {
    return "store: true is not supported: the gateway is stateless; set store to false";
  }
  if (!Field(body, "conversation").is_null()) {
    return "conversation is not supported: the gateway is stateless";
  }
  return "";
}

}  // namespace

Result<ir::Request> DecodeResponsesRequest(const Json& body, Payloads payloads) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  ir::Request req;
  if (Status s = ReadModelAndStream(body, &req); !s.ok()) return s.error();
  std::string instructions;
  if (Status s = ReadString(body, "instructions", &instructions); !s.ok()) return s.error();
  if (!instructions.empty()) {
    req.messages.push_back({ir::Role::kSystem, {ir::ContentPart::Text(std::move(instructions))},
                            {}, "", "", false});
  }
  const Json& input = Field(body, "input");
  if (input.is_string()) {
    req.messages.push_back({ir::Role::kUser, {ir::ContentPart::Text(input.get<std::string>())},
                            {}, "", "", false});
  } else if (input.is_array()) {
    InputDecoder dec(&req);
    for (const auto& item : input) {
      if (Status s = dec.Item(item); !s.ok()) return s.error();
    }
  } else {
    return BadRequest("'input' must be a string or an array");
  }
  if (Status s = DecodeTools(body, payloads, &req); !s.ok()) return s.error();
  DecodeTextFormat(body, payloads, &req.response_format);
  Status err;
  ReadOpt(body, "temperature", &req.temperature, &err);
  ReadOpt(body, "top_p", &req.top_p, &err);
  ReadOpt(body, "max_output_tokens", &req.max_output_tokens, &err);
  if (!err.ok()) return err.error();
  if (std::string stateful = Stateful(body); !stateful.empty()) req.untranslatable = stateful;
  req.include_usage = true;  // the terminal response always carries usage
  req.native_protocol = kOpenAiResponses;
  if (payloads == Payloads::kSkip) return req;
  CollectNative(body,
                {"model", "instructions", "input", "tools", "tool_choice", "parallel_tool_calls",
                 "text", "temperature", "top_p", "max_output_tokens", "stream", "store",
                 "previous_response_id", "conversation"},
                &req.native);
  return req;
}

}  // namespace helm::protocol
