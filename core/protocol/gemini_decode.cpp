// Gemini generateContent → IR: client requests, and provider responses.
//
// Gemini has no tool-call ids. Function calls get synthesized ids
// (SynthesizeToolCallId, or the part's own `id` when a newer API sends one),
// and each functionResponse is paired with the earliest unanswered call of the
// same name, in order. Gemini thought signatures are not kept: the IR's
// thinking signature is Anthropic's, and the two must never be exchanged.
//
// Requests are decoded whole (codec.h), in either spelling Gemini accepts
// (camelCase or snake_case; both in one object is malformed). A part holds one
// datum. Media that is not an image, executableCode, codeExecutionResult and
// unknown parts become kOpaque parts; built-in tools (googleSearch, …) typed
// tools named by their key. An absent functionCall.args or
// functionResponse.response is empty text, not "{}".
#include <algorithm>
#include <cctype>

#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

struct PendingCall {
  std::string id, name;
  bool answered = false;
};

// The one datum of a part: its key (camelCase) and value.
struct Datum {
  const char* key = nullptr;
  const Json* value = nullptr;
};

Result<Datum> PartDatum(const Json& p) {
  static constexpr std::pair<const char*, const char*> kData[] = {
      {"text", nullptr},
      {"inlineData", "inline_data"},
      {"fileData", "file_data"},
      {"functionCall", "function_call"},
      {"functionResponse", "function_response"},
      {"executableCode", "executable_code"},
      {"codeExecutionResult", "code_execution_result"}};
  Datum d;
  for (const auto& [camel, snake] : kData) {
    auto v = EitherField(p, camel, snake);
    if (!v.ok()) return v.error();
    if (*v == nullptr) continue;
    if (d.key != nullptr) return BadRequest("a part holds one of text, inlineData, fileData, "
                                            "functionCall, functionResponse, …");
    d = {camel, *v};
  }
  return d;
}

// inlineData / fileData: an image when the MIME type says so or is missing,
// else an opaque part.
Result<ir::ContentPart> DecodeMedia(const Datum& d) {
  const Json& media = *d.value;
  if (!media.is_object()) return BadRequest(std::string("'") + d.key + "' must be an object");
  bool inline_data = std::string_view(d.key) == "inlineData";
  auto mime = EitherField(media, "mimeType", "mime_type");
  if (!mime.ok()) return mime.error();
  std::string mime_type = *mime && (*mime)->is_string() ? (*mime)->get<std::string>() : "";
  if (!mime_type.empty() && mime_type.rfind("image/", 0) != 0) {
    ir::ContentPart p = OpaquePart(d.key, Json());
    p.mime_type = std::move(mime_type);
    return p;
  }
  ir::ContentPart img;
  img.kind = ir::PartKind::kImage;
  img.mime_type = std::move(mime_type);
  if (inline_data) {
    img.data = GetString(media, "data");
  } else {
    auto uri = EitherField(media, "fileUri", "file_uri");
    if (!uri.ok()) return uri.error();
    if (*uri && (*uri)->is_string()) img.image_url = (*uri)->get<std::string>();
  }
  return img;
}

// The compact JSON of a payload, or "" when absent.
std::string Payload(const Json& obj, const char* key) {
  const Json& v = Field(obj, key);
  return v.is_null() ? "" : DumpJson(v);
}

class ContentsDecoder {
 public:
  explicit ContentsDecoder(std::string seed) : seed_(std::move(seed)) {}

  // Appends the IR messages for one `contents` entry.
  Status Content(const Json& c, std::vector<ir::Message>* out) {
    if (!c.is_object()) return BadRequest("each content must be an object");
    bool model = GetString(c, "role") == "model";
    ir::Message msg;
    msg.role = model ? ir::Role::kAssistant : ir::Role::kUser;
    std::vector<ir::Message> results;
    const Json& parts = Field(c, "parts");
    if (!parts.is_array()) return BadRequest("'parts' must be an array");
    for (const auto& p : parts) {
      if (Status s = Part(p, model, &msg, &results); !s.ok()) return s;
    }
    for (auto& r : results) out->push_back(std::move(r));
    if (!msg.content.empty() || !msg.tool_calls.empty() || results.empty()) {
      out->push_back(std::move(msg));
    }
    return Status::Ok();
  }

