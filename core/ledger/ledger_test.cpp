#include "core/ledger/ledger.h"

#include <doctest/doctest.h>
#include <pthread.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <rocksdb/db.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/ledger/direct_io.h"
#include "core/ledger/ledger_layout.h"
#include "core/ledger/rocks_ledger.h"
#include "core/ledger/test_util.h"
#include "core/receipt/receipt.h"
#include "core/receipt/verify.h"

namespace helm {
namespace {

using ledger_testing::ManualClock;
using ledger_testing::TempDir;

crypto::KeyPair TestKey() {
  crypto::Init();
  return crypto::GenerateKeyPair();
}

LedgerOptions Options(const TempDir& dir) {
  LedgerOptions options;
  options.path = dir.Sub("ledger");
  options.checkpoint_every = 0;
  options.checkpoint_interval_seconds = 0;
  return options;
}

Json Decision(const std::string& agent, int n = 0) {
  return Json{{"kind", "decision"},
              {"verdict", "ALLOW"},
              {"reason_code", "ok"},
              {"n", n},
              {"principal", {{"agent", agent}, {"api_key_id", "key_1"}}}};
}

Json Parse(std::string_view stored) {
  Result<Json> j = ParseStrictJson(stored);
  REQUIRE(j.ok());
  return *j;
}

// A point read (Get, GetById) that must not fail: the stored receipt, or
// nullopt when the ledger has none.
std::optional<std::string> Stored(const Result<std::optional<std::string>>& read) {
  REQUIRE(read.ok());
  return *read;
}

// A before_write hook that fails every write while `fail` is set.
std::function<Status()> FailWhile(const std::atomic<bool>& fail) {
  return [&fail]() -> Status {
    if (fail) return MakeError(ErrorCode::kUnavailable, "injected EIO");
    return Status::Ok();
  };
}

receipt::VerifyReport VerifyAll(const Ledger& ledger, const crypto::KeyPair& key) {
  receipt::ChainVerifier verifier({key.public_key});
  Status read = ledger.ForEach(1, UINT64_MAX, [&](uint64_t, std::string_view stored) {
    verifier.Add(stored);
    return true;
  });
  CHECK(read.ok());
  return verifier.Finish();
}

TEST_CASE("a new signing key is recorded: a key_rotation receipt names the previous signer") {
  TempDir dir;
  const crypto::KeyPair a = TestKey();
  const crypto::KeyPair b = TestKey();
  Json signer_a;
  {
    auto ledger = Ledger::Open(Options(dir), a);
    REQUIRE(ledger.ok());
    REQUIRE((*ledger)->Append(Decision("alice", 1)).ok());
    auto second = (*ledger)->Append(Decision("alice", 2));
    REQUIRE(second.ok());
    signer_a = Parse(second->stored)["signer"];
  }
  {
    auto ledger = Ledger::Open(Options(dir), b);
    REQUIRE(ledger.ok());
    REQUIRE((*ledger)->HeadSeq() == 3);  // written by the open
    Json rotation = Parse(*Stored((*ledger)->Get(3)));
    CHECK(rotation["kind"] == "key_rotation");
    CHECK(rotation["previous_signer"] == signer_a);
    CHECK(rotation["signer"]["key_id"] == crypto::KeyId(b.public_key));
    CHECK(receipt::CheckSignature(rotation).ok());
    REQUIRE((*ledger)->Append(Decision("alice", 3)).ok());
  }
  {
    auto ledger = Ledger::Open(Options(dir), b);  // the same key again: nothing to record
    REQUIRE(ledger.ok());
    CHECK((*ledger)->HeadSeq() == 4);
  }
  auto ledger = Ledger::Open(Options(dir), a);  // and back
  REQUIRE(ledger.ok());
  REQUIRE((*ledger)->HeadSeq() == 5);
  Json back = Parse(*Stored((*ledger)->Get(5)));
  CHECK(back["kind"] == "key_rotation");
  CHECK(back["previous_signer"]["key_id"] == crypto::KeyId(b.public_key));
  receipt::ChainVerifier verifier({a.public_key, b.public_key});
  REQUIRE((*ledger)->ForEach(1, UINT64_MAX, [&](uint64_t, std::string_view stored) {
                     verifier.Add(stored);
                     return true;
                   }).ok());
  receipt::VerifyReport report = verifier.Finish();
  CHECK(report.integrity_ok);
  CHECK(report.trust_ok);
  CHECK(report.head_seq == 5);
}

TEST_CASE("append, read back, reopen: seq and chain continue") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  std::string ledger_id;
  std::string head_hash;
  {
    auto ledger = Ledger::Open(Options(dir), key);
    REQUIRE(ledger.ok());
    ledger_id = (*ledger)->ledger_id();
    // The open-time self-check found the template path equal to receipt::Sign.
    CHECK(dynamic_cast<ledger_internal::RocksLedger&>(**ledger).fast_signing());
    CHECK(ledger_id.rfind("ldg_", 0) == 0);
    CHECK((*ledger)->HeadSeq() == 0);
    CHECK((*ledger)->HeadHash() == receipt::kGenesisPrevHash);
    for (uint64_t i = 1; i <= 3; ++i) {
      auto a = (*ledger)->Append(Decision("alice"));
      REQUIRE(a.ok());
      CHECK(a->seq == i);
      CHECK(a->receipt_id.rfind("rcpt_", 0) == 0);
      CHECK(Stored((*ledger)->Get(i)) == a->stored);
      Json j = Parse(a->stored);
      CHECK(j["seq"] == i);
      CHECK(j["v"] == receipt::kVersion);
      CHECK(j["ledger_id"] == ledger_id);
      CHECK(receipt::CheckSignature(j).ok());
    }
    CHECK(Parse(*Stored((*ledger)->Get(1)))["prev_hash"] == receipt::kGenesisPrevHash);
    CHECK(Parse(*Stored((*ledger)->Get(2)))["prev_hash"] ==
          crypto::Sha256Tagged(*Stored((*ledger)->Get(1))));
    head_hash = (*ledger)->HeadHash();
    CHECK(head_hash == crypto::Sha256Tagged(*Stored((*ledger)->Get(3))));
  }
  auto ledger = Ledger::Open(Options(dir), key);
  REQUIRE(ledger.ok());
  CHECK((*ledger)->ledger_id() == ledger_id);
  CHECK((*ledger)->HeadSeq() == 3);
  CHECK((*ledger)->HeadHash() == head_hash);
  auto a = (*ledger)->Append(Decision("bob"));
  REQUIRE(a.ok());
  CHECK(a->seq == 4);
  CHECK(Parse(a->stored)["prev_hash"] == head_hash);
  auto report = VerifyAll(**ledger, key);
  CHECK(report.integrity_ok);
  CHECK(report.trust_ok);
  CHECK(report.head_seq == 4);
}

TEST_CASE("ledger-filled members are overwritten, caller receipt_id kept, bad input refused") {
  TempDir dir;
  auto ledger = Ledger::Open(Options(dir), TestKey());
  REQUIRE(ledger.ok());
  Json r = Decision("alice");
  r["seq"] = 99;
  r["ledger_id"] = "ldg_forged";
  r["signature"] = "x";
  r["receipt_id"] = "rcpt_mine";
  auto a = (*ledger)->Append(r);
  REQUIRE(a.ok());
  Json j = Parse(a->stored);
  CHECK(j["seq"] == 1);
  CHECK(j["ledger_id"] == (*ledger)->ledger_id());
  CHECK(a->receipt_id == "rcpt_mine");
  CHECK((*ledger)->Append(r).error().code == ErrorCode::kConflict);  // duplicate id
  Json with_float = Decision("alice");
  with_float["cost"] = 1.5;
  CHECK((*ledger)->Append(with_float).error().code == ErrorCode::kInvalidArgument);
  CHECK((*ledger)->Append(Json::array()).error().code == ErrorCode::kInvalidArgument);
  CHECK((*ledger)->HeadSeq() == 1);
}

TEST_CASE("GetById and List with an agent filter") {
  TempDir dir;
  auto ledger = Ledger::Open(Options(dir), TestKey());
  REQUIRE(ledger.ok());
  std::vector<Appended> all;
  for (int i = 0; i < 10; ++i) {
    auto a = (*ledger)->Append(Decision(i % 3 == 0 ? "alice" : "bob", i));
    REQUIRE(a.ok());
    all.push_back(*a);
  }
  CHECK((*ledger)->Append(Json{{"kind", "outcome"}}).ok());  // no principal: not indexed
  CHECK(Stored((*ledger)->GetById(all[4].receipt_id)) == all[4].stored);
  CHECK_FALSE(Stored((*ledger)->GetById("rcpt_none")).has_value());
  CHECK_FALSE(Stored((*ledger)->Get(999)).has_value());

  auto list = [&](uint64_t from, size_t limit, std::string_view agent) {
    Result<std::vector<Appended>> page = (*ledger)->List(from, limit, agent);
    REQUIRE(page.ok());
    return std::move(page).value();
  };
  auto alice = list(1, 100, "alice");  // seq 1, 4, 7, 10
  REQUIRE(alice.size() == 4);
  CHECK(alice[0].seq == 1);
  CHECK(alice[3].seq == 10);
  CHECK(alice[1].receipt_id == all[3].receipt_id);
  CHECK(alice[1].stored == all[3].stored);
  auto alice_from_5 = list(5, 1, "alice");
  REQUIRE(alice_from_5.size() == 1);
  CHECK(alice_from_5[0].seq == 7);
  CHECK(list(1, 100, "carol").empty());
  CHECK(list(1, 100, "ali").empty());  // a prefix of a name is another agent

  auto page = list(9, 100, "");
  REQUIRE(page.size() == 3);
  CHECK(page[0].seq == 9);
  CHECK(page[2].seq == 11);
  CHECK(list(1, 4, "").size() == 4);
  std::vector<uint64_t> seen;
  Status read = (*ledger)->ForEach(3, 6, [&](uint64_t seq, std::string_view) {
    seen.push_back(seq);
    return seq < 5;
  });
  CHECK(read.ok());
  CHECK(seen == std::vector<uint64_t>{3, 4, 5});
}

TEST_CASE("16 concurrent appenders: contiguous seq, every result readable, chain verifies") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.checkpoint_every = 100;
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  constexpr int kThreads = 16;
  constexpr int kEach = 40;
  std::vector<std::vector<Appended>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto a = (*ledger)->Append(Decision("agent" + std::to_string(t), i));
        if (a.ok()) results[t].push_back(*a);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> seqs;
  for (const auto& rs : results) {
    CHECK(rs.size() == kEach);
    for (const Appended& a : rs) {
      seqs.insert(a.seq);
      CHECK(Stored((*ledger)->Get(a.seq)) == a.stored);
      CHECK(Stored((*ledger)->GetById(a.receipt_id)) == a.stored);
    }
  }
  const uint64_t total = kThreads * kEach + kThreads * kEach / 100;  // + checkpoints
  CHECK(seqs.size() == kThreads * kEach);
  CHECK((*ledger)->HeadSeq() == total);
  auto agent3 = (*ledger)->List(1, 1000, "agent3");
  REQUIRE(agent3.ok());
  CHECK(agent3->size() == kEach);
  auto report = VerifyAll(**ledger, key);
  CHECK(report.integrity_ok);
  CHECK(report.first_broken_detail == "");
  CHECK(report.receipts == total);
  CHECK(report.checkpoints == kThreads * kEach / 100);
}

