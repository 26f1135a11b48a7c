// The command line of bucketlab-cli, shared by its two halves:
//   - the executable (the launcher), which links no LibTorch and runs the commands that run
//     no model: --version, --help, inspect, distribution, tune, report --no-kernel-check, llm;
//   - the torch module (lib/bucketlab/bucketlab-cli-torch.so), which the launcher opens only
//     for a command that runs or compiles TorchScript, and which runs every command.
// Both parse the same options, so a command's --help and its errors read the same in each.
#pragma once

#include "app/cli/command.h"

#include <functional>
#include <map>
#include <string>

namespace bucketlab::cli {

using AddCommand = Command (*)(CLI::App&);

// Runs `command` (argv[1]) in the torch module with the whole command line; its exit code.
using Delegate = std::function<int(const std::string& command)>;

// Parses argv and runs its subcommand; the process's exit code. `implemented` are the commands
// this half runs. Every other catalog command is declared by name and summary only, with its
// arguments left unparsed, and handed to `delegate`, as is an implemented command whose
// needsTorch() holds once its options are parsed. Without a delegate every command must be
// implemented.
int runCli(int argc, char** argv, const std::map<std::string, AddCommand>& implemented,
           const Delegate& delegate);

} // namespace bucketlab::cli
