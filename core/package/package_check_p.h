// PRIVATE to core/ (LibTorch types): proving a package runs on a module already loaded,
// e.g. from the bytes `build` is about to write.
#pragma once

#include "core/package/package_check.h"
#include "core/spec/package_meta.h"

#include <torch/script.h>

namespace bucketlab {

std::vector<PackageRunRow> runLoadedPackage(torch::jit::Module& package, const PackageMeta& meta,
                                            const std::vector<int64_t>& batches, bool overLength,
                                            const Job& job = {});

// Loads serialised package bytes (as serializePackage writes them) into a module.
torch::jit::Module loadPackageBytes(const std::string& bytes);

} // namespace bucketlab
