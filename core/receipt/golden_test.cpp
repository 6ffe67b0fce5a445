// Writes a small signed export for the independent verifier (sdk/python) when
// HELM_WRITE_GOLDEN=<path> is set: <path> gets a 5-receipt chain (one line per
// stored receipt, '\n'-terminated) and <path>.pub the signer's public key in
// hex. Without the variable, the same chain is built and verified in memory.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/receipt/test_chain.h"
#include "core/receipt/verify.h"

namespace helm::receipt {

TEST_CASE("golden export: five receipts exercising JCS corners") {
  testing::ChainBuilder b("ldg_golden");
  // Member names and values that sort or escape differently under a naive
  // serializer: astral vs. BMP-private-use keys, controls, quotes, non-ASCII.
  Json odd = {{"\xEF\xAC\xB3", 1}, {"\xF0\x9F\x98\x80", 2}, {"\xC3\xB6", 3}, {"Z", 4}};
  std::vector<std::string> lines;
  lines.push_back(b.Append(
      "decision", Json{{"verdict", "ALLOW"},
                       {"principal", {{"agent", "agent-\xC3\xBC\xF0\x9F\x98\x80"}, {"api_key_id", "k1"}}},
                       {"reason_code", "tab\there \"q\" \\ \x01\x1f\x7f </script>"},
                       {"note", odd},
                       {"usage", {{"in", 9007199254740993LL}, {"out", -1}, {"cached", 0}}}}));
  lines.push_back(b.Outcome(1));
  lines.push_back(b.Decision());  // left without an outcome
  lines.push_back(b.Decision("DENY"));
  lines.push_back(b.Checkpoint());

  ChainVerifier v({b.key().public_key});
  for (const auto& line : lines) v.Add(line);
  auto report = v.Finish();
  CHECK(report.integrity_ok);
  CHECK(report.trust_ok);
  CHECK(report.decisions_without_outcome == std::vector<std::string>{"rcpt_3"});

  const char* path = std::getenv("HELM_WRITE_GOLDEN");
  if (path == nullptr || *path == '\0') return;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const auto& line : lines) out << line << '\n';
  std::ofstream pub(std::string(path) + ".pub", std::ios::trunc);
  pub << crypto::HexEncode(b.key().public_key) << '\n';
  REQUIRE(out.good());
  REQUIRE(pub.good());
}

}  // namespace helm::receipt
