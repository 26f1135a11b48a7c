// The one contract of every long core operation (tuning, validation, profiling, export,
// reports, reading large traffic files): progress as a fraction of the whole with a message,
// a cancel flag, and weighted sub-stages. A caller hands a Job down; an operation made of
// stages gives each stage job.sub(lo, hi), so no caller keeps a table of stage weights.
// The GUI's sink posts to the UI thread and its Cancel button sets the flag; the CLI passes
// a terminal sink or nothing.
#pragma once

#include "core/util/error.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace bucketlab {

class Job {
public:
    // fraction of the whole job in [0, 1] and what is being done; called on the working
    // thread, so a GUI sink must post (and may throttle).
    using Sink = std::function<void(double fraction, const std::string& message)>;

    Job() = default; // reports nowhere, never cancelled
    explicit Job(Sink sink, const std::atomic<bool>* cancel = nullptr)
        : sink_(sink ? std::make_shared<const Sink>(std::move(sink)) : nullptr), cancel_(cancel)
    {
    }
    static Job cancellable(const std::atomic<bool>* cancel) { return Job({}, cancel); }

    // Progress of this (sub-)job: fraction in [0, 1] of its own range.
    void report(double fraction, const std::string& message) const
    {
        if (!sink_)
            return;
        const double f = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction;
        (*sink_)(lo_ + (hi_ - lo_) * f, message);
    }
    // step of steps done.
    void step(double done, double total, const std::string& message) const
    {
        report(total > 0 ? done / total : 0.0, message);
    }
    // The part [lo, hi] of this job's range (0 <= lo <= hi <= 1): its report(0..1) maps onto
    // that part. Same sink and cancel flag.
    Job sub(double lo, double hi) const
    {
        Job j = *this;
        j.lo_ = lo_ + (hi_ - lo_) * lo;
        j.hi_ = lo_ + (hi_ - lo_) * hi;
        return j;
    }
    // True when someone listens (skip composing messages otherwise).
    bool reports() const { return sink_ != nullptr; }

    bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }
    // Throws Cancelled when the flag is set.
    void checkCancelled() const
    {
        if (cancelled())
            throw Cancelled();
    }
    const std::atomic<bool>* cancelFlag() const { return cancel_; }

private:
    std::shared_ptr<const Sink> sink_;
    const std::atomic<bool>* cancel_ = nullptr;
    double lo_ = 0, hi_ = 1;
};

} // namespace bucketlab
