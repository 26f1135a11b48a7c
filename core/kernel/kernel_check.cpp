#include "core/kernel/kernel_check.h"

#include "core/archive/archive.h"
#include "core/kernel/constant_args_p.h"
#include "core/kernel/kernel_impl_p.h"
#include "core/runtime/guarded_runner_p.h"
#include "core/runtime/torch_io_p.h"
#include "core/spec/memory_budget.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace bucketlab {

std::string defectKindName(DefectKind kind)
{
    switch (kind) {
    case DefectKind::FallThrough: return "fall_through";
    case DefectKind::WrongOutputLength: return "wrong_output_length";
    case DefectKind::IndexNotMonotone: return "index_not_monotone";
    case DefectKind::IndexNotInt64: return "index_not_int64";
    case DefectKind::ValuesChanged: return "values_changed";
    case DefectKind::TokensDropped: return "tokens_dropped";
    case DefectKind::WrongPadding: return "wrong_padding";
    case DefectKind::DtypeChanged: return "dtype_changed";
    case DefectKind::InputsDropped: return "inputs_dropped";
    case DefectKind::ExtraOutputs: return "extra_outputs";
    case DefectKind::Exception: return "exception";
    case DefectKind::Timeout: return "timeout";
    case DefectKind::BoundariesDiffer: return "boundaries_differ";
    case DefectKind::StateShape: return "state_contract";
    }
    return {};
}

std::string kernelContractName(KernelContract contract)
{
    return contract == KernelContract::Slice ? "slice" : "pad";
}

namespace {

using Clock = std::chrono::steady_clock;

// What a kernel raised, in one line. TorchScript wraps a raise in "The following operation
// failed in the TorchScript interpreter" and a traceback; the message is the last line.
std::string kernelError(const std::exception& e)
{
    std::string text = e.what();
    if (auto c10e = dynamic_cast<const c10::Error*>(&e))
        text = c10e->what_without_backtrace();
    if (text.find("TorchScript interpreter") == std::string::npos)
        return firstLine(text);
    size_t end = text.find_last_not_of(" \t\r\n");
    if (end == std::string::npos)
        return firstLine(text);
    const size_t start = text.rfind('\n', end);
    std::string last = text.substr(start == std::string::npos ? 0 : start + 1,
                                   end - (start == std::string::npos ? 0 : start + 1) + 1);
    const auto first = last.find_first_not_of(" \t");
    last = first == std::string::npos ? last : last.substr(first);
    if (last.rfind("builtins.", 0) == 0)
        last = last.substr(9);
    return last;
}

std::string dtypeText(c10::ScalarType t)
{
    const char* name = scalarTypeName(int64_t(t));
    return name ? name : c10::toString(t);
}

TensorSummary summarize(const at::Tensor& t, int64_t batchDim)
{
    TensorSummary s;
    s.shape = t.sizes().vec();
    s.dtype = dtypeText(t.scalar_type());
    std::ostringstream text;
    text << s.dtype << "[";
    for (size_t i = 0; i < s.shape.size(); ++i)
        text << (i ? ", " : "") << s.shape[i];
    text << "]";
    at::Tensor row = t;
    if (t.dim() > batchDim && t.size(batchDim) > 0)
        row = t.select(batchDim, 0);
    row = row.reshape({-1}).to(at::kDouble);
    const int64_t n = row.numel();
    if (n > 0) {
        text << (t.dim() > batchDim ? " row 0:" : ":");
        auto put = [&](int64_t a, int64_t b) {
            for (int64_t i = a; i < b; ++i)
                text << " " << row[i].item<double>();
        };
        if (n <= 12) {
            put(0, n);
        } else {
            put(0, 6);
            text << " ...";
            put(n - 6, n);
        }
    }
    s.text = text.str();
    return s;
}

// How the kernel is called: input count and dtypes. Pad values are exact when declared.
struct Config {
    std::string label; // "" for the reference configuration
    std::vector<InputSpec> inputs;
    std::vector<int64_t> batches;
    bool reference = false;
};

enum class Status : uint8_t { Returned, Raised, TimedOut };

struct Observation {
    int64_t length = 0;
    int64_t batch = 1;
    Status status = Status::Returned;
    std::string error;
    int outputCount = 0;
    int64_t outLength = -2; // common padded length; -1 when outputs differ, -2 when none
    int64_t index = -1;
    std::string indexProblem;
    std::string indexDtype;
    bool tokensDropped = false; // an output shorter than the real tokens
    bool valuesChanged = false;
    bool wrongPadding = false;
    bool dtypeChanged = false;
    std::vector<double> padSeen; // per output: first padding value (NaN if no padding)
};

// Inputs for every length are views of one tensor per input at the longest length (pad
// contract), or copies of it with the positions past the real tokens set to the pad value
// (slice contract: every call gets the full length).
struct InputBank {
    std::vector<at::Tensor> full; // [batch, maxLength] in batch/bucket dimension order
    std::vector<bool> bucketed;   // false: [batch], the same at every length
    std::vector<double> padValues;
    bool leftPadding = false; // padding goes before the real tokens
    bool slice = false;
    at::Tensor viewsAt(size_t i, int64_t length, int64_t bucketDim) const
    {
        if (!bucketed[i])
            return full[i];
        if (!slice)
            return full[i].narrow(bucketDim, 0, length);
        auto t = full[i].clone();
        const int64_t n = t.size(bucketDim);
        if (length < n)
            t.narrow(bucketDim, leftPadding ? 0 : length, n - length).fill_(padValues[i]);
        return t;
    }
};

InputBank makeBank(const Config& c, int64_t batch, int64_t maxLength, int64_t batchDim,
                   int64_t bucketDim, PaddingSide side, KernelContract contract)
{
    InputBank bank;
    bank.leftPadding = side == PaddingSide::Left;
    bank.slice = contract == KernelContract::Slice;
    std::vector<int64_t> shape(size_t(std::max(batchDim, bucketDim) + 1), 1);
    shape[size_t(batchDim)] = batch;
    shape[size_t(bucketDim)] = maxLength;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
        // Values 1..100 (never a usual pad value, exact in every dtype), different per input
        // and position so lost, moved or swapped values show.
        auto values = (torch::arange(maxLength, torch::kInt64) * 7 + int64_t(i) * 13) % 100 + 1;
        // A slicing kernel finds the real tokens by comparing with the pad value (NxD:
        // input_ids != pad_token), so no real token may equal it.
        if (bank.slice)
            values = torch::where(values.to(torch::kDouble) == c.inputs[i].padValue, values + 100,
                                  values);
        std::vector<int64_t> view(shape.size(), 1);
        view[size_t(bucketDim)] = maxLength;
        auto t = values.reshape(view).expand(shape).contiguous();
        if (!c.inputs[i].bucketed) // an input without a length: [batch], values per row
            t = (torch::arange(batch, torch::kInt64) * 7 + int64_t(i) * 13) % 100 + 1;
        if (c.inputs[i].dtype == DType::Bool)
            t = torch::ones(t.sizes(), torch::kBool);
        else
            t = t.to(toScalarType(c.inputs[i].dtype));
        bank.full.push_back(t);
        bank.bucketed.push_back(c.inputs[i].bucketed);
        bank.padValues.push_back(c.inputs[i].padValue);
    }
    return bank;
}

