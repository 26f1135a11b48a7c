#include "core/llm/serving_config.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

namespace bucketlab {

namespace {

std::string listText(const std::vector<int64_t>& v)
{
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

// Positive, strictly ascending, non-empty.
void checkSorted(const std::vector<int64_t>& v, const std::string& name, const std::string& rule,
                 std::vector<ConfigViolation>& out)
{
    if (v.empty()) {
        out.push_back({rule, name + " is empty"});
        return;
    }
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] < 1) {
            out.push_back({rule, name + " " + listText(v) + " holds " + std::to_string(v[i]) +
                                     "; buckets must be positive"});
            return;
        }
        if (i > 0 && v[i] <= v[i - 1]) {
            out.push_back({rule, name + " " + listText(v) + " must be ascending without repeats (" +
                                     std::to_string(v[i]) + " follows " + std::to_string(v[i - 1]) +
                                     ")"});
            return;
        }
    }
}

std::vector<int64_t> intList(const nlohmann::json& j, const std::string& key,
                             const std::string& where)
{
    if (!j.contains(key) || j[key].is_null())
        return {};
    if (!j[key].is_array())
        throw Error(where + ": " + key + " must be a list of integers");
    std::vector<int64_t> out;
    for (const auto& v : j[key]) {
        if (!v.is_number_integer())
            throw Error(where + ": " + key + " must be a list of integers, found " + v.dump());
        out.push_back(v.get<int64_t>());
    }
    return out;
}

int64_t intField(const nlohmann::json& j, const std::string& key, const std::string& where)
{
    if (!j.contains(key) || j[key].is_null())
        return 0;
    if (!j[key].is_number_integer())
        throw Error(where + ": " + key + " must be an integer, found " + j[key].dump());
    return j[key].get<int64_t>();
}

nlohmann::json parseObject(const std::string& text, const std::string& where)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) { // parse_error, or out_of_range (1e400)
        throw Error(where + ": not valid JSON (" + libraryMessage(e.what()) + ")");
    }
    if (!j.is_object())
        throw Error(where + ": expected a JSON object");
    return j;
}

nlohmann::json nxdFields(const NxdBucketConfig& c)
{
    nlohmann::json j{{"enable_bucketing", true},
                     {"context_encoding_buckets", c.contextEncodingBuckets},
                     {"token_generation_buckets", c.tokenGenerationBuckets},
                     {"max_context_length", c.maxContextLength},
                     {"seq_len", c.seqLen}};
    if (!c.tokenGenerationBatches.empty())
        j["token_generation_batches"] = c.tokenGenerationBatches;
    if (c.speculationLength > 0)
        j["speculation_length"] = c.speculationLength;
    return j;
}

} // namespace

std::vector<ConfigViolation> checkNxdConfig(const NxdBucketConfig& c)
{
    std::vector<ConfigViolation> out;
    if (c.maxContextLength < 1 || c.seqLen < 1)
        out.push_back({"nxd.max_context_length_le_max_length",
                       "max_context_length (" + std::to_string(c.maxContextLength) +
                           ") and seq_len (" + std::to_string(c.seqLen) + ") must be positive"});
    else if (c.maxContextLength > c.seqLen)
        out.push_back({"nxd.max_context_length_le_max_length",
                       "max_context_length " + std::to_string(c.maxContextLength) +
                           " is above max_length (seq_len) " + std::to_string(c.seqLen)});
    const size_t before = out.size();
    checkSorted(c.contextEncodingBuckets, "context_encoding_buckets", "nxd.context_buckets_sorted",
                out);
    if (out.size() == before && c.maxContextLength > 0) {
        const int64_t top = c.contextEncodingBuckets.back();
        if (top > c.maxContextLength)
            out.push_back({"nxd.context_buckets_le_max_context",
                           "the largest context_encoding_buckets entry " + std::to_string(top) +
                               " is above max_context_length " +
                               std::to_string(c.maxContextLength)});
        else if (top < c.maxContextLength)
            out.push_back({"nxd.context_buckets_cover_max_context",
                           "the largest context_encoding_buckets entry " + std::to_string(top) +
                               " is below max_context_length " +
                               std::to_string(c.maxContextLength) +
                               ": NxD raises for prompts longer than " + std::to_string(top)});
    }
    const size_t beforeTkg = out.size();
    checkSorted(c.tokenGenerationBuckets, "token_generation_buckets", "nxd.tkg_buckets_sorted",
                out);
    if (out.size() == beforeTkg && c.seqLen > 0) {
        const int64_t top = c.tokenGenerationBuckets.back();
        if (top > c.seqLen)
            out.push_back({"nxd.tkg_buckets_le_max_length",
                           "the largest token_generation_buckets entry " + std::to_string(top) +
                               " is above max_length (seq_len) " + std::to_string(c.seqLen)});
        else if (top < c.seqLen)
            out.push_back({"nxd.tkg_buckets_cover_seq_len",
                           "the largest token_generation_buckets entry " + std::to_string(top) +
                               " is below seq_len " + std::to_string(c.seqLen) +
                               ": NxD raises when a request decodes past position " +
                               std::to_string(top)});
    }
    if (!c.tokenGenerationBatches.empty()) {
        const size_t beforeBatches = out.size();
        checkSorted(c.tokenGenerationBatches, "token_generation_batches", "nxd.batches_sorted",
                    out);
        if (out.size() == beforeBatches) {
            if (c.batchSize < 1)
                out.push_back({"nxd.batches_le_tkg_batch_size",
                               "token_generation_batches needs the batch size (tkg_batch_size) "
                               "they are checked against"});
            else if (c.tokenGenerationBatches.back() > c.batchSize)
                out.push_back({"nxd.batches_le_tkg_batch_size",
                               "the largest token_generation_batches entry " +
                                   std::to_string(c.tokenGenerationBatches.back()) +
                                   " is above the batch size (tkg_batch_size) " +
                                   std::to_string(c.batchSize)});
        }
        if (c.speculationLength > 0)
            out.push_back({"nxd.batches_without_speculation",
                           "token_generation_batches cannot be combined with speculation "
                           "(speculation_length " +
                               std::to_string(c.speculationLength) + ")"});
    }
    return out;
}

