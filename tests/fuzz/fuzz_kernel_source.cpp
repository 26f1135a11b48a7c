// libFuzzer target: the checks a kernel's source passes before LibTorch's TorchScript parser
// sees it (core/kernel/kernel_source.h: the bracket and indentation guard, then finding the
// kernel and the functions it calls in a guide-style .py file), as `build --kernel`, `export`
// and `validate --kernel` run them. The parser itself is LibTorch's and is not fuzzed here.
// The first byte picks the function asked for (none, bucket_kernel, a name not there), the
// rest is the file. Besides crashes, leaks, sanitizer reports and time-outs (the function
// search uses regular expressions): errors keep the message contract (fuzz_check.h), and what
// is selected keeps the file's line numbers and holds the kernel.
#include "core/kernel/kernel_source.h"
#include "fuzz_check.h"

#include <algorithm>
#include <cstdint>
#include <string>

using namespace bucketlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto [selector, rest] = fuzz::splitSelector(data, size);
    static const char* const functions[] = {"", "bucket_kernel", "get_bucket_kernel", "f"};
    try {
        const auto s = selectKernelFunctions(rest, "fuzz.py", functions[selector & 3]);
        if (size_t(std::count(s.source.begin(), s.source.end(), '\n')) != s.lines.size())
            fuzz::broken("the selected source keeps the file's lines", s.source);
        if (std::find(s.functions.begin(), s.functions.end(), s.function) == s.functions.end())
            fuzz::broken("the kernel is among the functions compiled", s.function);
        if ((selector & 3) != 0 && s.function != functions[selector & 3])
            fuzz::broken("the function asked for is the kernel", s.function);
        // What is handed to the parser passes the guard too (it only removes lines).
        checkSourceNesting(s.source, "selected.py");
    } catch (const Error& e) {
        fuzz::checkError(e, "fuzz.py");
    }
    return 0;
}
