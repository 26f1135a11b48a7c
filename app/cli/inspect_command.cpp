#include "app/cli/command.h"
#include "app/cli/common_options.h"
#include "core/archive/model_info.h"

#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace bucketlab::cli {

namespace {

std::string humanBytes(int64_t bytes)
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(1);
    if (bytes >= (int64_t(1) << 20))
        s << double(bytes) / double(1 << 20) << " MiB";
    else if (bytes >= 1024)
        s << double(bytes) / 1024.0 << " KiB";
    else
        s << bytes << " B";
    return s.str();
}

void printText(const ModelInfo& info)
{
    std::cout << info.path << ": " << humanBytes(info.fileBytes) << ", "
              << (info.package ? "BucketLab package" : "TorchScript model") << "\n";
    if (const auto& m = info.package) {
        std::cout << "  format      " << m->format << " (" << packageKindName(m->kind) << ")\n";
        std::cout << "  buckets     " << m->boundaries.str() << " on dimension " << m->bucketDim
                  << " (batch dimension " << m->batchDim << "), padded on the "
                  << paddingSideName(m->paddingSide) << "\n";
        std::cout << "  inputs      " << formatInputSpecs(m->inputs) << "\n";
        for (const auto& ref : m->models)
            std::cout << "  model       " << ref.file
                      << (m->kind == PackageKind::PerBucket
                              ? " (bucket " + std::to_string(ref.bucket) + ")"
                              : std::string())
                      << " sha256 " << ref.sha256.substr(0, 16) << "...\n";
        std::cout << "  kernel      " << (m->userKernel ? "user-supplied" : "generated") << "\n";
        if (!m->constantArgs.empty())
            std::cout << "  constants   " << m->constantArgs
                      << " (passed to the kernel after the inputs)\n";
        std::cout << "  created     " << m->createdAt << " by " << m->createdBy << "\n";
    }
    std::cout << "  methods\n";
    for (const auto& m : info.methods)
        std::cout << "    " << m.schema << "\n";
    std::cout << "  tensors     " << info.tensors.size() << " distinct, " << info.parameterCount
              << " parameters, " << humanBytes(info.tensorBytes) << "\n";
    if (!info.submodules.empty())
        std::cout << "  submodules  " << info.submodules.size() << "\n";
    for (const auto& c : info.customClasses)
        std::cout << "  class       " << c << " (custom class: runs only where its runtime "
                  << "is installed)\n";
    for (const auto& k : info.kernels)
        std::cout << "  " << (k.role == "bucket_kernel" ? "kernel      " : "preprocessor")
                  << (k.role == "bucket_kernel" ? "" : " ") << k.name << " (" << k.file << ":"
                  << k.line << ")\n";
}

} // namespace

Command addInspectCommand(CLI::App& app)
{
    struct Options {
        std::string file;
        bool json = false;
    };
    auto o = std::make_shared<Options>();
    auto* sub = app.add_subcommand("inspect", commandSummary("inspect"));
    sub->add_option("file", o->file, "TorchScript model or BucketLab package")->required();
    addJsonFlag(sub, o->json);
    return {sub, [o] {
                const auto info = inspectModel(o->file);
                if (o->json)
                    printJson(modelInfoJson(info));
                else
                    printText(info);
                return 0;
            }};
}

} // namespace bucketlab::cli