class BucketKernelCheck {
public:
    BucketKernelCheck(const Kernel& kernel, const KernelCheckOptions& o, bool declaredInputs,
                      std::vector<c10::IValue> constants, const Job& job)
        : kernel_(kernel), o_(o), job_(job), declaredInputs_(declaredInputs),
          constants_(std::move(constants)), threads_(std::max(o.threads, 1))
    {
    }

    KernelCheckResult run()
    {
        const auto started = Clock::now();
        result_.kernel = kernel_.name();
        result_.contract = o_.contract;
        maxLength_ = o_.maxLength > 0 ? o_.maxLength : defaultCheckLength(o_.declaredBoundaries);
        if (o_.contract == KernelContract::Slice) {
            // Inputs arrive padded to the largest bucket: that is the one length every call has.
            if (!o_.declaredBoundaries.empty())
                maxLength_ = o_.declaredBoundaries.largest();
            else if (o_.maxLength <= 0)
                throw Error("a slicing kernel is called with inputs padded to the largest bucket: "
                            "declare the boundaries, give the buckets as a constant argument "
                            "(torch.tensor([...])) or set " +
                            subject(Field::CheckLength) + " to the largest bucket");
        }
        if (o_.batchSizes.empty())
            throw Error("no batch sizes to validate with");
        for (auto b : o_.batchSizes)
            if (b < 1)
                throw Error("batch size " + std::to_string(b) + " must be at least 1");

        inputs_ = o_.inputs;
        if (!declaredInputs_ && !findAcceptedInputCount()) {
            analyse();
            captureExamples();
            result_.ok = result_.defects.empty();
            result_.seconds = std::chrono::duration<double>(Clock::now() - started).count();
            return std::move(result_);
        }
        Config ref{"", inputs_, o_.batchSizes, true};
        std::vector<Config> extras;
        for (size_t n = 1; n <= inputs_.size() + 1; ++n) {
            if (n == inputs_.size())
                continue;
            Config c;
            c.inputs.assign(inputs_.begin(), inputs_.begin() + long(std::min(n, inputs_.size())));
            while (c.inputs.size() < n)
                c.inputs.push_back({"extra" + std::to_string(c.inputs.size()), DType::Int64, 0, 1});
            c.label = "with " + std::to_string(n) + " input" + (n == 1 ? "" : "s");
            c.batches = {o_.batchSizes.front()};
            extras.push_back(c);
        }
        {
            Config mixed;
            const DType cycle[] = {DType::Float32, DType::Int64, DType::Bool, DType::Int32};
            std::string names;
            for (size_t i = 0; i < inputs_.size(); ++i) {
                auto in = inputs_[i];
                in.dtype = cycle[i % 4];
                if (in.dtype == DType::Bool)
                    in.padValue = in.padValue != 0.0;
                mixed.inputs.push_back(in);
                names += (i ? "," : "") + dtypeName(in.dtype);
            }
            mixed.label = "with mixed dtypes (" + names + ")";
            mixed.batches = {o_.batchSizes.front()};
            if (mixed.inputs != inputs_)
                extras.push_back(mixed);
        }
        total_ = int64_t(ref.batches.size()) * maxLength_ + int64_t(extras.size()) * 8;

        stage_ = "all lengths";
        bool stopped = sweep(ref, ref.batches, allLengths());
        if (!stopped)
            for (const auto& c : extras) {
                // Probe first: a configuration the kernel rejects at every probed length is a
                // rejected input count, not something to sweep.
                stage_ = "probing " + c.label;
                auto probe = probeLengths();
                const size_t before = observations_.size();
                stopped = sweep(c, c.batches, probe);
                if (stopped)
                    break;
                bool accepted = false;
                for (size_t i = before; i < observations_.size(); ++i)
                    accepted |= observations_[i].second.status == Status::Returned;
                if (!accepted) {
                    std::string err;
                    for (size_t i = before; i < observations_.size(); ++i)
                        if (!observations_[i].second.error.empty()) {
                            err = observations_[i].second.error;
                            break;
                        }
                    result_.notes.push_back("rejects calls " + c.label + ": " + err);
                    observations_.resize(before);
                    continue;
                }
                observations_.resize(before);
                const auto lengths = extraLengths();
                total_ += int64_t(lengths.size());
                stage_ = "all lengths " + c.label;
                stopped = sweep(c, c.batches, lengths);
                if (stopped)
                    break;
            }
        analyse();
        captureExamples();
        result_.ok = result_.defects.empty();
        result_.seconds = std::chrono::duration<double>(Clock::now() - started).count();
        return std::move(result_);
    }

private:
    std::vector<int64_t> allLengths() const
    {
        std::vector<int64_t> v(static_cast<size_t>(maxLength_));
        for (int64_t i = 0; i < maxLength_; ++i)
            v[size_t(i)] = i + 1;
        return v;
    }

    // Without declared inputs: the guide's three, unless the kernel takes another count
    // (a generated kernel checks it). Returns false when a probe call never returned.
    bool findAcceptedInputCount()
    {
        std::vector<int64_t> lengths;
        for (int64_t l : {1, 2, 3, 16, 64, 100})
            if (l <= maxLength_)
                lengths.push_back(l);
        for (size_t n : {3, 2, 1, 4, 5, 6}) {
            Config probe;
            probe.inputs = inputs_;
            probe.inputs.resize(std::min(n, probe.inputs.size()));
            while (probe.inputs.size() < n)
                probe.inputs.push_back(
                    {"input" + std::to_string(probe.inputs.size()), DType::Int64, 0, 1});
            probe.batches = {o_.batchSizes.front()};
            probe.label = "with " + std::to_string(n) + " inputs";
            stage_ = "finding the input count";
            const size_t before = observations_.size(), configsBefore = configs_.size();
            if (sweep(probe, probe.batches, lengths))
                return false;
            bool accepted = false;
            for (size_t i = before; i < observations_.size(); ++i)
                accepted |= observations_[i].second.status == Status::Returned;
            observations_.resize(before);
            configs_.resize(configsBefore);
            if (accepted) {
                inputs_ = probe.inputs;
                if (n != 3)
                    result_.notes.push_back("takes " + std::to_string(n) + " input" +
                                            (n == 1 ? "" : "s") +
                                            " (no inputs declared; validated with that count)");
                return true;
            }
        }
        return true;
    }

    // Extra configurations (other input counts, mixed dtypes) run every length the reference
    // serves and a little past it; further out, where the reference already showed how the
    // kernel treats over-long inputs, every 16th length and the last.
    std::vector<int64_t> extraLengths() const
    {
        const int64_t dense =
            std::min(maxLength_, (refBoundaries_.empty() ? 0 : refBoundaries_.back()) + 64);
        std::vector<int64_t> v;
        for (int64_t l = 1; l <= maxLength_; ++l)
            if (l <= dense || l % 16 == 0 || l == maxLength_)
                v.push_back(l);
        return v;
    }

