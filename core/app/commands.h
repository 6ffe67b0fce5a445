// The commands of the `helm` binary. cli/ parses arguments into these option
// structs and calls Run*; all behaviour lives here. Each Run* returns the
// process exit code of DESIGN §2: 0 ok, 1 runtime failure, 2 usage or
// configuration error, 3 tampering found, 4 untrusted signer.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/boundary/local_boundary.h"
#include "core/provider/upstream.h"

namespace helm::app {

enum ExitCode { kExitOk = 0, kExitFailure = 1, kExitConfig = 2, kExitTampered = 3, kExitUntrusted = 4 };

enum class Format { kText, kJson };

struct ServeOptions {
  BoundaryOptions boundary;
  std::string bind = "127.0.0.1";
  int port = 7714;
};
int RunServe(const ServeOptions& options);

struct ProxyCommandOptions {
  std::string upstream;          // URL or mock:// (the one-provider shorthand)
  std::string config_path;       // or helm.toml: providers, lanes, classifier, aliases
  std::string bind = "127.0.0.1";
  int port = 9090;
  int admin_port = 7714;         // embedded mode: the boundary's admin API
  std::string boundary_url;      // remote mode: a running `helm serve`
  BoundaryOptions boundary;      // embedded mode (policy_path set)
  UpstreamOptions upstream_options;
  // Flags given on the command line ("--port", ...): they win over the
  // [server] and [ledger] settings of helm.toml.
  std::set<std::string> explicit_flags;
};
int RunProxy(const ProxyCommandOptions& options);
// `helm config check FILE`.
int RunConfigCheck(const std::string& file, Format format);

// Commands that talk to a running boundary's admin API.
struct ClientOptions {
  std::string server = "http://127.0.0.1:7714";
  std::string data_dir = "./helm-data";  // for keys/admin.token when HELM_ADMIN_TOKEN is unset
  Format format = Format::kText;
};

struct TailOptions {
  ClientOptions client;
  std::string agent;
  int64_t since = -1;  // -1: only new receipts
  int64_t max_events = -1;  // stop after this many (-1: follow forever)
};
int RunReceiptsTail(const TailOptions& options);
// The admin token: HELM_ADMIN_TOKEN, else <data_dir>/keys/admin.token.
std::string AdminToken(const std::string& data_dir);
int RunReceiptsShow(const ClientOptions& options, const std::string& id);
int RunReceiptsList(const ClientOptions& options, const std::string& agent,
                    const std::string& verdict, int64_t limit);

struct VerifyOptions {
  std::string data_dir;     // either a stopped (or running) data dir
  std::string file;         // or a JSONL export
  std::vector<std::string> trusted_keys;  // hex public keys, or files holding one each
  std::string checkpoint_file;  // optional: an earlier exported checkpoint receipt
  Format format = Format::kText;
};
int RunReceiptsVerify(const VerifyOptions& options);

struct ExportOptions {
  std::string data_dir = "./helm-data";
  std::string out;
  uint64_t from = 1;
  uint64_t to = UINT64_MAX;
};
int RunReceiptsExport(const ExportOptions& options);

int RunApprovalsList(const ClientOptions& options, const std::string& status);
int RunApprovalsDecide(const ClientOptions& options, const std::string& id, bool approve);

// helm keys create's and keys limits' limits; 0 (no lanes) = none.
struct KeyLimitOptions {
  std::vector<std::string> lanes;
  int64_t rpm = 0;
  int64_t tpm = 0;
  double budget_usd = 0;  // sent as integer micro-dollars
  int64_t concurrency = 0;
};
int RunKeysCreate(const ClientOptions& options, const std::string& agent,
                  const KeyLimitOptions& limits);
int RunKeysList(const ClientOptions& options);
int RunKeysRevoke(const ClientOptions& options, const std::string& id);
int RunKeysRotate(const ClientOptions& options, const std::string& id);
// Replaces the key's limits with exactly those given (none given: no limits).
int RunKeysLimits(const ClientOptions& options, const std::string& id,
                  const KeyLimitOptions& limits);

int RunPolicyCheck(const std::string& file, Format format);
int RunPolicyTest(const std::string& file, const std::string& vectors_dir, Format format);
int RunPolicyReload(const ClientOptions& options);

int RunVersion(Format format);

}  // namespace helm::app
