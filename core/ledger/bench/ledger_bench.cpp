// Ledger append throughput: W concurrent writers appending decision-sized
// receipts for about two seconds each, one line per configuration. Each
// configuration starts from an empty ledger in a fresh directory under
// --dir (default: the system temp dir), removed afterwards.
//
//   helm_ledger_bench [--seconds S] [--dir DIR] [--only N]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/ledger/ledger.h"

namespace {

using helm::Json;
using Clock = std::chrono::steady_clock;

Json SampleDecision(int writer) {
  return Json{
      {"kind", "decision"},
      {"decision_id", "dec_01JD0000000000000000000000"},
      {"correlation_id", "cor_01JD0000000000000000000000"},
      {"principal", {{"agent", "agent-" + std::to_string(writer % 8)}, {"api_key_id", "key_1"}}},
      {"verdict", "ALLOW"},
      {"reason_code", "policy.allow"},
      {"rule_id", "allow-default"},
      {"policy", {{"id", "default"}, {"version", 3}, {"hash", "sha256:" + std::string(64, 'a')}}},
      {"request",
       {{"protocol", "openai"},
        {"endpoint", "/v1/chat/completions"},
        {"model", "gpt-4o-mini"},
        {"stream", false},
        {"hash", "sha256:" + std::string(64, 'b')}}}};
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Outcome {
  double cpu_us = 0;  // process CPU time per append
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  uint64_t failures = 0;
};

Outcome Run(const std::string& dir, int writers, bool sync, double seconds) {
  helm::LedgerOptions options;
  options.path = dir;
  options.sync = sync;
  auto key = helm::crypto::GenerateKeyPair();
  auto ledger = helm::Ledger::Open(options, key);
  if (!ledger.ok()) {
    std::fprintf(stderr, "open failed: %s\n", ledger.error().message.c_str());
    std::exit(1);
  }
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> failures{0};
  std::vector<std::vector<uint32_t>> latencies(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      const Json sample = SampleDecision(w);
      while (!go) std::this_thread::yield();
      while (!stop) {
        auto t0 = Clock::now();
        if (!(*ledger)->Append(sample).ok()) ++failures;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
        latencies[w].push_back(static_cast<uint32_t>(us.count()));
      }
    });
  }
  const uint64_t start_seq = (*ledger)->HeadSeq();
  auto t0 = Clock::now();
  const double cpu0 = CpuSeconds();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t end_seq = (*ledger)->HeadSeq();
  auto elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  stop = true;
  for (auto& t : threads) t.join();
  std::vector<uint32_t> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Outcome out;
  out.per_second = static_cast<double>(end_seq - start_seq) / elapsed;
  out.cpu_us = cpu * 1e6 / static_cast<double>(std::max<uint64_t>(1, end_seq - start_seq));
  if (!all.empty()) {
    out.p50_us = all[all.size() / 2];
    out.p99_us = all[all.size() * 99 / 100];
  }
  out.failures = failures;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  int only = -1;  // run only configuration N (0-3), for profiling
  std::string base = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
    if (flag == "--dir") base = argv[i + 1];
    if (flag == "--only") only = std::atoi(argv[i + 1]);
  }
  helm::crypto::Init();
  struct Config {
    int writers;
    bool sync;
  };
  const Config configs[] = {{1, true}, {8, true}, {64, true}, {64, false}};
  for (int n = 0; n < 4; ++n) {
    if (only >= 0 && n != only) continue;
    const Config c = configs[n];
    std::string dir = base + "/helm-ledger-bench-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    Outcome o = Run(dir, c.writers, c.sync, seconds);
    std::filesystem::remove_all(dir);
    std::printf(
        "writers=%-3d sync=%-6s appends/s=%8.0f  latency p50=%6.0f us p99=%6.0f us  "
        "cpu/append=%5.1f us%s\n",
        c.writers, c.sync ? "always" : "none", o.per_second, o.p50_us, o.p99_us, o.cpu_us,
        o.failures ? "  FAILURES" : "");
    std::fflush(stdout);
  }
  return 0;
}
