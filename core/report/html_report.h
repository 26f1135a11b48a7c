// The bucket report as one self-contained HTML file: a summary sentence and headline figures
// at the top, then traffic with both boundary sets (padding shaded), the latency curve, the
// per-bucket tables, the baselines, the Pareto front with its knee, the kernel checks and
// the environment. Plots are inline SVG (core/report/svg_chart.h); the stylesheet is inline and
// follows prefers-color-scheme and print. Nothing is loaded from anywhere: no scripts, no
// fonts, no images, no links to other files.
#pragma once

#include "core/report/boundary_report.h"

#include <string>

namespace bucketlab {

std::string renderHtmlReport(const BoundaryReport& report);

} // namespace bucketlab
