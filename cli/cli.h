// Argument parsing for the helm binary. Each Add* registers one command
// group; its callback stores the chosen command's exit code in *exit_code.
#pragma once

#include <CLI/CLI.hpp>

#include "core/app/commands.h"

namespace helm::cli {

void AddFormatOption(CLI::App* cmd, app::Format* format);
void AddClientOptions(CLI::App* cmd, app::ClientOptions* options);
// --data-dir, --sync, --checkpoint-every, --checkpoint-seconds, --max-body-bytes.
void AddBoundaryOptions(CLI::App* cmd, BoundaryOptions* options);

void AddServe(CLI::App& app, int* exit_code);
void AddReceipts(CLI::App& app, int* exit_code);
void AddApprovals(CLI::App& app, int* exit_code);
void AddKeys(CLI::App& app, int* exit_code);
void AddPolicy(CLI::App& app, int* exit_code);
void AddProxy(CLI::App& app, int* exit_code);
void AddConfig(CLI::App& app, int* exit_code);

}  // namespace helm::cli
