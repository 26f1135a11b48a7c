#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "app/cli/terminal_progress.h"
#include "core/latency/profile_format.h"
#include "core/latency/profile_grid.h"
#include "core/latency/profile_merge.h"
#include "core/latency/profiler.h"
#include "core/package/package.h"
#include "core/runtime/device.h"
#include "core/spec/boundaries.h"
#include "core/util/error.h"
#include "core/util/output_file.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace bucketlab::cli {

namespace {

struct ProfileOptions {
    std::string model;
    ModelInputOptions in;
    std::string lengths;
    int grid = 0;
    int64_t minLength = 16;
    int64_t maxLength = 0;
    std::string boundaries;
    std::string batches = "1";
    MeasureOptions measure;
    double budget = 30;
    double targetCi = 2;
    OutputOptions output;
    std::string phase;
};

std::vector<int64_t> lengthsToProfile(const ProfileOptions& o)
{
    if (!o.lengths.empty())
        return parsePositiveList(o.lengths, Field::Lengths, kMaxLength);
    const auto meta = readPackageMeta(o.model);
    Boundaries current;
    if (!o.boundaries.empty())
        current = Boundaries::parse(o.boundaries, Field::Boundaries);
    else if (meta)
        current = meta->boundaries;
    int64_t maxLength = o.maxLength;
    if (meta) {
        if (maxLength == 0)
            maxLength = meta->maxLength();
        if (maxLength > meta->maxLength())
            throw Error("--max-length " + std::to_string(maxLength) +
                        " exceeds the largest bucket " + std::to_string(meta->maxLength()) +
                        " of the package " + o.model);
    } else if (maxLength == 0) {
        throw Error("--grid with a plain model needs --max-length (the longest input it serves)");
    }
    return gridLengths(o.grid, std::min(o.minLength, maxLength), maxLength, current);
}

std::string fixed(double v, int precision = 3)
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << v;
    return s.str();
}

std::string joined(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& i : items)
        out += (out.empty() ? "" : ",") + i;
    return out;
}

void printTable(const Profile& p, const std::string& out)
{
    std::cout << "profiled " << p.modelFile << " (" << p.settings.at("target") << ") on "
              << p.deviceKind << " (" << p.deviceName << "), " << p.threads << " thread"
              << (p.threads == 1 ? "" : "s") << ", " << p.settings.at("clock") << " clock, "
              << fixed(std::stod(p.settings.at("elapsed_s")), 1) << " s of a "
              << p.settings.at("budget_s") << " s budget, stopped by "
              << p.settings.at("stopped_by") << "\n";
    std::cout << std::setw(8) << "length" << std::setw(7) << "batch" << std::setw(11) << "p50 ms"
              << std::setw(11) << "p90 ms" << std::setw(11) << "p99 ms" << std::setw(11)
              << "mean ms" << std::setw(23) << "95% CI of p50" << std::setw(8) << "n"
              << "  flags\n";
    for (const auto& pt : p.points) {
        std::cout << std::setw(8) << pt.length << std::setw(7) << pt.batch;
        if (!pt.ok()) {
            std::cout << "  " << pt.error << "\n";
            continue;
        }
        std::cout << std::setw(11) << fixed(pt.p50Ms) << std::setw(11) << fixed(pt.p90Ms)
                  << std::setw(11) << fixed(pt.p99Ms) << std::setw(11) << fixed(pt.meanMs)
                  << std::setw(23)
                  << ("[" + fixed(pt.ci95LowMs) + ", " + fixed(pt.ci95HighMs) + "]") << std::setw(8)
                  << pt.samples << "  " << joined(pt.flags) << "\n";
    }
    if (!out.empty())
        std::cout << "wrote " << out << "\n";
}

struct MergeOptions {
    std::vector<std::string> profiles;
    OutputOptions output;
};

