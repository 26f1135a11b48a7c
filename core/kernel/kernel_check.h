// Proves a bucket kernel by running it: every length 1..max-length (past the largest bucket
// too), several batch sizes, 1..n inputs and mixed dtypes. Boundaries are inferred from what
// the kernel does; each defect class is reported once with its first and last failing length
// and the first failing call (inputs and the kernel's output) as an example. Other input
// counts and mixed dtypes are swept over every served length and sampled past them. A state
// preprocessor is checked against its shapes_collection contract instead. Kernels that take
// constant arguments after their inputs (NxD's) are called with them, and NxD's
// context-encoding contract (inputs padded to the largest bucket, sliced down) is checked
// as well as the guide's (inputs at their length, padded up).
//
// Calls run on worker threads under a per-call deadline: TorchScript cannot be interrupted,
// so a call that never returns is abandoned on its thread (see KernelCheckResult).
#pragma once

#include "core/kernel/kernel.h"
#include "core/kernel/kernel_source.h"
#include "core/spec/input_spec.h"
#include "core/spec/state_spec.h"
#include "core/util/job.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bucketlab {

enum class DefectKind {
    FallThrough,       // returns past the largest bucket instead of rejecting the length
    WrongOutputLength, // not padded to the nearest bucket (or outputs of different lengths)
    IndexNotMonotone,  // bucket index does not follow the buckets in order
    IndexNotInt64,     // bucket index is not a one-element int64 (or int32) tensor
    ValuesChanged,     // input values lost or changed (or other dimensions changed)
    TokensDropped,     // slice contract: sliced to a bucket shorter than the real tokens
    WrongPadding,      // padding is not the pad value
    DtypeChanged,      // an output's dtype differs from its input's
    InputsDropped,     // fewer outputs than inputs
    ExtraOutputs,      // more outputs than inputs
    Exception,         // raised within the served lengths (or returned the wrong type)
    Timeout,           // a call did not return within the per-call timeout
    BoundariesDiffer,  // inferred boundaries differ from the package's declared ones
    StateShape         // state preprocessor: output shapes or values break the contract
};

std::string defectKindName(DefectKind kind); // "fall_through", "wrong_output_length", ...

struct TensorSummary {
    std::vector<int64_t> shape;
    std::string dtype;
    std::string text; // "int64[2, 130] row 0: 1 8 15 ... 0 0"
};

// One kernel call, kept to show a defect: what went in and what came out.
struct KernelCall {
    int64_t length = 0;
    int64_t batch = 1;
    std::vector<TensorSummary> inputs;
    std::vector<TensorSummary> outputs;
    std::string index; // the returned bucket index as text
    std::string error; // the exception, when it raised
};

struct KernelDefect {
    DefectKind kind = DefectKind::Exception;
    int64_t firstLength = 0;
    int64_t lastLength = 0;
    int64_t calls = 0; // failing calls over every configuration
    std::string message;
    KernelCall example;
};

// How inputs reach the kernel. Pad: the guide's, inputs arrive at their length and are padded
// up to the nearest bucket. Slice: NxD's context encoding, inputs arrive padded to the
// largest bucket with L real tokens (the rest the pad value; with left padding the real
// tokens come last) and are sliced to the smallest bucket >= L, keeping each real token.
enum class KernelContract { Pad, Slice };
std::string kernelContractName(KernelContract contract); // "pad", "slice"

