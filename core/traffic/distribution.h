// Traffic distributions: the input lengths a deployment serves, read from files or made
// from a synthetic spec, always as a LengthHistogram. Files stream through in constant
// memory. Formats (chosen by extension and options):
//   CSV/TSV with a header  a column of lengths (--column, or one named length, len,
//                          seq_len, tokens, ...), or the histogram form `length,count`
//   JSONL (.jsonl/.ndjson) a field per line: a number, an array (its size: token ids), or
//                          a string (tokenized when a vocab is given)
//   text + vocab.txt       one text per line, or TSV columns holding a text or a sentence
//                          pair, counted as BERT's input length ([CLS] a [SEP] (b [SEP]))
// Every bad value is an Error naming file:line.
#pragma once

#include "core/traffic/length_histogram.h"
#include "core/util/job.h"

#include <string>
#include <string_view>
#include <vector>

namespace bucketlab {

struct DistributionOptions {
    std::string column; // CSV/TSV length column (default: a length-like name, see above)
    std::string field;  // JSONL field (default: the same names)
    std::string vocab;  // WordPiece vocab.txt: texts are tokenized and counted
    // With vocab: TSV columns (1-based numbers or header names) holding one text or a pair;
    // the first line is then a header. Empty: every non-blank line is one text.
    std::vector<std::string> textColumns;
    bool lowercase = false; // with vocab: uncased model (lower-case, strip accents)
    Job job;
};

// The names a length column or field may have when none is given, in order of preference.
const std::vector<std::string>& defaultLengthColumnNames();

LengthHistogram readDistributionFile(const std::string& path, const DistributionOptions& options);
// Several files into one histogram (e.g. train, dev and test splits).
LengthHistogram readDistributionFiles(const std::vector<std::string>& paths,
                                      const DistributionOptions& options);
// A file, or a synthetic spec (core/traffic/synthetic_distribution.h) when no such file exists.
LengthHistogram loadDistribution(const std::string& fileOrSpec, const DistributionOptions& options);

// The CSV/TSV and JSONL readers on text in memory: the same code the files go through
// (tests and benchmarks). `name` stands for the file in messages; a name ending in .tsv
// means tab-separated regardless of the header.
LengthHistogram parseDistributionCsv(std::string_view text, const std::string& name,
                                     const DistributionOptions& options);
LengthHistogram parseDistributionJsonl(std::string_view text, const std::string& name,
                                       const DistributionOptions& options);

} // namespace bucketlab
