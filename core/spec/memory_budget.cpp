#include "core/spec/memory_budget.h"

#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/text.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <limits>

namespace bucketlab {

uint64_t memoryBudget()
{
    const char* text = std::getenv(kMemoryBudgetVariable);
    if (!text || !*text)
        return kDefaultMemoryBudget;
    uint64_t mib = 0;
    const char* p = text;
    for (; *p >= '0' && *p <= '9'; ++p) {
        if (mib > (uint64_t(1) << 40)) // more than 2^40 MiB: no machine has that
            break;
        mib = mib * 10 + uint64_t(*p - '0');
    }
    if (*p || mib < 1 || mib > (uint64_t(1) << 40))
        throw Error(std::string(kMemoryBudgetVariable) +
                    " must be a whole number of MiB from 1 to " +
                    std::to_string(uint64_t(1) << 40) + ", not " + quote(text));
    return mib << 20;
}

uint64_t bytesTimes(uint64_t a, uint64_t b)
{
    uint64_t out = 0;
    return __builtin_mul_overflow(a, b, &out) ? std::numeric_limits<uint64_t>::max() : out;
}

uint64_t bytesPlus(uint64_t a, uint64_t b)
{
    uint64_t out = 0;
    return __builtin_add_overflow(a, b, &out) ? std::numeric_limits<uint64_t>::max() : out;
}

uint64_t inputBytes(const std::vector<InputSpec>& inputs, int64_t batch, int64_t length)
{
    const uint64_t b = uint64_t(std::max<int64_t>(batch, 0));
    const uint64_t l = uint64_t(std::max<int64_t>(length, 0));
    uint64_t total = 0;
    for (const auto& in : inputs)
        total =
            bytesPlus(total, bytesTimes(bytesTimes(b, in.bucketed ? l : 1), dtypeBytes(in.dtype)));
    return total;
}

uint64_t stateBufferBytes(const std::vector<StateSpec>& states)
{
    uint64_t total = 0;
    for (const auto& st : states) {
        if (st.shapes.empty())
            continue;
        uint64_t n = dtypeBytes(st.dtype);
        for (int64_t d : st.shapes.back())
            n = bytesTimes(n, uint64_t(std::max<int64_t>(d, 0)));
        total = bytesPlus(total, n);
    }
    return total;
}

uint64_t packageCallBytes(const std::vector<InputSpec>& inputs,
                          const std::vector<StateSpec>& states, int64_t batch, int64_t length)
{
    uint64_t bucketed = 0;
    for (const auto& in : inputs)
        bucketed += in.bucketed ? 1 : 0;
    const uint64_t positions =
        bytesTimes(uint64_t(std::max<int64_t>(batch, 0)), uint64_t(std::max<int64_t>(length, 0)));
    return bytesPlus(bytesPlus(inputBytes(inputs, batch, length),
                               bytesTimes(bytesTimes(positions, bucketed), 24)),
                     bytesTimes(stateBufferBytes(states), 2));
}

std::string formatBudgetBytes(uint64_t bytes)
{
    if (bytes > uint64_t(std::numeric_limits<int64_t>::max()))
        return "more than 8 EiB";
    // Two decimals, so a request just past the budget does not read as equal to it.
    return formatBytes(int64_t(bytes), 2);
}

void checkMemoryBudget(uint64_t bytes, const std::string& what, const std::string& advice)
{
    const uint64_t budget = memoryBudget();
    if (bytes <= budget)
        return;
    // Just over the budget, both round alike: then the exact count shows the difference.
    std::string needs = formatBudgetBytes(bytes);
    if (needs == formatBudgetBytes(budget))
        needs += " (" + std::to_string(bytes) + " bytes)";
    throw Error(what + " needs about " + needs + ", more than the memory budget of " +
                formatBudgetBytes(budget) + "; " + advice + " (or raise the budget with " +
                kMemoryBudgetVariable + ")");
}

} // namespace bucketlab