    std::vector<int64_t> probeLengths() const
    {
        std::set<int64_t> s{1, maxLength_};
        for (auto b : refBoundaries_)
            for (auto l : {b - 1, b, b + 1})
                if (l >= 1 && l <= maxLength_)
                    s.insert(l);
        return {s.begin(), s.end()};
    }

    // Runs `lengths` at each batch size; returns true when a call timed out.
    bool sweep(const Config& c, const std::vector<int64_t>& batches,
               const std::vector<int64_t>& lengths)
    {
        const size_t configIndex = configs_.size();
        configs_.push_back(c);
        struct Work {
            std::vector<std::pair<int64_t, int64_t>> calls; // batch, length
            std::vector<InputBank> banks;                   // per batch
            std::vector<Observation> out;
            std::shared_ptr<const Kernel::Impl> kernel;
            std::vector<c10::IValue> constants;
            Config config;
            int64_t bucketDim = 1;
            bool declared = false;
        };
        auto work = std::make_shared<Work>();
        for (size_t b = 0; b < batches.size(); ++b) {
            work->banks.push_back(makeBank(c, batches[b], maxLength_, o_.batchDim, o_.bucketDim,
                                           o_.paddingSide, o_.contract));
            for (auto l : lengths)
                work->calls.emplace_back(int64_t(b), l);
        }
        work->out.resize(work->calls.size());
        work->config = c;
        work->bucketDim = o_.bucketDim;
        work->declared = declaredInputs_;
        work->constants = constants_;
        // The worker may outlive this function (a call that never returns): it owns `work`
        // and a copy of the kernel's shared state.
        work->kernel = kernelHolder();
        const int64_t doneBefore = done_;
        auto outcome = GuardedRunner::run(
            work->calls.size(),
            [work, batches](size_t i) {
                const auto [b, length] = work->calls[i];
                Observation& obs = work->out[i];
                obs.length = length;
                obs.batch = batches[size_t(b)];
                callOnce(*work->kernel, work->constants, work->config, work->banks[size_t(b)],
                         length, work->bucketDim, work->declared, obs, nullptr);
            },
            o_.callTimeoutSeconds, [&](size_t done) { reportProgress(doneBefore + int64_t(done)); },
            job_, threads_,
            [&](size_t i) {
                return at(work->calls[i].second, batches[size_t(work->calls[i].first)]);
            });
        done_ = doneBefore + int64_t(outcome.completed);
        result_.calls += int64_t(outcome.completed);
        for (size_t i = 0; i < work->calls.size(); ++i)
            if (outcome.done[i])
                observations_.emplace_back(configIndex, work->out[i]);
        if (outcome.timedOut) {
            Observation obs;
            obs.length = work->calls[*outcome.timedOut].second;
            obs.batch = batches[size_t(work->calls[*outcome.timedOut].first)];
            obs.status = Status::TimedOut;
            observations_.emplace_back(configIndex, obs);
            result_.workerAbandoned = true;
            timedOut_ = true;
        }
        if (c.reference)
            refBoundaries_ = inferBoundaries(configIndex, batches.front());
        return outcome.timedOut.has_value();
    }

    std::shared_ptr<const Kernel::Impl> kernelHolder() const
    {
        // Kernel keeps its Impl in a shared_ptr; copying the Kernel shares it.
        auto copy = std::make_shared<Kernel>(kernel_);
        return std::shared_ptr<const Kernel::Impl>(copy, &copy->impl());
    }

    void reportProgress(int64_t done)
    {
        job_.step(double(done), double(std::max(total_, done)), stage_);
    }

    static void callOnce(const Kernel::Impl& kernel, const std::vector<c10::IValue>& constants,
                         const Config& c, const InputBank& bank, int64_t length, int64_t bucketDim,
                         bool declared, Observation& obs, KernelCall* capture)
    {
        std::vector<at::Tensor> inputs;
        inputs.reserve(c.inputs.size());
        for (size_t i = 0; i < c.inputs.size(); ++i)
            inputs.push_back(bank.viewsAt(i, length, bucketDim));
        if (capture) {
            capture->length = length;
            capture->batch = obs.batch;
            for (const auto& t : inputs)
                capture->inputs.push_back(summarize(t, 0));
        }
        c10::IValue result;
        try {
            std::vector<c10::IValue> args{c10::List<at::Tensor>(inputs)};
            args.insert(args.end(), constants.begin(), constants.end());
            result = kernel.call(std::move(args));
        } catch (const std::exception& e) {
            obs.status = Status::Raised;
            obs.error = kernelError(e);
            if (capture)
                capture->error = obs.error;
            return;
        }
        obs.status = Status::Returned;
        if (!result.isTuple() || result.toTupleRef().elements().size() != 2 ||
            !result.toTupleRef().elements()[0].isTensorList()) {
            obs.status = Status::Raised;
            obs.error = "returned " + result.tagKind() + ", expected (List[Tensor], Tensor)";
            if (capture)
                capture->error = obs.error;
            return;
        }
        const auto& parts = result.toTupleRef().elements();
        const auto outputs = parts[0].toTensorVector();
        obs.outputCount = int(outputs.size());
        if (capture) {
            for (const auto& t : outputs)
                capture->outputs.push_back(summarize(t, 0));
        }
        const auto& index = parts[1];
        if (!index.isTensor()) {
            obs.indexProblem = "a " + index.tagKind() + ", not a tensor";
            if (index.isInt())
                obs.index = index.toInt();
        } else {
            const auto& t = index.toTensor();
            if (t.numel() != 1)
                obs.indexProblem = "a tensor of " + std::to_string(t.numel()) + " elements";
            else {
                // NxD returns int32 indices; torch_neuronx reads either.
                if (t.scalar_type() != at::kLong && t.scalar_type() != at::kInt)
                    obs.indexProblem = "a " + dtypeText(t.scalar_type()) + " tensor";
                obs.indexDtype = dtypeText(t.scalar_type());
                obs.index = t.item().toLong();
            }
        }
        if (capture)
            capture->index = index.isTensor() ? summarize(index.toTensor(), 0).text
                             : index.isInt()  ? std::to_string(index.toInt())
                                              : index.tagKind();
        obs.outLength = outputs.empty() ? -2 : -3;
        obs.padSeen.assign(outputs.size(), std::numeric_limits<double>::quiet_NaN());
        for (size_t i = 0; i < outputs.size() && i < inputs.size(); ++i) {
            const auto& out = outputs[i];
            const auto& in = inputs[i];
            if (!c.inputs[i].bucketed) { // must pass through exactly as given
                if (!out.sizes().equals(in.sizes()) || out.scalar_type() != in.scalar_type() ||
                    !out.equal(in))
                    obs.valuesChanged = true;
                continue;
            }
            if (out.dim() != in.dim()) {
                obs.valuesChanged = true;
                obs.outLength = -1;
                continue;
            }
            const int64_t olen = out.size(bucketDim);
            if (olen < length)
                obs.tokensDropped = true;
            if (obs.outLength == -3)
                obs.outLength = olen;
            else if (obs.outLength != olen)
                obs.outLength = -1;
            bool otherDims = true;
            for (int64_t d = 0; d < in.dim(); ++d)
                if (d != bucketDim && out.size(d) != in.size(d))
                    otherDims = false;
            if (!otherDims) {
                obs.valuesChanged = true;
                continue;
            }
            if (out.scalar_type() != in.scalar_type())
                obs.dtypeChanged = true;
            // The real tokens: the first ones with right padding, the last ones with left (the
            // input is `length` long, or padded to the largest bucket for a slicing kernel).
            const int64_t keep = std::min(olen, length);
            const bool left = bank.leftPadding;
            const int64_t inLength = in.size(bucketDim);
            const auto kept = out.narrow(bucketDim, left ? olen - keep : 0, keep);
            const auto original = in.narrow(bucketDim, left ? inLength - keep : 0, keep);
            if (!(out.scalar_type() == in.scalar_type()
                      ? kept.equal(original)
                      : kept.to(in.scalar_type()).equal(original)))
                obs.valuesChanged = true;
            if (olen > length) {
                // One pass for both extremes: the padding is right when min == max == pad.
                auto pad = out.narrow(bucketDim, left ? 0 : length, olen - length);
                if (pad.scalar_type() == at::kBool || pad.scalar_type() == at::kHalf ||
                    pad.scalar_type() == at::kBFloat16)
                    pad = pad.to(at::kFloat);
                const auto [lo, hi] = at::aminmax(pad);
                const double low = lo.item<double>(), high = hi.item<double>();
                obs.padSeen[i] = low;
                const double expected = declared ? c.inputs[i].padValue : low;
                if (low != expected || high != expected)
                    obs.wrongPadding = true;
            }
        }
        if (obs.outLength == -3)
            obs.outLength = -2;
    }

