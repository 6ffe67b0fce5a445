// Strict reads of client requests, shared by the request decoders (codec.h).
#include "core/protocol/codec.h"

namespace helm::protocol {

const Json& Field(const Json& obj, std::string_view key) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

Result<const Json*> EitherField(const Json& obj, const char* camel, const char* snake) {
  const Json& a = Field(obj, camel);
  static const Json kNull;
  const Json& b = snake == nullptr ? kNull : Field(obj, snake);
  if (!a.is_null() && !b.is_null()) {
    return BadRequest(std::string("both '") + camel + "' and '" + snake + "' are set");
  }
  if (!a.is_null()) return &a;
  if (!b.is_null()) return &b;
  return static_cast<const Json*>(nullptr);
}

Status ReadString(const Json& obj, std::string_view key, std::string* out) {
  const Json& v = Field(obj, key);
  if (v.is_null()) return Status::Ok();
  if (!v.is_string()) return BadRequest("'" + std::string(key) + "' must be a string");
  *out = v.get_ref<const std::string&>();
  return Status::Ok();
}

Status ReadModelAndStream(const Json& body, ir::Request* req) {
  if (Status s = ReadString(body, "model", &req->model); !s.ok()) return s;
  const Json& stream = Field(body, "stream");
  if (stream.is_null()) return Status::Ok();
  if (!stream.is_boolean()) return BadRequest("'stream' must be a boolean");
  req->stream = stream.get<bool>();
  return Status::Ok();
}

void CopyPayload(const Json& from, Json* to, Payloads payloads) {
  if (payloads == Payloads::kCopy) *to = from;
}

ir::ContentPart OpaquePart(std::string type, const Json& part) {
  ir::ContentPart p;
  p.kind = ir::PartKind::kOpaque;
  p.data = std::move(type);
  const Json& text = Field(part, "text");
  if (text.is_string()) p.text = text.get_ref<const std::string&>();
  return p;
}

std::string StructuralUntranslatable(const ir::Request& req) {
  for (const auto& t : req.tools) {
    if (!t.type.empty()) return "tool type '" + t.type + "' cannot be translated";
  }
  for (const auto& m : req.messages) {
    for (const auto& p : m.content) {
      if (p.kind == ir::PartKind::kOpaque) {
        std::string what = p.mime_type.empty() ? p.data : p.data + " (" + p.mime_type + ")";
        return "content part type '" + what + "' cannot be translated";
      }
      if (p.kind == ir::PartKind::kImage && p.image_url.empty() && p.data.empty()) {
        return "an image given by file id cannot be translated";
      }
    }
  }
  return "";
}

}  // namespace helm::protocol
