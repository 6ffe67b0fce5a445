// Internal to core/policy: the redaction walker. It visits, in place, the
// policy-visible parts of a client body: the strings, images and tools that
// the IR decoder (protocol::InspectClientRequest) takes from it, which is what
// the policy decided on. RewriteTexts (redaction) is its one user;
// facts_differential_test.cpp checks over a corpus that it and the IR agree.
//
// Each walker mirrors its protocol's request decoder (core/protocol/
// *_decode.cpp): change the two together. It runs only on bodies the decoder
// accepted, so it does not validate: a member without the expected shape is
// skipped. It never inserts or removes members.
#pragma once

#include <string>
#include <string_view>

#include "core/common/json.h"

namespace helm {

class BodyVisitor {
 public:
  virtual ~BodyVisitor() = default;
  virtual void Text(Json& node) = 0;         // a JSON string holding prompt text
  virtual void Stringified(Json& node) = 0;  // a structured payload, seen as its compact dump
  virtual void Image() {}
  virtual void Tool(const std::string& name) { (void)name; }
};

// Walks a body of `protocol` (any of the six); unknown protocols visit nothing.
void WalkBody(std::string_view protocol, Json& body, BodyVisitor& v);

namespace body_walk {

void OpenAiChat(Json& body, BodyVisitor& v);         // body_walk_openai.cpp
void OpenAiResponses(Json& body, BodyVisitor& v);    // body_walk_openai.cpp
void AnthropicMessages(Json& body, BodyVisitor& v);  // body_walk_anthropic.cpp
void GeminiGenerate(Json& body, BodyVisitor& v);     // body_walk_gemini.cpp

// The member `key` of obj, or nullptr when obj is not an object or the member
// is absent or null.
Json* Find(Json& obj, std::string_view key);
// The string member `key`, or nullptr when it is not a string.
const std::string* FindString(Json& obj, std::string_view key);
// Visits obj[key] as text when it is a string.
void TextAt(Json& obj, std::string_view key, BodyVisitor& v);
// Visits node as text when a string, or each string of it when an array.
void StringOrStrings(Json& node, BodyVisitor& v);

}  // namespace body_walk
}  // namespace helm
