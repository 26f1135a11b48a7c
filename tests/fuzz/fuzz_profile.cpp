// libFuzzer target: the latency profile reader (core/latency/profile_format.h) and the curve
// made from what it reads (core/latency/latency_curve.h), as `tune --latency` runs them. The
// first byte picks the reader, the rest is the file:
//   0 bucketlab.profile/1 JSON in memory
//   1 CSV (length,latency_ms[,batch]) in memory
//   2 a file read by path (readProfile: JSON or CSV by content, size limit)
// Besides crashes, leaks and sanitizer reports: errors keep the message contract
// (fuzz_check.h); a profile read writes as JSON (valid UTF-8) that reads back, and its curve
// is positive, finite and never decreases with length.
#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "core/spec/boundaries.h"
#include "fuzz_check.h"
#include "fuzz_input_file.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <string>

using namespace bucketlab;

namespace {

void checkProfile(const Profile& p)
{
    for (const auto& point : p.points)
        if (point.length < 1 || point.length > kMaxLength || point.batch < 1)
            fuzz::broken("lengths and batches within bounds", std::to_string(point.length));
    const std::string json = profileJson(p).dump(); // throws on text that is not UTF-8
    (void)profileFromJson(json, "written.json");
    try {
        const auto curve = LatencyCurve::fromProfile(p, "fuzz.json");
        double last = 0;
        for (int64_t length : {int64_t(1), int64_t(2), int64_t(100), int64_t(4096), kMaxLength}) {
            const double ms = curve.at(length);
            if (!std::isfinite(ms) || ms <= 0 || ms < last)
                fuzz::broken("the curve is positive, finite, non-decreasing",
                             std::to_string(length) + " -> " + std::to_string(ms));
            last = ms;
        }
        (void)curve.toJson().dump();
        (void)curve.describe();
    } catch (const Error& e) {
        fuzz::checkError(e, "fuzz.json");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto [selector, rest] = fuzz::splitSelector(data, size);
    std::string source;
    try {
        switch (selector % 3) {
        case 0:
            source = "fuzz.json";
            checkProfile(profileFromJson(rest, source));
            break;
        case 1:
            source = "fuzz.csv";
            checkProfile(profileFromCsv(rest, source));
            break;
        default:
            source = fuzz::inputFile(rest);
            checkProfile(readProfile(source));
            break;
        }
    } catch (const Error& e) {
        fuzz::checkError(e, source);
    }
    return 0;
}
