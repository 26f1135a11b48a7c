// libFuzzer target: the records of a TorchScript archive, in a well-formed zip made here, so
// every mutation reaches the pickle reader, the module walk, the code scanner and the package
// metadata reader (a mutated zip mostly stops at the zip reader; fuzz_archive covers that).
// The input is data.pkl, optionally followed by the code of code/__torch__.py and then
// extra/bucketlab_meta.json, each part after the line "#BUCKETLAB-FUZZ#".
#include "core/archive/archive.h"
#include "core/archive/model_info.h"
#include "core/util/error.h"
#include "fuzz_input_file.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

using namespace bucketlab;

namespace {

const char* const kSeparator = "\n#BUCKETLAB-FUZZ#\n";

const char* const kDefaultCode = "class M(Module):\n"
                                 "  __parameters__ = [\"w\", ]\n"
                                 "  __buffers__ = [\"b\", ]\n"
                                 "  training : bool\n"
                                 "  w : Tensor\n"
                                 "  def forward(self: __torch__.M,\n"
                                 "    x: Tensor) -> Tensor:\n"
                                 "    return torch.add(x, self.w)\n"
                                 "  def bucket_kernel(self: __torch__.M,\n"
                                 "    tensor_list: List[Tensor]) -> Tuple[List[Tensor], Tensor]:\n"
                                 "    return (tensor_list, torch.classes.neuron.Model)\n";

void put16(std::string& s, uint32_t v)
{
    s += char(v & 0xff);
    s += char((v >> 8) & 0xff);
}
void put32(std::string& s, uint32_t v)
{
    put16(s, v & 0xffff);
    put16(s, v >> 16);
}

// A zip of stored records, as Python's zipfile writes one.
std::string zipOf(const std::vector<std::pair<std::string, std::string>>& records)
{
    std::string out, central;
    for (const auto& [name, data] : records) {
        const uint32_t crc =
            uint32_t(crc32(0, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size())));
        const uint32_t offset = uint32_t(out.size());
        for (std::string* h : {&out, &central}) {
            const bool local = h == &out;
            put32(*h, local ? 0x04034b50 : 0x02014b50);
            if (!local)
                put16(*h, 20);
            put16(*h, 20);
            put16(*h, 0); // flags
            put16(*h, 0); // stored
            put32(*h, 0); // time, date
            put32(*h, crc);
            put32(*h, uint32_t(data.size()));
            put32(*h, uint32_t(data.size()));
            put16(*h, uint32_t(name.size()));
            put16(*h, 0); // extra
            if (!local) {
                put32(*h, 0); // comment, disk
                put16(*h, 0); // internal attributes
                put32(*h, 0); // external attributes
                put32(*h, offset);
            }
            *h += name;
        }
        out += data;
    }
    const uint32_t directory = uint32_t(out.size());
    out += central;
    put32(out, 0x06054b50);
    put32(out, 0);
    put16(out, uint32_t(records.size()));
    put16(out, uint32_t(records.size()));
    put32(out, uint32_t(central.size()));
    put32(out, directory);
    put16(out, 0);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        const size_t at = input.find(kSeparator, start);
        parts.push_back(input.substr(start, at == std::string::npos ? at : at - start));
        if (at == std::string::npos || parts.size() == 3)
            break;
        start = at + std::string(kSeparator).size();
    }
    std::vector<std::pair<std::string, std::string>> records = {
        {"m/data.pkl", parts[0]},
        {"m/code/__torch__.py", parts.size() > 1 ? parts[1] : kDefaultCode},
        {"m/constants.pkl", std::string("\x80\x02).", 4)},
        {"m/version", "3\n"},
    };
    if (parts.size() > 2)
        records.emplace_back("m/extra/bucketlab_meta.json", parts[2]);
    const std::string archive = zipOf(records);
    const std::string file = fuzz::inputFile(archive.data(), archive.size());
    try {
        const auto info = inspectModel(file);
        (void)modelInfoJson(info).dump(); // throws on text that is not UTF-8
    } catch (const Error& e) {
        const std::string what = e.what();
        if (what.find('\n') != std::string::npos || what.rfind(file + ": ", 0) != 0) {
            std::fprintf(stderr, "errors are one line naming the file: %s\n", what.c_str());
            std::abort();
        }
    }
    return 0;
}
