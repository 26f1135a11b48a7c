#include "core/util/error.h"

#include "core/util/text.h"

#include <array>

namespace bucketlab {
namespace {

// The mark is the id between two ASCII unit separators: a byte no message text carries
// (values from files are escaped before they reach a message).
constexpr char kMark = '\x1f';

struct FieldWords {
    Field field;
    const char* id;
    const char* name;
};

constexpr std::array kFields{
    FieldWords{Field::BucketCount, "bucket_count", "the bucket count"},
    FieldWords{Field::Boundaries, "boundaries", "the boundaries"},
    FieldWords{Field::CurrentBoundaries, "current_boundaries", "the current boundaries"},
    FieldWords{Field::TunedBoundaries, "tuned_boundaries", "the tuned boundaries"},
    FieldWords{Field::ServeUpTo, "serve_up_to", "the served length"},
    FieldWords{Field::Align, "align", "the boundary alignment"},
    FieldWords{Field::MaxLength, "max_length", "the maximum length"},
    FieldWords{Field::CheckLength, "check_length", "the checked length"},
    FieldWords{Field::Inputs, "inputs", "the inputs"},
    FieldWords{Field::States, "states", "the states"},
    FieldWords{Field::Output, "output", "the output"},
    FieldWords{Field::Replace, "replace", "the replace option"},
    FieldWords{Field::BatchSizes, "batch_sizes", "the batch sizes"},
    FieldWords{Field::BucketDim, "bucket_dim", "the bucket dimension"},
    FieldWords{Field::BatchDim, "batch_dim", "the batch dimension"},
    FieldWords{Field::Threads, "threads", "the thread count"},
    FieldWords{Field::Budget, "budget", "the time budget"},
    FieldWords{Field::Device, "device", "the device"},
    FieldWords{Field::Objective, "objective", "the objective"},
    FieldWords{Field::BucketCost, "bucket_cost", "the cost per bucket"},
    FieldWords{Field::PerBucket, "per_bucket", "the per-bucket models"},
    FieldWords{Field::Function, "function", "the kernel function"},
    FieldWords{Field::GraphFormat, "graph_format", "the graph format"},
    FieldWords{Field::NeuronRecipe, "neuron_recipe", "the Neuron recipe folder"},
    FieldWords{Field::Lengths, "lengths", "the lengths"},
    FieldWords{Field::Tolerance, "tolerance", "the tolerance"},
    FieldWords{Field::LatencyStatistic, "latency_statistic", "the latency statistic"},
    FieldWords{Field::Algorithm, "algorithm", "the algorithm"},
    FieldWords{Field::ParetoMax, "pareto_max", "the largest Pareto bucket count"},
    FieldWords{Field::Clock, "clock", "the clock"},
    FieldWords{Field::TargetCi, "target_ci", "the target confidence interval"},
    FieldWords{Field::GridPoints, "grid_points", "the grid size"},
    FieldWords{Field::Column, "column", "the column"},
    FieldWords{Field::JsonField, "json_field", "the JSON field"},
    FieldWords{Field::Vocabulary, "vocabulary", "the vocabulary"},
    FieldWords{Field::TextColumns, "text_columns", "the text columns"},
    FieldWords{Field::Lowercase, "lowercase", "lowercasing"},
    FieldWords{Field::KernelCheck, "kernel_check", "the kernel check"},
    FieldWords{Field::Package, "package", "the package"},
    FieldWords{Field::Traffic, "traffic", "the request traffic"},
    FieldWords{Field::PromptField, "prompt_field", "the prompt length field"},
    FieldWords{Field::OutputField, "output_field", "the output length field"},
    FieldWords{Field::CountField, "count_field", "the request count field"},
    FieldWords{Field::CteLatency, "cte_latency", "the context-encoding latency"},
    FieldWords{Field::TkgLatency, "tkg_latency", "the token-generation latency"},
    FieldWords{Field::TkgBatchLatency, "tkg_batch_latency",
               "the token-generation latency by batch"},
    FieldWords{Field::MaxContextLength, "max_context_length", "the maximum context length"},
    FieldWords{Field::SeqLen, "seq_len", "the sequence length"},
    FieldWords{Field::SpeculationLength, "speculation_length", "the speculation length"},
    FieldWords{Field::CompileBudget, "compile_budget", "the compile-time budget"},
    FieldWords{Field::MemoryBudget, "memory_budget", "the memory budget"},
    FieldWords{Field::CteCompileCost, "cte_compile_cost", "the context-encoding compile cost"},
    FieldWords{Field::TkgCompileCost, "tkg_compile_cost", "the token-generation compile cost"},
    FieldWords{Field::CurrentCteBuckets, "current_cte_buckets",
               "the current context-encoding buckets"},
    FieldWords{Field::CurrentTkgBuckets, "current_tkg_buckets",
               "the current token-generation buckets"},
    FieldWords{Field::CurrentTkgBatches, "current_tkg_batches",
               "the current token-generation batches"},
    FieldWords{Field::MaxBatch, "max_batch", "the maximum decode batch"},
    FieldWords{Field::DecodeLog, "decode_log", "the decode call log"},
    FieldWords{Field::BatchSetsMax, "batch_sets_max", "the batch-set search limit"},
    FieldWords{Field::NxdConfig, "nxd_config", "the NxD Inference config file"},
    FieldWords{Field::VllmConfig, "vllm_config", "the vLLM config file"},
    FieldWords{Field::VllmNeuronConfig, "vllm_neuron_config", "the vLLM Neuron plugin config file"},
};

constexpr bool inDeclarationOrder()
{
    for (size_t i = 0; i < kFields.size(); ++i)
        if (size_t(kFields[i].field) != i)
            return false;
    return true;
}
static_assert(inDeclarationOrder() && kFields.size() == size_t(Field::VllmNeuronConfig) + 1,
              "kFields lists every Field once, in declaration order");

const FieldWords& words(Field field)
{
    return kFields[size_t(field)];
}

std::optional<Field> fieldOfId(const std::string& id)
{
    for (const auto& f : kFields)
        if (id == f.id)
            return f.field;
    return std::nullopt;
}

// Calls `text` for each run of plain text and `mark` for each field mentioned, in order.
template <class Text, class Mark> void scan(const std::string& s, Text text, Mark mark)
{
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t open = s.find(kMark, pos);
        const size_t close = open == std::string::npos ? open : s.find(kMark, open + 1);
        if (close == std::string::npos) {
            text(s.substr(pos));
            return;
        }
        text(s.substr(pos, open - pos));
        const std::string id = s.substr(open + 1, close - open - 1);
        if (const auto f = fieldOfId(id))
            mark(*f);
        else
            text(id);
        pos = close + 1;
    }
}

std::string renderWith(const std::string& marked, const std::function<std::string(Field)>& name)
{
    std::string out;
    scan(
        marked, [&](const std::string& t) { out += t; }, [&](Field f) { out += name(f); });
    return out;
}

} // namespace

