// The redaction walkers of OpenAI Chat Completions and Responses bodies
// (body_walk.h). Mirrors core/protocol/openai_chat_decode.cpp and
// responses_decode.cpp.
#include "core/policy/body_walk.h"

namespace helm::body_walk {
namespace {

// A content part: the image type (Chat `image_url`, Responses `input_image`),
// `refusal`, or any other type, which shows its `text`.
void Part(Json& p, std::string_view image_type, BodyVisitor& v) {
  const std::string* type = FindString(p, "type");
  if (type == nullptr) return;
  if (*type == image_type) {
    v.Image();
  } else {
    TextAt(p, *type == "refusal" ? "refusal" : "text", v);
  }
}

// Function calls (function.arguments), custom calls (custom.input) and the
// legacy function_call.arguments.
void ChatCalls(Json& msg, BodyVisitor& v) {
  if (Json* calls = Find(msg, "tool_calls"); calls != nullptr && calls->is_array()) {
    for (Json& call : *calls) {
      if (Json* fn = Find(call, "function"); fn != nullptr && fn->is_object()) {
        TextAt(*fn, "arguments", v);
      } else if (Json* custom = Find(call, "custom"); custom != nullptr) {
        TextAt(*custom, "input", v);
      }
    }
  }
  if (Json* legacy = Find(msg, "function_call")) TextAt(*legacy, "arguments", v);
}

// tools[]: function.name, else custom.name, else name; legacy functions[].name.
void ChatTools(Json& body, BodyVisitor& v) {
  if (Json* tools = Find(body, "tools"); tools != nullptr && tools->is_array()) {
    for (Json& t : *tools) {
      Json* fn = Find(t, "function");
      Json* custom = Find(t, "custom");
      const std::string* name = nullptr;
      if (fn != nullptr && fn->is_object() && fn->contains("name")) {
        name = FindString(*fn, "name");
      } else if (custom != nullptr && custom->is_object() && custom->contains("name")) {
        name = FindString(*custom, "name");
      } else {
        name = FindString(t, "name");
      }
      if (name != nullptr) v.Tool(*name);
    }
  }
  if (Json* fns = Find(body, "functions"); fns != nullptr && fns->is_array()) {
    for (Json& f : *fns) {
      if (const std::string* name = FindString(f, "name")) v.Tool(*name);
    }
  }
}

// Responses part: input_text, output_text, text, refusal, input_image; any
// other type shows its `text`.
void ResponsesParts(Json& content, BodyVisitor& v) {
  if (content.is_string()) v.Text(content);
  if (!content.is_array()) return;
  for (Json& p : content) Part(p, "input_image", v);
}

void ResponsesItem(Json& item, BodyVisitor& v) {
  const std::string* type_ptr = FindString(item, "type");
  const std::string type = type_ptr != nullptr ? *type_ptr : "message";
  if (type == "message") {
    if (Json* content = Find(item, "content")) ResponsesParts(*content, v);
  } else if (type == "function_call") {
    TextAt(item, "arguments", v);
  } else if (type == "custom_tool_call") {
    TextAt(item, "input", v);
  } else if (type == "function_call_output" || type == "custom_tool_call_output") {
    if (Json* output = Find(item, "output")) ResponsesParts(*output, v);
  } else if (type != "reasoning") {
    TextAt(item, "text", v);  // item_reference and unknown items: their text
  }
}

}  // namespace

void OpenAiChat(Json& body, BodyVisitor& v) {
  if (Json* messages = Find(body, "messages"); messages != nullptr && messages->is_array()) {
    for (Json& m : *messages) {
      Json* content = Find(m, "content");
      if (content != nullptr && content->is_string()) v.Text(*content);
      if (content != nullptr && content->is_array()) {
        for (Json& p : *content) Part(p, "image_url", v);
      }
      ChatCalls(m, v);
    }
  }
  ChatTools(body, v);
}

void OpenAiResponses(Json& body, BodyVisitor& v) {
  TextAt(body, "instructions", v);
  if (Json* input = Find(body, "input")) {
    if (input->is_string()) v.Text(*input);
    if (input->is_array()) {
      for (Json& item : *input) ResponsesItem(item, v);
    }
  }
  if (Json* tools = Find(body, "tools"); tools != nullptr && tools->is_array()) {
    for (Json& t : *tools) {
      const std::string* name = FindString(t, "name");
      if (name == nullptr || name->empty()) name = FindString(t, "type");
      if (name != nullptr) v.Tool(*name);
    }
  }
}

}  // namespace helm::body_walk
