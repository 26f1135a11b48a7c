// The torch module of bucketlab-cli (torch_module.h): every command, with the LibTorch steps
// of the launcher's commands filled in.
#include "app/cli/cli_main.h"
#include "app/cli/torch_module.h"
#include "app/cli/torch_steps.h"
#include "core/report/report_checks.h"

extern "C" __attribute__((visibility("default"))) int bucketlab_cli_torch_main(int argc,
                                                                               char** argv)
{
    using namespace bucketlab;
    using namespace bucketlab::cli;
    torchSteps().measureBuckets = [](const BucketVerificationRequest& r, const Job& job) {
        return measureBuckets(r, job);
    };
    torchSteps().profilerMeasurer = [](const BucketVerificationRequest& settings) {
        return profilerMeasurer(settings);
    };
    torchSteps().report = torchReportRuntime();
    const std::map<std::string, AddCommand> all{{"build", addBuildCommand},
                                                {"inspect", addInspectCommand},
                                                {"demo", addDemoCommand},
                                                {"export", addExportCommand},
                                                {"distribution", addDistributionCommand},
                                                {"tune", addTuneCommand},
                                                {"graph", addGraphCommand},
                                                {"lint", addLintCommand},
                                                {"validate", addValidateCommand},
                                                {"profile", addProfileCommand},
                                                {"report", addReportCommand},
                                                {"llm", addLlmCommand}};
    return runCli(argc, argv, all, {});
}
