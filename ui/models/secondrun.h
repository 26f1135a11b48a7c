// Run B for the desktop's run comparison (File ▸ Compare With…): another project, latency
// profile or traffic file, read off the UI thread. Whatever it does not give is run A's (the
// session's), as `bucketlab-cli report --compare` takes it: a traffic file alone compares
// traffics under one curve, a profile alone curves over one traffic, a project both.
#pragma once

#include "core/latency/latency_curve.h"
#include "core/report/run_comparison.h"
#include "core/traffic/length_histogram.h"
#include "core/util/job.h"

#include <QString>

#include <optional>
#include <string>
#include <vector>

namespace bucketlab::ui {

struct SecondRun {
    QString path;              // the file the user opened
    QString kind;              // "project", "profile" or "traffic"
    QString displayName;       // its file name, as legends and headers say it
    std::string trafficSource; // empty: run A's traffic
    std::optional<LengthHistogram> traffic;
    std::string latencySource; // empty: run A's curve
    std::optional<LatencyCurve> curve;
    std::vector<NamedBoundarySet> sets; // a project's named sets
};

// Reads `path` by its kind: *.bucketlab.json a project (its first traffic and latency, its
// sets), *.json a profile, *.csv a profile when its header has latency_ms else traffic,
// *.tsv/*.jsonl/*.ndjson traffic. Throws Error naming the file when it is none of these or
// cannot be read; Cancelled when job.cancel is set.
SecondRun readSecondRun(const QString& path, const Job& job = {});

} // namespace bucketlab::ui
