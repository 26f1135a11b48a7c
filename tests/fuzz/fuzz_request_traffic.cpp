// libFuzzer target: the LLM request-trace reader (core/llm/request_traffic.h), as
// `bucketlab-cli llm --traffic` runs it. The first byte picks the reader, the rest is the file:
//   0 CSV in memory (the Azure trace's TIMESTAMP,ContextTokens,GeneratedTokens, or any
//     prompt/output columns with an optional count)
//   1 TSV in memory
//   2 JSONL in memory (one object per request or per pair)
//   3 a file read by path (LineReader::openFile)
//   4 a synthetic spec (prompt=...;output=...;n=...;seed=...), when it looks like one
// Bits 3-4 pick explicit field names. Besides crashes, leaks and sanitizer reports: errors
// keep the message contract (fuzz_check.h); traffic read is within the documented bounds and
// its CSV form reads back as the same traffic.
#include "core/llm/request_traffic.h"
#include "core/spec/boundaries.h"
#include "fuzz_check.h"
#include "fuzz_input_file.h"

#include <cstdint>
#include <string>

using namespace bucketlab;

namespace {

void checkTraffic(const RequestTraffic& t)
{
    int64_t requests = 0;
    for (const auto& p : t.pairs()) {
        if (p.prompt < 1 || p.prompt > kMaxLength || p.output < 0 || p.output > kMaxLength ||
            p.count < 1)
            fuzz::broken("pairs within bounds", std::to_string(p.prompt) + "," +
                                                    std::to_string(p.output) + "," +
                                                    std::to_string(p.count));
        requests += p.count;
    }
    if (requests != t.requests())
        fuzz::broken("requests are the sum of the pairs' counts");
    if (t.empty())
        return;
    (void)t.promptSummary();
    (void)t.outputSummary();
    (void)t.prompts();
    const auto back = parseRequestTrafficCsv(t.toCsv(), "traffic.csv", {});
    if (!(back.pairs() == t.pairs()))
        fuzz::broken("the traffic's CSV reads back as it", t.toCsv());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto [selector, rest] = fuzz::splitSelector(data, size);
    TrafficReadOptions o;
    switch ((selector >> 3) & 3) {
    case 1:
        o.promptField = "ContextTokens";
        o.outputField = "GeneratedTokens";
        break;
    case 2:
        o.promptField = "prompt";
        o.outputField = "output";
        o.countField = "count";
        break;
    default: break;
    }
    std::string source;
    try {
        switch (selector % 5) {
        case 0:
            source = "fuzz.csv";
            checkTraffic(parseRequestTrafficCsv(rest, source, o));
            break;
        case 1:
            source = "fuzz.tsv";
            checkTraffic(parseRequestTrafficCsv(rest, source, o));
            break;
        case 2:
            source = "fuzz.jsonl";
            checkTraffic(parseRequestTrafficJsonl(rest, source, o));
            break;
        case 3:
            source = fuzz::inputFile(rest);
            checkTraffic(readRequestTraffic(source, o));
            break;
        default:
            if (looksLikeTrafficSpec(rest))
                checkTraffic(syntheticRequestTraffic(rest));
            break;
        }
    } catch (const Error& e) {
        fuzz::checkError(e, source);
    }
    return 0;
}
