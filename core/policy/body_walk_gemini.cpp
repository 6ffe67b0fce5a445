// The redaction walker of Gemini generateContent bodies (body_walk.h), in
// either spelling (camelCase or snake_case). Mirrors
// core/protocol/gemini_decode.cpp.
#include "core/policy/body_walk.h"

namespace helm::body_walk {
namespace {

// The member under either spelling (the decoder refused bodies with both).
Json* Either(Json& obj, const char* camel, const char* snake) {
  Json* found = Find(obj, camel);
  return found != nullptr ? found : Find(obj, snake);
}

// inlineData / fileData: an image when the MIME type says so or is missing.
void Media(Json* media, BodyVisitor& v) {
  if (media == nullptr || !media->is_object()) return;
  Json* mime = Either(*media, "mimeType", "mime_type");
  if (mime == nullptr || !mime->is_string()) return v.Image();
  const std::string& m = mime->get_ref<const std::string&>();
  if (m.empty() || m.rfind("image/", 0) == 0) v.Image();
}

// The payload of a functionCall (args) or functionResponse (response), as its dump.
void Payload(Json* call, const char* key, BodyVisitor& v) {
  if (call == nullptr) return;
  if (Json* payload = Find(*call, key)) v.Stringified(*payload);
}

void Parts(Json& content, BodyVisitor& v) {
  Json* parts = Find(content, "parts");
  if (parts == nullptr || !parts->is_array()) return;
  for (Json& p : *parts) {
    TextAt(p, "text", v);  // thought text too: it is not signed
    Media(Either(p, "inlineData", "inline_data"), v);
    Media(Either(p, "fileData", "file_data"), v);
    Payload(Either(p, "functionCall", "function_call"), "args", v);
    Payload(Either(p, "functionResponse", "function_response"), "response", v);
  }
}

void Tools(Json& body, BodyVisitor& v) {
  Json* tools = Find(body, "tools");
  if (tools == nullptr || !tools->is_array()) return;
  for (Json& t : *tools) {
    if (!t.is_object()) continue;
    for (auto it = t.begin(); it != t.end(); ++it) {
      if (it.key() != "functionDeclarations" && it.key() != "function_declarations") {
        v.Tool(it.key());  // a built-in tool: googleSearch, codeExecution, ...
        continue;
      }
      if (!it->is_array()) continue;
      for (Json& decl : *it) {
        if (const std::string* name = FindString(decl, "name")) v.Tool(*name);
      }
    }
  }
}

}  // namespace

void GeminiGenerate(Json& body, BodyVisitor& v) {
  if (Json* system = Either(body, "systemInstruction", "system_instruction")) {
    if (system->is_string()) v.Text(*system);
    Parts(*system, v);
  }
  if (Json* contents = Find(body, "contents"); contents != nullptr && contents->is_array()) {
    for (Json& c : *contents) Parts(c, v);
  }
  Tools(body, v);
}

}  // namespace helm::body_walk
