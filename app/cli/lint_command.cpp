#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "app/cli/constant_args_option.h"
#include "core/graph/graph_capture.h"
#include "core/graph/lint.h"
#include "core/kernel/constant_args.h"
#include "core/kernel/kernel.h"
#include "core/util/error.h"

#include <iostream>
#include <memory>

namespace bucketlab::cli {

Command addLintCommand(CLI::App& app)
{
    struct Options {
        std::string kernel;
        std::string function;
        std::string constantArgs;
        bool json = false;
    };
    auto o = std::make_shared<Options>();
    auto* sub = app.add_subcommand("lint", commandSummary("lint"));
    sub->add_option("kernel", o->kernel, "Kernel: .py as in the guide, TorchScript source, or .pt")
        ->required();
    sub->add_option("--function", o->function,
                    "Function to check (default: the one get_bucket_kernel scripts, or the "
                    "archive's bucket kernel)");
    sub->add_option("--constant-args", o->constantArgs,
                    "Arguments the kernel takes after its inputs, as TorchScript expressions "
                    "(NxD's bucket_kernel_constant_args), e.g. \"torch.tensor([128, 512]), "
                    "'right', 0\": checked against the kernel's parameters");
    addJsonFlag(sub, o->json, "Print {\"findings\": [...]} as JSON");
    return {sub, [o] {
                const ConstantArgs constantArgs = parseConstantArgsOption(o->constantArgs);
                const Kernel kernel = loadKernel(o->kernel, {o->function});
                // The graph is the same whatever the constants are; what they can be wrong
                // about is the kernel's parameters (count and types).
                if (!constantArgs.empty())
                    checkConstantArgsOption(kernel, constantArgs);
                const auto findings = lintGraph(kernelGraph(kernel), kernel.source());
                if (o->json) {
                    printJson(lintFindingsJson(findings));
                } else {
                    for (const auto& f : findings)
                        std::cout << (f.file.empty() ? kernel.file() : f.file) << ":" << f.line
                                  << ":" << f.column << ": " << severityName(f.severity) << " ["
                                  << f.rule << "] " << f.message << "\n"
                                  << "    fix: " << lintRule(f.rule).fix << "\n";
                    std::cout << kernel.name() << ": " << findings.size() << " finding"
                              << (findings.size() == 1 ? "" : "s") << "\n";
                }
                return findings.empty() ? 0 : 1;
            }};
}

} // namespace bucketlab::cli
