// bucketlab-cli subcommands. Each add*Command() declares its options on a CLI11
// subcommand and returns the function that runs it after parsing. Exit codes: 0 success,
// 1 when what was checked has defects, 2 bad usage or unreadable input (bucketlab::Error).
#pragma once

#include "app/cli/flags.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace bucketlab::cli {

struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
    // Options of this subcommand named otherwise than the shared table (flags.h) names them.
    FlagNames flags = {};
    // Whether the parsed options ask for LibTorch (tune --verify, a report's kernel checks):
    // the launcher then hands the command to the torch module (cli_main.h). Unset: never,
    // for a command in the launcher; commands only the module has always need it.
    std::function<bool()> needsTorch = {};
};

// A subcommand as --help lists it.
struct CommandInfo {
    const char* name;
    const char* summary;
};

// Every subcommand, in the order --help lists them.
const std::vector<CommandInfo>& commandCatalog();
// The one-line summary of `name` (a name in the catalog).
const char* commandSummary(const std::string& name);

Command addBuildCommand(CLI::App& app);
Command addInspectCommand(CLI::App& app);
Command addDemoCommand(CLI::App& app);
Command addExportCommand(CLI::App& app);
Command addDistributionCommand(CLI::App& app);
Command addTuneCommand(CLI::App& app);
Command addGraphCommand(CLI::App& app);
Command addLintCommand(CLI::App& app);
Command addValidateCommand(CLI::App& app);
Command addProfileCommand(CLI::App& app);
Command addReportCommand(CLI::App& app);
Command addLlmCommand(CLI::App& app);

// Prints a JSON document on stdout.
void printJson(const nlohmann::json& json);

} // namespace bucketlab::cli
