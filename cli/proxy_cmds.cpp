// helm proxy.
#include "cli/cli.h"

namespace helm::cli {

void AddProxy(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("proxy", "the data plane: OpenAI-compatible endpoints");
  static app::ProxyCommandOptions o;
  auto* upstream = cmd->add_option("--upstream", o.upstream,
                                   "upstream base URL, or mock:// (built-in provider)");
  cmd->add_option("--config", o.config_path, "helm.toml: providers, lanes, classifier, aliases")
      ->excludes(upstream);
  cmd->add_option("--bind", o.bind, "listen address")->capture_default_str();
  cmd->add_option("--port", o.port, "client port (0: any free port)")->capture_default_str();
  auto* policy = cmd->add_option("--policy", o.boundary.policy_path,
                                 "embed the boundary with this policy file");
  cmd->add_option("--boundary", o.boundary_url, "use a running helm serve at this URL")
      ->excludes(policy);
  cmd->add_option("--admin-port", o.admin_port, "embedded boundary's admin API port (0: any)")
      ->capture_default_str();
  cmd->add_option("--connect-timeout-ms", o.upstream_options.connect_timeout_ms,
                  "upstream connect timeout")
      ->capture_default_str();
  cmd->add_option("--first-byte-timeout-ms", o.upstream_options.first_byte_timeout_ms,
                  "upstream time to the response head")
      ->capture_default_str();
  cmd->add_option("--idle-timeout-ms", o.upstream_options.idle_timeout_ms,
                  "upstream body silence allowed")
      ->capture_default_str();
  cmd->add_option("--server-threads", o.boundary.limits.server_threads,
                  "HTTP worker threads of the client listener (the admin API's: at most "
                  "the default)")
      ->capture_default_str();
  cmd->add_option("--max-streams", o.boundary.limits.max_concurrent_streams,
                  "streaming responses open at once (503 STREAM_CAPACITY beyond); below "
                  "--server-threads")
      ->capture_default_str();
  AddBoundaryOptions(cmd, &o.boundary);
  cmd->callback([exit_code, cmd] {
    for (const char* flag : {"--bind", "--port", "--admin-port", "--max-body-bytes", "--sync",
                             "--checkpoint-every", "--checkpoint-seconds", "--server-threads",
                             "--max-streams"}) {
      if (cmd->count(flag) > 0) o.explicit_flags.insert(flag);
    }
    *exit_code = app::RunProxy(o);
  });
}

}  // namespace helm::cli

namespace helm::cli {

void AddConfig(CLI::App& app, int* exit_code) {
  auto* group = app.add_subcommand("config", "routing configuration")->require_subcommand(1);
  static std::string file;
  static app::Format format = app::Format::kText;
  auto* check = group->add_subcommand("check", "validate a helm.toml");
  check->add_option("FILE", file, "config file")->required();
  AddFormatOption(check, &format);
  check->callback([exit_code] { *exit_code = app::RunConfigCheck(file, format); });
}

}  // namespace helm::cli
