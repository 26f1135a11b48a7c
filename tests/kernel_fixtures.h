// Bucket kernels for the kernel tests: the guide's seed files, BucketLab's generated kernels
// and deliberately broken variants made from them, written to real .py files.
#pragma once

#include "core/kernel/kernel_source.h"
#include "testutil.h"

#include <QString>

#include <string>

namespace bucketlab::test {

inline KernelLayout layout(std::vector<int64_t> boundaries, int inputs = 2)
{
    KernelLayout l;
    l.boundaries = Boundaries::from(std::move(boundaries), Field::Boundaries);
    l.bucketDim = 1;
    for (int i = 0; i < inputs; ++i)
        l.inputs.push_back({"input" + std::to_string(i), DType::Int64, 0.0, 1.0});
    return l;
}

// A generated kernel as a .py file users would get: imports and the scripted function.
inline std::string generatedKernelPy(const KernelLayout& l)
{
    return "import torch\nfrom typing import List, Tuple\n\n" +
           generateKernelSource(l, KernelForm::Function) +
           "\n\ndef get_bucket_kernel(*_):\n    return torch.jit.script(bucket_kernel)\n";
}

inline std::string replaced(std::string text, const std::string& from, const std::string& to)
{
    const auto pos = text.find(from);
    if (pos == std::string::npos)
        throw std::runtime_error("fixture: '" + from + "' not in the kernel source");
    return text.replace(pos, from.size(), to);
}

inline std::string writeText(const QTemporaryDir& dir, const QString& name, const std::string& text)
{
    const QString path = dir.filePath(name);
    writeAll(path, QByteArray::fromStdString(text));
    return path.toStdString();
}

} // namespace bucketlab::test