  ir::ToolCall Call(const Json& fc) {
    ir::ToolCall c{GetString(fc, "id"), GetString(fc, "name"), Payload(fc, "args")};
    if (c.id.empty()) c.id = SynthesizeToolCallId(seed_, n_++);
    pending_.push_back({c.id, c.name, false});
    return c;
  }

 private:
  Status Part(const Json& p, bool model, ir::Message* msg, std::vector<ir::Message>* results) {
    if (!p.is_object()) return BadRequest("each part must be an object");
    auto datum = PartDatum(p);
    if (!datum.ok()) return datum.error();
    const std::string_view key = datum->key == nullptr ? "" : datum->key;
    if (key == "text") {
      if (!datum->value->is_string()) return BadRequest("'text' must be a string");
      ir::ContentPart t = ir::ContentPart::Text(datum->value->get<std::string>());
      if (Field(p, "thought") == Json(true)) t.kind = ir::PartKind::kThinking;
      msg->content.push_back(std::move(t));
    } else if (key == "inlineData" || key == "fileData") {
      auto media = DecodeMedia(*datum);
      if (!media.ok()) return media.error();
      msg->content.push_back(std::move(*media));
    } else if (key == "functionCall") {
      if (!datum->value->is_object()) return BadRequest("'functionCall' must be an object");
      if (!model) return BadRequest("functionCall outside a model turn");
      msg->tool_calls.push_back(Call(*datum->value));
    } else if (key == "functionResponse") {
      if (!datum->value->is_object()) return BadRequest("'functionResponse' must be an object");
      results->push_back(Response(*datum->value));
    } else {
      msg->content.push_back(OpaquePart(key.empty() ? "part" : std::string(key), Json()));
    }
    return Status::Ok();
  }

  ir::Message Response(const Json& fr) {
    ir::Message m;
    m.role = ir::Role::kTool;
    m.name = GetString(fr, "name");
    m.tool_call_id = GetString(fr, "id");
    if (m.tool_call_id.empty()) {
      for (auto& c : pending_) {
        if (!c.answered && c.name == m.name) {
          c.answered = true;
          m.tool_call_id = c.id;
          break;
        }
      }
    }
    if (m.tool_call_id.empty()) m.tool_call_id = SynthesizeToolCallId(seed_, n_++);
    m.content.push_back(ir::ContentPart::Text(Payload(fr, "response")));
    return m;
  }

  std::string seed_;
  size_t n_ = 0;
  std::vector<PendingCall> pending_;
};

// systemInstruction: a string, or a content whose parts are text.
Status DecodeSystem(const Json& body, ir::Request* req) {
  auto system = EitherField(body, "systemInstruction", "system_instruction");
  if (!system.ok()) return system.error();
  if (*system == nullptr) return Status::Ok();
  ir::Message s;
  s.role = ir::Role::kSystem;
  if ((*system)->is_string()) {
    s.content.push_back(ir::ContentPart::Text((*system)->get<std::string>()));
  } else {
    const Json& parts = Field(**system, "parts");
    if (!parts.is_array()) return BadRequest("'systemInstruction' must have a 'parts' array");
    for (const auto& p : parts) {
      auto datum = p.is_object() ? PartDatum(p) : Result<Datum>(Datum{});
      if (!datum.ok()) return datum.error();
      if (datum->key == nullptr || std::string_view(datum->key) != "text" ||
          !datum->value->is_string()) {
        return BadRequest("'systemInstruction' parts must be text");
      }
      s.content.push_back(ir::ContentPart::Text(datum->value->get<std::string>()));
    }
  }
  req->messages.push_back(std::move(s));
  return Status::Ok();
}

