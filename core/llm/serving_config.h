// Bucket settings in the forms NxD Inference and vLLM read, and the rules those projects
// enforce on them, so an exported config is known to load before anyone compiles it.
//
// NxD Inference, NeuronConfig.__init__ (neuronx-distributed-inference main 4bcdc54,
// src/neuronx_distributed_inference/models/config.py):
//   nxd.max_context_length_le_max_length  assert max_context_length <= max_length
//                                         (max_length defaults to seq_len)
//   nxd.context_buckets_le_max_context    context_encoding_buckets sorted, then
//                                         assert buckets[-1] <= max_context_length
//   nxd.tkg_buckets_le_max_length         token_generation_buckets sorted, then
//                                         assert buckets[-1] <= max_length
//   nxd.batches_le_tkg_batch_size         token_generation_batches sorted, then
//                                         assert batches[-1] <= tkg_batch_size (defaults to
//                                         batch_size)
//   nxd.batches_without_speculation       _validate_batch_bucketing_compatibility raises for
//                                         batch bucketing with speculation
// NxD sorts the lists silently; we require them ascending without repeats
// (nxd.*_sorted), since a repeat compiles one model twice and disorder is likely a typo.
// What serving needs on top, because ModelWrapper._get_seq_bucket raises for a length above
// the largest bucket (models/model_wrapper.py):
//   nxd.context_buckets_cover_max_context the largest CTE bucket is max_context_length, so
//                                         every prompt NxD accepts has a bucket
//   nxd.tkg_buckets_cover_seq_len         the largest TKG bucket is seq_len, so every
//                                         position a request reaches has one
//
// vLLM through the vllm-neuron plugin (vllm-project/vllm-neuron release 0.2,
// vllm_neuron/worker/neuronx_distributed_model_loader.py, _get_default_neuron_config and
// _get_neuron_config_after_override): the plugin sets seq_len = max_model_len,
// max_context_length = max_model_len (without chunked prefill), batch_size = max_num_seqs
// and enable_bucketing, then applies additional_config["override_neuron_config"] on top.
// Our override carries the lists, max_context_length and seq_len; on top of the NxD rules:
//   vllm.seq_len_is_max_model_len         vLLM's scheduler and the model must agree on the
//                                         longest sequence (--max-model-len)
//   vllm.batches_le_max_num_seqs          batch buckets fit the batch_size the plugin sets
//
// The newer vLLM Neuron plugin (Neuron SDK 2.31+, documented in "vLLM Neuron: Configuration
// options", additional_config["neuron_config"]) compiles prefill by token count and decode by
// batch size; an input is padded to the smallest bucket >= it:
//   vllm_neuron.batched_tokens_sorted / .batched_tokens_max   num_batched_tokens_buckets,
//                                         largest == max_num_batched_tokens
//   vllm_neuron.num_seqs_sorted / .num_seqs_max               num_seqs_buckets, largest ==
//                                         max_num_seqs
// It has no sequence-length decode buckets, so only our CTE and batch buckets apply there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct ConfigViolation {
    std::string rule;    // e.g. "nxd.tkg_buckets_cover_seq_len"
    std::string message; // what is wrong, with the values
};

struct NxdBucketConfig {
    std::vector<int64_t> contextEncodingBuckets;
    std::vector<int64_t> tokenGenerationBuckets;
    std::vector<int64_t> tokenGenerationBatches; // empty: no batch bucketing
    int64_t maxContextLength = 0;
    int64_t seqLen = 0;
    int64_t batchSize = 0; // tkg_batch_size (batch_size); 0: not set
    int64_t speculationLength = 0;
};

struct VllmServeSettings {
    int64_t maxModelLen = 0;
    int64_t maxNumSeqs = 0;
    int64_t maxNumBatchedTokens = 0;
};

struct VllmNeuronBuckets {
    std::vector<int64_t> numBatchedTokensBuckets;
    std::vector<int64_t> numSeqsBuckets;
};

std::vector<ConfigViolation> checkNxdConfig(const NxdBucketConfig& config);
std::vector<ConfigViolation> checkVllmOverride(const NxdBucketConfig& config,
                                               const VllmServeSettings& vllm);
std::vector<ConfigViolation> checkVllmNeuronPlugin(const VllmNeuronBuckets& buckets,
                                                   const VllmServeSettings& vllm);

// The NeuronConfig fragment: enable_bucketing, context_encoding_buckets,
// token_generation_buckets, max_context_length, seq_len, and with batch buckets
// token_generation_batches and batch_size.
std::string nxdNeuronConfigJson(const NxdBucketConfig& config, int indent = 2);
// {"override_neuron_config": {...}}: the --additional-config document of vllm-neuron 0.2.
std::string vllmOverrideJson(const NxdBucketConfig& config, int indent = 2);
// {"neuron_config": {"num_batched_tokens_buckets": [...], "num_seqs_buckets": [...]}}.
std::string vllmNeuronPluginJson(const VllmNeuronBuckets& buckets, int indent = 2);

// Reads back what the writers above produce (either NxD form, the override wrapped or not),
// for checking a written or hand-made file. Errors name `where`.
NxdBucketConfig nxdConfigFromJson(const std::string& json, const std::string& where);
VllmNeuronBuckets vllmNeuronPluginFromJson(const std::string& json, const std::string& where);

// Throws Error "<what>: rule <id>: <message>" naming the first violated rule (and how many
// more there are).
void requireNoViolations(const std::vector<ConfigViolation>& violations, const std::string& what);

} // namespace bucketlab
