// helm serve, approvals, keys, policy.
#include "cli/cli.h"

namespace helm::cli {

void AddServe(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "the boundary server: decisions, ledger, receipts");
  static app::ServeOptions o;
  cmd->add_option("--policy", o.boundary.policy_path, "policy file (TOML)")->required();
  cmd->add_option("--bind", o.bind, "listen address")->capture_default_str();
  cmd->add_option("--port", o.port, "listen port (0: any free port)")->capture_default_str();
  AddBoundaryOptions(cmd, &o.boundary);
  cmd->callback([exit_code] { *exit_code = app::RunServe(o); });
}

void AddApprovals(CLI::App& app, int* exit_code) {
  auto* group = app.add_subcommand("approvals", "the ESCALATE workflow")->require_subcommand(1);
  static app::ClientOptions o;
  static std::string status, id;
  auto* list = group->add_subcommand("list", "list approvals");
  AddClientOptions(list, &o);
  list->add_option("--status", status, "pending, approved, denied, used or expired");
  list->callback([exit_code] { *exit_code = app::RunApprovalsList(o, status); });
  for (bool approve : {true, false}) {
    auto* cmd = group->add_subcommand(approve ? "approve" : "deny",
                                      approve ? "approve a pending request" : "deny it");
    AddClientOptions(cmd, &o);
    cmd->add_option("ID", id, "approval id")->required();
    cmd->callback([exit_code, approve] { *exit_code = app::RunApprovalsDecide(o, id, approve); });
  }
}

namespace {

// A key's limit flags, for keys create and keys limits.
void AddLimitOptions(CLI::App* cmd, app::KeyLimitOptions* limits) {
  cmd->add_option("--lanes", limits->lanes, "the lanes this key may use (default: any)")
      ->delimiter(',');
  cmd->add_option("--rpm", limits->rpm, "requests per minute, per proxy")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--tpm", limits->tpm, "tokens per minute (input estimate + output), per proxy")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--budget-usd", limits->budget_usd, "total cost this key may spend, USD")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--concurrency", limits->concurrency, "requests in flight, per proxy")
      ->check(CLI::PositiveNumber);
}

}  // namespace

void AddKeys(CLI::App& app, int* exit_code) {
  auto* group = app.add_subcommand("keys", "API keys for clients")->require_subcommand(1);
  static app::ClientOptions o;
  static std::string agent, id;
  static app::KeyLimitOptions limits;
  auto* create = group->add_subcommand("create", "create a key (the secret is printed once)");
  AddClientOptions(create, &o);
  create->add_option("--agent", agent, "agent id the key authenticates as")->required();
  AddLimitOptions(create, &limits);
  create->callback([exit_code] { *exit_code = app::RunKeysCreate(o, agent, limits); });
  auto* set_limits = group->add_subcommand(
      "limits", "replace a key's limits with exactly those given (none given: no limits)");
  AddClientOptions(set_limits, &o);
  set_limits->add_option("ID", id, "key id")->required();
  AddLimitOptions(set_limits, &limits);
  set_limits->callback([exit_code] { *exit_code = app::RunKeysLimits(o, id, limits); });
  auto* list = group->add_subcommand("list", "list keys (never their secrets)");
  AddClientOptions(list, &o);
  list->callback([exit_code] { *exit_code = app::RunKeysList(o); });
  auto* revoke = group->add_subcommand("revoke", "revoke a key");
  AddClientOptions(revoke, &o);
  revoke->add_option("ID", id, "key id")->required();
  revoke->callback([exit_code] { *exit_code = app::RunKeysRevoke(o, id); });
  auto* rotate = group->add_subcommand(
      "rotate", "a new secret for a key, printed once; the old secret is refused from now on");
  AddClientOptions(rotate, &o);
  rotate->add_option("ID", id, "key id")->required();
  rotate->callback([exit_code] { *exit_code = app::RunKeysRotate(o, id); });
}

void AddPolicy(CLI::App& app, int* exit_code) {
  auto* group = app.add_subcommand("policy", "validate and test policies")->require_subcommand(1);
  static std::string file, vectors;
  static app::Format format = app::Format::kText;
  auto* check = group->add_subcommand("check", "validate a policy file");
  check->add_option("FILE", file, "policy file")->required();
  AddFormatOption(check, &format);
  check->callback([exit_code] { *exit_code = app::RunPolicyCheck(file, format); });
  auto* test = group->add_subcommand("test", "run decision vectors against a policy");
  test->add_option("FILE", file, "policy file")->required();
  test->add_option("--vectors", vectors, "directory of decision vectors")->required();
  AddFormatOption(test, &format);
  test->callback([exit_code] { *exit_code = app::RunPolicyTest(file, vectors, format); });
  static app::ClientOptions client;
  auto* reload = group->add_subcommand("reload", "reload the running boundary's policy file");
  AddClientOptions(reload, &client);
  reload->callback([exit_code] { *exit_code = app::RunPolicyReload(client); });
}

}  // namespace helm::cli
