// OpenAI Responses client requests → IR. Responses is a client protocol only
// (no provider kind speaks it here), so there is no response decoder.
//
// Refused with kInvalidArgument, because a stateless gateway cannot honour
// them: `previous_response_id` (the conversation lives at OpenAI), `store:
// true`, `item_reference` items, non-function tools (web_search,
// file_search, …), and input files by id. `reasoning` items are dropped
// (their encrypted content only means something to OpenAI).
#include <map>

#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

Result<ir::ContentPart> DecodePart(const Json& p) {
  std::string type = GetString(p, "type");
  if (type == "input_text" || type == "output_text" || type == "text") {
    return ir::ContentPart::Text(GetString(p, "text"));
  }
  if (type == "refusal") return ir::ContentPart::Text(GetString(p, "refusal"));
  if (type == "input_image") {
    std::string url = GetString(p, "image_url");
    if (url.empty()) return BadRequest("input_image without image_url cannot be translated");
    ir::ContentPart img;
    img.kind = ir::PartKind::kImage;
    if (!ParseDataUrl(url, &img.mime_type, &img.data)) img.image_url = url;
    img.detail = GetString(p, "detail");
    return img;
  }
  return BadRequest("content part type '" + type + "' cannot be translated");
}

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
    std::string type = GetString(item, "type");
    if (type.empty() || type == "message") return Message(item);
    if (type == "function_call") {
      ir::ToolCall c{GetString(item, "call_id"), GetString(item, "name"),
                     GetString(item, "arguments")};
      names_[c.id] = c.name;
      if (req_->messages.empty() || req_->messages.back().role != ir::Role::kAssistant) {
        req_->messages.push_back({ir::Role::kAssistant, {}, {}, "", "", false});
      }
      req_->messages.back().tool_calls.push_back(std::move(c));
      return Status::Ok();
    }
    if (type == "function_call_output") {
      ir::Message m;
      m.role = ir::Role::kTool;
      m.tool_call_id = GetString(item, "call_id");
      m.name = names_[m.tool_call_id];
      auto parts = DecodeContent(item.value("output", Json("")));
      if (!parts.ok()) return parts.error();
      m.content = std::move(*parts);
      req_->messages.push_back(std::move(m));
      return Status::Ok();
    }
    if (type == "reasoning") return Status::Ok();
    return BadRequest("input item type '" + type + "' cannot be translated");
  }

 private:
  Status Message(const Json& item) {
    auto role = DecodeRole(GetString(item, "role"));
    if (!role.ok()) return role.error();
    auto parts = DecodeContent(item.value("content", Json()));
    if (!parts.ok()) return parts.error();
    req_->messages.push_back({*role, std::move(*parts), {}, "", "", false});
    return Status::Ok();
  }

  ir::Request* req_;
  std::map<std::string, std::string> names_;
};

Status DecodeTools(const Json& body, ir::Request* req) {
  if (IsArray(body, "tools")) {
    for (const auto& t : body["tools"]) {
      std::string type = GetString(t, "type");
      if (type != "function") return BadRequest("tool type '" + type + "' cannot be translated");
      ir::Tool tool{GetString(t, "name"), GetString(t, "description"),
                    t.value("parameters", Json::object()), std::nullopt};
      if (t.contains("strict") && t["strict"].is_boolean()) tool.strict = t["strict"].get<bool>();
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
    if (GetString(tc, "type") != "function") return BadRequest("tool_choice cannot be translated");
    req->tool_choice = {ir::ToolChoiceKind::kNamed, GetString(tc, "name")};
  }
  if (body.contains("parallel_tool_calls") && body["parallel_tool_calls"].is_boolean()) {
    req->parallel_tool_calls = body["parallel_tool_calls"].get<bool>();
  }
  return Status::Ok();
}

void DecodeTextFormat(const Json& body, ir::ResponseFormat* rf) {
  if (!IsObject(body, "text") || !IsObject(body["text"], "format")) return;
  const Json& f = body["text"]["format"];
  std::string type = GetString(f, "type");
  if (type == "json_object") rf->kind = ir::ResponseFormatKind::kJsonObject;
  if (type == "json_schema") {
    rf->kind = ir::ResponseFormatKind::kJsonSchema;
    rf->name = GetString(f, "name");
    rf->schema = f.value("schema", Json::object());
    if (f.contains("strict") && f["strict"].is_boolean()) rf->strict = f["strict"].get<bool>();
  }
}

Status RefuseStateful(const Json& body) {
  if (body.contains("previous_response_id") && !body["previous_response_id"].is_null()) {
    return BadRequest("previous_response_id is not supported: the gateway is stateless; send the "
                      "whole conversation in 'input'");
  }
  if (body.value("store", Json(false)) == Json(true)) {
    return BadRequest("store: true is not supported: the gateway is stateless; set store to false");
  }
  if (body.contains("conversation") && !body["conversation"].is_null()) {
    return BadRequest("conversation is not supported: the gateway is stateless");
  }
  return Status::Ok();
}

}  // namespace

Result<ir::Request> DecodeResponsesRequest(const Json& body) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  if (Status s = RefuseStateful(body); !s.ok()) return s.error();
  ir::Request req;
  req.model = GetString(body, "model");
  std::string instructions = GetString(body, "instructions");
  if (!instructions.empty()) {
    req.messages.push_back({ir::Role::kSystem, {ir::ContentPart::Text(instructions)}, {}, "", "", false});
  }
  const Json input = body.value("input", Json());
  if (input.is_string()) {
    req.messages.push_back({ir::Role::kUser, {ir::ContentPart::Text(input.get<std::string>())}, {}, "", "", false});
  } else if (input.is_array()) {
    InputDecoder dec(&req);
    for (const auto& item : input) {
      if (Status s = dec.Item(item); !s.ok()) return s.error();
    }
  } else {
    return BadRequest("'input' must be a string or an array");
  }
  if (Status s = DecodeTools(body, &req); !s.ok()) return s.error();
  DecodeTextFormat(body, &req.response_format);
  Status err;
  ReadOpt(body, "temperature", &req.temperature, &err);
  ReadOpt(body, "top_p", &req.top_p, &err);
  ReadOpt(body, "max_output_tokens", &req.max_output_tokens, &err);
  if (!err.ok()) return err.error();
  req.stream = body.value("stream", Json(false)) == Json(true);
  req.include_usage = true;  // the terminal response always carries usage
  req.native_protocol = kOpenAiResponses;
  CollectNative(body,
                {"model", "instructions", "input", "tools", "tool_choice", "parallel_tool_calls",
                 "text", "temperature", "top_p", "max_output_tokens", "stream", "store",
                 "previous_response_id", "conversation"},
                &req.native);
  return req;
}

}  // namespace helm::protocol
