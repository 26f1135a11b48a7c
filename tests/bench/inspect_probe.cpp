// `bucketlab-cli inspect FILE --json` without the rest of the CLI: the same core calls
// (inspectModel, modelInfoJson), in a program that links only the plain library. It shows
// what the command costs as a whole process once the CLI stops loading LibTorch for it
// (issue 11's torch-free fast path); bench_inspect times it against /bin/true.
#include "core/archive/model_info.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: inspect_probe FILE\n";
        return 2;
    }
    try {
        std::cout << bucketlab::modelInfoJson(bucketlab::inspectModel(argv[1])).dump(2)
                  << std::endl;
    } catch (const bucketlab::Error& e) {
        std::cerr << "inspect_probe: error: " << e.what() << "\n";
        return 2;
    }
    return 0;
}