TEST_CASE("a checkpoint every N receipts, and on demand") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.checkpoint_every = 5;
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  for (int i = 0; i < 12; ++i) REQUIRE((*ledger)->Append(Decision("a", i)).ok());
  // r1..r5, cp6, r7..r11, cp12, r13, r14
  CHECK((*ledger)->HeadSeq() == 14);
  for (uint64_t seq : {6, 12}) {
    Json cp = Parse(*Stored((*ledger)->Get(seq)));
    CHECK(cp["kind"] == "checkpoint");
    CHECK(cp["checkpoint"]["seq"] == seq - 1);
    CHECK(cp["checkpoint"]["head_hash"] == crypto::Sha256Tagged(*Stored((*ledger)->Get(seq - 1))));
  }
  auto forced = (*ledger)->Checkpoint();
  REQUIRE(forced.ok());
  CHECK(forced->seq == 15);
  CHECK(Parse(forced->stored)["checkpoint"]["seq"] == 14);
  auto report = VerifyAll(**ledger, key);
  CHECK(report.integrity_ok);
  CHECK(report.checkpoints == 3);
}

TEST_CASE("the checkpoint counter survives a reopen") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.checkpoint_every = 4;
  {
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    for (int i = 0; i < 6; ++i) REQUIRE((*ledger)->Append(Decision("a")).ok());  // cp at 5
  }
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  for (int i = 0; i < 2; ++i) REQUIRE((*ledger)->Append(Decision("a")).ok());  // r8, r9, cp 10
  CHECK((*ledger)->HeadSeq() == 10);
  CHECK(Parse(*Stored((*ledger)->Get(10)))["kind"] == "checkpoint");
}

