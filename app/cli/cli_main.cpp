#include "app/cli/cli_main.h"

#include "core/spec/package_meta.h"
#include "core/util/error.h"

#include <iostream>
#include <stdexcept>

namespace bucketlab::cli {

const std::vector<CommandInfo>& commandCatalog()
{
    static const std::vector<CommandInfo> catalog{
        {"build", "Package a model (or one model per bucket) with a generated bucket kernel"},
        {"inspect", "Show a model's or package's structure, buckets, inputs, metadata and kernel "
                    "sources (reads the archive; runs and compiles nothing)"},
        {"demo", "Run the whole pipeline on the embedded demo (BERT-shaped encoder, MRPC "
                 "traffic): package, tune, validate, export, and report"},
        {"export", "Re-export a package with new boundaries, verified against it, and optionally "
                   "the Neuron build recipe"},
        {"distribution", "Summarise traffic lengths from files or a synthetic spec, and write "
                         "the length,count histogram"},
        {"tune", "Optimal bucket boundaries for your traffic and latency, against the baselines"},
        {"graph", "Print the lowered TorchScript graph of a method or kernel (calls inlined)"},
        {"lint", "Check a bucket kernel's lowered graph for the TorchScript pitfalls of the "
                 "autobucketing guide (exit 1 when there are findings)"},
        {"validate", "Run a bucket kernel at every length and batch size, infer its buckets and "
                     "report defects; a package is checked whole: kernel, state preprocessor and "
                     "forward() at every bucket (exit 1 when there are any defects)"},
        {"profile", "Measure latency per input length (and batch size) of a model or package"},
        {"report", "Write a self-contained HTML report comparing current and tuned boundaries "
                   "(plots, per-bucket tables, baselines, kernel validation, environment)"},
        {"llm", "LLM serving buckets for NxD Inference and vLLM: context-encoding (CTE) and "
                "token-generation (TKG) buckets tuned jointly from (prompt, output) traffic"},
    };
    return catalog;
}

const char* commandSummary(const std::string& name)
{
    for (const auto& c : commandCatalog())
        if (name == c.name)
            return c.summary;
    throw std::logic_error("no command named " + name + " in the catalog");
}

void printJson(const nlohmann::json& json)
{
    std::cout << json.dump(2) << std::endl;
}

namespace {

// A command the other half runs: declared so that --help lists it, its arguments kept whole
// (its own --help included) for the half that parses them.
Command declareDelegated(CLI::App& app, const CommandInfo& info, const Delegate& delegate)
{
    auto* sub = app.add_subcommand(info.name, info.summary);
    sub->set_help_flag();
    sub->allow_extras();
    sub->prefix_command();
    const std::string name = info.name;
    return {sub, [delegate, name] {
                return delegate(name);
            }};
}

} // namespace

int runCli(int argc, char** argv, const std::map<std::string, AddCommand>& implemented,
           const Delegate& delegate)
{
    CLI::App app{"BucketLab: measure, tune, check and package bucketed models for static-shape "
                 "runtimes (Neuron, XLA, TensorRT, CUDA graphs).",
                 "bucketlab-cli"};
    app.require_subcommand(1);
    app.set_version_flag("--version", creatorString());
    std::map<CLI::App*, Command> runners;
    for (const auto& info : commandCatalog()) {
        const auto add = implemented.find(info.name);
        if (add == implemented.end() && !delegate)
            throw std::logic_error(std::string("command ") + info.name + " is not implemented");
        const Command c =
            add != implemented.end() ? add->second(app) : declareDelegated(app, info, delegate);
        runners[c.app] = c;
    }

    // CLI11 reports an unknown first word as a missing subcommand; name it instead.
    const auto isCommand = [&](const std::string& word) {
        for (const auto& [sub, run] : runners)
            if (sub->get_name() == word)
                return true;
        return false;
    };
    if (argc > 1 && argv[1][0] != '-' && !isCommand(argv[1])) {
        std::string known;
        for (const auto& info : commandCatalog())
            known += (known.empty() ? "" : ", ") + std::string(info.name);
        std::cerr << "bucketlab-cli: error: unknown subcommand '" << argv[1]
                  << "' (commands: " << known << ")\n";
        return 2;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string msg = firstLine(e.what());
        std::cerr << "bucketlab-cli: error: " << msg << " (see bucketlab-cli --help)\n";
        return 2;
    }
    CLI::App* sub = app.get_subcommands().front();
    const Command& command = runners.at(sub);
    try {
        if (delegate && command.needsTorch && command.needsTorch())
            return delegate(sub->get_name());
        return command.run();
    } catch (const Error& e) {
        std::cerr << "bucketlab-cli " << sub->get_name()
                  << ": error: " << firstLine(cliMessage(e, command.flags)) << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "bucketlab-cli " << sub->get_name()
                  << ": internal error: " << firstLine(e.what()) << "\n";
        return 2;
    }
}

} // namespace bucketlab::cli
