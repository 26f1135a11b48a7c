// The model inputs a package pads: name, element type, padding value, and the value
// BucketLab fills inputs with when it makes them itself (profiling, validation).
// Text form (CLI --inputs): comma-separated name:dtype[:pad[:fill]]; a pad of `-` marks an
// input that is not bucketed (name:dtype:-[:fill]), e.g. NxD's `seq_ids` of shape [batch].
#pragma once

#include "core/spec/dtype.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bucketlab {

// Where padding goes along the bucket dimension: after the real tokens (the guide's kernels,
// encoders) or before them (decoder prompts, Hugging Face's padding_side="left").
enum class PaddingSide { Right, Left };

std::string paddingSideName(PaddingSide side); // "right", "left"
// Accepts "right" and "left"; throws Error otherwise.
PaddingSide parsePaddingSide(std::string_view text);

struct InputSpec {
    std::string name;
    DType dtype = DType::Int64;
    double padValue = 0.0;
    double fillValue = 1.0;
    // False for an input that has no length dimension (per-sequence ids, sampling
    // parameters): the kernel passes it through unpadded, the package's models get it as
    // given, and BucketLab makes it as a [batch] tensor of its fill value.
    bool bucketed = true;

    bool operator==(const InputSpec& other) const
    {
        return name == other.name && dtype == other.dtype && padValue == other.padValue &&
               fillValue == other.fillValue && bucketed == other.bucketed;
    }
};

// Parses "input_ids:int64:0,attention_mask:int64:0,seq_ids:int64:-". Names must be Python
// identifiers (they become forward() argument names) and unique, and at least one input is
// bucketed. Throws Error naming the bad item.
std::vector<InputSpec> parseInputSpecs(std::string_view text);
std::string formatInputSpecs(const std::vector<InputSpec>& inputs);

// Checks a list built in code: non-empty, identifiers, unique, values representable, at
// least one input bucketed.
void checkInputSpecs(const std::vector<InputSpec>& inputs);

// The rank of every bucketed input BucketLab makes, pads and hands to a model: a batch
// dimension and a length (bucket) dimension, in either order. An input that is not bucketed
// is [batch].
inline constexpr int64_t kBucketedInputRank = 2;

// The dimension a kernel pads must exist in every bucketed input: Error naming the first
// bucketed input and its rank for a bucket dimension outside 0..kBucketedInputRank-1.
void checkBucketDim(const std::vector<InputSpec>& inputs, int64_t bucketDim);
// The same, and the batch dimension too, which must differ from the bucket dimension.
void checkInputDims(const std::vector<InputSpec>& inputs, int64_t bucketDim, int64_t batchDim);

// Index of the first bucketed input (the one whose length picks the bucket).
size_t firstBucketedInput(const std::vector<InputSpec>& inputs);

// True for a name that can be a TorchScript argument or attribute: a Python identifier that
// is neither a keyword nor a name the generated code uses itself.
bool isScriptIdentifier(const std::string& name);

// Formats a pad/fill value as a TorchScript/Python literal of the right kind for dtype.
std::string scalarLiteral(DType dtype, double value);

} // namespace bucketlab