TEST_CASE("a checkpoint after the interval when there are new receipts") {
  TempDir dir;
  ManualClock clock;
  LedgerOptions options = Options(dir);
  options.clock = &clock;
  options.checkpoint_interval_seconds = 10;
  auto ledger = Ledger::Open(options, TestKey());
  REQUIRE(ledger.ok());
  REQUIRE((*ledger)->Append(Decision("a")).ok());
  CHECK((*ledger)->HeadSeq() == 1);
  clock.Advance(11'000'000);
  CHECK((*ledger)->WaitForAppend(1, std::chrono::milliseconds(3000)) == 2);
  Json cp = Parse(*Stored((*ledger)->Get(2)));
  CHECK(cp["kind"] == "checkpoint");
  CHECK(cp["checkpoint"]["seq"] == 1);
  CHECK(cp["time"] == FormatRfc3339Micros(clock.NowMicros()));
  clock.Advance(20'000'000);  // nothing new since that checkpoint: none more
  CHECK((*ledger)->WaitForAppend(2, std::chrono::milliseconds(1200)) == 2);
}

TEST_CASE("a failed write fails the whole batch and the next batch chains from the durable head") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  std::atomic<bool> fail{false};
  LedgerOptions options = Options(dir);
  options.before_write = FailWhile(fail);
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  REQUIRE((*ledger)->Append(Decision("a")).ok());
  const std::string durable_hash = (*ledger)->HeadHash();
  fail = true;
  auto failed = (*ledger)->Append(Decision("a"));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == ErrorCode::kUnavailable);
  CHECK(failed.error().message.find("injected EIO") != std::string::npos);
  CHECK((*ledger)->Checkpoint().error().code == ErrorCode::kUnavailable);
  CHECK((*ledger)->HeadSeq() == 1);
  fail = false;
  auto next = (*ledger)->Append(Decision("a"));
  REQUIRE(next.ok());
  CHECK(next->seq == 2);
  CHECK(Parse(next->stored)["prev_hash"] == durable_hash);
  CHECK(VerifyAll(**ledger, key).integrity_ok);
}

TEST_CASE("failed writes under concurrent appends: every acknowledged receipt is in the chain") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  std::atomic<int> writes{0};
  LedgerOptions options = Options(dir);
  options.checkpoint_every = 50;
  options.before_write = [&]() -> Status {  // every third batch write fails
    if (++writes % 3 == 0) return MakeError(ErrorCode::kUnavailable, "injected EIO");
    return Status::Ok();
  };
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  constexpr int kThreads = 12;
  constexpr int kEach = 30;
  std::vector<std::vector<Appended>> acknowledged(kThreads);
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto a = (*ledger)->Append(Decision("agent" + std::to_string(t), i));
        if (a.ok()) {
          acknowledged[t].push_back(*a);
        } else {
          CHECK(a.error().code == ErrorCode::kUnavailable);
          ++refused;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(refused > 0);  // the injection did bite
  size_t ok = 0;
  for (const auto& rs : acknowledged) {
    for (const Appended& a : rs) {
      ++ok;
      CHECK(Stored((*ledger)->Get(a.seq)) == a.stored);
      CHECK(Stored((*ledger)->GetById(a.receipt_id)) == a.stored);
    }
  }
  CHECK(ok + static_cast<size_t>(refused) == kThreads * kEach);
  auto report = VerifyAll(**ledger, key);  // contiguous from seq 1, chained, signed
  CHECK(report.integrity_ok);
  CHECK(report.first_broken_detail == "");
  CHECK(report.receipts == (*ledger)->HeadSeq());
  CHECK(report.receipts == ok + report.checkpoints);
}

// Detached appends' results, collected from the threads that complete them.
struct DetachedResults {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<Appended>> results;

  Ledger::DetachedDone Callback() {
    return [this](const Result<Appended>& r) {
      std::lock_guard<std::mutex> lock(mu);
      results.push_back(r);
      cv.notify_all();
    };
  }
  size_t WaitFor(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, timeout, [&] { return results.size() >= n; });
    return results.size();
  }
};

TEST_CASE("detached appends with nobody else appending are written by the ledger's own thread") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  auto ledger = Ledger::Open(Options(dir), key);
  REQUIRE(ledger.ok());
  DetachedResults done;
  for (int i = 0; i < 5; ++i) (*ledger)->AppendDetached(Decision("alice", i), done.Callback());
  REQUIRE(done.WaitFor(5, std::chrono::seconds(5)) == 5);
  std::set<uint64_t> seqs;
  for (const Result<Appended>& r : done.results) {
    REQUIRE(r.ok());
    seqs.insert(r->seq);
    CHECK(Stored((*ledger)->GetById(r->receipt_id)) == r->stored);
  }
  CHECK(seqs == std::set<uint64_t>{1, 2, 3, 4, 5});
  CHECK(VerifyAll(**ledger, key).integrity_ok);
}

