#include "core/llm/compile_cost.h"

#include "core/traffic/length_histogram.h"
#include "core/util/error.h"
#include "core/util/line_reader.h"
#include "core/util/output_file.h"
#include "core/util/text.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace bucketlab {

namespace {

double positiveNumber(const std::string& cell, const std::string& name, int64_t line,
                      const std::string& what)
{
    char* end = nullptr;
    const double v = std::strtod(cell.c_str(), &end);
    if (cell.empty() || end != cell.c_str() + cell.size() || !std::isfinite(v))
        throw Error(located(name, line, what + " " + quote(cell) + " is not a finite number"));
    if (v <= 0)
        throw Error(located(name, line, what + " " + cell + " must be positive"));
    return v;
}

} // namespace

CompileCost CompileCost::fromCsv(const std::string& text, const std::string& name)
{
    LineReader r = LineReader::fromMemory(text, name);
    std::string_view line;
    const auto header = splitCsvLine(r.firstNonBlankLine(), ',');
    int lengthCol = -1, timeCol = -1, memoryCol = -1;
    for (size_t i = 0; i < header.size(); ++i) {
        if (header[i] == "length")
            lengthCol = int(i);
        else if (header[i] == "compile_s")
            timeCol = int(i);
        else if (header[i] == "memory_mib")
            memoryCol = int(i);
    }
    if (lengthCol < 0 || timeCol < 0)
        throw Error(located(name, r.lineNumber(),
                            "expected a header with length and compile_s (and optionally "
                            "memory_mib), e.g. length,compile_s,memory_mib"));
    std::map<int64_t, std::pair<double, double>> rows;
    std::vector<LatencyPoint> time, memory;
    while (r.next(line)) {
        if (trimBlanks(line).empty())
            continue;
        const auto cells = splitCsvLine(line, ',');
        const int64_t n = r.lineNumber();
        const size_t needed = size_t(std::max({lengthCol, timeCol, memoryCol})) + 1;
        if (cells.size() < needed)
            throw Error(located(name, n,
                                "expected " + std::to_string(needed) + " columns, the line has " +
                                    std::to_string(cells.size())));
        const double length = positiveNumber(cells[size_t(lengthCol)], name, n, "length");
        if (length != std::floor(length) || length > double(kMaxLength))
            throw Error(located(name, n,
                                "length " + cells[size_t(lengthCol)] +
                                    " is not a whole number "
                                    "of tokens"));
        if (rows.count(int64_t(length)))
            throw Error(located(name, n, "length " + cells[size_t(lengthCol)] + " appears twice"));
        const double seconds = positiveNumber(cells[size_t(timeCol)], name, n, "compile_s");
        const double mib =
            memoryCol >= 0 ? positiveNumber(cells[size_t(memoryCol)], name, n, "memory_mib") : 0;
        rows[int64_t(length)] = {seconds, mib};
        time.push_back({int64_t(length), seconds});
        if (memoryCol >= 0)
            memory.push_back({int64_t(length), mib});
    }
    if (time.empty())
        throw Error(name + ": no rows after the header");
    CompileCost c;
    c.known_ = true;
    c.source_ = name;
    c.time_ = LatencyCurve::fromPoints(std::move(time), name);
    if (!memory.empty()) {
        c.hasMemory_ = true;
        c.memory_ = LatencyCurve::fromPoints(std::move(memory), name);
    }
    return c;
}

CompileCost CompileCost::load(const std::string& fileOrSpec)
{
    std::error_code ec;
    if (!std::filesystem::exists(fileOrSpec, ec) && LatencyCurve::looksLikeSpec(fileOrSpec)) {
        CompileCost c;
        try {
            c.time_ = LatencyCurve::fromSpec(fileOrSpec);
        } catch (const Error& e) {
            throw Error(std::string("compile cost: ") + e.what());
        }
        c.known_ = true;
        c.source_ = fileOrSpec;
        return c;
    }
    return fromCsv(readFile(fileOrSpec, kMaxSourceBytes, "a compile-cost table"), fileOrSpec);
}

double CompileCost::totalSeconds(const std::vector<int64_t>& buckets) const
{
    double s = 0;
    for (int64_t b : buckets)
        s += seconds(b);
    return s;
}

double CompileCost::totalMemoryMiB(const std::vector<int64_t>& buckets) const
{
    double s = 0;
    for (int64_t b : buckets)
        s += memoryMiB(b);
    return s;
}

bool CompileCost::constantPerBucket() const
{
    // Non-decreasing functions are constant exactly when their ends agree.
    if (!known_)
        return true;
    const bool timeFlat = time_.at(1) == time_.at(kMaxLength);
    const bool memoryFlat = !hasMemory_ || memory_.at(1) == memory_.at(kMaxLength);
    return timeFlat && memoryFlat;
}

std::string CompileCost::describe() const
{
    if (!known_)
        return "not given";
    return source_ + (hasMemory_ ? " (compile time and memory)" : " (compile time)");
}

} // namespace bucketlab
