// IR → Gemini generateContent: provider requests (provider kind gemini), and
// client responses (GenerateContentResponse).
//
// Tool results become functionResponse parts named after their call (the
// message's name, else the name of the earlier call with that id); a result
// that is a JSON object is sent as the response itself, anything else as
// {"content": text}. Tool and response schemas are sanitized for Gemini's
// schema dialect. Thinking is not replayed to Gemini.
#include <map>

#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

Json ImagePart(const ir::ContentPart& p) {
  if (!p.image_url.empty()) {
    std::string mime = p.mime_type.empty() ? "image/jpeg" : p.mime_type;
    return {{"fileData", {{"mimeType", mime}, {"fileUri", p.image_url}}}};
  }
  return {{"inlineData", {{"mimeType", p.mime_type}, {"data", p.data}}}};
}

void AppendParts(const std::vector<ir::ContentPart>& parts, Json* out) {
  for (const auto& p : parts) {
    if (p.kind == ir::PartKind::kText && !p.text.empty()) {
      out->push_back({{"text", p.text}});
    } else if (p.kind == ir::PartKind::kImage) {
      out->push_back(ImagePart(p));
    }  // thinking is not replayed: Gemini cannot verify another provider's reasoning
  }
}

Json FunctionResponsePart(const ir::Message& m, const std::map<std::string, std::string>& names) {
  std::string name = m.name;
  if (name.empty()) {
    auto it = names.find(m.tool_call_id);
    if (it != names.end()) name = it->second;
  }
  std::string text = PartsText(m.content);
  Json response = Json::parse(text, nullptr, false);
  if (response.is_discarded() || !response.is_object()) response = {{"content", text}};
  return {{"functionResponse", {{"name", name}, {"response", response}}}};
}

Json EncodeContents(const ir::Request& req) {
  Json out = Json::array();
  std::map<std::string, std::string> names;
  auto append = [&](const char* role, Json parts) {
    if (parts.empty()) return;
    if (!out.empty() && out.back()["role"] == role) {
      for (auto& p : parts) out.back()["parts"].push_back(std::move(p));
    } else {
      out.push_back({{"role", role}, {"parts", std::move(parts)}});
    }
  };
  for (const auto& m : req.messages) {
    Json parts = Json::array();
    if (m.role == ir::Role::kUser) {
      AppendParts(m.content, &parts);
      append("user", std::move(parts));
    } else if (m.role == ir::Role::kAssistant) {
      AppendParts(m.content, &parts);
      for (const auto& c : m.tool_calls) {
        names[c.id] = c.name;
        parts.push_back({{"functionCall", {{"name", c.name}, {"args", ArgumentsObject(c.arguments)}}}});
      }
      append("model", std::move(parts));
    } else if (m.role == ir::Role::kTool) {
      parts.push_back(FunctionResponsePart(m, names));
      append("user", std::move(parts));
    }
  }
  return out;
}

void EncodeTools(const ir::Request& req, Json* out) {
  if (req.tools.empty()) return;
  Json decls = Json::array();
  for (const auto& t : req.tools) {
    Json d{{"name", t.name}};
    if (!t.description.empty()) d["description"] = t.description;
    if (t.parameters.is_object() && !t.parameters.empty()) {
      d["parameters"] = SanitizeGeminiSchema(t.parameters);
    }
    decls.push_back(std::move(d));
  }
  (*out)["tools"] = Json::array({{{"functionDeclarations", decls}}});
  Json fc;
  switch (req.tool_choice.kind) {
    case ir::ToolChoiceKind::kAuto: fc = {{"mode", "AUTO"}}; break;
    case ir::ToolChoiceKind::kNone: fc = {{"mode", "NONE"}}; break;
    case ir::ToolChoiceKind::kRequired: fc = {{"mode", "ANY"}}; break;
    case ir::ToolChoiceKind::kNamed:
      fc = {{"mode", "ANY"}, {"allowedFunctionNames", {req.tool_choice.name}}};
      break;
    case ir::ToolChoiceKind::kUnset: break;
  }
  if (!fc.is_null()) (*out)["toolConfig"] = {{"functionCallingConfig", fc}};
}