TEST_CASE("with sync, detached appends wait for an Append to carry them in one write") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  std::atomic<int> writes{0};
  options.before_write = [&writes] {
    ++writes;
    return Status::Ok();
  };
  SUBCASE("an Append within the linger carries them") {
    options.detached_linger_us = 10'000'000;  // longer than the test
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    DetachedResults done;
    for (int i = 0; i < 3; ++i) (*ledger)->AppendDetached(Decision("alice", i), done.Callback());
    Result<Appended> carrier = (*ledger)->Append(Decision("bob"));
    REQUIRE(carrier.ok());
    REQUIRE(done.WaitFor(3, std::chrono::seconds(5)) == 3);
    CHECK(writes == 1);
    CHECK(carrier->seq == 1);  // the waiting caller leads, its own receipt first
    CHECK((*ledger)->HeadSeq() == 4);
  }
  SUBCASE("ids that run backwards in one write each find their own receipt") {
    // by_id entries are put in id order, not seq order (rocks_ledger.h).
    options.detached_linger_us = 10'000'000;
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    DetachedResults done;
    for (char c : std::string("zyxw")) {
      Json r = Decision("alice", c);
      r["receipt_id"] = std::string("rcpt_") + c;
      (*ledger)->AppendDetached(r, done.Callback());
    }
    Result<Appended> carrier = (*ledger)->Append(Decision("bob"));
    REQUIRE(carrier.ok());
    REQUIRE(done.WaitFor(4, std::chrono::seconds(5)) == 4);
    CHECK(writes == 1);
    for (const Result<Appended>& r : done.results) {
      REQUIRE(r.ok());
      CHECK(Stored((*ledger)->GetById(r->receipt_id)) == r->stored);
      CHECK(Parse(*Stored((*ledger)->Get(r->seq)))["receipt_id"] == r->receipt_id);
    }
    CHECK(Stored((*ledger)->GetById(carrier->receipt_id)) == carrier->stored);
  }
  SUBCASE("alone, they are written when the linger ends") {
    options.detached_linger_us = 50'000;
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    DetachedResults done;
    auto start = std::chrono::steady_clock::now();
    (*ledger)->AppendDetached(Decision("alice"), done.Callback());
    REQUIRE(done.WaitFor(1, std::chrono::seconds(5)) == 1);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(40));
    CHECK(writes == 1);
  }
}

TEST_CASE("without syncs a detached append is written in its caller's thread") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.sync = false;
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  std::thread::id written_on;
  DetachedResults done;
  Ledger::DetachedDone record = done.Callback();
  (*ledger)->AppendDetached(Decision("alice"), [&](const Result<Appended>& r) {
    written_on = std::this_thread::get_id();
    record(r);
  });
  REQUIRE(done.results.size() == 1);  // already written, without waking the ledger's thread
  CHECK(written_on == std::this_thread::get_id());
  REQUIRE(done.results[0].ok());
  CHECK(done.results[0]->seq == 1);
}

TEST_CASE("ready nonces: an idle ledger makes none, appends take those made after their demand") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.ready_nonces = 8;
  auto opened = Ledger::Open(options, key);
  REQUIRE(opened.ok());
  auto* ledger = dynamic_cast<ledger_internal::RocksLedger*>(opened->get());
  REQUIRE(ledger != nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(ledger->ready_nonce_count() == 0);
  REQUIRE(ledger->Append(Decision("bob", 0)).ok());  // found none: its own, and wakes the makers
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (ledger->ready_nonce_count() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(ledger->ready_nonce_count() == 2);

  Json own_id = Decision("bob");
  own_id["receipt_id"] = "rcpt_chosen";
  REQUIRE(ledger->Append(own_id).ok());  // a caller's id: its nonce is made for that id
  CHECK(ledger->ready_nonce_count() == 2);
  std::set<std::string> ids;
  for (int i = 1; i <= 40; ++i) {
    Result<Appended> a = ledger->Append(Decision("bob", i));
    REQUIRE(a.ok());
    CHECK(a->receipt_id.rfind("rcpt_", 0) == 0);
    ids.insert(a->receipt_id);
  }
  CHECK(ids.size() == 40);
  CHECK(ledger->ready_nonce_count() <= 8);
  CHECK(VerifyAll(*ledger, key).integrity_ok);
  CHECK(ledger->HeadSeq() == 42);
}

TEST_CASE("detached appends among concurrent appenders: all written, chain verifies") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.max_batch = 7;  // batches end mid-queue, between detached and waiting pendings
  SUBCASE("sync on: the ticker leads for detached ones") {}
  SUBCASE("sync off: their callers lead") { options.sync = false; }
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  DetachedResults done;
  constexpr int kThreads = 8;
  constexpr int kEach = 40;
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Like the proxy: a decision waits to be durable, its outcome does not.
        if ((*ledger)->Append(Decision("agent" + std::to_string(t), i)).ok()) ++acknowledged;
        (*ledger)->AppendDetached(Decision("outcome" + std::to_string(t), i), done.Callback());
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(done.WaitFor(kThreads * kEach, std::chrono::seconds(10)) == kThreads * kEach);
  CHECK(acknowledged == kThreads * kEach);
  for (const Result<Appended>& r : done.results) {
    REQUIRE(r.ok());
    CHECK(Stored((*ledger)->Get(r->seq)) == r->stored);
  }
  CHECK((*ledger)->HeadSeq() == 2 * kThreads * kEach);
  auto outcome3 = (*ledger)->List(1, 1000, "outcome3");
  REQUIRE(outcome3.ok());
  CHECK(outcome3->size() == kEach);
  auto report = VerifyAll(**ledger, key);
  CHECK(report.integrity_ok);
  CHECK(report.receipts == 2 * kThreads * kEach);
}

ReceiptDraft Draft(const Json& receipt) {
  Result<ReceiptDraft> draft = ReceiptDraft::FromJson(receipt);
  REQUIRE(draft.ok());
  return std::move(draft).value();
}

