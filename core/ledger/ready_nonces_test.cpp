#include "core/ledger/ready_nonces.h"

#include <doctest/doctest.h>

#include <sched.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>

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
  clock.Advance(50'000);   // the older one is now stale, the new one is not
  std::optional<ReadyNonces::Entry> second = nonces.Take();
  REQUIRE(second.has_value());
  CHECK(second->receipt_id != first->receipt_id);
  CHECK_FALSE(nonces.Take().has_value());  // the stale one was dropped, not handed out
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

// The scheduling policy of this process's thread named `name`, or -1.
int PolicyOfThread(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) {
      return sched_getscheduler(static_cast<pid_t>(std::stol(task.path().filename().string())));
    }
  }
  return -1;
}

TEST_CASE("the maker: idle until taken from, then refills what was taken, at idle priority") {
  const crypto::KeyPair key = Key();
  const crypto::SigningKey signing(key.secret_key);
  ReadyNonces nonces(/*capacity=*/16, /*max_age_micros=*/10'000'000, &SystemClock());
  nonces.StartMaker(signing);
  REQUIRE(Eventually([] { return PolicyOfThread("helm-nonces") != -1; }));
  CHECK(PolicyOfThread("helm-nonces") == SCHED_IDLE);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(nonces.size() == 0);  // nobody asked: none made

  CHECK_FALSE(nonces.Take().has_value());  // none yet; the maker is woken
  REQUIRE(Eventually([&] { return nonces.size() == 2; }));  // twice the takes, at least 2
  std::set<std::string> ids;
  for (int round = 0; round < 20; ++round) {
    std::optional<ReadyNonces::Entry> entry = nonces.Take();
    if (!entry) continue;  // the maker holds the lock or has not caught up
    ids.insert(entry->receipt_id);
    const std::string message = "receipt " + entry->receipt_id;
    CHECK(crypto::Verify(message, crypto::FinishSignature(message, signing, entry->nonce),
                         key.public_key));
  }
  CHECK(ids.size() >= 2);
  REQUIRE(Eventually([&] { return nonces.size() > 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(nonces.size() <= 16);  // never beyond the capacity
}

TEST_CASE("the maker stops with its pool, mid-round or asleep") {
  const crypto::KeyPair key = Key();
  const crypto::SigningKey signing(key.secret_key);
  for (int i = 0; i < 20; ++i) {
    ReadyNonces nonces(1024, 100'000, &SystemClock());
    nonces.StartMaker(signing);
    for (int t = 0; t < 600; ++t) (void)nonces.Take();  // a round of up to 1024
    if (i % 2 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }  // each destructor joins its maker
  CHECK(PolicyOfThread("helm-nonces") == -1);
}

}  // namespace
}  // namespace helm::ledger_internal
