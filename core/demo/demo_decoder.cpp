#include "core/demo/demo_decoder.h"
#include "core/demo/demo_weights_p.h"

#include "core/runtime/torch_io_p.h"
#include "core/util/error.h"
#include "core/util/output_file.h"

#include <cmath>
#include <sstream>

namespace bucketlab {
namespace {

using demo_detail::deterministic;
using demo_detail::SplitMix64;

// One pre-norm layer. `q`, `k`, `v` are [batch, heads, rows, head_dim]; `keys` and `values`
// are what the queries attend to, `mask` the additive mask. The caller writes the q/k/v
// lines; this writes the attention and the feed-forward block.
std::string attentionSource(int64_t l, const DemoDecoderConfig& c, const std::string& keys,
                            const std::string& values, const std::string& rows)
{
    const std::string p = "self.l" + std::to_string(l) + "_";
    const int64_t headDim = c.hidden / c.heads;
    std::ostringstream s;
    s << "    scores = torch.matmul(q, " << keys << ".transpose(2, 3)) * "
      << 1.0 / std::sqrt(double(headDim)) << " + mask\n";
    s << "    context = torch.matmul(torch.softmax(scores, -1), " << values
      << ").transpose(1, 2).reshape(batch, " << rows << ", " << c.hidden << ")\n";
    s << "    x = x + torch.linear(context, " << p << "o_w, " << p << "o_b)\n";
    s << "    h = torch.layer_norm(x, [" << c.hidden << "], " << p << "ln2_w, " << p
      << "ln2_b, 1e-5)\n";
    s << "    x = x + torch.linear(torch.gelu(torch.linear(h, " << p << "f1_w, " << p << "f1_b)), "
      << p << "f2_w, " << p << "f2_b)\n";
    return s.str();
}

std::string qkvSource(int64_t l, const DemoDecoderConfig& c, const std::string& rows)
{
    const std::string p = "self.l" + std::to_string(l) + "_";
    const int64_t headDim = c.hidden / c.heads;
    std::ostringstream s;
    s << "    h = torch.layer_norm(x, [" << c.hidden << "], " << p << "ln1_w, " << p
      << "ln1_b, 1e-5)\n";
    for (const char* n : {"q", "k", "v"})
        s << "    " << n << " = torch.linear(h, " << p << n << "_w, " << p << n
          << "_b).view(batch, " << rows << ", " << c.heads << ", " << headDim
          << ").transpose(1, 2)\n";
    return s.str();
}

std::string lengthCheck(const DemoDecoderConfig& c, const std::string& what,
                        const std::string& value)
{
    std::ostringstream s;
    s << "    if " << value << " > " << c.maxPositions << ":\n";
    s << "        raise Exception(\"demo decoder: " << what << " \" + str(" << value
      << ") + \" exceeds " << c.maxPositions << " positions\")\n";
    return s.str();
}

} // namespace

std::string demoDecoderSource(const DemoDecoderConfig& c)
{
    const int64_t headDim = c.hidden / c.heads;
    std::ostringstream s;
    const std::string head = "    logits = torch.linear(torch.layer_norm(last, [" +
                             std::to_string(c.hidden) +
                             "], self.final_ln_w, self.final_ln_b, 1e-5), self.lm_head_w)\n";

    // Prefill: causal attention over the prompt; the keys and values of every layer are the
    // cache the decode steps continue from.
    s << "def prefill(self, input_ids: Tensor) -> Tuple[Tensor, Tensor]:\n";
    s << "    batch = input_ids.size(0)\n";
    s << "    length = input_ids.size(1)\n";
    s << lengthCheck(c, "prompt length", "length");
    s << "    positions = torch.arange(length, dtype=torch.int64, device=input_ids.device)\n";
    s << "    x = torch.embedding(self.token_embedding, input_ids) + "
         "torch.embedding(self.position_embedding, positions).unsqueeze(0)\n";
    s << "    mask = torch.triu(torch.full([length, length], -10000.0, device=input_ids.device), "
         "1)\n";
    s << "    caches: List[Tensor] = []\n";
    for (int64_t l = 0; l < c.layers; ++l) {
        s << qkvSource(l, c, "length");
        s << "    caches.append(torch.stack([k, v]))\n";
        s << attentionSource(l, c, "k", "v", "length");
    }
    s << "    last = x.select(1, length - 1)\n";
    s << head;
    s << "    return logits, torch.stack(caches)\n\n";

    // Decode: one token at `position`; its keys and values go into the cache's slot, and it
    // attends to the slots up to it (later slots are masked, as the padding of a bucket).
    s << "def decode(self, input_ids: Tensor, cache: Tensor, position: int) -> Tensor:\n";
    s << "    batch = input_ids.size(0)\n";
    s << "    slots = cache.size(4)\n";
    s << "    if input_ids.size(1) != 1:\n";
    s << "        raise Exception(\"demo decoder: a decode step takes one token per sequence, "
         "not \" + str(input_ids.size(1)))\n";
    s << "    if position < 0 or position >= slots:\n";
    s << "        raise Exception(\"demo decoder: position \" + str(position) + \" is outside "
         "the cache of \" + str(slots) + \" slots\")\n";
    s << lengthCheck(c, "position", "position + 1");
    s << "    x = torch.embedding(self.token_embedding, input_ids) + "
         "self.position_embedding[position].view(1, 1, "
      << c.hidden << ")\n";
    s << "    slot = torch.arange(slots, dtype=torch.int64, device=input_ids.device)\n";
    s << "    mask = ((slot > position).to(torch.float32) * -10000.0).view(1, 1, 1, slots)\n";
    for (int64_t l = 0; l < c.layers; ++l) {
        s << qkvSource(l, c, "1");
        s << "    cache[" << l << ", 0].narrow(2, position, 1).copy_(k)\n";
        s << "    cache[" << l << ", 1].narrow(2, position, 1).copy_(v)\n";
        s << attentionSource(l, c, "cache[" + std::to_string(l) + ", 0]",
                             "cache[" + std::to_string(l) + ", 1]", "1");
    }
    s << "    last = x.select(1, 0)\n";
    s << head;
    s << "    return logits\n\n";

    s << "def empty_cache(self, batch: int, length: int) -> Tensor:\n";
    s << "    return torch.zeros([" << c.layers << ", 2, batch, " << c.heads << ", length, "
      << headDim << "], dtype=torch.float32)\n";
    return s.str();
}

void writeDemoDecoder(const std::string& path, const DemoDecoderConfig& c, bool replace)
{
    if (c.hidden % c.heads != 0)
        throw Error("demo decoder: the hidden size must be a multiple of the head count");
    SplitMix64 rng{c.seed};
    torch::jit::Module m("__torch__.bucketlab.DemoDecoder");
    auto param = [&](const std::string& name, std::vector<int64_t> shape, float scale) {
        m.register_parameter(name, deterministic(rng, shape, scale), /*is_buffer=*/false);
    };
    auto ones = [&](const std::string& name) {
        m.register_parameter(name, torch::ones({c.hidden}), false);
    };
    auto zeros = [&](const std::string& name) {
        m.register_parameter(name, torch::zeros({c.hidden}), false);
    };
    const float w = 1.0f / std::sqrt(float(c.hidden));
    param("token_embedding", {c.vocab, c.hidden}, 0.05f);
    param("position_embedding", {c.maxPositions, c.hidden}, 0.05f);
    for (int64_t l = 0; l < c.layers; ++l) {
        const std::string p = "l" + std::to_string(l) + "_";
        ones(p + "ln1_w");
        zeros(p + "ln1_b");
        for (const char* n : {"q", "k", "v", "o"}) {
            param(p + n + "_w", {c.hidden, c.hidden}, w);
            param(p + n + "_b", {c.hidden}, 0.02f);
        }
        ones(p + "ln2_w");
        zeros(p + "ln2_b");
        param(p + "f1_w", {c.ffn, c.hidden}, w);
        param(p + "f1_b", {c.ffn}, 0.02f);
        param(p + "f2_w", {c.hidden, c.ffn}, 1.0f / std::sqrt(float(c.ffn)));
        param(p + "f2_b", {c.hidden}, 0.02f);
    }
    ones("final_ln_w");
    zeros("final_ln_b");
    param("lm_head_w", {c.vocab, c.hidden}, w);
    m.define(demoDecoderSource(c), scriptResolver());
    m.eval();
    writeFileAtomically(path, saveModuleToBytes(m), replace);
}

} // namespace bucketlab
