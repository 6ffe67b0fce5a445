// helm receipts tail|show|list|verify|export.
#include "cli/cli.h"

namespace helm::cli {

void AddReceipts(CLI::App& app, int* exit_code) {
  auto* group = app.add_subcommand("receipts", "read, follow, verify and export receipts")
                    ->require_subcommand(1);

  static app::TailOptions tail;
  auto* t = group->add_subcommand("tail", "follow receipts as they are appended");
  AddClientOptions(t, &tail.client);
  t->add_option("--agent", tail.agent, "only this agent's receipts");
  t->add_option("--since", tail.since, "start after this seq (default: only new receipts)");
  t->add_option("--max", tail.max_events, "stop after this many receipts");
  t->callback([exit_code] { *exit_code = app::RunReceiptsTail(tail); });

  static app::ClientOptions client;
  static std::string id, agent, verdict;
  static int64_t limit = 20;
  auto* show = group->add_subcommand("show", "print one receipt");
  AddClientOptions(show, &client);
  show->add_option("ID", id, "receipt id or seq")->required();
  show->callback([exit_code] { *exit_code = app::RunReceiptsShow(client, id); });
  auto* list = group->add_subcommand("list", "list the newest receipts");
  AddClientOptions(list, &client);
  list->add_option("--agent", agent, "only this agent");
  list->add_option("--verdict", verdict, "ALLOW, DENY or ESCALATE");
  list->add_option("--limit", limit, "how many")->capture_default_str();
  list->callback([exit_code] { *exit_code = app::RunReceiptsList(client, agent, verdict, limit); });

  static app::VerifyOptions verify;
  auto* v = group->add_subcommand("verify", "verify a ledger or an export offline");
  auto* dd = v->add_option("--data-dir", verify.data_dir, "a data dir");
  v->add_option("--file", verify.file, "a JSONL export")->excludes(dd);
  v->add_option("--trusted-key", verify.trusted_keys,
                "trusted public key (hex, or a file); repeat it for each key the ledger was "
                "signed with")
      ->required();
  v->add_option("--checkpoint", verify.checkpoint_file,
                "an earlier exported checkpoint receipt: detects truncation and rollback");
  AddFormatOption(v, &verify.format);
  v->callback([exit_code] { *exit_code = app::RunReceiptsVerify(verify); });

  static app::ExportOptions exp;
  auto* e = group->add_subcommand("export", "JSONL export, one stored receipt per line");
  e->add_option("--data-dir", exp.data_dir, "data dir")->capture_default_str();
  e->add_option("--out", exp.out, "output file")->required();
  e->add_option("--from", exp.from, "first seq")->capture_default_str();
  e->add_option("--to", exp.to, "last seq");
  e->callback([exit_code] { *exit_code = app::RunReceiptsExport(exp); });
}

}  // namespace helm::cli