const std::vector<Field>& allFields()
{
    static const std::vector<Field> all = [] {
        std::vector<Field> v;
        for (const auto& f : kFields)
            v.push_back(f.field);
        return v;
    }();
    return all;
}

std::string fieldId(Field field)
{
    return words(field).id;
}

std::string fieldName(Field field)
{
    return words(field).name;
}

std::string subject(Field field)
{
    return std::string(1, kMark) + words(field).id + kMark;
}

Error::Error(const std::string& message)
    : std::runtime_error(renderWith(message, fieldName)), marked_(message)
{
}

std::string Error::render(const std::function<std::string(Field)>& name) const
{
    return renderWith(marked_, name);
}

std::optional<Field> Error::field() const
{
    std::optional<Field> first;
    scan(
        marked_, [](const std::string&) {},
        [&](Field f) {
            if (!first)
                first = f;
        });
    return first;
}

std::string located(const std::string& path, int64_t line, const std::string& message)
{
    std::string out = path;
    if (line > 0)
        out += ":" + std::to_string(line);
    return out + ": " + message;
}

std::string firstLine(const std::string& message)
{
    size_t start = 0;
    while (start < message.size()) {
        size_t end = message.find('\n', start);
        if (end == std::string::npos)
            end = message.size();
        std::string line = message.substr(start, end - start);
        const auto first = line.find_first_not_of(" \t\r");
        if (first != std::string::npos) {
            const auto last = line.find_last_not_of(" \t\r");
            return line.substr(first, last - first + 1);
        }
        start = end + 1;
    }
    return message;
}

std::string libraryMessage(const std::string& what)
{
    return displayText(firstLine(what), 200);
}

} // namespace bucketlab
