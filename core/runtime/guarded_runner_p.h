// PRIVATE to core/: runs work items on worker threads under a per-item deadline, for calls
// into TorchScript that may never return (a kernel's infinite loop). The calling thread
// watches the clock, reports progress and honours the cancel flag.
#pragma once

#include "core/util/job.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bucketlab {

// Runs work items on worker threads while the calling thread watches the clock, reports
// progress and honours the cancel flag. A stuck item cannot be interrupted (TorchScript has
// no cancellation point), so its thread is detached with everything it uses held by shared
// ownership, and the run reports which item timed out. Items finish in any order: `done`
// says which ones did.
class GuardedRunner {
public:
    struct Outcome {
        std::vector<uint8_t> done;
        size_t completed = 0;
        std::optional<size_t> timedOut; // the item that never returned
    };

    // Items run with autograd off and their tensors held to the memory budget
    // (TensorBudgetScope): a refused allocation ends the run with an Error that says so,
    // whether or not the item caught it, prefixed with describe(item) ("FILE: length L"). Throws
    // Cancelled when the job is cancelled, and rethrows what an item threw (items catch the
    // kernel's own exceptions themselves).
    static Outcome run(size_t count, std::function<void(size_t)> item, double timeoutSeconds,
                       const std::function<void(size_t)>& onProgress, const Job& job,
                       int threads = 1,
                       const std::function<std::string(size_t)>& describe = nullptr);

private:
    struct Shared;
};

} // namespace bucketlab
