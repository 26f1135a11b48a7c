// Captures lowered TorchScript graphs as the plain GraphModel of graph.h: a kernel's graph
// (with the functions it calls inlined, so lints and readers see everything), or a method
// of a model or package (inlined; thousands of nodes for a whole model).
#pragma once

#include "core/graph/graph.h"
#include "core/kernel/kernel.h"

#include <string>

namespace bucketlab {

GraphModel kernelGraph(const Kernel& kernel);

// The graph of `method` in `path`: an archive (default method: forward when the archive
// loads here, else its bucket kernel extracted from the code) or kernel source (.py or
// TorchScript; `method` picks the function). Compiles, runs nothing. Throws Error.
GraphModel fileGraph(const std::string& path, const std::string& method);

} // namespace bucketlab
