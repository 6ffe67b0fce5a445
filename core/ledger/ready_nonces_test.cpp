#include "core/ledger/ready_nonces.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "core/ledger/test_util.h"

namespace helm::ledger_internal {
namespace {

using ledger_testing::ManualClock;

crypto::KeyPair Key() {
  crypto::Init();
  return crypto::GenerateKeyPair();
}

TEST_CASE("ready nonces: none until made, at most capacity, each signs once for its receipt id") {
  const crypto::KeyPair key = Key();
  const crypto::SigningKey signing(key.secret_key);
  ManualClock clock;
  ReadyNonces nonces(/*capacity=*/3, /*max_age_micros=*/100'000, &clock);
  CHECK_FALSE(nonces.Take().has_value());

  nonces.Refill(signing);
  nonces.Refill(signing);  // full: makes nothing more
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
}

TEST_CASE("ready nonces older than max_age are dropped, and a refill replaces them") {
  const crypto::KeyPair key = Key();
  const crypto::SigningKey signing(key.secret_key);
  ManualClock clock;
  ReadyNonces nonces(2, 100'000, &clock);
  nonces.Refill(signing);
  clock.Advance(100'000);
  CHECK(nonces.Take().has_value());  // exactly max_age old: still fresh
  clock.Advance(1);
  CHECK_FALSE(nonces.Take().has_value());  // the other one is dropped
  CHECK(nonces.size() == 0);

  nonces.Refill(signing);
  clock.Advance(60'000);
  std::optional<ReadyNonces::Entry> first = nonces.Take();
  REQUIRE(first.has_value());
  nonces.Refill(signing);  // one new, made 60 ms after the other
  clock.Advance(50'000);   // the older one is now stale, the new one is not
  std::optional<ReadyNonces::Entry> second = nonces.Take();
  REQUIRE(second.has_value());
  CHECK(second->receipt_id != first->receipt_id);
  CHECK_FALSE(nonces.Take().has_value());  // the stale one was dropped, not handed out
}

}  // namespace
}  // namespace helm::ledger_internal
