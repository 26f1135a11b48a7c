// libFuzzer target: the traffic distribution readers (core/traffic/distribution.h), as
// `bucketlab-cli distribution` and `tune` run them. The first byte picks the reader and its
// options, the rest is the file:
//   0 CSV in memory (a length column, or the histogram form length,count)
//   1 TSV in memory
//   2 JSONL in memory (a number, an array or a string per line)
//   3 JSONL whose strings are tokenized with a small WordPiece vocabulary
//   4 a text file read by path (LineReader::openFile), one text per line, tokenized
//   5 a tab-separated text file by path, one or two text columns (sentence pairs)
//   6 a CSV file read by path
//   7 the vocabulary itself, then a fixed text file tokenized with it
// Bits 3-4 pick the column / field option, bit 5 lower-casing. Besides crashes, leaks and
// sanitizer reports: errors keep the message contract (fuzz_check.h) and a histogram read is
// within the documented bounds (lengths 1..kMaxLength, positive counts).
#include "core/spec/boundaries.h"
#include "core/traffic/distribution.h"
#include "core/traffic/wordpiece_tokenizer.h"
#include "fuzz_check.h"
#include "fuzz_input_file.h"

#include <cstdint>
#include <string>

using namespace bucketlab;

namespace {

const char* const kVocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\na\nhello\nworld\n##s\n##ing\n"
                           "un\n##aff\n##able\n.\n,\n!\n?\n'\nThe\nis\nrun\n##n\n";
const char* const kTexts = "hello world\nThe unaffable runs!\n\n  \nunseen words here\n";

// Within bounds, and its CSV form reads back as the same histogram.
void checkHistogram(const LengthHistogram& h)
{
    for (size_t i = 0; i < h.distinct(); ++i)
        if (h.lengths()[i] < 1 || h.lengths()[i] > kMaxLength || h.counts()[i] < 1 ||
            (i > 0 && h.lengths()[i] <= h.lengths()[i - 1]))
            fuzz::broken("lengths ascending in 1..kMaxLength with positive counts",
                         std::to_string(h.lengths()[i]) + " x " + std::to_string(h.counts()[i]));
    if (!h.empty() && !(parseDistributionCsv(h.toCsv(), "histogram.csv", {}) == h))
        fuzz::broken("the histogram's CSV reads back as it", h.toCsv());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto [selector, rest] = fuzz::splitSelector(data, size);
    static const char* const columns[] = {"", "length", "tokens", "count"};
    const std::string vocabFile = fuzz::inputFile(std::string(kVocab), 1);
    DistributionOptions o;
    o.column = o.field = columns[(selector >> 3) & 3];
    const bool lower = (selector >> 5) & 1;
    std::string source;
    try {
        switch (selector & 7) {
        case 0:
            source = "fuzz.csv";
            checkHistogram(parseDistributionCsv(rest, source, o));
            break;
        case 1:
            source = "fuzz.tsv";
            checkHistogram(parseDistributionCsv(rest, source, o));
            break;
        case 2:
            source = "fuzz.jsonl";
            checkHistogram(parseDistributionJsonl(rest, source, o));
            break;
        case 3:
            source = "fuzz.jsonl";
            o.vocab = vocabFile;
            o.lowercase = lower;
            checkHistogram(parseDistributionJsonl(rest, source, o));
            break;
        case 4:
            source = fuzz::inputFile(rest);
            o.column.clear();
            o.vocab = vocabFile;
            o.lowercase = lower;
            checkHistogram(readDistributionFile(source, o));
            break;
        case 5: {
            source = fuzz::inputFile(rest);
            o.column.clear();
            o.vocab = vocabFile;
            static const std::vector<std::string> textColumns[] = {
                {"1"}, {"1", "2"}, {"sentence1", "sentence2"}, {"#1 String", "#2 String"}};
            o.textColumns = textColumns[(selector >> 3) & 3];
            checkHistogram(readDistributionFile(source, o));
            break;
        }
        case 6:
            source = fuzz::inputFile(rest);
            checkHistogram(readDistributionFile(source, o));
            break;
        default: {
            source = fuzz::inputFile(rest, 2);
            WordPieceTokenizer::Options t;
            t.lowercase = lower;
            const auto tokenizer = WordPieceTokenizer::fromFile(source, t);
            for (const char* text : {"hello world", "The unaffable runs!", "", "\xff\xfe"})
                if (tokenizer.singleLength(text) < 2)
                    fuzz::broken("a text counts [CLS] and [SEP] at least", text);
            o.vocab = source;
            o.column.clear();
            o.lowercase = lower;
            checkHistogram(readDistributionFile(fuzz::inputFile(std::string(kTexts), 3), o));
            break;
        }
        }
    } catch (const Error& e) {
        fuzz::checkError(e, source);
    }
    return 0;
}
