#include "core/common/dispatch_gate.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace helm {
namespace {

using std::chrono::milliseconds;

TEST_CASE("an action handed to a closed gate runs on the thread that opens it") {
  DispatchGate gate;
  std::thread::id ran_on;
  bool ok = false;
  gate.Then([&](const Status& s) {
    ran_on = std::this_thread::get_id();
    ok = s.ok();
  });
  CHECK_FALSE(gate.settled());
  std::thread opener([&] { gate.Open(Status::Ok()); });
  const std::thread::id opener_id = opener.get_id();
  CHECK(gate.Wait().ok());
  opener.join();
  CHECK(ran_on == opener_id);
  CHECK(ok);
}

TEST_CASE("an action handed to an open gate runs at once, in the caller's thread") {
  DispatchGate gate;
  gate.Open(MakeError(ErrorCode::kUnavailable, "ledger write failed"));
  std::thread::id ran_on;
  std::string seen;
  gate.Then([&](const Status& s) {
    ran_on = std::this_thread::get_id();
    seen = s.error().message;
  });
  CHECK(ran_on == std::this_thread::get_id());
  CHECK(seen == "ledger write failed");
  CHECK_FALSE(gate.Wait().ok());
  CHECK(gate.Wait().error().code == ErrorCode::kUnavailable);
}

TEST_CASE("Wait returns only once the opening thread's action has returned") {
  DispatchGate gate;
  std::atomic<bool> action_done{false};
  gate.Then([&](const Status&) {
    std::this_thread::sleep_for(milliseconds(100));
    action_done = true;
  });
  std::thread opener([&] { gate.Open(Status::Ok()); });
  std::this_thread::sleep_for(milliseconds(20));  // the opener is inside the action
  CHECK(gate.Wait().ok());
  CHECK(action_done);
  CHECK(gate.settled());
  opener.join();
}

TEST_CASE("a gate opened without an action settles at once") {
  DispatchGate gate;
  gate.Open(Status::Ok());
  CHECK(gate.settled());
  CHECK(gate.Wait().ok());
}

}  // namespace
}  // namespace helm
