// Internal to core/policy: walkers for Anthropic Messages and Gemini
// generateContent request shapes. See facts_walk.h for the visitor contract.
// Structured tool payloads (Anthropic tool_use.input, Gemini functionCall.args
// and functionResponse.response) are visited as their compact JSON dump.
#pragma once

#include <string>
#include <tuple>
#include <utility>

#include "core/policy/facts_walk.h"

namespace helm::facts_internal {

template <typename J, typename V>
Status AnthropicBlocks(J& blocks, const std::string& where, V& v);

// tool_result content: a string or an array of blocks.
template <typename J, typename V>
Status AnthropicToolResult(J& block, const std::string& at, V& v) {
  auto content = block.find("content");
  if (content == block.end() || content->is_null()) return Status::Ok();
  if (content->is_string()) {
    v.Text(*content);
    return Status::Ok();
  }
  if (!content->is_array()) return Bad(at + ".content", "expected a string or an array");
  return AnthropicBlocks(*content, at + ".content", v);
}

template <typename J, typename V>
Status AnthropicBlocks(J& blocks, const std::string& where, V& v) {
  size_t i = 0;
  for (auto& block : blocks) {
    std::string at = At(where, i++);
    auto type = PartType(block, at);
    if (!type.ok()) return type.error();
    Status s;
    if (*type == "text") {
      if (StringAt(block, "text") == nullptr) return Bad(at + ".text", "expected a string");
      v.Text(*block.find("text"));
    } else if (*type == "image") {
      v.Image();
    } else if (*type == "tool_result") {
      s = AnthropicToolResult(block, at, v);
    } else if (*type == "tool_use") {
      auto input = block.find("input");
      if (input != block.end() && !input->is_null()) v.Stringified(*input);
    } else if (*type == "document") {
      auto source = block.find("source");
      if (source != block.end() && source->is_object() && StringAt(*source, "type") &&
          *StringAt(*source, "type") == "text") {
        s = TextMember(*source, "data", at + ".source", v);
      }
    } else if (*type != "thinking" && *type != "redacted_thinking") {
      UnknownPart(block, v);
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

template <typename J, typename V>
Status WalkAnthropicMessages(J& body, V& v) {
  auto system = body.find("system");
  if (system != body.end() && system->is_string()) {
    v.Text(*system);
  } else if (system != body.end() && system->is_array()) {
    Status s = AnthropicBlocks(*system, "system", v);
    if (!s.ok()) return s;
  } else if (system != body.end() && !system->is_null()) {
    return Bad("system", "expected a string or an array of text blocks");
  }
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array()) {
    return Bad("messages", "expected an array");
  }
  size_t i = 0;
  for (auto& msg : *messages) {
    std::string at = At("messages", i++);
    if (!msg.is_object()) return Bad(at, "expected an object");
    auto content = msg.find("content");
    if (content != msg.end() && content->is_string()) {
      v.Text(*content);
    } else if (content != msg.end() && content->is_array()) {
      Status s = AnthropicBlocks(*content, at + ".content", v);
      if (!s.ok()) return s;
    } else {
      return Bad(at + ".content", "expected a string or an array of content blocks");
    }
  }
  return ToolNames(body, "tools", v, [](J& tool) { return StringAt(tool, "name"); });
}

// inlineData / fileData: an image when the MIME type says so or is missing.
template <typename J, typename V>
void GeminiMedia(J& media, V& v) {
  const std::string* mime = StringAt(media, "mimeType");
  if (mime == nullptr) mime = StringAt(media, "mime_type");
  if (mime == nullptr || mime->rfind("image/", 0) == 0) v.Image();
}

template <typename J, typename V>
Status GeminiParts(J& content, const std::string& where, V& v) {
  if (!content.is_object()) return Bad(where, "expected an object with parts");
  auto parts = content.find("parts");
  if (parts == content.end() || !parts->is_array()) {
    return Bad(where + ".parts", "expected an array");
  }
  size_t i = 0;
  for (auto& part : *parts) {
    std::string at = At(where + ".parts", i++);
    if (!part.is_object()) return Bad(at, "expected an object");
    Status s = TextMember(part, "text", at, v);
    if (!s.ok()) return s;
    for (auto [camel, snake] : {std::pair{"inlineData", "inline_data"},
                                std::pair{"fileData", "file_data"}}) {
      auto media = Member(part, camel, snake);
      if (!media.ok()) return Bad(at, media.error().message);
      if (*media != nullptr && (*media)->is_object()) GeminiMedia(**media, v);
    }
    for (auto [camel, snake, key] :
         {std::tuple{"functionResponse", "function_response", "response"},
          std::tuple{"functionCall", "function_call", "args"}}) {
      auto fn = Member(part, camel, snake);
      if (!fn.ok()) return Bad(at, fn.error().message);
      if (*fn == nullptr || !(*fn)->is_object()) continue;
      auto payload = (*fn)->find(key);
      if (payload != (*fn)->end() && !payload->is_null()) v.Stringified(*payload);
    }
  }
  return Status::Ok();
}

template <typename J, typename V>
Status GeminiTools(J& body, V& v) {
  auto tools = body.find("tools");
  if (tools == body.end() || tools->is_null()) return Status::Ok();
  if (!tools->is_array()) return Bad("tools", "expected an array");
  size_t i = 0;
  for (auto& tool : *tools) {
    std::string at = At("tools", i++);
    if (!tool.is_object()) return Bad(at, "expected an object");
    for (auto it = tool.begin(); it != tool.end(); ++it) {
      if (it.key() != "functionDeclarations" && it.key() != "function_declarations") {
        v.Tool(it.key());  // a built-in tool: googleSearch, codeExecution, ...
        continue;
      }
      Status s = ToolNames(tool, it.key().c_str(), v,
                           [](J& decl) { return StringAt(decl, "name"); });
      if (!s.ok()) return Bad(at, s.error().message);
    }
  }
  return Status::Ok();
}

template <typename J, typename V>
Status WalkGeminiGenerate(J& body, V& v) {
  auto system = Member(body, "systemInstruction", "system_instruction");
  if (!system.ok()) return system.error();
  if (*system != nullptr && (*system)->is_string()) {
    v.Text(**system);
  } else if (*system != nullptr) {
    Status s = GeminiParts(**system, "systemInstruction", v);
    if (!s.ok()) return s;
  }
  auto contents = body.find("contents");
  if (contents == body.end() || !contents->is_array()) {
    return Bad("contents", "expected an array");
  }
  size_t i = 0;
  for (auto& content : *contents) {
    Status s = GeminiParts(content, At("contents", i++), v);
    if (!s.ok()) return s;
  }
  return GeminiTools(body, v);
}

}  // namespace helm::facts_internal
