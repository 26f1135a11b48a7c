#include "core/demo/demo.h"
#include "core/demo/demo_weights_p.h"

#include "core/runtime/torch_io_p.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "core/util/sha256.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;

namespace bucketlab {
namespace {

using demo_detail::deterministic;
using demo_detail::SplitMix64;

std::string layerSource(int64_t l, const DemoModelConfig& c)
{
    const std::string p = "self.l" + std::to_string(l) + "_";
    const int64_t headDim = c.hidden / c.heads;
    std::ostringstream s;
    s << "    q = torch.linear(x, " << p << "q_w, " << p << "q_b).view(batch, length, " << c.heads
      << ", " << headDim << ").transpose(1, 2)\n";
    s << "    k = torch.linear(x, " << p << "k_w, " << p << "k_b).view(batch, length, " << c.heads
      << ", " << headDim << ").transpose(1, 2)\n";
    s << "    v = torch.linear(x, " << p << "v_w, " << p << "v_b).view(batch, length, " << c.heads
      << ", " << headDim << ").transpose(1, 2)\n";
    s << "    scores = torch.matmul(q, k.transpose(2, 3)) * " << 1.0 / std::sqrt(double(headDim))
      << " + mask_bias\n";
    s << "    context = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2).reshape(batch, "
         "length, "
      << c.hidden << ")\n";
    s << "    x = torch.layer_norm(x + torch.linear(context, " << p << "o_w, " << p << "o_b), ["
      << c.hidden << "], " << p << "ln1_w, " << p << "ln1_b, 1e-12)\n";
    s << "    h = torch.gelu(torch.linear(x, " << p << "f1_w, " << p << "f1_b))\n";
    s << "    x = torch.layer_norm(x + torch.linear(h, " << p << "f2_w, " << p << "f2_b), ["
      << c.hidden << "], " << p << "ln2_w, " << p << "ln2_b, 1e-12)\n";
    return s.str();
}

} // namespace

std::string demoModelSource(const DemoModelConfig& c)
{
    std::ostringstream s;
    s << "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:\n";
    s << "    batch = input_ids.size(0)\n";
    s << "    length = input_ids.size(1)\n";
    s << "    if length > " << c.maxPositions << ":\n";
    s << "        raise Exception(\"demo encoder: length \" + str(length) + \" exceeds "
      << c.maxPositions << " positions\")\n";
    s << "    positions = torch.arange(length, dtype=torch.int64, device=input_ids.device)\n";
    s << "    x = torch.embedding(self.token_embedding, input_ids) + "
         "torch.embedding(self.position_embedding, positions).unsqueeze(0)\n";
    s << "    x = torch.layer_norm(x, [" << c.hidden
      << "], self.embedding_ln_w, self.embedding_ln_b, 1e-12)\n";
    // Padded positions get a large negative bias, so they receive no attention: the
    // logits of a padded input equal those of the unpadded one.
    s << "    mask_bias = (1.0 - attention_mask.to(torch.float32)).unsqueeze(1).unsqueeze(2) * "
         "-10000.0\n";
    for (int64_t l = 0; l < c.layers; ++l)
        s << layerSource(l, c);
    s << "    pooled = torch.tanh(torch.linear(x.select(1, 0), self.pool_w, self.pool_b))\n";
    s << "    return torch.linear(pooled, self.classifier_w, self.classifier_b)\n";
    return s.str();
}

void writeDemoModel(const std::string& path, const DemoModelConfig& c)
{
    if (c.hidden % c.heads != 0)
        throw Error("demo model: hidden size must be a multiple of the head count");
    SplitMix64 rng{c.seed};
    torch::jit::Module m("__torch__.bucketlab.DemoEncoder");
    auto param = [&](const std::string& name, std::vector<int64_t> shape, float scale) {
        m.register_parameter(name, deterministic(rng, shape, scale), /*is_buffer=*/false);
    };
    auto ones = [&](const std::string& name, int64_t n) {
        m.register_parameter(name, torch::ones({n}), false);
    };
    auto zeros = [&](const std::string& name, int64_t n) {
        m.register_parameter(name, torch::zeros({n}), false);
    };
    const float w = 1.0f / std::sqrt(float(c.hidden));
    param("token_embedding", {c.vocab, c.hidden}, 0.05f);
    param("position_embedding", {c.maxPositions, c.hidden}, 0.05f);
    ones("embedding_ln_w", c.hidden);
    zeros("embedding_ln_b", c.hidden);
    for (int64_t l = 0; l < c.layers; ++l) {
        const std::string p = "l" + std::to_string(l) + "_";
        for (const char* n : {"q", "k", "v", "o"}) {
            param(p + n + "_w", {c.hidden, c.hidden}, w);
            param(p + n + "_b", {c.hidden}, 0.02f);
        }
        ones(p + "ln1_w", c.hidden);
        zeros(p + "ln1_b", c.hidden);
        param(p + "f1_w", {c.ffn, c.hidden}, w);
        param(p + "f1_b", {c.ffn}, 0.02f);
        param(p + "f2_w", {c.hidden, c.ffn}, 1.0f / std::sqrt(float(c.ffn)));
        param(p + "f2_b", {c.hidden}, 0.02f);
        ones(p + "ln2_w", c.hidden);
        zeros(p + "ln2_b", c.hidden);
    }
    param("pool_w", {c.hidden, c.hidden}, w);
    param("pool_b", {c.hidden}, 0.02f);
    param("classifier_w", {c.classes, c.hidden}, w);
    param("classifier_b", {c.classes}, 0.02f);
    m.define(demoModelSource(c), scriptResolver());
    m.eval();
    writeFileAtomically(path, saveModuleToBytes(m), /*replace=*/true);
}

Boundaries demoCurrentBoundaries()
{
    return Boundaries::from({128, 512}, "the demo's boundaries");
}

std::vector<InputSpec> demoInputs()
{
    return {InputSpec{"input_ids", DType::Int64, 0, 1},
            InputSpec{"attention_mask", DType::Int64, 0, 1}};
}

namespace {

// What identifies the demo model this build writes: BucketLab's version and the model's
// source (its weights follow deterministically from both).
std::string demoRecipeKey()
{
    return sha256Hex(creatorString() + "\n" + demoModelSource());
}

std::string readSmallFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return in ? s.str() : std::string();
}

// The model and package of an earlier demo in `f.dir`, when they are exactly what this
// build would write: the stamp names this build's recipe and the model's sha256, the model
// file still has that sha256, and the package was built from it with the current buckets.
// Rebuilding them costs a second or more, most of the desktop's start with --demo.
std::optional<PackageBuildResult> reusableDemo(const DemoFiles& f, const fs::path& stamp)
{
    std::istringstream lines(readSmallFile(stamp));
    std::string key, modelSha;
    if (!std::getline(lines, key) || !std::getline(lines, modelSha) || key != demoRecipeKey())
        return std::nullopt;
    try {
        if (!fs::is_regular_file(f.model) || !fs::is_regular_file(f.package) ||
            sha256File(f.model) != modelSha)
            return std::nullopt;
        const auto meta = readPackageMeta(f.package);
        if (!meta || meta->kind != PackageKind::Shared || meta->models.size() != 1 ||
            meta->models[0].sha256 != modelSha || meta->boundaries != demoCurrentBoundaries())
            return std::nullopt;
        PackageBuildResult r;
        r.meta = *meta;
        r.out = f.package;
        r.packageBytes = int64_t(fs::file_size(f.package));
        r.modelBytes = int64_t(fs::file_size(f.model));
        return r;
    } catch (const std::exception&) {
        return std::nullopt; // anything unreadable is simply rebuilt
    }
}

} // namespace

