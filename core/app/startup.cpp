#include "core/app/startup.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "core/crypto/crypto.h"

namespace helm::app {
namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(2);

sigset_t ServerSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);  // internal: wakes the watcher for shutdown
  return set;
}

}  // namespace

void BlockServerSignals() {
  sigset_t set = ServerSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void RaiseDescriptorLimit(const char* who, size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    std::cerr << who << ": warning: the limit on open files is " << limit.rlim_cur
              << ", below the " << wanted
              << " descriptors the connection limit may need; beyond it, new connections "
                 "wait (raise it with `ulimit -n` or LimitNOFILE=)\n";
  }
}

std::unique_ptr<LocalBoundary> OpenBoundaryOrReport(const BoundaryOptions& options) {
  auto boundary = LocalBoundary::Open(options);
  if (!boundary.ok()) {
    std::cerr << "helm: refusing to start: " << boundary.error().message << "\n";
    return nullptr;
  }
  LocalBoundary& b = **boundary;
  const DataDir& dir = b.data_dir();
  auto policy = b.policy();
  std::cerr << "helm: public key " << crypto::HexEncode(dir.signing_key.public_key) << " (key_id "
            << crypto::KeyId(dir.signing_key.public_key) << ")\n"
            << "helm: ledger " << b.ledger().ledger_id() << " at " << dir.LedgerPath()
            << ", head seq " << b.ledger().HeadSeq() << "\n"
            << "helm: policy " << policy->id() << " v" << policy->version() << " "
            << policy->hash() << " (" << policy->rule_count() << " rules)\n";
  if (dir.created_bootstrap_key) {
    std::cerr << "helm: bootstrap API key for agent root (shown once, also in "
              << dir.KeysPath() << "/bootstrap.key): " << dir.bootstrap_key << "\n";
  }
  if (!options.ledger.sync) {
    std::cerr << "helm: WARNING: ledger.sync = none: acknowledged receipts can be lost on power "
                 "failure. Use only for benchmarks.\n";
  }
  return std::move(boundary.value());
}

void ReloadAndReport(LocalBoundary* boundary) {
  Status st = boundary->ReloadPolicy();
  std::cerr << (st.ok() ? "helm: policy reloaded\n"
                        : "helm: policy reload rejected, keeping the last good policy: " +
                              st.error().message + "\n");
}

SignalWatcher::SignalWatcher(std::function<void()> on_reload, std::function<void()> on_stop) {
  thread_ = std::thread([on_reload = std::move(on_reload), on_stop = std::move(on_stop)] {
    sigset_t set = ServerSignals();
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        on_reload();
        continue;
      }
      if (sig != SIGUSR1) {
        on_stop();
        // In-flight requests get a grace period; idle keep-alive connections
        // would otherwise hold the worker pool open until they time out.
        std::thread([] {
          std::this_thread::sleep_for(kShutdownGrace);
          std::cerr << "helm: shutdown grace period over, exiting\n";
          std::_Exit(0);
        }).detach();
      }
      return;
    }
  });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

}  // namespace helm::app
