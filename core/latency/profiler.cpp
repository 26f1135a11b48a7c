#include "core/latency/profiler.h"
#include "core/util/format.h"

#include "core/archive/archive.h"
#include "core/latency/sample_statistics.h"
#include "core/package/package.h"
#include "core/runtime/tensor_budget_p.h"
#include "core/runtime/torch_io_p.h"
#include "core/spec/memory_budget.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/sha256.h"
#include "core/util/text.h"

#include <torch/cuda.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <sstream>
#include <time.h>

namespace fs = std::filesystem;

namespace bucketlab {

namespace {

using Clock = std::chrono::steady_clock;

// The TorchScript profiling executor records shapes on the first run of a new shape and
// builds its optimised graph on the second, so the first two runs are never samples.
constexpr int kMandatoryWarmupRuns = 2;
// Warm-up then goes on until the median of the last kStableWindow runs is no more than
// kStillFaster below the median of the window before: the shape has stopped speeding up.
constexpr int kStableWindow = 3;
constexpr double kStillFaster = 0.95;
// Warm-up may take at most this share of the budget, split evenly between shapes.
constexpr double kWarmupBudgetShare = 0.25;
// Resamples for the stopping rule (checked often) and for the reported interval.
constexpr int kCheckResamples = 1000;
constexpr int kReportResamples = 4000;

double threadCpuMs()
{
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

double msBetween(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration<double, std::milli>(b - a).count();
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string formatNumber(double v)
{
    std::ostringstream s;
    s << std::setprecision(6) << v;
    return s.str();
}

std::string joinLengths(const std::vector<int64_t>& v)
{
    std::string out;
    for (int64_t x : v)
        out += (out.empty() ? "" : ",") + std::to_string(x);
    return out;
}

// Why a forward failed, in one line. TorchScript wraps exceptions raised in a model in
// "The following operation failed in the TorchScript interpreter." and two tracebacks;
// the exception itself is the last line.
std::string forwardFailure(const std::exception& e)
{
    const auto* c10e = dynamic_cast<const c10::Error*>(&e);
    std::string text = c10e ? c10e->what_without_backtrace() : e.what();
    if (text.find("failed in the TorchScript interpreter") == std::string::npos)
        return torchMessage(e);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    std::string last = text.substr(text.rfind('\n') + 1);
    for (const char* prefix : {"RuntimeError: ", "Exception: "})
        if (last.rfind(prefix, 0) == 0)
            last = last.substr(std::string(prefix).size());
    return last;
}

// A stable per-shape seed, so the reported intervals do not change from run to run on
// the same samples.
uint64_t shapeSeed(int64_t length, int64_t batch)
{
    return uint64_t(length) * 0x9e3779b97f4a7c15ULL ^ uint64_t(batch) * 0xbf58476d1ce4e5b9ULL;
}

struct Shape {
    ProfilePoint point;
    std::vector<c10::IValue> inputs;
    bool converged = false; // CI within the target (still sampled until all are)
    int64_t nextCheck = 0;  // sample count at which the stopping rule is next evaluated
    double typicalMs = 0;   // latest median estimate, to plan the budget
    double halfWidthPct = INFINITY;
    bool warmupUnstable = false;
    bool finished = false; // final statistics computed
};

class ProfileRun {
public:
    ProfileRun(const ProfileRequest& request, const Job& job, const ProfileObserver& observer)
        : r_(request), job_(job), observer_(observer), start_(Clock::now())
    {
    }

    Profile run();

private:
    void validate() const;
    void prepareTarget();
    void checkMemory(uint64_t cacheBytesPerSlot) const;
    uint64_t checkDecoder();  // the methods the phase needs; returns the cache's bytes per slot
    void loadModel();         // the module, its method for the phase, the compute threads
    Profile describe() const; // what the profile records before any sample
    void makeShapes();
    void measure(Profile& profile); // warm-up, sampling rounds; the points into `profile`
    void warmUp(size_t i);
    void sample();
    double timeOnce(const Shape& shape);
    void checkConvergence(Shape& shape);
    void finish(size_t i);
    void fail(size_t i, const std::exception& e);
    void report(ProfileStage stage, size_t i, const std::string& message);
    void checkCancelled() const { job_.checkCancelled(); }
    // The steady clock, or the simulated device's (see ProfileRequest::simulatedCallMs).
    Clock::time_point now() const
    {
        if (!r_.simulatedCallMs)
            return Clock::now();
        return start_ + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double, std::milli>(simulatedMs_));
    }
    double elapsedS() const { return msBetween(start_, now()) / 1000.0; }
    double remainingEstimateS() const;
    Clock::time_point deadline() const
    {
        return start_ + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(r_.budgetS));
    }

    const ProfileRequest& r_;
    bool listened() const { return job_.reports() || observer_.progress; }

    const Job& job_;
    const ProfileObserver& observer_;
    const Clock::time_point start_;
    Clock::time_point lastProgress_{};
    double simulatedMs_ = 0; // the simulated clock's time since start_
    int64_t calls_ = 0;

    std::optional<PackageMeta> meta_;
    std::vector<InputSpec> inputs_;
    int64_t bucketDim_ = 1, batchDim_ = 0;
    DeviceKind device_ = DeviceKind::Cpu;
    std::string neuronLibrary_;
    int threads_ = 1;
    torch::jit::Module module_;
    std::optional<torch::jit::Method> forward_;
    std::vector<Shape> shapes_;
    int64_t round_ = 0; // sampling rounds so far
    std::string stopReason_ = "converged";
};

void ProfileRun::validate() const
{
    if (r_.model.empty())
        throw Error("no model given: profile a TorchScript model or a BucketLab package");
    if (r_.lengths.empty())
        throw Error("no lengths to profile: give " + subject(Field::Lengths) + " or " +
                    subject(Field::GridPoints));
    for (int64_t l : r_.lengths)
        if (l <= 0)
            throw Error("length " + std::to_string(l) + " is not positive; lengths start at 1");
    if (r_.batches.empty())
        throw Error("no batch sizes to profile");
    for (int64_t b : r_.batches)
        if (b <= 0)
            throw Error("batch size " + std::to_string(b) + " is not positive");
    if (!(r_.budgetS > 0) || !std::isfinite(r_.budgetS))
        throw Error(subject(Field::Budget) + " " + formatNumber(r_.budgetS) +
                    " s: the time budget must be a positive number of seconds");
    if (r_.threads < 1)
        throw Error(subject(Field::Threads) + " " + std::to_string(r_.threads) +
                    ": must be at least 1");
    if (!(r_.targetCiPct >= 0) || !std::isfinite(r_.targetCiPct))
        throw Error(subject(Field::TargetCi) + " " + formatNumber(r_.targetCiPct) +
                    " %: must be >= 0 (0 samples until the budget ends)");
    if (r_.minSamples < 1 || r_.maxSamplesPerPoint < r_.minSamples)
        throw Error("sample limits: need 1 <= minimum (" + std::to_string(r_.minSamples) +
                    ") <= maximum per shape (" + std::to_string(r_.maxSamplesPerPoint) + ")");
    if (r_.clock == ProfileClock::ThreadCpu && r_.threads != 1)
        throw Error("the CPU clock (" + subject(Field::Clock) +
                    ") counts the profiling thread only, so it needs " + subject(Field::Threads) +
                    " 1 (with " + std::to_string(r_.threads) +
                    " threads the others' work would be left out)");
    if (r_.clock == ProfileClock::ThreadCpu &&
        (r_.device == DeviceKind::Cuda || r_.device == DeviceKind::Neuron))
        throw Error("the CPU clock (" + subject(Field::Clock) + ") measures work on this CPU; on " +
                    deviceKindName(r_.device) +
                    " the work happens on the accelerator, so use the wall clock");
    if (r_.phase != DecoderPhase::None && !r_.inputs.empty())
        throw Error(subject(Field::Inputs) + " " + formatInputSpecs(r_.inputs) + ": the " +
                    decoderPhaseName(r_.phase) +
                    " phase makes a decoder's inputs itself (token ids, and the KV cache for "
                    "decode); leave " +
                    subject(Field::Inputs) + " out");
    if (r_.phase != DecoderPhase::None && r_.bucketModel)
        throw Error("the " + decoderPhaseName(r_.phase) +
                    " phase times a decoder, not a package's bucket model");
    if (r_.maxWarmupRuns < kMandatoryWarmupRuns)
        throw Error("warm-up limit " + std::to_string(r_.maxWarmupRuns) + " is below the " +
                    std::to_string(kMandatoryWarmupRuns) +
                    " runs the TorchScript executor needs per shape");
}

void ProfileRun::prepareTarget()
{
    if (auto problem = archiveProblem(r_.model); !problem.empty())
        throw Error(problem);
    meta_ = readPackageMeta(r_.model);
    if (meta_ && r_.phase != DecoderPhase::None)
        throw Error(
            r_.model + ": a BucketLab package; the " + decoderPhaseName(r_.phase) +
            " phase times a TorchScript decoder with prefill, decode and empty_cache methods");
    if (r_.phase != DecoderPhase::None) {
        // The decoder's inputs are made in makeShapes, once its methods are checked.
        bucketDim_ = 1;
        batchDim_ = 0;
    } else if (meta_) {
        inputs_ = meta_->inputs;
        bucketDim_ = meta_->bucketDim;
        batchDim_ = meta_->batchDim;
        if (!r_.inputs.empty()) {
            // Same inputs, possibly other fill values (a model that needs valid token ids).
            bool same = r_.inputs.size() == inputs_.size();
            for (size_t i = 0; same && i < inputs_.size(); ++i)
                same =
                    r_.inputs[i].name == inputs_[i].name && r_.inputs[i].dtype == inputs_[i].dtype;
            if (!same)
                throw Error(subject(Field::Inputs) + " " + formatInputSpecs(r_.inputs) +
                            " do not match the inputs " + formatInputSpecs(inputs_) +
                            " of the package " + r_.model + "; leave " + subject(Field::Inputs) +
                            " out to use the package's own");
            for (size_t i = 0; i < inputs_.size(); ++i)
                inputs_[i].fillValue = r_.inputs[i].fillValue;
        }
        if (r_.bucketModel && meta_->kind == PackageKind::PerBucket)
            throw Error(r_.model +
                        ": a per-bucket package serves only the lengths its models were "
                        "traced at (" +
                        meta_->boundaries.str() +
                        "); re-trace the model at the new lengths, or verify with the base model");
        if (!r_.bucketModel)
            for (int64_t l : r_.lengths)
                if (l > meta_->maxLength())
                    throw Error("length " + std::to_string(l) + " exceeds the largest bucket " +
                                std::to_string(meta_->maxLength()) + " of the package " + r_.model +
                                "; profile lengths up to " + std::to_string(meta_->maxLength()));
    } else {
        if (r_.bucketModel)
            throw Error(r_.model + ": not a BucketLab package, so it has no bucket model; profile "
                                   "it directly");
        if (r_.inputs.empty())
            throw Error(r_.model + ": a plain TorchScript model needs " + subject(Field::Inputs) +
                        " (e.g. input_ids:int64:0,attention_mask:int64:0) to make its inputs");
        inputs_ = r_.inputs;
        bucketDim_ = r_.bucketDim;
        batchDim_ = r_.batchDim;
    }
    if (r_.phase == DecoderPhase::None) {
        checkInputSpecs(inputs_);
        checkInputDims(inputs_, bucketDim_, batchDim_);
    }

    const bool needsNeuron = archiveNeedsNeuron(r_.model);
    device_ = r_.device == DeviceKind::Auto ? (needsNeuron ? DeviceKind::Neuron : DeviceKind::Cpu)
                                            : r_.device;
    if (needsNeuron && device_ != DeviceKind::Neuron)
        throw Error(r_.model +
                    ": a Neuron model runs only on Neuron; choose the neuron (or auto) " +
                    subject(Field::Device) + " on a Neuron host");
    if (device_ == DeviceKind::Neuron) {
        requireNeuronRuntime(r_.model);
        neuronLibrary_ = loadNeuronRuntime().library;
    }
    if (device_ == DeviceKind::Cuda)
        requireCuda();
    if (device_ == DeviceKind::Neuron && r_.clock == ProfileClock::ThreadCpu)
        throw Error(r_.model + ": a Neuron model runs on the NeuronCores; the CPU clock (" +
                    subject(Field::Clock) + ") would not see its work, use the wall clock");
}

void ProfileRun::checkMemory(uint64_t cacheBytesPerSlot) const
{
    // Every shape's inputs are made before timing starts and kept to the end, with room for
    // its samples. A decoder's: its token ids (int64), and for decode steps the KV cache of
    // `length` slots per sequence.
    const uint64_t samples = uint64_t(std::min<int64_t>(r_.maxSamplesPerPoint, 4096)) * 8;
    uint64_t bytes = 0;
    for (int64_t batch : r_.batches)
        for (int64_t length : r_.lengths) {
            const uint64_t b = uint64_t(batch), l = uint64_t(length);
            const uint64_t call =
                r_.phase == DecoderPhase::None ? inputBytes(inputs_, batch, length)
                : r_.phase == DecoderPhase::Prefill
                    ? bytesTimes(bytesTimes(b, l), 8)
                    : bytesPlus(bytesTimes(b, 8), bytesTimes(bytesTimes(b, l), cacheBytesPerSlot));
            bytes = bytesPlus(bytes, bytesPlus(call, samples));
        }
    checkMemoryBudget(bytes,
                      "profiling " + std::to_string(r_.lengths.size()) + " length" +
                          (r_.lengths.size() == 1 ? "" : "s") + " up to " +
                          std::to_string(*std::max_element(r_.lengths.begin(), r_.lengths.end())) +
                          " at " + std::to_string(r_.batches.size()) + " batch size" +
                          (r_.batches.size() == 1 ? "" : "s") + " up to " +
                          std::to_string(*std::max_element(r_.batches.begin(), r_.batches.end())),
                      "lower " + subject(Field::Lengths) + " or " + subject(Field::BatchSizes));
}

uint64_t ProfileRun::checkDecoder()
{
    const std::string phase = decoderPhaseName(r_.phase);
    const std::vector<std::string> needed = r_.phase == DecoderPhase::Prefill
                                                ? std::vector<std::string>{"prefill"}
                                                : std::vector<std::string>{"decode", "empty_cache"};
    for (const auto& name : needed)
        if (!module_.find_method(name))
            throw Error(r_.model + ": not a decoder, it has no " + name + "() method; the " +
                        phase +
                        " phase times a TorchScript module with prefill(input_ids), "
                        "decode(input_ids, cache, position) and empty_cache(batch, length), as "
                        "the demo decoder has");
    if (r_.phase != DecoderPhase::Decode)
        return 0;
    try {
        const c10::IValue probe = module_.get_method("empty_cache")({int64_t(1), int64_t(1)});
        if (!probe.isTensor() || probe.toTensor().numel() == 0)
            throw Error(r_.model + ": empty_cache(1, 1) returned no tensor; it must return the KV "
                                   "cache of one sequence with one slot");
        return uint64_t(probe.toTensor().nbytes());
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(r_.model + ": empty_cache(1, 1) failed: " + forwardFailure(e));
    }
}

void ProfileRun::makeShapes()
{
    const auto device =
        device_ == DeviceKind::Cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    for (int64_t batch : r_.batches)
        for (int64_t length : r_.lengths) {
            Shape s;
            s.point.length = length;
            s.point.batch = batch;
            if (r_.phase == DecoderPhase::Prefill) {
                s.inputs.emplace_back(torch::ones({batch, length}, torch::kInt64).to(device));
            } else if (r_.phase == DecoderPhase::Decode) {
                // The step that fills a bucket of `length` slots: it attends to all of them.
                // It writes its keys and values into the last slot in place, the same slot
                // on every call, so every call does the same work.
                c10::IValue cache;
                try {
                    cache = module_.get_method("empty_cache")({batch, length});
                } catch (const std::exception& e) {
                    throw Error(r_.model + ": empty_cache(" + std::to_string(batch) + ", " +
                                std::to_string(length) + ") failed: " + forwardFailure(e));
                }
                if (!cache.isTensor())
                    throw Error(r_.model + ": empty_cache(" + std::to_string(batch) + ", " +
                                std::to_string(length) + ") returned no tensor");
                s.inputs.emplace_back(torch::ones({batch, 1}, torch::kInt64).to(device));
                s.inputs.emplace_back(cache.toTensor().to(device));
                s.inputs.emplace_back(length - 1);
            } else {
                for (auto& t : makeInputs(inputs_, batch, length, batchDim_, bucketDim_))
                    s.inputs.emplace_back(t.to(device));
            }
            s.point.samplesMs.reserve(size_t(std::min<int64_t>(r_.maxSamplesPerPoint, 4096)));
            s.nextCheck = r_.minSamples;
            shapes_.push_back(std::move(s));
        }
}

double ProfileRun::timeOnce(const Shape& shape)
{
    const bool cuda = device_ == DeviceKind::Cuda;
    std::vector<c10::IValue> args = shape.inputs; // copied outside the timed region
    if (r_.simulatedCallMs) {
        const double ms = r_.simulatedCallMs(shape.point.length, shape.point.batch, calls_++);
        c10::IValue out = (*forward_)(std::move(args));
        simulatedMs_ += ms;
        return ms;
    }
    if (r_.clock == ProfileClock::ThreadCpu) {
        const double c0 = threadCpuMs();
        c10::IValue out = (*forward_)(std::move(args));
        return threadCpuMs() - c0;
    }
    if (cuda)
        torch::cuda::synchronize();
    const auto t0 = Clock::now();
    c10::IValue out = (*forward_)(std::move(args));
    if (cuda)
        torch::cuda::synchronize(); // kernels are asynchronous: wait for the result
    const auto t1 = Clock::now();
    return msBetween(t0, t1);
}

void ProfileRun::warmUp(size_t i)
{
    Shape& s = shapes_[i];
    report(ProfileStage::WarmingUp, i,
           "warming length " + std::to_string(s.point.length) + ", batch " +
               std::to_string(s.point.batch));
    const double capMs = r_.budgetS * 1000.0 * kWarmupBudgetShare / double(shapes_.size());
    std::vector<double> times;
    const auto started = now(); // the run's clock, whatever the samples'
    auto windowMedian = [&](size_t fromEnd) {
        return median({times.end() - std::ptrdiff_t(fromEnd + kStableWindow),
                       times.end() - std::ptrdiff_t(fromEnd)});
    };
    while (true) {
        checkCancelled();
        times.push_back(timeOnce(s));
        const int runs = int(times.size());
        const bool judgeable = runs >= kMandatoryWarmupRuns + 2 * kStableWindow;
        const bool stillFaster =
            judgeable && windowMedian(0) < kStillFaster * windowMedian(kStableWindow);
        if (judgeable && !stillFaster)
            break;
        if (runs >= kMandatoryWarmupRuns &&
            (runs >= r_.maxWarmupRuns || msBetween(started, now()) >= capMs)) {
            s.warmupUnstable = stillFaster;
            break;
        }
    }
    s.point.warmupRuns = int64_t(times.size());
    s.typicalMs = median(
        {times.end() - std::ptrdiff_t(std::min<size_t>(kStableWindow, times.size())), times.end()});
}

void ProfileRun::checkConvergence(Shape& s)
{
    auto& samples = s.point.samplesMs;
    if (int64_t(samples.size()) < s.nextCheck)
        return;
    s.nextCheck = int64_t(samples.size()) + std::max<int64_t>(1, int64_t(samples.size()) / 4);
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    const double med = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    const auto ci = bootstrapMedianCi(sorted, 0.95, kCheckResamples,
                                      shapeSeed(s.point.length, s.point.batch) + n);
    s.typicalMs = med;
    s.point.p50Ms = med;
    s.point.ci95LowMs = ci.low;
    s.point.ci95HighMs = ci.high;
    s.halfWidthPct = relativeHalfWidthPct(med, ci);
    if (r_.targetCiPct > 0 && s.halfWidthPct <= r_.targetCiPct)
        s.converged = true;
}

void ProfileRun::finish(size_t i)
{
    Shape& s = shapes_[i];
    s.finished = true;
    ProfilePoint& p = s.point;
    if (p.ok()) {
        const auto ci = summarizePointWithCi(p, kReportResamples, shapeSeed(p.length, p.batch));
        s.halfWidthPct = relativeHalfWidthPct(p.p50Ms, ci);
        NoiseThresholds thresholds;
        thresholds.minSamples = r_.minSamples;
        addNoiseFlags(p, thresholds);
        if (r_.targetCiPct > 0 && s.halfWidthPct > r_.targetCiPct)
            addFlag(p, kFlagUnconverged);
        if (s.warmupUnstable)
            addFlag(p, kFlagWarmupUnstable);
    }
    report(ProfileStage::PointDone, i,
           "length " + std::to_string(p.length) + ", batch " + std::to_string(p.batch) +
               (p.ok() ? ": median " + formatNumber(p.p50Ms) + " ms" : ": failed"));
}

void ProfileRun::fail(size_t i, const std::exception& e)
{
    Shape& s = shapes_[i];
    s.point.error = "forward failed at length " + std::to_string(s.point.length) + ", batch " +
                    std::to_string(s.point.batch) + ": " + forwardFailure(e);
    s.point.samplesMs.clear();
    s.point.flags = {kFlagFailed};
    finish(i);
}

void ProfileRun::sample()
{
    const auto end = deadline();
    const size_t n = shapes_.size();
    // Every shape is sampled in every round until all have converged: a shape that went on
    // alone would run back to back with itself, with caches warmer than the mix of shapes
    // it was measured among before (on this demo, 30 % faster).
    auto allConverged = [&] {
        return std::all_of(shapes_.begin(), shapes_.end(),
                           [](const Shape& s) { return !s.point.ok() || s.converged; });
    };
    while (!allConverged()) {
        ++round_;
        // Rotate the order so that no shape always follows the same neighbour (caches,
        // allocator state and frequency scaling carry over from one call to the next).
        const size_t offset = size_t(round_ - 1) % n;
        for (size_t k = 0; k < n; ++k) {
            const size_t i = (offset + k) % n;
            Shape& s = shapes_[i];
            if (!s.point.ok())
                continue;
            checkCancelled();
            const auto t = now();
            // Every shape gets at least one sample, even when warm-up used the budget up.
            if (round_ > 1 && t + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double, std::milli>(s.typicalMs)) >
                                  end) {
                stopReason_ = "budget";
                return;
            }
            try {
                s.point.samplesMs.push_back(timeOnce(s));
            } catch (const Cancelled&) {
                throw;
            } catch (const std::exception& e) {
                fail(i, e);
                continue;
            }
            if (!s.converged)
                checkConvergence(s);
            if (int64_t(s.point.samplesMs.size()) >= r_.maxSamplesPerPoint) {
                stopReason_ = "sample cap";
                return;
            }
            if (listened() && msBetween(lastProgress_, now()) >= observer_.intervalS * 1000.0) {
                summarizeSamples(s.point);
                report(ProfileStage::Sampling, i, "round " + std::to_string(round_));
            }
        }
    }
}

double ProfileRun::remainingEstimateS() const
{
    const double left = std::max(0.0, msBetween(now(), deadline()) / 1000.0);
    if (r_.targetCiPct <= 0)
        return left;
    // Every shape is sampled each round until the slowest to converge has: the rounds it
    // still needs, at the cost of a round.
    double rounds = 0, roundMs = 0;
    for (const auto& s : shapes_) {
        if (!s.point.ok())
            continue;
        roundMs += s.typicalMs;
        if (s.converged)
            continue;
        const double n = double(s.point.samplesMs.size());
        // The CI narrows as 1/sqrt(n): n * (width / target)^2 samples reach the target.
        double needed = double(r_.minSamples) - n;
        if (std::isfinite(s.halfWidthPct) && n > 0)
            needed = std::max(needed, n * std::pow(s.halfWidthPct / r_.targetCiPct, 2) - n);
        rounds = std::max(rounds, std::max(1.0, needed));
    }
    return std::min(left, rounds * roundMs / 1000.0);
}

void ProfileRun::report(ProfileStage stage, size_t i, const std::string& message)
{
    if (!listened())
        return;
    lastProgress_ = now();
    ProfilerProgress p;
    p.stage = stage;
    p.pointIndex = i;
    p.pointCount = shapes_.size();
    p.round = round_;
    p.elapsedS = elapsedS();
    p.remainingS = stage == ProfileStage::Finished ? 0.0 : remainingEstimateS();
    p.point = i < shapes_.size() ? &shapes_[i].point : nullptr;
    p.message = message;
    const double total = p.elapsedS + p.remainingS;
    job_.report(stage == ProfileStage::Finished ? 1.0
                : total > 0                     ? p.elapsedS / total
                                                : 0.0,
                message);
    if (observer_.progress)
        observer_.progress(p);
}

void ProfileRun::loadModel()
{
    threads_ = setComputeThreads(r_.threads);
    module_ = loadScriptModule(r_.model);
    module_.eval();
    if (device_ == DeviceKind::Cuda)
        module_.to(torch::Device(torch::kCUDA));
    if (r_.bucketModel) {
        // Every bucket of a shared package is the same module (stored once).
        module_ = module_.attr("bucket_0").toModule();
    }
    if (r_.phase != DecoderPhase::None)
        checkMemory(checkDecoder()); // before any cache is made
    forward_ = module_.get_method(r_.phase == DecoderPhase::Prefill  ? "prefill"
                                  : r_.phase == DecoderPhase::Decode ? "decode"
                                                                     : "forward");
}

Profile ProfileRun::describe() const
{
    Profile profile;
    profile.modelFile = fs::path(r_.model).filename().string();
    profile.modelSha256 = sha256File(r_.model);
    profile.deviceKind = deviceKindName(device_);
    profile.environment = describeEnvironment();
    profile.deviceName = device_ == DeviceKind::Cuda     ? "cuda:0"
                         : device_ == DeviceKind::Neuron ? "neuron"
                                                         : profile.environment["cpu_model"];
    if (!neuronLibrary_.empty())
        profile.environment["neuron_library"] = neuronLibrary_;
    profile.threads = threads_;
    if (r_.phase == DecoderPhase::Prefill) {
        profile.settings["target"] = "decoder prefill";
        profile.settings["inputs"] = "input_ids:int64[batch,length] of token 1";
    } else if (r_.phase == DecoderPhase::Decode) {
        profile.settings["target"] = "decoder decode step";
        profile.settings["inputs"] = "input_ids:int64[batch,1] of token 1, "
                                     "cache=empty_cache(batch,length), position=length-1";
    } else {
        profile.settings["target"] = !meta_           ? "model forward"
                                     : r_.bucketModel ? "package bucket model"
                                                      : "package forward";
        profile.settings["inputs"] = formatInputSpecs(inputs_);
        profile.settings["bucket_dim"] = std::to_string(bucketDim_);
        profile.settings["batch_dim"] = std::to_string(batchDim_);
    }
    if (r_.phase != DecoderPhase::None)
        profile.settings[kPhaseSetting] = decoderPhaseName(r_.phase);
    profile.settings["clock"] = r_.simulatedCallMs                    ? "simulated"
                                : r_.clock == ProfileClock::ThreadCpu ? "thread-cpu"
                                                                      : "wall";
    profile.settings["budget_s"] = formatNumber(r_.budgetS);
    profile.settings["target_ci_pct"] = formatNumber(r_.targetCiPct);
    profile.settings["lengths"] = joinLengths(r_.lengths);
    profile.settings["batches"] = joinLengths(r_.batches);
    profile.createdBy = creatorString();
    profile.createdAt = utcNowIso8601();
    return profile;
}

void ProfileRun::measure(Profile& profile)
{
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < shapes_.size(); ++i) {
        try {
            warmUp(i);
        } catch (const Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            fail(i, e);
        }
    }
    const auto samplingStart = now();
    sample();
    profile.settings["sampling_s"] = formatNumber(msBetween(samplingStart, now()) / 1000.0);
    for (size_t i = 0; i < shapes_.size(); ++i)
        if (!shapes_[i].finished)
            finish(i); // stopped by the budget while still sampling
    profile.settings["rounds"] = std::to_string(round_);
    profile.settings["stopped_by"] = stopReason_;
    for (auto& s : shapes_)
        profile.points.push_back(std::move(s.point));
}