Json GenerationConfig(const ir::Request& req) {
  Json g = Json::object();
  if (req.temperature) g["temperature"] = *req.temperature;
  if (req.top_p) g["topP"] = *req.top_p;
  if (req.top_k) g["topK"] = *req.top_k;
  if (req.max_output_tokens) g["maxOutputTokens"] = *req.max_output_tokens;
  if (req.seed) g["seed"] = *req.seed;
  if (req.presence_penalty) g["presencePenalty"] = *req.presence_penalty;
  if (req.frequency_penalty) g["frequencyPenalty"] = *req.frequency_penalty;
  if (!req.stop.empty()) g["stopSequences"] = req.stop;
  if (req.response_format.kind != ir::ResponseFormatKind::kText) {
    g["responseMimeType"] = "application/json";
  }
  if (req.response_format.kind == ir::ResponseFormatKind::kJsonSchema &&
      req.response_format.schema.is_object()) {
    g["responseSchema"] = SanitizeGeminiSchema(req.response_format.schema);
  }
  if (req.native_protocol == kGeminiGenerate && IsObject(req.native, "generationConfig")) {
    for (const auto& [k, v] : req.native["generationConfig"].items()) {
      if (!g.contains(k)) g[k] = v;
    }
  }
  return g;
}

}  // namespace

Json SanitizeGeminiSchema(const Json& schema) {
  if (schema.is_array()) {
    Json out = Json::array();
    for (const auto& s : schema) out.push_back(SanitizeGeminiSchema(s));
    return out;
  }
  if (!schema.is_object()) return schema;
  Json out = Json::object();
  for (const auto& [k, v] : schema.items()) {
    if (k == "$schema" || k == "additionalProperties" || k == "$id" || k == "strict") continue;
    if (k == "format" && v.is_string() && v != "enum" && v != "date-time") continue;
    if (k == "properties" && v.is_object()) {
      Json props = Json::object();
      for (const auto& [name, s] : v.items()) props[name] = SanitizeGeminiSchema(s);
      out[k] = props;
    } else {
      out[k] = SanitizeGeminiSchema(v);
    }
  }
  return out;
}

Result<Json> EncodeGeminiRequest(const ir::Request& req) {
  Json contents = EncodeContents(req);
  if (contents.empty()) return BadRequest("the request has no user or model content");
  Json out{{"contents", contents}};
  std::string system;
  for (const auto& m : req.messages) {
    if (m.role != ir::Role::kSystem && m.role != ir::Role::kDeveloper) continue;
    if (!system.empty()) system += "\n\n";
    system += PartsText(m.content);
  }
  if (!system.empty()) out["systemInstruction"] = {{"parts", Json::array({{{"text", system}}})}};
  EncodeTools(req, &out);
  Json g = GenerationConfig(req);
  if (!g.empty()) out["generationConfig"] = g;
  if (req.native_protocol == kGeminiGenerate) {
    for (const auto& [k, v] : req.native.items()) {
      if (!out.contains(k)) out[k] = v;
    }
  }
  return out;
}

Json GeminiCandidate(Json parts, const std::string& finish_reason) {
  Json c{{"content", {{"role", "model"}, {"parts", std::move(parts)}}}, {"index", 0}};
  if (!finish_reason.empty()) c["finishReason"] = finish_reason;
  return c;
}

Json EncodeGeminiResponse(const ir::Response& resp, const EncodeOptions& opt) {
  Json parts = Json::array();
  for (const auto& p : resp.content) {
    if (p.kind == ir::PartKind::kText && !p.text.empty()) {
      parts.push_back({{"text", p.text}});
    } else if (p.kind == ir::PartKind::kThinking) {
      Json t{{"text", p.text}, {"thought", true}};
      parts.push_back(std::move(t));
    }
  }
  for (const auto& c : resp.tool_calls) {
    parts.push_back({{"functionCall", {{"name", c.name}, {"args", ArgumentsObject(c.arguments)}}}});
  }
  return {{"candidates", Json::array({GeminiCandidate(std::move(parts), FinishToGemini(resp.finish_reason))})},
          {"usageMetadata", UsageToGemini(resp.usage)},
          {"modelVersion", opt.model.empty() ? resp.model : opt.model},
          {"responseId", resp.id.empty() ? opt.response_id : resp.id}};
}

}  // namespace helm::protocol
