// Per-shape latency of a model or package, measured honestly: every shape is warmed until
// the TorchScript executor has specialised it, shapes are interleaved round by round (all
// of them, to the end) so that drift on a shared machine hits them all alike, sampling
// goes on until the 95 % CI of every median is within the target or the time budget ends,
// and every raw sample is kept. Blocking: the GUI runs it on a worker thread and follows
// it through the progress callback.
#pragma once

#include "core/latency/profile_format.h"
#include "core/runtime/device.h"
#include "core/spec/input_spec.h"
#include "core/util/job.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bucketlab {

// What a sample measures.
enum class ProfileClock {
    Wall,     // steady_clock around forward(): the latency a caller sees (the default)
    ThreadCpu // CPU time of the profiling thread: leaves out the time other processes hold
              // the CPU, so figures from a busy shared machine move less (their cache and
              // core sharing still shows). Only with one thread on the CPU (other threads'
              // work would not be counted).
};

// Which call of a model a profile times. A decoder (an LLM's serving graph) is profiled one
// phase at a time, each as NxD Inference compiles it per bucket; it is a TorchScript module
// with these methods (the demo decoder, core/demo/demo_decoder.h, is one):
//   prefill(input_ids: Tensor[batch, p]) -> Any
//       the context-encoding (CTE) pass over a prompt of p tokens: timed at length p;
//   decode(input_ids: Tensor[batch, 1], cache: Tensor, position: int) -> Any
//       one token-generation (TKG) step: timed at length s with the cache of s slots that
//       empty_cache(batch, s) returns and position s - 1 (the step that fills the bucket);
//   empty_cache(batch: int, length: int) -> Tensor
//       the KV cache of `length` slots (its size is counted against the memory budget).
// The inputs are made by the profiler (token id 1 everywhere), so a request for a phase has
// no input specs.
enum class DecoderPhase {
    None,    // the model's forward() on inputs made from the input specs
    Prefill, // a decoder's prefill(): CTE latency by prompt bucket
    Decode   // a decoder's decode(): TKG step latency by sequence bucket
};
// "prefill" / "decode" (kPhasePrefill, kPhaseDecode); "" for None.
std::string decoderPhaseName(DecoderPhase phase);
// "prefill" or "decode"; Error naming the phase otherwise.
DecoderPhase parseDecoderPhase(const std::string& text);

struct ProfileRequest {
    std::string model; // TorchScript model or BucketLab package
    // Plain models: required (how to make inputs). Packages carry theirs in bucketlab_meta;
    // when given here the names and dtypes must match and the fill values are used.
    std::vector<InputSpec> inputs;
    int64_t bucketDim = 1; // plain models; packages use their metadata
    int64_t batchDim = 0;
    std::vector<int64_t> lengths; // positive; a package's are <= its largest bucket
    std::vector<int64_t> batches = {1};
    // Packages: time the shared bucket model at each length instead of the package's
    // forward() (which pads to the package's own buckets). This is what a package
    // re-exported with these lengths as boundaries runs, less the kernel's dispatch; it is
    // how new boundaries are verified.
    bool bucketModel = false;
    DecoderPhase phase = DecoderPhase::None; // a decoder's prefill or decode step (see above)
    DeviceKind device = DeviceKind::Auto;
    int threads = 1; // intra-op threads (LibTorch and BLAS), recorded in the profile
    ProfileClock clock = ProfileClock::Wall;
    double budgetS = 30; // wall-clock for the whole run, loading included
    double targetCiPct =
        2; // stop a shape when its CI is within ± this % of its median; 0: use the budget
    int64_t minSamples = 10; // before a shape may stop, and below which it is flagged
    int64_t maxSamplesPerPoint = 100000;
    int maxWarmupRuns = 20;
    // A simulated device clock, for testing the profiler's timing logic (budget, warm-up cap,
    // rounds, cancellation) exactly, whatever the machine's load. When set, every call still
    // runs the model (its outputs and failures are real), but the call is taken to last what
    // this returns, and the profiler's clock (budget, deadlines, elapsed, progress interval)
    // advances only by these durations. Arguments: the shape's length and batch, and the
    // number of calls made before this one in the run.
    std::function<double(int64_t length, int64_t batch, int64_t call)> simulatedCallMs;
};

enum class ProfileStage {
    Loading,   // checking and loading the model
    WarmingUp, // warming shape pointIndex
    Sampling,  // a round is under way; point = the shape just sampled
    PointDone, // shape pointIndex has its final statistics (failed, or sampling is over)
    Finished   // every point final; the run is about to return
};

struct ProfilerProgress {
    ProfileStage stage = ProfileStage::Loading;
    size_t pointIndex = 0;
    size_t pointCount = 0;
    int64_t round = 0;
    double elapsedS = 0;
    double remainingS = 0; // estimate: until every shape converges, at most the budget left
    // Statistics so far of shape pointIndex (raw samples included); valid during the call
    // only. Null while loading.
    const ProfilePoint* point = nullptr;
    std::string message;
};

// Typed progress beside the job's fraction and message: each shape's statistics as they
// converge (the desktop draws every length as it is measured).
struct ProfileObserver {
    // Called on the profiling thread, at most every intervalS during sampling, and at every
    // stage change.
    std::function<void(const ProfilerProgress&)> progress;
    double intervalS = 0.1; // also how often the job hears of progress
};

// Profiles every (length, batch) pair. Throws Error for unusable input (bad lengths or
// budget, unreadable model, plain model without inputs, a Neuron model without the Neuron
// runtime, CUDA requested where there is none, every shape failing) and Cancelled. A shape
// whose forward fails is kept with its error and the flag "failed"; the others go on.
// The job's fraction is the time spent over the time the run is expected to take; cancelling
// it throws Cancelled.
Profile runProfile(const ProfileRequest& request, const Job& job = {},
                   const ProfileObserver& observer = {});

} // namespace bucketlab
