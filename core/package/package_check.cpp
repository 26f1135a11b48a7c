#include "core/package/package_check.h"

#include "core/kernel/kernel_source.h"
#include "core/package/package.h"
#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"

#include <algorithm>

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
        args.emplace_back(padTo(inputs[i], meta.bucketDim, paddedLength, meta.inputs[i].padValue));
    args.insert(args.end(), states.begin(), states.end());
    auto model = package.attr("bucket_" + std::to_string(bucket)).toModule();
    return model.forward(args);
}

// Max abs difference of two outputs, or an error. `wantLength`/`haveLength` are the padded
// lengths each side ran at: where the shapes differ, only dimensions of exactly those sizes
// may differ, and then the first `length` entries (the real positions) are compared.
std::string compareOutputs(const c10::IValue& wantValue, const c10::IValue& haveValue,
                           int64_t length, int64_t wantLength, int64_t haveLength, double& diff)
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
                w = w.narrow(d, 0, length);
                h = h.narrow(d, 0, length);
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
            row.error = compareOutputs(want, got, length, padded, padded, row.maxAbsDiff);
            rows.push_back(row);
        }
    reportProgress(job, rows.size(), total);
    return rows;
}

std::vector<ComparisonRow> comparePackages(const std::string& referencePath,
                                           const std::string& candidatePath,
                                           const EquivalenceOptions& options, const Job& job)
{
    auto ref = loadPackage(referencePath);
    auto cand = loadPackage(candidatePath);
    if (ref.meta.inputs.size() != cand.meta.inputs.size())
        throw Error(candidatePath + ": takes " + std::to_string(cand.meta.inputs.size()) +
                    " inputs, " + referencePath + " " + std::to_string(ref.meta.inputs.size()));
    torch::NoGradGuard noGrad;
    std::vector<ComparisonRow> rows;
    const size_t total = options.batches.size() * options.lengths.size();
    for (int64_t batch : options.batches)
        for (int64_t length : options.lengths) {
            reportProgress(job, rows.size(), total);
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
                const auto routed =
                    cand.module.run_method("bucket_kernel", c10::List<at::Tensor>(inputs));
                row.bucket = routed.toTupleRef().elements().at(1).toTensor().item<int64_t>();
                zeroStates(cand.module, cand.meta);
                got = cand.module.forward(args);
            } catch (const std::exception& e) {
                row.bucket = -1;
                row.error = torchMessage(e);
                rows.push_back(row);
                continue;
            }
            if (row.expectRejection) {
                row.error = "accepted length " + std::to_string(length) +
                            " above its largest bucket " + std::to_string(cand.meta.maxLength());
                row.expectRejection = false; // an acceptance is a plain failure
                rows.push_back(row);
                continue;
            }
            if (row.bucket != expected) {
                row.error = "routed length " + std::to_string(length) + " to bucket " +
                            std::to_string(row.bucket) + ", expected bucket " +
                            std::to_string(expected) + " (" +
                            std::to_string(cand.meta.boundaries[size_t(expected)]) + ")";
                rows.push_back(row);
                continue;
            }
            const int64_t candPadded = cand.meta.boundaries[size_t(expected)];
            c10::IValue want;
            int64_t refPadded = candPadded;
            try {
                if (row.referenceIsBucketModel) {
                    want =
                        runBucketModel(ref.module, ref.meta, inputs, ref.meta.boundaries.size() - 1,
                                       candPadded, freshStates(cand.meta, size_t(expected)));
                } else {
                    refPadded = ref.meta.boundaries[size_t(row.referenceBucket)];
                    zeroStates(ref.module, ref.meta);
                    want = ref.module.forward(args);
                }
            } catch (const std::exception& e) {
                row.error = "the reference raised: " + torchMessage(e);
                rows.push_back(row);
                continue;
            }
            row.error = compareOutputs(want, got, length, refPadded, candPadded, row.maxAbsDiff);
            rows.push_back(row);
        }
    reportProgress(job, rows.size(), total);
    return rows;
}

} // namespace bucketlab
