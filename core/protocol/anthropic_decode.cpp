// Anthropic Messages → IR: client requests, and provider responses.
//
// Requests are decoded whole (codec.h): document and unknown blocks become
// kOpaque parts (a text document's text kept), images from the Files API
// kImage parts without data, server tools typed tools.
#include <map>

#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

ir::ContentPart DecodeImage(const Json& block) {
  const Json& src = Field(block, "source");
  ir::ContentPart img;
  img.kind = ir::PartKind::kImage;
  std::string type = GetString(src, "type");
  if (type == "base64") {
    img.mime_type = GetString(src, "media_type");
    img.data = GetString(src, "data");
  } else if (type == "url") {
    img.image_url = GetString(src, "url");
  }  // else a file id: neither, and the request is untranslatable
  return img;
}

// A document block: opaque, with its text when the source is plain text.
Result<ir::ContentPart> DecodeDocument(const Json& block) {
  ir::ContentPart doc = OpaquePart("document", Json());
  const Json& src = Field(block, "source");
  if (GetString(src, "type") == "text") {
    if (Status s = ReadString(src, "data", &doc.text); !s.ok()) return s.error();
  }
  return doc;
}

// A content block other than tool_use and tool_result: text, image, thinking,
// redacted_thinking, document; anything else opaque.
Result<ir::ContentPart> DecodeBlock(const Json& b, const std::string& type) {
  if (type == "text") {
    const Json& text = Field(b, "text");
    if (!text.is_string()) return BadRequest("text block without a string 'text'");
    return ir::ContentPart::Text(text.get<std::string>());
  }
  if (type == "image") return DecodeImage(b);
  if (type == "document") return DecodeDocument(b);
  if (type != "thinking" && type != "redacted_thinking") return OpaquePart(type, b);
  ir::ContentPart t;
  t.kind = type == "thinking" ? ir::PartKind::kThinking : ir::PartKind::kRedactedThinking;
  if (Status s = ReadString(b, "thinking", &t.text); !s.ok()) return s.error();
  t.signature = GetString(b, "signature");
  t.data = GetString(b, "data");
  return t;
}

Result<std::string> BlockType(const Json& b) {
  if (!b.is_object()) return BadRequest("each content block must be an object");
  const Json& type = Field(b, "type");
  if (!type.is_string()) return BadRequest("content block without a 'type'");
  return type.get<std::string>();
}

// Tool-result content: absent, a string or an array of blocks.
Result<std::vector<ir::ContentPart>> DecodeToolResultContent(const Json& content) {
  std::vector<ir::ContentPart> parts;
  if (content.is_null()) return parts;
  if (content.is_string()) {
    parts.push_back(ir::ContentPart::Text(content.get<std::string>()));
    return parts;
  }
  if (!content.is_array()) return BadRequest("tool_result content must be a string or an array");
  for (const auto& b : content) {
    auto type = BlockType(b);
    if (!type.ok()) return type.error();
    if (*type == "tool_use" || *type == "tool_result") {
      return BadRequest("a tool_result cannot hold a " + *type + " block");
    }
    auto part = DecodeBlock(b, *type);
    if (!part.ok()) return part.error();
    parts.push_back(std::move(*part));
  }
  return parts;
}

class MessageDecoder {
 public:
  explicit MessageDecoder(ir::Request* req) : req_(req) {}

  // Appends the IR messages for one Anthropic message: a user message splits
  // into one tool message per tool_result block plus the rest.
  Status Message(const Json& m) {
    if (!m.is_object()) return BadRequest("each message must be an object");
    std::string role = GetString(m, "role");
    ir::Message msg;
    if (role == "user") msg.role = ir::Role::kUser;
    else if (role == "assistant") msg.role = ir::Role::kAssistant;
    else if (role == "system") msg.role = ir::Role::kSystem;
    else return BadRequest("unknown message role '" + role + "'");
    const Json& content = Field(m, "content");
    if (content.is_string()) {
      msg.content.push_back(ir::ContentPart::Text(content.get<std::string>()));
      req_->messages.push_back(std::move(msg));
      return Status::Ok();
    }
    if (!content.is_array()) return BadRequest("message content must be a string or an array");
    std::vector<ir::Message> tool_results;
    for (const auto& b : content) {
      if (Status s = Block(b, &msg, &tool_results); !s.ok()) return s;
    }
    for (auto& r : tool_results) req_->messages.push_back(std::move(r));
    if (!msg.content.empty() || !msg.tool_calls.empty() || tool_results.empty()) {
      req_->messages.push_back(std::move(msg));
    }
    return Status::Ok();
  }

