#include "core/latency/profile_grid.h"

#include "core/util/error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace bucketlab {

std::vector<int64_t> gridLengths(int count, int64_t minLength, int64_t maxLength,
                                 const std::vector<int64_t>& boundaries)
{
    if (count < 2)
        throw Error(subject(Field::GridPoints) + " " + std::to_string(count) +
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
