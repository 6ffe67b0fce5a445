#include "cli/cli.h"

int main(int argc, char** argv) {
  CLI::App app{"helm: a governance execution boundary for LLM traffic"};
  app.require_subcommand(1);
  int exit_code = helm::app::kExitOk;
  helm::cli::AddServe(app, &exit_code);
  helm::cli::AddReceipts(app, &exit_code);
  helm::cli::AddApprovals(app, &exit_code);
  helm::cli::AddKeys(app, &exit_code);
  helm::cli::AddPolicy(app, &exit_code);
  helm::cli::AddProxy(app, &exit_code);
  helm::cli::AddConfig(app, &exit_code);
  auto* version = app.add_subcommand("version", "version, build and linked library versions");
  static helm::app::Format version_format = helm::app::Format::kText;
  helm::cli::AddFormatOption(version, &version_format);
  version->callback([&] { exit_code = helm::app::RunVersion(version_format); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : helm::app::kExitConfig;
  }
  return exit_code;
}
