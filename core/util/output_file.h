// Writing results without ever leaving a partial file or touching an input. Output is
// written to an anonymous file in the target directory (Linux O_TMPFILE) and linked into
// place only when complete, so even a SIGKILL mid-write leaves nothing behind.
#pragma once

#include "core/util/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

struct OutputCheck {
    bool force = false;              // allow replacing an existing file
    std::vector<std::string> inputs; // files this run reads: never written
};

// Fails early (before any work) when `path` cannot be an output: same file as an input,
// an existing file without force, a directory, or a directory we cannot write to.
void checkOutputPath(const std::string& path, const OutputCheck& check,
                     Field field = Field::Output);

// Atomically creates or replaces `path` with `bytes`.
void writeFileAtomically(const std::string& path, const std::string& bytes, bool replace);

// An output written in full before it gets its name, so it can be read back and checked
// first: the bytes go to an anonymous file in the target directory (O_TMPFILE), readPath()
// opens it for reading, and commit() links it into place. Destroyed without commit() — an
// error, a failed check, a kill — it leaves nothing behind. On file systems without
// O_TMPFILE it falls back to a hidden sibling that the destructor removes (a SIGKILL can
// then leave that hidden file).
class StagedOutput {
public:
    StagedOutput(std::string path, const std::string& bytes);
    ~StagedOutput();
    StagedOutput(const StagedOutput&) = delete;
    StagedOutput& operator=(const StagedOutput&) = delete;

    // A path that reads the staged bytes (/proc/self/fd/N, or the hidden sibling).
    const std::string& readPath() const { return readPath_; }
    // Gives the file its name; `replace` allows replacing an existing file.
    void commit(bool replace);

private:
    std::string path_;
    std::string readPath_;
    std::string tmpName_; // the hidden sibling, when O_TMPFILE is unavailable
    int fd_ = -1;
    bool committed_ = false;
};

// Reads a whole file of at most `maxBytes`; throws Error with the path on failure, and
// "PATH: more than N MiB; WHAT is not that large" past the limit, without reading further
// (streams such as /dev/zero included). A FIFO that nothing writes to within 10 s is an Error.
std::string readFile(const std::string& path, uint64_t maxBytes, const char* what);

// Limits for the files BucketLab reads whole.
inline constexpr uint64_t kMaxSourceBytes = uint64_t(16) << 20;    // kernel sources, configs
inline constexpr uint64_t kMaxDataFileBytes = uint64_t(256) << 20; // profiles, logs, vocabularies

bool sameFile(const std::string& a, const std::string& b);

} // namespace bucketlab