Profile ProfileRun::run()
{
    validate();
    report(ProfileStage::Loading, 0, "loading " + r_.model);
    prepareTarget();
    if (r_.phase == DecoderPhase::None)
        checkMemory(0);
    loadModel();
    // From here on, what the inputs and the model's forward() allocate is held to the memory
    // budget: a refused allocation fails its point with the refusal as the reason.
    const TensorBudgetScope tensorBudget;
    try {
        makeShapes();
    } catch (const std::exception&) {
        tensorBudget.throwIfRefused(r_.model + ": making the inputs");
        throw;
    }
    checkCancelled();
    // Everything that does not depend on the samples is done before timing starts, so
    // that it comes out of the budget rather than after it.
    Profile profile = describe();
    measure(profile);
    profile.settings["elapsed_s"] = formatNumber(elapsedS());
    if (std::none_of(profile.points.begin(), profile.points.end(),
                     [](const ProfilePoint& p) { return p.ok(); }))
        throw Error(r_.model + ": no shape could be measured; " + profile.points.front().error);
    report(ProfileStage::Finished, shapes_.size(), "done");
    return profile;
}

} // namespace

std::string decoderPhaseName(DecoderPhase phase)
{
    switch (phase) {
    case DecoderPhase::Prefill: return kPhasePrefill;
    case DecoderPhase::Decode: return kPhaseDecode;
    case DecoderPhase::None: break;
    }
    return {};
}

DecoderPhase parseDecoderPhase(const std::string& text)
{
    if (text == kPhasePrefill)
        return DecoderPhase::Prefill;
    if (text == kPhaseDecode)
        return DecoderPhase::Decode;
    throw Error("decoder phase " + quote(text) +
                ": expected prefill (the context-encoding pass) or decode (one token-generation "
                "step)");
}

Profile runProfile(const ProfileRequest& request, const Job& job, const ProfileObserver& observer)
{
    return ProfileRun(request, job, observer).run();
}

} // namespace bucketlab
