// The redaction walker of Anthropic Messages bodies (body_walk.h). Mirrors
// core/protocol/anthropic_decode.cpp.
#include "core/policy/body_walk.h"

namespace helm::body_walk {
namespace {

void Blocks(Json& blocks, BodyVisitor& v);

// One content block. Thinking is visited only when unsigned (a signed block
// cannot be rewritten); tool_use input as its dump.
void Block(Json& b, BodyVisitor& v) {
  const std::string* type = FindString(b, "type");
  if (type == nullptr) return;
  if (*type == "image") {
    v.Image();
  } else if (*type == "document") {
    Json* source = Find(b, "source");
    const std::string* source_type = source != nullptr ? FindString(*source, "type") : nullptr;
    if (source_type != nullptr && *source_type == "text") TextAt(*source, "data", v);
  } else if (*type == "thinking") {
    const std::string* signature = FindString(b, "signature");
    if (signature == nullptr || signature->empty()) TextAt(b, "thinking", v);
  } else if (*type == "tool_use") {
    if (Json* input = Find(b, "input")) v.Stringified(*input);
  } else if (*type == "tool_result") {
    if (Json* content = Find(b, "content")) {
      if (content->is_string()) v.Text(*content);
      if (content->is_array()) Blocks(*content, v);
    }
  } else if (*type != "redacted_thinking") {
    TextAt(b, "text", v);  // text, and the text of unknown blocks
  }
}

void Blocks(Json& blocks, BodyVisitor& v) {
  for (Json& b : blocks) Block(b, v);
}

}  // namespace

void AnthropicMessages(Json& body, BodyVisitor& v) {
  if (Json* system = Find(body, "system")) {
    if (system->is_string()) v.Text(*system);
    if (system->is_array()) {
      for (Json& b : *system) TextAt(b, "text", v);
    }
  }
  if (Json* messages = Find(body, "messages"); messages != nullptr && messages->is_array()) {
    for (Json& m : *messages) {
      Json* content = Find(m, "content");
      if (content != nullptr && content->is_string()) v.Text(*content);
      if (content != nullptr && content->is_array()) Blocks(*content, v);
    }
  }
  if (Json* tools = Find(body, "tools"); tools != nullptr && tools->is_array()) {
    for (Json& t : *tools) {
      if (const std::string* name = FindString(t, "name")) v.Tool(*name);
    }
  }
}

}  // namespace helm::body_walk
