#include "core/package/package_check.h"
#include "core/package/package_check_p.h"
#include "core/runtime/guarded_runner_p.h"
#include "core/runtime/tensor_budget_p.h"

#include "core/kernel/kernel_source.h"
#include "core/package/package.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"

#include <algorithm>
#include <regex>
#include <sstream>

namespace bucketlab {
namespace {

struct LoadedPackage {
    std::string path;
    PackageMeta meta;
    torch::jit::Module module;
};

LoadedPackage loadPackage(const std::string& path)
{
    auto meta = readPackageMeta(path);
    if (!meta)
        throw Error(path + ": not a BucketLab package (no bucketlab_meta)");
    LoadedPackage p{path, *meta, loadScriptModule(path)};
    p.module.eval();
    return p;
}

std::vector<torch::Tensor> inputsFor(const PackageMeta& meta, const EquivalenceOptions& options,
                                     int64_t batch, int64_t length)
{
    return options.values == InputValues::Varied
               ? makeVariedInputs(meta.inputs, batch, length, meta.batchDim, meta.bucketDim)
               : makeInputs(meta.inputs, batch, length, meta.batchDim, meta.bucketDim);
}

// Index of the smallest bucket holding `length`, or -1 beyond the largest.
int64_t bucketFor(const std::vector<int64_t>& boundaries, int64_t length)
{
    const auto it = std::lower_bound(boundaries.begin(), boundaries.end(), length);
    return it == boundaries.end() ? -1 : int64_t(it - boundaries.begin());
}

// Every row starts from a fresh state, as a package does after loading.
void zeroStates(torch::jit::Module& package, const PackageMeta& meta)
{
    for (const auto& st : meta.states)
        package.attr(stateBufferName(st.name)).toTensor().zero_();
}

// What state_preprocessor hands bucket k right after zeroStates: zeros of its shapes.
std::vector<c10::IValue> freshStates(const PackageMeta& meta, size_t bucket)
{
    std::vector<c10::IValue> out;
    for (const auto& st : meta.states)
        out.emplace_back(torch::zeros(st.shapes.at(bucket), torch::dtype(toScalarType(st.dtype))));
    return out;
}

c10::IValue runBucketModel(torch::jit::Module& package, const PackageMeta& meta,
                           const std::vector<torch::Tensor>& inputs, size_t bucket,
                           int64_t paddedLength, const std::vector<c10::IValue>& states)
{
    std::vector<c10::IValue> args;
    for (size_t i = 0; i < inputs.size(); ++i)
        args.emplace_back(meta.inputs[i].bucketed ? padTo(inputs[i], meta.bucketDim, paddedLength,
                                                          meta.inputs[i].padValue, meta.paddingSide)
                                                  : inputs[i]);
    args.insert(args.end(), states.begin(), states.end());
    auto model = package.attr("bucket_" + std::to_string(bucket)).toModule();
    return model.forward(args);
}

// Max abs difference of two outputs, or an error. `wantLength`/`haveLength` are the padded
// lengths each side ran at: where the shapes differ, only dimensions of exactly those sizes
// may differ, and then the `length` real positions are compared: the first ones with right
// padding, the last ones with left padding.
std::string compareOutputs(const c10::IValue& wantValue, const c10::IValue& haveValue,
                           int64_t length, int64_t wantLength, int64_t haveLength, double& diff,
                           PaddingSide side)
{
    const auto want = flattenTensors(wantValue);
    const auto have = flattenTensors(haveValue);
    diff = 0.0;
    if (want.size() != have.size())
        return "returned " + std::to_string(have.size()) + " tensors, the reference " +
               std::to_string(want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        auto w = want[i];
        auto h = have[i];
        if (w.sizes() != h.sizes()) {
            if (w.dim() != h.dim())
                return "output " + std::to_string(i) + " has rank " + std::to_string(h.dim()) +
                       ", the reference's " + std::to_string(w.dim());
            for (int64_t d = 0; d < w.dim(); ++d) {
                if (w.size(d) == h.size(d))
                    continue;
                if (w.size(d) != wantLength || h.size(d) != haveLength)
                    return "output " + std::to_string(i) + " has shape " + c10::str(h.sizes()) +
                           ", the reference's " + c10::str(w.sizes());
                const bool left = side == PaddingSide::Left;
                w = w.narrow(d, left ? w.size(d) - length : 0, length);
                h = h.narrow(d, left ? h.size(d) - length : 0, length);
            }
        }
        if (w.numel() == 0)
            continue;
        const double d = (w.to(torch::kFloat64) - h.to(torch::kFloat64)).abs().max().item<double>();
        if (std::isnan(d))
            return "output " + std::to_string(i) + " differs (NaN)";
        diff = std::max(diff, d);
    }
    return {};
}

constexpr double kPackageCallTimeoutSeconds = 60.0;

// "PATH: running length L, batch B": where a refused allocation happened.
std::string atLength(const std::string& path, int64_t length, int64_t batch)
{
    return path + ": running length " + std::to_string(length) + ", batch " + std::to_string(batch);
}

void reportProgress(const Job& job, size_t done, size_t total)
{
    job.checkCancelled();
    job.step(double(done), double(total),
             "checking length " + std::to_string(done) + " of " + std::to_string(total));
}

} // namespace

bool ComparisonRow::passed(double tolerance) const
{
    if (expectRejection)
        return bucket < 0 && !error.empty();
    return error.empty() && maxAbsDiff <= tolerance;
}

std::vector<EquivalenceRow> checkPackageAgainstBuckets(const std::string& path,
                                                       const EquivalenceOptions& options,
                                                       const Job& job)
{
    auto p = loadPackage(path);
    const auto& meta = p.meta;
    torch::NoGradGuard noGrad;
    const TensorBudgetScope budget;
    std::vector<EquivalenceRow> rows;
    const size_t total = options.batches.size() * options.lengths.size();
    for (int64_t batch : options.batches)
        for (int64_t length : options.lengths) {
            reportProgress(job, rows.size(), total);
            EquivalenceRow row;
            row.length = length;
            row.batch = batch;
            const auto inputs = inputsFor(meta, options, batch, length);
            c10::IValue got;
            try {
                zeroStates(p.module, meta);
                got = p.module.forward(std::vector<c10::IValue>(inputs.begin(), inputs.end()));
            } catch (const std::exception& e) {
                budget.throwIfRefused(atLength(path, length, batch));
                row.error = torchMessage(e);
                rows.push_back(row);
                continue;
            }
            row.bucket = bucketFor(meta.boundaries, length);
            if (row.bucket < 0) {
                row.error = "accepted a length above the largest bucket";
                rows.push_back(row);
                continue;
            }
            const int64_t padded = meta.boundaries[size_t(row.bucket)];
            const auto want = runBucketModel(p.module, meta, inputs, size_t(row.bucket), padded,
                                             freshStates(meta, size_t(row.bucket)));
            row.error =
                compareOutputs(want, got, length, padded, padded, row.maxAbsDiff, meta.paddingSide);
            rows.push_back(row);
        }
    reportProgress(job, rows.size(), total);
    return rows;
}

namespace {

// One row of comparePackages: the candidate's routing and output at (batch, length) against
// the reference's on the same inputs.
ComparisonRow compareAt(LoadedPackage& ref, LoadedPackage& cand, const std::string& referencePath,
                        const std::string& candidatePath, const EquivalenceOptions& options,
                        int64_t batch, int64_t length, const TensorBudgetScope& budget)
{
    ComparisonRow row;
    row.length = length;
    row.batch = batch;
    const int64_t expected = bucketFor(cand.meta.boundaries, length);
    row.expectRejection = expected < 0;
    row.referenceBucket = bucketFor(ref.meta.boundaries, length);
    row.referenceIsBucketModel = !row.expectRejection && row.referenceBucket < 0;
    // The reference's inputs define "the same input" for both packages.
    const auto inputs = inputsFor(ref.meta, options, batch, length);
    const std::vector<c10::IValue> args(inputs.begin(), inputs.end());
    c10::IValue got;
    try {
        zeroStates(cand.module, cand.meta);
        const auto routed = cand.module.run_method("bucket_kernel", c10::List<at::Tensor>(inputs));
        row.bucket = routed.toTupleRef().elements().at(1).toTensor().item<int64_t>();
        zeroStates(cand.module, cand.meta);
        got = cand.module.forward(args);
    } catch (const std::exception& e) {
        budget.throwIfRefused(atLength(candidatePath, length, batch));
        row.bucket = -1;
        row.error = torchMessage(e);
        return row;
    }
    if (row.expectRejection) {
        row.error = "accepted length " + std::to_string(length) + " above its largest bucket " +
                    std::to_string(cand.meta.maxLength());
        row.expectRejection = false; // an acceptance is a plain failure
        return row;
    }
    if (row.bucket != expected) {
        row.error = "routed length " + std::to_string(length) + " to bucket " +
                    std::to_string(row.bucket) + ", expected bucket " + std::to_string(expected) +
                    " (" + std::to_string(cand.meta.boundaries[size_t(expected)]) + ")";
        return row;
    }
    const int64_t candPadded = cand.meta.boundaries[size_t(expected)];
    c10::IValue want;
    int64_t refPadded = candPadded;
    try {
        if (row.referenceIsBucketModel) {
            want = runBucketModel(ref.module, ref.meta, inputs, ref.meta.boundaries.size() - 1,
                                  candPadded, freshStates(cand.meta, size_t(expected)));
        } else {
            refPadded = ref.meta.boundaries[size_t(row.referenceBucket)];
            zeroStates(ref.module, ref.meta);
            want = ref.module.forward(args);
        }
    } catch (const std::exception& e) {
        budget.throwIfRefused(atLength(referencePath, length, batch));
        row.error = "the reference raised: " + torchMessage(e);
        return row;
    }
    row.error = compareOutputs(want, got, length, refPadded, candPadded, row.maxAbsDiff,
                               cand.meta.paddingSide);
    return row;
}

} // namespace

std::vector<ComparisonRow> comparePackages(const std::string& referencePath,
                                           const std::string& candidatePath,
                                           const EquivalenceOptions& options, const Job& job)
{
    auto ref = loadPackage(referencePath);
    auto cand = loadPackage(candidatePath);
    if (ref.meta.inputs.size() != cand.meta.inputs.size())
        throw Error(candidatePath + ": takes " + std::to_string(cand.meta.inputs.size()) +
                    " inputs, " + referencePath + " " + std::to_string(ref.meta.inputs.size()));
    if (ref.meta.paddingSide != cand.meta.paddingSide)
        throw Error(candidatePath + ": pads on the " + paddingSideName(cand.meta.paddingSide) +
                    ", " + referencePath + " on the " + paddingSideName(ref.meta.paddingSide) +
                    ": their outputs are not comparable position by position");
    torch::NoGradGuard noGrad;
    const TensorBudgetScope budget;
    std::vector<ComparisonRow> rows;
    const size_t total = options.batches.size() * options.lengths.size();
    for (int64_t batch : options.batches)
        for (int64_t length : options.lengths) {
            reportProgress(job, rows.size(), total);
            rows.push_back(
                compareAt(ref, cand, referencePath, candidatePath, options, batch, length, budget));
        }
    reportProgress(job, rows.size(), total);
    return rows;
}

namespace {

// The input an error is about: the last input name in the innermost frame of a TorchScript
// traceback (the source line under the error's ~~~ marker), else in the whole message.
std::string inputNamedIn(const std::string& what, const std::vector<InputSpec>& inputs)
{
    std::string scope = what;
    if (const auto marker = what.rfind("~~~"); marker != std::string::npos) {
        const auto lineEnd = what.rfind('\n', marker);
        const auto lineStart =
            lineEnd == std::string::npos ? std::string::npos : what.rfind('\n', lineEnd - 1);
        if (lineEnd != std::string::npos)
            scope = what.substr(lineStart == std::string::npos ? 0 : lineStart + 1,
                                lineEnd - (lineStart == std::string::npos ? 0 : lineStart + 1));
    }
    for (const auto& in : inputs)
        if (std::regex_search(scope, std::regex("\\b" + in.name + "\\b")))
            return in.name;
    return {};
}

} // namespace

torch::jit::Module loadPackageBytes(const std::string& bytes)
{
    std::istringstream in(bytes);
    try {
        auto module = torch::jit::load(in);
        module.eval();
        return module;
    } catch (const std::exception& e) {
        throw Error("the package just assembled does not load back: " + torchMessage(e));
    }
}

std::vector<PackageRunRow> runLoadedPackage(torch::jit::Module& package, const PackageMeta& meta,
                                            const std::vector<int64_t>& batches, bool overLength,
                                            const Job& job)
{
    if (batches.empty())
        throw Error("no batch sizes to run the package with");
    std::vector<PackageRunRow> rows;
    for (int64_t batch : batches) {
        if (batch < 1)
            throw Error(subject(Field::BatchSizes) + ": batch size " + std::to_string(batch) +
                        " must be at least 1");
        int64_t previous = 0;
        for (int64_t boundary : meta.boundaries) {
            for (int64_t length : {previous + 1, boundary})
                if (rows.empty() || rows.back().length != length || rows.back().batch != batch)
                    rows.push_back({length, batch, boundary, false, {}, {}});
            previous = boundary;
        }
        if (overLength)
            rows.push_back({meta.boundaries.largest() + 1, batch, -1, true, {}, {}});
    }
    // Run under a deadline: a kernel that loops forever cannot be interrupted, so its worker
    // is left behind holding shared copies of what it uses, and the row says so.
    struct Work {
        torch::jit::Module package;
        PackageMeta meta;
        std::vector<PackageRunRow> rows;
    };
    auto work = std::make_shared<Work>(Work{package, meta, rows});
    const auto outcome = GuardedRunner::run(
        rows.size(),
        [work](size_t r) {
            auto& row = work->rows[r];
            zeroStates(work->package, work->meta);
            auto inputs = makeVariedInputs(work->meta.inputs, row.batch, row.length,
                                           work->meta.batchDim, work->meta.bucketDim);
            try {
                work->package.forward(std::vector<c10::IValue>(inputs.begin(), inputs.end()));
            } catch (const std::exception& e) {
                row.error = torchMessage(e);
                row.input = inputNamedIn(e.what(), work->meta.inputs);
                for (const auto& in : work->meta.inputs)
                    if (in.name == row.input)
                        row.inputBucketed = in.bucketed;
            }
        },
        kPackageCallTimeoutSeconds, [&](size_t done) { reportProgress(job, done, rows.size()); },
        job, 1, [&](size_t r) { return atLength("the package", rows[r].length, rows[r].batch); });
    for (size_t r = 0; r < rows.size(); ++r)
        if (outcome.done[r])
            rows[r] = work->rows[r];
    if (outcome.timedOut) {
        auto& row = rows[*outcome.timedOut];
        row.error = "did not return within " + std::to_string(int(kPackageCallTimeoutSeconds)) +
                    " s (a loop that never ends?)";
        row.abandoned = true;
        rows.resize(*outcome.timedOut + 1); // later rows never ran
        return rows;
    }
    zeroStates(package, meta);
    return rows;
}

std::vector<PackageRunRow> runPackageAtEveryBucket(const std::string& path,
                                                   const std::vector<int64_t>& batches,
                                                   bool overLength, const Job& job)
{
    auto p = loadPackage(path);
    return runLoadedPackage(p.module, p.meta, batches, overLength, job);
}

std::string firstRunFailure(const std::vector<PackageRunRow>& rows)
{
    for (const auto& row : rows) {
        if (row.passed())
            continue;
        std::ostringstream s;
        s << "at length " << row.length << " (batch " << row.batch;
        if (row.expectRejection) {
            s << ", past the largest bucket) forward() returned instead of raising: it must "
                 "refuse a length it has no bucket for";
            return s.str();
        }
        s << ", bucket " << row.bucket << ") forward() raised";
        if (!row.input.empty())
            s << " about input '" << row.input << "'";
        s << ": " << row.error;
        if (!row.input.empty() && row.inputBucketed)
            s << " (if '" << row.input
              << "' has no length dimension, declare it not bucketed: " << row.input << ":dtype:-)";
        else if (row.error.find("imension out of range") != std::string::npos)
            s << " (an input without a length dimension must be declared not bucketed: "
                 "name:dtype:-)";
        return s.str();
    }
    return {};
}

} // namespace bucketlab
