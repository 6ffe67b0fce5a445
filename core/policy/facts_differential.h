// Test-only: the differential check of the two readers of a client request
// (facts_differential_test.cpp, and tests/fuzz/fuzz_request.cpp, which feeds
// it bodies a coverage-guided fuzzer finds). The policy decides on the IR
// (ExtractFacts → protocol::InspectClientRequest); redaction rewrites the
// client's JSON in place (RewriteTexts → WalkBody). For a body the decoder
// accepts:
//   - the multiset of non-empty texts WalkBody visits == facts.texts;
//   - WalkBody sees as many images as the IR holds (so has_images agrees);
//   - the multiset of tool names WalkBody sees == facts.tools;
//   - redaction leaves no match behind: after RewriteTexts replaces every 'x',
//     the body still decodes and none of its texts holds an 'x'.
// The IR decoder is the reference for what a request means: a disagreement is
// fixed in whichever side misreads the request.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "core/policy/body_walk.h"
#include "core/policy/facts.h"
#include "core/protocol/translate.h"

namespace helm::testing {

// Records what the walker visits.
class Probe final : public BodyVisitor {
 public:
  std::vector<std::string> texts, tools;
  int images = 0;
  void Text(Json& node) override { Add(node.get<std::string>()); }
  void Stringified(Json& node) override { Add(DumpJson(node)); }
  void Image() override { ++images; }
  void Tool(const std::string& name) override { tools.push_back(name); }

 private:
  void Add(std::string text) {
    if (!text.empty()) texts.push_back(std::move(text));
  }
};

inline std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

inline std::string Join(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const auto& s : v) out += (out.size() > 1 ? ", " : "") + DumpJson(Json(s));
  return out + "]";
}

inline int ReplaceX(std::string& s) {
  int n = 0;
  for (char& c : s) {
    if (c == 'x') {
      c = '#';
      ++n;
    }
  }
  return n;
}

// The image parts of the decoded request (0 for the protocols with no IR).
inline int ImagesInIr(const std::string& protocol, const Json& body) {
  if (!protocol::IsTranslatableProtocol(protocol)) return 0;
  auto request = protocol::InspectClientRequest(protocol, body);
  int n = 0;
  for (const auto& m : request.ok() ? request->messages : std::vector<ir::Message>{}) {
    for (const auto& p : m.content) n += p.kind == ir::PartKind::kImage;
  }
  return n;
}

// "" when the two readers agree on `body`, else what differs. *accepted
// tells whether the decoder accepted the body (nothing else is checked then:
// REQUEST_INVALID, nothing is dispatched or redacted).
inline std::string FactsDisagreement(const std::string& protocol, const Json& body,
                                     bool* accepted) {
  auto facts = ExtractFacts(protocol, body);
  *accepted = facts.ok();
  if (!facts.ok()) return "";
  Json copy = body;
  Probe probe;
  WalkBody(protocol, copy, probe);
  std::string diff;
  if (Sorted(probe.texts) != Sorted(facts->texts)) {
    diff +=
        "texts: walker " + Join(Sorted(probe.texts)) + " IR " + Join(Sorted(facts->texts)) + "; ";
  }
  int images = ImagesInIr(protocol, body);
  if (probe.images != images || (images > 0) != facts->has_images) {
    diff +=
        "images: walker " + std::to_string(probe.images) + " IR " + std::to_string(images) + "; ";
  }
  if (Sorted(probe.tools) != Sorted(facts->tools)) {
    diff +=
        "tools: walker " + Join(Sorted(probe.tools)) + " IR " + Join(Sorted(facts->tools)) + "; ";
  }
  int expected = 0;
  for (std::string t : facts->texts) expected += ReplaceX(t);
  int replaced = RewriteTexts(protocol, copy, ReplaceX);
  auto after = ExtractFacts(protocol, copy);
  if (replaced != expected) diff += "redaction count differs; ";
  if (!after.ok()) {
    diff += "redacted body no longer decodes: " + after.error().message + "; ";
  } else {
    for (const auto& t : after->texts) {
      if (t.find('x') != std::string::npos) diff += "match survives redaction: " + t + "; ";
    }
  }
  return diff;
}

}  // namespace helm::testing