TEST_CASE("AppendAsync with nobody signing writes in the caller's thread before returning") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.detached_linger_us = 10'000'000;  // longer than the test: no lingering
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  std::thread::id written_on;
  DetachedResults done;
  Ledger::DetachedDone record = done.Callback();
  Result<std::string> id = (*ledger)->AppendAsync(
      Draft(Decision("alice")), [&](const Result<Appended>& r) {
        written_on = std::this_thread::get_id();
        record(r);
      });
  REQUIRE(id.ok());
  REQUIRE(done.results.size() == 1);  // already done, without waiting
  CHECK(written_on == std::this_thread::get_id());
  REQUIRE(done.results[0].ok());
  CHECK(done.results[0]->receipt_id == *id);
  CHECK(done.results[0]->seq == 1);
  CHECK(Stored((*ledger)->GetById(*id)) == done.results[0]->stored);
}

TEST_CASE("AppendAsync from many threads: never lingers, every receipt durable, chain verifies") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.detached_linger_us = 10'000'000;  // a lingering receipt would miss the deadline
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  DetachedResults done;
  std::mutex ids_mu;
  std::set<std::string> ids;
  std::vector<std::thread> threads;
  constexpr int kThreads = 8, kEach = 40;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Result<std::string> id =
            (*ledger)->AppendAsync(Draft(Decision("agent" + std::to_string(t), i)), done.Callback());
        CHECK(id.ok());
        if (!id.ok()) continue;
        std::lock_guard<std::mutex> lock(ids_mu);
        ids.insert(*id);
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(done.WaitFor(kThreads * kEach, std::chrono::seconds(5)) == kThreads * kEach);
  std::set<std::string> written;
  for (const Result<Appended>& r : done.results) {
    REQUIRE(r.ok());
    written.insert(r->receipt_id);
    CHECK(Stored((*ledger)->GetById(r->receipt_id)) == r->stored);
  }
  CHECK(written == ids);
  CHECK((*ledger)->HeadSeq() == kThreads * kEach);
  CHECK(VerifyAll(**ledger, key).integrity_ok);
}

