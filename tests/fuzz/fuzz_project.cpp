// libFuzzer target: the project reader (core/project/project.h), as the desktop and
// `report --project` open a *.bucketlab.json. The first byte picks how, the rest is the file:
//   0 projectFromJson in memory, the project in a folder that does not exist
//   1 readProject by path (size limit, then the same)
// Then what opening does before reading anything the project names: the files outside its
// folder and the missing ones (stat only), each distribution's reader options, and saving it
// (projectJson, which must be valid UTF-8 and read back). Besides crashes, leaks and
// sanitizer reports: errors keep the message contract (fuzz_check.h).
#include "core/project/project.h"
#include "fuzz_check.h"
#include "fuzz_input_file.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

using namespace bucketlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto [selector, rest] = fuzz::splitSelector(data, size);
    std::string source;
    try {
        Project p;
        if (selector % 2 == 0) {
            source = "/nonexistent-bucketlab-fuzz/p.bucketlab.json";
            p = projectFromJson(rest, source);
        } else {
            source = fuzz::inputFile(rest);
            p = readProject(source);
        }
        (void)outsideProjectFiles(p);
        (void)missingProjectFiles(p);
        for (const auto& d : p.distributions) {
            try {
                (void)distributionOptionsOf(d);
            } catch (const Error& e) {
                fuzz::checkError(e);
            }
        }
        const std::string saved = projectJson(p).dump(); // throws on text that is not UTF-8
        const Project back = projectFromJson(saved, source);
        if (back.boundarySets.size() != p.boundarySets.size() ||
            back.distributions.size() != p.distributions.size() ||
            back.latencies.size() != p.latencies.size() || back.notes != p.notes)
            fuzz::broken("a saved project reads back as it was", saved);
    } catch (const Error& e) {
        fuzz::checkError(e, source);
    }
    return 0;
}
