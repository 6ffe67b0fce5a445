#include "core/route/breaker.h"

#include <doctest/doctest.h>

#include <thread>

#include "core/route/route_test_util.h"

namespace helm::route {
namespace {

using testing::FakeClock;

BreakerSettings Settings(int64_t threshold = 3, int64_t cool_down_ms = 1000) {
  BreakerSettings s;
  s.failure_threshold = threshold;
  s.cool_down_ms = cool_down_ms;
  s.max_skip_ms = 60000;
  return s;
}

struct Fixture {
  FakeClock clock;
  std::shared_ptr<Breaker> b = std::make_shared<Breaker>("oa/big", Settings(), clock);

  void Fault(AttemptOutcome o = AttemptOutcome::kServerError) {
    BreakerPermit p = b->TryAcquire();
    REQUIRE(p.admitted());
    p.Release(ReportFault(o));
  }
  void Open() {
    for (int i = 0; i < 3; ++i) Fault();
    REQUIRE(b->Snapshot().state == BreakerState::kOpen);
  }
};

TEST_CASE("breaker: K consecutive faults open the circuit") {
  Fixture f;
  f.Fault();
  f.Fault();
  CHECK(f.b->Snapshot().state == BreakerState::kClosed);
  CHECK(f.b->Snapshot().consecutive_faults == 2);
  f.Fault(AttemptOutcome::kTimeout);
  BreakerSnapshot s = f.b->Snapshot();
  CHECK(s.state == BreakerState::kOpen);
  CHECK(s.opened == 1);
  CHECK(s.faults == 3);
  CHECK(s.open_until_micros == f.clock.NowMicros() + 1000 * 1000);
}

TEST_CASE("breaker: a success or a client 4xx resets the consecutive count") {
  Fixture f;
  f.Fault();
  f.Fault();
  f.b->TryAcquire().Release(ReportFault(AttemptOutcome::kSuccess));
  f.Fault();
  f.Fault();
  CHECK(f.b->Snapshot().state == BreakerState::kClosed);
  f.b->TryAcquire().Release(ReportFromResponse(400, {}, f.clock.NowMicros()));
  f.Fault();
  f.Fault();
  BreakerSnapshot s = f.b->Snapshot();
  CHECK(s.state == BreakerState::kClosed);
  CHECK(s.client_errors == 1);
  CHECK(s.successes == 1);
}

TEST_CASE("breaker: client 4xx are never faults") {
  Fixture f;
  for (int status : {400, 401, 403, 404, 413, 422}) {
    for (int i = 0; i < 5; ++i) f.b->TryAcquire().Release(ReportFromResponse(status, {}, 0));
  }
  CHECK(f.b->Snapshot().state == BreakerState::kClosed);
  CHECK(f.b->Snapshot().faults == 0);
}

TEST_CASE("breaker: calls are refused during the cool-down") {
  Fixture f;
  f.Open();
  f.clock.AdvanceMs(999);
  BreakerPermit p = f.b->TryAcquire();
  CHECK_FALSE(p.admitted());
  CHECK(p.denial() == Denial::kOpen);
  CHECK(std::string(DenialName(p.denial())) == "circuit_open");
  CHECK(p.retry_at_micros() == f.clock.NowMicros() + 1000);
  CHECK(f.b->Snapshot().refusals == 1);
}

TEST_CASE("breaker: one probe in half-open, its success closes") {
  Fixture f;
  f.Open();
  f.clock.AdvanceMs(1000);
  BreakerPermit probe = f.b->TryAcquire();
  REQUIRE(probe.admitted());
  CHECK(probe.is_probe());
  CHECK(f.b->Snapshot().state == BreakerState::kHalfOpen);
  BreakerPermit second = f.b->TryAcquire();
  CHECK_FALSE(second.admitted());
  CHECK(second.denial() == Denial::kProbeBusy);
  probe.Release(ReportFromResponse(200, {}, f.clock.NowMicros()));
  CHECK(f.b->Snapshot().state == BreakerState::kClosed);
  BreakerPermit after = f.b->TryAcquire();
  CHECK(after.admitted());
  CHECK_FALSE(after.is_probe());
}

TEST_CASE("breaker: a probe fault re-opens with a fresh cool-down") {
  Fixture f;
  f.Open();
  f.clock.AdvanceMs(1500);
  f.b->TryAcquire().Release(ReportFault(AttemptOutcome::kConnectError));
  BreakerSnapshot s = f.b->Snapshot();
  CHECK(s.state == BreakerState::kOpen);
  CHECK(s.opened == 2);
  CHECK(s.open_until_micros == f.clock.NowMicros() + 1000 * 1000);
  f.clock.AdvanceMs(999);
  CHECK(f.b->TryAcquire().denial() == Denial::kOpen);
  f.clock.AdvanceMs(1);
  CHECK(f.b->TryAcquire().is_probe());
}

TEST_CASE("breaker: an abandoned probe is released without counting a fault") {
  Fixture f;
  f.Open();
  f.clock.AdvanceMs(1000);
  {
    BreakerPermit probe = f.b->TryAcquire();
    REQUIRE(probe.is_probe());
    probe.Release(ReportFault(AttemptOutcome::kAbandoned));
  }
  BreakerSnapshot s = f.b->Snapshot();
  CHECK(s.state == BreakerState::kHalfOpen);
  CHECK(s.abandoned == 1);
  CHECK(s.opened == 1);
  {
    BreakerPermit probe = f.b->TryAcquire();  // a new probe may go
    REQUIRE(probe.admitted());
    CHECK(probe.is_probe());
    // Destroyed without Release: released as abandoned.
  }
  CHECK(f.b->Snapshot().abandoned == 2);
  BreakerPermit probe = f.b->TryAcquire();
  REQUIRE(probe.is_probe());
  BreakerPermit moved = std::move(probe);  // moving keeps one holder
  CHECK_FALSE(probe.held());               // NOLINT: testing the moved-from state
  CHECK(moved.held());
  moved.Release(ReportFault(AttemptOutcome::kSuccess));
  moved.Release(ReportFault(AttemptOutcome::kServerError));  // ignored: released once
  CHECK(f.b->Snapshot().state == BreakerState::kClosed);
}

TEST_CASE("breaker: abandoned attempts never count as faults") {
  Fixture f;
  for (int i = 0; i < 10; ++i) f.b->TryAcquire().Release(ReportFault(AttemptOutcome::kAbandoned));
  CHECK(f.b->Snapshot().state == BreakerState::kClosed);
  CHECK(f.b->Snapshot().consecutive_faults == 0);
}

TEST_CASE("breaker: stale permits do not move an open breaker") {
  Fixture f;
  BreakerPermit old1 = f.b->TryAcquire(), old2 = f.b->TryAcquire();
  f.Open();
  old1.Release(ReportFault(AttemptOutcome::kSuccess));
  CHECK(f.b->Snapshot().state == BreakerState::kOpen);
  f.clock.AdvanceMs(1000);
  BreakerPermit probe = f.b->TryAcquire();
  REQUIRE(probe.is_probe());
  old2.Release(ReportFault(AttemptOutcome::kServerError));
  CHECK(f.b->Snapshot().state == BreakerState::kHalfOpen);
  probe.Release(ReportFault(AttemptOutcome::kSuccess));
  CHECK(f.b->Snapshot().state == BreakerState::kClosed);
}

TEST_CASE("breaker: 429 with Retry-After skips the model until it expires") {
  Fixture f;
  BreakerPermit p = f.b->TryAcquire();
  p.Release(ReportFromResponse(429, {{"retry-after", "30"}}, f.clock.NowMicros()));
  const int64_t until = f.clock.NowMicros() + 30 * 1000000;
  BreakerSnapshot s = f.b->Snapshot();
  CHECK(s.state == BreakerState::kClosed);  // one fault, below the threshold
  CHECK(s.faults == 1);
  CHECK(s.skip_until_micros == until);
  f.clock.AdvanceMs(29999);
  BreakerPermit refused = f.b->TryAcquire();
  CHECK(refused.denial() == Denial::kRateLimited);
  CHECK(std::string(DenialName(refused.denial())) == "rate_limited");
  CHECK(refused.retry_at_micros() == until);
  f.clock.AdvanceMs(1);
  CHECK(f.b->TryAcquire().admitted());
  CHECK(f.b->Snapshot().skip_until_micros == 0);
}

TEST_CASE("breaker: a skip is capped at max_skip_ms") {
  Fixture f;
  f.b->TryAcquire().Release(
      ReportFromResponse(429, {{"Retry-After", "86400"}}, f.clock.NowMicros()));
  CHECK(f.b->Snapshot().skip_until_micros == f.clock.NowMicros() + 60000 * 1000);
}

TEST_CASE("breaker: remaining == 0 on a success skips until the reset") {
  Fixture f;
  f.b->TryAcquire().Release(ReportFromResponse(
      200, {{"x-ratelimit-remaining-requests", "0"}, {"x-ratelimit-reset-requests", "2s"}},
      f.clock.NowMicros()));
  BreakerSnapshot s = f.b->Snapshot();
  CHECK(s.successes == 1);
  CHECK(s.skip_until_micros == f.clock.NowMicros() + 2000000);
  CHECK(f.b->TryAcquire().denial() == Denial::kRateLimited);
  f.clock.AdvanceMs(2000);
  CHECK(f.b->TryAcquire().admitted());
}

TEST_CASE("breaker: 429 without Retry-After is a plain fault, enough of them open") {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.b->TryAcquire().Release(ReportFromResponse(429, {}, 0));
  CHECK(f.b->Snapshot().state == BreakerState::kOpen);
  CHECK(f.b->Snapshot().skip_until_micros == 0);
}

TEST_CASE("breaker: HTTP status classification") {
  CHECK(ReportFromResponse(200, {}, 0).outcome == AttemptOutcome::kSuccess);
  CHECK(ReportFromResponse(304, {}, 0).outcome == AttemptOutcome::kSuccess);
  CHECK(ReportFromResponse(400, {}, 0).outcome == AttemptOutcome::kClientError);
  CHECK(ReportFromResponse(408, {}, 0).outcome == AttemptOutcome::kTimeout);
  CHECK(ReportFromResponse(429, {}, 0).outcome == AttemptOutcome::kRateLimited);
  CHECK(ReportFromResponse(500, {}, 0).outcome == AttemptOutcome::kServerError);
  CHECK(ReportFromResponse(529, {}, 0).outcome == AttemptOutcome::kServerError);
  CHECK(ReportFromResponse(0, {}, 0).outcome == AttemptOutcome::kServerError);
  CHECK(IsFault(AttemptOutcome::kRateLimited));
  CHECK_FALSE(IsFault(AttemptOutcome::kClientError));
  CHECK_FALSE(IsFault(AttemptOutcome::kAbandoned));
  CHECK(ReportFromResponse(503, {{"retry-after", "5"}}, 100).skip_until_micros == 5000100);
}

TEST_CASE("breaker: registry keys, snapshot and metrics") {
  FakeClock clock;
  BreakerRegistry reg(Settings(1, 1000), clock);
  CHECK(reg.Get("oa/big") == reg.Get("oa/big"));
  reg.TryAcquire("an/opus").Release(ReportFault(AttemptOutcome::kServerError));
  auto snaps = reg.Snapshot();
  REQUIRE(snaps.size() == 2);
  CHECK(snaps[0].key == "an/opus");
  CHECK(snaps[0].state == BreakerState::kOpen);
  CHECK(snaps[1].state == BreakerState::kClosed);
  std::string text = RenderBreakerMetrics(snaps);
  CHECK(text.find("helm_breaker_state{model=\"an/opus\"} 1\n") != std::string::npos);
  CHECK(text.find("helm_breaker_opened_total{model=\"an/opus\"} 1\n") != std::string::npos);
  CHECK(text.find("helm_breaker_state{model=\"oa/big\"} 0\n") != std::string::npos);
}

TEST_CASE("breaker: concurrent permits keep the probe single") {
  FakeClock clock;
  auto b = std::make_shared<Breaker>("k", Settings(1, 10), clock);
  b->TryAcquire().Release(ReportFault(AttemptOutcome::kServerError));
  clock.AdvanceMs(10);
  std::atomic<int> probes{0};
  std::vector<std::thread> threads;
  std::vector<BreakerPermit> held(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      held[i] = b->TryAcquire();
      if (held[i].admitted()) ++probes;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(probes == 1);
}

TEST_CASE("registry: reloaded settings apply to existing and new breakers, state kept") {
  FakeClock clock;
  BreakerRegistry reg(Settings(3, 1000), clock);
  auto fault = [&](const std::string& key) {
    BreakerPermit p = reg.TryAcquire(key);
    REQUIRE(p.admitted());
    p.Release(ReportFault(AttemptOutcome::kServerError));
  };
  fault("oa/big");  // one fault counted under the old threshold of 3
  reg.Apply(Settings(2, 5000));
  CHECK(reg.Get("oa/big")->Snapshot().consecutive_faults == 1);  // state survives
  fault("oa/big");  // the second fault now reaches the new threshold of 2
  BreakerSnapshot s = reg.Get("oa/big")->Snapshot();
  CHECK(s.state == BreakerState::kOpen);
  CHECK(s.open_until_micros == clock.NowMicros() + 5000 * 1000);  // the new cool-down
  fault("oa/small");  // created after the reload: the new settings too
  fault("oa/small");
  CHECK(reg.Get("oa/small")->Snapshot().state == BreakerState::kOpen);
}

}  // namespace
}  // namespace helm::route
