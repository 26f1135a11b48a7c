// Numbers for people, one implementation each, the same in the CLI, the desktop and the
// report: independent of the locale (the C library's printf follows LC_NUMERIC, which Qt
// sets from the environment), "," between thousands, "−" (the typographic minus) for
// negatives.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

// `decimals` fixed decimals: formatNumber(12345.678, 1) == "12,345.7"; "n/a" for NaN.
std::string formatNumber(double value, int decimals);
// A latency with as many decimals as its size deserves, without the unit: 123 · 12.3 · 1.23
// · 0.123.
std::string formatMsValue(double ms);
// The same with its unit: "12.3 ms".
std::string formatMs(double ms);
// "12.3 %" (`decimals` fixed decimals).
std::string formatPercent(double percent, int decimals = 1);
// "512 B", "1.5 KiB", "2.0 MiB", "1.2 GiB", ... up to EiB (`decimals` fixed decimals).
std::string formatBytes(int64_t bytes, int decimals = 1);
// "12,345".
std::string formatCount(int64_t count);
// Lengths as the command line takes them: "128,256,512"; `separator` ", " for prose and
// tables ("128, 256, 512").
std::string formatLengths(const std::vector<int64_t>& lengths, const char* separator = ",");

} // namespace bucketlab
