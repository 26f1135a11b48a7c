// TorchScript fixtures built by the tests themselves (no downloads, no committed binaries).
// Includes LibTorch: only for core tests, never for ui tests.
#pragma once

#include "core/demo/demo.h"
#include "core/runtime/torch_io_p.h"

#include <torch/script.h>

#include <string>

namespace bucketlab::test {

// The demo encoder, shrunk so that checking every length stays fast.
inline DemoModelConfig smallDemoConfig(int64_t maxPositions = 64)
{
    DemoModelConfig c;
    c.vocab = 100;
    c.hidden = 16;
    c.layers = 1;
    c.heads = 2;
    c.ffn = 32;
    c.maxPositions = maxPositions;
    return c;
}

// A model that only works at one length, like a model traced at that length: it adds a
// [length, hidden] position table, so any other length fails with a shape error.
inline void writeFixedLengthModel(const std::string& path, int64_t length, uint64_t seed)
{
    torch::manual_seed(seed);
    torch::jit::Module m("__torch__.FixedLengthEncoder");
    m.register_parameter("embedding", torch::randn({100, 8}), false);
    m.register_parameter("positions", torch::randn({length, 8}), false);
    m.define(R"(
def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tuple[Tensor, Tensor]:
    x = torch.embedding(self.embedding, input_ids) + self.positions
    x = x * attention_mask.unsqueeze(2).to(torch.float32)
    return x.sum(1), x
)",
             scriptResolver());
    torch::jit::ExtraFilesMap none;
    m.save(path, none);
}

// A model with an input that has no length, as NxD models take `seq_ids`: forward(input_ids
// [B, L], attention_mask [B, L], seq_ids [B]) looks up one slot per sequence with
// index_select, which needs a 1-D index, so a seq_ids of [B, L] fails.
inline void writeSeqIdsModel(const std::string& path, uint64_t seed = 3)
{
    torch::manual_seed(seed);
    torch::jit::Module m("__torch__.SeqIdsEncoder");
    m.register_parameter("embedding", torch::randn({100, 8}), false);
    m.register_parameter("slots", torch::randn({4, 8}), false);
    m.define(R"(
def forward(self, input_ids: Tensor, attention_mask: Tensor, seq_ids: Tensor) -> Tensor:
    x = torch.embedding(self.embedding, input_ids)
    x = x * attention_mask.unsqueeze(2).to(torch.float32)
    slot = torch.index_select(self.slots, 0, seq_ids)
    return x.sum(1) + slot
)",
             scriptResolver());
    torch::jit::ExtraFilesMap none;
    m.save(path, none);
}

} // namespace bucketlab::test
