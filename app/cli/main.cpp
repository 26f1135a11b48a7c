// bucketlab-cli: the headless front end. Parsing and output only; the work is in core/.
// This executable links no LibTorch, so the commands that run no model start in
// milliseconds; the others run in the torch module, opened on demand (torch_module.h).
#include "app/cli/cli_main.h"
#include "app/cli/torch_module.h"

int main(int argc, char** argv)
{
    using namespace bucketlab::cli;
    const std::map<std::string, AddCommand> torchFree{{"inspect", addInspectCommand},
                                                      {"distribution", addDistributionCommand},
                                                      {"tune", addTuneCommand},
                                                      {"report", addReportCommand},
                                                      {"llm", addLlmCommand}};
    return runCli(argc, argv, torchFree, [&](const std::string& command) {
        return runInTorchModule(command, argc, argv);
    });
}