TEST_CASE("AppendAsync receipts left to the ledger's thread are written without the linger") {
  // A's write is held; B has signed and waits for its batch's write; C leads
  // signing and waits for room. The async receipts queue behind C, who signs
  // only one of them (max_batch 2), so the rest fall to the ledger's thread,
  // which must not linger for them, nor go on with a linger it had begun.
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.max_batch = 2;
  options.detached_linger_us = 10'000'000;  // longer than the deadline below
  std::atomic<bool> first{true};
  std::promise<void> in_write, release;
  std::shared_future<void> released = release.get_future().share();
  options.before_write = [&]() -> Status {
    if (first.exchange(false)) {
      in_write.set_value();
      released.wait();
    }
    return Status::Ok();
  };
  DetachedResults done;  // outlives the ledger, which may still call it on closing
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  int detached = 0;
  SUBCASE("the ledger's thread idle") {}
  SUBCASE("the ledger's thread lingering for a detached receipt (A carries it)") {
    (*ledger)->AppendDetached(Decision("e"), done.Callback());
    detached = 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::vector<std::thread> waiting;
  waiting.emplace_back([&] { CHECK((*ledger)->Append(Decision("a")).ok()); });
  in_write.get_future().wait();
  for (const char* agent : {"b", "c"}) {
    waiting.emplace_back([&, agent] { CHECK((*ledger)->Append(Decision(agent)).ok()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (int i = 0; i < 3; ++i) {
    REQUIRE((*ledger)->AppendAsync(Draft(Decision("d", i)), done.Callback()).ok());
  }
  release.set_value();
  for (auto& t : waiting) t.join();
  CHECK(done.WaitFor(3 + detached, std::chrono::seconds(5)) == 3 + detached);
  CHECK((*ledger)->HeadSeq() == 6 + static_cast<uint64_t>(detached));
  CHECK(VerifyAll(**ledger, key).integrity_ok);
}

// Holds the first batch write until released, and counts the batch writes.
struct HeldWrites {
  std::atomic<int> writes{0};
  std::promise<void> in_write, release;
  std::shared_future<void> released = release.get_future().share();

  std::function<Status()> BeforeWrite() {
    return [this]() -> Status {
      if (writes++ == 0) {
        in_write.set_value();
        released.wait();
      }
      return Status::Ok();
    };
  }
};

TEST_CASE("appends queued during a write are signed after it, all in the next batch") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  HeldWrites held;
  options.before_write = held.BeforeWrite();
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  std::vector<std::thread> callers;
  callers.emplace_back([&] { CHECK((*ledger)->Append(Decision("a")).ok()); });
  held.in_write.get_future().wait();
  for (const char* agent : {"b", "c", "d"}) {
    callers.emplace_back([&, agent] { CHECK((*ledger)->Append(Decision(agent)).ok()); });
  }
  // b, c and d are all queued (one of them holding the sign role) while a's
  // batch is being written; nothing is durable yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK((*ledger)->HeadSeq() == 0);
  held.release.set_value();
  for (auto& t : callers) t.join();
  CHECK((*ledger)->HeadSeq() == 4);
  CHECK(held.writes == 2);  // a's batch, then b, c and d in one
  CHECK(VerifyAll(**ledger, key).integrity_ok);
}

TEST_CASE("an async append during a write: signed after it and written in the caller's thread") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  LedgerOptions options = Options(dir);
  options.detached_linger_us = 10'000'000;  // no linger in the way
  HeldWrites held;
  std::mutex writers_mu;
  std::vector<std::string> writers;  // the name of each writing thread
  options.before_write = [&, hold = held.BeforeWrite()]() -> Status {
    char name[16] = {0};
    pthread_getname_np(pthread_self(), name, sizeof name);
    {
      std::lock_guard<std::mutex> lock(writers_mu);
      writers.emplace_back(name);
    }
    return hold();
  };
  DetachedResults done;
  auto ledger = Ledger::Open(options, key);
  REQUIRE(ledger.ok());
  std::thread a([&] { CHECK((*ledger)->Append(Decision("a")).ok()); });
  held.in_write.get_future().wait();
  // Nobody signs while A writes: this caller leads its own batch, which is
  // signed once A's write has ended, so it returns only after that.
  auto id = std::async(std::launch::async, [&] {
    pthread_setname_np(pthread_self(), "async-caller");
    return (*ledger)->AppendAsync(Draft(Decision("b")), done.Callback());
  });
  CHECK(id.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  CHECK(done.WaitFor(1, std::chrono::milliseconds(0)) == 0);
  held.release.set_value();
  a.join();
  REQUIRE(id.get().ok());
  // `done` ran in the caller's thread, before AppendAsync returned.
  REQUIRE(done.WaitFor(1, std::chrono::milliseconds(0)) == 1);
  REQUIRE(done.results[0].ok());
  CHECK(done.results[0]->seq == 2);
  std::lock_guard<std::mutex> lock(writers_mu);
  REQUIRE(writers.size() == 2);
  CHECK(writers[1] == "async-caller");
  CHECK(VerifyAll(**ledger, key).integrity_ok);
}

TEST_CASE("AppendAsync: a failed write reaches `done`, refused at once, `done` is not called") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  std::atomic<bool> fail{true};
  LedgerOptions options = Options(dir);
  options.before_write = FailWhile(fail);
  {
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    DetachedResults done;
    Result<std::string> id = (*ledger)->AppendAsync(Draft(Decision("a")), done.Callback());
    REQUIRE(id.ok());
    REQUIRE(done.WaitFor(1, std::chrono::seconds(5)) == 1);
    REQUIRE_FALSE(done.results[0].ok());
    CHECK(done.results[0].error().code == ErrorCode::kUnavailable);
    CHECK_FALSE(Stored((*ledger)->GetById(*id)).has_value());
    CHECK((*ledger)->HeadSeq() == 0);
    fail = false;
    Result<Appended> next = (*ledger)->Append(Decision("a"));
    REQUIRE(next.ok());
    CHECK(next->seq == 1);
    CHECK(VerifyAll(**ledger, key).integrity_ok);
  }
  auto ro = Ledger::OpenReadOnly(options.path);
  REQUIRE(ro.ok());
  bool called = false;
  Result<std::string> refused =
      (*ro)->AppendAsync(Draft(Decision("a")), [&](const Result<Appended>&) { called = true; });
  CHECK(refused.error().code == ErrorCode::kUnavailable);
  CHECK_FALSE(called);
}

TEST_CASE("detached appends still queued when the ledger closes are written, later ones refused") {
  TempDir dir;
  crypto::KeyPair key = TestKey();
  DetachedResults done;
  constexpr int kCount = 2000;  // more than one batch
  {
    LedgerOptions options = Options(dir);
    options.max_batch = 64;
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    for (int i = 0; i < kCount; ++i) (*ledger)->AppendDetached(Decision("bob", i), done.Callback());
  }
  REQUIRE(done.results.size() == kCount);  // all completed by the time the ledger is gone
  for (const Result<Appended>& r : done.results) CHECK(r.ok());
  auto ledger = Ledger::Open(Options(dir), key);
  REQUIRE(ledger.ok());
  CHECK((*ledger)->HeadSeq() == kCount);
  CHECK(VerifyAll(**ledger, key).integrity_ok);

  DetachedResults refused;
  (*ledger)->AppendDetached(Json::array(), refused.Callback());  // not an object: refused at once
  REQUIRE(refused.results.size() == 1);
  CHECK(refused.results[0].error().code == ErrorCode::kInvalidArgument);
  ledger->reset();
  auto read_only = Ledger::OpenReadOnly(Options(dir).path);
  REQUIRE(read_only.ok());
  (*read_only)->AppendDetached(Decision("bob"), refused.Callback());
  REQUIRE(refused.results.size() == 2);
  CHECK(refused.results[1].error().code == ErrorCode::kUnavailable);
}

// Rewrites the stored receipt `seq` with one byte changed, through RocksDB
// directly (the ledger has no overwrite path).
void FlipByte(const std::string& path, uint64_t seq, const std::string& needle) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : {"default", "receipts", "by_id", "by_agent", "meta"}) {
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::Options(), path, cfs, &handles, &db).ok());
  std::string value;
  const std::string key = ledger_layout::EncodeSeq(seq);
  REQUIRE(db->Get(rocksdb::ReadOptions(), handles[1], key, &value).ok());
  size_t at = value.find(needle);
  REQUIRE(at != std::string::npos);
  value[at + needle.size() - 1] ^= 0x01;
  REQUIRE(db->Put(rocksdb::WriteOptions(), handles[1], key, value).ok());
  for (auto* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  REQUIRE(db->Close().ok());
  delete db;
}

TEST_CASE("a flipped byte in a stored receipt: Open refuses with kCorruption naming the seq") {
  for (uint64_t victim : {7, 10}) {  // inside the tail, and the head itself
    TempDir dir;
    crypto::KeyPair key = TestKey();
    LedgerOptions options = Options(dir);
    {
      auto ledger = Ledger::Open(options, key);
      REQUIRE(ledger.ok());
      for (int i = 0; i < 10; ++i) REQUIRE((*ledger)->Append(Decision("alice", i)).ok());
    }
    FlipByte(options.path, victim, "\"reason_code\":\"o");  // "ok" -> "nk"
    auto reopened = Ledger::Open(options, key);
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.error().code == ErrorCode::kCorruption);
    CHECK(reopened.error().message.find("seq " + std::to_string(victim) + ":") !=
          std::string::npos);
    // A read-only view still opens, so verify can name the damage.
    auto read_only = Ledger::OpenReadOnly(options.path);
    REQUIRE(read_only.ok());
    auto report = VerifyAll(**read_only, key);
    CHECK_FALSE(report.integrity_ok);
    CHECK(report.first_broken_seq == victim);
  }
}

// A stopped ledger (at Options(dir).path) of 300 decisions by alice whose
// receipts are in an .sst file, with one byte flipped inside that file's
// first data block.
struct DamagedLedger {
  std::string path;
  std::string first_id;  // the receipt id of seq 1, in the damaged block
  crypto::KeyPair key;   // its signing key (another one would add a key_rotation receipt)
};

