// Deterministic weights for the embedded demo models: a tiny, fully specified generator, so
// the weights do not depend on LibTorch's RNG implementation or version.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <vector>

namespace bucketlab::demo_detail {

// splitmix64.
struct SplitMix64 {
    uint64_t state;
    uint64_t next()
    {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    float uniform() { return float((next() >> 40) * (1.0 / double(1ULL << 24))) * 2.0f - 1.0f; }
};

inline torch::Tensor deterministic(SplitMix64& rng, std::vector<int64_t> shape, float scale)
{
    auto t = torch::empty(shape, torch::kFloat32);
    float* p = t.data_ptr<float>();
    for (int64_t i = 0; i < t.numel(); ++i)
        p[i] = rng.uniform() * scale;
    return t;
}

} // namespace bucketlab::demo_detail