// One tools[] entry: function declarations, and built-in tools named by key.
// Gemini's `parameters` and `responseSchema` are its OpenAPI dialect
// (`"type": "OBJECT"`, `nullable`, `propertyOrdering`); the IR, like the other
// providers, holds JSON Schema: types in lower case, `nullable` as a "null"
// type, the Gemini-only keywords dropped. `parametersJsonSchema` and
// `responseJsonSchema` are JSON Schema already.
Json JsonSchemaFromGemini(const Json& schema) {
  if (schema.is_array()) {
    Json out = Json::array();
    for (const auto& s : schema) out.push_back(JsonSchemaFromGemini(s));
    return out;
  }
  if (!schema.is_object()) return schema;
  Json out = Json::object();
  for (const auto& [k, v] : schema.items()) {
    if (k == "nullable" || k == "propertyOrdering") continue;
    if (k == "type" && v.is_string()) {
      std::string type = v.get<std::string>();
      if (type == "TYPE_UNSPECIFIED") continue;
      std::transform(type.begin(), type.end(), type.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out[k] = type;
      if (schema.value("nullable", false) == true && type != "null") {
        out[k] = Json::array({type, "null"});
      }
    } else if (k == "properties" && v.is_object()) {
      Json props = Json::object();
      for (const auto& [name, s] : v.items()) props[name] = JsonSchemaFromGemini(s);
      out[k] = std::move(props);
    } else if (k == "items" || k == "anyOf") {
      out[k] = JsonSchemaFromGemini(v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

// The IR's JSON Schema for a Gemini schema member: `json_key` (JSON Schema
// already) when present, else `gemini_key` converted.
void CopySchema(const Json& object, const char* json_key, const char* gemini_key, Json* to,
                Payloads payloads) {
  if (payloads != Payloads::kCopy) return;
  if (const Json& json = Field(object, json_key); json.is_object()) {
    *to = json;
  } else if (const Json& gemini = Field(object, gemini_key); gemini.is_object()) {
    *to = JsonSchemaFromGemini(gemini);
  }
}

Status DecodeTool(const Json& t, Payloads payloads, ir::Request* req) {
  if (!t.is_object()) return BadRequest("each tool must be an object");
  for (const auto& [key, value] : t.items()) {
    if (key != "functionDeclarations" && key != "function_declarations") {
      req->tools.push_back({key, key, "", Json::object(), std::nullopt});
      continue;
    }
    if (!value.is_array()) return BadRequest("'" + key + "' must be an array");
    for (const auto& f : value) {
      if (!f.is_object()) return BadRequest("each function declaration must be an object");
      ir::Tool tool;
      if (Status s = ReadString(f, "name", &tool.name); !s.ok()) return s;
      if (tool.name.empty()) return BadRequest("each function declaration needs a name");
      tool.description = GetString(f, "description");
      CopySchema(f, "parametersJsonSchema", "parameters", &tool.parameters, payloads);
      req->tools.push_back(std::move(tool));
    }
  }
  return Status::Ok();
}

Status DecodeTools(const Json& body, Payloads payloads, ir::Request* req) {
  const Json& tools = Field(body, "tools");
  if (!tools.is_null() && !tools.is_array()) return BadRequest("'tools' must be an array");
  if (tools.is_array()) {
    for (const auto& t : tools) {
      if (Status s = DecodeTool(t, payloads, req); !s.ok()) return s;
    }
  }
  const Json& fc = Field(Field(body, "toolConfig"), "functionCallingConfig");
  if (fc.is_object()) {
    std::string mode = GetString(fc, "mode");
    if (mode == "AUTO") req->tool_choice.kind = ir::ToolChoiceKind::kAuto;
    if (mode == "NONE") req->tool_choice.kind = ir::ToolChoiceKind::kNone;
    if (mode == "ANY" || mode == "VALIDATED") {
      req->tool_choice.kind = ir::ToolChoiceKind::kRequired;
      const Json& names = Field(fc, "allowedFunctionNames");
      if (names.is_array() && names.size() == 1 && names[0].is_string()) {
        req->tool_choice = {ir::ToolChoiceKind::kNamed, names[0].get<std::string>()};
      }
    }
  }
  return Status::Ok();
}

// The generation config with camelCase member names: Gemini takes the config
// and its members in snake_case too (both spellings of one name: 400).
// Only the top level is renamed; schemas inside are the client's data.
Result<Json> CamelConfig(const Json& body) {
  auto config = EitherField(body, "generationConfig", "generation_config");
  if (!config.ok()) return config.error();
  if (*config == nullptr || !(*config)->is_object()) return Json();
  Json out = Json::object();
  for (const auto& [name, value] : (*config)->items()) {
    std::string camel;
    for (size_t i = 0; i < name.size(); ++i) {
      if (name[i] == '_' && i + 1 < name.size()) {
        camel.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(name[++i]))));
      } else {
        camel.push_back(name[i]);
      }
    }
    if (out.contains(camel)) {
      return BadRequest("both '" + camel + "' and its snake_case spelling are set");
    }
    out[camel] = value;
  }
  return out;
}

Status DecodeGenerationConfig(const Json& body, Payloads payloads, ir::Request* req) {
  Result<Json> config = CamelConfig(body);
  if (!config.ok()) return config.error();
  const Json& g = *config;
  if (!g.is_object()) return Status::Ok();
  Status err;
  ReadOpt(g, "temperature", &req->temperature, &err);
  ReadOpt(g, "topP", &req->top_p, &err);
  ReadOpt(g, "topK", &req->top_k, &err);
  ReadOpt(g, "maxOutputTokens", &req->max_output_tokens, &err);
  ReadOpt(g, "seed", &req->seed, &err);
  ReadOpt(g, "presencePenalty", &req->presence_penalty, &err);
  ReadOpt(g, "frequencyPenalty", &req->frequency_penalty, &err);
  if (!err.ok()) return err;
  const Json& stop = Field(g, "stopSequences");
  if (stop.is_array()) {
    for (const auto& s : stop) {
      if (s.is_string()) req->stop.push_back(s.get<std::string>());
    }
  }
  if (GetString(g, "responseMimeType") == "application/json") {
    req->response_format.kind = ir::ResponseFormatKind::kJsonObject;
    if (Field(g, "responseJsonSchema").is_object() || Field(g, "responseSchema").is_object()) {
      req->response_format.kind = ir::ResponseFormatKind::kJsonSchema;
      req->response_format.name = "response";
      CopySchema(g, "responseJsonSchema", "responseSchema", &req->response_format.schema, payloads);
    }
  }
  if (payloads == Payloads::kSkip) return Status::Ok();
  Json rest = Json::object();
  CollectNative(g, {"temperature", "topP", "topK", "maxOutputTokens", "seed", "presencePenalty",
                    "frequencyPenalty", "stopSequences", "responseMimeType", "responseSchema",
                    "responseJsonSchema"},
                &rest);
  if (!rest.empty()) req->native["generationConfig"] = std::move(rest);
  return Status::Ok();
}

}  // namespace

Result<ir::Request> DecodeGeminiRequest(const Json& body, Payloads payloads) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  const Json& contents = Field(body, "contents");
  if (!contents.is_array()) return BadRequest("'contents' must be an array");
  ir::Request req;
  req.native_protocol = kGeminiGenerate;
  if (Status s = DecodeSystem(body, &req); !s.ok()) return s.error();
  ContentsDecoder dec("");
  for (const auto& c : contents) {
    if (Status s = dec.Content(c, &req.messages); !s.ok()) return s.error();
  }
  if (Status s = DecodeTools(body, payloads, &req); !s.ok()) return s.error();
  if (Status s = DecodeGenerationConfig(body, payloads, &req); !s.ok()) return s.error();
  req.include_usage = true;
  if (payloads == Payloads::kSkip) return req;
  CollectNative(body,
                {"contents", "systemInstruction", "system_instruction", "tools", "toolConfig",
                 "generationConfig", "generation_config"},
                &req.native);
  return req;
}