    // Contiguous lengths with the same (padded length, index) form a bucket when the index
    // names only that bucket; a run that reuses another bucket's index (a fall-through
    // returning bucket 0) is not one.
    std::vector<int64_t> inferBoundaries(size_t config, int64_t batch) const
    {
        std::map<int64_t, int64_t> indexOf;  // index -> length
        std::map<int64_t, int64_t> lengthOf; // length -> index
        std::set<int64_t> out;
        for (const auto& [ci, obs] : observations_) {
            if (ci != config || obs.batch != batch || obs.status != Status::Returned ||
                obs.outLength < obs.length || obs.outputCount == 0)
                continue;
            auto a = indexOf.find(obs.index);
            auto b = lengthOf.find(obs.outLength);
            if ((a != indexOf.end() && a->second != obs.outLength) ||
                (b != lengthOf.end() && b->second != obs.index))
                continue;
            indexOf[obs.index] = obs.outLength;
            lengthOf[obs.outLength] = obs.index;
            out.insert(obs.outLength);
        }
        return {out.begin(), out.end()};
    }

    struct Failure {
        DefectKind kind;
        size_t observation;
        std::string detail;
    };

    void analyse()
    {
        result_.boundaries = refBoundaries_;
        const bool slice = o_.contract == KernelContract::Slice;
        std::vector<int64_t> buckets =
            o_.declaredBoundaries.empty() ? refBoundaries_ : o_.declaredBoundaries;
        // Inputs of a slicing kernel arrive at the largest bucket: it is a bucket whatever
        // the kernel does.
        if (slice && (buckets.empty() || buckets.back() < maxLength_))
            buckets.push_back(maxLength_);
        if (!o_.declaredBoundaries.empty() && refBoundaries_ != o_.declaredBoundaries.values() &&
            !timedOut_) {
            KernelDefect d;
            d.kind = DefectKind::BoundariesDiffer;
            d.message = "the kernel pads to " + formatList(refBoundaries_) +
                        " but the package declares buckets " + formatList(o_.declaredBoundaries);
            for (size_t i = 0; i < std::max(buckets.size(), refBoundaries_.size()); ++i) {
                const int64_t a = i < buckets.size() ? buckets[i] : -1;
                const int64_t b = i < refBoundaries_.size() ? refBoundaries_[i] : -1;
                if (a != b) {
                    d.firstLength = d.lastLength = std::max(a, b);
                    break;
                }
            }
            d.calls = 0;
            result_.defects.push_back(d);
        }
        const int64_t served = buckets.empty() ? 0 : buckets.back();
        std::map<size_t, double> padPerInput; // first pad value seen per input position
        std::string firstRejection;
        bool rejectionNamesLength = true;
        for (size_t i = 0; i < observations_.size(); ++i) {
            const auto& [ci, obs] = observations_[i];
            const Config& c = configs_[ci];
            auto fail = [&](DefectKind kind, const std::string& detail) {
                failures_.push_back({kind, i, detail});
            };
            if (obs.status == Status::TimedOut) {
                fail(DefectKind::Timeout,
                     "did not return within " + formatSeconds(o_.callTimeoutSeconds));
                continue;
            }
            if (served == 0) {
                // Nothing was ever padded to a bucket: the kernel serves no length at all.
                if (obs.status == Status::Raised)
                    fail(DefectKind::Exception, "raised: " + obs.error);
                else
                    fail(DefectKind::WrongOutputLength,
                         "returns no result padded to a bucket (outputs of length " +
                             std::to_string(obs.outLength) + ")");
                continue;
            }
            if (obs.length > served) {
                // F.pad with a negative amount cuts instead of padding: a kernel that
                // computes bucket - length without a guard returns a truncated input.
                const std::string cut =
                    obs.outLength >= 0 && obs.outLength < obs.length
                        ? ": it pads by a negative amount (" +
                              std::to_string(obs.outLength - obs.length) + "), cutting " +
                              std::to_string(obs.length - obs.outLength) + " real token" +
                              (obs.length - obs.outLength == 1 ? "" : "s")
                        : std::string();
                if (obs.status == Status::Returned)
                    fail(DefectKind::FallThrough,
                         "returns " + std::to_string(obs.outputCount) + " tensor" +
                             (obs.outputCount == 1 ? "" : "s") +
                             (obs.outLength >= 0 ? " of length " + std::to_string(obs.outLength)
                                                 : std::string()) +
                             " and bucket " + std::to_string(obs.index) +
                             " instead of rejecting the length" + cut);
                else if (c.reference) {
                    if (firstRejection.empty())
                        firstRejection = obs.error;
                    if (obs.error.find(std::to_string(obs.length)) == std::string::npos)
                        rejectionNamesLength = false;
                }
                continue;
            }
            if (obs.status == Status::Raised) {
                fail(DefectKind::Exception, "raised: " + obs.error);
                continue;
            }
            const auto it = std::lower_bound(buckets.begin(), buckets.end(), obs.length);
            const int64_t expected = *it;
            const int64_t rank = int64_t(it - buckets.begin());
            if (slice && obs.tokensDropped)
                fail(DefectKind::TokensDropped,
                     obs.outLength >= 0
                         ? "slices to " + std::to_string(obs.outLength) + " and drops " +
                               std::to_string(obs.length - obs.outLength) + " of " +
                               std::to_string(obs.length) +
                               " real tokens (the smallest bucket holding them is " +
                               std::to_string(expected) + ")"
                         : "returns an output shorter than its " + std::to_string(obs.length) +
                               " real tokens");
            else if (obs.outLength != expected)
                fail(DefectKind::WrongOutputLength,
                     obs.outLength == -2   ? "returns no tensors"
                     : obs.outLength == -1 ? "returns tensors of different lengths"
                     : slice               ? "slices to " + std::to_string(obs.outLength) +
                                   ", the smallest bucket holding " + std::to_string(obs.length) +
                                   " real tokens is " + std::to_string(expected)
                             : "pads to " + std::to_string(obs.outLength) +
                                   ", the nearest bucket is " + std::to_string(expected));
            if (obs.index != rank && obs.indexProblem.find("elements") == std::string::npos)
                fail(DefectKind::IndexNotMonotone,
                     "returns bucket index " + std::to_string(obs.index) + " for bucket " +
                         std::to_string(expected) + " (index " + std::to_string(rank) +
                         " in ascending order)");
            if (!obs.indexProblem.empty())
                fail(DefectKind::IndexNotInt64, "returns the bucket index as " + obs.indexProblem);
            if (obs.valuesChanged)
                fail(DefectKind::ValuesChanged, "changes or loses input values");
            if (obs.dtypeChanged)
                fail(DefectKind::DtypeChanged,
                     "returns an output whose dtype differs from its input's");
            if (obs.wrongPadding)
                fail(DefectKind::WrongPadding,
                     declaredInputs_ ? "pads with values other than the declared pad value"
                                     : "pads with values that are not one constant");
            if (!declaredInputs_ && c.reference)
                for (size_t k = 0; k < obs.padSeen.size(); ++k) {
                    if (std::isnan(obs.padSeen[k]))
                        continue;
                    auto [p, inserted] = padPerInput.emplace(k, obs.padSeen[k]);
                    if (!inserted && p->second != obs.padSeen[k])
                        fail(DefectKind::WrongPadding,
                             "pads input " + std::to_string(k) + " with " +
                                 std::to_string(obs.padSeen[k]) + " here but " +
                                 std::to_string(p->second) + " at other lengths");
                }
            if (obs.outputCount < int(c.inputs.size()))
                fail(DefectKind::InputsDropped, "returns " + std::to_string(obs.outputCount) +
                                                    " tensors for " +
                                                    std::to_string(c.inputs.size()) + " inputs");
            else if (obs.outputCount > int(c.inputs.size()))
                fail(DefectKind::ExtraOutputs, "returns " + std::to_string(obs.outputCount) +
                                                   " tensors for " +
                                                   std::to_string(c.inputs.size()) + " inputs");
        }
        std::set<std::string> indexDtypes;
        for (const auto& [ci, obs] : observations_)
            if (configs_[ci].reference && obs.status == Status::Returned &&
                obs.indexProblem.empty() && !obs.indexDtype.empty())
                indexDtypes.insert(obs.indexDtype);
        if (indexDtypes.size() == 1)
            result_.indexDtype = *indexDtypes.begin();
        if (indexDtypes.count("int32"))
            result_.notes.push_back(
                "bucket index is int32" +
                std::string(indexDtypes.size() > 1 ? " at some lengths, int64 at others" : "") +
                " (accepted: NxD's kernels return their index as int32)");
        if (!firstRejection.empty())
            result_.notes.push_back(
                "lengths past " + std::to_string(served) + " are rejected: " + firstRejection +
                (rejectionNamesLength ? "" : " (the message does not always name the length)"));
        if (served == 0)
            result_.notes.push_back("no length was padded to a bucket");

        std::map<DefectKind, size_t> byKind;
        for (const auto& f : failures_) {
            const auto& obs = observations_[f.observation].second;
            auto it = byKind.find(f.kind);
            if (it == byKind.end()) {
                KernelDefect d;
                d.kind = f.kind;
                d.firstLength = d.lastLength = obs.length;
                d.calls = 1;
                const auto& c = configs_[observations_[f.observation].first];
                d.message = "length " + std::to_string(obs.length) + ", batch " +
                            std::to_string(obs.batch) + (c.label.empty() ? "" : " " + c.label) +
                            ": " + f.detail;
                byKind[f.kind] = result_.defects.size();
                exampleOf_.push_back({f.kind, f.observation});
                result_.defects.push_back(d);
            } else {
                auto& d = result_.defects[it->second];
                d.firstLength = std::min(d.firstLength, obs.length);
                d.lastLength = std::max(d.lastLength, obs.length);
                ++d.calls;
            }
        }
        for (auto& d : result_.defects)
            if (d.kind != DefectKind::BoundariesDiffer && d.firstLength != d.lastLength)
                d.message += " (lengths " + std::to_string(d.firstLength) + ".." +
                             std::to_string(d.lastLength) + ", " + std::to_string(d.calls) +
                             " call" + (d.calls == 1 ? "" : "s") + ")";
        std::stable_sort(result_.defects.begin(), result_.defects.end(),
                         [](const KernelDefect& a, const KernelDefect& b) {
                             return a.firstLength < b.firstLength;
                         });
    }

