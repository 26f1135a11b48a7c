#include "app/cli/torch_module.h"

#include "core/util/error.h"

#include <dlfcn.h>
#include <filesystem>
#include <iostream>
#include <system_error>

namespace bucketlab::cli {

std::string torchModulePath()
{
    std::error_code error;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
    const std::filesystem::path bin = error ? std::filesystem::path(".") : exe.parent_path();
    return (bin.parent_path() / "lib" / "bucketlab" / "bucketlab-cli-torch.so").string();
}

int runInTorchModule(const std::string& command, int argc, char** argv)
{
    const std::string path = torchModulePath();
    const auto fail = [&](const std::string& why) {
        std::cerr << "bucketlab-cli " << command << ": error: " << path << ": " << why
                  << " (this command runs TorchScript, which BucketLab's LibTorch module "
                     "provides: build the target bucketlab-cli-torch, or reinstall BucketLab)\n";
        return 2;
    };
    if (!std::filesystem::exists(path))
        return fail("missing");
    // Kept open to the end of the process: LibTorch's threads and static objects outlive main.
    void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!module) {
        const char* why = dlerror();
        return fail("cannot be loaded: " + firstLine(why ? why : "unknown error"));
    }
    using Entry = int (*)(int, char**);
    auto entry = reinterpret_cast<Entry>(dlsym(module, kTorchModuleEntry));
    if (!entry)
        return fail(std::string("has no entry point ") + kTorchModuleEntry);
    return entry(argc, argv);
}

} // namespace bucketlab::cli