Result<ir::Response> DecodeGeminiResponse(const Json& body) {
  ir::Response resp;
  resp.id = GetString(body, "responseId");
  resp.model = GetString(body, "modelVersion");
  resp.usage = UsageFromGemini(body.value("usageMetadata", Json()));
  resp.native_protocol = kGeminiGenerate;
  if (!IsArray(body, "candidates") || body["candidates"].empty()) {
    if (IsObject(body, "promptFeedback") && body["promptFeedback"].contains("blockReason")) {
      resp.finish_reason = ir::FinishReason::kContentFilter;
      return resp;
    }
    return BadUpstream("response without candidates");
  }
  const Json& cand = body["candidates"][0];
  ContentsDecoder dec(resp.id);
  const Json parts = cand.value("content", Json::object()).value("parts", Json::array());
  for (const auto& p : parts) {
    if (IsObject(p, "functionCall")) {
      ir::ToolCall call = dec.Call(p["functionCall"]);
      if (call.arguments.empty()) call.arguments = "{}";  // clients expect an object
      resp.tool_calls.push_back(std::move(call));
    } else if (p.contains("text")) {
      ir::ContentPart t = ir::ContentPart::Text(GetString(p, "text"));
      if (p.value("thought", Json(false)) == Json(true)) t.kind = ir::PartKind::kThinking;
      resp.content.push_back(std::move(t));
    }
  }
  resp.finish_reason = FinishFromGemini(GetString(cand, "finishReason"));
  if (resp.finish_reason == ir::FinishReason::kStop && !resp.tool_calls.empty()) {
    resp.finish_reason = ir::FinishReason::kToolCalls;
  }
  return resp;
}

}  // namespace helm::protocol