    // Re-runs the first failing call of each defect to keep what went in and came out.
    void captureExamples()
    {
        for (const auto& [kind, obsIndex] : exampleOf_) {
            const auto& [ci, obs] = observations_[obsIndex];
            KernelCall call;
            call.length = obs.length;
            call.batch = obs.batch;
            call.error = "did not return within " + formatSeconds(o_.callTimeoutSeconds);
            if (obs.status != Status::TimedOut && !result_.workerAbandoned) {
                auto holder = std::make_shared<std::pair<KernelCall, Observation>>();
                holder->second.batch = obs.batch;
                const bool slice = o_.contract == KernelContract::Slice;
                auto bank = std::make_shared<InputBank>(
                    makeBank(configs_[ci], obs.batch, slice ? maxLength_ : obs.length, o_.batchDim,
                             o_.bucketDim, o_.paddingSide, o_.contract));
                auto kernel = kernelHolder();
                const Config config = configs_[ci];
                const int64_t length = obs.length, bucketDim = o_.bucketDim;
                const bool declared = declaredInputs_;
                const auto constants = constants_;
                const auto outcome = GuardedRunner::run(
                    1,
                    [holder, bank, kernel, constants, config, length, bucketDim, declared](size_t) {
                        callOnce(*kernel, constants, config, *bank, length, bucketDim, declared,
                                 holder->second, &holder->first);
                    },
                    o_.callTimeoutSeconds, nullptr, Job(), 1,
                    [&](size_t) { return at(length, obs.batch); });
                if (outcome.timedOut)
                    result_.workerAbandoned = true;
                else
                    call = holder->first;
            }
            for (auto& d : result_.defects)
                if (d.kind == kind)
                    d.example = call;
        }
    }

    // "FILE: KERNEL at length L, batch B": where a call is, in an error.
    std::string at(int64_t length, int64_t batch) const
    {
        return kernel_.file() + ": " + kernel_.name() + " at length " + std::to_string(length) +
               ", batch " + std::to_string(batch);
    }

