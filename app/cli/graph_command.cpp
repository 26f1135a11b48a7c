#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "core/graph/graph.h"
#include "core/graph/graph_capture.h"

#include <iostream>
#include <memory>

namespace bucketlab::cli {

Command addGraphCommand(CLI::App& app)
{
    struct Options {
        std::string file;
        std::string method;
        std::string format = "text";
        bool json = false;
    };
    auto o = std::make_shared<Options>();
    auto* sub = app.add_subcommand("graph", commandSummary("graph"));
    sub->add_option("file", o->file, "Model, package, kernel archive, or kernel source (.py)")
        ->required();
    sub->add_option("--method", o->method,
                    "Method of an archive (default forward, or the bucket kernel when the "
                    "archive cannot be loaded here), or the function of a kernel source");
    sub->add_option("--format", o->format, "text (LibTorch's printout), dot (Graphviz) or json")
        ->capture_default_str();
    addJsonFlag(sub, o->json, "Same as --format json");
    sub->footer("Example:\n  bucketlab-cli graph seed_bucket_kernel.py --format dot | dot -Tsvg > "
                "kernel.svg");
    return {sub, [o] {
                const auto format = o->json ? GraphFormat::Json : parseGraphFormat(o->format);
                const auto graph = fileGraph(o->file, o->method);
                std::cout << exportGraph(graph, format);
                if (format == GraphFormat::Json)
                    std::cout << "\n";
                return 0;
            }};
}

} // namespace bucketlab::cli
