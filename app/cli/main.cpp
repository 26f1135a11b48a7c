// bucketlab-cli: the headless front end. Parsing and output only; the work is in core/.
#include "app/cli/command.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"

#include <iostream>
#include <map>

int main(int argc, char** argv)
{
    using namespace bucketlab;
    CLI::App app{"BucketLab: measure, tune, check and package bucketed models for static-shape "
                 "runtimes (Neuron, XLA, TensorRT, CUDA graphs).",
                 "bucketlab-cli"};
    app.require_subcommand(1);
    app.set_version_flag("--version", creatorString());
    std::map<CLI::App*, cli::Command> runners;
    for (auto add : {cli::addBuildCommand, cli::addInspectCommand, cli::addDemoCommand,
                     cli::addExportCommand, cli::addDistributionCommand, cli::addTuneCommand,
                     cli::addGraphCommand, cli::addLintCommand, cli::addValidateCommand,
                     cli::addProfileCommand, cli::addReportCommand, cli::addLlmCommand}) {
        const cli::Command c = add(app);
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
        for (const auto& [sub, run] : runners)
            known += (known.empty() ? "" : ", ") + sub->get_name();
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
    const cli::Command& command = runners.at(sub);
    try {
        return command.run();
    } catch (const Error& e) {
        std::cerr << "bucketlab-cli " << sub->get_name()
                  << ": error: " << firstLine(cli::cliMessage(e, command.flags)) << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "bucketlab-cli " << sub->get_name()
                  << ": internal error: " << firstLine(e.what()) << "\n";
        return 2;
    }
}
