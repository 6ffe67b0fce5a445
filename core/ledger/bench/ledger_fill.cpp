// Appends about N receipts (whole rounds of the templates) to a data dir's ledger, copied in turn from template
// receipts (an export of a real run), for scripts/ledger-scale.sh: a ledger
// of millions of receipts signed with the data dir's own key, which helm can
// then open, verify and serve (RELIABILITY.md M6). Without syncs: a fill is
// a setup step, not a measurement of appends (scripts/bench-ledger.sh).
//
//   helm_ledger_fill --data-dir DIR --templates FILE.jsonl --receipts N [--writers W]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/boundary/data_dir.h"
#include "core/common/json.h"
#include "core/ledger/ledger.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "helm_ledger_fill: %s\n", message.c_str());
  return 1;
}

// A template is appended as a copy with a fresh receipt id; an outcome's
// `parent` then names the copy of its decision made in the same round.
struct Template {
  helm::Json receipt;  // without receipt_id and the ledger-filled members
  std::string original_id;
};

std::vector<Template> ReadTemplates(const std::string& path) {
  std::vector<Template> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    helm::Result<helm::Json> receipt = helm::ParseStrictJson(line);
    if (!receipt.ok() || receipt->value("kind", "") == "checkpoint") continue;
    std::string id = receipt->value("receipt_id", "");
    receipt->erase("receipt_id");
    out.push_back({std::move(*receipt), std::move(id)});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string root;
  std::string templates_path;
  uint64_t count = 0;
  int writers = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--data-dir") root = argv[i + 1];
    if (flag == "--templates") templates_path = argv[i + 1];
    if (flag == "--receipts") count = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--writers") writers = std::max(1, std::atoi(argv[i + 1]));
  }
  if (root.empty() || templates_path.empty() || count == 0) {
    return Fail("usage: --data-dir DIR --templates FILE.jsonl --receipts N [--writers W]");
  }
  helm::crypto::Init();
  const std::vector<Template> templates = ReadTemplates(templates_path);
  if (templates.empty()) return Fail("no decision or outcome receipt in " + templates_path);
  helm::Result<helm::DataDir> dir = helm::OpenDataDir(root);
  if (!dir.ok()) return Fail(dir.error().message);
  helm::LedgerOptions options;
  options.path = dir->LedgerPath();
  options.sync = false;
  auto ledger = helm::Ledger::Open(options, dir->signing_key);
  if (!ledger.ok()) return Fail(ledger.error().message);

  const uint64_t rounds = (count + templates.size() - 1) / templates.size();
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      for (uint64_t round; !failed && (round = next.fetch_add(1)) < rounds;) {
        std::map<std::string, std::string> copies;  // template id -> this round's copy
        for (const Template& t : templates) {
          helm::Json receipt = t.receipt;
          if (auto parent = copies.find(receipt.value("parent", "")); parent != copies.end()) {
            receipt["parent"] = parent->second;
          }
          helm::Result<helm::Appended> appended = (*ledger)->Append(receipt);
          if (!appended.ok()) {
            if (!failed.exchange(true)) Fail(appended.error().message);
            return;
          }
          copies[t.original_id] = appended->receipt_id;
        }
        if ((round + 1) * templates.size() % 1'000'000 < templates.size()) {
          std::fprintf(stderr, "helm_ledger_fill: %llu receipts\n",
                       static_cast<unsigned long long>((round + 1) * templates.size()));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (failed) return 1;
  const uint64_t appended = rounds * templates.size();
  std::printf("appended=%llu head_seq=%llu seconds=%.1f appends/s=%.0f\n",
              static_cast<unsigned long long>(appended),
              static_cast<unsigned long long>((*ledger)->HeadSeq()), seconds,
              static_cast<double>(appended) / seconds);
  return 0;
}