    static std::string formatList(const std::vector<int64_t>& v)
    {
        std::string s = "[";
        for (size_t i = 0; i < v.size(); ++i)
            s += (i ? ", " : "") + std::to_string(v[i]);
        return s + "]";
    }
    static std::string formatSeconds(double s)
    {
        std::ostringstream o;
        o << s << " s";
        return o.str();
    }

    const Kernel& kernel_;
    const KernelCheckOptions& o_;
    const Job& job_;
    bool declaredInputs_;
    std::vector<c10::IValue> constants_;
    std::vector<InputSpec> inputs_;
    int threads_ = 1;
    int64_t maxLength_ = 0;
    int64_t total_ = 0;
    int64_t done_ = 0;
    std::string stage_;
    bool timedOut_ = false;
    std::vector<Config> configs_;
    std::vector<std::pair<size_t, Observation>> observations_;
    std::vector<int64_t> refBoundaries_;
    std::vector<Failure> failures_;
    std::vector<std::pair<DefectKind, size_t>> exampleOf_; // first observation of each kind
    KernelCheckResult result_;
};

} // namespace

namespace {

// The guide's contract: shapes_collection[bucket][i] is the shape state i must have for that
// bucket, cut from a state kept at the largest shape. The guide keeps the last positions
// (start = size - n); the first positions are accepted too, anything else is a defect.
class StatePreprocessorCheck {
public:
    StatePreprocessorCheck(const Kernel& kernel, const KernelCheckOptions& o, const Job& job)
        : kernel_(kernel), o_(o), job_(job)
    {
    }

    KernelCheckResult run()
    {
        const auto started = Clock::now();
        KernelCheckResult result;
        result.kernel = kernel_.name();
        result.role = KernelRole::StatePreprocessor;
        auto buckets = !o_.stateBoundaries.empty()      ? o_.stateBoundaries
                       : !o_.declaredBoundaries.empty() ? o_.declaredBoundaries
                                                        : std::vector<int64_t>{128, 512};
        result.boundaries = buckets;
        struct Item {
            std::string label;
            std::vector<at::Tensor> states;
            std::vector<std::vector<std::vector<int64_t>>> shapes; // [bucket][state]
            int64_t bucket = 0;                                    // index; K = one past
        };
        struct Work {
            std::vector<Item> items;
            std::vector<std::string> problems; // per item: "" or what is wrong
            std::vector<int> statuses;         // 0 returned, 1 raised
            std::shared_ptr<const Kernel::Impl> kernel;
        };
        auto work = std::make_shared<Work>();
        auto copy = std::make_shared<Kernel>(kernel_);
        work->kernel = std::shared_ptr<const Kernel::Impl>(copy, &copy->impl());
        const int64_t maxB = buckets.back();
        auto pattern = [](std::vector<int64_t> shape, c10::ScalarType dtype) {
            int64_t n = 1;
            for (auto d : shape)
                n *= d;
            return (torch::arange(n, torch::kInt64) % 1000 + 1).reshape(shape).to(dtype);
        };
        std::vector<Item> bases;
        if (!o_.states.empty()) {
            // The states as declared: their buffers at the largest shapes, their shapes per
            // bucket, any rank (the batch is part of each shape).
            checkStateSpecs(o_.states, Boundaries::from(buckets, Field::Boundaries));
            Item base;
            base.label = "declared states";
            for (const auto& st : o_.states) {
                base.label += " " + st.name + ":" + formatShape(stateBufferShape(st));
                base.states.push_back(pattern(stateBufferShape(st), toScalarType(st.dtype)));
            }
            for (size_t k = 0; k < buckets.size(); ++k) {
                std::vector<std::vector<int64_t>> perState;
                for (const auto& st : o_.states)
                    perState.push_back(st.shapes[k]);
                base.shapes.push_back(perState);
            }
            bases.push_back(base);
        }
        for (int64_t batch : o_.states.empty() ? o_.batchSizes : std::vector<int64_t>{}) {
            // The guide's example: two [batch, length] states; then a KV-cache-like pair of
            // mixed dtypes with the length in dimension 2.
            std::vector<std::pair<std::string,
                                  std::vector<std::pair<std::vector<int64_t>, c10::ScalarType>>>>
                layouts = {{"two [batch, length] float32 states",
                            {{{batch, -1}, at::kFloat}, {{batch, -1}, at::kFloat}}},
                           {"[batch, heads, length, dim] float32 + [batch, length] int64 states",
                            {{{batch, 2, -1, 4}, at::kFloat}, {{batch, -1}, at::kLong}}}};
            for (const auto& [label, layout] : layouts) {
                Item base;
                base.label = label + ", batch " + std::to_string(batch);
                for (const auto& [shape, dtype] : layout) {
                    auto full = shape;
                    for (auto& d : full)
                        if (d < 0)
                            d = maxB;
                    base.states.push_back(pattern(full, dtype));
                }
                for (int64_t b : buckets) {
                    std::vector<std::vector<int64_t>> perState;
                    for (const auto& [shape, dtype] : layout) {
                        auto s = shape;
                        for (auto& d : s)
                            if (d < 0)
                                d = b;
                        perState.push_back(s);
                    }
                    base.shapes.push_back(perState);
                }
                bases.push_back(base);
            }
        }
        for (const auto& base : bases)
            for (int64_t k = 0; k <= int64_t(buckets.size()); ++k) {
                Item item = base;
                item.bucket = k;
                work->items.push_back(item);
            }
        work->problems.resize(work->items.size());
        work->statuses.resize(work->items.size());
        const auto outcome = GuardedRunner::run(
            work->items.size(),
            [work](size_t i) {
                const Item& item = work->items[i];
                c10::List<c10::List<c10::List<int64_t>>> shapes;
                for (const auto& bucket : item.shapes) {
                    c10::List<c10::List<int64_t>> perState;
                    for (const auto& s : bucket)
                        perState.push_back(c10::List<int64_t>(s));
                    shapes.push_back(perState);
                }
                c10::IValue out;
                try {
                    out = work->kernel->call({shapes, c10::List<at::Tensor>(item.states),
                                              torch::tensor({item.bucket}, torch::kInt64)});
                } catch (const std::exception& e) {
                    work->statuses[i] = 1;
                    work->problems[i] = kernelError(e);
                    return;
                }
                if (!out.isTensorList()) {
                    work->problems[i] = "returned " + out.tagKind() + ", expected List[Tensor]";
                    return;
                }
                if (item.bucket >= int64_t(item.shapes.size()))
                    return;
                const auto outs = out.toTensorVector();
                if (outs.size() != item.states.size()) {
                    work->problems[i] = "returned " + std::to_string(outs.size()) +
                                        " tensors for " + std::to_string(item.states.size()) +
                                        " states";
                    return;
                }
                for (size_t s = 0; s < outs.size(); ++s) {
                    const auto& want = item.shapes[size_t(item.bucket)][s];
                    const auto& state = item.states[s];
                    if (outs[s].sizes().vec() != want) {
                        std::ostringstream m;
                        m << "state " << s << " has shape " << outs[s].sizes() << ", expected "
                          << c10::IntArrayRef(want);
                        work->problems[i] = m.str();
                        return;
                    }
                    if (outs[s].scalar_type() != state.scalar_type()) {
                        work->problems[i] = "state " + std::to_string(s) + " changed dtype";
                        return;
                    }
                    at::Tensor head = state, tail = state;
                    for (int64_t d = 0; d < state.dim(); ++d) {
                        head = head.narrow(d, 0, want[size_t(d)]);
                        tail = tail.narrow(d, state.size(d) - want[size_t(d)], want[size_t(d)]);
                    }
                    if (!outs[s].equal(tail) && !outs[s].equal(head)) {
                        work->problems[i] = "state " + std::to_string(s) +
                                            " is not a window of the shared state (values changed)";
                        return;
                    }
                }
            },
            o_.callTimeoutSeconds, nullptr, job_, 1,
            [&](size_t i) {
                return kernel_.file() + ": " + kernel_.name() + " at bucket " +
                       std::to_string(work->items[i].bucket);
            });
        result.calls = int64_t(outcome.completed);
        std::map<DefectKind, KernelDefect> defects;
        auto add = [&](DefectKind kind, size_t i, const std::string& what) {
            const auto& item = work->items[i];
            const int64_t length =
                item.bucket < int64_t(buckets.size()) ? buckets[size_t(item.bucket)] : maxB + 1;
            auto [it, inserted] = defects.emplace(kind, KernelDefect{});
            auto& d = it->second;
            if (inserted) {
                d.kind = kind;
                d.firstLength = d.lastLength = length;
                d.message = "bucket index " + std::to_string(item.bucket) + " (" + item.label +
                            "): " + what;
                d.example.length = length;
                d.example.batch = item.states.front().size(0);
                for (const auto& t : item.states)
                    d.example.inputs.push_back(summarize(t, 0));
                d.example.index = std::to_string(item.bucket);
                d.example.error = what;
            }
            d.firstLength = std::min(d.firstLength, length);
            d.lastLength = std::max(d.lastLength, length);
            ++d.calls;
        };
        for (size_t i = 0; i < work->items.size(); ++i) {
            if (!outcome.done[i])
                continue;
            const bool past = work->items[i].bucket >= int64_t(buckets.size());
            if (past && work->statuses[i] == 0)
                add(DefectKind::FallThrough, i, "returns states for a bucket that does not exist");
            else if (!past && work->statuses[i] == 1)
                add(DefectKind::Exception, i, "raised: " + work->problems[i]);
            else if (!past && !work->problems[i].empty())
                add(DefectKind::StateShape, i, work->problems[i]);
        }
        if (outcome.timedOut) {
            result.workerAbandoned = true;
            add(DefectKind::Timeout, *outcome.timedOut,
                "did not return within " + std::to_string(o_.callTimeoutSeconds) + " s");
        }
        for (auto& [kind, d] : defects)
            result.defects.push_back(d);
        result.ok = result.defects.empty();
        result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
        return result;
    }

private:
    const Kernel& kernel_;
    const KernelCheckOptions& o_;
    const Job& job_;
};

std::vector<InputSpec> guideInputs()
{
    // The guide's BERT inputs: input_ids, attention_mask, token_type_ids, padded with 0.
    return {{"input_ids", DType::Int64, 0, 1},
            {"attention_mask", DType::Int64, 0, 1},
            {"token_type_ids", DType::Int64, 0, 1}};
}

} // namespace

