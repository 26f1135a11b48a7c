// The demo decoder: a small GPT-shaped causal language model (token and position embeddings,
// pre-norm attention layers, a language-model head) with a KV cache, written as TorchScript
// source with deterministic weights. It follows the decoder convention the profiler's
// prefill and decode phases run (core/latency/profiler.h):
//   prefill(input_ids[b, p]) -> (logits[b, vocab], cache[layers, 2, b, heads, p, head_dim])
//       the context-encoding (CTE) pass over a prompt of p tokens;
//   decode(input_ids[b, 1], cache[layers, 2, b, heads, s, head_dim], position) -> logits
//       one token-generation (TKG) step at sequence bucket s: the token at `position`
//       (< s) writes its keys and values into the cache in place and attends to slots
//       0..position (the rest are masked, as in a padded NxD bucket);
//   empty_cache(batch, length) -> a zero cache of `length` slots.
// Nothing is downloaded; the same build always produces the same model.
#pragma once

#include <cstdint>
#include <string>

namespace bucketlab {

struct DemoDecoderConfig {
    int64_t vocab = 512;
    int64_t hidden = 64;
    int64_t layers = 2;
    int64_t heads = 4;
    int64_t ffn = 256;
    int64_t maxPositions = 16384;
    uint64_t seed = 20261202;
};

// The TorchScript source of the decoder's methods (prefill, decode, empty_cache).
std::string demoDecoderSource(const DemoDecoderConfig& config = {});
// Builds the decoder and writes it as a TorchScript archive (atomically; an existing file
// is replaced only when `replace`).
void writeDemoDecoder(const std::string& path, const DemoDecoderConfig& config = {},
                      bool replace = true);

} // namespace bucketlab
