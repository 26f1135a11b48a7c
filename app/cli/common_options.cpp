#include "app/cli/common_options.h"

#include "core/spec/boundaries.h"

namespace bucketlab::cli {
namespace {

// `text` after `when` ("With --verify/--refine: "), its first letter then in lower case.
std::string phrase(const std::string& when, std::string text)
{
    if (!when.empty() && !text.empty() && text[0] >= 'A' && text[0] <= 'Z')
        text[0] = char(text[0] - 'A' + 'a');
    return when + text;
}

} // namespace

CLI::Option* addJsonFlag(CLI::App* sub, bool& json, const std::string& what)
{
    return sub->add_flag("--json", json, what);
}

CLI::Option* addForceFlag(CLI::App* sub, bool& force, const std::string& what)
{
    return sub->add_flag("--force", force, "Replace " + what + " if present");
}

void addOutputOptions(CLI::App* sub, OutputOptions& o, const OutputUse& use)
{
    auto* path = sub->add_option(use.flag, o.path, use.help);
    if (use.required)
        path->required();
    addForceFlag(sub, o.force, use.replaces.empty() ? use.flag : use.replaces);
    addJsonFlag(sub, o.json, use.json);
}

void addModelInputOptions(CLI::App* sub, ModelInputOptions& o, const ModelInputUse& use)
{
    auto* inputs = sub->add_option(
        "--inputs", o.inputs,
        phrase(
            use.when,
            "Inputs as name:dtype[:pad[:fill]],... e.g. input_ids:int64:0,attention_mask:int64:0; "
            "a pad of - marks an input without a length, passed through unpadded as [batch] "
            "(seq_ids:int64:-); fill (default 1) is the value inputs are made of") +
            (use.inputsDefault.empty() ? "" : " (" + use.inputsDefault + ")"));
    if (use.inputsRequired)
        inputs->required();
    if (!use.states.empty())
        addStateOption(sub, o.states, use.states);
    if (use.dims) {
        sub->add_option("--bucket-dim", o.bucketDim,
                        phrase(use.when, "Dimension of the inputs padded to the bucket length"))
            ->capture_default_str();
        sub->add_option("--batch-dim", o.batchDim,
                        phrase(use.when, "Batch dimension of the inputs"))
            ->capture_default_str();
    }
}

void addStateOption(CLI::App* sub, std::vector<std::string>& states, const std::string& use)
{
    sub->add_option("--state", states,
                    "State buffer NAME:DTYPE:SHAPE/SHAPE/..., one shape per bucket (dims joined "
                    "by x), e.g. kv:float32:1x4x16/1x4x64, or one shape with L for the bucket's "
                    "length, e.g. kv:float32:2x8xLx64; repeatable. " +
                        use)
        ->allow_extra_args(false);
}

CLI::Option* addBatchSizesOption(CLI::App* sub, std::string& batchSizes, const std::string& what)
{
    return sub->add_option("--batch-sizes", batchSizes, what + ", e.g. 1,2,5")
        ->capture_default_str();
}

std::vector<int64_t> batchSizes(const std::string& list)
{
    return parsePositiveList(list, Field::BatchSizes, kMaxBatch);
}

void addTrafficOptions(CLI::App* sub, TrafficOptions& o, const TrafficUse& use)
{
    auto* source = sub->add_option("--distribution", o.source, use.help);
    if (use.required)
        source->required();
    addDistributionReadOptions(sub, o.read, use.tokenize);
}

void addDistributionReadOptions(CLI::App* sub, DistributionOptions& read, bool tokenize)
{
    sub->add_option("--column", read.column,
                    "CSV/TSV column of lengths (default: length, len, seq_len, tokens, ...)");
    if (!tokenize)
        return;
    sub->add_option("--field", read.field, "JSONL field holding the length, token ids or text");
    sub->add_option("--vocab", read.vocab,
                    "WordPiece vocab.txt: count BERT tokens of texts instead of reading lengths");
    sub->add_option("--text-columns", read.textColumns,
                    "With --vocab: tab-separated columns (1-based numbers or header names) "
                    "holding one text or a sentence pair, e.g. 4,5")
        ->delimiter(',');
    sub->add_flag("--lowercase", read.lowercase,
                  "With --vocab: lower-case and strip accents first (uncased models)");
}

void addMeasureOptions(CLI::App* sub, MeasureOptions& o, const std::string& when)
{
    sub->add_option("--threads", o.threads, phrase(when, "Intra-op threads (LibTorch and BLAS)"))
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    sub->add_option("--device", o.device,
                    when + "auto, cpu, cuda or neuron (auto: neuron for Neuron models, else cpu)")
        ->capture_default_str();
    sub->add_option("--clock", o.clock,
                    when + "wall: latency as a caller sees it; cpu: the measuring thread's CPU "
                           "time, which leaves out other processes on a busy machine (needs "
                           "--threads 1)")
        ->check(CLI::IsMember({"wall", "cpu"}))
        ->capture_default_str();
}

} // namespace bucketlab::cli