DamagedLedger MakeDamagedLedger(const TempDir& dir) {
  LedgerOptions options = Options(dir);
  options.sync = false;
  DamagedLedger damaged{options.path, "", TestKey()};
  {
    auto ledger = Ledger::Open(options, damaged.key);
    REQUIRE(ledger.ok());
    for (int i = 0; i < 300; ++i) {
      Result<Appended> a = (*ledger)->Append(Decision("alice", i));
      REQUIRE(a.ok());
      if (i == 0) damaged.first_id = a->receipt_id;
    }
  }
  REQUIRE(Ledger::Open(options, damaged.key).ok());  // the open moves the WAL into an .sst
  // The largest table is the receipts column family's.
  REQUIRE_FALSE(ledger_testing::DamageLargestTable(options.path, 200).empty());
  return damaged;
}

// Regression: ForEach ended at a read error as at the end of the ledger, so
// verify and export reported a damaged ledger as a short, intact one.
TEST_CASE("a damaged .sst file: ForEach returns the read error, not a short success") {
  TempDir dir;
  auto read_only = Ledger::OpenReadOnly(MakeDamagedLedger(dir).path);
  REQUIRE(read_only.ok());
  CHECK((*read_only)->HeadSeq() == 300);
  uint64_t seen = 0;
  Status read = (*read_only)->ForEach(1, UINT64_MAX, [&](uint64_t, std::string_view) {
    ++seen;
    return true;
  });
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().code == ErrorCode::kCorruption);
  CHECK(seen < 300);
}

// Regression: List ended at a read error as at the end of the ledger, so the
// admin API's receipt list and the receipt tail showed a damaged ledger as a
// short one, or as having nothing new.
TEST_CASE("a damaged .sst file: List returns the read error, with an agent or without") {
  TempDir dir;
  auto read_only = Ledger::OpenReadOnly(MakeDamagedLedger(dir).path);
  REQUIRE(read_only.ok());
  for (std::string agent : {"", "alice"}) {
    CAPTURE(agent);
    Result<std::vector<Appended>> page = (*read_only)->List(1, 1000, agent);
    REQUIRE_FALSE(page.ok());
    CHECK(page.error().code == ErrorCode::kCorruption);
    // The undamaged end of the ledger still reads.
    Result<std::vector<Appended>> last = (*read_only)->List(300, 10, agent);
    REQUIRE(last.ok());
    REQUIRE(last->size() == 1);
    CHECK((*last)[0].seq == 300);
  }
}

// Regression: Get and GetById answered a read error as "no such receipt", so
// the admin API answered 404 for a receipt it holds, a seal took its parent
// for unknown, and an append with a receipt_id the caller chose passed the
// duplicate check it could not make.
TEST_CASE("a damaged .sst file: Get and GetById return the read error, an unchecked id refused") {
  TempDir dir;
  const DamagedLedger damaged = MakeDamagedLedger(dir);
  {
    auto read_only = Ledger::OpenReadOnly(damaged.path);
    REQUIRE(read_only.ok());
    for (const Result<std::optional<std::string>>& read :
         {(*read_only)->Get(1), (*read_only)->GetById(damaged.first_id)}) {
      REQUIRE_FALSE(read.ok());
      CHECK(read.error().code == ErrorCode::kCorruption);
    }
    // The undamaged end of the ledger still reads; an unknown receipt is none.
    CHECK(Stored((*read_only)->Get(300)).has_value());
    CHECK_FALSE(Stored((*read_only)->Get(301)).has_value());
    CHECK_FALSE(Stored((*read_only)->GetById("rcpt_none")).has_value());
  }
  auto ledger = Ledger::Open(Options(dir), damaged.key);  // its tail verifies
  REQUIRE(ledger.ok());
  Json again = Decision("alice");
  again["receipt_id"] = damaged.first_id;  // a duplicate, which the ledger cannot see
  Result<Appended> refused = (*ledger)->Append(again);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kUnavailable);
  CHECK((*ledger)->HeadSeq() == 300);
  again["receipt_id"] = "rcpt_new";  // an id that is certainly new is still taken
  CHECK((*ledger)->Append(again).ok());
}

TEST_CASE("WaitForAppend wakes within 100 ms of an append, and times out otherwise") {
  TempDir dir;
  auto ledger = Ledger::Open(Options(dir), TestKey());
  REQUIRE(ledger.ok());
  auto t0 = std::chrono::steady_clock::now();
  CHECK((*ledger)->WaitForAppend(0, std::chrono::milliseconds(50)) == 0);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(50));

  std::atomic<int64_t> woke_ns{0};
  std::thread waiter([&] {
    CHECK((*ledger)->WaitForAppend(0, std::chrono::seconds(5)) == 1);
    woke_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE((*ledger)->Append(Decision("a")).ok());
  auto appended = std::chrono::steady_clock::now();
  waiter.join();
  auto woke = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(woke_ns.load()));
  CHECK(woke - appended < std::chrono::milliseconds(100));
  CHECK((*ledger)->WaitForAppend(0, std::chrono::seconds(5)) == 1);  // already past: at once
}

TEST_CASE("read-only open: reads work, appends fail, no ledger is created") {
  TempDir dir;
  LedgerOptions options = Options(dir);
  std::string head;
  {
    auto ledger = Ledger::Open(options, TestKey());
    REQUIRE(ledger.ok());
    REQUIRE((*ledger)->Append(Decision("a")).ok());
    head = (*ledger)->HeadHash();
  }
  auto ro = Ledger::OpenReadOnly(options.path);
  REQUIRE(ro.ok());
  CHECK((*ro)->HeadSeq() == 1);
  CHECK((*ro)->HeadHash() == head);
  CHECK(Stored((*ro)->Get(1)).has_value());
  CHECK((*ro)->Append(Decision("a")).error().code == ErrorCode::kUnavailable);
  CHECK((*ro)->Checkpoint().error().code == ErrorCode::kUnavailable);
  CHECK(Ledger::OpenReadOnly(dir.Sub("absent")).error().code == ErrorCode::kNotFound);
}

