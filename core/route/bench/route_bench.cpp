// Per-request cost of routing: classification, model selection and the
// capability filter over examples/helm.toml, for the request shapes of the
// proxy benchmark (docs/performance.md, "Routing").
//   helm_route_bench [CONFIG] [ITERATIONS]
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/route/capability.h"
#include "core/route/selection.h"

using namespace helm::route;

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : "examples/helm.toml";
  int iterations = argc > 2 ? std::stoi(argv[2]) : 200000;
  auto env = [](const std::string&) -> std::optional<std::string> { return "bench-key"; };
  auto config = LoadConfigFile(path, env);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 2;
  }
  const std::string prompt = "Explain consistent hashing in two sentences.";
  struct Shape {
    const char* name;
    RouteFacts facts;
  };
  std::vector<Shape> shapes;
  RouteFacts plain;
  plain.model = "auto";
  plain.texts = {prompt};
  plain.input_tokens = EstimateTokens(prompt.size());
  shapes.push_back({"auto, plain text", plain});
  RouteFacts named = plain;
  named.model = "gpt-4o-mini";
  shapes.push_back({"named model (benchmark body)", named});
  RouteFacts tools = plain;
  tools.has_tools = true;
  shapes.push_back({"auto, tools", tools});
  for (const Shape& s : shapes) {
    size_t candidates = 0;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) {
      auto plan = SelectRoute(*config, s.facts, {}, false);
      if (!plan.ok()) return 1;
      candidates += FilterCandidates(plan->candidates, s.facts).usable.size();
    }
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start)
                    .count() / iterations;
    std::printf("%-30s %8.2f us/request (%zu candidates)\n", s.name, ns / 1000.0,
                candidates / static_cast<size_t>(iterations));
  }
  return 0;
}
