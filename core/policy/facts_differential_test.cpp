// Differential test of the two readers of a client request. The policy
// decides on the IR (ExtractFacts → protocol::InspectClientRequest); redaction
// rewrites the client's JSON in place (RewriteTexts → WalkBody). If they
// disagreed, a redact_regex rule would miss text the policy matched, or the
// policy would not see text the provider reads. Over the corpus of
// facts_corpus.h and every one-node mutation of it (a node replaced, or a
// member the readers look for added to an object), for each body the decoder
// accepts:
//   - the multiset of non-empty texts WalkBody visits == facts.texts;
//   - WalkBody sees as many images as the IR holds (so has_images agrees);
//   - the multiset of tool names WalkBody sees == facts.tools;
//   - redaction leaves no match behind: after RewriteTexts replaces every 'x',
//     the body still decodes and none of its texts holds an 'x'.
// The IR decoder is the reference for what a request means: a disagreement is
// fixed in whichever side misreads the request.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/policy/body_walk.h"
#include "core/policy/facts.h"
#include "core/policy/facts_corpus.h"
#include "core/protocol/translate.h"

namespace helm {
namespace {

using testing::CorpusBody;

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

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const auto& s : v) out += (out.size() > 1 ? ", " : "") + DumpJson(Json(s));
  return out + "]";
}

int ReplaceX(std::string& s) {
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
int ImagesInIr(const std::string& protocol, const Json& body) {
  if (!protocol::IsTranslatableProtocol(protocol)) return 0;
  auto request = protocol::InspectClientRequest(protocol, body);
  int n = 0;
  for (const auto& m : request.ok() ? request->messages : std::vector<ir::Message>{}) {
    for (const auto& p : m.content) n += p.kind == ir::PartKind::kImage;
  }
  return n;
}

struct Tally {
  size_t bodies = 0;    // bodies checked
  size_t accepted = 0;  // of which the decoder accepted
  std::vector<std::string> failures;
};

// "" when the two readers agree on `body`, else what differs.
std::string Disagreement(const std::string& protocol, const Json& body, Tally& tally) {
  ++tally.bodies;
  auto facts = ExtractFacts(protocol, body);
  if (!facts.ok()) return "";  // REQUEST_INVALID: nothing is dispatched or redacted
  ++tally.accepted;
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

void Check(const CorpusBody& c, const Json& body, Tally& tally) {
  std::string diff = Disagreement(c.protocol, body, tally);
  if (!diff.empty() && tally.failures.size() < 20) {
    tally.failures.push_back(c.label + " (" + c.protocol + "): " + diff + "\n  body " +
                             DumpJson(body).substr(0, 600));
  }
}

// Replaces every node of root, one at a time, by values of each JSON type, and
// gives every object, one at a time, an extra member of the kinds the readers
// look for (text, payloads, media, calls); checks each variant.
void Mutate(const CorpusBody& c, Json& root, Json& node, Tally& tally) {
  static const Json kReplacements[] = {nullptr,        1,  "s x", Json::array(), Json::object(),
                                       Json::array({"x"}), Json::object({{"type", "text"}})};
  static const Json kInjections = Json::parse(R"({"text": "injected x",
      "content": "content x", "arguments": "arguments x", "input": {"k": "input x"},
      "inlineData": {"data": "AA"}, "functionCall": {"name": "f", "args": {"k": "args x"}},
      "tool_calls": [{"function": {"arguments": "call x"}}], "refusal": "refusal x",
      "function_call": {"arguments": "legacy x"}, "output": "output x", "thinking": "thought x",
      "source": {"type": "text", "data": "doc x"}, "system": "system x",
      "functionResponse": {"response": {"k": "response x"}}, "file_data": {"file_uri": "u"}})");
  for (const Json& r : kReplacements) {
    Json saved = std::move(node);
    node = r;
    Check(c, root, tally);
    node = std::move(saved);
  }
  for (auto it = kInjections.begin(); node.is_object() && it != kInjections.end(); ++it) {
    if (node.contains(it.key())) continue;
    node[it.key()] = *it;
    Check(c, root, tally);
    node.erase(it.key());
  }
  if (node.is_structured()) {
    for (auto& child : node) Mutate(c, root, child, tally);
  }
}

std::vector<CorpusBody> Corpus() {
  std::vector<CorpusBody> all = testing::CorpusFiles();
  for (auto* source : {&testing::VectorBodies, &testing::GeneratedVariants}) {
    for (CorpusBody& b : (*source)()) all.push_back(std::move(b));
  }
  return all;
}

void Report(const Tally& tally) {
  for (const auto& f : tally.failures) FAIL_CHECK(f);
  CHECK(tally.failures.empty());
}

TEST_CASE("IR facts and the redaction walker agree over the corpus") {
  std::vector<CorpusBody> corpus = Corpus();
  size_t files = testing::CorpusFiles().size();
  CHECK(files >= 50);
  CHECK(corpus.size() >= 150);
  Tally tally;
  for (const CorpusBody& c : corpus) {
    auto facts = ExtractFacts(c.protocol, c.body);
    // Every corpus body is a request some test sends successfully, except the
    // empty conversations (which still decode) and policy vectors that test
    // REQUEST_INVALID.
    if (c.label.find("policies") == std::string::npos) {
      CHECK_MESSAGE(facts.ok(), c.label << ": " << (facts.ok() ? "" : facts.error().message));
    }
    Check(c, c.body, tally);
  }
  MESSAGE("corpus: " << corpus.size() << " bodies (" << files << " files), " << tally.accepted
                     << " decoded");
  Report(tally);
}

TEST_CASE("IR facts and the redaction walker agree on every one-node mutation") {
  Tally tally;
  for (CorpusBody& c : Corpus()) Mutate(c, c.body, c.body, tally);
  MESSAGE("mutations: " << tally.bodies << " bodies, " << tally.accepted << " decoded");
  CHECK(tally.accepted > 10000);
  Report(tally);
}

}  // namespace
}  // namespace helm
