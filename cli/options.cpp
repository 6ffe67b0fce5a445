#include "cli/cli.h"

namespace helm::cli {

void AddFormatOption(CLI::App* cmd, app::Format* format) {
  static const std::map<std::string, app::Format> kFormats{{"text", app::Format::kText},
                                                           {"json", app::Format::kJson}};
  cmd->add_option("--format", *format, "output format: text or json")
      ->transform(CLI::CheckedTransformer(kFormats, CLI::ignore_case));
}

void AddClientOptions(CLI::App* cmd, app::ClientOptions* o) {
  cmd->add_option("--server", o->server, "admin API of the running boundary")
      ->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir,
                  "data dir whose keys/admin.token is used when HELM_ADMIN_TOKEN is unset")
      ->capture_default_str();
  AddFormatOption(cmd, &o->format);
}

void AddBoundaryOptions(CLI::App* cmd, BoundaryOptions* o) {
  cmd->add_option("--data-dir", o->data_dir, "keys, ledger and state")->capture_default_str();
  static std::string sync = "always";
  cmd->add_option("--sync", sync, "ledger durability: always (fsync per group commit) or none")
      ->check(CLI::IsMember({"always", "none"}))
      ->capture_default_str()
      ->each([o](const std::string& v) { o->ledger.sync = v == "always"; });
  cmd->add_option("--checkpoint-every", o->ledger.checkpoint_every,
                  "a signed checkpoint every N receipts (0: never)")
      ->capture_default_str();
  cmd->add_option("--checkpoint-seconds", o->ledger.checkpoint_interval_seconds,
                  "a signed checkpoint after T seconds with new receipts (0: never)")
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", o->limits.max_body_bytes, "largest accepted request body")
      ->capture_default_str();
}

}  // namespace helm::cli
