#include "core/ledger/ready_nonces.h"

#include <doctest/doctest.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/ledger/test_util.h"

namespace helm::ledger_internal {
namespace {

using ledger_testing::ManualClock;

crypto::KeyPair Key() {
  crypto::Init();
  return crypto::GenerateKeyPair();
}

TEST_CASE("ready nonces: none until made, at most the target, each signs once for its receipt id") {
  const crypto::KeyPair key = Key();
  const crypto::SigningKey signing(key.secret_key);
  ManualClock clock;
  ReadyNonces nonces(/*capacity=*/8, /*max_age_micros=*/100'000, &clock);
  CHECK_FALSE(nonces.Take().has_value());

  nonces.Refill(signing, 3);
  nonces.Refill(signing, 3);  // full: makes nothing more
  CHECK(nonces.size() == 3);
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    std::optional<ReadyNonces::Entry> entry = nonces.Take();
    REQUIRE(entry.has_value());
    CHECK(entry->receipt_id.rfind("rcpt_", 0) == 0);
    ids.insert(entry->receipt_id);
    REQUIRE(entry->nonce.ready());
    const std::string message = "receipt " + entry->receipt_id;
    const std::string signature = crypto::FinishSignature(message, signing, entry->nonce);
    CHECK(crypto::Verify(message, signature, key.public_key));
    CHECK_FALSE(crypto::Verify(message + "x", signature, key.public_key));
    CHECK_FALSE(entry->nonce.ready());  // spent
  }
  CHECK(ids.size() == 3);
  CHECK_FALSE(nonces.Take().has_value());
  CHECK(nonces.size() == 0);
  nonces.Refill(signing, 100);
  CHECK(nonces.size() == 8);  // the capacity
}

TEST_CASE("ready nonces older than max_age are dropped, and a refill replaces them") {
  const crypto::KeyPair key = Key();
  const crypto::SigningKey signing(key.secret_key);
  ManualClock clock;
  ReadyNonces nonces(8, 100'000, &clock);
  nonces.Refill(signing, 2);
  clock.Advance(100'000);
  CHECK(nonces.Take().has_value());  // exactly max_age old: still fresh
  clock.Advance(1);
  CHECK_FALSE(nonces.Take().has_value());  // the other one is dropped
  CHECK(nonces.size() == 0);

  nonces.Refill(signing, 2);
  clock.Advance(60'000);
  std::optional<ReadyNonces::Entry> first = nonces.Take();
  REQUIRE(first.has_value());
  nonces.Refill(signing, 2);  // one new, made 60 ms after the other
  clock.Advance(50'000);      // the older one is now stale, the new one is not
  std::optional<ReadyNonces::Entry> second = nonces.Take();
  REQUIRE(second.has_value());
  CHECK(second->receipt_id != first->receipt_id);
  CHECK_FALSE(nonces.Take().has_value());  // the stale one was dropped, not handed out
}

TEST_CASE(
    "the fill target: half a max_age of takes at the measured rate, at least 2, at most the pool") {
  // 30,000 takes a second hold 1,500 for 50 ms: the whole pool.
  CHECK(FillTarget(300, 10'000, 100'000, 512) == 512);
  // 1,000 a second hold 50.
  CHECK(FillTarget(1'000, 1'000'000, 100'000, 512) == 50);
  CHECK(FillTarget(10, 10'000, 100'000, 512) == 50);
  // A take now and then holds the least.
  CHECK(FillTarget(1, 10'000'000, 100'000, 512) == 2);
  CHECK(FillTarget(0, 10'000, 100'000, 512) == 2);
  CHECK(FillTarget(5, 0, 100'000, 512) == 512);   // no time measured: the pool
  CHECK(FillTarget(5, 10'000, 100'000, 1) == 1);  // a pool of one
  // Absurd counts do not wrap round to a small target.
  CHECK(FillTarget(UINT64_MAX, 1, INT64_MAX / 4, 512) == 512);
}

// Polls `done` for up to 5 s.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// This process's threads named `name`.
std::vector<pid_t> ThreadsNamed(const std::string& name) {
  std::vector<pid_t> tids;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) {
      tids.push_back(static_cast<pid_t>(std::stol(task.path().filename().string())));
    }
  }
  return tids;
}

// The cores this process may run on.
size_t AllowedCpuCount() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  return static_cast<size_t>(CPU_COUNT(&allowed));
}

TEST_CASE(
    "the makers: one per core, pinned to it, at idle priority, making none until taken from") {
  const crypto::KeyPair key = Key();
  const crypto::SigningKey signing(key.secret_key);
  // A max_age of 100 s: one take in the first seconds asks for the whole pool.
  ReadyNonces nonces(/*capacity=*/16, /*max_age_micros=*/100'000'000, &SystemClock());
  nonces.StartMakers(signing);
  const size_t cores = std::min(AllowedCpuCount(), ReadyNonces::kMaxMakers);
  REQUIRE(Eventually([&] { return ThreadsNamed("helm-nonces").size() == cores; }));
  std::set<int> pinned;
  for (pid_t tid : ThreadsNamed("helm-nonces")) {
    CHECK(sched_getscheduler(tid) == SCHED_IDLE);
    cpu_set_t only;
    CPU_ZERO(&only);
    REQUIRE(sched_getaffinity(tid, sizeof only, &only) == 0);
    REQUIRE(CPU_COUNT(&only) == 1);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &only)) pinned.insert(cpu);
    }
  }
  CHECK(pinned.size() == cores);  // each on a core of its own
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(nonces.size() == 0);  // nobody asked: none made

  CHECK_FALSE(nonces.Take().has_value());  // none yet; the makers are woken
  REQUIRE(Eventually([&] { return nonces.size() == 16; }));
  std::set<std::string> ids;
  for (int round = 0; round < 5'000 && ids.size() < 20; ++round) {
    std::optional<ReadyNonces::Entry> entry = nonces.Take();
    if (!entry) {  // a maker holds the lock, or has not caught up
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    ids.insert(entry->receipt_id);
    const std::string message = "receipt " + entry->receipt_id;
    CHECK(crypto::Verify(message, crypto::FinishSignature(message, signing, entry->nonce),
                         key.public_key));
  }
  CHECK(ids.size() == 20);  // more than the pool: the makers refilled it
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // their last round is over
  // Refilled to the target by the last take below three quarters of it,
  // and taken from since by takes that woke nobody.
  CHECK(nonces.size() >= 12);
  CHECK(nonces.size() <= 16);

  while (nonces.size() > 12) (void)nonces.Take();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(nonces.size() == 12);  // three quarters of the target: nobody woken
  while (nonces.size() >= 12) (void)nonces.Take();
  REQUIRE(Eventually([&] { return nonces.size() == 16; }));  // below: filled up again
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(nonces.size() == 16);  // never beyond the capacity
}

TEST_CASE("the makers hold what the measured rate of takes asks, between them no more") {
  const crypto::KeyPair key = Key();
  const crypto::SigningKey signing(key.secret_key);
  ManualClock clock;
  ReadyNonces nonces(/*capacity=*/64, /*max_age_micros=*/100'000, &clock);
  nonces.StartMakers(signing);
  clock.Advance(1'000'000);
  CHECK_FALSE(nonces.Take().has_value());  // one take in a second: the least, 2
  REQUIRE(Eventually([&] { return nonces.size() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(nonces.size() == 2);  // however many makers woke

  // 41 takes in 10 ms: 205 for 50 ms, the whole pool.
  int taken = 0;
  for (int i = 0; i < 40; ++i) taken += nonces.Take().has_value() ? 1 : 0;
  CHECK(taken >= 2);
  clock.Advance(10'000);
  (void)nonces.Take();
  REQUIRE(Eventually([&] { return nonces.size() == 64; }));
}

TEST_CASE("the makers stop with their pool, mid-round or asleep") {
  const crypto::KeyPair key = Key();
  const crypto::SigningKey signing(key.secret_key);
  for (int i = 0; i < 20; ++i) {
    ReadyNonces nonces(1024, 100'000, &SystemClock());
    nonces.StartMakers(signing);
    for (int t = 0; t < 600; ++t) (void)nonces.Take();  // a round of up to 1024
    if (i % 2 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }  // each destructor joins its makers
  CHECK(ThreadsNamed("helm-nonces").empty());
}

}  // namespace
}  // namespace helm::ledger_internal
