// Differential test of the two readers of a client request
// (facts_differential.h says what is compared and why), over the corpus of
// facts_corpus.h and every one-node mutation of it (a node replaced, or a
// member the readers look for added to an object).
#include <doctest/doctest.h>

#include "core/policy/facts_corpus.h"
#include "core/policy/facts_differential.h"

namespace helm {
namespace {

using testing::CorpusBody;

struct Tally {
  size_t bodies = 0;    // bodies checked
  size_t accepted = 0;  // of which the decoder accepted
  std::vector<std::string> failures;
};

void Check(const CorpusBody& c, const Json& body, Tally& tally) {
  bool accepted = false;
  std::string diff = testing::FactsDisagreement(c.protocol, body, &accepted);
  ++tally.bodies;
  tally.accepted += accepted;
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