// RocksDB records the options a database was opened with in OPTIONS-* files;
// the newest is the last open's.
std::string LastOptionsFile(const std::string& db_path) {
  std::filesystem::path newest;
  for (const auto& entry : std::filesystem::directory_iterator(db_path)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("OPTIONS-") && (newest.empty() || name > newest.filename().string())) {
      newest = entry.path();
    }
  }
  std::ifstream in(newest);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_CASE("table files are written directly where the filesystem allows, and read back") {
  TempDir dir;
  LedgerOptions options = Options(dir);
  crypto::KeyPair key = TestKey();
  {
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    for (int i = 0; i < 50; ++i) REQUIRE((*ledger)->Append(Decision("a", i)).ok());
  }
  const bool direct = ledger_internal::DirectWritesWork(options.path);
  // The reopen replays the WAL and flushes it into a table file, directly
  // when the filesystem takes it.
  {
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    CHECK((*ledger)->HeadSeq() == 50);
  }
  CHECK(LastOptionsFile(options.path).find(std::string("use_direct_io_for_flush_and_compaction=") +
                                           (direct ? "true" : "false")) != std::string::npos);
  bool has_table = false;
  for (const auto& entry : std::filesystem::directory_iterator(options.path)) {
    has_table = has_table || entry.path().extension() == ".sst";
  }
  CHECK(has_table);
  auto ro = Ledger::OpenReadOnly(options.path);
  REQUIRE(ro.ok());
  auto report = VerifyAll(**ro, key);
  CHECK(report.integrity_ok);
  CHECK(report.head_seq == 50);
}

int TrashFiles(const std::string& db_path) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(db_path)) {
    n += entry.path().extension() == ".trash";
  }
  return n;
}

// What happens to *.trash files in a directory, as inotify reports it to a
// thread that reads each event as it comes (inotify merges an event into an
// identical one before it while neither is read).
class TrashWatch {
 public:
  explicit TrashWatch(const std::string& dir) : fd_(inotify_init1(IN_NONBLOCK)) {
    REQUIRE(fd_ >= 0);
    REQUIRE(inotify_add_watch(fd_, dir.c_str(), IN_MOVED_TO | IN_MODIFY | IN_DELETE) >= 0);
    reader_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 10) > 0) ReadEvents();
      }
      ReadEvents();
    });
  }
  ~TrashWatch() {
    Stop();
    close(fd_);
  }
  TrashWatch(const TrashWatch&) = delete;
  TrashWatch& operator=(const TrashWatch&) = delete;

  void Stop() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
  }

  std::atomic<int> renamed{0};  // files renamed to *.trash
  std::atomic<int> cut{0};      // changes to a *.trash file's size (truncations)
  std::atomic<int> deleted{0};

 private:
  void ReadEvents() {
    alignas(inotify_event) char buf[64 << 10];
    for (ssize_t n; (n = read(fd_, buf, sizeof buf)) > 0;) {
      for (char* p = buf; p < buf + n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(p);
        p += sizeof(inotify_event) + ev->len;
        if (ev->len == 0 || !std::string_view(ev->name).ends_with(".trash")) continue;
        renamed += (ev->mask & IN_MOVED_TO) != 0;
        cut += (ev->mask & IN_MODIFY) != 0;
        deleted += (ev->mask & IN_DELETE) != 0;
      }
    }
  }

  int fd_;
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

TEST_CASE("an obsolete WAL is deleted a slice at a time, and no trash outlives an open") {
  TempDir dir;
  LedgerOptions options = Options(dir);
  options.sync = false;
  crypto::KeyPair key = TestKey();
  {
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    for (int i = 0; i < 1024; ++i) {  // a WAL of about 16 MiB
      Json receipt = Decision("a", i);
      receipt["pad"] = std::string(16 << 10, 'x');
      REQUIRE((*ledger)->Append(receipt).ok());
    }
  }
  {
    // The reopen flushes the WAL into a table file. The WAL, obsolete, is
    // renamed to trash, cut down 1 MiB at a time, then unlinked.
    TrashWatch watch(options.path);
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((watch.deleted == 0 || TrashFiles(options.path) > 0) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    watch.Stop();
    CHECK(TrashFiles(options.path) == 0);
    CHECK(watch.renamed == 1);
    CHECK(watch.cut >= 2);  // 15 or 16 slices, a few ms apart
    CHECK(watch.deleted == 1);
  }
  // A deletion cut short by a close (or a crash) leaves its trash behind;
  // the next open removes it.
  { std::ofstream(options.path + "/000003.log.trash") << std::string(1 << 20, 'x'); }
  {
    auto ledger = Ledger::Open(options, key);
    REQUIRE(ledger.ok());
    CHECK((*ledger)->HeadSeq() == 1024);
  }
  CHECK(TrashFiles(options.path) == 0);
  auto ro = Ledger::OpenReadOnly(options.path);
  REQUIRE(ro.ok());
  CHECK(VerifyAll(**ro, key).integrity_ok);
}

TEST_CASE("a foreign directory or a locked ledger is refused, never a new genesis") {
  TempDir dir;
  LedgerOptions options = Options(dir);
  std::filesystem::create_directories(options.path);
  { std::ofstream(options.path + "/notes.txt") << "not a ledger"; }
  auto foreign = Ledger::Open(options, TestKey());
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().code == ErrorCode::kConfig);

  options.path = dir.Sub("ledger2");
  auto first = Ledger::Open(options, TestKey());
  REQUIRE(first.ok());
  auto second = Ledger::Open(options, TestKey());
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("a new signing key is accepted, both keys' receipts verify") {
  TempDir dir;
  crypto::KeyPair old_key = TestKey();
  crypto::KeyPair new_key = TestKey();
  {
    auto ledger = Ledger::Open(Options(dir), old_key);
    REQUIRE(ledger.ok());
    REQUIRE((*ledger)->Append(Decision("a")).ok());
  }
  auto ledger = Ledger::Open(Options(dir), new_key);
  REQUIRE(ledger.ok());
  REQUIRE((*ledger)->Append(Decision("a")).ok());
  receipt::ChainVerifier verifier({old_key.public_key, new_key.public_key});
  Status read = (*ledger)->ForEach(1, 2, [&](uint64_t, std::string_view s) {
    verifier.Add(s);
    return true;
  });
  CHECK(read.ok());
  CHECK(verifier.Finish().integrity_ok);
}

}  // namespace
}  // namespace helm
