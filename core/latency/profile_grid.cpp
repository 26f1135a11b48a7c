#include "core/latency/profile_grid.h"

#include "core/util/error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace bucketlab {

std::vector<int64_t> parseLengthList(const std::string& text, const std::string& what)
{
    std::set<int64_t> lengths;
    std::stringstream items(text);
    std::string item;
    while (std::getline(items, item, ',')) {
        const auto b = item.find_first_not_of(" \t");
        const auto e = item.find_last_not_of(" \t");
        const std::string t = b == std::string::npos ? std::string() : item.substr(b, e - b + 1);
        if (t.empty())
            throw Error(what + ": empty item in '" + text + "'; give a list like 16,128,512");
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(t.c_str(), &end, 10);
        if (end != t.c_str() + t.size() || errno == ERANGE)
            throw Error(what + ": '" + t + "' is not an integer");
        if (v <= 0)
            throw Error(what + ": " + t + " is not positive (values start at 1)");
        lengths.insert(v);
    }
    if (lengths.empty())
        throw Error(what + ": empty list");
    return {lengths.begin(), lengths.end()};
}

std::vector<int64_t> gridLengths(int count, int64_t minLength, int64_t maxLength,
                                 const std::vector<int64_t>& boundaries)
{
    if (count < 2)
        throw Error("--grid " + std::to_string(count) +
                    ": a grid needs at least 2 lengths (its ends)");
    if (minLength < 1)
        throw Error("grid minimum length " + std::to_string(minLength) + " is not positive");
    if (maxLength < minLength)
        throw Error("grid maximum length " + std::to_string(maxLength) + " is below its minimum " +
                    std::to_string(minLength));
    std::set<int64_t> lengths;
    const double lo = std::log(double(minLength)), hi = std::log(double(maxLength));
    for (int i = 0; i < count; ++i) {
        const double x = std::exp(lo + (hi - lo) * double(i) / double(count - 1));
        lengths.insert(std::clamp(int64_t(std::llround(x)), minLength, maxLength));
    }
    for (int64_t b : boundaries)
        if (b >= 1 && b <= maxLength)
            lengths.insert(b);
    return {lengths.begin(), lengths.end()};
}

} // namespace bucketlab
