// PRIVATE to core/: the one place LibTorch's loading and saving quirks are handled.
// Never include this from a public core header, ui/ or app/ (LibTorch's `slots` member
// clashes with Qt's keyword macro).
#pragma once

#include "core/spec/input_spec.h"

#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/script.h>

#include <map>
#include <string>

namespace bucketlab {

torch::ScalarType toScalarType(DType dtype);
DType fromScalarType(torch::ScalarType type, const std::string& where);

// torch::jit::load with errors a user can act on (archiveProblem in core/archive/archive.h:
// missing, not a zip, a zip that is not TorchScript, truncated, classes that cannot be loaded
// here). Throws bucketlab::Error.
torch::jit::Module loadScriptModule(const std::string& path);

// The resolver for TorchScript source compiled in C++: LibTorch's native resolver knows
// only `torch.*`; this one adds the exception classes kernels raise (Exception,
// ValueError, RuntimeError, AssertionError, IndexError) as Python's resolver would.
std::shared_ptr<torch::jit::Resolver> scriptResolver();

// `ops` of serialized TorchScript code (ops.prim.min, ops.aten.slice): namespaces of builtins.
std::shared_ptr<torch::jit::SugaredValue> opsNamespace();

// Serialises a module to bytes, with extra records under extra/.
std::string saveModuleToBytes(const torch::jit::Module& module,
                              const std::map<std::string, std::string>& extraFiles = {});

// Inputs BucketLab makes itself: one tensor per spec, shaped [batch, length] in the given
// dimension order (an input that is not bucketed: [batch]), filled with the spec's fill value.
std::vector<torch::Tensor> makeInputs(const std::vector<InputSpec>& specs, int64_t batch,
                                      int64_t length, int64_t batchDim, int64_t bucketDim);

// Inputs whose values vary with position and batch row, so a check notices inputs moved,
// dropped or mixed up, yet stay valid where the spec says what is valid: integer inputs take
// values in [1, fill] (ids stay in the vocabulary; masks with fill 1 stay 1), floating-point
// inputs values in [fill/2, fill], bool inputs and inputs that are not bucketed the fill value.
// Deterministic: value = f((7919 * position + 104729 * row + 31 * input) mod 65536), the same in
// every run.
std::vector<torch::Tensor> makeVariedInputs(const std::vector<InputSpec>& specs, int64_t batch,
                                            int64_t length, int64_t batchDim, int64_t bucketDim);

// Pads `t` along `dim` to `length` with `value`, as a generated kernel does: after the real
// entries, or before them for left padding.
torch::Tensor padTo(const torch::Tensor& t, int64_t dim, int64_t length, double value,
                    PaddingSide side = PaddingSide::Right);

// Every tensor in an IValue (tensor, tuple, list, dict values), in order.
std::vector<torch::Tensor> flattenTensors(const c10::IValue& value);

// Sets the intra-op thread count for LibTorch and for the BLAS it calls. Debian's LibTorch
// uses the system libblas, which with OpenBLAS keeps its own thread pool that
// at::set_num_threads does not reach. Returns the count in effect.
int setComputeThreads(int threads);

// The text of a c10::Error without LibTorch's C++ backtrace, collapsed to its first line.
std::string torchMessage(const std::exception& e);

} // namespace bucketlab
