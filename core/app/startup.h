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

// Raises the soft limit on open descriptors to the hard one. A server holds
// a descriptor per client and upstream connection (up to
// Limits::max_connections on the proxy's listener) besides RocksDB's files
// (up to 512 per database), and the usual soft default of 1,024 runs out
// long before those. Nothing in helm uses select(), whose descriptors must
// stay below 1,024 (Debian's cpp-httplib polls). Prints a warning, once,
// when the limit stays below `wanted` descriptors; `who` names the command.
void RaiseDescriptorLimit(const char* who, size_t wanted);
// Descriptors a server may hold besides its clients' connections: the
// ledger's table files (up to 512), the state database's, upstream and
// admin connections.
inline constexpr size_t kDescriptorsBesideClients = 1024;

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
