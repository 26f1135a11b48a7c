// Progress reporting and cancellation for long core jobs (tuning, reading large traffic
// files). The GUI runs such jobs off the UI thread: it passes a callback that posts the
// fraction done to the UI and a flag its Cancel button sets; the CLI passes neither.
#pragma once

#include "core/util/error.h"

#include <atomic>
#include <functional>
#include <string>

namespace bucketlab {

struct JobProgress {
    // fraction in [0, 1] and what is being done; called from the working thread.
    std::function<void(double fraction, const std::string& message)> progress;
    const std::atomic<bool>* cancel = nullptr;

    bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
    // Throws Cancelled when the flag is set.
    void checkCancelled() const
    {
        if (cancelled())
            throw Cancelled();
    }
    void report(double fraction, const std::string& message) const
    {
        if (progress)
            progress(fraction, message);
    }
};

} // namespace bucketlab
