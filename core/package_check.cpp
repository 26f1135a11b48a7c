#include "core/package_check.h"

#include "core/error.h"
#include "core/package.h"
#include "core/torch_io.h"

#include <algorithm>

namespace bucketlab {

std::vector<EquivalenceRow> checkPackageAgainstBuckets(const std::string& path,
                                                       const EquivalenceOptions& options)
{
    const auto meta = readPackageMeta(path);
    if (!meta)
        throw Error(path + ": not a BucketLab package (no bucketlab_meta)");
    auto package = loadScriptModule(path);
    package.eval();
    torch::NoGradGuard noGrad;
    std::vector<EquivalenceRow> rows;
    for (int64_t batch : options.batches)
        for (int64_t length : options.lengths) {
            if (options.cancelled && options.cancelled())
                throw Cancelled();
            EquivalenceRow row;
            row.length = length;
            row.batch = batch;
            const auto inputs =
                makeInputs(meta->inputs, batch, length, meta->batchDim, meta->bucketDim);
            c10::IValue got;
            try {
                got = package.forward(std::vector<c10::IValue>(inputs.begin(), inputs.end()));
            } catch (const std::exception& e) {
                row.error = torchMessage(e);
                rows.push_back(row);
                continue;
            }
            const auto& b = meta->boundaries;
            const auto it = std::lower_bound(b.begin(), b.end(), length);
            if (it == b.end()) {
                row.error = "accepted a length above the largest bucket";
                rows.push_back(row);
                continue;
            }
            row.bucket = int64_t(it - b.begin());
            std::vector<c10::IValue> padded;
            for (size_t i = 0; i < inputs.size(); ++i)
                padded.push_back(padTo(inputs[i], meta->bucketDim, *it, meta->inputs[i].padValue));
            auto bucket = package.attr("bucket_" + std::to_string(row.bucket)).toModule();
            const auto want = flattenTensors(bucket.forward(padded));
            const auto have = flattenTensors(got);
            if (want.size() != have.size()) {
                row.error = "returned " + std::to_string(have.size()) +
                            " tensors, the bucket model " + std::to_string(want.size());
            } else {
                for (size_t i = 0; i < want.size(); ++i) {
                    if (want[i].sizes() != have[i].sizes()) {
                        row.error = "output shapes differ from the bucket model's";
                        break;
                    }
                    const double d = (want[i].to(torch::kFloat64) - have[i].to(torch::kFloat64))
                                         .abs()
                                         .max()
                                         .item<double>();
                    row.maxAbsDiff = std::max(row.maxAbsDiff, d);
                }
            }
            rows.push_back(row);
        }
    return rows;
}

} // namespace bucketlab