 private:
  Status Block(const Json& b, ir::Message* msg, std::vector<ir::Message>* tool_results) {
    auto type = BlockType(b);
    if (!type.ok()) return type.error();
    if (*type == "tool_use") {
      if (msg->role != ir::Role::kAssistant) {
        return BadRequest("tool_use outside an assistant message");
      }
      const Json& input = Field(b, "input");
      if (!input.is_object()) return BadRequest("tool_use block without an 'input' object");
      ir::ToolCall c{GetString(b, "id"), GetString(b, "name"), DumpJson(input)};
      names_[c.id] = c.name;
      msg->tool_calls.push_back(std::move(c));
      return Status::Ok();
    }
    if (*type == "tool_result") {
      if (msg->role != ir::Role::kUser) return BadRequest("tool_result outside a user message");
      ir::Message r;
      r.role = ir::Role::kTool;
      r.tool_call_id = GetString(b, "tool_use_id");
      r.name = names_[r.tool_call_id];
      r.is_error = Field(b, "is_error") == Json(true);
      auto parts = DecodeToolResultContent(Field(b, "content"));
      if (!parts.ok()) return parts.error();
      r.content = std::move(*parts);
      tool_results->push_back(std::move(r));
      return Status::Ok();
    }
    auto part = DecodeBlock(b, *type);
    if (!part.ok()) return part.error();
    msg->content.push_back(std::move(*part));
    return Status::Ok();
  }

  ir::Request* req_;
  std::map<std::string, std::string> names_;
};

// `system`: a string or an array of text blocks, one IR text part each.
Status DecodeSystem(const Json& system, ir::Request* req) {
  if (system.is_null()) return Status::Ok();
  ir::Message s;
  s.role = ir::Role::kSystem;
  if (system.is_string()) {
    s.content.push_back(ir::ContentPart::Text(system.get<std::string>()));
  } else if (system.is_array()) {
    for (const auto& b : system) {
      auto type = BlockType(b);
      if (!type.ok()) return type.error();
      const Json& text = Field(b, "text");
      if (*type != "text" || !text.is_string()) return BadRequest("'system' blocks must be text");
      s.content.push_back(ir::ContentPart::Text(text.get<std::string>()));
    }
    if (s.content.empty()) return Status::Ok();
  } else {
    return BadRequest("'system' must be a string or an array of text blocks");
  }
  req->messages.push_back(std::move(s));
  return Status::Ok();
}

Status DecodeTools(const Json& body, Payloads payloads, ir::Request* req) {
  const Json& tools = Field(body, "tools");
  if (!tools.is_null() && !tools.is_array()) return BadRequest("'tools' must be an array");
  if (tools.is_array()) {
    for (const auto& t : tools) {
      if (!t.is_object()) return BadRequest("each tool must be an object");
      ir::Tool tool;
      if (Status s = ReadString(t, "name", &tool.name); !s.ok()) return s;
      if (tool.name.empty()) return BadRequest("each tool needs a name");
      std::string type = GetString(t, "type");
      if (!type.empty() && type != "custom") tool.type = type;  // a server tool
      tool.description = GetString(t, "description");
      const Json& schema = Field(t, "input_schema");
      if (schema.is_object()) CopyPayload(schema, &tool.parameters, payloads);
      req->tools.push_back(std::move(tool));
    }
  }
  const Json& tc = Field(body, "tool_choice");
  if (tc.is_object()) {
    std::string type = GetString(tc, "type");
    if (type == "auto") req->tool_choice.kind = ir::ToolChoiceKind::kAuto;
    else if (type == "any") req->tool_choice.kind = ir::ToolChoiceKind::kRequired;
    else if (type == "none") req->tool_choice.kind = ir::ToolChoiceKind::kNone;
    else if (type == "tool") req->tool_choice = {ir::ToolChoiceKind::kNamed, GetString(tc, "name")};
    if (Field(tc, "disable_parallel_tool_use") == Json(true)) req->parallel_tool_calls = false;
  }
  return Status::Ok();
}

}  // namespace

Result<ir::Request> DecodeAnthropicRequest(const Json& body, Payloads payloads) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  const Json& messages = Field(body, "messages");
  if (!messages.is_array()) return BadRequest("'messages' must be an array");
  ir::Request req;
  if (Status s = ReadModelAndStream(body, &req); !s.ok()) return s.error();
  if (Status s = DecodeSystem(Field(body, "system"), &req); !s.ok()) return s.error();
  MessageDecoder dec(&req);
  for (const auto& m : messages) {
    if (Status s = dec.Message(m); !s.ok()) return s.error();
  }
  if (Status s = DecodeTools(body, payloads, &req); !s.ok()) return s.error();
  Status err;
  ReadOpt(body, "max_tokens", &req.max_output_tokens, &err);
  ReadOpt(body, "temperature", &req.temperature, &err);
  ReadOpt(body, "top_p", &req.top_p, &err);
  ReadOpt(body, "top_k", &req.top_k, &err);
  if (!err.ok()) return err.error();
  const Json& stop = Field(body, "stop_sequences");
  if (stop.is_array()) {
    for (const auto& s : stop) {
      if (s.is_string()) req.stop.push_back(s.get<std::string>());
    }
  }
  req.include_usage = true;  // Anthropic streams always carry usage
  req.native_protocol = kAnthropicMessages;
  if (payloads == Payloads::kSkip) return req;
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
