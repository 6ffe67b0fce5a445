// Gemini generateContent → IR: client requests, and provider responses.
//
// Gemini has no tool-call ids. Function calls get synthesized ids
// (SynthesizeToolCallId, or the part's own `id` when a newer API sends one),
// and each functionResponse is paired with the earliest unanswered call of the
// same name, in order. Gemini thought signatures are not kept: the IR's
// thinking signature is Anthropic's, and the two must never be exchanged.
#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

struct PendingCall {
  std::string id, name;
  bool answered = false;
};

class ContentsDecoder {
 public:
  explicit ContentsDecoder(std::string seed) : seed_(std::move(seed)) {}

  // Appends the IR messages for one `contents` entry.
  Status Content(const Json& c, std::vector<ir::Message>* out) {
    std::string role = GetString(c, "role");
    bool model = role == "model";
    ir::Message msg;
    msg.role = model ? ir::Role::kAssistant : ir::Role::kUser;
    std::vector<ir::Message> results;
    const Json parts = c.value("parts", Json::array());
    if (!parts.is_array()) return BadRequest("'parts' must be an array");
    for (const auto& p : parts) {
      if (!p.is_object()) return BadRequest("each part must be an object");
      if (Status s = Part(p, model, &msg, &results); !s.ok()) return s;
    }
    for (auto& r : results) out->push_back(std::move(r));
    if (!msg.content.empty() || !msg.tool_calls.empty() || results.empty()) {
      out->push_back(std::move(msg));
    }
    return Status::Ok();
  }

  ir::ToolCall Call(const Json& fc) {
    ir::ToolCall c{GetString(fc, "id"), GetString(fc, "name"),
                   DumpJson(fc.value("args", Json::object()))};
    if (c.id.empty()) c.id = SynthesizeToolCallId(seed_, n_++);
    pending_.push_back({c.id, c.name, false});
    return c;
  }

 private:
  Status Part(const Json& p, bool model, ir::Message* msg, std::vector<ir::Message>* results) {
    if (p.contains("text")) {
      ir::ContentPart t = ir::ContentPart::Text(GetString(p, "text"));
      if (p.value("thought", Json(false)) == Json(true)) t.kind = ir::PartKind::kThinking;
      msg->content.push_back(std::move(t));
    } else if (IsObject(p, "inlineData")) {
      ir::ContentPart img;
      img.kind = ir::PartKind::kImage;
      img.mime_type = GetString(p["inlineData"], "mimeType");
      img.data = GetString(p["inlineData"], "data");
      msg->content.push_back(std::move(img));
    } else if (IsObject(p, "fileData")) {
      ir::ContentPart img;
      img.kind = ir::PartKind::kImage;
      img.mime_type = GetString(p["fileData"], "mimeType");
      img.image_url = GetString(p["fileData"], "fileUri");
      msg->content.push_back(std::move(img));
    } else if (IsObject(p, "functionCall") && model) {
      msg->tool_calls.push_back(Call(p["functionCall"]));
    } else if (IsObject(p, "functionResponse")) {
      results->push_back(Response(p["functionResponse"]));
    } else {
      return BadRequest("part cannot be translated: " + DumpJson(p).substr(0, 80));
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
    m.content.push_back(ir::ContentPart::Text(DumpJson(fr.value("response", Json::object()))));
    return m;
  }

  std::string seed_;
  size_t n_ = 0;
  std::vector<PendingCall> pending_;
};

Status DecodeTools(const Json& body, ir::Request* req) {
  if (IsArray(body, "tools")) {
    for (const auto& t : body["tools"]) {
      if (!IsArray(t, "functionDeclarations")) {
        return BadRequest("only functionDeclarations tools can be translated");
      }
      for (const auto& f : t["functionDeclarations"]) {
        Json params = f.value("parameters", f.value("parametersJsonSchema", Json::object()));
        req->tools.push_back({GetString(f, "name"), GetString(f, "description"), params, std::nullopt});
      }
    }
  }
  if (IsObject(body, "toolConfig") && IsObject(body["toolConfig"], "functionCallingConfig")) {
    const Json& fc = body["toolConfig"]["functionCallingConfig"];
    std::string mode = GetString(fc, "mode");
    if (mode == "AUTO") req->tool_choice.kind = ir::ToolChoiceKind::kAuto;
    if (mode == "NONE") req->tool_choice.kind = ir::ToolChoiceKind::kNone;
    if (mode == "ANY" || mode == "VALIDATED") {
      req->tool_choice.kind = ir::ToolChoiceKind::kRequired;
      const Json names = fc.value("allowedFunctionNames", Json::array());
      if (names.is_array() && names.size() == 1 && names[0].is_string()) {
        req->tool_choice = {ir::ToolChoiceKind::kNamed, names[0].get<std::string>()};
      }
    }
  }
  return Status::Ok();
}

Status DecodeGenerationConfig(const Json& body, ir::Request* req) {
  if (!IsObject(body, "generationConfig")) return Status::Ok();
  const Json& g = body["generationConfig"];
  Status err;
  ReadOpt(g, "temperature", &req->temperature, &err);
  ReadOpt(g, "topP", &req->top_p, &err);
  ReadOpt(g, "topK", &req->top_k, &err);
  ReadOpt(g, "maxOutputTokens", &req->max_output_tokens, &err);
  ReadOpt(g, "seed", &req->seed, &err);
  ReadOpt(g, "presencePenalty", &req->presence_penalty, &err);
  ReadOpt(g, "frequencyPenalty", &req->frequency_penalty, &err);
  if (!err.ok()) return err;
  if (IsArray(g, "stopSequences")) {
    for (const auto& s : g["stopSequences"]) {
      if (s.is_string()) req->stop.push_back(s.get<std::string>());
    }
  }
  if (GetString(g, "responseMimeType") == "application/json") {
    req->response_format.kind = ir::ResponseFormatKind::kJsonObject;
    Json schema = g.value("responseJsonSchema", g.value("responseSchema", Json()));
    if (schema.is_object()) {
      req->response_format.kind = ir::ResponseFormatKind::kJsonSchema;
      req->response_format.name = "response";
      req->response_format.schema = schema;
    }
  }
  Json rest = Json::object();
  CollectNative(g, {"temperature", "topP", "topK", "maxOutputTokens", "seed", "presencePenalty",
                    "frequencyPenalty", "stopSequences", "responseMimeType", "responseSchema",
                    "responseJsonSchema"},
                &rest);
  if (!rest.empty()) req->native["generationConfig"] = rest;
  return Status::Ok();
}

}  // namespace

Result<ir::Request> DecodeGeminiRequest(const Json& body) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  if (!IsArray(body, "contents")) return BadRequest("'contents' must be an array");
  ir::Request req;
  req.native_protocol = kGeminiGenerate;
  if (IsObject(body, "systemInstruction")) {
    std::string text = JoinedText(body["systemInstruction"].value("parts", Json::array()));
    req.messages.push_back({ir::Role::kSystem, {ir::ContentPart::Text(text)}, {}, "", "", false});
  }
  ContentsDecoder dec("");
  for (const auto& c : body["contents"]) {
    if (!c.is_object()) return BadRequest("each content must be an object");
    if (Status s = dec.Content(c, &req.messages); !s.ok()) return s.error();
  }
  if (Status s = DecodeTools(body, &req); !s.ok()) return s.error();
  if (Status s = DecodeGenerationConfig(body, &req); !s.ok()) return s.error();
  req.include_usage = true;
  CollectNative(body, {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig"},
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
      resp.tool_calls.push_back(dec.Call(p["functionCall"]));
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
