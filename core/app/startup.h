// Startup and shutdown shared by `helm serve` and `helm proxy`.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "core/boundary/local_boundary.h"

namespace helm::app {

// Blocks SIGHUP, SIGINT and SIGTERM in the calling thread (and the threads it
// starts later); a SignalWatcher receives them.
void BlockServerSignals();

// Opens the boundary; on failure prints why and returns null. On success
// prints the public key, the ledger head and, once, the bootstrap key.
std::unique_ptr<LocalBoundary> OpenBoundaryOrReport(const BoundaryOptions& options);

// Reloads the boundary's policy and logs the result (the SIGHUP action).
void ReloadAndReport(LocalBoundary* boundary);

// A thread that calls on_reload on SIGHUP and on_stop on SIGINT or SIGTERM.
// The destructor ends the thread.
class SignalWatcher {
 public:
  SignalWatcher(std::function<void()> on_reload, std::function<void()> on_stop);
  ~SignalWatcher();

 private:
  std::thread thread_;
};

}  // namespace helm::app