void printMerge(const ProfileMerge& m, const std::string& out)
{
    const Profile& p = m.profile;
    std::cout << "merged " << m.sources.size() << " profiles of " << p.modelFile << " on "
              << p.deviceKind << " (" << p.deviceName << "), " << p.threads << " thread"
              << (p.threads == 1 ? "" : "s") << "\n";
    std::cout << std::setw(8) << "length" << std::setw(7) << "batch" << std::setw(11) << "p50 ms"
              << std::setw(23) << "95% CI of p50" << std::setw(8) << "n" << std::setw(7) << "hosts"
              << "  how\n";
    for (size_t i = 0; i < p.points.size(); ++i) {
        const ProfilePoint& pt = p.points[i];
        std::cout << std::setw(8) << pt.length << std::setw(7) << pt.batch;
        if (!pt.ok()) {
            std::cout << "  " << pt.error << "\n";
            continue;
        }
        std::cout << std::setw(11) << fixed(pt.p50Ms) << std::setw(23)
                  << ("[" + fixed(pt.ci95LowMs) + ", " + fixed(pt.ci95HighMs) + "]") << std::setw(8)
                  << pt.samples << std::setw(7) << m.points[i].sources.size() << "  "
                  << mergeMethodName(m.points[i].method) << "\n";
    }
    std::cout << "wrote " << out << "\n";
}

// `profile merge A.json B.json ... --out merged.json`: a subcommand of `profile`, so the
// command reads as what it does. CLI11 takes the word `merge` for the subcommand before the
// parent's positional (a model file named merge is ./merge).
void addMergeSubcommand(CLI::App& profile, const std::shared_ptr<MergeOptions>& o)
{
    auto* sub = profile.add_subcommand(
        "merge", "Combine profiles of one model from several hosts into one profile");
    sub->add_option("profiles", o->profiles,
                    "Profiles (bucketlab.profile/1 JSON or CSV) of the same model, inputs "
                    "and device")
        ->required();
    addOutputOptions(sub, o->output,
                     {"--out", "Write the merged profile (bucketlab.profile/1 JSON)", true, "",
                      "Print a summary as JSON (per length: method, hosts, p50, CI)"});
    sub->footer("Per length: the hosts' samples pooled when every host stored them, else the "
                "median of the hosts' medians with a bootstrap 95% interval over the hosts.\n"
                "Exit status: 0 merged, 2 bad usage, an unreadable profile or profiles of "
                "different models, inputs or devices (nothing is written).\n"
                "Example:\n  bucketlab-cli profile merge host1.json host2.json --out "
                "merged.json\n  bucketlab-cli tune --latency merged.json ...");
}

int runMerge(const MergeOptions& o)
{
    const OutputOptions& out = o.output;
    checkOutputPath(out.path, OutputCheck{out.force, o.profiles});
    const ProfileMerge m = mergeProfileFiles(o.profiles);
    writeProfile(out.path, m.profile, out.force);
    if (out.json) {
        auto j = m.toJson();
        j["out"] = out.path;
        printJson(j);
    } else {
        printMerge(m, out.path);
    }
    return 0;
}

