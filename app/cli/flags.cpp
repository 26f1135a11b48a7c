#include "app/cli/flags.h"

namespace bucketlab::cli {
namespace {

const FlagNames& defaultFlags()
{
    static const FlagNames flags = {
        {Field::BucketCount, "--buckets"},
        {Field::Boundaries, "--boundaries"},
        {Field::CurrentBoundaries, "--current"},
        {Field::TunedBoundaries, "--tuned"},
        {Field::ServeUpTo, "--cover"},
        {Field::Align, "--align"},
        {Field::MaxLength, "--max-length"},
        {Field::CheckLength, "--kernel-check-length"},
        {Field::Inputs, "--inputs"},
        {Field::States, "--state"},
        {Field::Output, "--out"},
        {Field::Replace, "--force"},
        {Field::BatchSizes, "--batch-sizes"},
        {Field::BucketDim, "--bucket-dim"},
        {Field::BatchDim, "--batch-dim"},
        {Field::Threads, "--threads"},
        {Field::Budget, "--budget"},
        {Field::Device, "--device"},
        {Field::Objective, "--objective"},
        {Field::BucketCost, "--bucket-cost"},
        {Field::PerBucket, "--per-bucket"},
        {Field::Function, "--function"},
        {Field::GraphFormat, "--format"},
        {Field::NeuronRecipe, "--neuron-recipe"},
        {Field::Lengths, "--lengths"},
        {Field::Tolerance, "--tolerance"},
        {Field::LatencyStatistic, "--latency-stat"},
        {Field::Algorithm, "--algorithm"},
        {Field::ParetoMax, "--pareto-max"},
        {Field::Clock, "--clock"},
        {Field::TargetCi, "--target-ci"},
        {Field::GridPoints, "--grid"},
        {Field::Column, "--column"},
        {Field::JsonField, "--field"},
        {Field::Vocabulary, "--vocab"},
        {Field::TextColumns, "--text-columns"},
        {Field::Lowercase, "--lowercase"},
        {Field::KernelCheck, "--no-kernel-check"},
        {Field::Package, "--package"},
        {Field::Traffic, "--traffic"},
        {Field::PromptField, "--prompt-field"},
        {Field::OutputField, "--output-field"},
        {Field::CountField, "--count-field"},
        {Field::CteLatency, "--cte-latency"},
        {Field::TkgLatency, "--tkg-latency"},
        {Field::TkgBatchLatency, "--tkg-batch-latency"},
        {Field::MaxContextLength, "--max-context-length"},
        {Field::SeqLen, "--seq-len"},
        {Field::SpeculationLength, "--speculation-length"},
        {Field::CompileBudget, "--compile-budget"},
        {Field::MemoryBudget, "--memory-budget"},
        {Field::CteCompileCost, "--cte-compile"},
        {Field::TkgCompileCost, "--tkg-compile"},
        {Field::CurrentCteBuckets, "--current-cte"},
        {Field::CurrentTkgBuckets, "--current-tkg"},
        {Field::CurrentTkgBatches, "--current-batches"},
        {Field::MaxBatch, "--max-batch"},
        {Field::DecodeLog, "--decode-log"},
        {Field::BatchSetsMax, "--batch-sets-max"},
        {Field::NxdConfig, "--nxd-config"},
        {Field::VllmConfig, "--vllm-config"},
        {Field::VllmNeuronConfig, "--vllm-neuron-config"},
    };
    return flags;
}

} // namespace

std::string flagFor(Field field, const FlagNames& overrides)
{
    if (const auto it = overrides.find(field); it != overrides.end())
        return it->second;
    if (const auto it = defaultFlags().find(field); it != defaultFlags().end())
        return it->second;
    return fieldName(field);
}

std::string cliMessage(const Error& error, const FlagNames& overrides)
{
    return error.render([&](Field f) { return flagFor(f, overrides); });
}

} // namespace bucketlab::cli