namespace {

std::string batchList(const std::vector<int64_t>& batches)
{
    std::string out;
    for (auto b : batches)
        out += (out.empty() ? "" : ",") + std::to_string(b);
    return out.size() > 60 ? out.substr(0, 57) + "..." : out;
}

// The longest length a bucket kernel check runs (as BucketKernelCheck::run decides it).
int64_t checkedLength(const KernelCheckOptions& o)
{
    if (o.contract == KernelContract::Slice && !o.declaredBoundaries.empty())
        return o.declaredBoundaries.largest();
    return o.maxLength > 0 ? o.maxLength : defaultCheckLength(o.declaredBoundaries);
}

} // namespace

uint64_t kernelCheckBytes(const KernelCheckOptions& o, KernelRole role)
{
    uint64_t batchSum = 0, batchMax = 0;
    for (auto b : o.batchSizes) {
        batchSum = bytesPlus(batchSum, uint64_t(std::max<int64_t>(b, 0)));
        batchMax = std::max(batchMax, uint64_t(std::max<int64_t>(b, 0)));
    }
    const uint64_t threads = uint64_t(std::max(o.threads, 1));
    if (role == KernelRole::StatePreprocessor && !o.states.empty()) {
        uint64_t largest = 0;
        for (const auto& st : o.states) {
            uint64_t n = 1;
            for (auto d : stateBufferShape(st))
                n = bytesTimes(n, uint64_t(std::max<int64_t>(d, 0)));
            largest = std::max(largest, n);
        }
        const uint64_t buffers = stateBufferBytes(o.states);
        return bytesPlus(bytesPlus(buffers, bytesTimes(largest, 8)),
                         bytesTimes(bytesTimes(buffers, 2), threads));
    }
    if (role == KernelRole::StatePreprocessor) {
        const Boundaries& buckets = !o.stateBoundaries.empty()      ? o.stateBoundaries
                                    : !o.declaredBoundaries.empty() ? o.declaredBoundaries
                                                                    : Boundaries{128, 512};
        const uint64_t largest = uint64_t(buckets.largest());
        // Kept: 48 bytes per (row, position) over both layouts at every batch size; made
        // from an int64 pattern (8 per element, 8 elements per position at most); in
        // flight: each call's outputs and the comparisons' copies.
        const uint64_t kept = bytesTimes(bytesTimes(batchSum, largest), 48);
        const uint64_t pattern = bytesTimes(bytesTimes(batchMax, largest), 64);
        const uint64_t flight = bytesTimes(bytesTimes(bytesTimes(batchMax, largest), 96), threads);
        return bytesPlus(bytesPlus(kept, pattern), flight);
    }
    const uint64_t length = uint64_t(std::max<int64_t>(checkedLength(o), 0));
    std::vector<InputSpec> inputs = o.inputs;
    if (inputs.empty())
        inputs.assign(6, InputSpec{"input", DType::Int64, 0, 1});
    // Extra configurations: one more input, each smaller count, and mixed dtypes, each at
    // the first batch size over at most every length.
    const uint64_t extraConfigs = uint64_t(inputs.size()) + 1;
    const uint64_t calls =
        bytesTimes(length, bytesPlus(uint64_t(o.batchSizes.size()), extraConfigs));
    const uint64_t records = bytesTimes(calls, kCheckBytesPerCall);
    const uint64_t perRow = inputBytes(inputs, 1, int64_t(std::min<uint64_t>(length, INT64_MAX)));
    const uint64_t banks = bytesTimes(perRow, batchSum);
    const uint64_t pattern = bytesTimes(bytesTimes(length, batchMax), 16);
    // A call's outputs, the comparisons' copies and (slice contract) its own copy of the inputs.
    const uint64_t perCall =
        bytesTimes(bytesTimes(perRow, batchMax), o.contract == KernelContract::Slice ? 3 : 2);
    return bytesPlus(bytesPlus(records, banks), bytesPlus(pattern, bytesTimes(perCall, threads)));
}