std::vector<ConfigViolation> checkVllmOverride(const NxdBucketConfig& c,
                                               const VllmServeSettings& vllm)
{
    std::vector<ConfigViolation> out = checkNxdConfig(c);
    if (c.seqLen != vllm.maxModelLen)
        out.push_back({"vllm.seq_len_is_max_model_len", "seq_len " + std::to_string(c.seqLen) +
                                                            " differs from vLLM's max_model_len " +
                                                            std::to_string(vllm.maxModelLen)});
    if (!c.tokenGenerationBatches.empty() && vllm.maxNumSeqs > 0 &&
        c.tokenGenerationBatches.back() > vllm.maxNumSeqs)
        out.push_back({"vllm.batches_le_max_num_seqs",
                       "the largest token_generation_batches entry " +
                           std::to_string(c.tokenGenerationBatches.back()) +
                           " is above vLLM's max_num_seqs " + std::to_string(vllm.maxNumSeqs) +
                           " (the batch_size the plugin sets)"});
    return out;
}

std::vector<ConfigViolation> checkVllmNeuronPlugin(const VllmNeuronBuckets& b,
                                                   const VllmServeSettings& vllm)
{
    std::vector<ConfigViolation> out;
    const size_t before = out.size();
    checkSorted(b.numBatchedTokensBuckets, "num_batched_tokens_buckets",
                "vllm_neuron.batched_tokens_sorted", out);
    if (out.size() == before && b.numBatchedTokensBuckets.back() != vllm.maxNumBatchedTokens)
        out.push_back({"vllm_neuron.batched_tokens_max",
                       "the largest num_batched_tokens_buckets entry " +
                           std::to_string(b.numBatchedTokensBuckets.back()) +
                           " must equal max_num_batched_tokens " +
                           std::to_string(vllm.maxNumBatchedTokens)});
    const size_t beforeSeqs = out.size();
    checkSorted(b.numSeqsBuckets, "num_seqs_buckets", "vllm_neuron.num_seqs_sorted", out);
    if (out.size() == beforeSeqs && b.numSeqsBuckets.back() != vllm.maxNumSeqs)
        out.push_back({"vllm_neuron.num_seqs_max", "the largest num_seqs_buckets entry " +
                                                       std::to_string(b.numSeqsBuckets.back()) +
                                                       " must equal max_num_seqs " +
                                                       std::to_string(vllm.maxNumSeqs)});
    return out;
}

std::string nxdNeuronConfigJson(const NxdBucketConfig& c, int indent)
{
    nlohmann::json j = nxdFields(c);
    if (!c.tokenGenerationBatches.empty())
        j["batch_size"] = c.batchSize;
    return j.dump(indent) + "\n";
}

std::string vllmOverrideJson(const NxdBucketConfig& c, int indent)
{
    return nlohmann::json{{"override_neuron_config", nxdFields(c)}}.dump(indent) + "\n";
}

std::string vllmNeuronPluginJson(const VllmNeuronBuckets& b, int indent)
{
    return nlohmann::json{{"neuron_config",
                           {{"num_batched_tokens_buckets", b.numBatchedTokensBuckets},
                            {"num_seqs_buckets", b.numSeqsBuckets}}}}
               .dump(indent) +
           "\n";
}

NxdBucketConfig nxdConfigFromJson(const std::string& text, const std::string& where)
{
    nlohmann::json j = parseObject(text, where);
    if (j.contains("override_neuron_config")) {
        j = j["override_neuron_config"];
        if (!j.is_object())
            throw Error(where + ": override_neuron_config must be an object");
    }
    NxdBucketConfig c;
    c.contextEncodingBuckets = intList(j, "context_encoding_buckets", where);
    c.tokenGenerationBuckets = intList(j, "token_generation_buckets", where);
    c.tokenGenerationBatches = intList(j, "token_generation_batches", where);
    c.seqLen = intField(j, "seq_len", where);
    c.maxContextLength = intField(j, "max_context_length", where);
    if (c.maxContextLength == 0) // NeuronConfig's default
        c.maxContextLength = c.seqLen;
    c.batchSize = intField(j, "tkg_batch_size", where);
    if (c.batchSize == 0)
        c.batchSize = intField(j, "batch_size", where);
    c.speculationLength = intField(j, "speculation_length", where);
    return c;
}

VllmNeuronBuckets vllmNeuronPluginFromJson(const std::string& text, const std::string& where)
{
    nlohmann::json j = parseObject(text, where);
    if (j.contains("neuron_config"))
        j = j["neuron_config"];
    if (!j.is_object())
        throw Error(where + ": neuron_config must be an object");
    return {intList(j, "num_batched_tokens_buckets", where), intList(j, "num_seqs_buckets", where)};
}

void requireNoViolations(const std::vector<ConfigViolation>& violations, const std::string& what)
{
    if (violations.empty())
        return;
    std::string more;
    if (violations.size() > 1)
        more = " (and " + std::to_string(violations.size() - 1) + " more)";
    throw Error(what + ": rule " + violations.front().rule + ": " + violations.front().message +
                more);
}

} // namespace bucketlab
