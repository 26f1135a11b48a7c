// WordPiece tokenizer throughput on real text: every MRPC sentence pair (train, dev, test)
// with the bert-base-cased vocabulary, counted as BERT input lengths. MRPC stays outside the
// repository (its licence), so without the shared data folder (or BUCKETLAB_SHARED_DATA)
// this program says so and exits 0 having run nothing.
#include "core/traffic/wordpiece_tokenizer.h"
#include "core/util/line_reader.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace bucketlab;

namespace {

std::string sharedData()
{
    if (const char* env = std::getenv("BUCKETLAB_SHARED_DATA"))
        return env;
    return "/work/shared/data";
}

struct Corpus {
    std::vector<std::pair<std::string, std::string>> pairs;
    int64_t bytes = 0;
};

Corpus loadMrpc(const std::string& dir)
{
    Corpus c;
    for (const char* split : {"train.tsv", "dev.tsv", "test.tsv"}) {
        LineReader r = LineReader::openFile(dir + "/mrpc/" + split);
        std::string_view line;
        r.next(line); // header
        while (r.next(line)) {
            std::vector<std::string_view> cells;
            size_t pos = 0;
            for (size_t tab; (tab = line.find('\t', pos)) != std::string_view::npos; pos = tab + 1)
                cells.push_back(line.substr(pos, tab - pos));
            cells.push_back(line.substr(pos));
            if (cells.size() < 5)
                continue;
            c.pairs.emplace_back(std::string(cells[3]), std::string(cells[4]));
            c.bytes += int64_t(cells[3].size() + cells[4].size());
        }
    }
    return c;
}

void BM_TokenizeMrpcPairs(benchmark::State& state, const Corpus* corpus,
                          const WordPieceTokenizer* tokenizer)
{
    int64_t tokens = 0;
    for (auto _ : state)
        for (const auto& [a, b] : corpus->pairs)
            tokens += tokenizer->pairLength(a, b);
    state.counters["tokens_per_s"] =
        benchmark::Counter(double(tokens), benchmark::Counter::kIsRate);
    state.counters["pairs_per_s"] = benchmark::Counter(
        double(state.iterations()) * double(corpus->pairs.size()), benchmark::Counter::kIsRate);
    state.SetBytesProcessed(int64_t(state.iterations()) * corpus->bytes);
}

} // namespace

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    const std::string dir = sharedData();
    if (!std::filesystem::exists(dir + "/mrpc/train.tsv") ||
        !std::filesystem::exists(dir + "/bert-base-cased-vocab.txt")) {
        std::printf("bench_tokenizer: skipped, no MRPC corpus under %s (set "
                    "BUCKETLAB_SHARED_DATA)\n",
                    dir.c_str());
        return 0;
    }
    static const Corpus corpus = loadMrpc(dir);
    static const WordPieceTokenizer tokenizer =
        WordPieceTokenizer::fromFile(dir + "/bert-base-cased-vocab.txt", {});
    benchmark::RegisterBenchmark("BM_TokenizeMrpcPairs", BM_TokenizeMrpcPairs, &corpus, &tokenizer)
        ->Unit(benchmark::kMillisecond);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