DemoFiles prepareDemo(const std::string& dir)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
        throw Error(dir + ": cannot create the demo directory (" + ec.message() + ")");
    DemoFiles f;
    f.dir = dir;
    f.model = (fs::path(dir) / "demo_model.pt").string();
    f.distribution = (fs::path(dir) / "mrpc_pair_lengths.csv").string();
    f.package = (fs::path(dir) / "demo_package.pt").string();
    f.profile = (fs::path(dir) / "demo_profile.json").string();
    writeFileAtomically(f.distribution, demoDistributionCsv(), /*replace=*/true);
    writeFileAtomically(f.profile, demoProfileJson(), /*replace=*/true);
    f.latency = f.profile;
    const fs::path stamp = fs::path(dir) / ".bucketlab-demo";
    if (auto reused = reusableDemo(f, stamp)) {
        f.build = *reused;
        return f;
    }
    writeDemoModel(f.model);
    PackageBuildRequest r;
    r.model = f.model;
    r.boundaries = demoCurrentBoundaries();
    r.inputs = demoInputs();
    r.out = f.package;
    r.force = true;
    f.build = buildPackage(r);
    if (!f.build.written)
        throw Error(f.package + ": the demo package failed its first calls, " + f.build.failure);
    writeFileAtomically(stamp.string(), demoRecipeKey() + "\n" + sha256File(f.model) + "\n",
                        /*replace=*/true);
    return f;
}

} // namespace bucketlab