void addProfileOptions(CLI::App* sub, ProfileOptions& o)
{
    // Required unless the merge subcommand runs (checked when the command runs).
    sub->add_option("model", o.model, "TorchScript model or BucketLab package");
    addModelInputOptions(sub, o.in,
                         {"", "of a plain model; packages carry theirs", false, "", true});
    auto* lengths = sub->add_option("--lengths", o.lengths, "Lengths to measure, e.g. 16,128,512");
    auto* grid = sub->add_option("--grid", o.grid,
                                 "Measure N log-spaced lengths from --min-length to --max-length, "
                                 "plus the current boundaries: the tuner's latency curve");
    lengths->excludes(grid);
    grid->excludes(lengths);
    sub->add_option("--min-length", o.minLength, "Shortest grid length")->capture_default_str();
    sub->add_option("--max-length", o.maxLength,
                    "Longest grid length (default: a package's largest bucket; required for a "
                    "plain model)");
    sub->add_option("--boundaries", o.boundaries,
                    "Current buckets to include in the grid (default: a package's own)");
    addBatchSizesOption(sub, o.batches, "Batch sizes to measure");
    addHiddenAlias(sub, "--batch", o.batches);
    addMeasureOptions(sub, o.measure);
    sub->add_option("--budget", o.budget, "Time budget in seconds for the whole run")
        ->capture_default_str();
    sub->add_option("--target-ci", o.targetCi,
                    "Stop a length once the 95% CI of its median is within +-this % (0: use "
                    "the whole budget)")
        ->capture_default_str();
    sub->add_option("--phase", o.phase,
                    "Profile a decoder (prefill, decode and empty_cache methods) one phase at a "
                    "time: prefill times the prompt pass at each length (CTE buckets), decode "
                    "one step with a KV cache of each length (TKG buckets); the profile records "
                    "the phase, for llm --cte-latency and --tkg-latency")
        ->check(CLI::IsMember({"prefill", "decode"}));
    addOutputOptions(sub, o.output,
                     {"--out", "Write the profile (bucketlab.profile/1 JSON, raw samples included)",
                      false, "", "Print the result as JSON (without raw samples)"});
    sub->footer(
        "Exit status: 0 every length measured, 1 some lengths failed (kept in the profile "
        "with the reason), 2 bad usage or unusable input.\n"
        "Examples:\n"
        "  bucketlab-cli profile model.bucketed.pt --grid 10 --out profile.json\n"
        "  bucketlab-cli profile model.pt --inputs input_ids:int64:0,attention_mask:int64:0 "
        "--lengths 64,128,512 --threads 1 --budget 20\n"
        "  bucketlab-cli profile decoder.pt --phase prefill --lengths 128,512,2048 --out "
        "cte.json\n"
        "  bucketlab-cli profile decoder.pt --phase decode --lengths 512,2048,8192 --out "
        "tkg.json\n"
        "  bucketlab-cli profile merge host1.json host2.json --out merged.json");
}

// Profiles a model (not the merge subcommand).
int runProfileCommand(const ProfileOptions& o)
{
    if (o.model.empty())
        throw Error("give the MODEL to profile (or: profile merge A.json B.json ... "
                    "--out merged.json)");
    if (o.lengths.empty() && o.grid == 0)
        throw Error("give --lengths LIST or --grid N");
    const OutputOptions& out = o.output;
    if (!out.path.empty())
        checkOutputPath(out.path, OutputCheck{out.force, {o.model}});
    ProfileRequest r;
    r.model = o.model;
    if (!o.in.inputs.empty())
        r.inputs = parseInputSpecs(o.in.inputs);
    r.lengths = lengthsToProfile(o);
    r.batches = batchSizes(o.batches);
    r.threads = o.measure.threads;
    r.budgetS = o.budget;
    r.targetCiPct = o.targetCi;
    r.device = o.measure.deviceKind();
    r.clock = o.measure.profileClock();
    r.bucketDim = o.in.bucketDim;
    r.batchDim = o.in.batchDim;
    if (!o.phase.empty())
        r.phase = parseDecoderPhase(o.phase);
    const Profile profile = runProfile(r, terminalJob());
    if (!out.path.empty())
        writeProfile(out.path, profile, out.force);
    if (out.json) {
        auto j = profileJson(profile);
        for (auto& p : j["points"])
            p.erase("samples_ms");
        j["out"] = out.path.empty() ? nlohmann::json(nullptr) : nlohmann::json(out.path);
        printJson(j);
    } else {
        printTable(profile, out.path);
    }
    for (const auto& p : profile.points)
        if (!p.ok())
            return 1;
    return 0;
}

} // namespace

Command addProfileCommand(CLI::App& app)
{
    auto o = std::make_shared<ProfileOptions>();
    auto* sub = app.add_subcommand("profile", commandSummary("profile"));
    addProfileOptions(sub, *o);
    auto merge = std::make_shared<MergeOptions>();
    addMergeSubcommand(*sub, merge);

    return {sub, [o, sub, merge] {
                if (sub->got_subcommand("merge"))
                    return runMerge(*merge);
                return runProfileCommand(*o);
            }};
}

} // namespace bucketlab::cli
