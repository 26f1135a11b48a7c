// The option groups several subcommands share, declared once each so that an option has one
// name, one type and one way of being read everywhere:
//   - output: the file a command writes (--out, or its own name: --html, --histogram-out),
//     --force to replace it, --json for the result on stdout;
//   - model inputs: --inputs, --state, --bucket-dim, --batch-dim;
//   - batch sizes: --batch-sizes;
//   - traffic: --distribution and how its file is read (--column, --field, --vocab,
//     --text-columns, --lowercase);
//   - measurement: --threads, --device, --clock.
// The LLM traffic options have their own group (llm_options.h). A subcommand adds the words
// that are its own (what its output file holds, when its inputs apply) as the groups' Use
// structs say. A name that changed stays accepted as a hidden alias (report --tune, profile
// --batch), so older command lines keep working.
#pragma once

#include "core/latency/profiler.h"
#include "core/runtime/device.h"
#include "core/traffic/distribution.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bucketlab::cli {

// --json: `what` is the help text ("Print the result as JSON" unless the command prints
// something narrower).
CLI::Option* addJsonFlag(CLI::App* sub, bool& json,
                         const std::string& what = "Print the result as JSON");
// --force: "Replace `what` if present" (`what` names the file's option, "--out").
CLI::Option* addForceFlag(CLI::App* sub, bool& force, const std::string& what = "--out");

struct OutputOptions {
    std::string path; // empty: the command writes no file
    bool force = false;
    bool json = false;
};

struct OutputUse {
    std::string flag = "--out"; // the option naming the file
    std::string help;           // what the file is ("Package file to write")
    bool required = false;
    std::string replaces; // --force replaces this; default: `flag`
    std::string json = "Print the result as JSON";
};

// The file option, --force and --json.
void addOutputOptions(CLI::App* sub, OutputOptions& o, const OutputUse& use);

struct ModelInputOptions {
    std::string inputs; // name:dtype[:pad[:fill]],...; empty: a package's own (or the default)
    std::vector<std::string> states; // NAME:DTYPE:SHAPE/SHAPE/..., repeatable
    int64_t bucketDim = 1;
    int64_t batchDim = 0;
};

struct ModelInputUse {
    // Put in front of every help text: when the options apply ("With --verify/--refine on a
    // plain model: ").
    std::string when;
    // After the --inputs syntax: what an empty --inputs means for this command.
    std::string inputsDefault;
    bool inputsRequired;
    // --state and what it is for here (the bucket models' shared buffers, a state
    // preprocessor's states); empty: no --state.
    std::string states;
    bool dims; // --bucket-dim and --batch-dim

    ModelInputUse(std::string when = {}, std::string inputsDefault = {},
                  bool inputsRequired = false, std::string states = {}, bool dims = true)
        : when(std::move(when)), inputsDefault(std::move(inputsDefault)),
          inputsRequired(inputsRequired), states(std::move(states)), dims(dims)
    {
    }
};

void addModelInputOptions(CLI::App* sub, ModelInputOptions& o, const ModelInputUse& use);
// Only --state (export re-shapes a package's states for new boundaries).
void addStateOption(CLI::App* sub, std::vector<std::string>& states, const std::string& use);

// --batch-sizes LIST ("1,2,5"), read with batchSizes(); `what` says what runs at them.
CLI::Option* addBatchSizesOption(CLI::App* sub, std::string& batchSizes, const std::string& what);
// The list, each size checked (errors name the batch sizes).
std::vector<int64_t> batchSizes(const std::string& list);

struct TrafficOptions {
    std::string source;       // --distribution: a file or a synthetic spec
    DistributionOptions read; // how the file is read
};

struct TrafficUse {
    std::string help = "Traffic: CSV/TSV/JSONL/text file or a synthetic spec "
                       "(lognormal:mu=5,sigma=0.7,max=2048,n=100000,seed=1)";
    bool required = true;
    // All read options; false: only --column (the report reads lengths from a column).
    bool tokenize = true;
};

// --distribution and its read options.
void addTrafficOptions(CLI::App* sub, TrafficOptions& o, const TrafficUse& use);
// Only the read options (--column, --field, --vocab, --text-columns, --lowercase), for a
// command that names its traffic otherwise (distribution's FILES).
void addDistributionReadOptions(CLI::App* sub, DistributionOptions& read, bool tokenize = true);

struct MeasureOptions {
    int threads = 1;
    std::string device = "auto";
    std::string clock = "wall";

    DeviceKind deviceKind() const { return parseDeviceKind(device); }
    ProfileClock profileClock() const
    {
        return clock == "cpu" ? ProfileClock::ThreadCpu : ProfileClock::Wall;
    }
};

// --threads, --device and --clock of a command that measures latency; `when` as in
// ModelInputUse.
void addMeasureOptions(CLI::App* sub, MeasureOptions& o, const std::string& when = {});

// A hidden second name for an option that was renamed: accepted, stored in the same value,
// not listed by --help.
template <typename T> CLI::Option* addHiddenAlias(CLI::App* sub, const std::string& name, T& value)
{
    return sub->add_option(name, value)->group("");
}

} // namespace bucketlab::cli
