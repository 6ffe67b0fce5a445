// KeyGate: a key's rpm, tpm, budget and concurrency, on a manual clock.
// Limit tests in pairs: the last request admitted, the first refused.
#include "core/proxy/key_gate.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace helm {
namespace {

class ManualClock : public Clock {
 public:
  int64_t NowMicros() const override { return now_us; }
  void Advance(double seconds) { now_us += static_cast<int64_t>(seconds * 1e6); }
  int64_t now_us = 1'700'000'000'000'000;
};

struct L {
  int64_t rpm = 0, tpm = 0, budget_micros = 0, concurrency = 0;
  std::vector<std::string> lanes;
  L& Rpm(int64_t n) { rpm = n; return *this; }
  L& Tpm(int64_t n) { tpm = n; return *this; }
  L& Budget(int64_t n) { budget_micros = n; return *this; }
  L& Concurrency(int64_t n) { concurrency = n; return *this; }
  L& Lanes(std::vector<std::string> l) { lanes = std::move(l); return *this; }
};

Principal WithLimits(L l, int64_t spent = 0, std::string id = "key_a") {
  KeyLimits limits;
  limits.rpm = l.rpm;
  limits.tpm = l.tpm;
  limits.budget_micros = l.budget_micros;
  limits.concurrency = l.concurrency;
  limits.lanes = l.lanes;
  Principal p{"agent", std::move(id), false, std::make_shared<const KeyLimits>(std::move(limits)),
              spent};
  return p;
}

// Admits and drops the pass; returns the refusal's reason, or "" if admitted.
std::string Try(KeyGate& gate, const Principal& p, int64_t input_tokens = 0,
                GateRefusal* refusal = nullptr) {
  KeyGate::Pass pass;
  auto r = gate.Admit(p, input_tokens, &pass);
  if (r && refusal != nullptr) *refusal = *r;
  return r ? r->reason : "";
}

TEST_CASE("rpm: a burst up to the limit, then one more each 60/rpm seconds") {
  ManualClock clock;
  KeyGate gate(clock);
  Principal p = WithLimits(L{}.Rpm(3));
  CHECK(Try(gate, p) == "");
  CHECK(Try(gate, p) == "");
  CHECK(Try(gate, p) == "");  // the third: at the limit
  GateRefusal refusal;
  CHECK(Try(gate, p, 0, &refusal) == "RATE_LIMITED");  // one past it
  CHECK(refusal.status == 429);
  CHECK(refusal.retry_after_s == 20);  // one token refills in 60/3 s
  clock.Advance(19.9);
  CHECK(Try(gate, p, 0, &refusal) == "RATE_LIMITED");  // a refused request takes nothing
  CHECK(refusal.retry_after_s == 1);
  clock.Advance(0.1);
  CHECK(Try(gate, p) == "");
  CHECK(Try(gate, p) == "RATE_LIMITED");
  clock.Advance(3600);  // the bucket holds one minute's allowance at most
  for (int i = 0; i < 3; ++i) CHECK(Try(gate, p) == "");
  CHECK(Try(gate, p) == "RATE_LIMITED");
}

// A key's limits change while its counters run (ApiKeys::SetLimits): raised,
// the difference is there at once, as for a new key; lowered, it caps.
TEST_CASE("rpm and tpm follow a changed limit: raised at once, lowered to the new cap") {
  ManualClock clock;
  KeyGate gate(clock);
  for (int i = 0; i < 2; ++i) CHECK(Try(gate, WithLimits(L{}.Rpm(2).Tpm(100)), 40) == "");
  CHECK(Try(gate, WithLimits(L{}.Rpm(2).Tpm(100)), 40) == "RATE_LIMITED");
  const Principal raised = WithLimits(L{}.Rpm(5).Tpm(160));  // +3 requests, +60 tokens
  CHECK(Try(gate, raised, 30) == "");
  CHECK(Try(gate, raised, 30) == "");
  CHECK(Try(gate, raised, 30) == "TOKEN_LIMIT");  // 20 + 60 - 60 tokens left
  CHECK(Try(gate, raised, 20) == "");
  CHECK(Try(gate, raised, 0) == "RATE_LIMITED");  // 2 + 3 requests taken
  clock.Advance(60);                              // both full again: 5 and 160
  const Principal lowered = WithLimits(L{}.Rpm(1).Tpm(160));
  CHECK(Try(gate, lowered) == "");
  CHECK(Try(gate, lowered) == "RATE_LIMITED");
}

TEST_CASE("limits are per key: another key's requests do not count") {
  ManualClock clock;
  KeyGate gate(clock);
  Principal a = WithLimits(L{}.Rpm(1), 0, "key_a");
  Principal b = WithLimits(L{}.Rpm(1), 0, "key_b");
  CHECK(Try(gate, a) == "");
  CHECK(Try(gate, a) == "RATE_LIMITED");
  CHECK(Try(gate, b) == "");
}

TEST_CASE("concurrency: a slot per pass, given back when the pass ends") {
  ManualClock clock;
  KeyGate gate(clock);
  Principal p = WithLimits(L{}.Concurrency(2));
  KeyGate::Pass first, second, third;
  CHECK_FALSE(gate.Admit(p, 0, &first));
  CHECK_FALSE(gate.Admit(p, 0, &second));  // at the limit
  auto refused = gate.Admit(p, 0, &third);  // one past it
  REQUIRE(refused);
  CHECK(std::string(refused->reason) == "CONCURRENCY_LIMIT");
  CHECK(refused->retry_after_s == 0);
  first.Release();
  first.Release();  // idempotent: frees one slot, not two
  CHECK_FALSE(gate.Admit(p, 0, &third));
  KeyGate::Pass fourth;
  CHECK(gate.Admit(p, 0, &fourth));
  { KeyGate::Pass moved = std::move(second); }  // a moved pass releases once, where it ends
  CHECK_FALSE(gate.Admit(p, 0, &fourth));
}

TEST_CASE("tpm: estimated input tokens on admission, output tokens once known") {
  ManualClock clock;
  KeyGate gate(clock);
  Principal p = WithLimits(L{}.Tpm(1000));
  KeyGate::Pass pass;
  CHECK_FALSE(gate.Admit(p, 600, &pass));
  pass.AddOutputTokens(300);  // 100 left
  CHECK(Try(gate, p, 100) == "");  // at the limit
  GateRefusal refusal;
  CHECK(Try(gate, p, 1, &refusal) == "TOKEN_LIMIT");  // one past it
  CHECK(refusal.retry_after_s == 1);  // 1000 per minute: one token in 0.06 s
  clock.Advance(30);  // 500 back
  CHECK(Try(gate, p, 501, &refusal) == "TOKEN_LIMIT");
  CHECK(refusal.retry_after_s == 1);
  CHECK(Try(gate, p, 500) == "");
  // Output beyond what is left puts the key in debt: it waits it off.
  KeyGate::Pass big;
  clock.Advance(60);
  CHECK_FALSE(gate.Admit(p, 0, &big));
  big.AddOutputTokens(1500);  // -500
  CHECK(Try(gate, p, 0, &refusal) == "TOKEN_LIMIT");
  CHECK(refusal.retry_after_s == 31);  // until the bucket is back above zero
}

TEST_CASE("tpm: a request larger than the whole limit is refused without a wait") {
  ManualClock clock;
  KeyGate gate(clock);
  Principal p = WithLimits(L{}.Tpm(1000));
  CHECK(Try(gate, p, 1000) == "");  // at the limit
  clock.Advance(60);
  GateRefusal refusal;
  CHECK(Try(gate, p, 1001, &refusal) == "TOKEN_LIMIT");  // one past it
  CHECK(refusal.retry_after_s == 0);
}

TEST_CASE("budget: the spend the principal came with, against the key's budget") {
  ManualClock clock;
  KeyGate gate(clock);
  CHECK(Try(gate, WithLimits(L{}.Budget(1000), 999)) == "");  // just under
  GateRefusal refusal;
  CHECK(Try(gate, WithLimits(L{}.Budget(1000), 1000), 0, &refusal) == "BUDGET_EXCEEDED");
  CHECK(refusal.status == 429);
  CHECK(refusal.retry_after_s == 0);
}

TEST_CASE("a refusal takes nothing from the other limits") {
  ManualClock clock;
  KeyGate gate(clock);
  Principal p = WithLimits(L{}.Rpm(2).Tpm(100));
  CHECK(Try(gate, p, 60) == "");
  CHECK(Try(gate, p, 50) == "TOKEN_LIMIT");  // 40 left; not counted against rpm
  CHECK(Try(gate, p, 40) == "");             // the second request of two
  CHECK(Try(gate, p, 0) == "RATE_LIMITED");
}

TEST_CASE("a principal without limits, or lanes only, passes and holds nothing") {
  ManualClock clock;
  KeyGate gate(clock);
  KeyGate::Pass pass;
  Principal none{"agent", "key_n", false, nullptr, 0};
  CHECK_FALSE(gate.Admit(none, 10, &pass));
  CHECK_FALSE(gate.Admit(WithLimits(L{}.Lanes({"balanced"})), 10, &pass));
  pass.AddOutputTokens(100);  // an empty pass: nothing to count
}

}  // namespace
}  // namespace helm
