// The embedded demo: a small BERT-shaped encoder (token and position embeddings, attention
// layers that honour the attention mask, a [CLS] classification head) written as TorchScript
// source with deterministic weights, plus the MRPC sentence-pair length histogram. Nothing is
// downloaded; the same build always produces the same model.
#pragma once

#include "core/package/package.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct DemoModelConfig {
    int64_t vocab = 28996; // bert-base-cased, so real token ids are valid
    int64_t hidden = 128;
    int64_t layers = 4;
    int64_t heads = 4;
    int64_t ffn = 512;
    int64_t maxPositions = 512;
    int64_t classes = 2;
    uint64_t seed = 20241126;
};

// The TorchScript source of the demo model's forward(input_ids, attention_mask) -> logits.
std::string demoModelSource(const DemoModelConfig& config = {});
// Builds the model and writes it (atomically) as a TorchScript archive.
void writeDemoModel(const std::string& path, const DemoModelConfig& config = {});

// `length,count` CSV of MRPC pair lengths (see resources/demo/SOURCE.md).
const std::string& demoDistributionCsv();
// The buckets of the autobucketing guide's BERT example: what users run today.
Boundaries demoCurrentBoundaries();
std::vector<InputSpec> demoInputs();
// The demo encoder's latency on one CPU thread, measured on the development VM with
// `bucketlab-cli profile --grid` (bucketlab.profile/1 JSON; see resources/demo/SOURCE.md).
const std::string& demoProfileJson();

struct DemoFiles {
    std::string dir;
    std::string model;        // demo_model.pt
    std::string distribution; // mrpc_pair_lengths.csv
    std::string profile;      // demo_profile.json
    std::string package;      // demo_package.pt with the current boundaries
    // The demo's latency curve as `tune --latency` takes it: the profile file.
    std::string latency;
    PackageBuildResult build;
};

// Writes the model, the distribution, the profile and the package with the current
// boundaries into `dir` (created if missing). The model and package of an earlier run in
// `dir` are kept when they are exactly what this build would write (a stamp file records
// the build and the model's sha256); anything else there is replaced.
DemoFiles prepareDemo(const std::string& dir);

} // namespace bucketlab
