#include "app/cli/command.h"
#include "core/graph/graph_capture.h"
#include "core/graph/lint.h"
#include "core/kernel/kernel.h"

#include <iostream>
#include <memory>

namespace bucketlab::cli {

Command addLintCommand(CLI::App& app)
{
    struct Options {
        std::string kernel;
        std::string function;
        bool json = false;
    };
    auto o = std::make_shared<Options>();
    auto* sub = app.add_subcommand(
        "lint", "Check a bucket kernel's lowered graph for the TorchScript pitfalls of the "
                "autobucketing guide (exit 1 when there are findings)");
    sub->add_option("kernel", o->kernel, "Kernel: .py as in the guide, TorchScript source, or .pt")
        ->required();
    sub->add_option("--function", o->function,
                    "Function to check (default: the one get_bucket_kernel scripts, or the "
                    "archive's bucket kernel)");
    sub->add_flag("--json", o->json, "Print {\"findings\": [...]} as JSON");
    return {sub, [o] {
                const Kernel kernel = loadKernel(o->kernel, {o->function});
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
