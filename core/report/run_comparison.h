// Two runs side by side (`bucketlab-cli report --compare`): a run is traffic and a latency
// curve; the report's own is run A, a second one (another traffic, another profile, or both,
// e.g. from a project file) is run B. Every boundary set of the report — current, tuned, the
// optimum, the baselines — plus run B's optimum and run B's own named sets is priced on both
// runs, so one can see whether boundaries tuned on A still hold on B. Plain data and
// arithmetic; html_report.h draws it.
#pragma once

#include "core/tuning/tuning_report.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace bucketlab {

struct BoundaryComparison;

// A boundary set that comes with run B (a project's named sets).
struct NamedBoundarySet {
    std::string name;
    Boundaries boundaries;
};

// What a run is made of, as a user names it: file paths or specs.
struct ReportRunInfo {
    std::string traffic; // file or synthetic spec
    std::string latency; // the curve as LatencyCurve::describe() says it
    std::string project; // the project file run B came from, or empty
    int64_t requests = 0;
    int64_t shortest = 0, longest = 0;
    double meanLength = 0;
};

struct PricedBoundarySet {
    std::string name; // "Current", "Tuned", "Powers of two (NxD default)", "Optimum for run B"
    // current | tuned | optimum | baseline | run-a | run-b-optimum | run-b
    std::string origin;
    std::string note; // e.g. "also run B's set 'current'"
    Evaluation a, b;  // on run A and on run B
};

struct RunComparison {
    ReportRunInfo a, b;
    bool sameTraffic = false, sameLatency = false; // run B took run A's
    LengthHistogram trafficB;
    LatencyCurve curveB;
    std::vector<PricedBoundarySet> sets;
    // Index in `sets` of the best set on each run: the fewest rejected requests, then the
    // lowest mean latency.
    size_t bestA = 0, bestB = 0;
    std::vector<std::string> notes; // e.g. why run B has no optimum of its own
};

struct RunComparisonRequest {
    const BoundaryComparison* primary = nullptr; // run A's report
    const BucketEvaluator* runA = nullptr;
    const BucketEvaluator* runB = nullptr;
    ReportRunInfo a, b;
    bool sameTraffic = false, sameLatency = false;
    std::vector<NamedBoundarySet> setsOfB; // run B's own sets (a project's)
    // Run A's own named sets beyond current and tuned (the desktop's session), priced under
    // their names after the baselines (origin "run-a").
    std::vector<NamedBoundarySet> setsOfA;
};

// Throws Error for invalid boundaries in setsOfB (they name the project file).
RunComparison compareRuns(const RunComparisonRequest& request, const Job& job = {});

// Plain sentences: how tuned fares against current on each run, and which set is best on
// which run. E.g. "Tuned boundaries 47, 70, 97, 160 beat the current 128, 512 on both runs:
// mean latency 6.37 ms against 10.3 ms on run A and 5.21 ms against 9.80 ms on run B. ..."
std::string describeRunComparison(const RunComparison& comparison);

// {"runs": {"a", "b"}, "sets": [...], "best": {"a", "b"}, "summary", "notes"}.
nlohmann::json runComparisonJson(const RunComparison& comparison);

// A short name for a file path (its file name) or a spec (as is).
std::string shortSourceName(const std::string& fileOrSpec);

} // namespace bucketlab
