// Shared state buffers (e.g. a KV cache) as the autobucketing guide defines them: one
// buffer per state, kept at the largest shape, and a state preprocessor that hands each
// bucket its own view (the trailing `shape[d]` entries of every dimension d).
// Text form (CLI --state): NAME:DTYPE:SHAPE/SHAPE/..., one shape per bucket, dims joined
// by x, e.g. kv:float32:1x4x16/1x4x64; or NAME:DTYPE:SHAPE with the bucketed dimension(s)
// written L, e.g. kv:float32:2x8xLx64, which stands for the bucket's length in every bucket.
// With the buckets known, one shape without L is that shape in every bucket (steps:int64:1).
// States may have any rank.
#pragma once

#include "core/spec/boundaries.h"
#include "core/spec/input_spec.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bucketlab {

struct StateSpec {
    std::string name;
    DType dtype = DType::Float32;
    std::vector<std::vector<int64_t>> shapes; // shapes[bucket] = expected shape for that bucket

    bool operator==(const StateSpec& other) const
    {
        return name == other.name && dtype == other.dtype && shapes == other.shapes;
    }
};

// Parses one --state value. A shape with L needs `boundaries` (the buckets it expands to);
// without them such a shape is an error saying so. With them, a single shape without L is
// repeated for every bucket. Throws Error naming the bad part.
StateSpec parseStateSpec(std::string_view text, const Boundaries* boundaries = nullptr);
inline StateSpec parseStateSpec(std::string_view text, const Boundaries& boundaries)
{
    return parseStateSpec(text, &boundaries);
}
std::string formatStateSpec(const StateSpec& state);
std::string formatShape(const std::vector<int64_t>& shape); // "1x4x16"

// Checks states against the package's buckets: names are identifiers, unique and not an
// input's name; one shape per bucket; positive dims; the same rank in every bucket; and
// shapes that never shrink from one bucket to the next, so the largest bucket's shape is the
// buffer shape (the guide's "tensors of the largest shape") and every bucket's view fits
// inside it. Throws Error saying which state and bucket is wrong and what to do.
void checkStateSpecs(const std::vector<StateSpec>& states, const Boundaries& boundaries,
                     const std::vector<InputSpec>& inputs = {});

// The shape of the shared buffer: the last (largest) bucket's shape.
std::vector<int64_t> stateBufferShape(const StateSpec& state);

} // namespace bucketlab