struct KernelCheckOptions {
    int64_t maxLength = 0; // 0: defaultCheckLength(declaredBoundaries)
    std::vector<int64_t> batchSizes{1, 2, 5};
    // The inputs the kernel pads. Empty: the guide's three int64 BERT inputs, with any
    // constant padding accepted; given (or from a package): pad values are checked exactly.
    std::vector<InputSpec> inputs;
    int64_t bucketDim = 1;
    int64_t batchDim = 0;
    Boundaries declaredBoundaries; // a package's, compared with the inferred
    // Where the kernel must put the padding: after the real tokens (right) or before them
    // (left, the real tokens end each padded input).
    PaddingSide paddingSide = PaddingSide::Right;
    KernelContract contract = KernelContract::Pad;
    // TorchScript expressions passed after the inputs, as NxD calls kernels:
    // bucket_kernel(inputs, *constant_args) (constant_args.h). A 1-D integer tensor among them
    // is taken as the kernel's buckets when no boundaries are declared.
    std::string constantArgs;
    double callTimeoutSeconds = 5.0;
    int threads = 0; // worker threads calling the kernel, at most kMaxCheckThreads; 0: one
    // State preprocessors: the buckets whose shapes_collection is built (default: the
    // declared boundaries, else 128,512 as in the guide).
    Boundaries stateBoundaries;
    // State preprocessors: the states as declared (a package's, or given), one shape per
    // state boundary, any rank. Given, the check runs at exactly these shapes and dtypes
    // (batch sizes are in the shapes) instead of its two test layouts at each batch size.
    std::vector<StateSpec> states;
};

struct KernelCheckResult {
    bool ok = true;
    std::string kernel; // name
    KernelRole role = KernelRole::BucketKernel;
    std::vector<int64_t> boundaries; // inferred
    std::string indexDtype;          // of the returned bucket index: "int64", "int32", ""
    KernelContract contract = KernelContract::Pad;
    std::vector<KernelDefect> defects; // one per kind
    std::vector<std::string> notes;    // what is not a defect: rejections, accepted counts
    int64_t calls = 0;
    double seconds = 0.0;
    // True when a call never returned: its thread is still running TorchScript and holds the
    // kernel. A process that ends now must leave with std::quick_exit (no static destructors
    // while that thread runs).
    bool workerAbandoned = false;
};

inline constexpr int kMaxCheckThreads = 64;

// What a check plans to allocate (core/spec/memory_budget.h), in bytes. A bucket kernel's
// check: its inputs at the longest checked length for every batch size (and the int64
// pattern they are made from), the outputs of the calls in flight, and kCheckBytesPerCall
// of records for every call (every length at every batch size, and at the first batch size
// for each extra input count and the mixed dtypes); undeclared inputs count as the six int64
// inputs the check may probe. A state preprocessor's: its two test layouts at the largest
// bucket for every batch size, 48 bytes per (batch row, position), and the calls in flight;
// with declared states, their buffers, the int64 pattern of the largest, and two copies of
// the buffers per call in flight.
uint64_t kernelCheckBytes(const KernelCheckOptions& options, KernelRole role);
inline constexpr uint64_t kCheckBytesPerCall = 512;

// Throws Error when kernelCheckBytes exceeds the memory budget, naming the check length and
// the batch sizes (the state boundaries for a state preprocessor). checkKernel() calls it
// before allocating anything; export calls it before its verification.
void checkKernelCheckMemory(const KernelCheckOptions& options, KernelRole role);

// The lengths a check covers by default: twice the largest declared bucket and at least
// 1024 (so a kernel that accepts too much shows it), or 2048 when none is declared.
int64_t defaultCheckLength(const Boundaries& declaredBoundaries);

// Throws Error when the kernel has neither bucket kernel nor state preprocessor signature,
// Cancelled when the job is cancelled. Progress counts calls (the total grows when an extra
// configuration needs a full sweep).
KernelCheckResult checkKernel(const Kernel& kernel, const KernelCheckOptions& options,
                              const Job& job = {});

// A kernel file or an archive. For a BucketLab package the inputs, dimensions and declared
// boundaries come from its metadata unless `options` sets them.
KernelCheckResult checkKernelFile(const std::string& path, const std::string& function,
                                  KernelCheckOptions options, const Job& job = {});

// The kernel BucketLab generates for `layout` (the one a package or a Neuron recipe gets),
// checked with the layout's inputs, bucket dimension and boundaries as declared ones.
KernelCheckResult checkGeneratedKernel(const KernelLayout& layout, KernelCheckOptions options,
                                       const Job& job = {});

// {"ok", "kernel", "contract", "index_dtype", "boundaries", "defects": [{"kind", "first_length",
// "last_length", "calls",
//  "message", "example"}], "notes", "calls", "seconds"}
nlohmann::json kernelCheckJson(const KernelCheckResult& result);

} // namespace bucketlab
