// The torch module of bucketlab-cli: a private shared library, lib/bucketlab/
// bucketlab-cli-torch.so beside the bin/ folder that holds the executable, which links LibTorch
// and runs every command (torch_main.cpp). The executable opens it only for a command that
// runs or compiles TorchScript.
#pragma once

#include <string>

namespace bucketlab::cli {

// The entry point the module exports: runs the command line as bucketlab-cli would.
inline constexpr const char* kTorchModuleEntry = "bucketlab_cli_torch_main";

// Where the module of this executable is: ../lib/bucketlab/bucketlab-cli-torch.so from the
// executable's folder.
std::string torchModulePath();

// Opens the module and runs the whole command line in it; its exit code. Exit 2 with one line
// on stderr naming `command`, the module's path and what is wrong when it cannot be opened.
int runInTorchModule(const std::string& command, int argc, char** argv);

} // namespace bucketlab::cli
