// How NxD Inference picks a compiled bucket for a call, and its default bucket lists, as its
// own source does it (github.com/aws-neuron/neuronx-distributed-inference, read at main
// 4bcdc54; paths under src/neuronx_distributed_inference/):
//
// Default lists. modules/autobucketing.py, generate_buckets(min, max):
//     [2**i for i in range(int(log2(min)), round(log2(max)))] + [max]
// The upper exponent is rounded (Python's round, half to even), not floored, so powers of
// two close below max are left out: (128, 640) -> [128, 256, 640], (128, 513) -> [128, 256,
// 513], (128, 512) -> [128, 256, 512]. With enable_bucketing and no explicit list,
// generate_buckets_for_cte uses generate_buckets(128, max_context_length) and
// generate_buckets_for_tkg generate_buckets(128, max_length) (max_length defaults to seq_len).
//
// One-dimensional buckets (CTE always; TKG without token_generation_batches).
// models/model_wrapper.py, ModelWrapper._get_seq_bucket with the default "first_fit":
//     required_len = input_len + speculation_length
//     the first bucket (ascending) with required_len < bucket, else the largest bucket when
//     required_len == largest, else ValueError ("Input len ... exceeds largest bucket")
// So the fit is strict for every bucket but the largest. input_len is the attention mask's
// width (get_target_bucket: args[1].shape[1]); speculation_length is added only for the
// speculation and fused-speculation models (0 for the CTE and TKG models).
//
// Which length a call has. models/model_base.py, _get_model_outputs: a call whose
// position_ids start at 0 runs the CTE (context-encoding, prefill) model over the whole
// prompt, so its input_len is the prompt length p, and it returns the first generated
// token. utils/hf_adapter.py: prepare_inputs_for_generation and
// _update_model_kwargs_for_generation do not widen the attention mask after the CTE call
// (is_for_token_generation is the cache state before that call: not populated), so the first
// TKG call sees a mask of width p with position_ids p, and each later call one more. A
// request with g output tokens therefore makes one CTE call (required length p) and g - 1
// TKG calls with required lengths p, p + 1, ..., p + g - 2: the position of the token fed
// in, plus the speculation length when there is one. Under vLLM the same holds: the
// vllm-neuron plugin (vllm-project/vllm-neuron 0.2, worker/neuronx_distributed_model_runner.py)
// passes no attention mask and decodes the token at position prompt + generated - 1, and
// NeuronBaseForCausalLM._infer_attention_mask (model_base.py) makes the mask
// max(position_ids) wide — the position for one sequence, the largest in a batch.
//
// Two-dimensional TKG buckets (token_generation_batches set). autobucketing.py,
// generate_2d_buckets_for_batch_bucketing: the grid batch x seq of every batch bucket (the
// tkg_batch_size is always added) and every sequence bucket. model_wrapper.py,
// _get_batch_and_seq_bucket: the smallest batch bucket >= the batch, then the smallest
// sequence bucket with required_len <= seq_len. Note the fit is NOT strict here (`<=`),
// unlike the one-dimensional rule; we follow the code as written.
#pragma once

#include <cstdint>
#include <vector>

namespace bucketlab {

// NxD's smallest default bucket (generate_buckets(128, ...)).
inline constexpr int64_t kNxdDefaultMinBucket = 128;

// NxD's generate_buckets(minLength, maxLength), exactly (see above). Both >= 1.
std::vector<int64_t> nxdGenerateBuckets(int64_t minLength, int64_t maxLength);

// The index of the bucket NxD's one-dimensional first fit picks for `requiredLength`
// (input length + speculation length) in ascending `buckets`, or -1 where NxD raises.
int nxdSequenceBucket(const std::vector<int64_t>& buckets, int64_t requiredLength);

// The two-dimensional rule: index of the smallest batch bucket >= batch, and of the smallest
// sequence bucket >= requiredLength (non-strict); -1 when none fits.
int nxdGridBatchBucket(const std::vector<int64_t>& batches, int64_t batch);
int nxdGridSequenceBucket(const std::vector<int64_t>& buckets, int64_t requiredLength);

// The required lengths a one-dimensional bucket serves under the strict rule: bucket k of
// ascending `buckets` serves [first, last] (last = buckets[k] - 1, or buckets[k] for the
// largest; first = the previous bucket's last + 1, 0 for the first bucket).
struct BucketRange {
    int64_t first = 0;
    int64_t last = 0;
};
std::vector<BucketRange> nxdSequenceRanges(const std::vector<int64_t>& buckets);

} // namespace bucketlab
