// libFuzzer target: a whole file as the archive readers see it. The zip reader first (from
// memory: every record read), then the file through readArchive, inspectModel and the JSON
// inspect prints, as `bucketlab-cli inspect --json` runs them. Besides crashes, leaks and
// sanitizer reports it checks: errors are one line naming the file, the JSON is valid UTF-8
// (nlohmann throws otherwise), and what the zip reader returns is within its limits.
//
// Fuzzing builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) compute record CRCs but do not
// refuse a mismatch, so mutated records reach the pickle and code readers behind.
#include "core/archive/archive.h"
#include "core/archive/model_info.h"
#include "core/archive/zip_reader.h"
#include "core/util/error.h"
#include "fuzz_input_file.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

using namespace bucketlab;

namespace {

[[noreturn]] void broken(const std::string& promise)
{
    std::fprintf(stderr, "archive reader broke its promise: %s\n", promise.c_str());
    std::abort();
}

void checkError(const Error& e, const std::string& file)
{
    const std::string what = e.what();
    if (what.find('\n') != std::string::npos)
        broken("errors are one line: " + what);
    if (what.rfind(file + ": ", 0) != 0)
        broken("errors name the file: " + what);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    ZipLimits limits;
    limits.maxRecordBytes = 8 << 20; // inputs are small; a larger record is a bomb
    try {
        const ZipReader zip = ZipReader::fromBytes(
            std::string(reinterpret_cast<const char*>(data), size), "fuzz.zip", limits);
        if (zip.entries().size() > limits.maxEntries)
            broken("entries within the limit");
        for (const auto& e : zip.entries()) {
            if (!isSafeRecordName(e.name) || zip.find(e.name) != &e)
                broken("names safe and unique");
            try {
                if (zip.read(e).size() != e.size)
                    broken("a record reads as its declared size");
            } catch (const Error& err) {
                checkError(err, "fuzz.zip");
            }
        }
    } catch (const Error& e) {
        checkError(e, "fuzz.zip");
    }

    const std::string file = fuzz::inputFile(data, size);
    try {
        const auto info = inspectModel(file);
        (void)modelInfoJson(info).dump(); // throws on text that is not UTF-8
        checkArchivePickles(file);
    } catch (const Error& e) {
        checkError(e, file);
    }
    return 0;
}
