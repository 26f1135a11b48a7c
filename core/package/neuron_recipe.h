// The Neuron build recipe: what a Neuron host needs to compile a package's buckets with
// torch_neuronx autobucketing (BucketModelConfig + bucket_model_trace), written as plain
// files next to each other:
//   bucket_config.json  boundaries, bucket/batch dims, inputs (dtype, pad), state shapes
//   bucket_kernel.py    the generated kernel as torch.jit.script-able Python, with
//                       get_bucket_kernel() and, with states, get_state_preprocessor()
//   neuron_build.py     calls torch_neuronx.bucket_model_trace, one compiled bucket per length
//                       and batch size, routed by a kernel that wraps bucket_kernel; states
//                       are buffers of each bucket module, aliased to its outputs (NxD's
//                       layout); load_model() is where the user's model factory plugs in
//   README.md           how to run it
// Torch-free: it is text generated from the package metadata.
#pragma once

#include "core/spec/package_meta.h"

#include <string>
#include <vector>

namespace bucketlab {

struct NeuronRecipeFile {
    std::string name; // file name inside the recipe directory
    std::string content;
};

struct NeuronRecipeSource {
    PackageMeta meta;          // the boundaries, inputs and states to build (the new ones)
    std::string sourcePackage; // file name of the package the recipe comes from
    std::string sourceSha256;
    // For per-bucket packages: boundaries that have no model file yet (need a re-trace).
    std::vector<int64_t> missingModels;
    int64_t exampleBatch = 1; // batch size of the example inputs traced per bucket
    // A kernel of the user's (a package built with one): its source as given, its file name
    // and the function's name. bucket_kernel.py then carries it instead of a generated kernel,
    // and neuron_build.py passes meta.constantArgs as bucket_kernel_constant_args.
    std::string userKernelSource;
    std::string userKernelFile;
    std::string userKernelFunction;
};

inline constexpr const char* kNeuronRecipeFormat = "bucketlab.neuron_recipe/1";

std::vector<NeuronRecipeFile> generateNeuronRecipe(const NeuronRecipeSource& source);

// The file names a recipe writes, for checks before any work.
std::vector<std::string> neuronRecipeFileNames();

// Fails early when `dir` cannot take the recipe: a file rather than a directory, a missing
// parent, recipe files already there without force, or not writable.
void checkNeuronRecipeDir(const std::string& dir, bool force);

// Creates `dir` if needed (not its parents) and writes every file atomically. Returns the
// paths written.
std::vector<std::string> writeNeuronRecipe(const std::vector<NeuronRecipeFile>& files,
                                           const std::string& dir, bool force);

} // namespace bucketlab
