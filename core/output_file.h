// Writing results without ever leaving a partial file or touching an input. Output is
// written to an anonymous file in the target directory (Linux O_TMPFILE) and linked into
// place only when complete, so even a SIGKILL mid-write leaves nothing behind.
#pragma once

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
                     const std::string& what = "--out");

// Atomically creates or replaces `path` with `bytes`.
void writeFileAtomically(const std::string& path, const std::string& bytes, bool replace);

// Reads a whole file; throws Error with the path on failure.
std::string readFile(const std::string& path);

bool sameFile(const std::string& a, const std::string& b);

} // namespace bucketlab
