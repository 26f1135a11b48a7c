// Errors the user can act on. The core throws bucketlab::Error for bad input, unreadable
// files and impossible requests; its message already says what and where (file:line) and,
// when there is one, what to do. A message speaks of what a value is (the bucket count, the
// output file), never of how a front end spells it: it marks such a value with
// subject(Field::...), and each front end names it in its own terms — the CLI by its option
// (--buckets), the desktop by its control ("Buckets (K)"); what() uses the core's words.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace bucketlab {

// The values an error can be about: a request's fields, whatever front end set them.
enum class Field : uint8_t {
    BucketCount,       // how many buckets to tune
    Boundaries,        // the boundaries of a package being built or exported
    CurrentBoundaries, // the boundaries deployed today, compared against
    TunedBoundaries,   // given boundaries to compare instead of tuning
    ServeUpTo,         // the length the largest bucket must serve (cover length)
    Align,             // the multiple every tuned boundary but the covering one must be
    MaxLength,         // the longest length the model accepts
    CheckLength,       // lengths a kernel check covers
    Inputs,            // the model's input specs
    States,            // shared state specs
    Output,            // the file (or folder) being written
    Replace,           // permission to replace an existing output
    BatchSizes,
    BucketDim, // the dimension of an input that holds its length (padded to the bucket)
    BatchDim,  // the dimension of an input that holds the batch
    Threads,
    Budget,       // seconds of measurement
    Device,       // where to run
    Objective,    // what tuning minimises
    BucketCost,   // cost per bucket
    PerBucket,    // one model file per bucket
    Function,     // the kernel function inside a file
    GraphFormat,  // how a graph is printed
    NeuronRecipe, // the folder of the Neuron recipe
    Lengths,      // lengths to measure
    Tolerance,    // how far a prediction may miss
    LatencyStatistic,
    Algorithm,
    ParetoMax,   // largest bucket count of the Pareto sweep
    Clock,       // what a profile sample measures
    TargetCi,    // when a profiled length has enough samples
    GridPoints,  // how many lengths a profile grid has
    Column,      // the CSV/TSV column of lengths
    JsonField,   // the JSONL field of lengths
    Vocabulary,  // the WordPiece vocabulary
    TextColumns, // the columns holding texts
    Lowercase,   // an uncased vocabulary
    KernelCheck, // whether kernels are validated
    Package,     // a package whose kernel is checked too
    // LLM serving (the llm subcommand)
    Traffic, // LLM requests: (prompt, output) lengths
    PromptField,
    OutputField,
    CountField,
    CteLatency, // per prompt bucket
    TkgLatency, // per decode step and sequence bucket
    TkgBatchLatency,
    MaxContextLength, // the longest prompt
    SeqLen,           // the longest prompt + output
    SpeculationLength,
    CompileBudget,
    MemoryBudget,
    CteCompileCost,
    TkgCompileCost,
    CurrentCteBuckets,
    CurrentTkgBuckets,
    CurrentTkgBatches,
    MaxBatch,
    DecodeLog,
    BatchSetsMax,
    NxdConfig,
    VllmConfig,
    VllmNeuronConfig,
};

// Every field, in declaration order (for the front ends' tables and their tests).
const std::vector<Field>& allFields();
// A stable id: "bucket_count", "current_boundaries", ...
std::string fieldId(Field field);
// The core's own words: "the bucket count", "the current boundaries", ...
std::string fieldName(Field field);
// A mark standing for `field` in a message; front ends replace it with their name for it.
std::string subject(Field field);

class Error : public std::runtime_error {
public:
    // `message` may mention fields with subject(); what() names them in the core's words.
    explicit Error(const std::string& message);
    // The message with every field named by `name` (a front end's term for it).
    std::string render(const std::function<std::string(Field)>& name) const;
    // The message as written, marks included: what to embed when rethrowing with context.
    const std::string& marked() const { return marked_; }
    // The first field the message mentions, if any (the control to point the user at).
    std::optional<Field> field() const;

private:
    std::string marked_;
};

// Raised when a long job notices its cancel flag.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

// "path:line: message" (line omitted when 0), the form every input error takes.
std::string located(const std::string& path, int64_t line, const std::string& message);

// Collapses a multi-line library message (LibTorch's include stack traces) to its first
// meaningful line, so it fits the one-line error contract.
std::string firstLine(const std::string& message);
// A library's message (nlohmann/json's parse errors, LibTorch's) to embed in one of ours: its
// first line with control characters and bytes that are not UTF-8 escaped, cut to 200
// characters. Such messages quote the input they stopped at ("last read: '...'"), which is
// a hostile file's bytes.
std::string libraryMessage(const std::string& what);

} // namespace bucketlab
