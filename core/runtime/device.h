// Where a model runs while it is profiled: LibTorch on this CPU (the default), CUDA when
// this LibTorch was built with it and sees a GPU, or AWS Neuron when the Neuron runtime's
// PyTorch library (libtorchneuron.so, which registers torch.classes.neuron) can be loaded
// into this process. Neuron models are recognised from their archive code without loading
// them, so a machine without the runtime says so clearly instead of failing in the loader.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace bucketlab {

enum class DeviceKind {
    Auto, // Neuron when the archive needs it, else CPU
    Cpu,
    Cuda,
    Neuron // inputs stay on the host; the Neuron runtime moves them to the NeuronCores
};

std::string deviceKindName(DeviceKind kind);
// "auto", "cpu", "cuda", "neuron"; throws Error listing them otherwise.
DeviceKind parseDeviceKind(const std::string& text);

// True when this LibTorch has CUDA and sees a GPU (false, never an exception, for the
// CPU-only LibTorch of Debian).
bool cudaAvailable();
// Throws Error with what to do when CUDA cannot be used here.
void requireCuda();

// The message for a Neuron model on a machine without the runtime.
std::string neuronMissingMessage();

// True when a TorchScript archive's code uses Neuron classes or operators
// (torch.classes.neuron.*, ops.neuron.*). Reads only the code records; loads nothing.
bool archiveNeedsNeuron(const std::string& path);

struct NeuronRuntimeStatus {
    bool loaded = false;
    std::string library;               // the library loaded, or tried last
    std::string problem;               // why it could not be loaded (empty when loaded)
    std::vector<std::string> searched; // where it was looked for, in order
};

// Where libtorchneuron.so is looked for, in order: $BUCKETLAB_NEURON_LIB (a file or a
// directory; when set, nothing else is tried), each entry of $NEURON_LIBRARY_PATH
// (colon-separated files or directories), the torch_neuronx (and torch_neuron) packages in
// the usual Python environments (Neuron DLAMI venvs under /opt, $VIRTUAL_ENV,
// ~/.local, /usr/local, /usr), /opt/aws/neuron/lib, then the dynamic loader's own path.
std::vector<std::string> neuronLibraryCandidates();

// Loads the Neuron runtime's PyTorch library into this process (dlopen, global symbols,
// so its torch.classes.neuron registrations reach torch::jit::load). A successful load is
// kept for the life of the process; a failed one is retried on the next call.
NeuronRuntimeStatus loadNeuronRuntime();

// Throws Error naming `modelPath` when the Neuron runtime cannot be loaded: the
// neuronMissingMessage() when no library was found, the loader's reason when one was
// found but would not load.
void requireNeuronRuntime(const std::string& modelPath);

// What a profile records about this machine: cpu_model, cpu_count, libtorch, cxx11_abi,
// blas, host, os, load_average (1-minute, at the time of the call).
std::map<std::string, std::string> describeEnvironment();

} // namespace bucketlab
