// Internal to core/policy: walkers for the OpenAI request shapes (Chat
// Completions, Responses, Embeddings, Completions). See facts_walk.h for the
// visitor contract. Every message's text is visited whatever its role: the
// client controls all of them, so a role must not be a way around the policy.
#pragma once

#include <string>

#include "core/policy/facts_walk.h"

namespace helm::facts_internal {

// Chat content parts: text, refusal, image_url, input_audio, file.
template <typename J, typename V>
Status ChatParts(J& parts, const std::string& where, V& v) {
  size_t i = 0;
  for (auto& part : parts) {
    std::string at = At(where, i++);
    auto type = PartType(part, at);
    if (!type.ok()) return type.error();
    Status s;
    if (*type == "text") {
      if (StringAt(part, "text") == nullptr) return Bad(at + ".text", "expected a string");
      v.Text(*part.find("text"));
    } else if (*type == "refusal") {
      s = TextMember(part, "refusal", at, v);
    } else if (*type == "image_url") {
      v.Image();
    } else if (*type != "input_audio" && *type != "file") {
      UnknownPart(part, v);
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// A tool call's `arguments` string (tool_calls[].function, function_call).
template <typename J, typename V>
Status ChatCallArguments(J& msg, const std::string& where, V& v) {
  auto legacy = msg.find("function_call");
  if (legacy != msg.end() && legacy->is_object()) {
    Status s = TextMember(*legacy, "arguments", where + ".function_call", v);
    if (!s.ok()) return s;
  }
  auto calls = msg.find("tool_calls");
  if (calls == msg.end() || calls->is_null()) return Status::Ok();
  if (!calls->is_array()) return Bad(where + ".tool_calls", "expected an array");
  size_t i = 0;
  for (auto& call : *calls) {
    std::string at = At(where + ".tool_calls", i++);
    if (!call.is_object()) return Bad(at, "expected an object");
    auto fn = call.find("function");
    if (fn == call.end() || !fn->is_object()) continue;
    Status s = TextMember(*fn, "arguments", at + ".function", v);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

template <typename J, typename V>
Status WalkOpenAiChat(J& body, V& v) {
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array()) {
    return Bad("messages", "expected an array");
  }
  size_t i = 0;
  for (auto& msg : *messages) {
    std::string at = At("messages", i++);
    if (!msg.is_object()) return Bad(at, "expected an object");
    auto role = StringMember(msg, "role", at);
    if (!role.ok()) return role.error();
    if (*role == nullptr) return Bad(at + ".role", "expected a string");
    auto content = msg.find("content");
    if (content != msg.end() && content->is_string()) {
      v.Text(*content);
    } else if (content != msg.end() && content->is_array()) {
      Status s = ChatParts(*content, at + ".content", v);
      if (!s.ok()) return s;
    } else if (content != msg.end() && !content->is_null()) {
      return Bad(at + ".content", "expected a string, an array of parts or null");
    }
    Status s = ChatCallArguments(msg, at, v);
    if (!s.ok()) return s;
  }
  Status s = ToolNames(body, "tools", v, [](J& tool) -> const std::string* {
    if (auto* name = StringAt(tool, "function", "name")) return name;
    if (auto* name = StringAt(tool, "custom", "name")) return name;
    return StringAt(tool, "name");
  });
  if (!s.ok()) return s;
  return ToolNames(body, "functions", v, [](J& fn) { return StringAt(fn, "name"); });
}

// Responses message content parts and function_call_output arrays.
template <typename J, typename V>
Status ResponsesParts(J& node, const std::string& where, V& v) {
  if (node.is_string()) {
    v.Text(node);
    return Status::Ok();
  }
  if (!node.is_array()) return Bad(where, "expected a string or an array of parts");
  size_t i = 0;
  for (auto& part : node) {
    std::string at = At(where, i++);
    auto type = PartType(part, at);
    if (!type.ok()) return type.error();
    Status s;
    if (*type == "input_text" || *type == "output_text") {
      if (StringAt(part, "text") == nullptr) return Bad(at + ".text", "expected a string");
      v.Text(*part.find("text"));
    } else if (*type == "refusal") {
      s = TextMember(part, "refusal", at, v);
    } else if (*type == "input_image") {
      v.Image();
    } else if (*type != "input_file" && *type != "input_audio") {
      UnknownPart(part, v);
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

template <typename J, typename V>
Status ResponsesItem(J& item, const std::string& at, V& v) {
  if (!item.is_object()) return Bad(at, "expected an object");
  auto type = StringMember(item, "type", at);
  if (!type.ok()) return type.error();
  // A message item may omit its type.
  std::string kind = *type != nullptr ? **type : "message";
  if (kind == "message") {
    auto content = item.find("content");
    if (content == item.end()) return Bad(at + ".content", "missing");
    return ResponsesParts(*content, at + ".content", v);
  }
  if (kind == "function_call" || kind == "custom_tool_call") {
    Status s = TextMember(item, "arguments", at, v);
    if (!s.ok()) return s;
    return TextMember(item, "input", at, v);
  }
  if (kind == "function_call_output" || kind == "custom_tool_call_output") {
    auto output = item.find("output");
    if (output == item.end() || output->is_null()) return Status::Ok();
    return ResponsesParts(*output, at + ".output", v);
  }
  if (kind != "reasoning" && kind != "item_reference") UnknownPart(item, v);
  return Status::Ok();
}

template <typename J, typename V>
Status WalkOpenAiResponses(J& body, V& v) {
  Status s = TextMember(body, "instructions", "body", v);
  if (!s.ok()) return Bad("instructions", "expected a string");
  auto input = body.find("input");
  if (input == body.end() || input->is_null()) return Bad("input", "missing");
  if (input->is_string()) {
    v.Text(*input);
  } else if (input->is_array()) {
    size_t i = 0;
    for (auto& item : *input) {
      s = ResponsesItem(item, At("input", i++), v);
      if (!s.ok()) return s;
    }
  } else {
    return Bad("input", "expected a string or an array of items");
  }
  // Function and custom tools by name; built-in tools (web_search, ...) by type.
  return ToolNames(body, "tools", v, [](J& tool) -> const std::string* {
    if (auto* name = StringAt(tool, "name")) return name;
    return StringAt(tool, "type");
  });
}

template <typename J, typename V>
Status WalkOpenAiEmbeddings(J& body, V& v) {
  auto input = body.find("input");
  if (input == body.end()) return Bad("input", "missing");
  return StringOrStrings(*input, "input", v);
}

template <typename J, typename V>
Status WalkOpenAiCompletions(J& body, V& v) {
  auto prompt = body.find("prompt");
  if (prompt == body.end()) return Bad("prompt", "missing");
  return StringOrStrings(*prompt, "prompt", v);
}

}  // namespace helm::facts_internal
