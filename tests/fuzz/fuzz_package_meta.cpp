// libFuzzer target: the package-metadata reader (core/spec/package_meta.h), the
// extra/bucketlab_meta.json every package carries, read by inspect, validate, export and the
// desktop without loading the package. The input is the JSON. For metadata it accepts: the
// metadata writes as JSON (valid UTF-8) that reads back as the same, and the kernel and
// forward() BucketLab generates from it pass its own source checks (kernel_source.h).
// Besides crashes, leaks and sanitizer reports: errors keep the message contract
// (fuzz_check.h).
#include "core/kernel/kernel_source.h"
#include "core/spec/package_meta.h"
#include "fuzz_check.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

using namespace bucketlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string json(reinterpret_cast<const char*>(data), size);
    PackageMeta meta;
    try {
        meta = metaFromJson(json, "fuzz.pt");
    } catch (const Error& e) {
        fuzz::checkError(e, "fuzz.pt");
        return 0;
    }
    const std::string written = metaJson(meta).dump(); // throws on text that is not UTF-8
    const PackageMeta back = metaFromJson(written, "written.pt");
    if (back.boundaries != meta.boundaries || !(back.inputs == meta.inputs) ||
        !(back.states == meta.states) || back.bucketDim != meta.bucketDim ||
        back.batchDim != meta.batchDim || back.kind != meta.kind ||
        back.constantArgs != meta.constantArgs || back.models.size() != meta.models.size())
        fuzz::broken("metadata reads back as written", written);
    try {
        const KernelLayout layout{meta.boundaries, meta.bucketDim, meta.inputs, meta.paddingSide};
        for (KernelForm form : {KernelForm::Method, KernelForm::Function}) {
            const std::string kernel = generateKernelSource(layout, form);
            (void)selectKernelFunctions(kernel, "generated.py", "bucket_kernel");
        }
        if (!meta.states.empty())
            (void)selectKernelFunctions(generateStatePreprocessorSource(KernelForm::Function),
                                        "generated.py", "state_preprocessor");
        checkSourceNesting(generateForwardSource(meta), "forward.py");
    } catch (const Error& e) {
        fuzz::checkError(e);
    }
    return 0;
}