void checkKernelCheckMemory(const KernelCheckOptions& o, KernelRole role)
{
    const uint64_t bytes = kernelCheckBytes(o, role);
    if (role == KernelRole::StatePreprocessor && !o.states.empty()) {
        checkMemoryBudget(bytes, "checking the state preprocessor at the declared state shapes",
                          "give smaller " + subject(Field::States));
        return;
    }
    if (role == KernelRole::StatePreprocessor) {
        const Boundaries& buckets =
            !o.stateBoundaries.empty() ? o.stateBoundaries : o.declaredBoundaries;
        checkMemoryBudget(bytes,
                          "checking the state preprocessor at buckets up to " +
                              std::to_string(buckets.empty() ? 512 : buckets.largest()) +
                              " and batch sizes " + batchList(o.batchSizes),
                          "lower " + subject(Field::Boundaries) + " or " +
                              subject(Field::BatchSizes));
        return;
    }
    checkMemoryBudget(bytes,
                      "checking the kernel at lengths 1.." + std::to_string(checkedLength(o)) +
                          " and batch sizes " + batchList(o.batchSizes),
                      "lower " + subject(Field::CheckLength) + " or " + subject(Field::BatchSizes));
}

int64_t defaultCheckLength(const Boundaries& declaredBoundaries)
{
    return declaredBoundaries.empty() ? 2048
                                      : std::max<int64_t>(2 * declaredBoundaries.largest(), 1024);
}

KernelCheckResult checkKernel(const Kernel& kernel, const KernelCheckOptions& options,
                              const Job& job)
{
    const auto role = kernel.role();
    const auto params = kernel.parameters();
    if (options.threads < 0 || options.threads > kMaxCheckThreads)
        throw Error(subject(Field::Threads) + " " + std::to_string(options.threads) +
                    " must be between 1 and " + std::to_string(kMaxCheckThreads));
    if (options.batchSizes.empty())
        throw Error("no batch sizes to validate with: give " + subject(Field::BatchSizes));
    for (auto b : options.batchSizes)
        if (b < 1 || b > kMaxBatch)
            throw Error(subject(Field::BatchSizes) + ": batch size " + std::to_string(b) +
                        " must be between 1 and " + std::to_string(kMaxBatch));
    if (options.maxLength < 0)
        throw Error(subject(Field::CheckLength) + " " + std::to_string(options.maxLength) +
                    " must be positive");
    if (role == KernelRole::StatePreprocessor) {
        checkKernelCheckMemory(options, KernelRole::StatePreprocessor);
        return StatePreprocessorCheck(kernel, options, job).run();
    }
    if (role != KernelRole::BucketKernel || params.front().type != "List[Tensor]")
        throw Error(kernel.file() + ": " + kernel.name() + " has the signature " + kernel.schema() +
                    "; a bucket kernel takes one List[Tensor] (annotate it `tensor_list: "
                    "List[torch.Tensor]`), optionally followed by constant arguments, and a "
                    "state preprocessor takes (shapes_collection, states, bucket_idx_tensor)");
    std::vector<c10::IValue> constants = constantArgValues(options.constantArgs);
    checkConstantValuesFit(kernel, constants);
    KernelCheckOptions o = options;
    if (o.declaredBoundaries.empty())
        if (auto b = Boundaries::tryFrom(parseConstantArgs(options.constantArgs).buckets))
            o.declaredBoundaries = *b;
    const bool declared = !o.inputs.empty();
    if (!declared)
        o.inputs = guideInputs();
    checkInputSpecs(o.inputs);
    checkInputDims(o.inputs, o.bucketDim, o.batchDim);
    {
        KernelCheckOptions planned = o;
        if (!declared)
            planned.inputs.clear(); // the probe may settle on up to six inputs
        checkKernelCheckMemory(planned, KernelRole::BucketKernel);
    }
    try {
        return BucketKernelCheck(kernel, o, declared, std::move(constants), job).run();
    } catch (const Error&) {
        throw;
    } catch (const Cancelled&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(kernel.file() + ": validating " + kernel.name() +
                    " failed: " + torchMessage(e));
    }
}

KernelCheckResult checkKernelFile(const std::string& path, const std::string& function,
                                  KernelCheckOptions options, const Job& job)
{
    const Kernel kernel = loadKernel(path, {function});
    if (isArchiveFile(path)) {
        const auto archive = readArchive(path);
        if (archive.meta) {
            if (options.inputs.empty()) {
                options.inputs = archive.meta->inputs;
                options.bucketDim = archive.meta->bucketDim;
                options.batchDim = archive.meta->batchDim;
                options.paddingSide = archive.meta->paddingSide;
            }
            if (options.declaredBoundaries.empty())
                options.declaredBoundaries = archive.meta->boundaries;
        }
    }
    return checkKernel(kernel, options, job);
}

KernelCheckResult checkGeneratedKernel(const KernelLayout& layout, KernelCheckOptions options,
                                       const Job& job)
{
    options.inputs = layout.inputs;
    options.bucketDim = layout.bucketDim;
    options.declaredBoundaries = layout.boundaries;
    options.paddingSide = layout.paddingSide;
    const Kernel kernel = compileKernelSource(generateKernelSource(layout, KernelForm::Function),
                                              "generated bucket_kernel.py");
    return checkKernel(kernel, options, job);
}

nlohmann::json kernelCheckJson(const KernelCheckResult& r)
{
    using nlohmann::json;
    auto tensors = [](const std::vector<TensorSummary>& v) {
        json a = json::array();
        for (const auto& t : v)
            a.push_back({{"shape", t.shape}, {"dtype", t.dtype}, {"text", t.text}});
        return a;
    };
    json defects = json::array();
    for (const auto& d : r.defects)
        defects.push_back({{"kind", defectKindName(d.kind)},
                           {"first_length", d.firstLength},
                           {"last_length", d.lastLength},
                           {"calls", d.calls},
                           {"message", d.message},
                           {"example",
                            {{"length", d.example.length},
                             {"batch", d.example.batch},
                             {"inputs", tensors(d.example.inputs)},
                             {"outputs", tensors(d.example.outputs)},
                             {"index", d.example.index},
                             {"error", d.example.error}}}});
    json j{{"ok", r.ok},
           {"kernel", r.kernel},
           {"contract", kernelContractName(r.contract)},
           {"index_dtype", r.indexDtype},
           {"role", r.role == KernelRole::BucketKernel ? "bucket_kernel" : "state_preprocessor"},
           {"boundaries", r.boundaries},
           {"defects", defects},
           {"notes", r.notes},
           {"calls", r.calls},
           {"seconds", r.seconds}};
    return j;
}

} // namespace bucketlab
